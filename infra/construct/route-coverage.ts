import { REST_METHODS, type RoutePermission } from '../../lambda/authorizer/config.js';
import { routeKeyCovers as routeKeyCoversRoute } from '../../lambda/authorizer/permissions.js';
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
 * Does `routeKey` (`"GET /items/*"`, `"* /items"`, `"GET /orders/{id}"`, `"ANY /{proxy+}"`) admit some
 * request to a method `httpMethod` (one of GET, POST, PUT, PATCH, DELETE, HEAD, OPTIONS) on `resourcePath`?
 * The Lambda's own matcher answers, so synth and the decisions never disagree.
 */
export function routeKeyCovers(routeKey: string, httpMethod: string, resourcePath: string): boolean {
  const space = routeKey.indexOf(' ');
  const written = routeKey.slice(0, space).toUpperCase();
  const method = (written === 'ANY' ? '*' : written) as RoutePermission['method'];
  return routeKeyCoversRoute({ method, path: routeKey.slice(space + 1) }, httpMethod, resourcePath);
}

/**
 * The route key of a method declared on a resource path (`GET /items/{id}`): the one place a declared method
 * becomes a key of `AZURE_ROUTE_PERMISSIONS`. The resource path stays as declared: the authorizer matches
 * `{id}` to exactly one segment and `{proxy+}` to one or more, as API Gateway does. `ANY` is the key method `*`.
 */
export function routeKeyFor(httpMethod: string, resourcePath: string): string {
  const method = httpMethod.toUpperCase() === 'ANY' ? '*' : httpMethod.toUpperCase();
  return `${method} ${resourcePath}`;
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
