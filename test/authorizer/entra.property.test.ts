import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type AuthorizerConfig, ENV_NAMES, loadConfig } from '../../lambda/authorizer/config.js';
import { checkEntraToken, reportEntraRules } from '../../lambda/authorizer/entra.js';
import { TokenRejectedError } from '../../lambda/authorizer/errors.js';
import type { DecodedJwt } from '../../lambda/authorizer/jwt-model.js';
import { CONSUMERS, type EntraVerdict, entraVerdict, GRAPH_AUDIENCES } from '../helpers/entra-oracle.js';
import { APP_ID_URI, CLIENT_ID, claims, header, OTHER_TENANT, TENANT } from '../helpers/setup.js';

/*
 * The Entra rules judged on generated headers and claims against test/helpers/entra-oracle.ts (docs/token-rules.md's
 * table, not entra.ts): a token that breaks a rule is refused with that rule's reason (the first broken
 * rule, in the table's order), and a token that breaks none is accepted with the claims docs/ documents.
 */

const NOW = 1_750_000_000;

type Json = Record<string, unknown>;

const ABSENT = Symbol('absent');
const pick = <T>(...values: T[]) => fc.constantFrom(...values);

const configs = fc
  .record({
    tenant: pick<Record<string, string>>(
      { [ENV_NAMES.tenantId]: TENANT },
      { [ENV_NAMES.tenantId]: 'organizations', [ENV_NAMES.allowedTenants]: `${TENANT},${CONSUMERS}` },
      { [ENV_NAMES.tenantId]: 'organizations', [ENV_NAMES.allowedTenants]: '*' },
      { [ENV_NAMES.tenantId]: 'common', [ENV_NAMES.allowedTenants]: '*' },
      { [ENV_NAMES.tenantId]: 'common', [ENV_NAMES.allowedTenants]: OTHER_TENANT },
    ),
    audiences: pick(CLIENT_ID, `${CLIENT_ID},${APP_ID_URI}`, APP_ID_URI),
    skew: pick('0', '1', '300', '600'),
    hosts: pick<Record<string, string>>({}, { [ENV_NAMES.authorityHost]: 'login.microsoftonline.us' }),
  })
  .map(({ tenant, audiences, skew, hosts }) =>
    loadConfig({ ...tenant, [ENV_NAMES.audiences]: audiences, [ENV_NAMES.clockSkewSeconds]: skew, ...hosts }),
  );

const anyValue = pick<unknown>(5, null, true, [], {}, '', 'x', ['x']);
const stringish = fc.oneof(pick<unknown>(ABSENT, 'a value', ''), anyValue);

/** A date claim at or near a boundary (in seconds relative to NOW and the skew), or no date at all. */
const dateOffset = fc.oneof(
  fc.integer({ min: -700, max: 700 }),
  pick(-601, -600, -599, -301, -300, -299, -2, -1, 0, 1, 2, 299, 300, 301, 599, 600, 601),
);
const badDate = pick<unknown>('1750000000', null, true, [], {}, Number.NaN, Infinity, -Infinity, 8.64e12 + 1);
const extremeDate = pick<unknown>(8.64e12, -8.64e12, -8.64e12 - 1, 1e300, -1e300);

