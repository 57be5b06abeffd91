import {
  type AuthorizerConfig,
  DEFAULTS,
  ENV_NAMES,
  isGlobPath,
  isTrailingSlashPath,
  PATH_PARAMETER,
  type PermissionRule,
  policyPathOf,
  REST_METHODS,
  type RoutePermission,
} from './config.js';

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

export interface RouteRequest {
  readonly method: string;
  /** The request path as in the method ARN, starting with `/`. */
  readonly path: string;
}

/** Why a valid token is refused (403). */
export type DenyReason =
  | 'insufficient_permission'
  | 'no_scope_or_role'
  | 'client_app_not_allowed'
  | 'guest_not_allowed'
  | 'groups_overage';

/**
 * May this caller call this route? `routes` is what the caller may call anywhere on the stage, because API
 * Gateway caches one answer per token and reuses it for every route.
 */
export type Authorization =
  | { readonly allowed: true; readonly routes: 'stage' }
  | {
      readonly allowed: true;
      readonly routes: readonly RoutePermission[];
      readonly denied: readonly PolicyRoute[];
    }
  | {
      readonly allowed: false;
      readonly reason: DenyReason;
      readonly routes: readonly RoutePermission[];
      readonly denied: readonly PolicyRoute[];
      readonly missing: string;
    };

/** One method and a path as the policy writes them (`GET`, `/items/*`). */
export interface PolicyRoute {
  readonly method: (typeof REST_METHODS)[number];
  readonly path: string;
}

/** The rule's client apps, if it names any, include the caller's application id. */
export function clientAllowed(rule: PermissionRule, grantee: Grantee): boolean {
  const apps = rule.clientApps ?? [];
  return apps.length === 0 || (grantee.appId !== undefined && apps.includes(grantee.appId.toLowerCase()));
}

/** The rule's groups, if it names any, include one the token lists. */
function groupAllowed(rule: PermissionRule, grantee: Grantee): boolean {
  const groups = rule.groups ?? [];
  return groups.length === 0 || groups.some((g) => grantee.groups?.includes(g) === true);
}

/**
 * One rule for every kind: each kind the rule names narrows it. From an allowed client app, a caller in one
 * of its groups, with one of its scopes or roles; an empty rule admits any valid access token that carries
 * a scope or a role.
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
export function blockedByOverage(rule: PermissionRule, grantee: Grantee): boolean {
  return (
    grantee.groupsOverage === true &&
    (rule.groups ?? []).length > 0 &&
    satisfies({ ...rule, groups: [] }, grantee)
  );
}

export function describe(rule: PermissionRule): string {
  const parts = [];
  if (rule.scopes.length > 0) parts.push(`scope ${rule.scopes.join(' or ')}`);
  if (rule.roles.length > 0) parts.push(`role ${rule.roles.join(' or ')}`);
  const grants = parts.join(', or ');
  const groups = rule.groups ?? [];
  if (groups.length === 0) return grants;
  return `${grants === '' ? '' : `${grants}, and `}group ${groups.join(' or ')}`;
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

type Method = (typeof REST_METHODS)[number];

/** A segment of an API Gateway resource path: literal text, `{param}` (one segment), `{proxy+}` (the rest). */
type Segment = { readonly kind: 'literal'; readonly text: string } | { readonly kind: 'param' | 'greedy' };

const RANK = { literal: 0, param: 1, greedy: 2 } as const;

function segmentsOf(path: string): Segment[] {
  if (path === '/') return [];
  return path
    .slice(1)
    .split('/')
    .map((text) =>
      PATH_PARAMETER.test(text)
        ? { kind: text.endsWith('+}') ? 'greedy' : 'param' }
        : { kind: 'literal', text },
    );
}

/** A request path's segments; undefined when one is empty (`//`), which no resource path names. */
function requestSegments(path: string): string[] | undefined {
  if (path === '/') return [];
  const parts = path.slice(1).split('/');
  return parts.includes('') ? undefined : parts;
}

/** `{param}` is exactly one non-empty segment, `{proxy+}` one or more, as API Gateway routes them. */
function segmentsMatch(pattern: readonly Segment[], parts: readonly string[]): boolean {
  for (let i = 0; i < pattern.length; i++) {
    const segment = pattern[i] as Segment;
    if (segment.kind === 'greedy') return parts.length > i;
    if (i >= parts.length) return false;
    if (segment.kind === 'literal' && segment.text !== parts[i]) return false;
  }
  return parts.length === pattern.length;
}

