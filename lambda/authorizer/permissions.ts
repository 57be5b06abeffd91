import {
  type AuthorizerConfig,
  ENV,
  isTrailingSlashPath,
  type PermissionRule,
  REST_METHODS,
  type RoutePermission,
} from './config.js';

/** The caller's grants, as far as the token can show them. */
export interface Grantee {
  readonly scopes: readonly string[];
  readonly roles: readonly string[];
  /** The calling client application: `azp` (v2) or `appid` (v1). */
  readonly appId?: string | undefined;
}

export interface RouteRequest {
  readonly method: string;
  /** The request path as in the method ARN, starting with `/`. */
  readonly path: string;
}

/** Why a valid token is refused (403). */
export type DenyReason = 'insufficient_permission' | 'no_scope_or_role' | 'client_app_not_allowed';

/**
 * May this caller call this route? `routes` is what the caller may call anywhere on the stage, because API
 * Gateway caches one answer per token and reuses it for every route.
 */
export type Authorization =
  | { readonly allowed: true; readonly routes: 'stage' | readonly RoutePermission[] }
  | {
      readonly allowed: false;
      readonly reason: DenyReason;
      readonly routes: readonly RoutePermission[];
      readonly missing: string;
    };

/** The rule's client apps, if it names any, include the caller's application id. */
export function clientAllowed(rule: PermissionRule, grantee: Grantee): boolean {
  const apps = rule.clientApps ?? [];
  return apps.length === 0 || (grantee.appId !== undefined && apps.includes(grantee.appId.toLowerCase()));
}

/**
 * The scope-or-role rule, from an allowed client app: an empty rule admits any valid access token that
 * carries a scope or a role.
 */
export function satisfies(rule: PermissionRule, grantee: Grantee): boolean {
  if (!clientAllowed(rule, grantee)) return false;
  if (rule.scopes.length === 0 && rule.roles.length === 0) return true;
  return (
    rule.scopes.some((s) => grantee.scopes.includes(s)) || rule.roles.some((r) => grantee.roles.includes(r))
  );
}

export function describe(rule: PermissionRule): string {
  const parts = [];
  if (rule.scopes.length > 0) parts.push(`scope ${rule.scopes.join(' or ')}`);
  if (rule.roles.length > 0) parts.push(`role ${rule.roles.join(' or ')}`);
  return parts.join(', or ');
}

/** A route path compiled once: does a request path match it? */
export interface RoutePathMatcher {
  test(path: string): boolean;
}

/**
 * `*` matches any run of characters, `/` included, as in an execute-api ARN; everything else is literal.
 * The literal runs between the `*`s are found left to right, each at its first place after the previous
 * one, which is exact for `*`-only globs and never backtracks: the cost is linear in the request path for
 * a given pattern, however many `*`s it has.
 */
export function compileRoutePath(pattern: string): RoutePathMatcher {
  const parts = pattern.split('*');
  if (parts.length === 1) return { test: (path) => path === pattern };
  const head = parts[0] as string;
  const tail = parts[parts.length - 1] as string;
  const middle = parts.slice(1, -1).filter((part) => part !== '');
  return {
    test(path) {
      if (!path.startsWith(head) || !path.endsWith(tail)) return false;
      const end = path.length - tail.length;
      let at = head.length;
      for (const part of middle) {
        const found = path.indexOf(part, at);
        if (found === -1 || found + part.length > end) return false;
        at = found + part.length;
      }
      return at <= end;
    },
  };
}

const REST_METHOD_SET: ReadonlySet<string> = new Set(REST_METHODS);

export type RouteAuthorizer = (grantee: Grantee, request: RouteRequest) => Authorization;

/**
 * Builds the 403 rules once per container: a token must carry a scope or a role, then the required
 * scopes/roles, then the route table.
 */
export function createRouteAuthorizer(
  config: Pick<AuthorizerConfig, 'required' | 'routePermissions'>,
): RouteAuthorizer {
  const { required, routePermissions } = config;
  const compiled = (routePermissions ?? []).map((route) => ({ route, path: compileRoutePath(route.path) }));
  // A `*` route stands for exactly the methods its policy resources list, so the two never disagree.
  const matches = (entry: (typeof compiled)[number], request: RouteRequest) =>
    (entry.route.method === '*'
      ? REST_METHOD_SET.has(request.method)
      : entry.route.method === request.method) && entry.path.test(request.path);

  return (grantee, request) => {
    if (grantee.scopes.length === 0 && grantee.roles.length === 0) {
      // Any app in the tenant can get such a token for the API (client credentials, no role assigned), so
      // no configuration, not even an empty rule, admits it.
      return {
        allowed: false,
        reason: 'no_scope_or_role',
        routes: [],
        missing: 'the token carries neither scp nor roles',
      };
    }
    if (!satisfies(required, grantee)) {
      return clientAllowed(required, grantee)
        ? {
            allowed: false,
            reason: 'insufficient_permission',
            routes: [],
            missing: `the API requires ${describe(required)}`,
          }
        : {
            allowed: false,
            reason: 'client_app_not_allowed',
            routes: [],
            missing: `client app ${grantee.appId ?? '(none)'} is not among the API's allowed client apps (${ENV.allowedClientApps})`,
          };
    }
    if (routePermissions === undefined) return { allowed: true, routes: 'stage' };
    const granted = compiled.filter((entry) => satisfies(entry.route, grantee));
    if (isTrailingSlashPath(request.path)) {
      return {
        allowed: false,
        reason: 'insufficient_permission',
        routes: granted.map((entry) => entry.route),
        missing: `${request.method} ${request.path} ends in "/", which route permissions refuse: API Gateway serves it from the resource without the slash, which a pattern such as /items/* would otherwise admit`,
      };
    }
    if (granted.some((entry) => matches(entry, request))) {
      return { allowed: true, routes: granted.map((entry) => entry.route) };
    }
    const declared = compiled.filter((entry) => matches(entry, request));
    if (declared.length > 0 && !declared.some((d) => clientAllowed(d.route, grantee))) {
      return {
        allowed: false,
        reason: 'client_app_not_allowed',
        routes: granted.map((entry) => entry.route),
        missing: `${request.method} ${request.path} admits only the client apps ${[...new Set(declared.flatMap((d) => d.route.clientApps ?? []))].join(', ')} (route clientApps); the token's client app is ${grantee.appId ?? '(none)'}`,
      };
    }
    return {
      allowed: false,
      reason: 'insufficient_permission',
      routes: granted.map((entry) => entry.route),
      missing:
        declared.length === 0
          ? `${request.method} ${request.path} is not in the route permissions`
          : `${request.method} ${request.path} requires ${declared.map((d) => describe(d.route)).join('; or ')}`,
    };
  };
}
