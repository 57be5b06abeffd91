import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { unlistedMethods } from '../../infra/construct/route-coverage.js';
import { ENV_NAMES, loadConfig, UNLISTED_METHODS_ENV } from '../../lambda/authorizer/config.js';
import { createRouteAuthorizer } from '../../lambda/authorizer/permissions.js';
import { authorizerFor, grantee, iamAllows, iamMatches } from '../helpers/policy-oracle.js';
import { CLIENT_ID, TENANT } from '../helpers/setup.js';

/*
 * Random REST APIs as a user's app declares them (literal siblings, {param}, {proxy+}, ANY, the root), a
 * route table keying some of their methods (and sometimes a "* /*" default), random grants and requests.
 * The oracle is written from API Gateway's documented routing and this project's docs, not from the code:
 * - a request is served by the declared method whose resource path matches it best, walking the resource
 *   tree from the root (a literal child before a {param} before a {proxy+}: {param} one non-empty segment,
 *   {proxy+} one or more), the method named before ANY; a path ending in "/" (the root aside) is refused;
 * - the request is decided by the key that names its method on the served method's resource path, else
 *   the key "*" (ANY: every method) on that path, else the "* /*" default, else no rule at all (a 403);
 * - where the construct cannot list the API's methods (a SpecRestApi, or no AZURE_UNLISTED_METHODS), the
 *   Lambda knows only the table: the request is decided by the key the same routing picks among the keys,
 *   else the default, else no rule (a 403: a method the document has and the table does not name).
 * - a rule admits a token with one of its scopes or roles, or any scope or role when it names none.
 * The production side is what a deployment runs: the construct's list of unlisted methods and the Lambda.
 */

type Rule = { scopes?: string[]; roles?: string[] };
type Declared = { method: string; path: string };
type Request = [method: string, path: string];

const BASE = 'arn:aws:execute-api:eu-west-1:123456789012:abc123def4/prod';
const keyOf = (d: Declared) => `${d.method === 'ANY' ? '*' : d.method} ${d.path}`;
const segs = (path: string) => (path === '/' ? [] : path.slice(1).split('/'));
const isParam = (s: string) => /^\{[^+]*\}$/.test(s);
const isGreedy = (s: string) => /^\{.*\+\}$/.test(s);

/** The declared method API Gateway serves a request from, walking the resource tree. */
function servedBy(api: readonly Declared[], [method, path]: Request): Declared | undefined {
  if (path !== '/' && path.endsWith('/')) return undefined;
  const parts = segs(path);
  if (parts.includes('')) return undefined;
  const forMethod = api.filter((d) => d.method === method || d.method === 'ANY');
  const pick = (here: Declared[]) => here.find((d) => d.method === method) ?? here[0];
  const walk = (i: number, candidates: Declared[]): Declared | undefined => {
    if (candidates.length === 0) return undefined;
    if (i === parts.length) return pick(candidates.filter((d) => segs(d.path).length === i));
    const at = (d: Declared) => segs(d.path)[i] ?? '';
    return (
      walk(
        i + 1,
        candidates.filter((d) => at(d) === parts[i]),
      ) ??
      walk(
        i + 1,
        candidates.filter((d) => isParam(at(d))),
      ) ??
      pick(candidates.filter((d) => isGreedy(at(d)) && segs(d.path).length === i + 1))
    );
  };
  return walk(0, forMethod);
}

function admits(rule: Rule, scopes: readonly string[], roles: readonly string[]): boolean {
  const named = [...(rule.scopes ?? []), ...(rule.roles ?? [])];
  if (named.length === 0) return true;
  return (
    (rule.scopes ?? []).some((s) => scopes.includes(s)) || (rule.roles ?? []).some((r) => roles.includes(r))
  );
}

/** The API as the Lambda knows it: every declared method, or only the keyed ones when it cannot list them. */
interface Known {
  readonly api: readonly Declared[];
  readonly methodsKnown: boolean;
}
const keyedOf = ({ api, methodsKnown }: Known, table: Readonly<Record<string, Rule>>) =>
  methodsKnown ? api : api.filter((d) => table[keyOf(d)] !== undefined);

