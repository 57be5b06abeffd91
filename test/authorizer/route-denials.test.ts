import { describe, expect, it } from 'vitest';
import { ENV_NAMES, type PermissionRule, parseRoutePermissions } from '../../lambda/authorizer/config.js';
import { createRouteAuthorizer, type Grantee } from '../../lambda/authorizer/permissions.js';
import { iamMatches } from '../helpers/policy-oracle.js';

/*
 * The Denies a cached policy carries and the text a refusal gives the operator (the decision line's
 * `missing`), each written out in full here: a Deny the policy does not need, or one it lacks, and a
 * refusal that names the wrong rule, all change what the test expects.
 */

const NO_RULE: PermissionRule = { scopes: [], roles: [] };
const APP = '11111111-2222-4333-8444-555555555555';
const OTHER_APP = 'b0b0b0b0-2222-4333-8444-555555555555';

/** A RestApi whose methods are the table's keys, as the construct lists them: none unlisted. */
const routesOf = (table: Record<string, unknown>, required: PermissionRule = NO_RULE) =>
  createRouteAuthorizer({ required, routePermissions: parseRoutePermissions(table), unlistedMethods: [] });
/** A SpecRestApi: its methods out of the construct's sight, the Lambda knows only the table. */
const specRoutesOf = (table: Record<string, unknown>) =>
  createRouteAuthorizer({ required: NO_RULE, routePermissions: parseRoutePermissions(table) });
/** A table of a RestApi, with the guarded methods no key names as the construct lists them. */
const apiRoutesOf = (table: Record<string, unknown>, unlisted: string[]) =>
  createRouteAuthorizer({
    required: NO_RULE,
    routePermissions: parseRoutePermissions(table),
    unlistedMethods: parseRoutePermissions(Object.fromEntries(unlisted.map((k) => [k, {}]))),
  });
const deniedPaths = (decision: ReturnType<ReturnType<typeof routesOf>>) =>
  'denied' in decision ? decision.denied.map((d) => `${d.method}${d.path}`).sort() : ['(the stage)'];

const caller = (scopes: string[], roles: string[] = [], appId: string | undefined = APP): Grantee => ({
  scopes,
  roles,
  appId,
});
/** A grantee without a client app id (entra.ts refuses such a token; the route rules still say so). */
const appless = (scopes: string[], roles: string[] = []): Grantee => ({ scopes, roles });

/** What the policy allows and denies, as `METHOD/path` resources, the way the policy builder writes them. */
function policyOf(decision: ReturnType<ReturnType<typeof routesOf>>) {
  const resources = (method: string, path: string) =>
    method === '*'
      ? ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS'].map((m) => `${m}${path}`)
      : [`${method}${path}`];
  const star = (path: string) => path.replace(/\{[^}]+\}/g, '*');
  if (decision.routes === 'stage') return { allow: ['*'], deny: [] };
  return {
    allow: decision.routes.flatMap((r) => resources(r.method, star(r.path))),
    deny: decision.denied.map((d) => `${d.method}${d.path}`),
  };
}

/** IAM's answer for one request under that policy: an explicit Deny wins, then any Allow. */
function policyAllows(policy: { allow: string[]; deny: string[] }, request: string): boolean {
  if (policy.deny.some((p) => iamMatches(p, request))) return false;
  return policy.allow.some((p) => iamMatches(p, request));
}

