import { Stack } from 'aws-cdk-lib';
import type { APIGatewayAuthorizerResult } from 'aws-lambda';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { EntraTokenAuthorizer } from '../../infra/entra-token-authorizer.js';
import { createAuthorizer, type DecisionRecord } from '../../lambda/authorizer/authorizer.js';
import { ENV, loadConfig } from '../../lambda/authorizer/config.js';
import type { EntraClaims } from '../../lambda/authorizer/entra.js';
import { ConfigError } from '../../lambda/authorizer/errors.js';
import { compileRoutePath, createRouteAuthorizer } from '../../lambda/authorizer/permissions.js';
import type { TokenVerifier } from '../../lambda/authorizer/verifier.js';
import { testApp } from '../helpers/cdk.js';
import { CLIENT_ID, TENANT } from '../helpers/setup.js';

/** An IAM policy variable, `${aws:username}` once written into a policy. */
const POLICY_VARIABLE = ['$', '{aws:username}'].join('');

/**
 * API Gateway's matching of a policy resource against a method ARN, written from its documentation and
 * not from the production code: `*` matches any run of characters, `/` and `:` included, `?` exactly one
 * character, anything else itself (case-sensitive). Plain dynamic programming, no regular expression.
 */
function iamMatches(pattern: string, text: string): boolean {
  let row = new Array<boolean>(text.length + 1).fill(false);
  row[0] = true;
  for (const p of pattern) {
    const next = new Array<boolean>(text.length + 1).fill(false);
    if (p === '*') {
      let seen = false;
      for (let j = 0; j <= text.length; j++) {
        seen ||= row[j] as boolean;
        next[j] = seen;
      }
    } else {
      for (let j = 1; j <= text.length; j++)
        next[j] = (row[j - 1] as boolean) && (p === '?' || p === text[j - 1]);
    }
    row = next;
  }
  return row[text.length] as boolean;
}

/**
 * The resource path API Gateway serves a request from: a trailing `/` (but the root's) names the same
 * resource as the path without it, while the method ARN keeps the slash.
 */
const servedFrom = (path: string) => (path.length > 1 && path.endsWith('/') ? path.slice(0, -1) : path);

/** The whole policy judged as IAM does: an explicit Deny wins, then any Allow, else an implicit deny. */
function iamAllows(result: APIGatewayAuthorizerResult, methodArn: string): boolean {
  let allowed = false;
  for (const statement of result.policyDocument.Statement) {
    const s = statement as { Effect: string; Action: string | string[]; Resource: string | string[] };
    if (![s.Action].flat().includes('execute-api:Invoke')) continue;
    if (![s.Resource].flat().some((r) => iamMatches(r, methodArn))) continue;
    if (s.Effect === 'Deny') return false;
    allowed = true;
  }
  return allowed;
}

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

/** Two client applications: route rules and AZURE_ALLOWED_CLIENT_APPS may name one of them. */
const APP_A = '11111111-2222-4333-8444-555555555555';
const APP_B = 'b0b0b0b0-2222-4333-8444-555555555555';

const grantee = (scopes: string[], roles: string[], appId = APP_A): EntraClaims => ({
  iss: `https://login.microsoftonline.com/${TENANT}/v2.0`,
  tid: TENANT,
  aud: CLIENT_ID,
  exp: 4_000_000_000,
  ver: '2.0',
  oid: '00000000-0000-4000-8000-00000000a11c',
  sub: 'sub',
  scopes,
  roles,
  appId,
  appOnly: scopes.length === 0,
  name: undefined,
  preferredUsername: undefined,
});

/** The real authorizer with a stub verifier that hands it these grants: the property is about policies. */
function authorizerFor(
  table: Record<string, unknown>,
  required: string,
  claims: EntraClaims,
  allowedClientApps = '',
) {
  const config = loadConfig({
    [ENV.tenantId]: TENANT,
    [ENV.audiences]: CLIENT_ID,
    [ENV.routePermissions]: JSON.stringify(table),
    [ENV.requiredScopes]: required,
    [ENV.allowedClientApps]: allowedClientApps,
  });
  const verifier: TokenVerifier = {
    verify: async () => ({
      claims,
      keyId: 'main-key',
      jwt: {
        header: {},
        payload: { scp: claims.scopes.join(' '), roles: claims.roles },
        headerB64: '',
        payloadB64: '',
        signatureB64: '',
      },
    }),
  };
  const records: DecisionRecord[] = [];
  const handler = createAuthorizer({
    verifier,
    routes: createRouteAuthorizer(config),
    record: (r) => records.push(r),
  });
  return async (methodArn: string) => {
    const result = await handler({ type: 'TOKEN', authorizationToken: 'Bearer a.b.c', methodArn });
    return { result, outcome: records.at(-1)?.decision.outcome };
  };
}

