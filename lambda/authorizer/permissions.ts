import {
  type AuthorizerConfig,
  DEFAULTS,
  ENV_NAMES,
  isTrailingSlashPath,
  type PermissionRule,
  type RouteKey,
} from './config.js';
import { type Denial, type DenyReason, denialText, reasonOf } from './denials.js';
import { ConfigError } from './errors.js';
import { denialsFor, MAX_PLAN_STEPS, type PolicyDeny, planDenials, planSteps } from './policy-denials.js';
import {
  type GuardedRoute,
  guardedRoutes,
  type Method,
  type RouteRequest,
  selectRoute,
} from './route-table.js';

/** The caller's grants, as far as the token can show them. */
export interface Grantee {
  readonly scopes: readonly string[];
  readonly roles: readonly string[];
  /** The calling client application: `azp` (v2) or `appid` (v1). */
  readonly appId?: string | undefined;
  /** A guest (B2B) user of the tenant (entra.ts `isGuest`); absent: a member or an application. */
  readonly guest?: boolean;
  /** Group object ids from the token's `groups` claim. */
  readonly groups?: readonly string[];
  /** The groups did not fit in the token (entra.ts): which groups the caller is in is unknown. */
  readonly groupsOverage?: boolean;
}

/** One method and a path as the policy writes them (`GET`, `/items/*`). */
interface PolicyRoute {
  readonly method: Method;
  readonly path: string;
}

/**
 * May this caller call this route? `routes` is what the caller may call anywhere on the stage, because API
 * Gateway caches one answer per token and reuses it for every route; `denied`, what that answer must deny.
 */
type Authorization =
  | { readonly allowed: true; readonly routes: 'stage' }
  | { readonly allowed: true; readonly routes: readonly RouteKey[]; readonly denied: readonly PolicyRoute[] }
  | {
      readonly allowed: false;
      readonly reason: DenyReason;
      readonly denial: Denial;
      /** The denial in words, for the log line. */
      readonly missing: string;
      readonly routes: readonly RouteKey[];
      readonly denied: readonly PolicyRoute[];
    };

/** The rule's client apps, if it names any, include the caller's application id. */
export function clientAllowed(rule: PermissionRule, grantee: Grantee): boolean {
  const apps = rule.clientApps ?? [];
  return apps.length === 0 || (grantee.appId !== undefined && apps.includes(grantee.appId.toLowerCase()));
}

/** The rule's groups, if it names any, include one the token lists. */
export function groupAllowed(rule: PermissionRule, grantee: Grantee): boolean {
  const groups = rule.groups ?? [];
  return groups.length === 0 || groups.some((g) => grantee.groups?.includes(g) === true);
}

/**
 * Does this caller satisfy this rule? Each kind the rule names narrows it: from an allowed client app, a
 * caller in one of its groups, with one of its scopes or roles; an empty rule admits any valid access token
 * that carries a scope or a role.
 */
export function satisfies(rule: PermissionRule, grantee: Grantee): boolean {
  if (!clientAllowed(rule, grantee) || !groupAllowed(rule, grantee)) return false;
  if (rule.scopes.length === 0 && rule.roles.length === 0) return true;
  return (
    rule.scopes.some((s) => grantee.scopes.includes(s)) || rule.roles.some((r) => grantee.roles.includes(r))
  );
}

/**
 * The rule fails only for a group the token cannot show: its groups did not fit (overage). That is a
 * refusal of its own (groups_overage), never a plain missing group.
 */
function blockedByOverage(rule: PermissionRule, grantee: Grantee): boolean {
  return (
    grantee.groupsOverage === true &&
    (rule.groups ?? []).length > 0 &&
    satisfies({ ...rule, groups: [] }, grantee)
  );
}

/**
 * The refusals that hold on every route: a guest where guests are refused, no scope or role at all, or not
 * what the whole API requires.
 */