describe('the Denies of a cached policy', () => {
  it('are none without route permissions: the whole stage is one decision', () => {
    const stage = createRouteAuthorizer({ required: NO_RULE, routePermissions: undefined });
    expect(stage(caller(['Items.Read']), { method: 'GET', path: '/any/path' })).toEqual({
      allowed: true,
      routes: 'stage',
    });
  });

  it('are none when the caller may call every declared route', () => {
    const routes = routesOf({
      'GET /items/{id}': { scopes: ['Items.Read'] },
      'GET /items/{id}/parts': { scopes: ['Items.Read'] },
    });
    expect(routes(caller(['Items.Read']), { method: 'GET', path: '/items/42' })).toMatchObject({
      allowed: true,
      denied: [],
    });
    expect(routes(caller(['Items.Read']), { method: 'GET', path: '/items/42/parts' })).toMatchObject({
      allowed: true,
      denied: [],
    });
  });

  it('leave alone a route whose literal segments the granted pattern cannot match', () => {
    const routes = routesOf({
      'GET /items/{id}': { scopes: ['Items.Read'] },
      'GET /other/x': { roles: ['Admin'] },
      'GET /': { roles: ['Admin'] },
    });
    expect(routes(caller(['Items.Read']), { method: 'GET', path: '/items/42' })).toMatchObject({
      allowed: true,
      denied: [],
    });
  });

  it('leave alone a refused route the granted {proxy+} route outranks wherever its pattern reaches it', () => {
    // GET/*/b/* reaches GET /{id}/{id}/a/a only on paths whose second segment is "b", where the literal wins.
    const routes = routesOf({ 'GET /{x}/b/{proxy+}': {}, 'GET /{id}/{id}/a/a': { roles: ['Admin'] } });
    expect(routes(caller(['Items.Read']), { method: 'GET', path: '/c/b/a/a' })).toMatchObject({
      allowed: true,
      denied: [],
    });
    expect(routes(caller(['Items.Read']), { method: 'GET', path: '/c/d/a/a' })).toMatchObject({
      allowed: false,
      denial: { kind: 'route_rule', route: 'GET /{id}/{id}/a/a' },
    });
  });

  it('leave alone a refused route whose literal differs from the granted one, whichever literal is met first', () => {
    // GET/b/a/* admits /b/a/1/2, which GET /{id}/b/{proxy+} cannot serve ("a" is not "b").
    for (const table of [
      { 'GET /{id}/b/{proxy+}': { roles: ['Admin'] }, 'GET /b/a/{id}': {} },
      { 'GET /b/a/{id}': {}, 'GET /{id}/b/{proxy+}': { roles: ['Admin'] } },
    ]) {
      expect(routesOf(table)(caller(['Items.Read']), { method: 'GET', path: '/b/a/1' })).toMatchObject({
        allowed: true,
        denied: [],
      });
    }
  });

  it('deny by pattern what a top-level {param} admits beyond itself, and by name only the routes that outrank it', () => {
    const reader = caller(['Items.Read']);
    // GET/* reaches the unlisted GET /{proxy+} only beyond /{id}: GET /a and the root are served by granted keys.
    const api = apiRoutesOf({ 'GET /{id}': {}, 'GET /': {} }, ['GET /{proxy+}']);
    expect(api(reader, { method: 'GET', path: '/' })).toMatchObject({ allowed: true });
    expect(deniedPaths(api(reader, { method: 'GET', path: '/a' }))).toEqual(['GET/*/*']);
    for (const table of [
      { 'GET /{x}': {}, 'GET /{proxy+}': { roles: ['Admin'] } },
      // GET /a/{proxy+} outranks /{id} nowhere: they share no request.
      { 'GET /{id}': {}, 'GET /a/{proxy+}': { roles: ['Admin'] } },
    ]) {
      const decision = routesOf(table)(reader, { method: 'GET', path: '/a' });
      expect({ table, allowed: decision.allowed, denied: deniedPaths(decision) }).toEqual({
        table,
        allowed: true,
        denied: ['GET/*/*'],
      });
    }
  });

  it('leave alone a refused route a literal-first {param} and {proxy+} route wins every shared request of', () => {
    // GET/a/*/* admits only what GET /a/{id}/{proxy+} serves: "a" before {x} on every path both match.
    const routes = routesOf({ 'GET /a/{id}/{proxy+}': {}, 'GET /{x}/b/{proxy+}': { roles: ['Admin'] } });
    expect(routes(caller(['Items.Read']), { method: 'GET', path: '/a/b/c' })).toMatchObject({
      allowed: true,
      denied: [],
    });
  });

  it('leave alone a {proxy+} that only a route with parameters and a last {proxy+} outranks', () => {
    // GET/*/* admits only paths GET /{id}/{proxy+} serves itself: {id} before {proxy+} on every one.
    const routes = routesOf({ 'GET /{id}/{proxy+}': {}, 'GET /{proxy+}': { roles: ['Admin'] } });
    expect(routes(caller(['Items.Read']), { method: 'GET', path: '/1/2/3' })).toMatchObject({
      allowed: true,
      denied: [],
    });
  });

  it("judge an ANY route on a method its resource names apart by that method's key, not by the ANY's rule", () => {
    const routes = routesOf({
      'GET /{id}': {},
      'GET /{id}/{proxy+}': {},
      '* /{id}/{proxy+}': { roles: ['Admin'] },
    });
    // The ANY route does not serve GET, so its refusal needs no GET Deny: GET /1/2 stays allowed.
    expect(routes(caller(['Items.Read']), { method: 'GET', path: '/1/2' })).toMatchObject({
      allowed: true,
      denied: [],
    });
    expect(routes(caller(['Items.Read']), { method: 'POST', path: '/1/2' })).toMatchObject({
      allowed: false,
    });
  });

  it('name the root when a top-level {param} route is granted and the root is not', () => {
    const routes = routesOf({ 'GET /{id}': { scopes: ['Items.Read'] }, 'GET /': { roles: ['Admin'] } });
    const decision = routes(caller(['Items.Read']), { method: 'GET', path: '/42' });
    // The root by name ({id}'s * may match nothing); what /* admits beyond one segment no route serves.
    expect(decision).toMatchObject({ allowed: true, denied: [{ method: 'GET', path: '/' }] });
  });

  it('name a refused route that wins, by a literal, a request the granted {param} route also matches', () => {
    // GET /items/special/parts: both routes match it; the literal "special" beats {id}, so API Gateway
    // serves it from the greedy route, which this caller may not call. The Allow GET/items/*/parts covers
    // it, and the excess pattern GET/items/*/*/parts does not: it must be denied by name.
    const table = {
      'GET /items/{id}/parts': { scopes: ['Items.Read'] },
      'GET /items/special/{proxy+}': { roles: ['Admin'] },
    };
    const decision = routesOf(table)(caller(['Items.Read']), { method: 'GET', path: '/items/42/parts' });
    expect(decision.allowed).toBe(true);
    const policy = policyOf(decision);
    expect(policy.deny).toContain('GET/items/special/*');
    expect(policyAllows(policy, 'GET/items/special/parts')).toBe(false);
    expect(policyAllows(policy, 'GET/items/42/parts')).toBe(true);
    expect(
      routesOf(table)(caller(['Items.Read']), { method: 'GET', path: '/items/special/parts' }),
    ).toMatchObject({
      allowed: false,
      reason: 'insufficient_permission',
    });
  });

  it("name a refused route that beats the granted route's {proxy+} on every longer request", () => {
    // GET /a/1/x/p/q: {p} beats {proxy+} at the fourth segment, so the refused route serves it; the Allow
    // GET/a/*/x/* covers it and the excess pattern GET/a/*/*/x/* does not.
    const table = {
      'GET /a/{id}/x/{proxy+}': { scopes: ['Reader'] },
      'GET /a/{id}/x/{p}/{proxy+}': { roles: ['Admin'] },
    };
    const routes = routesOf(table);
    const decision = routes(caller(['Reader']), { method: 'GET', path: '/a/1/x/y' });
    expect(decision.allowed).toBe(true);
    const policy = policyOf(decision);
    for (const path of ['/a/1/x/p/q', '/a/1/x/x/y', '/a/1/x/p/q/r']) {
      expect(routes(caller(['Reader']), { method: 'GET', path }).allowed).toBe(false);
      expect(policyAllows(policy, `GET${path}`)).toBe(false);
    }
    expect(policyAllows(policy, 'GET/a/1/x/y')).toBe(true);
  });

  it('leave the root alone when no granted pattern admits it', () => {
    // Only a `*` alone (`/{id}`'s GET/*) admits the root, its `*` matching nothing: not GET/items, nor
    // GET/*/b, whose `*` must be followed by /b.
    const routes = routesOf({
      'GET /items': { scopes: ['S'] },
      'GET /{a}/b': { scopes: ['S'] },
      'GET /': { roles: ['Admin'] },
    });
    expect(routes(caller(['S']), { method: 'GET', path: '/items' })).toMatchObject({
      allowed: true,
      denied: [],
    });
  });

  it('judge the root by the route that serves it, GET / before an ANY / listed first', () => {
    // API Gateway serves GET / from GET /, which the reader may call, and POST / from ANY /, which it may
    // not: the reader's GET/* admits the root, and only ANY /'s methods other than GET are refused there.
    const table = {
      'GET /{id}': { scopes: ['Reader'] },
      'ANY /': { roles: ['Admin'] },
      'GET /': { scopes: ['Reader'] },
    };
    const routes = routesOf(table);
    const decision = routes(caller(['Reader']), { method: 'GET', path: '/42' });
    expect(decision.allowed).toBe(true);
    expect(policyAllows(policyOf(decision), 'GET/')).toBe(true);
    expect(policyAllows(policyOf(decision), 'POST/')).toBe(false);
    expect(routes(caller(['Reader']), { method: 'GET', path: '/' }).allowed).toBe(true);
    expect(routes(caller(['Reader']), { method: 'POST', path: '/' }).allowed).toBe(false);
  });

  it('list a resource once when several granted routes admit it', () => {
    // GET/items/* and GET/*/* both admit GET /items/special: one Deny. What they admit beyond their
    // routes no route serves, so nothing more is denied.
    const routes = routesOf({
      'GET /items/{id}': { scopes: ['Reader'] },
      'GET /{a}/{b}': { scopes: ['Reader'] },
      'GET /items/special': { roles: ['Admin'] },
    });
    const decision = routes(caller(['Reader']), { method: 'GET', path: '/items/42' });
    expect(decision.allowed).toBe(true);
    expect(policyOf(decision).deny).toEqual(['GET/items/special']);
  });

  it("refuse a granted path a refused method's IAM form covers, only when an Allow reaches that method", () => {
    // The example of docs/permissions-and-caching.md.
    const table = {
      'GET /items/{id}': { scopes: ['Reader'] },
      'GET /items/{id}/parts/{p}': { scopes: ['Reader', 'Parts'] },
      'GET /items/{id}/secret': { roles: ['Admin'] },
    };
    const request = { method: 'GET', path: '/items/1/parts/secret' };
    expect(routesOf(table)(caller(['Reader']), request)).toMatchObject({
      allowed: false,
      denial: { kind: 'policy_deny', deny: { method: 'GET', path: '/items/*/secret' } },
    });
    expect(routesOf(table)(caller(['Parts']), request)).toMatchObject({ allowed: true, denied: [] });
  });

  it('are worked out for each set of grants, not reused from another caller', () => {
    const table = {
      'GET /items/{id}': { scopes: ['Items.Read'] },
      'GET /items/{id}/parts': { scopes: ['Parts.Read'] },
      'DELETE /items/{id}': { scopes: ['Items.Write'] },
    };
    const shared = routesOf(table);
    const callers = [
      caller(['Items.Read']),
      caller(['Parts.Read']),
      caller(['Items.Read', 'Parts.Read']),
      caller(['Items.Write']),
      caller(['Items.Read', 'Items.Write']),
      caller(['Items.Read']),
    ];
    const requests = [
      { method: 'GET', path: '/items/42' },
      { method: 'GET', path: '/items/42/parts' },
      { method: 'DELETE', path: '/items/42' },
    ];
    for (const grantee of callers) {
      for (const request of requests) {
        // A fresh authorizer has no earlier caller's Denies to reuse.
        expect(shared(grantee, request)).toEqual(routesOf(table)(grantee, request));
      }
    }
  });

  it('stay right past the number of grant sets remembered', () => {
    const scopes = Array.from({ length: 9 }, (_, i) => `S${i}`);
    const table: Record<string, unknown> = { 'GET /{id}/x': { roles: ['Admin'] } };
    for (const [i, scope] of scopes.entries()) table[`GET /r${i}/{id}`] = { scopes: [scope] };
    const shared = routesOf(table);
    // 300 sets of grants, more than the 256 kept, then the first ones again.
    const sets = Array.from({ length: 300 }, (_, n) => scopes.filter((_, i) => ((n + 1) >> i) & 1));
    for (const granted of [...sets, ...sets.slice(0, 20)]) {
      const request = { method: 'GET', path: '/r0/7' };
      expect(shared(caller(granted), request)).toEqual(routesOf(table)(caller(granted), request));
    }
  });
});

