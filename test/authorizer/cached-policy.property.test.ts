import { Stack } from 'aws-cdk-lib';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { EntraTokenAuthorizer } from '../../infra/construct/entra-token-authorizer.js';
import { ENV_NAMES, loadConfig } from '../../lambda/authorizer/config.js';
import { ConfigError } from '../../lambda/authorizer/errors.js';
import { matchesPolicyPath } from '../../lambda/authorizer/permissions.js';
import { testApp } from '../helpers/cdk.js';
import { APP_A, APP_B, authorizerFor, grantee, iamAllows, iamMatches } from '../helpers/policy-oracle.js';
import { CLIENT_ID, TENANT } from '../helpers/setup.js';

/** An IAM policy variable, `${aws:username}` once written into a policy. */
const POLICY_VARIABLE = ['$', '{aws:username}'].join('');

/**
 * The resource path API Gateway serves a request from: a trailing `/` (but the root's) names the same
 * resource as the path without it, while the method ARN keeps the slash.
 */
const servedFrom = (path: string) => (path.length > 1 && path.endsWith('/') ? path.slice(0, -1) : path);

describe('the IAM matcher of these tests', () => {
  it.each([
    ['a/*', 'a/b/c', true],
    ['a/*/c', 'a/b/x/c', true],
    ['a?c', 'abc', true],
    ['a?c', 'ac', false],
    ['*', '', true],
    ['GET/items', 'GET/Items', false],
    ['x*y*z', 'xyz', true],
    ['x*y*z', 'xzy', false],
  ])('matches %j against %j: %s', (pattern, text, expected) => {
    expect(iamMatches(pattern, text)).toBe(expected);
  });
});

const PREFIXES = [
  'arn:aws:execute-api:eu-west-1:123456789012:abc123def4/prod',
  'arn:aws:execute-api:us-east-1:random-account-id:random-api-id/dev',
  'arn:aws:execute-api:us-east-1:000000000000:my-api/local',
];

type Rule = { scopes?: string[]; roles?: string[]; clientApps?: string[] };
type Table = Record<string, Rule>;
/** The caller: its grants and client app, and the API-wide list of allowed client apps (comma-separated). */
type Who = { scopes: string[]; roles: string[]; app: string; allowedClientApps: string };
type Request = [method: string, path: string];

/**
 * The route model, written from API Gateway's and this project's documentation rather than the code: a
 * key `{param}` matches exactly one non-empty segment and `{proxy+}` one or more; a key with `*` is an IAM
 * glob (any run of characters, `/` included). A request is served by the resource path API Gateway
 * selects (its tree walked from the root, a literal child tried before a `{param}` before a `{proxy+}`,
 * then the method named before ANY); if none matches, by the globs that match it.
 */
function servedBy(table: Table, [method, path]: Request): { resource?: string; globs: string[] } {
  const REST = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS'];
  if (!REST.includes(method)) return { globs: [] };
  const keys = Object.keys(table).map((key) => {
    const [m, p] = key.split(' ') as [string, string];
    return { key, method: m.toUpperCase() === 'ANY' ? '*' : m.toUpperCase(), path: p };
  });
  const forMethod = keys.filter((k) => k.method === method || k.method === '*');
  const parts = path === '/' ? [] : path.slice(1).split('/');
  // A table with a `*` key, or an empty segment (which no resource path has), is judged by IAM globs, any key
  // that matches; any other, plain paths included, is routed as API Gateway routes.
  const routed = !keys.some(
    (k) => k.path.includes('*') || (k.path !== '/' && k.path.slice(1).split('/').includes('')),
  );
  const templates = routed ? forMethod : [];
  // Depth-first, the way API Gateway picks a resource: literal, then {param}, then {proxy+}.
  const walk = (i: number, candidates: typeof templates): (typeof templates)[number] | undefined => {
    const segs = (k: (typeof templates)[number]) => (k.path === '/' ? [] : k.path.slice(1).split('/'));
    if (i === parts.length) {
      const here = candidates.filter((k) => segs(k).length === i);
      return here.find((k) => k.method === method) ?? here.find((k) => k.method === '*');
    }
    const part = parts[i] as string;
    if (part === '') return undefined;
    const literal = candidates.filter((k) => segs(k)[i] === part);
    const param = candidates.filter((k) => /^\{[^+]*\}$/.test(segs(k)[i] ?? ''));
    const greedy = candidates.filter((k) => /^\{.*\+\}$/.test(segs(k)[i] ?? ''));
    const greedyHit = () => {
      if (parts.slice(i).includes('')) return undefined;
      return greedy.find((k) => k.method === method) ?? greedy.find((k) => k.method === '*');
    };
    return walk(i + 1, literal) ?? walk(i + 1, param) ?? greedyHit();
  };
  const resource = walk(0, templates);
  if (resource !== undefined) return { resource: resource.key, globs: [] };
  return {
    globs: routed ? [] : forMethod.filter((k) => iamMatches(k.path, path)).map((k) => k.key),
  };
}

