import {
  type AuthorizerConfig,
  isDefaultRoute,
  isPathParameter,
  type PermissionRule,
  REST_METHODS,
  type RouteKey,
} from './config.js';

/**
 * Route selection: which guarded method of a REST API serves a request, as API Gateway chooses it. Every
 * request is judged by the rule of that method's own key, never by a key that merely matches the path.
 */

export type Method = (typeof REST_METHODS)[number];

/** A segment of an API Gateway resource path: literal text, `{param}` (one segment), `{proxy+}` (the rest). */
export type PathSegment =
  | { readonly kind: 'literal'; readonly text: string }
  | { readonly kind: 'param' | 'greedy' };

/**
 * A method the authorizer guards and the rule that decides it. `origin`: a key of the table (`key`), a
 * guarded method no key names (`unlisted`, decided by the default rule or by none), or the default rule
 * itself when the API's methods are unknown (`default`: it serves whatever no other route does).
 */
export interface GuardedRoute extends RouteKey {
  readonly index: number;
  readonly origin: 'key' | 'unlisted' | 'default';
  /** Undefined: no token may call it. */
  readonly rule: PermissionRule | undefined;
  readonly methods: readonly Method[];
  readonly segments: readonly PathSegment[];
}

/** The request as the method ARN names it. */
export interface RouteRequest {
  readonly method: string;
  /** The request path as in the method ARN, starting with `/`. */
  readonly path: string;
}

/** The default route of a table without one, where the API's methods are unknown. */
const NO_DEFAULT: RouteKey = { route: '* /*', method: '*', path: '/*' };

function segmentsOf(path: string): PathSegment[] {
  if (path === '/') return [];
  return path
    .slice(1)
    .split('/')
    .map((text) =>
      isPathParameter(text) ? { kind: text.endsWith('+}') ? 'greedy' : 'param' } : { kind: 'literal', text },
    );
}

/**
 * The routes the authorizer judges: each key, and (when the construct listed them) each guarded method no
 * key names, with the default rule or none. The default key decides only those; without the list, it
 * serves what no other route does, and a table without one gets a default that no token may call: the
 * API may have methods no key names, and a cached policy must deny them as a fresh decision refuses them.
 */
export function guardedRoutes(
  config: Pick<AuthorizerConfig, 'routePermissions'> & Partial<Pick<AuthorizerConfig, 'unlistedMethods'>>,
): GuardedRoute[] {
  const keys = config.routePermissions ?? [];
  const fallback = keys.find(isDefaultRoute);
  const unlisted = config.unlistedMethods;
  const routes: Omit<GuardedRoute, 'index' | 'methods' | 'segments'>[] = [
    ...keys.filter((k) => !isDefaultRoute(k)).map((k) => ({ ...k, origin: 'key' as const, rule: k })),
    ...(unlisted ?? []).map((k) => ({ ...k, origin: 'unlisted' as const, rule: fallback })),
    ...(unlisted === undefined
      ? [{ ...(fallback ?? NO_DEFAULT), origin: 'default' as const, rule: fallback }]
      : []),
  ];
  return routes.map((r, index) => ({
    route: r.route,
    method: r.method,
    path: r.path,
    origin: r.origin,
    rule: r.rule,
    index,
    methods: r.method === '*' ? REST_METHODS : [r.method],
    segments: r.origin === 'default' ? [] : segmentsOf(r.path),
  }));
}

const RANK = { literal: 0, param: 1, greedy: 2 } as const;

/**
 * Which of two routes that both match a request API Gateway serves it from: at the first segment where they
 * differ in kind, a literal before a `{param}` before a `{proxy+}`; then the longer path; on the same
 * resource, the method named before `ANY`. Negative when `a` wins. The default route, no segments and `ANY`,
 * so comes after every route but an `ANY /`, which ties with it and is listed before it.
 */
export function precedence(a: GuardedRoute, b: GuardedRoute): number {
  for (let i = 0; i < Math.min(a.segments.length, b.segments.length); i++) {
    const d = RANK[(a.segments[i] as PathSegment).kind] - RANK[(b.segments[i] as PathSegment).kind];
    if (d !== 0) return d;
  }
  if (a.segments.length !== b.segments.length) return b.segments.length - a.segments.length;
  return (a.method === '*' ? 1 : 0) - (b.method === '*' ? 1 : 0);
}

/** `{param}` is exactly one non-empty segment, `{proxy+}` one or more, as API Gateway routes them. */
function matches(route: GuardedRoute, parts: readonly string[]): boolean {
  if (route.origin === 'default') return true;
  const { segments } = route;
  for (let i = 0; i < segments.length; i++) {
    const segment = segments[i] as PathSegment;
    if (segment.kind === 'greedy') return parts.length > i;
    if (segment.kind === 'literal' && segment.text !== parts[i]) return false;
  }
  return parts.length === segments.length;
}

/** The route API Gateway serves a request from (of a tie, the one listed first); undefined when none does. */
export function selectRoute(
  routes: readonly GuardedRoute[],
  request: RouteRequest,
): GuardedRoute | undefined {
  const method = request.method as Method;
  // A path with an empty segment (`//`) is served by no resource path.
  const parts = request.path === '/' ? [] : request.path.slice(1).split('/');
  if (parts.includes('')) return undefined;
  let best: GuardedRoute | undefined;
  for (const route of routes) {
    if (!route.methods.includes(method) || !matches(route, parts)) continue;
    if (best === undefined || precedence(route, best) < 0) best = route;
  }
  return best;
}
