import type { RouteRule } from './entra-token-authorizer.js';

/**
 * The sample API's routes: read by the CDK stack and by `npm start`, so the two never drift apart.
 * `entry` is the Lambda handler module (relative to the repository root), `permission` its route rule.
 */
export interface RouteDefinition {
  readonly method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  readonly path: `/${string}`;
  readonly entry: string;
  readonly id: string;
  readonly permission: RouteRule;
}

export const SAMPLE_ROUTES: readonly RouteDefinition[] = [
  { method: 'GET', path: '/whoami', entry: 'lambda/whoami/handler.ts', id: 'Whoami', permission: {} },
];

/** The route table in the authorizer's `AZURE_ROUTE_PERMISSIONS` shape. */
export function routePermissionsOf(routes: readonly RouteDefinition[]): Record<string, RouteRule> {
  return Object.fromEntries(routes.map((r) => [`${r.method} ${r.path}`, r.permission]));
}
