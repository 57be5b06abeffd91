import {
  DEFAULT_ROUTE,
  isDefaultRoute,
  parseRoutePermissions,
  REST_METHODS,
  type RouteKey,
  resourceShape,
} from '../../lambda/authorizer/config.js';
import { editDistance } from './nearest.js';

/**
 * The synth-time check of route permissions against the methods an API really has. A key decides exactly
 * the method it names (its resource path as declared, and its method); a method no key names is listed for
 * the Lambda, which gives it the default rule (`* /*`) or refuses it, or fails the synth.
 */

/** A method of the API as API Gateway declares it: `GET`, ..., or `ANY`, on a resource path like `/items/{id}`. */
export interface ApiMethod {
  readonly httpMethod: string;
  readonly resourcePath: string;
}

/**
 * The route key of a method declared on a resource path (`GET /items/{id}`): the one place a declared method
 * becomes a key of `AZURE_ROUTE_PERMISSIONS`. `ANY` is the key method `*`.
 */
export function routeKeyFor(httpMethod: string, resourcePath: string): string {
  const method = httpMethod.toUpperCase() === 'ANY' ? '*' : httpMethod.toUpperCase();
  return `${method} ${resourcePath}`;
}

const show = (method: ApiMethod) => `${method.httpMethod} ${method.resourcePath}`;

/** The methods a declared method serves: `ANY` is each method a route key can name. */
function servedMethods(method: ApiMethod): readonly string[] {
  return method.httpMethod.toUpperCase() === 'ANY' ? REST_METHODS : [method.httpMethod.toUpperCase()];
}

/** Does the key name this method (its resource path, and its method or `*`) for this HTTP method? */
function names(key: RouteKey, method: ApiMethod, httpMethod: string): boolean {
  if (isDefaultRoute(key) || resourceShape(key.path) !== resourceShape(method.resourcePath)) return false;
  return key.method === '*' || key.method === httpMethod;
}

function keysOf(routeKeys: readonly string[]): RouteKey[] {
  return parseRoutePermissions(Object.fromEntries(routeKeys.map((k) => [k, {}])));
}

/** The HTTP methods of a declared method that no key names. */
function unnamedMethods(keys: readonly RouteKey[], method: ApiMethod): string[] {
  return servedMethods(method).filter((h) => !keys.some((key) => names(key, method, h)));
}

/**
 * The guarded methods no key names, as route keys for the Lambda (`AZURE_UNLISTED_METHODS`): a method as
 * declared, or `* /path` for what an `ANY` serves beyond the methods its keys name.
 */
export function unlistedMethods(routeKeys: readonly string[], methods: readonly ApiMethod[]): string[] {
  const keys = keysOf(routeKeys);
  const out = new Set<string>();
  for (const method of methods) {
    if (unnamedMethods(keys, method).length > 0) out.add(routeKeyFor(method.httpMethod, method.resourcePath));
  }
  return [...out];
}

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
 * The route table checked against the methods the authorizer guards: a key that names no method, and
 * (unless `unlisted` is `deny` or the table has a default) a method, or a method `ANY` serves, that no key
 * names. Each problem is one sentence.
 */
export function routeCoverageProblems(
  routeKeys: readonly string[],
  methods: readonly ApiMethod[],
  unlisted: 'error' | 'deny',
): string[] {
  const keys = keysOf(routeKeys);
  const problems: string[] = [];
  for (const key of keys) {
    if (isDefaultRoute(key)) continue;
    if (!methods.some((m) => servedMethods(m).some((h) => names(key, m, h)))) {
      const near = nearestMethod(key.route, methods);
      problems.push(
        `routePermissions key "${key.route}" names no method guarded by this authorizer` +
          (near === undefined ? '' : `; the nearest is ${show(near)}`),
      );
    }
  }
  if (unlisted === 'deny' || keys.some(isDefaultRoute)) return problems;
  for (const method of methods) {
    const missing = unnamedMethods(keys, method);
    if (missing.length === 0) continue;
    const what =
      method.httpMethod.toUpperCase() === 'ANY'
        ? `${show(method)} (for ${missing.join(', ')})`
        : show(method);
    problems.push(
      `method ${what} is guarded by this authorizer but no routePermissions key names it (a key of another resource path never decides it), so every call is a 403: add "${routeKeyFor(method.httpMethod, method.resourcePath)}", or a default "${DEFAULT_ROUTE}" for the methods no key names, or set unlistedMethods: 'deny' if that is meant`,
    );
  }
  return problems;
}