/**
 * The rule in docs/permissions-and-caching.md: the rule's client apps (if any) name the caller's app, and it carries a scope or a
 * role the rule names, or any scope or role for a rule that names none.
 */
function ruleAdmits(rule: Rule, { scopes, roles, app }: Who) {
  if (rule.clientApps !== undefined && !rule.clientApps.includes(app)) return false;
  const named = [...(rule.scopes ?? []), ...(rule.roles ?? [])];
  if (named.length === 0) return true;
  return (
    (rule.scopes ?? []).some((s) => scopes.includes(s)) || (rule.roles ?? []).some((r) => roles.includes(r))
  );
}

/** May this caller call this request, as the documentation says? */
function specAllows(table: Table, required: string, who: Who, request: Request) {
  if (who.scopes.length === 0 && who.roles.length === 0) return false;
  const apps = who.allowedClientApps.split(',').filter((a) => a !== '');
  if (apps.length > 0 && !apps.includes(who.app)) return false;
  if (required !== '' && !who.scopes.includes(required)) return false;
  const [, path] = request;
  if (path !== '/' && path.endsWith('/')) return false;
  const { resource, globs } = servedBy(table, request);
  const by = resource !== undefined ? [resource] : globs;
  return by.some((key) => ruleAdmits(table[key] ?? {}, who));
}

/**
 * Is this request matched by the IAM form of a declared route (every `{param}` and `{proxy+}` a `*`) whose
 * rule refuses this caller, on the request's method? Any Deny that keeps that route off a cached Allow
 * also covers such a request.
 */
function refusedRouteCovers(table: Table, who: Who, [method, path]: Request): boolean {
  return Object.entries(table).some(([key, rule]) => {
    const [m, p] = key.split(' ') as [string, string];
    const methodMatches = m === '*' || m.toUpperCase() === 'ANY' || m === method;
    return methodMatches && !ruleAdmits(rule, who) && iamMatches(p.replace(/\{[^}]*\}/g, '*'), path);
  });
}

/** Does API Gateway hold a resource for this request at all (else it answers without the authorizer)? */
const declared = (table: Table, request: Request) => {
  const { resource, globs } = servedBy(table, [request[0], servedFrom(request[1])]);
  return resource !== undefined || globs.length > 0;
};

const segment = fc.constantFrom('a', 'b', 'ab', '{id}', '{key}');
const templatePath = fc
  .tuple(fc.array(segment, { maxLength: 3 }), fc.boolean())
  .map(([segs, greedy]) => `/${[...segs, ...(greedy ? ['{proxy+}'] : [])].join('/')}`)
  .map((p) => (p === '/' ? p : p.replace(/\/$/, '')));
