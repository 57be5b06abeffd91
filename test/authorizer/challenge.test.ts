import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createChallenger } from '../../lambda/authorizer/challenge.js';
import type { PermissionRule, RoutePermission } from '../../lambda/authorizer/config.js';
import type { Grantee } from '../../lambda/authorizer/permissions.js';

/**
 * RFC 6750 §3 for a REST API's 403: `error="insufficient_scope"` with `scope="..."`, the scopes the token
 * would need, so the client can ask for that consent; no invitation when no scope or role would help.
 */
const rule = (scopes: string[], roles: string[] = [], clientApps?: string[]): PermissionRule => ({
  scopes,
  roles,
  ...(clientApps !== undefined ? { clientApps } : {}),
});
const route = (key: string, r: PermissionRule): RoutePermission => {
  const [method, path] = key.split(' ') as [RoutePermission['method'], string];
  return { route: key, method, path, ...r };
};
const ROUTES = [
  route('GET /items', rule(['Items.Read'])),
  route('DELETE /items/{id}', rule(['Items.Write'], ['Items.Admin'])),
  route('POST /audit', rule([], ['Audit.Writer'])),
  route('GET /partner', rule(['Partner.Read'], [], ['11111111-2222-4333-8444-555555555555'])),
];
const challenge = createChallenger({ required: rule([]), routePermissions: ROUTES });

describe('the 403 challenge a REST decision carries for its token', () => {
  it('names every scope a route the token may not call needs (a property of the token, as API Gateway caches it)', () => {
    expect(challenge({ scopes: ['Items.Read'], roles: [] })).toBe(
      'Bearer error="insufficient_scope", scope="Items.Write"',
    );
    expect(challenge({ scopes: [], roles: ['Items.Admin'] })).toBe(
      'Bearer error="insufficient_scope", scope="Items.Read"',
    );
  });

  it("leaves out routes a scope cannot open: another client app's", () => {
    expect(challenge({ scopes: ['Items.Read', 'Items.Write'], roles: [] })).toBe(
      'Bearer error="insufficient_scope", error_description="the token lacks an app role this API requires"',
    );
  });

  it('invites nothing when the token meets every rule it can (a path ending in /, a client app not allowed)', () => {
    expect(challenge({ scopes: ['Items.Read', 'Items.Write'], roles: ['Audit.Writer'] })).toBe(
      'Bearer error_description="this request is refused whatever scope or role the token carries"',
    );
  });

  it('names the API-wide scopes when there are no route permissions', () => {
    const apiWide = createChallenger({ required: rule(['access_as_user']), routePermissions: undefined });
    expect(apiWide({ scopes: [], roles: ['Items.Read.All'] })).toBe(
      'Bearer error="insufficient_scope", scope="access_as_user"',
    );
  });

  it('never writes a scope a quoted header value cannot carry', () => {
    const odd = createChallenger({ required: rule(['a"b', 'ok\\no', 'fine']), routePermissions: undefined });
    expect(odd({ scopes: [], roles: ['x'] })).toBe('Bearer error="insufficient_scope", scope="fine"');
  });

  it('names each scope once, space-separated, across the API-wide rule and the routes', () => {
    expect(challenge({ scopes: [], roles: [] })).toBe(
      'Bearer error="insufficient_scope", scope="Items.Read Items.Write"',
    );
  });

  it("invites no scope for a rule whose group the token is not in: no consent changes a user's groups", () => {
    const group = 'aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee';
    const grouped = createChallenger({
      required: { scopes: ['Items.Read'], roles: [], groups: [group] },
      routePermissions: undefined,
    });
    expect(grouped({ scopes: ['Items.Read'], roles: [] })).toBe(
      'Bearer error_description="this request is refused whatever scope or role the token carries"',
    );
    expect(grouped({ scopes: [], roles: [] })).toBe(
      'Bearer error_description="this request is refused whatever scope or role the token carries"',
    );
    expect(grouped({ scopes: [], roles: [], groupsOverage: true })).toBe(
      'Bearer error_description="this request is refused whatever scope or role the token carries"',
    );
    expect(grouped({ scopes: [], roles: [], groups: [group] })).toBe(
      'Bearer error="insufficient_scope", scope="Items.Read"',
    );
  });

  it('says an app role is lacking only when a rule the token misses names one', () => {
    const odd = rule(['a"b']);
    const oddOnly = createChallenger({ required: odd, routePermissions: undefined });
    expect(oddOnly({ scopes: [], roles: [] })).toBe(
      'Bearer error_description="this request is refused whatever scope or role the token carries"',
    );
    const mixed = createChallenger({
      required: odd,
      routePermissions: [route('POST /audit', rule([], ['Audit.Writer']))],
    });
    expect(mixed({ scopes: [], roles: [] })).toBe(
      'Bearer error="insufficient_scope", error_description="the token lacks an app role this API requires"',
    );
  });

  it('names exactly the scopes of the rules a scope alone would let the token meet', () => {
    const SCOPES = ['A.Read', 'B.Write', 'C.All'];
    const ROLES = ['R.One', 'R.Two'];
    const GROUPS = ['11111111-0000-4000-8000-000000000001', '11111111-0000-4000-8000-000000000002'];
    const APPS = ['22222222-0000-4000-8000-000000000001', '22222222-0000-4000-8000-000000000002'];
    const pick = (pool: string[]) => fc.subarray(pool);
    const ruleArb = fc.record({
      scopes: pick(SCOPES),
      roles: pick(ROLES),
      groups: pick(GROUPS),
      clientApps: pick(APPS),
    });
    const granteeArb = fc.record({
      scopes: pick(SCOPES),
      roles: pick(ROLES),
      groups: pick(GROUPS),
      appId: fc.constantFrom(...APPS),
    });
    // Oracle: docs/permissions-and-caching.md's rule (an allowed client app, one of its groups if it names
    // any, then one of its scopes or roles, or neither named) and docs/cors.md's challenge (the scopes of
    // every rule the token does not meet that a scope would meet; else an app role, if one would; else none)
    fc.assert(
      fc.property(ruleArb, fc.array(ruleArb, { maxLength: 4 }), granteeArb, (required, others, token) => {
        const rules: PermissionRule[] = [required, ...others];
        const gate = (r: PermissionRule) =>
          (r.clientApps?.length === 0 || r.clientApps?.includes(token.appId) === true) &&
          (r.groups?.length === 0 || r.groups?.some((g) => token.groups.includes(g)) === true);
        const met = (r: PermissionRule) =>
          gate(r) &&
          ((r.scopes.length === 0 && r.roles.length === 0) ||
            r.scopes.some((s) => token.scopes.includes(s)) ||
            r.roles.some((x) => token.roles.includes(x)));
        const helpable = rules.filter((r) => gate(r) && !met(r));
        const wanted = new Set(helpable.flatMap((r) => r.scopes));
        const text = createChallenger({
          required,
          routePermissions: others.map((r, i) => route(`GET /r${i}`, r)),
        })(token as Grantee);
        const named = /^Bearer error="insufficient_scope", scope="([^"]*)"$/.exec(text)?.[1];
        if (wanted.size > 0) {
          expect(named?.split(' ').sort()).toEqual([...wanted].sort());
        } else if (helpable.some((r) => r.roles.length > 0)) {
          expect(text).toBe(
            'Bearer error="insufficient_scope", error_description="the token lacks an app role this API requires"',
          );
        } else {
          expect(text).toBe(
            'Bearer error_description="this request is refused whatever scope or role the token carries"',
          );
        }
      }),
    );
  });
});