export function apiWideDenial(
  {
    required,
    guestUsers = DEFAULTS.guestUsers,
  }: Pick<AuthorizerConfig, 'required'> & Partial<Pick<AuthorizerConfig, 'guestUsers'>>,
  grantee: Grantee,
): Denial | undefined {
  if (grantee.guest === true && guestUsers === 'refuse') return { kind: 'guest_not_allowed' };
  // Any app in the tenant can get a token without either (client credentials, no role assigned), so no
  // configuration, not even an empty rule, admits it.
  if (grantee.scopes.length === 0 && grantee.roles.length === 0) return { kind: 'no_scope_or_role' };
  if (blockedByOverage(required, grantee))
    return { kind: 'api_groups_overage', needs: required.groups ?? [] };
  if (satisfies(required, grantee)) return undefined;
  return clientAllowed(required, grantee)
    ? { kind: 'api_rule', needs: required }
    : { kind: 'api_client_app', needs: required.clientApps ?? [], had: grantee.appId };
}

/**
 * Why a route's rule refuses this caller, or undefined when it admits it: REST and HTTP API routes alike.
 * `decided` names the request and the route (`byDefault` when the rule is the `* /*` default's).
 */
export function ruleDenial(
  rule: PermissionRule,
  grantee: Grantee,
  decided: { readonly request: string; readonly route: string; readonly byDefault?: true },
): Denial | undefined {
  if (satisfies(rule, grantee)) return undefined;
  if (!clientAllowed(rule, grantee))
    return { kind: 'route_client_app', ...decided, needs: rule.clientApps ?? [], had: grantee.appId };
  if (blockedByOverage(rule, grantee))
    return { kind: 'route_groups_overage', ...decided, needs: rule.groups ?? [] };
  return { kind: 'route_rule', ...decided, needs: rule };
}

/** Why the route serving a request refuses this caller, or undefined when it admits it. */
function routeDenial(route: GuardedRoute | undefined, grantee: Grantee, request: string): Denial | undefined {
  if (route === undefined || (route.origin === 'default' && route.rule === undefined))
    return { kind: 'no_route', request };
  const { rule } = route;
  if (rule === undefined) return { kind: 'unlisted', request, route: route.route };
  return ruleDenial(rule, grantee, {
    request,
    route: route.route,
    ...(route.origin === 'key' ? {} : { byDefault: true as const }),
  });
}

/**
 * Refuses, at cold start, a table whose Denies would take too long to plan, naming the key that costs most.
 * The construct runs the same check at synth.
 */
export function routeTablePlanProblem(
  routes: readonly GuardedRoute[],
): { readonly key: string; readonly expected: string } | undefined {
  const perRoute = planSteps(routes);
  const total = perRoute.reduce((a, b) => a + b, 0);
  if (total <= MAX_PLAN_STEPS) return undefined;
  const worst = perRoute.indexOf(Math.max(...perRoute));
  return {
    key: routes[worst]?.route ?? '',
    expected: `a table whose cached-policy Denies can be planned at cold start within ${MAX_PLAN_STEPS} steps (it takes ${total}, this key ${perRoute[worst]}): fewer or shorter keys with {param} segments`,
  };
}

/** Distinct sets of granted routes whose Denies are kept (a cleared cache costs one recomputation each). */
const MAX_GRANT_SETS = 256;

function cachedDenials(plan: ReturnType<typeof planDenials>): (isGranted: boolean[]) => PolicyDeny[] {
  const byGrants = new Map<string, PolicyDeny[]>();
  return (isGranted) => {
    const grants = isGranted.map((g) => (g ? '1' : '0')).join('');
    let denied = byGrants.get(grants);
    if (denied === undefined) {
      if (byGrants.size >= MAX_GRANT_SETS) byGrants.clear();
      denied = denialsFor(plan, isGranted);
      byGrants.set(grants, denied);
    }
    return denied;
  };
}

export type RouteAuthorizer = (grantee: Grantee, request: RouteRequest) => Authorization;

type RouteConfig = Pick<AuthorizerConfig, 'required' | 'routePermissions'> &
  Partial<Pick<AuthorizerConfig, 'unlistedMethods' | 'guestUsers'>>;