const routeMethod = fc.constantFrom('GET', 'POST', 'DELETE', '*', 'ANY');
const rule = fc.constantFrom<Rule>(
  {},
  { scopes: ['s1'] },
  { roles: ['r1'] },
  { scopes: ['s2'], roles: ['r1'] },
  // Per-route client rules must narrow the cached policy exactly as per-route scope rules do.
  { clientApps: [APP_B] },
  { scopes: ['s1'], clientApps: [APP_A] },
  { roles: ['r1'], clientApps: [APP_A, APP_B] },
);
/** Nested resource paths with {param} and {proxy+}, literal siblings, ANY and the root. */
const routeTable = fc
  .array(fc.tuple(routeMethod, templatePath), { minLength: 1, maxLength: 7 })
  .map((drawn) => {
    const seen = new Set<string>();
    const keys: [string, string][] = [];
    for (const [m, p] of drawn) {
      // One key per method and resource ({id} and {key} name the same one; ANY is *).
      const shape = `${m === 'ANY' ? '*' : m} ${p.replace(/\{[a-z]+\}/g, '{}')}`;
      if (!seen.has(shape)) keys.push([m, p]);
      seen.add(shape);
    }
    return keys;
  })
  .chain((keys) =>
    fc
      .tuple(...keys.map(() => rule))
      .map((rules): Table => Object.fromEntries(keys.map(([m, p], i) => [`${m} ${p}`, rules[i] ?? {}]))),
  );

/** Request paths, odd characters included: `*`, `?` and `$` arrive literally in method ARNs. */
const oddChar = fc.constantFrom('a', 'b', '/', '.', '*', '?', '$', '{', ':', '%2F', 'é', 'A');
const segmentChar = fc.constantFrom('a', 'b', 'ab', '.', '*', '?', '$', '{', ':', '%2F', 'é', 'A');
const randomPath = fc.array(oddChar, { maxLength: 8 }).map((chars) => `/${chars.join('')}`);
/** A path a declared key matches, each parameter or `*` filled in: where a wide Allow would show. */
const pathFrom = (table: Table) =>
  fc
    .tuple(
      fc.constantFrom(...Object.keys(table)),
      fc.array(fc.array(oddChar, { maxLength: 4 }), { minLength: 4, maxLength: 4 }),
      // Mostly the table's own literals: where a literal route and a {param} or {proxy+} meet, API
      // Gateway's precedence decides, and that is where the Denies must be exact.
      fc.array(
        fc.oneof(
          { weight: 3, arbitrary: fc.constantFrom(['a'], ['b'], ['ab']) },
          { weight: 2, arbitrary: fc.array(segmentChar, { minLength: 1, maxLength: 2 }) },
        ),
        { minLength: 4, maxLength: 4 },
      ),
    )
    .map(([key, fills, segs]) => {
      let n = 0;
      const path = (key.split(' ')[1] as string)
        .replace(/\{proxy\+\}/g, () =>
          segs
            .slice(0, 1 + (n++ % 3))
            .map((s) => s.join(''))
            .join('/'),
        )
        .replace(/\{[a-z]+\}/g, () => (segs[n++ % 4] ?? ['x']).join(''));
      const parts = path.split('*');
      return parts.map((part, i) => (i === 0 ? part : `${fills[(i - 1) % 4]?.join('')}${part}`)).join('');
    });
const requestMethod = fc.constantFrom('GET', 'POST', 'DELETE', 'PUT', 'OPTIONS', 'TRACE', 'get');

const scenario = routeTable.chain((table) => {
  const path = fc.oneof(
    randomPath,
    pathFrom(table),
    pathFrom(table).map((p) => `/admin${p}`),
    pathFrom(table).map((p) => `${p}/`),
    fc.tuple(pathFrom(table), pathFrom(table)).map(([p, q]) => (p === '/' ? q : `${p}${q}`)),
  );
  const request = fc.tuple(requestMethod, path);
  return fc.record({
    table: fc.constant(table),
    required: fc.constantFrom('', 's1'),
    scopes: fc.subarray(['s1', 's2']),
    roles: fc.subarray(['r1']),
    app: fc.constantFrom(APP_A, APP_B),
    allowedClientApps: fc.constantFrom('', APP_A, `${APP_A},${APP_B}`),
    prefix: fc.constantFrom(...PREFIXES),
    a: request,
    others: fc.array(request, { minLength: 1, maxLength: 8 }),
  });
});

/** A scenario's caller (as the spec model sees it), its production authorizer, and its method ARNs. */
function prepare(s: typeof scenario extends fc.Arbitrary<infer T> ? T : never) {
  const { table, required, scopes, roles, app, allowedClientApps, prefix } = s;
  const who: Who = { scopes, roles, app, allowedClientApps };
  const decide = authorizerFor(table, required, grantee(scopes, roles, app), allowedClientApps);
  const arnOf = ([method, path]: Request) => `${prefix}/${method}${path}`;
  return { ...s, who, decide, arnOf };
}