const FIELDS = {
  alg: pick<unknown>('RS256', 'HS256', 'none', 'rs256', 'RS512', 5, ABSENT),
  keyHeader: pick<unknown>('jku', 'x5u', 'jwk', 'x5c', 'crit', 'nonce', 'NONCE', 'Crit', 'typ'),
  kid: pick<unknown>('main-key', 'k'.repeat(128), 'k'.repeat(129), '', 5, null, ABSENT),
  x5t: pick<unknown>('thumb', '', 5, ABSENT),
  tid: pick<unknown>(
    TENANT,
    OTHER_TENANT,
    CONSUMERS,
    TENANT.toUpperCase(),
    'contoso.onmicrosoft.com',
    5,
    ABSENT,
  ),
  iss: pick('v2', 'v1', 'v2-default-host', 'v2-other-tenant', 'v2-slash', 'v1-no-slash', 'number', 'absent'),
  aud: pick<unknown>(
    CLIENT_ID,
    APP_ID_URI,
    [APP_ID_URI],
    ['someone-else', CLIENT_ID],
    [CLIENT_ID, 42],
    [42, CLIENT_ID],
    [CLIENT_ID, null],
    [],
    'someone-else',
    ['someone-else'],
    CLIENT_ID.toUpperCase(),
    ...GRAPH_AUDIENCES,
    ['https://graph.microsoft.com/', 'someone-else'],
    42,
    null,
    { 0: CLIENT_ID },
    ABSENT,
  ),
  exp: fc.oneof(dateOffset, badDate, extremeDate, pick(ABSENT)),
  nbf: fc.oneof(dateOffset, badDate, extremeDate, pick(ABSENT)),
  iat: fc.oneof(dateOffset, badDate, extremeDate, pick(ABSENT)),
  client: pick<unknown>('client-app', '', 5, null, ABSENT),
  scp: pick<unknown>('access_as_user', 'a  b', ' \t ', '\u00a0', '', 5, ['a'], ABSENT),
  roles: pick<unknown>(
    ['Items.Read'],
    ['Items.Read', 'B'],
    [' '],
    ['\t', 'R'],
    ['R', 5],
    'R',
    [],
    null,
    ABSENT,
  ),
  idtyp: pick<unknown>('app', 'user', 'App', '', 5, ABSENT),
  // Guest signs: acct, and idp naming another tenant, a personal account, a partner IdP, or this tenant.
  acct: pick<unknown>(0, 1, '1', ABSENT),
  idp: pick<unknown>(
    `https://sts.windows.net/${OTHER_TENANT}/`,
    'live.com',
    `https://idp.partner.example/${TENANT}/`,
    `https://sts.windows.net/${TENANT}/`,
    `https://login.microsoftonline.com/${TENANT}/v2.0`,
    `https://sts.chinacloudapi.cn/${TENANT}/`,
    `https://login.microsoftonline.us/${TENANT}/v2.0`,
    `https://${TENANT}.ciamlogin.com/${TENANT}/v2.0`,
    ABSENT,
  ),
  oid: stringish,
  sub: stringish,
  name: stringish,
  preferred_username: stringish,
  upn: stringish,
  unique_name: stringish,
};

/** A few changes at a time to a valid token: most cases break one rule, some none, some several. */
const perturbations = fc
  .record({
    version: pick('2.0', '1.0'),
    changes: fc.array(
      fc.oneof(
        ...Object.entries(FIELDS).map(([field, values]) =>
          (values as fc.Arbitrary<unknown>).map((value) => [field, value] as const),
        ),
      ),
      { maxLength: 3 },
    ),
  })
  .map(
    ({ version, changes }) =>
      ({ version, ...Object.fromEntries(changes) }) as { version: string } & {
        [K in keyof typeof FIELDS]?: (typeof FIELDS)[K] extends fc.Arbitrary<infer T> ? T : never;
      },
  );

type Perturbation = typeof perturbations extends fc.Arbitrary<infer T> ? T : never;

function set(target: Json, key: string, value: unknown): void {
  if (value === ABSENT) delete target[key];
  else target[key] = value;
}

/** A valid token for the config, with the chosen perturbations applied (dates relative to NOW). */
function build(config: AuthorizerConfig, p: Perturbation): { h: Json; c: Json } {
  const h = header();
  const c = claims({ version: p.version as '1.0' | '2.0', nowSeconds: NOW });
  if (p.alg !== undefined) set(h, 'alg', p.alg);
  if (p.keyHeader !== undefined) h[p.keyHeader as string] = p.keyHeader === 'crit' ? ['exp'] : 'x';
  if (p.kid !== undefined) set(h, 'kid', p.kid);
  if (p.x5t !== undefined) set(h, 'x5t', p.x5t);
  if (p.tid !== undefined) set(c, 'tid', p.tid);
  const tid = String(c.tid);
  const host = config.authorityHost;
  const iss = {
    v2: `https://${host}/${tid}/v2.0`,
    v1: `https://${config.v1IssuerHost}/${tid}/`,
    'v2-default-host': `https://login.microsoftonline.com/${tid}/v2.0`,
    'v2-other-tenant': `https://${host}/${OTHER_TENANT}/v2.0`,
    'v2-slash': `https://${host}/${tid}/v2.0/`,
    'v1-no-slash': `https://${config.v1IssuerHost}/${tid}`,
    number: 5,
    absent: ABSENT,
  }[p.iss ?? (p.version === '2.0' ? 'v2' : 'v1')];
  set(c, 'iss', iss);
  set(c, 'aud', p.aud ?? config.audiences[0]);
  for (const claim of ['exp', 'nbf', 'iat'] as const) {
    const v = p[claim];
    if (v !== undefined) set(c, claim, typeof v === 'number' && Math.abs(v) <= 700 ? NOW + v : v);
  }
  if (p.client !== undefined) set(c, p.version === '2.0' ? 'azp' : 'appid', p.client);
  for (const claim of [
    'scp',
    'roles',
    'idtyp',
    'acct',
    'idp',
    'oid',
    'sub',
    'name',
    'preferred_username',
    'upn',
    'unique_name',
  ] as const) {
    if (p[claim] !== undefined) set(c, claim, p[claim]);
  }
  return { h, c };
}

