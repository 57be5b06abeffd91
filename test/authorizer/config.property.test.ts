import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ENV_NAMES, type Env, loadConfig } from '../../lambda/authorizer/config.js';
import { ConfigError } from '../../lambda/authorizer/errors.js';

/*
 * The configuration contract of docs/configuration.md's variables table, on generated values: what each variable
 * accepts is read as documented, anything else fails at cold start naming the variable.
 */

const TENANT = '72f988bf-86f1-41af-91ab-2d7cd011db47';
const base = { [ENV_NAMES.tenantId]: TENANT, [ENV_NAMES.audiences]: 'api://x' };

function failure(env: Env): string | undefined {
  try {
    loadConfig({ ...base, ...env });
    return undefined;
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as ConfigError).variable;
  }
}

const pad = fc.constantFrom('', ' ', '\t', '  ');
const guid = fc.uuid({ version: [1, 2, 3, 4, 5] });

describe('AZURE_CLOCK_SKEW_SECONDS', () => {
  it('takes a whole number of seconds from 0 to 600, and nothing else', () => {
    // Oracle: docs/configuration.md's range, whole seconds 0 to 600: the generated integer is the expected value
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 600 }), pad, pad, (seconds, before, after) => {
        const config = loadConfig({ ...base, [ENV_NAMES.clockSkewSeconds]: `${before}${seconds}${after}` });
        expect(config.clockSkewSeconds).toBe(seconds);
      }),
    );
    // Oracle: the same documented range: anything but 0 to 600 in digits names the variable
    fc.assert(
      fc.property(
        fc.oneof(
          fc.integer({ min: 601, max: 1e9 }).map(String),
          fc.integer({ min: -1e6, max: -1 }).map(String),
          fc.constantFrom('1.5', '1e2', '0x10', '+5', '5s', '9007199254740993', 'Infinity', '٣'),
          fc.string({ minLength: 1, maxLength: 6 }).filter((s) => !/^\s*\d*\s*$/.test(s)),
        ),
        (raw) => {
          expect(failure({ [ENV_NAMES.clockSkewSeconds]: raw })).toBe(ENV_NAMES.clockSkewSeconds);
        },
      ),
    );
    expect(loadConfig({ ...base, [ENV_NAMES.clockSkewSeconds]: '  ' }).clockSkewSeconds).toBe(300);
  });
});

describe('AZURE_TENANT_ID and AZURE_ALLOWED_TENANTS', () => {
  it('take a GUID in any case as the single tenant, in lower case', () => {
    // Oracle: docs/configuration.md: a GUID, lower-cased by the test, not config.ts
    fc.assert(
      fc.property(guid, fc.boolean(), pad, (id, upper, space) => {
        const raw = upper ? id.toUpperCase() : id;
        expect(loadConfig({ ...base, [ENV_NAMES.tenantId]: `${space}${raw}${space}` }).tenant).toEqual({
          mode: 'single',
          tenantId: id.toLowerCase(),
        });
      }),
    );
  });

  it('take "organizations" or "common" with a list of GUIDs, and refuse a list with anything else', () => {
    // Oracle: the GUID pattern and list rules written in the test from docs/configuration.md
    fc.assert(
      fc.property(
        fc.constantFrom('organizations', 'common', 'Common', 'ORGANIZATIONS'),
        fc.array(guid, { minLength: 1, maxLength: 4 }),
        fc.option(
          fc.string({ minLength: 1, maxLength: 12 }).filter((s) => !s.includes(',')),
          { nil: undefined },
        ),
        (authority, tenants, extra) => {
          const list = [...tenants.map((t) => t.toUpperCase())];
          const odd = extra?.trim();
          if (odd !== undefined && odd !== '') list.push(odd);
          const env = { [ENV_NAMES.tenantId]: authority, [ENV_NAMES.allowedTenants]: list.join(',') };
          const isGuid =
            odd === undefined || odd === '' || /^[0-9a-f]{8}(-[0-9a-f]{4}){3}-[0-9a-f]{12}$/i.test(odd);
          if (!isGuid) {
            expect(failure(env)).toBe(ENV_NAMES.allowedTenants);
            return;
          }
          expect(loadConfig({ ...base, ...env }).tenant).toEqual({
            mode: 'multi',
            tenantId: authority.toLowerCase(),
            allowedTenants: new Set(list.map((t) => t.toLowerCase())),
          });
        },
      ),
    );
  });

  it('refuse any other tenant value', () => {
    // Oracle: the GUID pattern and the two documented authorities, written in the filters below
    fc.assert(
      fc.property(
        fc
          .string({ minLength: 1, maxLength: 40 })
          .filter((s) => s.trim() !== '' && !/^(organizations|common)$/i.test(s.trim()))
          .filter((s) => !/^[0-9a-f]{8}(-[0-9a-f]{4}){3}-[0-9a-f]{12}$/i.test(s.trim())),
        (raw) => {
          expect(failure({ [ENV_NAMES.tenantId]: raw })).toBe(ENV_NAMES.tenantId);
        },
      ),
    );
    expect(failure({ [ENV_NAMES.tenantId]: `${TENANT}0` })).toBe(ENV_NAMES.tenantId);
    expect(failure({ [ENV_NAMES.tenantId]: `0${TENANT}` })).toBe(ENV_NAMES.tenantId);
    expect(failure({ [ENV_NAMES.tenantId]: 'common', [ENV_NAMES.allowedTenants]: ' , ' })).toBe(
      ENV_NAMES.allowedTenants,
    );
  });
});

