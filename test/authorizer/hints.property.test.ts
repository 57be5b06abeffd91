import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ENV_NAMES } from '../../lambda/authorizer/config.js';
import { type Denial, denialText } from '../../lambda/authorizer/denials.js';
import { hintFromFacts } from '../../lambda/authorizer/hints.js';
import { createRouteAuthorizer } from '../../lambda/authorizer/permissions.js';
import { hintConfig } from '../helpers/hint-config.js';
import { CLIENT_ID, TENANT } from '../helpers/setup.js';

const config = hintConfig;
const facts = (
  cfg: ReturnType<typeof config>,
  payload: Record<string, unknown>,
  header = {},
  denial?: Denial,
) => ({
  payload,
  header,
  detail: denial === undefined ? undefined : denialText(denial),
  denial,
  nowSeconds: 1_700_000_000,
  config: cfg,
});
const guid = fc.uuid({ version: 4 });
// A claim value distinct from every word of a hint's own text (a bare "ons" is in "organizations"), so a
// match can only be the value repeated.
const claimText = fc.oneof(
  guid,
  fc.stringMatching(/^[a-z0-9.:/-]{3,30}$/).map((v) => `claim-${v}`),
);

describe('hints never steer by unverified claims', () => {
  it('unknown_key names the configured client id for custom keys, never the azp or appid of the token', () => {
    // The calling client's id (a GUID), or a made-up value an unsigned token could carry.
    const clientValue = fc.oneof(
      guid,
      fc.stringMatching(/^[a-z0-9]{4,12}$/).map((v) => `azp-${v}`),
    );
    // Oracle: the documented rule that hints never steer by unverified claims: the configured client id, never azp or appid
    fc.assert(
      fc.property(clientValue, clientValue, fc.stringMatching(/^[A-Za-z0-9_-]{4,20}$/), (azp, appid, kid) => {
        fc.pre(azp !== CLIENT_ID && appid !== CLIENT_ID);
        const hint = hintFromFacts('unknown_key', facts(config(), { azp, appid }, { kid }));
        expect(hint).toContain(`?appid=${CLIENT_ID})`);
        expect(hint).not.toContain(azp);
        expect(hint).not.toContain(appid);
        expect(hint).toMatch(/^the token's unverified kid /);
      }),
    );
  });

  it('names a tenant, audience or issuer host from the token only as its unverified claim, never as a value to set', () => {
    const single = config();
    const multi = config({
      [ENV_NAMES.tenantId]: 'organizations',
      [ENV_NAMES.allowedTenants]: '11111111-1111-4111-8111-111111111111',
    });
    // Oracle: the same rule: a claim value appears only labelled as the token's unverified claim
    fc.assert(
      fc.property(
        guid,
        claimText,
        fc.stringMatching(/^login\.[a-z]{2,12}\.(us|cn|de|fr)$/),
        (tid, aud, host) => {
          fc.pre(!CLIENT_ID.includes(aud) && tid !== TENANT);
          const hints = [
            hintFromFacts('tenant_not_allowed', facts(single, { tid })),
            hintFromFacts('tenant_not_allowed', facts(multi, { tid })),
            hintFromFacts('wrong_audience', facts(single, { aud, ver: '2.0' })),
            hintFromFacts('wrong_issuer', facts(single, { tid, iss: `https://${host}/${tid}/v2.0` })),
          ];
          for (const hint of hints) {
            expect(hint).toMatch(/the token's unverified (tid|aud|iss)/);
            // The value may be shown, but never written as what to configure.
            for (const value of [tid, aud, host]) {
              expect(hint).not.toMatch(
                new RegExp(`(=|,|add )${value.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`),
              );
            }
          }
        },
      ),
    );
  });
});

describe('every 401 hint that repeats an issuer, tenant or audience labels it unverified', () => {
  // 401s are decided before the signature is checked (docs/token-rules.md), so every iss, tid and aud a
  // 401 hint shows is the token's unverified claim. Issuers of each kind the hints tell apart are drawn.
  const word = fc.stringMatching(/^[a-z][a-z0-9]{2,10}$/);
  const issuer = fc.oneof(
    fc
      .tuple(guid, guid)
      .map(([tid, other]) => ({ tid, iss: `https://login.microsoftonline.com/${other}/v2.0` })),
    fc
      .tuple(
        guid,
        fc.constantFrom('login.microsoftonline.us', 'login.chinacloudapi.cn', 'sts.chinacloudapi.cn'),
      )
      .map(([tid, host]) => ({ tid, iss: `https://${host}/${tid}/v2.0` })),
    fc.tuple(guid, word).map(([tid, w]) => ({ tid, iss: `https://login.${w}.example/${tid}/v2.0` })),
    fc.tuple(guid, word).map(([tid, w]) => ({ tid, iss: `https://${w}.b2clogin.com/${tid}/v2.0/` })),
    fc
      .tuple(guid, fc.constantFrom('/', '/v2.0'))
      .map(([tid, end]) => ({ tid, iss: `https://${tid}.ciamlogin.com/${tid}${end}` })),
    fc.tuple(guid, word).map(([tid, w]) => ({ tid, iss: `${w}/${w} ${w}` })), // not a URL
    word.map((w) => ({ tid: undefined, iss: `https://sts.${w}.example/` })),
    guid.map((tid) => ({ tid, iss: `https://login.microsoftonline.com/${tid}/v2.0/extra` })),
  );
  /** The national clouds' login hosts (Microsoft Learn, "National clouds" authentication endpoints). */
  const CLOUD_HOSTS: readonly string[] = ['login.microsoftonline.us', 'login.chinacloudapi.cn'];
  const literal = (v: string) => v.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

  it('wrong_issuer, tenant_not_allowed, wrong_audience and graph_token', () => {
    const cfg = config();
    // Oracle: the same rule and the national clouds' login hosts from Microsoft Learn (CLOUD_HOSTS), not hints.ts
    fc.assert(
      fc.property(
        issuer,
        claimText,
        fc.constantFrom('https://graph.microsoft.com', '00000003-0000-0000-c000-000000000000'),
        fc.boolean(),
        ({ tid, iss }, aud, graphAud, nonce) => {
          fc.pre(tid !== TENANT && !CLIENT_ID.includes(aud));
          const host = /^https:\/\/([^/]+)/.exec(iss)?.[1];
          const payload = { ...(tid === undefined ? {} : { tid }), iss, aud, ver: '2.0' };
          const hints = [
            hintFromFacts('wrong_issuer', facts(cfg, payload)),
            hintFromFacts('tenant_not_allowed', facts(cfg, payload)),
            hintFromFacts('wrong_audience', facts(cfg, payload)),
            hintFromFacts(
              'graph_token',
              facts(cfg, { ...payload, aud: graphAud }, nonce ? { nonce: 'n' } : {}),
            ),
          ];
          for (const hint of hints) {
            for (const [claim, value] of [
              ['iss', iss],
              ['iss', host],
              ['tid', tid],
              ['aud', aud],
              ['aud', graphAud],
            ] as const) {
              if (value === undefined || !hint.includes(value)) continue;
              // Shown only after the label, and never as what to set or add.
              expect(hint, hint).toMatch(
                new RegExp(`the token's unverified (${claim}|iss)\\b.*${literal(value)}`),
              );
              // A documented cloud's login host may be named, as Microsoft lists it, and only conditionally.
              const documented = CLOUD_HOSTS.includes(value) && hint.includes('if your API is registered in');
              if (!documented) expect(hint).not.toMatch(new RegExp(`(=|,|add )${literal(value)}`));
            }
          }
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe('403 hints name the real cause', () => {
  const table = {
    'GET /whoami': { scopes: ['access_as_user'] },
    'GET /jobs/{id}': { scopes: ['Jobs.Read'], roles: ['Jobs.All'] },
    'DELETE /jobs/{id}': { roles: ['Jobs.Admin'] },
  };
  const cfg = config({ [ENV_NAMES.routePermissions]: JSON.stringify(table) });
  const routes = createRouteAuthorizer(cfg);
  const detailOf = (scopes: string[], roles: string[], method: string, path: string) => {
    const answer = routes({ scopes, roles }, { method, path });
    return answer.allowed ? undefined : answer.denial;
  };

  it('an app-only token on a route that needs a scope: no app role can help, and it can never carry a scope', () => {
    // Oracle: docs/troubleshooting.md's advice for app-only tokens (no scope ever), as literal text, not hints.ts
    fc.assert(
      fc.property(
        fc.array(fc.stringMatching(/^[A-Z][a-z]+\.[A-Z][a-z]+$/), { minLength: 1, maxLength: 3 }),
        (roles) => {
          const payload = { idtyp: 'app', roles };
          const onScopeRoute = hintFromFacts(
            'insufficient_permission',
            facts(cfg, payload, {}, detailOf([], roles, 'GET', '/whoami')),
          );
          expect(onScopeRoute).toMatch(
            /an app-only token never carries a scope, and this route admits no app role/,
          );
          expect(onScopeRoute).not.toMatch(/assign the app role/);
          const onRoleRoute = hintFromFacts(
            'insufficient_permission',
            facts(cfg, payload, {}, detailOf([], roles, 'GET', '/jobs/1')),
          );
          expect(onRoleRoute).toMatch(/assign the app role the route needs/);
        },
      ),
    );
  });

  it('an app-only token on an API that requires a scope: the API-wide rule, not a route, is named', () => {
    const role = fc.stringMatching(/^[A-Z][a-z]+\.[A-Z][a-z]+$/);
    // Oracle: docs/troubleshooting.md's advice for app-only tokens, naming the API-wide rule, as literal text
    fc.assert(
      fc.property(fc.array(role, { minLength: 1, maxLength: 3 }), role, (roles, required) => {
        fc.pre(!roles.includes(required));
        const payload = { idtyp: 'app', roles };
        const hintUnder = (env: Record<string, string>) => {
          const answer = createRouteAuthorizer(config(env))(
            { scopes: [], roles },
            { method: 'GET', path: '/' },
          );
          expect(answer.allowed).toBe(false);
          return hintFromFacts(
            'insufficient_permission',
            facts(cfg, payload, {}, answer.allowed ? undefined : answer.denial),
          );
        };
        const scopeOnly = hintUnder({ [ENV_NAMES.requiredScopes]: 'access_as_user' });
        expect(scopeOnly).toMatch(/an app-only token never carries a scope, and the API admits no app role/);
        expect(scopeOnly).toContain(ENV_NAMES.requiredRoles);
        expect(scopeOnly).not.toMatch(/route|assign the app role/);
        const withRole = hintUnder({
          [ENV_NAMES.requiredScopes]: 'access_as_user',
          [ENV_NAMES.requiredRoles]: required,
        });
        expect(withRole).toMatch(/assign the app role the API needs/);
      }),
    );
  });

  it("a user's token on a route that needs an app role only: assign the role, no scope can help", () => {
    // Oracle: docs/troubleshooting.md's insufficient_permission row (assign the app role to the user) and
    // docs/permissions-and-caching.md (a route with roles only admits no scope), as literal text
    fc.assert(
      fc.property(
        fc.array(fc.stringMatching(/^[A-Z][a-z]+\.[A-Z][a-z]+$/), { minLength: 1, maxLength: 3 }),
        (scopes) => {
          const payload = { idtyp: 'user', scp: scopes.join(' ') };
          const roleOnly = hintFromFacts(
            'insufficient_permission',
            facts(cfg, payload, {}, detailOf(scopes, [], 'DELETE', '/jobs/1')),
          );
          expect(roleOnly).toMatch(/assign the app role to the user/);
          expect(roleOnly).not.toMatch(/consent the scope/);
          const scopeOrRole = hintFromFacts(
            'insufficient_permission',
            facts(cfg, payload, {}, detailOf(scopes, [], 'GET', '/jobs/1')),
          );
          expect(scopeOrRole).toMatch(/consent the scope, or assign the app role to the user/);
        },
      ),
    );
  });

  it('a path ending in "/" is the path, not a missing scope', () => {
    // Oracle: docs/permissions-and-caching.md: a trailing-slash path is refused whatever the token carries (literal hint)
    fc.assert(
      fc.property(fc.constantFrom('/whoami/', '/jobs/1/', '/jobs/'), (path) => {
        const detail = detailOf(['access_as_user', 'Jobs.Read'], [], 'GET', path);
        const hint = hintFromFacts(
          'insufficient_permission',
          facts(cfg, { scp: 'access_as_user Jobs.Read' }, {}, detail),
        );
        expect(hint).toBe(
          `GET ${path} ends in "/": route permissions refuse such paths whatever the token carries; call it without the trailing slash`,
        );
      }),
    );
  });
});
