import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { routePermissionsOf } from '../../infra/sample/routes.js';
import { parseRoutePermissions } from '../../lambda/authorizer/config.js';
import {
  createLiteralIds,
  policyAdmits,
  policySteps,
  routeSteps,
} from '../../lambda/authorizer/path-overlap.js';
import { MAX_POLICY_RESOURCE } from '../../lambda/authorizer/policy.js';
import { type GuardedRoute, guardedRoutes } from '../../lambda/authorizer/route-table.js';
import { APP_A, APP_B, authorizerFor, grantee, iamAllows } from '../helpers/policy-oracle.js';

const BASE = 'arn:aws:execute-api:eu-west-1:123456789012:abc123def4/prod';
/** The longest prefix a real method ARN has: a 128-character stage, the longest partition. */
const LONGEST = `arn:aws-iso-b:execute-api:us-isob-east-1:123456789012:abcdef1234/${'s'.repeat(128)}`;

describe('route keys in API Gateway resource-path syntax', () => {
  const routes = [
    { method: 'GET', path: '/items/{id}', permission: { scopes: ['Items.Read'] } },
    { method: 'GET', path: '/items/{id}/secret', permission: { roles: ['Items.Admin'] } },
  ] as const;

  it('reach the authorizer as declared: {id} stays one segment', () => {
    const table = routePermissionsOf(routes.map((r) => ({ ...r, entry: 'x.ts', id: 'X' })));
    expect(Object.keys(table)).toEqual(['GET /items/{id}', 'GET /items/{id}/secret']);
  });

  it('refuse a reader GET /items/{id}/secret, fresh and from the cached policy of GET /items/{id}', async () => {
    const table = routePermissionsOf(routes.map((r) => ({ ...r, entry: 'x.ts', id: 'X' })));
    // Oracle: docs/permissions-and-caching.md ({id} is one segment) as fixed outcomes, and the IAM matcher in helpers/policy-oracle.ts
    await fc.assert(
      fc.asyncProperty(fc.stringMatching(/^[A-Za-z0-9._~%-]{1,12}$/), async (id) => {
        const reader = authorizerFor(table, '', grantee(['Items.Read'], []));
        expect((await reader(`${BASE}/GET/items/${id}/secret`)).outcome).toBe('deny');
        const cached = await reader(`${BASE}/GET/items/${id}`);
        expect(cached.outcome).toBe('allow');
        expect(iamAllows(cached.result, `${BASE}/GET/items/${id}/secret`)).toBe(false);
        const admin = authorizerFor(table, '', grantee([], ['Items.Admin']));
        expect((await admin(`${BASE}/GET/items/${id}/secret`)).outcome).toBe('allow');
        expect((await admin(`${BASE}/GET/items/${id}`)).outcome).toBe('deny');
      }),
      { numRuns: 50 },
    );
  });

  it('match {proxy+} to one or more segments, below a more specific route', async () => {
    const table = { 'ANY /{proxy+}': { roles: ['Admin'] }, 'GET /whoami': {}, 'GET /items/{id}': {} };
    const user = authorizerFor(table, '', grantee(['user'], []));
    expect((await user(`${BASE}/GET/whoami`)).outcome).toBe('allow');
    expect((await user(`${BASE}/GET/items/1`)).outcome).toBe('allow');
    const cached = await user(`${BASE}/GET/items/1`);
    for (const path of ['/items/1/x', '/other', '/whoami/x', '/items']) {
      expect((await user(`${BASE}/GET${path}`)).outcome).toBe('deny');
      expect(iamAllows(cached.result, `${BASE}/GET${path}`)).toBe(false);
    }
    const admin = authorizerFor(table, '', grantee([], ['Admin']));
    expect((await admin(`${BASE}/DELETE/a/b/c`)).outcome).toBe('allow');
    expect((await admin(`${BASE}/DELETE/`)).outcome).toBe('deny');
  });
});