describe('the policy API Gateway caches for a token', () => {
  it('never admits a declared request that the documented rules refuse, and is right for its own request', async () => {
    // Oracle: the route model servedBy/specAllows above (docs/permissions-and-caching.md) and the IAM matcher in helpers/policy-oracle.ts, not permissions.ts
    await fc.assert(
      fc.asyncProperty(scenario, async (s) => {
        const { table, required, prefix, a, others, who, decide, arnOf } = prepare(s);
        const cached = await decide(arnOf(a));
        const resources = cached.result.policyDocument.Statement.flatMap((s) => [
          (s as { Resource: string | string[] }).Resource,
        ]).flat();
        for (const resource of resources) {
          expect(resource.startsWith(`${prefix}/`)).toBe(true);
          expect(resource).not.toMatch(/[?$]/);
          expect(resource.length).toBeLessThanOrEqual(512);
        }
        // The cached answer is right for the request that produced it (one API Gateway holds a resource
        // for: an undeclared path with a literal * cannot be denied by name without denying others) ...
        if (declared(table, a)) expect(iamAllows(cached.result, arnOf(a))).toBe(cached.outcome === 'allow');
        // ... and admits no declared request that the rules refuse (client apps, scopes and roles alike),
        // neither as sent nor as API Gateway serves it (a trailing slash dropped). Undeclared paths API
        // Gateway answers itself.
        for (const b of [a, ...others]) {
          if (!declared(table, b) || !iamAllows(cached.result, arnOf(b))) continue;
          expect({
            cachedFrom: arnOf(a),
            admits: arnOf(b),
            asSent: specAllows(table, required, who, b),
            served: specAllows(table, required, who, [b[0], servedFrom(b[1])]),
          }).toEqual({ cachedFrom: arnOf(a), admits: arnOf(b), asSent: true, served: true });
        }
      }),
      { numRuns: 400 },
    );
  });

  it('decides as the documented rules do, refusing more only where the policy must deny a wider pattern', async () => {
    // Oracle: the route model specAllows/refusedRouteCovers above (docs/permissions-and-caching.md), not permissions.ts
    await fc.assert(
      fc.asyncProperty(scenario, async (s) => {
        const { table, required, a, others, who, decide, arnOf } = prepare(s);
        for (const b of [a, ...others]) {
          const fresh = await decide(arnOf(b));
          const expected = specAllows(table, required, who, b);
          if (fresh.outcome === 'allow' || !expected) {
            expect({ request: arnOf(b), allowed: fresh.outcome === 'allow' }).toEqual({
              request: arnOf(b),
              allowed: expected,
            });
            continue;
          }
          // Allowed by the rules, refused: only because one of the policy's own Deny patterns (for a
          // route this caller may not call, its {param} written as a * that crosses "/") covers it.
          const denies = fresh.result.policyDocument.Statement.filter((s) => s.Effect === 'Deny').flatMap(
            (s) => [(s as { Resource: string | string[] }).Resource].flat(),
          );
          expect(fresh.detail).toMatch(/the cached policy must deny/);
          expect(denies.some((r) => r !== arnOf(b) && iamMatches(r, arnOf(b)))).toBe(true);
          // And only where it cannot be helped: a route this caller is refused, written as IAM writes it
          // (each parameter a *), matches this path too, so no Deny covering that route spares it.
          expect({ request: arnOf(b), unavoidable: refusedRouteCovers(table, who, b) }).toEqual({
            request: arnOf(b),
            unavoidable: true,
          });
        }
      }),
      { numRuns: 300 },
    );
  });

  it('admits every request the documented rules allow, when built for a request they allow', async () => {
    // Oracle: the route model specAllows/refusedRouteCovers above (docs/permissions-and-caching.md) and the IAM matcher in helpers/policy-oracle.ts, not a fresh decision of permissions.ts
    await fc.assert(
      fc.asyncProperty(scenario, async (s) => {
        const { table, required, a, others, who, decide, arnOf } = prepare(s);
        // Allowed by the rules, and not under a route this caller is refused (which the policy must deny).
        const allowed = (r: Request) =>
          specAllows(table, required, who, r) && !refusedRouteCovers(table, who, r);
        fc.pre(allowed(a));
        const cached = await decide(arnOf(a));
        expect(cached.outcome).toBe('allow');
        for (const b of others) {
          if (!allowed(b)) continue;
          expect({
            cachedFrom: arnOf(a),
            admits: arnOf(b),
            allowed: iamAllows(cached.result, arnOf(b)),
          }).toEqual({
            cachedFrom: arnOf(a),
            admits: arnOf(b),
            allowed: true,
          });
        }
      }),
      { numRuns: 200 },
    );
  });
});

