import type { RouteRule } from '../construct/authorizer-props.js';
import { routeKeyFor } from '../construct/route-coverage.js';

/**
 * The sample API's routes, the one place they and their permissions are declared: the CDK stack builds its
 * resources, methods, backends and `AZURE_ROUTE_PERMISSIONS` from this table, and `npm start` serves what
 * that stack synthesizes (it finds each backend's source here, through the function the stack made).
 * `entry` is the Lambda handler module (relative to the repository root), `permission` its route rule.
 */
export interface RouteDefinition {
  readonly method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  /** The resource path, path parameters included (`/items/{id}`). */
  readonly path: `/${string}`;
  readonly entry: string;
  readonly id: string;
  readonly permission: RouteRule;
}

/** The delegated scope the sample API exposes (Expose an API > Add a scope); the local issuer's default. */
export const SAMPLE_SCOPE = 'access_as_user';

export const SAMPLE_ROUTES: readonly RouteDefinition[] = [
  {
    method: 'GET',
    path: '/whoami',
    entry: 'lambda/whoami/handler.ts',
    id: 'Whoami',
    // Deployed and local alike: a token for the API without this delegated scope gets a 403.
    permission: { scopes: [SAMPLE_SCOPE] },
  },
];

/**
 * The route table in the authorizer's `AZURE_ROUTE_PERMISSIONS` shape, the resource paths as declared:
 * the authorizer matches `{id}` to exactly one segment and `{proxy+}` to one or more, as API Gateway does.
 */
export function routePermissionsOf(routes: readonly RouteDefinition[]): Record<string, RouteRule> {
  return Object.fromEntries(routes.map((r) => [routeKeyFor(r.method, r.path), r.permission]));
}

/** A route rule in words, e.g. `scope access_as_user` or `any valid token`. */
export function describeRule(rule: RouteRule): string {
  const parts = [
    ...(rule.scopes?.length ? [`scope ${rule.scopes.join(' or ')}`] : []),
    ...(rule.roles?.length ? [`app role ${rule.roles.join(' or ')}`] : []),
  ];
  const from = rule.clientApps?.length ? `, from client app ${rule.clientApps.join(' or ')}` : '';
  return `${parts.length === 0 ? 'any valid token' : parts.join(', or ')}${from}`;
}

/**
 * The route table for an HTTP API: keyed by route key (`GET /items/{id}`), which API Gateway puts in the
 * authorizer's event as the route was declared, so the rules match routes exactly.
 */
export function routeKeyPermissionsOf(routes: readonly RouteDefinition[]): Record<string, RouteRule> {
  return Object.fromEntries(routes.map((r) => [`${r.method} ${r.path}`, r.permission]));
}