describe('clientApps on {param} routes', () => {
  const table = {
    'GET /items/{id}': { scopes: ['Items.Read'] },
    'GET /items/{id}/secret': { scopes: ['Items.Read'], clientApps: [APP_B] },
    'DELETE /items/{id}': { roles: ['Items.Admin'] },
  };

  it('refuses the route serving the request as client_app_not_allowed, and denies it in the cached policy', async () => {
    // Oracle: docs/permissions-and-caching.md's clientApps rule as fixed outcomes, and the IAM matcher in helpers/policy-oracle.ts
    await fc.assert(
      fc.asyncProperty(fc.stringMatching(/^[A-Za-z0-9._~-]{1,12}$/), async (id) => {
        const fromA = authorizerFor(table, '', grantee(['Items.Read'], [], APP_A));
        const secret = await fromA(`${BASE}/GET/items/${id}/secret`);
        expect(secret.outcome).toBe('deny');
        expect(secret.detail).toMatch(/admits only the client apps /);
        // The client may call the serving route but lacks the role: not a client-app refusal.
        const del = await fromA(`${BASE}/DELETE/items/${id}`);
        expect(del.outcome).toBe('deny');
        expect(del.detail).toMatch(/requires role Items\.Admin/);
        const cached = await fromA(`${BASE}/GET/items/${id}`);
        expect(cached.outcome).toBe('allow');
        expect(iamAllows(cached.result, `${BASE}/GET/items/${id}/secret`)).toBe(false);
        const fromB = authorizerFor(table, '', grantee(['Items.Read'], [], APP_B));
        expect((await fromB(`${BASE}/GET/items/${id}/secret`)).outcome).toBe('allow');
      }),
      { numRuns: 30 },
    );
  });
});

describe("policyAdmits: does a route's policy path admit a request another route matches", () => {
  const routeOf = (path: string) =>
    guardedRoutes({ routePermissions: parseRoutePermissions({ [`GET ${path}`]: {} }) })[0] as GuardedRoute;
  const admits = (policyOf: string, routePath: string, beyond = false) => {
    const idOf = createLiteralIds();
    const g = routeOf(policyOf);
    const f = routeOf(routePath);
    return policyAdmits(
      { route: g, policy: policySteps(g.segments, idOf) },
      { route: f, steps: routeSteps(f.segments, idOf) },
      beyond,
    );
  };
  it.each([
    ['/items/{id}', '/items/secret', true],
    ['/items/{id}', '/items/{id}/parts', true],
    ['/items/{id}', '/items', false],
    ['/items/{proxy+}', '/items/a/b', true],
    ['/{id}', '/', true],
    ['/items/{id}/parts', '/items/a/b/parts', true],
    ['/items/{id}/parts', '/items/a/parts/x', false],
  ] as const)('%s admits what %s serves: %s', (policy, route, expected) => {
    expect(admits(policy, route)).toBe(expected);
  });

  // The brute-force search, from the syntax the docs give: in a key `*` is any run of characters, `/` included (IAM);
  // in both, `{p}` is one or more characters but `/`, `{p+}` one or more characters. A key covers a method
  // when some path matches both, found by trying every path over the patterns' alphabet up to 9 characters.
  // Each character of a shortest common path is a literal of one pattern or the least a parameter takes,
  // so only pairs whose literals and parameters add up to 9 at most are judged.
  const regexOf = (pattern: string) =>
    new RegExp(
      `^${pattern
        .split(/(\{[^}]*\}|\*)/)
        .map((t) => (t === '*' ? '.*' : t.endsWith('+}') ? '.+' : t.startsWith('{') ? '[^/]+' : t))
        .join('')}$`,
    );
  const witnesses = (() => {
    const out: string[] = [];
    let level = ['/'];
    for (let n = 1; n <= 9; n++) {
      out.push(...level);
      level = level.flatMap((w) => ['a', 'b', '/'].map((c) => w + c));
    }
    return out;
  })();
  const segments = (choices: readonly string[], max: number) =>
    fc.array(fc.constantFrom(...choices), { maxLength: max }).map((s) => `/${s.join('/')}`);
  const resourcePaths = fc.oneof(
    segments(['a', 'b', 'ab', 'ba', '{p}'], 3),
    segments(['a', 'b', '{p}'], 2).map((p) => `${p === '/' ? '' : p}/{proxy+}`),
  );
  const served = (w: string) => w === '/' || (!w.includes('//') && !w.endsWith('/'));

  it('agrees with the syntax on generated resource paths, beyond the route or not', () => {
    // Oracle: a brute-force search of every served path up to 9 characters (regexOf and witnesses above), not policyAdmits
    fc.assert(
      fc.property(resourcePaths, resourcePaths, fc.boolean(), (policyOf, routePath, beyond) => {
        const least = (p: string) => p.replace(/\{[^}]*\}/g, 'x').length;
        if (least(policyOf) + least(routePath) > 9) return;
        const policy = regexOf(policyOf.replace(/\{[^}]*\}/g, '*'));
        const own = regexOf(policyOf);
        const r = regexOf(routePath);
        const expected = witnesses.some(
          (w) => served(w) && policy.test(w) && r.test(w) && (!beyond || (!own.test(w) && w !== '/')),
        );
        // Beyond the route, a `*` of a {param} taking 2+ segments: exact without a {proxy+} after it, and
        // never missing a path (a {proxy+} after it may take the same path back).
        if (!beyond || !policyOf.includes('+')) expect(admits(policyOf, routePath, beyond)).toBe(expected);
        else if (expected) expect(admits(policyOf, routePath, beyond)).toBe(true);
      }),
      { numRuns: 1000 },
    );
  });
});