/**
 * Which of two resource paths that both match a request API Gateway serves it from: at the first segment
 * where they differ in kind, a literal before a `{param}` before a `{proxy+}`; on the same resource, the
 * method named before `*` (ANY). Negative when `a` wins.
 */
function precedence(a: RoutePermission & { segments: readonly Segment[] }, b: typeof a): number {
  for (let i = 0; i < Math.min(a.segments.length, b.segments.length); i++) {
    const d = RANK[(a.segments[i] as Segment).kind] - RANK[(b.segments[i] as Segment).kind];
    if (d !== 0) return d;
  }
  if (a.segments.length !== b.segments.length) return b.segments.length - a.segments.length;
  return (a.method === '*' ? 1 : 0) - (b.method === '*' ? 1 : 0);
}

/**
 * One character a path pattern consumes: a literal, any character but `/` (inside a `{param}`), or any
 * character. `repeat` marks a part that may also consume nothing (a `*`, or the rest of a parameter).
 */
type Part =
  | { readonly kind: 'literal'; readonly char: string; readonly repeat: false }
  | { readonly kind: 'segment' | 'any'; readonly repeat: boolean };

/**
 * A path pattern as a sequence of parts. In a route key `*` is any run of characters, `/` included (the
 * execute-api ARN glob); in both keys and resource paths `{name}` is one segment (one or more characters
 * but `/`) and `{name+}` one or more characters, `/` included (API Gateway's greedy path variable).
 */
function parts(pattern: string, glob: boolean): Part[] {
  const out: Part[] = [];
  for (let i = 0; i < pattern.length; i++) {
    const char = pattern[i] as string;
    if (char === '{') {
      const close = pattern.indexOf('}', i);
      if (close > i) {
        const kind = pattern[close - 1] === '+' ? 'any' : 'segment';
        out.push({ kind, repeat: false }, { kind, repeat: true });
        i = close;
        continue;
      }
    }
    if (glob && char === '*') out.push({ kind: 'any', repeat: true });
    else out.push({ kind: 'literal', char, repeat: false });
  }
  return out;
}

/** Is there one character both parts accept? */
function overlap(a: Part, b: Part): boolean {
  if (a.kind === 'literal' && b.kind === 'literal') return a.char === b.char;
  if (a.kind === 'literal') return b.kind === 'any' || a.char !== '/';
  if (b.kind === 'literal') return a.kind === 'any' || b.char !== '/';
  return true;
}

/** Does some path match both patterns? A search over pairs of positions: linear in their product. */
function intersects(a: readonly Part[], b: readonly Part[]): boolean {
  const seen = new Set<number>();
  const stack: [number, number][] = [[0, 0]];
  const width = b.length + 1;
  while (stack.length > 0) {
    const [i, j] = stack.pop() as [number, number];
    if (seen.has(i * width + j)) continue;
    seen.add(i * width + j);
    if (i === a.length && j === b.length) return true;
    const pa = a[i];
    const pb = b[j];
    // A repeating part may be left behind without consuming anything.
    if (pa?.repeat) stack.push([i + 1, j]);
    if (pb?.repeat) stack.push([i, j + 1]);
    if (pa !== undefined && pb !== undefined && overlap(pa, pb)) {
      stack.push([pa.repeat ? i : i + 1, pb.repeat ? j : j + 1]);
    }
  }
  return false;
}

/**
 * Does a route key admit some request to this method and API Gateway resource path, by the rules the
 * decision applies: `{param}` one segment, `{proxy+}` one or more, an IAM glob's `*` any run of characters,
 * `/` included (`GET /items/{id}` covers `GET /items/{itemId}`, `GET /items/*` covers
 * `GET /items/{id}/parts`). A key's method `*` (ANY) covers each method of REST_METHODS and `ANY` itself;
 * a single method does not cover `ANY`. For checking a route table against the API's methods at synth.
 */
export function routeKeyCovers(
  route: Pick<RoutePermission, 'method' | 'path'>,
  method: string,
  resourcePath: string,
): boolean {
  const wanted = method.toUpperCase() === 'ANY' ? '*' : method.toUpperCase();
  if (route.method !== '*' && route.method !== wanted) return false;
  return intersects(parts(route.path, true), parts(resourcePath, false));
}

interface Entry extends RoutePermission {
  readonly index: number;
  /** An IAM glob (`*` crosses `/`) rather than an API Gateway resource path. */
  readonly glob: boolean;
  readonly segments: readonly Segment[];
  readonly matcher: RoutePathMatcher;
  readonly methods: readonly Method[];
}

