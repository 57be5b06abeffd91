import type { AuthorizerConfig, PermissionRule, RoutePermission } from './config.js';

/** The caller's grants, as far as the token can show them. */
export interface Grantee {
  readonly scopes: readonly string[];
  readonly roles: readonly string[];
}

export interface RouteRequest {
  readonly method: string;
  /** The request path as in the method ARN, starting with `/`. */
  readonly path: string;
}

/**
 * May this caller call this route? `routes` is what the caller may call anywhere on the stage, because API
 * Gateway caches one answer per token and reuses it for every route.
 */
export type Authorization =
  | { readonly allowed: true; readonly routes: 'stage' | readonly RoutePermission[] }
  | { readonly allowed: false; readonly routes: readonly RoutePermission[]; readonly missing: string };

/** The scope-or-role rule: an empty rule admits any valid access token. */
export function satisfies(rule: PermissionRule, grantee: Grantee): boolean {
  if (rule.scopes.length === 0 && rule.roles.length === 0) return true;
  return (
    rule.scopes.some((s) => grantee.scopes.includes(s)) || rule.roles.some((r) => grantee.roles.includes(r))
  );
}

function describe(rule: PermissionRule): string {
  const parts = [];
  if (rule.scopes.length > 0) parts.push(`scope ${rule.scopes.join(' or ')}`);
  if (rule.roles.length > 0) parts.push(`role ${rule.roles.join(' or ')}`);
  return parts.join(', or ');
}

/** `*` matches any run of characters, `/` included, as in an execute-api resource ARN. */
export function compileRoutePath(path: string): RegExp {
  const source = path
    .split('*')
    .map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&'))
    .join('.*');
  return new RegExp(`^${source}$`);
}

export type RouteAuthorizer = (grantee: Grantee, request: RouteRequest) => Authorization;

/** Builds the 403 rules once per container: the required scopes/roles, then the route table. */
export function createRouteAuthorizer(
  config: Pick<AuthorizerConfig, 'required' | 'routePermissions'>,
): RouteAuthorizer {
  const { required, routePermissions } = config;
  const compiled = (routePermissions ?? []).map((route) => ({ route, path: compileRoutePath(route.path) }));
  const matches = (entry: (typeof compiled)[number], request: RouteRequest) =>
    (entry.route.method === '*' || entry.route.method === request.method) && entry.path.test(request.path);

  return (grantee, request) => {
    if (!satisfies(required, grantee)) {
      return { allowed: false, routes: [], missing: `the API requires ${describe(required)}` };
    }
    if (routePermissions === undefined) return { allowed: true, routes: 'stage' };
    const granted = compiled.filter((entry) => satisfies(entry.route, grantee));
    if (granted.some((entry) => matches(entry, request))) {
      return { allowed: true, routes: granted.map((entry) => entry.route) };
    }
    const declared = compiled.filter((entry) => matches(entry, request));
    return {
      allowed: false,
      routes: granted.map((entry) => entry.route),
      missing:
        declared.length === 0
          ? `${request.method} ${request.path} is not in the route permissions`
          : `${request.method} ${request.path} requires ${declared.map((d) => describe(d.route)).join('; or ')}`,
    };
  };
}