function refusal(denial: Denial, granted: RouteKey[] = [], denied: PolicyRoute[] = []): Authorization {
  return {
    allowed: false,
    reason: reasonOf(denial),
    denial,
    missing: denialText(denial),
    routes: granted,
    denied,
  };
}

/**
 * Builds the 403 rules once per container: a token must carry a scope or a role, then the required
 * scopes/roles, then the rule of the route API Gateway serves the request from. The policy allows every
 * route granted and denies what those Allows would also admit that this caller may not call; a request
 * such a Deny covers is refused here too, so a cached policy is never wider than a fresh decision.
 */
export function createRouteAuthorizer(config: RouteConfig): RouteAuthorizer {
  // Without a table a token is judged for the whole stage: no route to plan at cold start.
  if (config.routePermissions === undefined) {
    return (grantee) => {
      const apiWide = apiWideDenial(config, grantee);
      return apiWide === undefined ? { allowed: true, routes: 'stage' } : refusal(apiWide);
    };
  }
  return createTableAuthorizer(config);
}

/**
 * The guarded routes of a REST route table, or a ConfigError naming AZURE_ROUTE_PERMISSIONS when planning
 * its Denies would take too long. The configuration step (api-kind.ts) calls it too: the table is planned
 * only when decide.js is built, after the cold start, where a throw would be a 500 per request.
 */
export function plannableRoutes(config: RouteConfig): GuardedRoute[] {
  const routes = guardedRoutes(config);
  const problem = routeTablePlanProblem(routes);
  if (problem !== undefined) throw new ConfigError(ENV_NAMES.routePermissions, problem.key, problem.expected);
  return routes;
}

/** `createRouteAuthorizer` for a route table: its routes planned once, at cold start. */
function createTableAuthorizer(config: RouteConfig): RouteAuthorizer {
  const routes = plannableRoutes(config);
  const denials = cachedDenials(planDenials(routes));

  return (grantee, request) => {
    const apiWide = apiWideDenial(config, grantee);
    if (apiWide !== undefined) return refusal(apiWide);
    const isGranted = routes.map((r) => r.rule !== undefined && satisfies(r.rule, grantee));
    const granted = routes
      .filter((r) => isGranted[r.index])
      .map(({ route, method, path }) => ({ route, method, path }));
    const denied = denials(isGranted);
    const policyDenied = denied.map(({ method, path }) => ({ method, path }));
    const name = `${request.method} ${request.path}`;
    if (isTrailingSlashPath(request.path))
      return refusal({ kind: 'trailing_slash', request: name }, granted, policyDenied);
    const served = selectRoute(routes, request);
    const denial = routeDenial(served, grantee, name);
    if (denial !== undefined) return refusal(denial, granted, policyDenied);
    const covering = denied.find((d) =>
      matchesPolicyPath(`${d.method}${d.path}`, `${request.method}${request.path}`),
    );
    if (covering !== undefined) {
      return refusal(
        { kind: 'policy_deny', request: name, route: (served as GuardedRoute).route, deny: covering },
        granted,
        policyDenied,
      );
    }
    return { allowed: true, routes: granted, denied: policyDenied };
  };
}

/**
 * Does an IAM resource path (`*` any run of characters, `/` included) match a method and path? The literal
 * runs between the `*`s are found left to right, each at its first place after the previous one, which is
 * exact for `*`-only patterns and never backtracks: linear in the path.
 */
export function matchesPolicyPath(pattern: string, path: string): boolean {
  const parts = pattern.split('*');
  if (parts.length === 1) return path === pattern;
  const head = parts[0] as string;
  const tail = parts[parts.length - 1] as string;
  if (path.length < head.length + tail.length || !path.startsWith(head) || !path.endsWith(tail)) return false;
  const end = path.length - tail.length;
  let at = head.length;
  for (const part of parts.slice(1, -1)) {
    if (part === '') continue;
    const found = path.indexOf(part, at);
    if (found === -1 || found + part.length > end) return false;
    at = found + part.length;
  }
  return true;
}
