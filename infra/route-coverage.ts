import { REST_METHODS } from '../lambda/authorizer/config.js';
import { editDistance } from './nearest.js';

/**
 * The synth-time check of route permissions against the methods an API really has. Everything here asks one
 * question through {@link routeKeyCovers}: does this route key admit some request to this method? When the
 * Lambda's own matcher (lambda/authorizer/permissions.ts) learns a new key form, that one function follows it.
 */

/** A method of the API as API Gateway declares it: `GET`, ..., or `ANY`, on a resource path like `/items/{id}`. */
export interface ApiMethod {
  readonly httpMethod: string;
  readonly resourcePath: string;
}

/**
 * One character a path pattern consumes: a literal, any character but `/` (inside a `{param}`), or any
 * character. `repeat` marks a part that may also consume nothing (a `*`, or the rest of a parameter).
 */
type Part =
  | { readonly kind: 'literal'; readonly char: string; readonly repeat: false }
  | { readonly kind: 'segment' | 'any'; readonly repeat: boolean };

/**
 * A path pattern as a sequence of parts. In a route key `*` is any run of characters, `/` included (the
 * execute-api ARN glob); in both keys and resource paths `{name}` is one segment (one or more characters
 * but `/`) and `{name+}` one or more characters, `/` included (API Gateway's greedy path variable).
 */
function parts(pattern: string, glob: boolean): Part[] {
  const out: Part[] = [];
  for (let i = 0; i < pattern.length; i++) {
    const char = pattern[i] as string;
    if (char === '{') {
      const close = pattern.indexOf('}', i);
      if (close > i) {
        const kind = pattern[close - 1] === '+' ? 'any' : 'segment';
        out.push({ kind, repeat: false }, { kind, repeat: true });
        i = close;
        continue;
      }
    }
    if (glob && char === '*') out.push({ kind: 'any', repeat: true });
    else out.push({ kind: 'literal', char, repeat: false });
  }
  return out;
}

/** Is there one character both parts accept? */
function overlap(a: Part, b: Part): boolean {
  if (a.kind === 'literal' && b.kind === 'literal') return a.char === b.char;
  if (a.kind === 'literal') return b.kind === 'any' || a.char !== '/';
  if (b.kind === 'literal') return a.kind === 'any' || b.char !== '/';
  return true;
}

/** Does some path match both patterns? A search over pairs of positions: linear in their product. */
function intersects(a: readonly Part[], b: readonly Part[]): boolean {
  const seen = new Set<number>();
  const stack: [number, number][] = [[0, 0]];
  const width = b.length + 1;
  while (stack.length > 0) {
    const [i, j] = stack.pop() as [number, number];
    if (seen.has(i * width + j)) continue;
    seen.add(i * width + j);
    if (i === a.length && j === b.length) return true;
    const pa = a[i];
    const pb = b[j];
    // A repeating part may be left behind without consuming anything.
    if (pa?.repeat) stack.push([i + 1, j]);
    if (pb?.repeat) stack.push([i, j + 1]);
    if (pa !== undefined && pb !== undefined && overlap(pa, pb)) {
      stack.push([pa.repeat ? i : i + 1, pb.repeat ? j : j + 1]);
    }
  }
  return false;
}

/**
 * Does `routeKey` (`"GET /items/*"`, `"* /items"`, `"GET /orders/{id}"`, `"ANY /{proxy+}"`) admit some
 * request to a method `httpMethod` (one of GET, POST, PUT, PATCH, DELETE, HEAD, OPTIONS) on `resourcePath`?
 * A key's method `*` (or `ANY`) stands for each of those methods.
 */
export function routeKeyCovers(routeKey: string, httpMethod: string, resourcePath: string): boolean {
  const space = routeKey.indexOf(' ');
  const keyMethod = routeKey.slice(0, space).toUpperCase();
  const keyPath = routeKey.slice(space + 1);
  if (keyMethod !== '*' && keyMethod !== 'ANY' && keyMethod !== httpMethod.toUpperCase()) return false;
  return intersects(parts(keyPath, true), parts(resourcePath, false));
}

/**
 * The route key of a method declared on a resource path (`GET /items/{id}`): the one place a declared method
 * becomes a key of `AZURE_ROUTE_PERMISSIONS`. A resource path parameter (`{id}`, `{proxy+}`) becomes `*`:
 * method ARNs carry the request's real path, which `*` matches. API Gateway's `ANY` is the key method `*`.
 */
export function routeKeyFor(httpMethod: string, resourcePath: string): string {
  const method = httpMethod.toUpperCase() === 'ANY' ? '*' : httpMethod.toUpperCase();
  return `${method} ${resourcePath.replace(/\{[^{}/]+\}/g, '*')}`;
}

/** The methods a declared method serves: `ANY` is each of the methods a route key can name. */
function servedMethods(method: ApiMethod): readonly string[] {
  return method.httpMethod.toUpperCase() === 'ANY' ? REST_METHODS : [method.httpMethod.toUpperCase()];
}

const show = (method: ApiMethod) => `${method.httpMethod} ${method.resourcePath}`;

/** The declared method whose `METHOD /path` is the fewest edits away from the key. */
function nearestMethod(routeKey: string, methods: readonly ApiMethod[]): ApiMethod | undefined {
  let best: ApiMethod | undefined;
  let bestDistance = Number.POSITIVE_INFINITY;
  for (const method of methods) {
    const distance = editDistance(routeKey, show(method));
    if (distance < bestDistance) {
      best = method;
      bestDistance = distance;
    }
  }
  return best;
}

/**
 * The route table checked against the methods the authorizer guards: a key no method can match, and (unless
 * `unlisted` is `deny`) a method, or a method `ANY` serves, that no key covers. Each problem is one sentence.
 */
export function routeCoverageProblems(
  routeKeys: readonly string[],
  methods: readonly ApiMethod[],
  unlisted: 'error' | 'deny',
): string[] {
  const problems: string[] = [];
  for (const key of routeKeys) {
    const matched = methods.some((m) => servedMethods(m).some((h) => routeKeyCovers(key, h, m.resourcePath)));
    if (!matched) {
      const near = nearestMethod(key, methods);
      problems.push(
        `routePermissions key "${key}" matches no method guarded by this authorizer` +
          (near === undefined ? '' : `; the nearest is ${show(near)}`),
      );
    }
  }
  if (unlisted === 'deny') return problems;
  for (const method of methods) {
    const missing = servedMethods(method).filter(
      (h) => !routeKeys.some((key) => routeKeyCovers(key, h, method.resourcePath)),
    );
    if (missing.length === 0) continue;
    const what =
      method.httpMethod.toUpperCase() === 'ANY'
        ? `${show(method)} (for ${missing.join(', ')})`
        : show(method);
    problems.push(
      `method ${what} is guarded by this authorizer but no routePermissions key covers it, so every call is a 403: add a rule for it (or a default such as "* /*"), or set unlistedMethods: 'deny' if that is meant`,
    );
  }
  return problems;
}
