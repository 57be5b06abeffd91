import type { GuardedRoute, PathSegment } from './route-table.js';

/**
 * Does some request path match both a policy path and a route? Paths are compared a segment at a time: in a
 * policy path from a route (`/items/*` of `/items/{id}`), each `*` stands where a `{param}` or `{proxy+}`
 * stood and takes one or more whole segments of a request API Gateway serves (in IAM a `*` crosses `/`;
 * served paths have no empty segment, and one ending in `/` is denied apart). One pass over the pairs of
 * positions: the cost is the product of the two lengths.
 */

/** A path as steps: a literal's id (>= FIRST_LITERAL), one segment, or more segments (the rest of a `*`). */
export type PathSteps = Int32Array;
const ONE = 0;
/** One more segment of a `*` or `{proxy+}`. */
const MORE = 1;
/** One more segment of a policy `*` that stood for a `{param}`: the path is beyond the route's own. */
const BEYOND = 2;
const FIRST_LITERAL = 3;

/** Literal segments as numbers, shared by every path of one table. */
export function createLiteralIds(): (text: string) => number {
  const ids = new Map<string, number>();
  return (text) => {
    let id = ids.get(text);
    if (id === undefined) {
      id = FIRST_LITERAL + ids.size;
      ids.set(text, id);
    }
    return id;
  };
}

/** What the route itself matches: `{param}` one segment, `{proxy+}` one or more. */
export function routeSteps(segments: readonly PathSegment[], idOf: (text: string) => number): PathSteps {
  return Int32Array.from(
    segments.flatMap((s) =>
      s.kind === 'literal' ? [idOf(s.text)] : s.kind === 'param' ? [ONE] : [ONE, MORE],
    ),
  );
}

/** What the route's policy path (`{param}` and `{proxy+}` as `*`) matches. */
export function policySteps(segments: readonly PathSegment[], idOf: (text: string) => number): PathSteps {
  return Int32Array.from(
    segments.flatMap((s) =>
      s.kind === 'literal' ? [idOf(s.text)] : s.kind === 'param' ? [ONE, BEYOND] : [ONE, MORE],
    ),
  );
}

const repeats = (step: number) => step === MORE || step === BEYOND;

/**
 * Is there a request path both match? With `beyondRoute`, one whose match by `policy` has a `*` of a
 * `{param}` take two segments or more: a path the policy admits beyond its route. `route` has no BEYOND.
 */
export function stepsOverlap(policy: PathSteps, route: PathSteps, beyondRoute = false): boolean {
  const n = policy.length;
  const m = route.length;
  const width = m + 1;
  // Per pair of positions: bit 1 reached, bit 2 reached with a `*` of a `{param}` past its first segment.
  const reached = new Uint8Array((n + 1) * width);
  reached[0] = 1;
  for (let i = 0; i <= n; i++) {
    let rowReached = false;
    for (let j = 0; j <= m; j++) {
      let state = reached[i * width + j] as number;
      if (state === 0) continue;
      rowReached = true;
      const a = policy[i] ?? -1;
      const b = route[j] ?? -1;
      const both = a >= 0 && b >= 0 && (a < FIRST_LITERAL || b < FIRST_LITERAL || a === b);
      const marked = a === BEYOND ? 2 : state;
      // Both repeat: the pair stays here, only its mark may grow (this position is not read again).
      if (both && repeats(a) && repeats(b)) state |= marked;
      else if (both) {
        const at = (repeats(a) ? i : i + 1) * width + (repeats(b) ? j : j + 1);
        reached[at] = (reached[at] as number) | marked;
      }
      if (repeats(a)) reached[(i + 1) * width + j] = (reached[(i + 1) * width + j] as number) | state;
      if (repeats(b)) reached[i * width + j + 1] = (reached[i * width + j + 1] as number) | state;
    }
    // A row reaches only itself and the next: none reached here, none further.
    if (!rowReached) return false;
  }
  return ((reached[n * width + m] as number) & (beyondRoute ? 2 : 3)) !== 0;
}

/**
 * Does a granted route's policy path admit a request `other` would serve (by the paths alone)? The default
 * route matches any path; a policy path `/*` (of `/{id}` or `/{proxy+}`) admits every path, the root `/`
 * too, its `*` matching nothing.
 */
export function policyAdmits(
  granted: { readonly route: GuardedRoute; readonly policy: PathSteps },
  other: { readonly route: GuardedRoute; readonly steps: PathSteps },
  beyondRoute = false,
): boolean {
  if (granted.route.origin === 'default' || other.route.origin === 'default') return true;
  // One `*` segment is the only policy path of two steps whose second repeats.
  const slashStar = granted.policy.length === 2 && repeats(granted.policy[1] as number);
  if (!beyondRoute && slashStar) return true;
  return stepsOverlap(granted.policy, other.steps, beyondRoute);
}