/** Distinct sets of granted routes whose Denies are kept (a cleared cache costs one recomputation each). */
const MAX_GRANT_SETS = 256;

/**
 * The work a route table's exploration may take, in route steps (one route or the pattern taking one
 * segment), for the whole table: a hundred routes of a real API take a quarter of it (the 4 KB of Lambda
 * environment hold no more), and any table's cold start stays near a second (a dozen routes that each
 * fix a different segment took minutes before). Past it, every declared route a pattern is explored for
 * counts as reached: more Denies, never fewer.
 */
const MAX_EXPLORATION_STEPS = 4_000_000;

/** What is left of MAX_EXPLORATION_STEPS while one table is built. */
interface Budget {
  steps: number;
}

/**
 * A path pattern a segment at a time: a literal segment, `one` segment, or a `star` of one or more (an IAM
 * `*` in a policy path; a request path has no empty segment, so a `*` between two `/` takes at least one).
 */
type Token = string | { readonly one: true } | { readonly star: true };
const ONE: Token = { one: true };
const STAR: Token = { star: true };

/** The policy resource of a resource path as tokens (a glob table has no resource paths). */
function policyTokens(entry: Entry): Token[] {
  return entry.glob ? [] : entry.segments.map((s) => (s.kind === 'literal' ? s.text : STAR));
}

/** What an entry's route matches, as tokens (resource paths only). */
function routeTokens(entry: Entry): Token[] {
  return entry.segments.map((s) => (s.kind === 'literal' ? s.text : s.kind === 'param' ? ONE : STAR));
}

/**
 * For each `{param}` of a resource path, its policy path with that `*` spanning two segments or more
 * (`/items/*` of `/items/{id}` -> `/items/*\/*`): together, exactly what its policy resource admits beyond
 * the route itself.
 */
function excessPatterns(entry: Entry): { path: string; tokens: Token[] }[] {
  if (entry.glob) return [];
  return entry.segments.flatMap((s, i) => {
    if (s.kind !== 'param') return [];
    const tokens = policyTokens(entry);
    tokens.splice(i, 1, STAR, STAR);
    const parts = policyPathOf(entry.path).split('/');
    parts.splice(i + 1, 1, '*', '*');
    return [{ path: parts.join('/'), tokens }];
  });
}

/**
 * The resource-path routes (for one method) that API Gateway would serve some request from that a pattern
 * admits: the policy resource `GET/items/*` of `GET /items/{id}` also admits `GET /items/42/secret`.
 * Requests are explored a segment at a time (each literal of the table, and one segment that is none of
 * them), tracking every route's match and the pattern's.
 */
function reach(
  pattern: readonly Token[],
  method: Method,
  table: readonly Entry[],
  budget: Budget,
): Set<number> {
  const routes = table.filter((e) => !e.glob && e.methods.includes(method));
  const literals = (tokens: readonly Token[]) => tokens.filter((t): t is string => typeof t === 'string');
  const alphabet = [
    ...new Set([...routes.flatMap((e) => literals(routeTokens(e))), ...literals(pattern)]),
    undefined, // a segment no literal names
  ];
  // A route's state: how many segments it has matched; -1 dead; its length when complete (a greedy one stays).
  const stepRoute = (e: Entry, at: number, symbol: string | undefined): number => {
    if (at < 0) return -1;
    const n = e.segments.length;
    if (at >= n) return n > 0 && (e.segments[n - 1] as Segment).kind === 'greedy' ? n : -1;
    const s = e.segments[at] as Segment;
    if (s.kind === 'greedy') return n;
    if (s.kind === 'literal') return symbol === s.text ? at + 1 : -1;
    return at + 1;
  };
  // The pattern's states: 2i at token i, 2i+1 inside a `star` at token i (it has taken a segment).
  const close = (states: Iterable<number>): number[] => {
    const out = new Set<number>();
    for (const st of states) {
      out.add(st);
      if (st % 2 === 1) out.add(st + 1);
    }
    return [...out].sort((a, b) => a - b);
  };
  const stepPattern = (states: readonly number[], symbol: string | undefined): number[] => {
    const next: number[] = [];
    for (const st of states) {
      const token = pattern[Math.floor(st / 2)];
      if (token === undefined) continue;
      if (st % 2 === 1 || token === STAR) next.push(2 * Math.floor(st / 2) + 1);
      else if (token === ONE || symbol === token) next.push(st + 2);
    }
    return close(next);
  };
  const end = 2 * pattern.length;
  const covered = new Set<number>();
  // `/*` admits the root `/` too, its `*` matching nothing.
  if (pattern.length === 1 && pattern[0] === STAR) {
    const root = routes.filter((e) => e.segments.length === 0).sort(precedence)[0];
    if (root !== undefined) covered.add(root.index);
  }
  const seen = new Set<string>();
  const queue: [number[], number[]][] = [[routes.map(() => 0), close([0])]];
  while (queue.length > 0) {
    const [at, states] = queue.pop() as [number[], number[]];
    const key = `${at}|${states}`;
    if (seen.has(key)) continue;
    seen.add(key);
    budget.steps -= alphabet.length * (routes.length + 1);
    if (budget.steps < 0) return new Set(routes.map((e) => e.index));
    if (states.includes(end)) {
      const served = routes.filter((e, i) => at[i] === e.segments.length).sort(precedence)[0];
      if (served !== undefined) covered.add(served.index);
    }
    for (const symbol of alphabet) {
      const nextStates = stepPattern(states, symbol);
      const nextAt = at.map((a, i) => stepRoute(routes[i] as Entry, a, symbol));
      if (nextStates.length > 0 && nextAt.some((a) => a >= 0)) queue.push([nextAt, nextStates]);
    }
  }
  return covered;
}