describe('a path parameter is one segment, in decisions and in cached policies', () => {
  const table: Table = {
    'GET /items/{id}': { scopes: ['Items.Read'] },
    'GET /items/{id}/secret': { roles: ['Items.Admin'] },
  };
  it('refuses GET /items/42/secret to a reader, fresh and from the policy cached for GET /items/42', async () => {
    const decide = authorizerFor(table, '', grantee(['Items.Read'], []));
    const base = PREFIXES[0] as string;
    expect((await decide(`${base}/GET/items/42/secret`)).outcome).toBe('deny');
    const cached = await decide(`${base}/GET/items/42`);
    expect(cached.outcome).toBe('allow');
    expect(iamAllows(cached.result, `${base}/GET/items/42/secret`)).toBe(false);
    expect(iamAllows(cached.result, `${base}/GET/items/7`)).toBe(true);
  });
});

describe('route path matching', () => {
  it('agrees with the IAM matcher on every path (a route pattern holds no ?), at any number of *', () => {
    const pattern = fc
      .array(fc.constantFrom('a', 'b', '/', '*', '.'), { maxLength: 8 })
      .map((c) => `/${c.join('')}`);
    const text = fc
      .array(fc.constantFrom('a', 'b', '/', '*', '.', '?'), { maxLength: 12 })
      .map((c) => `/${c.join('')}`);
    // Oracle: the IAM wildcard matcher in helpers/policy-oracle.ts (IAM's documented * and ?), not matchesPolicyPath
    fc.assert(
      fc.property(pattern, text, (p, t) => {
        expect(matchesPolicyPath(p, t)).toBe(iamMatches(p, t));
      }),
      { numRuns: 2000 },
    );
  });
});

describe('route keys with characters that mean something else in a policy', () => {
  const base = { [ENV_NAMES.tenantId]: TENANT, [ENV_NAMES.audiences]: CLIENT_ID };

  it.each([
    ['GET /items?id=1', /paths without "\?"/],
    ['GET /item?', /paths without "\?"/],
    [`GET /users/${POLICY_VARIABLE}`, /paths without "\$"/],
    ['* /a$b', /paths without "\$"/],
  ])('refuse %j at cold start, naming the variable', (key, message) => {
    let error: unknown;
    try {
      loadConfig({ ...base, [ENV_NAMES.routePermissions]: JSON.stringify({ [key]: {} }) });
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).variable).toBe(ENV_NAMES.routePermissions);
    expect((error as Error).message).toMatch(message);
    expect((error as Error).message).toContain(key);
  });

  it.each([
    ['GET /items?id=1', /^EntraTokenAuthorizer: routePermissions keys must be paths without "\?"/],
    [
      `GET /users/${POLICY_VARIABLE}`,
      /^EntraTokenAuthorizer: routePermissions keys must be paths without "\$"/,
    ],
    // Its policy resource could exceed API Gateway's 512 characters.
    [
      `GET /${'a'.repeat(296)}/{id}/{proxy+}`,
      /^EntraTokenAuthorizer: routePermissions keys must be paths of at most 300 characters/,
    ],
  ])('refuse %j at synth, through the construct that shares the parser', (key, message) => {
    const stack = new Stack(testApp(), 'S');
    expect(
      () =>
        new EntraTokenAuthorizer(stack, 'Entra', {
          tenantId: TENANT,
          clientId: CLIENT_ID,
          routePermissions: { [key]: {} },
        }),
    ).toThrow(message);
  });
});
