import {
  type AuthorizerConfig,
  type PermissionRule,
  type RouteProblem,
  readPermissionRule,
} from './config.js';
import { type Denial, type DenyReason, denialText, reasonOf } from './denials.js';
import { apiWideDenial, type Grantee, ruleDenial } from './permissions.js';

/**
 * HTTP API route permissions: keyed by the route key API Gateway puts in the event (`GET /items/{id}`,
 * `ANY /files/{proxy+}`, `$default`), matched exactly. The route key names the declared route, never the
 * request's path, so there is no pattern to match and no IAM wildcard anywhere.
 */
export interface RouteKeyPermission extends PermissionRule {
  readonly route: string;
}

/** The methods an HTTP API route key may name; `ANY` is a route of its own, matched as written. */
const HTTP_API_ROUTE_METHODS = ['ANY', 'GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS'] as const;

/** The catch-all route of an HTTP API. */
const DEFAULT_ROUTE_KEY = '$default';

const SEGMENT = /^(?:\{[A-Za-z0-9._-]+\}|[^{}\s/*?]+)$/;
const GREEDY = /^\{[A-Za-z0-9._-]+\+\}$/;

/** Is `key` an HTTP API route key as API Gateway writes it (`GET /items/{id}`, `$default`)? */
export function isHttpRouteKey(key: string): boolean {
  if (key === DEFAULT_ROUTE_KEY) return true;
  const space = key.indexOf(' ');
  const method = key.slice(0, space);
  const path = key.slice(space + 1);
  if (space < 0 || !(HTTP_API_ROUTE_METHODS as readonly string[]).includes(method)) return false;
  if (path === '/') return true;
  if (!path.startsWith('/')) return false;
  const segments = path.slice(1).split('/');
  return segments.every(
    (segment, i) => SEGMENT.test(segment) || (i === segments.length - 1 && GREEDY.test(segment)),
  );
}

/**
 * A route table problem in words, for the Lambda's variable: where (`keys`, `["GET /items"].scopes`, or
 * the whole table), what it must be, what it got.
 */
export function routeProblemText({ at, expected, actual }: RouteProblem): string {
  if (at === '') return expected;
  if (at === 'keys') return `${expected}; got key ${JSON.stringify(actual)}`;
  return `${at} to be ${expected}; got ${JSON.stringify(actual)}`;
}

/**
 * Validates an HTTP API route table (the construct's prop and the Lambda's variable share it), so synth
 * refuses what the cold start would refuse; a problem says where, as the REST table's do.
 */
export function parseRouteKeyPermissions(
  input: unknown,
  fail: (problem: RouteProblem) => Error = (problem) =>
    new Error(`route permissions: expected ${routeProblemText(problem)}`),
): RouteKeyPermission[] {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    throw fail({
      at: '',
      expected: 'a JSON object keyed by HTTP API route keys ("GET /items/{id}", "$default")',
      actual: input,
    });
  }
  const routes: RouteKeyPermission[] = [];
  for (const [route, rule] of Object.entries(input)) {
    if (!isHttpRouteKey(route)) {
      throw fail({
        at: 'keys',
        expected: `HTTP API route keys as declared on the API: "METHOD /path" with the method one of ${HTTP_API_ROUTE_METHODS.join(', ')} (upper case), path parameters as {name} and a last {name+}, or "${DEFAULT_ROUTE_KEY}"`,
        actual: route,
      });
    }
    routes.push(Object.freeze({ route, ...readPermissionRule(route, rule, fail) }));
  }
  return routes;
}

type RouteKeyAuthorization =
  | { readonly allowed: true; readonly detail: string }
  | {
      readonly allowed: false;
      readonly reason: DenyReason;
      readonly denial: Denial;
      /** The denial in words, for the log line. */
      readonly missing: string;
    };

export type RouteKeyAuthorizer = (grantee: Grantee, routeKey: string) => RouteKeyAuthorization;

/** Why this route key's rule refuses the caller, or undefined when it admits it. */
function routeKeyDenial(
  entry: RouteKeyPermission | undefined,
  grantee: Grantee,
  routeKey: string,
): Denial | undefined {
  if (entry === undefined) return { kind: 'no_route', request: `route ${routeKey}` };
  return ruleDenial(entry, grantee, { request: `route ${routeKey}`, route: routeKey });
}

/**
 * The 403 rules of an HTTP API: the token-wide rules of every API kind (a scope or a role, then the
 * required ones), then the rule of exactly this route key. With route keys, an answer holds for one route
 * only, which is why the construct caches per route key.
 */
export function createRouteKeyAuthorizer(
  config: Pick<AuthorizerConfig, 'required'> &
    Partial<Pick<AuthorizerConfig, 'guestUsers'>> & {
      readonly routeKeys: readonly RouteKeyPermission[] | undefined;
    },
): RouteKeyAuthorizer {
  const table = new Map(config.routeKeys?.map((entry) => [entry.route, entry]));
  return (grantee, routeKey) => {
    const denial =
      apiWideDenial(config, grantee) ??
      (config.routeKeys === undefined ? undefined : routeKeyDenial(table.get(routeKey), grantee, routeKey));
    if (denial !== undefined)
      return { allowed: false, reason: reasonOf(denial), denial, missing: denialText(denial) };
    return { allowed: true, detail: config.routeKeys === undefined ? 'stage' : `route ${routeKey}` };
  };
}
