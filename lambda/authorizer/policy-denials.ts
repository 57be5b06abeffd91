import { policyPathOf, resourceShape } from './config.js';
import {
  createLiteralIds,
  type PathSteps,
  policyAdmits,
  policySteps,
  routeSteps,
  stepsOverlap,
} from './path-overlap.js';
import { type GuardedRoute, type Method, precedence, selectRoute } from './route-table.js';

/**
 * Policy synthesis: the Denies that keep a cached policy within what a fresh decision allows. API Gateway
 * caches one policy per token and reuses it for every route; each granted route is allowed by its policy
 * path (`GET /items/{id}` as `GET/items/*`), and in IAM that `*` also admits `/items/42/secret`. So every
 * route such a path admits that the caller may not call is denied, by its own policy path or, where that
 * would also deny the granted route, by the paths the granted one admits beyond itself (`GET/items/*\/*`).
 */

/** A Deny the policy carries, and why: the route it keeps out, or the granted route whose excess it cuts. */
export interface PolicyDeny {
  readonly method: Method;
  readonly path: string;
  readonly because:
    | { readonly kind: 'refused_route'; readonly route: string }
    | { readonly kind: 'beyond_route'; readonly route: string };
}

/** What each route's policy path may reach besides the route, fixed by the table: computed once per container. */
interface DenialPlan {
  readonly routes: readonly GuardedRoute[];
  /** Routes that outrank the route on a request it matches itself (or the root, for a policy path `/*`). */
  readonly outranks: readonly (readonly number[])[];
  /** Routes with a request the policy path admits beyond the route (a `*` of a `{param}` taking 2+ segments). */
  readonly beyond: readonly (readonly number[])[];
}

/**
 * The work planning a table takes, in pairs of path positions compared, past which a cold start is refused:
 * at most 300 ms on a developer's machine, about a second at 256 MB (see `npm run bench`).
 */
export const MAX_PLAN_STEPS = 40_000_000;

const endsGreedy = (route: GuardedRoute) => route.segments.at(-1)?.kind === 'greedy';

/**
 * Does the policy path admit paths the route does not? Only where a `*` of a `{param}` may take two segments
 * or more: not when nothing but parameters and a last `{proxy+}` follow it, which take the same paths back.
 */
function hasExcess(route: GuardedRoute): boolean {
  const first = route.segments.findIndex((s) => s.kind === 'param');
  if (first < 0) return false;
  return !endsGreedy(route) || route.segments.slice(first).some((s) => s.kind === 'literal');
}

const shareMethod = (a: GuardedRoute, b: GuardedRoute) => a.methods.some((m) => b.methods.includes(m));
/** A policy path `/*` (of `/{id}` or `/{proxy+}`, or the default's): it admits the root too. */
const isSlashStar = (route: GuardedRoute) => policyPathOf(route.path) === '/*';

/**
 * The planning work per route: the pairs of path positions compared for the routes it shares a method with.
 * The table's total is what MAX_PLAN_STEPS bounds.
 */
export function planSteps(routes: readonly GuardedRoute[]): number[] {
  const size = (r: GuardedRoute) => 2 * r.segments.length + 1;
  return routes.map((g) => {
    const perPosition = size(g) * (hasExcess(g) ? 3 : 2);
    return routes.reduce((sum, f) => (f === g || !shareMethod(g, f) ? sum : sum + perPosition * size(f)), 0);
  });
}

export function planDenials(routes: readonly GuardedRoute[]): DenialPlan {
  const idOf = createLiteralIds();
  const steps: PathSteps[] = routes.map((r) => routeSteps(r.segments, idOf));
  const policies: PathSteps[] = routes.map((r) => policySteps(r.segments, idOf));
  const outranks: number[][] = [];
  const beyond: number[][] = [];
  for (const g of routes) {
    const granted = { route: g, policy: policies[g.index] as PathSteps };
    const other = (f: GuardedRoute) => ({ route: f, steps: steps[f.index] as PathSteps });
    const reach = routes.filter((f) => f !== g && shareMethod(g, f) && policyAdmits(granted, other(f)));
    // The default route matches every path: each other route outranks it on the requests it serves.
    const outranking = reach.filter(
      (f) =>
        (isSlashStar(g) && f.segments.length === 0) ||
        (precedence(f, g) < 0 &&
          (g.origin === 'default' || stepsOverlap(steps[g.index] as PathSteps, steps[f.index] as PathSteps))),
    );
    outranks.push(outranking.map((f) => f.index));
    beyond.push(
      hasExcess(g) ? reach.filter((f) => policyAdmits(granted, other(f), true)).map((f) => f.index) : [],
    );
  }
  return { outranks, beyond, routes };
}