describe("the Denies of a cached policy when the API's methods are unknown (a SpecRestApi)", () => {
  // No unlisted methods from the construct: the "* /*" default serves whatever no key does, any path.
  const admin = caller([], ['Admin']);

  it('deny each refused route a granted default would admit, by name', () => {
    const routes = specRoutesOf({
      'GET /admin': { roles: ['Admin'] },
      'GET /': { roles: ['Admin'] },
      '* /*': {},
    });
    const decision = routes(caller(['Items.Read']), { method: 'GET', path: '/items' });
    expect(decision).toMatchObject({
      allowed: true,
      denied: [
        { method: 'GET', path: '/admin' },
        { method: 'GET', path: '/' },
      ],
    });
    const policy = policyOf(decision);
    expect(policyAllows(policy, 'GET/anything/else')).toBe(true);
    expect(policyAllows(policy, 'GET/admin')).toBe(false);
    expect(policyAllows(policy, 'GET/')).toBe(false);
    expect(routes(caller(['Items.Read']), { method: 'GET', path: '/admin' })).toMatchObject({
      allowed: false,
      denial: { kind: 'route_rule', route: 'GET /admin' },
    });
    expect(routes(admin, { method: 'GET', path: '/items' })).toMatchObject({ allowed: true, denied: [] });
  });

  it("deny a refused {param} route by name, refusing the default's paths below it too", () => {
    const routes = specRoutesOf({ 'GET /items/{id}': { roles: ['Admin'] }, '* /*': {} });
    const decision = routes(caller(['Items.Read']), { method: 'GET', path: '/other' });
    expect(policyOf(decision).deny).toEqual(['GET/items/*']);
    // Served by the granted default, but the Deny IAM needs for GET /items/{id} covers it.
    expect(routes(caller(['Items.Read']), { method: 'GET', path: '/items/1/2' })).toMatchObject({
      allowed: false,
      denial: { kind: 'policy_deny', deny: { method: 'GET', path: '/items/*' } },
    });
  });

  it('judge the root by an ANY / key before the default, and deny the ANY keys a granted default admits', () => {
    const routes = specRoutesOf({
      '* /': { roles: ['Admin'] },
      '* /admin': { roles: ['Admin'] },
      '* /*': {},
    });
    const reader = caller(['Items.Read']);
    const decision = routes(reader, { method: 'GET', path: '/x' });
    expect(decision.allowed).toBe(true);
    expect(deniedPaths(decision).filter((d) => d.startsWith('GET'))).toEqual(['GET/', 'GET/admin']);
    expect(routes(reader, { method: 'GET', path: '/' })).toMatchObject({
      allowed: false,
      denial: { kind: 'route_rule', route: '* /' },
    });
    expect(routes(reader, { method: 'DELETE', path: '/admin' })).toMatchObject({
      allowed: false,
      denial: { kind: 'route_rule', route: '* /admin' },
    });
  });

  it('deny the root and what a {param} admits beyond itself when the default is refused, never the default by name', () => {
    const routes = specRoutesOf({ 'GET /{id}': {}, '* /*': { roles: ['Admin'] } });
    const decision = routes(caller(['Items.Read']), { method: 'GET', path: '/a' });
    expect(decision.allowed).toBe(true);
    expect(deniedPaths(decision)).toEqual(['GET/', 'GET/*/*']);
  });

  it('deny what a {param} before a literal and a {proxy+} admits beyond itself when the default is refused', () => {
    const routes = specRoutesOf({ 'GET /{x}/a/{proxy+}': {}, '* /*': { roles: ['Admin'] } });
    const decision = routes(caller(['Items.Read']), { method: 'GET', path: '/1/a/2' });
    expect(decision).toMatchObject({ allowed: true, denied: [{ method: 'GET', path: '/*/*/a/*' }] });
    expect(policyAllows(policyOf(decision), 'GET/1/2/a/3')).toBe(false);
    expect(routes(caller(['Items.Read']), { method: 'GET', path: '/1/2/a/3' })).toMatchObject({
      allowed: false,
      denial: { kind: 'route_rule', route: '* /*' },
    });
  });

  it('leave the root alone when the default that serves it is granted', () => {
    const routes = specRoutesOf({ 'GET /{proxy+}': {}, '* /*': {} });
    expect(routes(caller(['Items.Read']), { method: 'GET', path: '/' })).toMatchObject({
      allowed: true,
      denied: [],
    });
  });

  it('name, for a path two refused routes deny alike, the first of them', () => {
    const routes = specRoutesOf({
      'POST /{proxy+}': { roles: ['Admin'] },
      'POST /{id}': { roles: ['Other'] },
      '* /*': {},
    });
    // Both are denied as POST/*, which also covers the root the granted default serves.
    expect(routes(caller(['Items.Read']), { method: 'POST', path: '/' })).toMatchObject({
      allowed: false,
      denial: {
        kind: 'policy_deny',
        deny: { method: 'POST', path: '/*', because: { kind: 'refused_route', route: 'POST /{proxy+}' } },
      },
      denied: [{ method: 'POST', path: '/*' }],
    });
  });

  it('name the granted route whose * a refused default makes the policy cut', () => {
    const routes = specRoutesOf({
      'GET /{x}': {},
      'GET /{proxy+}': {},
      'GET /': {},
      '* /*': { roles: ['Admin'] },
    });
    // Conservative: GET /a/a is GET /{proxy+}'s, but GET/* of GET /{x} reaches the default's paths too.
    expect(routes(caller(['Items.Read']), { method: 'GET', path: '/a/a' })).toMatchObject({
      allowed: false,
      denial: {
        kind: 'policy_deny',
        route: 'GET /{proxy+}',
        deny: { method: 'GET', path: '/*/*', because: { kind: 'beyond_route', route: 'GET /{x}' } },
      },
    });
  });

  it('deny what a granted {param} route admits beyond itself when the default is refused', () => {
    const routes = specRoutesOf({
      'GET /items/{id}': { scopes: ['Items.Read'] },
      '* /*': { roles: ['Admin'] },
    });
    const decision = routes(caller(['Items.Read']), { method: 'GET', path: '/items/1' });
    expect(decision).toMatchObject({ allowed: true, denied: [{ method: 'GET', path: '/items/*/*' }] });
    const policy = policyOf(decision);
    expect(policyAllows(policy, 'GET/items/1')).toBe(true);
    expect(policyAllows(policy, 'GET/items/1/2')).toBe(false);
    expect(routes(caller(['Items.Read']), { method: 'GET', path: '/items/1/2' })).toMatchObject({
      allowed: false,
      denial: { kind: 'route_rule', route: '* /*', byDefault: true },
    });
  });

  it('deny what a granted {param} route admits beyond itself when there is no default', () => {
    // The document may have GET /items/{id}/parts, which no key names: refused fresh, and so in the cache.
    const routes = specRoutesOf({ 'GET /items/{id}': { scopes: ['Items.Read'] } });
    const decision = routes(caller(['Items.Read']), { method: 'GET', path: '/items/1' });
    expect(decision).toMatchObject({ allowed: true, denied: [{ method: 'GET', path: '/items/*/*' }] });
    expect(policyAllows(policyOf(decision), 'GET/items/1/parts')).toBe(false);
    expect(routes(caller(['Items.Read']), { method: 'GET', path: '/items/1/parts' })).toMatchObject({
      allowed: false,
      denial: { kind: 'no_route', request: 'GET /items/1/parts' },
    });
  });
});