/**
 * A fresh decision as the README's rules state it, written independently of the production code: a token
 * needs a scope or a role, its client app on the allowed list (if any), a required scope (if any), and a
 * route whose method and pattern match the request and whose rule it meets: the rule's client apps (if
 * any) name its app, and it carries one of the rule's scopes or roles (or the rule names none). Paths ending
 * in `/` (not the root) are refused.
 */
function oracleAllows(
  table: Record<string, unknown>,
  required: string,
  allowedClientApps: string,
  claims: EntraClaims,
  [method, path]: [string, string],
): boolean {
  const has = (names: string[] | undefined, held: readonly string[]) =>
    (names ?? []).some((n) => held.includes(n));
  if (claims.scopes.length === 0 && claims.roles.length === 0) return false;
  const apps = allowedClientApps.split(',').filter((a) => a !== '');
  if (apps.length > 0 && !apps.includes(claims.appId as string)) return false;
  if (required !== '' && !claims.scopes.includes(required)) return false;
  if (path.length > 1 && path.endsWith('/')) return false;
  const methods = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS'];
  return Object.entries(table).some(([key, written]) => {
    const rule = written as { scopes?: string[]; roles?: string[]; clientApps?: string[] };
    const [m, p] = key.split(' ') as [string, string];
    if (!(m === '*' ? methods.includes(method) : m === method) || !iamMatches(p, path)) return false;
    if (rule.clientApps !== undefined && !rule.clientApps.includes(claims.appId as string)) return false;
    const named = (rule.scopes?.length ?? 0) + (rule.roles?.length ?? 0) > 0;
    return !named || has(rule.scopes, claims.scopes) || has(rule.roles, claims.roles);
  });
}

const PREFIXES = [
  'arn:aws:execute-api:eu-west-1:123456789012:abc123def4/prod',
  'arn:aws:execute-api:us-east-1:random-account-id:random-api-id/dev',
  'arn:aws:execute-api:us-east-1:000000000000:my-api/local',
];

const patternSegment = fc.constantFrom('a', 'b', 'ab', '*', 'a*', '*b', 'a*b', '.', '');
const routePath = fc
  .array(patternSegment, { maxLength: 3 })
  .map((segments) => `/${segments.join('/')}`)
  // Keys ending in `/` are refused at cold start (API Gateway serves `/a/` from the resource `/a`).
  .filter((path) => path === '/' || !path.endsWith('/'));
const routeMethod = fc.constantFrom('GET', 'POST', 'DELETE', '*');
const rule = fc.constantFrom(
  {},
  { scopes: ['s1'] },
  { roles: ['r1'] },
  { scopes: ['s2'], roles: ['r1'] },
  // Per-route client rules must narrow the cached policy exactly as per-route scope rules do.
  { clientApps: [APP_B] },
  { scopes: ['s1'], clientApps: [APP_A] },
  { roles: ['r1'], clientApps: [APP_A, APP_B] },
);
const routeTable = fc
  .uniqueArray(fc.tuple(routeMethod, routePath), {
    minLength: 1,
    maxLength: 6,
    selector: ([m, p]) => `${m} ${p}`,
  })
  .chain((keys) =>
    fc
      .tuple(...keys.map(() => rule))
      .map((rules) => Object.fromEntries(keys.map(([m, p], i) => [`${m} ${p}`, rules[i]]))),
  );

/** Request paths, odd characters included: `*`, `?` and `$` arrive literally in method ARNs. */
const oddChar = fc.constantFrom('a', 'b', '/', '.', '*', '?', '$', '{', ':', '%2F', 'é', 'A');
const randomPath = fc.array(oddChar, { maxLength: 8 }).map((chars) => `/${chars.join('')}`);
/** A path a declared pattern matches, with each `*` filled in: where a wide Allow would show. */
const pathFrom = (table: Record<string, unknown>) =>
  fc
    .tuple(
      fc.constantFrom(...Object.keys(table)),
      fc.array(fc.array(oddChar, { maxLength: 4 }), { minLength: 4, maxLength: 4 }),
    )
    .map(([key, fills]) => {
      const parts = (key.split(' ')[1] as string).split('*');
      return parts.map((part, i) => (i === 0 ? part : `${fills[(i - 1) % 4]?.join('')}${part}`)).join('');
    });