const jwtOf = (h: Json, c: Json): DecodedJwt => ({
  header: h,
  payload: c,
  signingInput: 'h.p',
  signatureB64: 's',
});

function judge(config: AuthorizerConfig, h: Json, c: Json, now: number): EntraVerdict {
  try {
    const { keyId, claims } = checkEntraToken(jwtOf(h, c), config, now);
    return { claims: { keyId, ...claims } };
  } catch (err) {
    if (err instanceof TokenRejectedError) return { reason: err.reason };
    throw err;
  }
}

describe('the Entra rules, against the documented table', () => {
  it('refuse a token that breaks a rule with its reason, and accept one that breaks none with its claims', () => {
    // Oracle: docs/token-rules.md's table as written in helpers/entra-oracle.ts (entraVerdict), not entra.ts
    fc.assert(
      fc.property(configs, perturbations, fc.constantFrom(0, 0.25, 0.999), (config, p, fraction) => {
        const { h, c } = build(config, p);
        const now = NOW + fraction;
        expect(judge(config, h, c, now)).toEqual(entraVerdict(config, h, c, now));
      }),
      { numRuns: 2000 },
    );
  });

  it('judge each rule the same way in explain, and fail exactly the first broken one first', () => {
    // Oracle: entraVerdict in helpers/entra-oracle.ts (docs/token-rules.md's table), not entra.ts or explain
    fc.assert(
      fc.property(configs, perturbations, (config, p) => {
        const { h, c } = build(config, p);
        const expected = entraVerdict(config, h, c, NOW);
        const judged = reportEntraRules(jwtOf(h, c), config, NOW);
        const failed = judged.find((r) => r.outcome === 'fail');
        if ('reason' in expected && expected.reason !== 'malformed')
          expect(failed?.reason).toBe(expected.reason);
        if ('claims' in expected) expect(judged.every((r) => r.outcome === 'pass')).toBe(true);
      }),
      { numRuns: 1000 },
    );
  });
});

describe('dates at the exact boundary second', () => {
  const config = loadConfig({
    [ENV_NAMES.tenantId]: TENANT,
    [ENV_NAMES.audiences]: CLIENT_ID,
    [ENV_NAMES.clockSkewSeconds]: '300',
  });
  const at = (changes: Json, now = NOW) => {
    const c: Json = { ...claims({ nowSeconds: NOW }), ...changes };
    for (const [k, v] of Object.entries(changes)) if (v === ABSENT) delete c[k];
    return judge(config, header(), c, now);
  };
  const refused = (v: EntraVerdict) => ('reason' in v ? v.reason : 'accepted');

  it('refuses at exp + skew and accepts one second before', () => {
    expect(refused(at({ exp: NOW - 300 }))).toBe('expired');
    expect(refused(at({ exp: NOW - 299 }))).toBe('accepted');
    expect(refused(at({ exp: NOW - 299 }, NOW + 0.999))).toBe('accepted');
    expect(refused(at({ exp: NOW - 300 }, NOW - 0.001))).toBe('accepted');
  });

  it('accepts at nbf - skew and refuses one second later', () => {
    expect(refused(at({ nbf: NOW + 300 }))).toBe('accepted');
    expect(refused(at({ nbf: NOW + 301 }))).toBe('not_yet_valid');
    expect(refused(at({ nbf: NOW + 300 }, NOW - 0.001))).toBe('not_yet_valid');
  });

  it('accepts without iat or nbf, and refuses either when it is not a date', () => {
    expect(refused(at({ iat: ABSENT, nbf: ABSENT }))).toBe('accepted');
    for (const bad of ['1750000000', null, Number.NaN, Infinity, 8.64e12 + 1, -8.64e12 - 1]) {
      expect(refused(at({ iat: bad }))).toBe('malformed');
      expect(refused(at({ nbf: bad }))).toBe('malformed');
    }
    expect(refused(at({ iat: 8.64e12 }))).toBe('accepted');
    expect(refused(at({ iat: -8.64e12 }))).toBe('accepted');
    expect(refused(at({ nbf: -8.64e12 }))).toBe('accepted');
  });
});