describe('what a refusal tells the operator', () => {
  const table = {
    'GET /items/{id}': { scopes: ['Items.Read', 'Items.ReadWrite'], roles: ['Items.Admin'] },
    'DELETE /items/{id}': { roles: ['Items.Admin'], clientApps: [OTHER_APP, APP.replace('1111', '3333')] },
    'POST /items': { clientApps: [OTHER_APP] },
  };

  it('names a token with neither scopes nor roles', () => {
    expect(routesOf(table)(caller([]), { method: 'GET', path: '/items/1' })).toEqual({
      allowed: false,
      reason: 'no_scope_or_role',
      routes: [],
      denied: [],
      denial: { kind: 'no_scope_or_role' },
      missing: 'the token carries neither scp nor roles',
    });
  });

  it('names what the whole API requires', () => {
    const routes = routesOf(table, { scopes: ['Api.Use'], roles: ['Api.Role', 'Other.Role'] });
    expect(routes(caller(['Items.Read']), { method: 'GET', path: '/items/1' })).toEqual({
      allowed: false,
      reason: 'insufficient_permission',
      routes: [],
      denied: [],
      denial: { kind: 'api_rule', needs: { scopes: ['Api.Use'], roles: ['Api.Role', 'Other.Role'] } },
      missing: 'the API requires scope Api.Use, or role Api.Role or Other.Role',
    });
  });

  it("names the caller's client app, or its absence, when the API allows only others", () => {
    const routes = routesOf(table, { scopes: [], roles: [], clientApps: [OTHER_APP] });
    const expected = (app: string) => ({
      allowed: false,
      reason: 'client_app_not_allowed',
      routes: [],
      denied: [],
      denial: { kind: 'api_client_app', needs: [OTHER_APP], had: app === '(none)' ? undefined : app },
      missing: `client app ${app} is not among the API's allowed client apps (${ENV_NAMES.allowedClientApps})`,
    });
    expect(routes(caller(['Items.Read']), { method: 'GET', path: '/items/1' })).toEqual(expected(APP));
    expect(routes(appless(['Items.Read']), { method: 'GET', path: '/items/1' })).toEqual(expected('(none)'));
  });

  it('names a request no route serves', () => {
    const decision = routesOf(table)(caller(['Items.Read']), { method: 'PUT', path: '/items/1' });
    expect(decision).toMatchObject({
      allowed: false,
      reason: 'insufficient_permission',
      missing: 'PUT /items/1 is not in the route permissions',
    });
  });

  it('names the route and each scope and role it takes', () => {
    const decision = routesOf(table)(caller(['Other']), { method: 'GET', path: '/items/1' });
    expect(decision).toMatchObject({
      allowed: false,
      reason: 'insufficient_permission',
      missing:
        'GET /items/1 (route "GET /items/{id}") requires scope Items.Read or Items.ReadWrite, or role Items.Admin',
    });
  });

  it('names the client apps a route admits and the caller’s, or its absence', () => {
    const asApp = routesOf(table)(caller([], ['Items.Admin']), { method: 'DELETE', path: '/items/1' });
    expect(asApp).toMatchObject({
      allowed: false,
      reason: 'client_app_not_allowed',
      missing: `DELETE /items/1 (route "DELETE /items/{id}") admits only the client apps ${OTHER_APP}, ${APP.replace('1111', '3333')}; the token's client app is ${APP}`,
    });
    const noApp = routesOf(table)(appless([], ['Items.Admin']), { method: 'POST', path: '/items' });
    expect(noApp).toMatchObject({
      reason: 'client_app_not_allowed',
      missing: `POST /items (route "POST /items") admits only the client apps ${OTHER_APP}; the token's client app is (none)`,
    });
  });

  it('names the Deny that covers a granted request and the rule of the route it protects', () => {
    // The admin's Allow GET/* admits the refused routes below, which have no narrower Deny: each is denied
    // by its own resource (GET/items/*), and that Deny covers GET /items/a/b, which {proxy+} serves.
    const routes = routesOf({
      'ANY /{proxy+}': { roles: ['Admin'] },
      'GET /items/{id}': { clientApps: [OTHER_APP] },
      'GET /admin/{id}': { roles: ['Root'], clientApps: [OTHER_APP] },
      'DELETE /items/{id}': { scopes: ['Items.Write'] },
    });
    const admin = caller([], ['Admin']);
    const shadowed = (method: string, path: string, deny: string, because: string) =>
      expect(routes(admin, { method, path })).toMatchObject({
        allowed: false,
        reason: 'insufficient_permission',
        missing: `${method} ${path} is granted by "ANY /{proxy+}", but the cached policy must deny ${deny} for ${because}, and that pattern covers this path too: in IAM a * crosses "/"`,
      });
    shadowed('GET', '/items/a/b', 'GET /items/*', 'route "GET /items/{id}", which this caller may not call');
    shadowed('GET', '/admin/a/b', 'GET /admin/*', 'route "GET /admin/{id}", which this caller may not call');
    shadowed(
      'DELETE',
      '/items/a/b',
      'DELETE /items/*',
      'route "DELETE /items/{id}", which this caller may not call',
    );
    expect(routes(admin, { method: 'GET', path: '/other/a/b' })).toMatchObject({ allowed: true });
  });
});