/** A Deny the policy carries, and why. */
interface Denial extends PolicyRoute {
  readonly why: string;
}

function union(sets: readonly Set<number>[]): Set<number> {
  return new Set(sets.flatMap((set) => [...set]));
}

export type RouteAuthorizer = (grantee: Grantee, request: RouteRequest) => Authorization;

/** The route table and what each pattern admits, per method: fixed by the configuration, so built once. */
interface RouteTable {
  readonly table: readonly Entry[];
  readonly admits: readonly Map<Method, Set<number>>[];
  readonly serves: readonly Map<Method, Set<number>>[];
  readonly excess: readonly {
    patterns: ReturnType<typeof excessPatterns>;
    admits: Map<Method, Set<number>>;
  }[];
}

function buildRouteTable(routePermissions: AuthorizerConfig['routePermissions']): RouteTable {
  const globs = (routePermissions ?? []).some((route) => isGlobPath(route.path));
  const table: Entry[] = (routePermissions ?? []).map((route, index) => {
    // A table with a `*` glob is judged as IAM globs, as before: any key that matches grants.
    const glob = globs;
    return {
      ...route,
      index,
      glob,
      segments: glob ? [] : segmentsOf(route.path),
      matcher: compileRoutePath(route.path),
      // A `*` route stands for exactly the methods its policy resources list, so the two never disagree.
      methods: route.method === '*' ? REST_METHODS : [route.method],
    };
  });
  // Which declared routes each pattern admits, per method: fixed by the table, so computed once.
  const perMethod = <T>(entry: Entry, f: (m: Method) => T) => new Map(entry.methods.map((m) => [m, f(m)]));
  const budget: Budget = { steps: MAX_EXPLORATION_STEPS };
  const admits = table.map((e) => perMethod(e, (m) => reach(policyTokens(e), m, table, budget)));
  const serves = table.map((e) =>
    e.glob
      ? (admits[e.index] as Map<Method, Set<number>>)
      : perMethod(e, (m) => reach(routeTokens(e), m, table, budget)),
  );
  const excess = table.map((e) => {
    const patterns = excessPatterns(e);
    return {
      patterns,
      admits: perMethod(e, (m) => union(patterns.map((p) => reach(p.tokens, m, table, budget)))),
    };
  });
  return { table, admits, serves, excess };
}

/** `compileRoutePath` remembered per pattern: the Denies a request is checked against repeat. */
function createMatcherCache(): (pattern: string) => RoutePathMatcher {
  const matchers = new Map<string, RoutePathMatcher>();
  return (pattern: string) => {
    const known = matchers.get(pattern);
    if (known !== undefined) return known;
    const matcher = compileRoutePath(pattern);
    matchers.set(pattern, matcher);
    return matcher;
  };
}

/**
 * The Denies that keep a caller's Allows off the declared routes it may not call. Per granted pattern
 * and method: deny each such route it admits, by that route's own resource; or, for a resource path,
 * deny what its resource admits beyond the route (a `*` spanning segments) and by name only the routes the
 * route itself reaches, when that excess spares every route granted. The second way's named routes are
 * some of the first way's, so it never refuses a granted path the first would spare (a `/{proxy+}` for
 * admins would deny `GET/*`). Where a Deny still covers a granted path, the decision refuses it too.
 */