describe('every policy resource API Gateway receives fits its 512 characters', () => {
  // size 'max': at fast-check's default size no path passed 120 characters, so no ARN reached the limit.
  const longPath = fc
    .array(fc.stringMatching(/^[A-Za-z0-9._~%-]{1,60}$/, { size: 'max' }), {
      minLength: 1,
      maxLength: 30,
      size: 'max',
    })
    .map((segments) => `/${segments.join('/')}`)
    .filter((path) => path.length <= 1200);
  const cases = [
    ['route permissions', { 'GET /items/{id}': { roles: ['Items.Admin'] } }, ['Items.Read'], []],
    ['route permissions, nothing granted', { 'GET /items': { roles: ['x'] } }, ['Items.Read'], []],
    ['stage-wide, a required scope missing', undefined, ['Other'], []],
    ['an app-only token without roles', { 'GET /items': {} }, [], []],
  ] as const;

  it.each(cases)(
    '%s: a long path is denied with resources of at most 512 characters',
    async (_, table, scopes, roles) => {
      // Oracle: API Gateway's documented 512-character Resource limit, and the IAM matcher in helpers/policy-oracle.ts
      await fc.assert(
        fc.asyncProperty(
          longPath,
          fc.constantFrom(BASE, LONGEST),
          fc.constantFrom('DELETE', 'GET'),
          async (path, prefix, method) => {
            const required = table === undefined ? 'Items.Read' : '';
            const decide = authorizerFor(table, required, grantee([...scopes], [...roles]));
            const arn = `${prefix}/${method}${path}`;
            const { result, outcome } = await decide(arn);
            expect(outcome).toBe('deny');
            for (const statement of result.policyDocument.Statement) {
              for (const resource of [(statement as { Resource: string | string[] }).Resource].flat())
                expect(resource.length).toBeLessThanOrEqual(MAX_POLICY_RESOURCE);
            }
            expect(iamAllows(result, arn)).toBe(false);
          },
        ),
        { numRuns: 60 },
      );
    },
  );

  it('takes the longest real method ARN prefix with the longest route', async () => {
    const path = `/${'a'.repeat(297)}/{id}`;
    const decide = authorizerFor({ [`GET ${path}`]: {} }, '', grantee(['s'], []));
    const { result, outcome } = await decide(`${LONGEST}/GET/${'a'.repeat(297)}/x`);
    expect(outcome).toBe('allow');
    const allow = result.policyDocument.Statement[0] as { Resource: string[] };
    expect(allow.Resource[0]?.length).toBeLessThanOrEqual(MAX_POLICY_RESOURCE);
  });
});

describe('the root resource, which a top-level {param} route admits in IAM', () => {
  // `GET/*` admits `GET/` (IAM's * matches nothing), so a caller granted `ANY /{id}` but refused `* /` needs
  // the root denied for every method, not only the one it asked for (found by the cached-policy property).
  it.each(['GET', 'POST', 'DELETE'])(
    'a cached answer for %s / does not admit the root for other methods',
    async (asked) => {
      const table = {
        '* /': { clientApps: [APP_B] },
        'ANY /{id}': { roles: ['r1'] },
        'GET /a/{id}': { roles: ['r1'] },
      };
      const decide = authorizerFor(table, '', grantee([], ['r1'], APP_A));
      const { result, outcome } = await decide(`${BASE}/${asked}/`);
      expect(outcome).toBe('deny');
      for (const method of ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS']) {
        expect(iamAllows(result, `${BASE}/${method}/`)).toBe(false);
        expect(iamAllows(result, `${BASE}/${method}/42`)).toBe(true);
      }
    },
  );
});