const requestMethod = fc.constantFrom('GET', 'POST', 'DELETE', 'PUT', 'OPTIONS', 'TRACE', 'get');

const scenario = routeTable.chain((table) => {
  const path = fc.oneof(
    randomPath,
    pathFrom(table),
    pathFrom(table).map((p) => `/admin${p}`),
    pathFrom(table).map((p) => `${p}/`),
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

describe('the policy API Gateway caches for a token', () => {
  it('never admits a request that a decision of its own would refuse', async () => {
    await fc.assert(
      fc.asyncProperty(scenario, async (s) => {
        const { table, required, scopes, roles, app, allowedClientApps, prefix, a, others } = s;
        const decide = authorizerFor(table, required, grantee(scopes, roles, app), allowedClientApps);
        const arnOf = ([method, path]: [string, string]) => `${prefix}/${method}${path}`;
        const cached = await decide(arnOf(a));
        const resources = cached.result.policyDocument.Statement.flatMap((s) => [
          (s as { Resource: string | string[] }).Resource,
        ]).flat();
        for (const resource of resources) {
          expect(resource.startsWith(`${prefix}/`)).toBe(true);
          expect(resource).not.toMatch(/[?$]/);
        }
        // The cached answer is right for the request that produced it ...
        expect(iamAllows(cached.result, arnOf(a))).toBe(cached.outcome === 'allow');
        // ... and admits no other request that a fresh decision would refuse, neither for the request as
        // sent nor for the route API Gateway serves it from.
        const claims = grantee(scopes, roles, app);
        for (const b of others) {
          if (!iamAllows(cached.result, arnOf(b))) continue;
          // The README's rules, judged apart from the code, admit it (client apps, scopes and roles alike).
          expect(oracleAllows(table, required, allowedClientApps, claims, b)).toBe(true);
          const fresh = await decide(arnOf(b));
          const served = await decide(arnOf([b[0], servedFrom(b[1])]));
          expect({
            cachedFrom: arnOf(a),
            admits: arnOf(b),
            fresh: fresh.outcome,
            served: served.outcome,
          }).toEqual({
            cachedFrom: arnOf(a),
            admits: arnOf(b),
            fresh: 'allow',
            served: 'allow',
          });
        }
      }),
      { numRuns: 400 },
    );
  });

  it('admits every request a fresh decision allows, when built for an allowed request', async () => {
    await fc.assert(
      fc.asyncProperty(scenario, async (s) => {
        const { table, required, scopes, roles, app, allowedClientApps, prefix, a, others } = s;
        const decide = authorizerFor(table, required, grantee(scopes, roles, app), allowedClientApps);
        const arnOf = ([method, path]: [string, string]) => `${prefix}/${method}${path}`;
        const cached = await decide(arnOf(a));
        fc.pre(cached.outcome === 'allow');
        for (const b of others) {
          const fresh = await decide(arnOf(b));
          if (fresh.outcome === 'allow') expect(iamAllows(cached.result, arnOf(b))).toBe(true);
        }
      }),
      { numRuns: 200 },
    );
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
    fc.assert(
      fc.property(pattern, text, (p, t) => {
        expect(compileRoutePath(p).test(t)).toBe(iamMatches(p, t));
      }),
      { numRuns: 2000 },
    );
  });
});

describe('route keys with characters that mean something else in a policy', () => {
  const base = { [ENV.tenantId]: TENANT, [ENV.audiences]: CLIENT_ID };

  it.each([
    ['GET /items?id=1', /paths without "\?"/],
    ['GET /item?', /paths without "\?"/],
    [`GET /users/${POLICY_VARIABLE}`, /paths without "\$"/],
    ['* /a$b', /paths without "\$"/],
  ])('refuse %j at cold start, naming the variable', (key, message) => {
    let error: unknown;
    try {
      loadConfig({ ...base, [ENV.routePermissions]: JSON.stringify({ [key]: {} }) });
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).variable).toBe(ENV.routePermissions);
    expect((error as Error).message).toMatch(message);
    expect((error as Error).message).toContain(key);
  });

  it.each(['GET /items?id=1', `GET /users/${POLICY_VARIABLE}`])(
    'refuse %j at synth, through the construct that shares the parser',
    (key) => {
      const stack = new Stack(testApp(), 'S');
      expect(
        () =>
          new EntraTokenAuthorizer(stack, 'Entra', {
            tenantId: TENANT,
            clientId: CLIENT_ID,
            routePermissions: { [key]: {} },
          }),
      ).toThrow(/^EntraTokenAuthorizer: routePermissions keys must be paths without "[?$]"/);
    },
  );
});