/** The rule of a declared method for this request's method: its key, its resource's ANY key, the default. */
const ruleOf = (table: Readonly<Record<string, Rule>>, method: string, d: Declared | undefined) =>
  (d === undefined ? undefined : (table[`${method} ${d.path}`] ?? table[`* ${d.path}`])) ?? table['* /*'];

function oracleAllows(
  known: Known,
  table: Readonly<Record<string, Rule>>,
  scopes: readonly string[],
  roles: readonly string[],
  request: Request,
): boolean {
  if (scopes.length === 0 && roles.length === 0) return false;
  if (servedBy(known.api, request) === undefined) return false;
  const rule = ruleOf(table, request[0], servedBy(keyedOf(known, table), request));
  return rule !== undefined && admits(rule, scopes, roles);
}

const segment = fc.constantFrom('a', 'b', '{id}');
const resourcePath = fc
  .tuple(fc.array(segment, { maxLength: 3 }), fc.boolean())
  .map(([s, greedy]) => `/${[...s, ...(greedy ? ['{proxy+}'] : [])].join('/')}`)
  .map((p) => (p.length > 1 && p.endsWith('/') ? p.slice(0, -1) : p));
const rule = fc.constantFrom<Rule>({}, { scopes: ['s1'] }, { roles: ['r1'] }, { scopes: ['s2'] });

const scenario = fc
  .uniqueArray(fc.record({ method: fc.constantFrom('GET', 'POST', 'ANY'), path: resourcePath }), {
    minLength: 1,
    maxLength: 7,
    // One declaration per method and resource, as API Gateway holds them.
    selector: (d) => `${d.method} ${d.path.replace(/\{[^}]*\}/g, '{}')}`,
  })
  .chain((api) =>
    fc.record({
      api: fc.constant(api),
      // One in four as a SpecRestApi: the construct cannot list its methods for the Lambda.
      methodsKnown: fc.constantFrom(true, true, true, false),
      keyed: fc.array(fc.option(rule, { nil: undefined }), { minLength: api.length, maxLength: api.length }),
      fallback: fc.option(rule, { nil: undefined }),
      scopes: fc.subarray(['s1', 's2']),
      roles: fc.subarray(['r1']),
      requests: fc.array(
        fc.tuple(
          fc.constantFrom('GET', 'POST', 'DELETE'),
          fc.tuple(
            fc.constantFrom(...api.map((d) => d.path)),
            fc.array(fc.constantFrom('a', 'b', 'x', 'a/b'), {
              minLength: 4,
              maxLength: 4,
            }),
            fc.constantFrom('', '/x', '/a', '/'),
          ),
        ),
        { minLength: 2, maxLength: 8 },
      ),
    }),
  );

/** A request path from a declared path: each {param} filled, {proxy+} with one or more segments. */
function pathOf([path, fills, tail]: [string, string[], string]): string {
  let n = 0;
  const filled = path
    .replace(/\{proxy\+\}/g, () => fills[n++ % 4] ?? 'x')
    .replace(/\{[a-z]+\}/g, () => (fills[n++ % 4] ?? 'x').split('/')[0] as string);
  return filled === '/' ? tail || '/' : `${filled}${tail}`;
}

/**
 * A conservative refusal IAM cannot avoid: a declared method this caller may not call, its resource path
 * written as IAM writes it (each parameter a `*`, which crosses "/"), matches the request too, so every
 * Deny that keeps that method out of the cached policy also covers this request.
 */
function refusedMethodCovers(
  known: Known,
  table: Readonly<Record<string, Rule>>,
  scopes: readonly string[],
  roles: readonly string[],
  [method, path]: Request,
): boolean {
  // Unknown methods: a refused (or absent) default may serve any path, as far as the Lambda can tell.
  const fallback = table['* /*'];
  if (!known.methodsKnown && (fallback === undefined || !admits(fallback, scopes, roles))) return true;
  return keyedOf(known, table).some((d) => {
    if (d.method !== method && d.method !== 'ANY') return false;
    const rule = ruleOf(table, method, d);
    if (rule !== undefined && admits(rule, scopes, roles)) return false;
    return iamMatches(`${method}${d.path.replace(/\{[^}]*\}/g, '*')}`, `${method}${path}`);
  });
}