function denialsFor(routeTable: RouteTable, isGranted: readonly boolean[]): Denial[] {
  const { table, admits, serves, excess } = routeTable;
  const out: Denial[] = [];
  const add = (denial: Denial) => {
    if (!out.some((d) => d.method === denial.method && d.path === denial.path)) out.push(denial);
  };
  const byRoute = (method: Method, i: number): Denial => {
    const route = table[i] as Entry;
    return {
      method,
      path: policyPathOf(route.path),
      why: `"${route.route}" (which requires ${[describe(route) || 'a scope or a role', ...(route.clientApps === undefined ? [] : [`client app ${route.clientApps.join(' or ')}`])].join(', and ')})`,
    };
  };
  for (const entry of table) {
    if (!isGranted[entry.index]) continue;
    for (const [method, admitted] of admits[entry.index] as Map<Method, Set<number>>) {
      const refused = [...admitted].filter((i) => !isGranted[i]);
      if (refused.length === 0) continue;
      const { patterns, admits: beyondByMethod } = excess[entry.index] as (typeof excess)[number];
      // Each map holds a set for every method of its entry.
      const beyond = beyondByMethod.get(method) as Set<number>;
      const reached = (serves[entry.index] as Map<Method, Set<number>>).get(method) as Set<number>;
      // Denied by name: the refused routes the route itself reaches, and any other its resource admits
      // that the excess patterns do not (the root `/`, which `/*` admits with its `*` matching nothing).
      const own = [
        ...new Set([...[...reached].filter((i) => !isGranted[i]), ...refused.filter((i) => !beyond.has(i))]),
      ];
      const narrow = patterns.length > 0 && ![...beyond].some((i) => isGranted[i]);
      if (narrow) {
        for (const i of own) add(byRoute(method, i));
        for (const p of patterns) {
          add({ method, path: p.path, why: `the paths below "${entry.route}" its * would also admit` });
        }
      } else for (const i of refused) add(byRoute(method, i));
    }
  }
  return out;
}

/** The route API Gateway serves a request from: its best resource path, or else the glob keys it matches. */
function servedBy(table: readonly Entry[], request: RouteRequest): { resource?: Entry; globs: Entry[] } {
  if (!REST_METHOD_SET.has(request.method)) return { globs: [] };
  const method = request.method as Method;
  const parts = requestSegments(request.path);
  const resources =
    parts === undefined
      ? []
      : table.filter((e) => !e.glob && e.methods.includes(method) && segmentsMatch(e.segments, parts));
  const resource = resources.sort(precedence)[0];
  if (resource !== undefined) return { resource, globs: [] };
  return {
    globs: table.filter((e) => e.glob && e.methods.includes(method) && e.matcher.test(request.path)),
  };
}

/**
 * The refusals that hold on every route: a guest where guests are refused, no scope or role at all, or not
 * what the whole API requires.
 */
function apiWideRefusal(
  { required, guestUsers }: Pick<AuthorizerConfig, 'required' | 'guestUsers'>,
  grantee: Grantee,
): Authorization | undefined {
  if (grantee.guest === true && guestUsers === 'refuse') {
    return {
      allowed: false,
      reason: 'guest_not_allowed',
      routes: [],
      denied: [],
      missing: `the user is a guest of the tenant, and guests are refused (${ENV_NAMES.guestUsers}=refuse)`,
    };
  }
  if (grantee.scopes.length === 0 && grantee.roles.length === 0) {
    // Any app in the tenant can get such a token for the API (client credentials, no role assigned), so
    // no configuration, not even an empty rule, admits it.
    return {
      allowed: false,
      reason: 'no_scope_or_role',
      routes: [],
      denied: [],
      missing: 'the token carries neither scp nor roles',
    };
  }
  if (blockedByOverage(required, grantee)) {
    return {
      allowed: false,
      reason: 'groups_overage',
      routes: [],
      denied: [],
      missing: `the API requires group ${(required.groups ?? []).join(' or ')}, and the token's groups did not fit in it (group overage)`,
    };
  }
  if (!satisfies(required, grantee)) {
    return clientAllowed(required, grantee)
      ? {
          allowed: false,
          reason: 'insufficient_permission',
          routes: [],
          denied: [],
          missing: `the API requires ${describe(required)}`,
        }
      : {
          allowed: false,
          reason: 'client_app_not_allowed',
          routes: [],
          denied: [],
          missing: `client app ${grantee.appId ?? '(none)'} is not among the API's allowed client apps (${ENV_NAMES.allowedClientApps})`,
        };
  }
  return undefined;
}