/** For each `{param}` of a route, its policy path with that `*` taking two segments or more. */
function beyondPaths(route: GuardedRoute): string[] {
  const parts = policyPathOf(route.path).split('/');
  return route.segments.flatMap((s, i) =>
    s.kind === 'param' ? [[...parts.slice(0, i + 1), '*', ...parts.slice(i + 1)].join('/')] : [],
  );
}

/** The routes, and whether each is granted: what the Denies of one caller are worked out from. */
interface Grants {
  readonly plan: DenialPlan;
  readonly isGranted: readonly boolean[];
  /** Does this route serve requests of this method? On one resource the method named does, not its `*`. */
  readonly serves: (route: GuardedRoute, method: Method) => boolean;
}

/**
 * The Denies one granted route needs for one method. Its policy path admits its own requests, served by it
 * or by a route that outranks it, and, for a `{param}`, paths beyond it. When no granted route lies beyond
 * it, deny the excess by pattern (`GET/items/*\/*`) and the refused routes that outrank it by name;
 * otherwise deny by name every refused route it reaches. The default route is never denied by name (its
 * policy path is the whole stage): its requests lie beyond every other route, so the excess patterns and
 * the root cover them.
 */
function denialsOfRoute(grants: Grants, g: GuardedRoute, method: Method): PolicyDeny[] {
  const { plan, isGranted, serves } = grants;
  const { routes } = plan;
  const onMethod = (ids: readonly number[]) =>
    ids.map((i) => routes[i] as GuardedRoute).filter((f) => serves(f, method));
  const outranking = onMethod(plan.outranks[g.index] as number[]).filter((f) => !isGranted[f.index]);
  const beyond = onMethod(plan.beyond[g.index] as number[]);
  const beyondRefused = beyond.filter((f) => !isGranted[f.index]);
  const narrow = beyondRefused.length > 0 && !endsGreedy(g) && !beyond.some((f) => isGranted[f.index]);
  const out: PolicyDeny[] = [];
  for (const f of narrow ? outranking : [...outranking, ...beyondRefused]) {
    if (f.origin === 'default') continue;
    out.push({ method, path: policyPathOf(f.path), because: { kind: 'refused_route', route: f.route } });
  }
  if (narrow || beyondRefused.some((f) => f.origin === 'default')) {
    for (const path of beyondPaths(g))
      out.push({ method, path, because: { kind: 'beyond_route', route: g.route } });
  }
  // Without the API's methods, the default serves the root when no root route serves this method.
  const root = selectRoute(routes, { method, path: '/' });
  if (isSlashStar(g) && root?.origin === 'default' && !isGranted[root.index]) {
    out.push({ method, path: '/', because: { kind: 'refused_route', route: root.route } });
  }
  return out;
}

/** The Denies of one set of granted routes, each policy resource once. */
export function denialsFor(plan: DenialPlan, isGranted: readonly boolean[]): PolicyDeny[] {
  const { routes } = plan;
  const named = new Set(routes.map((r) => `${r.method} ${resourceShape(r.path)}`));
  const serves = (f: GuardedRoute, method: Method) =>
    f.methods.includes(method) && (f.method !== '*' || !named.has(`${method} ${resourceShape(f.path)}`));
  const out = new Map<string, PolicyDeny>();
  for (const g of routes) {
    if (!isGranted[g.index]) continue;
    for (const method of g.methods) {
      // A `*` route's Allow lists every method, those its resource names apart included: each needs its Denies.
      for (const deny of denialsOfRoute({ plan, isGranted, serves }, g, method)) {
        const key = `${deny.method} ${deny.path}`;
        if (!out.has(key)) out.set(key, deny);
      }
    }
  }
  return [...out.values()];
}