const counts = { requests: 0, served: 0, allowed: 0, conservative: 0, methodsUnknown: 0 };
const conservativeTables: string[] = [];

describe('a random API guarded by the construct, judged fresh and through the cached policy', () => {
  afterAll(() => {
    console.info(
      `guarded-api property: ${counts.methodsUnknown} APIs of unknown methods, ${counts.requests} requests, ${counts.served} served, ${counts.allowed} allowed fresh, ${counts.conservative} conservative refusals (a refused method's IAM form covers the path)${conservativeTables.length > 0 ? `, e.g. ${conservativeTables.join(' | ')}` : ''}`,
    );
  });

  it('allows exactly what the documented rules allow, and caches no wider, counting conservative refusals', async () => {
    // Oracle: servedBy/oracleAllows above (API Gateway's documented routing and docs/permissions-and-caching.md) and the IAM matcher in helpers/policy-oracle.ts, not permissions.ts
    await fc.assert(
      fc.asyncProperty(scenario, async ({ api, methodsKnown, keyed, fallback, scopes, roles, requests }) => {
        const known = { api, methodsKnown };
        const table: Record<string, Rule> = {};
        api.forEach((d, i) => {
          const r = keyed[i];
          if (r !== undefined) table[keyOf(d)] = r;
        });
        if (fallback !== undefined) table['* /*'] = fallback;
        const guarded = api.map((d) => ({ httpMethod: d.method, resourcePath: d.path }));
        const env = {
          [ENV_NAMES.routePermissions]: JSON.stringify(table),
          [UNLISTED_METHODS_ENV]: methodsKnown
            ? JSON.stringify(unlistedMethods(Object.keys(table), guarded))
            : '',
        };
        if (!methodsKnown) counts.methodsUnknown++;
        const config = loadConfig({ [ENV_NAMES.tenantId]: TENANT, [ENV_NAMES.audiences]: CLIENT_ID, ...env });
        const fresh = createRouteAuthorizer(config);
        const decide = authorizerFor(table, '', grantee(scopes, roles), '', env);
        const asked: Request[] = requests.map(([m, p]) => [m, pathOf(p)]);
        for (const [i, request] of asked.entries()) {
          counts.requests++;
          const [method, path] = request;
          const decision = fresh({ scopes, roles }, { method, path });
          const expected = oracleAllows(known, table, scopes, roles, request);
          if (servedBy(api, request) === undefined) continue;
          counts.served++;
          if (decision.allowed) counts.allowed++;
          if (expected && !decision.allowed) {
            // Conservative: granted, but a Deny the cached policy must carry covers it too.
            expect(decision.denial.kind).toBe('policy_deny');
            // ... and only where IAM's * leaves no choice: a refused method's IAM form covers it too.
            expect({ request, covered: refusedMethodCovers(known, table, scopes, roles, request) }).toEqual({
              request,
              covered: true,
            });
            counts.conservative++;
            if (conservativeTables.length < 3)
              conservativeTables.push(`${JSON.stringify(table)} ${method} ${path}`);
          } else expect({ request, allowed: decision.allowed }).toEqual({ request, allowed: expected });
          if (i > 0 && !decision.allowed) continue;
          // The policy cached for this request, reused for every other request API Gateway serves.
          const cached = await decide(`${BASE}/${method}${path}`);
          for (const other of asked) {
            if (servedBy(api, other) === undefined) continue;
            const otherFresh = fresh({ scopes, roles }, { method: other[0], path: other[1] }).allowed;
            const admitted = iamAllows(cached.result, `${BASE}/${other[0]}${other[1]}`);
            // Never wider than a fresh decision; and, built for an allowed request, as wide.
            if (admitted) expect({ other, otherFresh }).toEqual({ other, otherFresh: true });
            if (decision.allowed && otherFresh)
              expect({ other, admitted }).toEqual({ other, admitted: true });
          }
        }
      }),
      { numRuns: 400 },
    );
  });
});