describe('AZURE_AUTHORITY_HOST and AZURE_V1_ISSUER_HOST', () => {
  const label = fc.stringMatching(/^[a-z0-9-]{1,12}$/);
  const host = fc
    .tuple(fc.array(label, { minLength: 1, maxLength: 4 }), fc.option(fc.integer({ min: 0, max: 99999 })))
    .map(([labels, port]) => `${labels.join('.')}${port === null ? '' : `:${port}`}`);

  it('take a host name with an optional port, in lower case, and refuse anything more', () => {
    // A login host Microsoft does not document comes with its v1 issuer host (docs/configuration.md: sovereign clouds), so
    // each is given beside an undocumented partner.
    const partner = {
      [ENV_NAMES.authorityHost]: { [ENV_NAMES.v1IssuerHost]: 'sts.example' },
      [ENV_NAMES.v1IssuerHost]: { [ENV_NAMES.authorityHost]: 'login.example' },
    };
    for (const variable of [ENV_NAMES.authorityHost, ENV_NAMES.v1IssuerHost] as const) {
      const field = variable === ENV_NAMES.authorityHost ? 'authorityHost' : 'v1IssuerHost';
      const env = { ...base, ...partner[variable] };
      // Oracle: the generated host is the expected value (docs/configuration.md: a host name, lower case)
      fc.assert(
        fc.property(host, fc.boolean(), (h, upper) => {
          expect(loadConfig({ ...env, [variable]: upper ? h.toUpperCase() : h })[field]).toBe(h);
        }),
      );
      // Oracle: docs/configuration.md: a host name with an optional port and nothing more, so any junk names the variable
      fc.assert(
        fc.property(
          host,
          fc.constantFrom('/', '/evil', '@evil.example', '?', '#', ':', ':123456', '_', '\\'),
          fc.boolean(),
          (h, junk, atStart) => {
            expect(
              failure({ ...partner[variable], [variable]: atStart ? `${junk}${h}` : `${h}${junk}` }),
            ).toBe(variable);
          },
        ),
      );
    }
  });
});

describe('AZURE_JWKS_URI', () => {
  it('takes https anywhere, plain http only on loopback, and refuses the rest', () => {
    const ok = [
      'https://keys.example/keys',
      'https://login.microsoftonline.com/x/discovery/v2.0/keys',
      'http://127.0.0.1/k',
      'http://127.255.0.9:8080/k',
      'http://localhost:3000/k',
      'http://[::1]:1/k',
    ];
    for (const uri of ok)
      expect(loadConfig({ ...base, [ENV_NAMES.jwksUri]: uri }).jwksUri).toBe(new URL(uri).href);
    const refused = [
      'http://keys.example/keys',
      'http://128.0.0.1/k',
      'http://127.0.0.1.example/k',
      'http://localhost.example/k',
      'http://[::2]/k',
      'http://0.0.0.0/k',
      'ftp://127.0.0.1/k',
      'file:///etc/passwd',
      'keys',
      '//keys.example/k',
    ];
    for (const uri of refused) expect(failure({ [ENV_NAMES.jwksUri]: uri })).toBe(ENV_NAMES.jwksUri);
  });
});

describe('AZURE_AUDIENCES, AZURE_REQUIRED_SCOPES and AZURE_REQUIRED_ROLES', () => {
  it('are comma-separated lists, trimmed, without blanks or repeats, in their order', () => {
    const item = fc
      .stringMatching(/^[A-Za-z0-9._:/-]{1,10}$/)
      .filter((s) => !/graph|management|microsoft/i.test(s));
    // Oracle: the trimmed, de-duplicated list computed in the test from the generated items
    fc.assert(
      fc.property(fc.array(item, { minLength: 1, maxLength: 6 }), pad, (items, space) => {
        const raw = items.map((i) => `${space}${i}${space}`).join(`,${space},`);
        const expected = items.filter((x, i) => items.indexOf(x) === i);
        const config = loadConfig({
          ...base,
          [ENV_NAMES.audiences]: raw,
          [ENV_NAMES.requiredScopes]: raw,
          [ENV_NAMES.requiredRoles]: raw,
        });
        expect(config.audiences).toEqual(expected);
        expect(config.required).toEqual({ scopes: expected, roles: expected, clientApps: [] });
      }),
    );
  });
});