/**
 * Builds the 403 rules once per container: a token must carry a scope or a role, then the required
 * scopes/roles, then the route table. A request is judged by the route API Gateway serves it from: the
 * resource path that matches it best; in a table without `{param}`, by any key whose glob matches it, as
 * before. In the policy, every route granted is
 * allowed, and every declared route a granted pattern would also admit (IAM's `*` crosses `/`) that this
 * caller may not call is denied explicitly; a request such a Deny also covers is refused here too, so a
 * cached policy and a fresh decision always agree.
 */
export function createRouteAuthorizer(
  config: Pick<AuthorizerConfig, 'required' | 'routePermissions'> &
    Partial<Pick<AuthorizerConfig, 'guestUsers'>>,
): RouteAuthorizer {
  const { required, routePermissions, guestUsers = DEFAULTS.guestUsers } = config;
  const routeTable = buildRouteTable(routePermissions);
  const { table } = routeTable;
  const matcherOf = createMatcherCache();
  const deniedByGrants = new Map<string, Denial[]>();

  return (grantee, request) => {
    const refusal = apiWideRefusal({ required, guestUsers }, grantee);
    if (refusal !== undefined) return refusal;
    if (routePermissions === undefined) return { allowed: true, routes: 'stage' };
    const isGranted = table.map((entry) => satisfies(entry, grantee));
    const granted = table.filter((entry) => isGranted[entry.index]);
    // Callers share few sets of grants: the Denies of each are worked out once.
    const grants = isGranted.map((g) => (g ? '1' : '0')).join('');
    let denied = deniedByGrants.get(grants);
    if (denied === undefined) {
      if (deniedByGrants.size >= MAX_GRANT_SETS) deniedByGrants.clear();
      denied = denialsFor(routeTable, isGranted);
      deniedByGrants.set(grants, denied);
    }
    const policyDenied = denied.map(({ method, path }) => ({ method, path }));
    const routes = granted.map(({ route, method, path, scopes, roles, clientApps, groups }) => ({
      route,
      method,
      path,
      scopes,
      roles,
      ...(clientApps === undefined ? {} : { clientApps }),
      ...(groups === undefined ? {} : { groups }),
    }));
    const refuse = (missing: string, reason: DenyReason = 'insufficient_permission'): Authorization => ({
      allowed: false,
      reason,
      routes,
      denied: policyDenied,
      missing,
    });
    if (isTrailingSlashPath(request.path)) {
      return refuse(
        `${request.method} ${request.path} ends in "/", which route permissions refuse: API Gateway serves it from the resource without the slash, which a pattern such as /items/* would otherwise admit`,
      );
    }
    const { resource, globs } = servedBy(table, request);
    const by = resource !== undefined ? [resource] : globs;
    const grantedBy = by.find((entry) => isGranted[entry.index]);
    if (grantedBy === undefined) {
      if (by.length > 0 && !by.some((d) => clientAllowed(d, grantee))) {
        return refuse(
          `${request.method} ${request.path} admits only the client apps ${[...new Set(by.flatMap((d) => d.clientApps ?? []))].join(', ')} (route clientApps); the token's client app is ${grantee.appId ?? '(none)'}`,
          'client_app_not_allowed',
        );
      }
      const overage = by.find((d) => blockedByOverage(d, grantee));
      if (overage !== undefined) {
        return refuse(
          `${request.method} ${request.path} (${overage.route}) requires group ${(overage.groups ?? []).join(' or ')}, and the token's groups did not fit in it (group overage)`,
          'groups_overage',
        );
      }
      return refuse(
        by.length === 0
          ? `${request.method} ${request.path} is not in the route permissions`
          : `${request.method} ${request.path} (${by.map((e) => e.route).join(', ')}) requires ${by.map((d) => describe(d)).join('; or ')}`,
      );
    }
    const shadow = denied.find((d) =>
      matcherOf(`${d.method}${d.path}`).test(`${request.method}${request.path}`),
    );
    if (shadow !== undefined) {
      return refuse(
        `${request.method} ${request.path} is granted by "${grantedBy.route}", but the policy must deny ${shadow.method} ${shadow.path} for ${shadow.why}, and that pattern covers this path too: in IAM a * crosses "/"`,
      );
    }
    return { allowed: true, routes, denied: policyDenied };
  };
}