/*
 * What the operator reads in a refusal's `missing` (the decision line's detail, `explain`), held to what
 * docs/troubleshooting.md and docs/permissions-and-caching.md tell them to look for, rather than to the text
 * word for word: each group, route and Deny they must act on named as they wrote it, the setting to change
 * named as the docs name it, and nothing the caller was granted called refused.
 */
describe('what a refusal tells the operator, in the terms the docs use', () => {
  const G1 = '0a0a0a0a-0000-4000-8000-000000000001';
  const G2 = '0a0a0a0a-0000-4000-8000-000000000002';
  const OTHER_GROUP = '0a0a0a0a-0000-4000-8000-000000000003';
  const missingOf = (decision: ReturnType<ReturnType<typeof routesOf>>) =>
    decision.allowed ? expect.unreachable('allowed') : decision.missing;
  /** `id` as a word of its own: the operator can copy each group id out of the line. */
  const namesApart = (text: string, ids: readonly string[]) => {
    for (const id of ids) expect(text).toMatch(new RegExp(`(^|[^0-9a-f-])${id}([^0-9a-f-]|$)`));
  };

  it('names each group a groups-only rule needs, as "requires ... group" with nothing else required', () => {
    const member = { ...caller(['Items.Read']), groups: [OTHER_GROUP] };
    const route = routesOf({ 'GET /reports': { groups: [G1, G2] } })(member, {
      method: 'GET',
      path: '/reports',
    });
    const api = routesOf({ 'GET /reports': {} }, { scopes: [], roles: [], groups: [G1, G2] })(member, {
      method: 'GET',
      path: '/reports',
    });
    for (const decision of [route, api]) {
      expect(decision).toMatchObject({ allowed: false, reason: 'insufficient_permission' });
      const missing = missingOf(decision);
      // docs/troubleshooting.md: `insufficient_permission`, "requires ... group"; the rule requires nothing but
      // the group, so nothing stands between the two words.
      expect(missing).toMatch(/\brequires group\b/);
      namesApart(missing, [G1, G2]);
    }
    expect(missingOf(route)).toContain('GET /reports');
  });

  it('tells group overage apart, naming each group needed and whether the API or a route needs it', () => {
    const overage = { ...caller(['Items.Read']), groupsOverage: true };
    const request = { method: 'GET', path: '/reports' } as const;
    const api = routesOf({ 'GET /reports': {} }, { scopes: [], roles: [], groups: [G1, G2] })(
      overage,
      request,
    );
    const route = routesOf({ 'GET /reports': { scopes: ['Items.Read'], groups: [G1, G2] } })(
      overage,
      request,
    );
    for (const decision of [api, route]) {
      expect(decision).toMatchObject({ allowed: false, reason: 'groups_overage' });
      expect(missingOf(decision)).toMatch(/overage/);
      namesApart(missingOf(decision), [G1, G2]);
    }
    // requiredGroups holds on every route (docs/permissions-and-caching.md): the line names no route to edit.
    expect(missingOf(api)).toMatch(/\bAPI\b/);
    expect(missingOf(api)).not.toMatch(/route|undefined/);
    expect(missingOf(route)).toContain('GET /reports');
  });

  it('says a request was decided by the "* /*" default, and what that rule requires', () => {
    const routes = apiRoutesOf({ 'GET /items': { scopes: ['Items.Read'] }, '* /*': { roles: ['Admin'] } }, [
      'GET /other',
    ]);
    const decision = routes(caller(['Items.Read']), { method: 'GET', path: '/other' });
    expect(decision).toMatchObject({ allowed: false, reason: 'insufficient_permission' });
    expect(missingOf(decision)).toContain('GET /other');
    expect(missingOf(decision)).toContain('* /*');
    expect(missingOf(decision)).toMatch(/\brole Admin\b/);
  });

  it('names a guarded method no key names by its resource path as declared, which no token may call', () => {
    const routes = apiRoutesOf({ 'GET /items': { scopes: ['Items.Read'] } }, ['GET /items/{id}']);
    const decision = routes(caller(['Items.Read']), { method: 'GET', path: '/items/1' });
    expect(decision).toMatchObject({ allowed: false, reason: 'insufficient_permission' });
    expect(missingOf(decision)).toContain('GET /items/1');
    expect(missingOf(decision)).toContain('GET /items/{id}');
    // docs/permissions-and-caching.md: unlistedMethods 'deny' "says that no token may call them".
    expect(missingOf(decision)).toMatch(/no token may call/);
  });

  it("names the Deny that cuts a granted route's * and that route, without calling it refused", () => {
    const routes = specRoutesOf({
      'GET /{x}': {},
      'GET /{proxy+}': {},
      'GET /': {},
      '* /*': { roles: ['Admin'] },
    });
    const reader = caller(['Items.Read']);
    expect(routes(reader, { method: 'GET', path: '/a' })).toMatchObject({ allowed: true });
    const missing = missingOf(routes(reader, { method: 'GET', path: '/a/a' }));
    // docs/troubleshooting.md: `insufficient_permission`, "the policy must deny", naming the Deny.
    expect(missing).toMatch(/policy must deny GET \/\*\/\*/);
    expect(missing).toContain('GET /{proxy+}');
    expect(missing).toContain('GET /{x}');
    expect(missing).not.toMatch(/may not|refused/);
  });

  it('names a refused guest as a guest, and the setting that refuses guests', () => {
    const routes = createRouteAuthorizer({
      required: NO_RULE,
      routePermissions: parseRoutePermissions({ 'GET /items': {} }),
      unlistedMethods: [],
      guestUsers: 'refuse',
    });
    const decision = routes({ ...caller(['Items.Read']), guest: true }, { method: 'GET', path: '/items' });
    expect(decision).toMatchObject({ allowed: false, reason: 'guest_not_allowed' });
    // docs/troubleshooting.md: guest_not_allowed, "AZURE_GUEST_USERS (prop guestUsers) is refuse".
    expect(missingOf(decision)).toMatch(/\bguest/);
    expect(missingOf(decision)).toContain('AZURE_GUEST_USERS');
  });
});
