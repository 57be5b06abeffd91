import { describe, expect, it } from 'vitest';
import { createChallenger } from '../../lambda/authorizer/challenge.js';
import type { PermissionRule, RoutePermission } from '../../lambda/authorizer/config.js';

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
});
