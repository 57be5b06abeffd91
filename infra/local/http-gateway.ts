import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { APIGatewayAuthorizerResult } from 'aws-lambda';
import {
  type AuthorizerResultCache,
  clfTime,
  createBoundedResultCache,
  decideThroughCache,
  type FunctionFailureReporter,
  type GatewayStats,
  handlerOf,
  type LambdaHandler,
  policyDecision,
  policyProblem,
  printFunctionFailure,
  type Reply,
  type RequestTarget,
  readBody,
  requestTarget,
  send,
  withTimeout,
} from './gateway.js';
import type {
  HttpApiModel,
  HttpAuthorizerModel,
  HttpCorsModel,
  HttpIntegrationModel,
  HttpRouteModel,
} from './http-api-template.js';
import { httpClaims, type JwtChecker, type JwtGuard } from './jwt-authorizer.js';

/**
 * An HTTP API (API Gateway v2) served from its template, the way API Gateway serves it: routes selected by
 * route key (the most specific match, `$default` last, 404 for no route), the CORS preflight answered by the
 * gateway, the REQUEST Lambda authorizer (identity sources, a result cache keyed on their values, simple or
 * IAM answers), and payload format 2.0 to Lambda proxy integrations. An HTTP API has no gateway responses:
 * its own answers are fixed JSON bodies.
 */

interface LocalHttpGatewayOptions {
  readonly api: HttpApiModel;
  /** The handler of every Lambda function the API invokes, by the function's logical id. */
  readonly functions: ReadonlyMap<string, LambdaHandler>;
  /** @default Date.now */
  readonly now?: () => number;
  /** Decisions kept at most in the authorizer cache (the oldest leaves first). @default 10_000 */
  readonly maxCachedDecisions?: number;
  /** Checks the routes a JWT authorizer guards; without it they are answered 501. */
  readonly checkJwt?: JwtChecker;
  /** Where a failing backend is told. @default printFunctionFailure */
  readonly onFunctionFailure?: FunctionFailureReporter;
}

/** API Gateway's own answers on an HTTP API (status, `{"message": ...}`). */
const HTTP_API_ANSWERS = {
  notFound: [404, 'Not Found'],
  unauthorized: [401, 'Unauthorized'],
  forbidden: [403, 'Forbidden'],
  internalError: [500, 'Internal Server Error'],
  tooLarge: [413, 'Request Entity Too Large'],
  unavailable: [503, 'Service Unavailable'],
  notEmulated: [501, 'Not emulated locally'],
} as const satisfies Record<string, readonly [number, string]>;

type Answer = keyof typeof HTTP_API_ANSWERS;

interface AuthorizerAnswer {
  readonly allowed: boolean;
  readonly context: Record<string, unknown>;
}

class HttpGatewayError extends Error {
  constructor(
    readonly answer: Answer,
    readonly detail?: string,
    readonly headers: Readonly<Record<string, string>> = {},
  ) {
    super(answer);
  }
}

const REGION = 'local-1';
const ACCOUNT_ID = '000000000000';
const API_ID = 'localhttpapi';

/** The route a request selects, and its path parameters. */
interface SelectedRoute {
  readonly route: HttpRouteModel;
  readonly pathParameters: Record<string, string>;
}

function decode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

/**
 * How one route key matches a path: undefined, or its rank (lower wins) and parameters. API Gateway picks
 * the most specific match: a full match of route and method before one through a greedy `{proxy+}`, a
 * literal segment before a `{param}`, a method before ANY, and `$default` only when nothing else matches.
 */
function matchRoute(
  route: HttpRouteModel,
  method: string,
  parts: readonly string[],
): { rank: number[]; pathParameters: Record<string, string> } | undefined {
  if (route.routeKey === '$default') return { rank: [3], pathParameters: {} };
  const [routeMethod, routePath = '/'] = route.routeKey.split(' ') as [string, string];
  if (routeMethod !== 'ANY' && routeMethod !== method) return undefined;
  const segments = routePath === '/' ? [] : routePath.slice(1).split('/');
  const pathParameters: Record<string, string> = {};
  const kinds: number[] = [];
  for (const [i, segment] of segments.entries()) {
    const greedy = /^\{(.+)\+\}$/.exec(segment);
    if (greedy !== null) {
      if (parts.length <= i) return undefined;
      pathParameters[greedy[1] as string] = decode(parts.slice(i).join('/'));
      return { rank: [1, ...kinds, 2, routeMethod === 'ANY' ? 1 : 0], pathParameters };
    }
    const part = parts[i];
    if (part === undefined || part === '') return undefined;
    const param = /^\{(.+)\}$/.exec(segment);
    if (param !== null) {
      pathParameters[param[1] as string] = decode(part);
      kinds.push(1);
    } else if (segment === part) kinds.push(0);
    else return undefined;
  }
  if (parts.length !== segments.length) return undefined;
  return { rank: [0, ...kinds, routeMethod === 'ANY' ? 1 : 0], pathParameters };
}

function lowerRank(a: readonly number[], b: readonly number[]): boolean {
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    const x = a[i] ?? -1;
    const y = b[i] ?? -1;
    if (x !== y) return x < y;
  }
  return false;
}

/** The route an HTTP API selects for a method and a path (below the stage), or undefined: a 404. */
export function selectHttpRoute(
  routes: readonly HttpRouteModel[],
  method: string,
  path: string,
): SelectedRoute | undefined {
  const parts = path === '/' ? [] : path.slice(1).split('/');
  let best: { rank: number[]; selected: SelectedRoute } | undefined;
  for (const route of routes) {
    const match = matchRoute(route, method, parts);
    if (match === undefined) continue;
    if (best === undefined || lowerRank(match.rank, best.rank)) {
      best = { rank: match.rank, selected: { route, pathParameters: match.pathParameters } };
    }
  }
  return best?.selected;
}

interface HttpRequestState {
  readonly requestId: string;
  readonly startedAt: number;
  readonly method: string;
  readonly url: RequestTarget;
  /** Below the stage: what routes match. */
  readonly path: string;
  /** Lower-case names; a repeated header's values joined with commas, as payload 2.0 has them. */
  readonly headers: Record<string, string>;
  readonly sourceIp: string;
  selected?: SelectedRoute;
}

/** The CORS headers API Gateway adds for an allowed origin, or none. */
function corsHeaders(cors: HttpCorsModel, origin: string | undefined): Record<string, string> {
  if (origin === undefined) return {};
  const allowOrigin = cors.allowOrigins.includes('*')
    ? '*'
    : cors.allowOrigins.includes(origin)
      ? origin
      : undefined;
  if (allowOrigin === undefined) return {};
  return {
    'access-control-allow-origin': allowOrigin,
    ...(cors.allowCredentials ? { 'access-control-allow-credentials': 'true' } : {}),
    ...(cors.exposeHeaders.length > 0
      ? { 'access-control-expose-headers': cors.exposeHeaders.join(',') }
      : {}),
  };
}

/** What every step of a request reads: the API, its handlers, the clock and the decision cache. */
interface HttpGatewayContext {
  readonly api: HttpApiModel;
  readonly functions: ReadonlyMap<string, LambdaHandler>;
  readonly now: () => number;
  /** Where the stage's paths start: '' for `$default`, else `/<stage>`. */
  readonly prefix: string;
  readonly cache: AuthorizerResultCache<AuthorizerAnswer>;
  readonly stats: { authorizerCalls: number; cacheHits: number };
  readonly checkJwt: JwtChecker | undefined;
  readonly onFunctionFailure: FunctionFailureReporter;
}

/** An answer with the request id API Gateway adds to every answer of an HTTP API. */
function reply(
  state: HttpRequestState,
  statusCode: number,
  headers: Record<string, string | string[]>,
  body: string | Buffer,
): Reply {
  return { statusCode, headers: { ...headers, 'apigw-requestid': state.requestId }, body };
}

/** The request's headers by lower-case name, a repeated header's values joined with commas. */
function readHttpRequestState(ctx: HttpGatewayContext, req: IncomingMessage): HttpRequestState {
  const headers: Record<string, string> = {};
  for (let i = 0; i + 1 < req.rawHeaders.length; i += 2) {
    const name = (req.rawHeaders[i] as string).toLowerCase();
    const value = req.rawHeaders[i + 1] as string;
    headers[name] = headers[name] === undefined ? value : `${headers[name]},${value}`;
  }
  const url = requestTarget(req.url ?? '/');
  const { prefix } = ctx;
  return {
    requestId: randomUUID(),
    startedAt: ctx.now(),
    method: req.method ?? 'GET',
    url,
    path:
      prefix === ''
        ? url.pathname
        : url.pathname === prefix || url.pathname.startsWith(`${prefix}/`)
          ? url.pathname.slice(prefix.length) || '/'
          : '',
    headers,
    sourceIp: req.socket.remoteAddress ?? '127.0.0.1',
  };
}

/** The parts of a payload 2.0 event that the authorizer and the integration share. */
function buildEventBase(ctx: HttpGatewayContext, state: HttpRequestState) {
  const { api } = ctx;
  const selected = state.selected as SelectedRoute;
  const { cookie, ...headers } = state.headers;
  const query: Record<string, string> = {};
  for (const key of new Set(state.url.searchParams.keys()))
    query[key] = state.url.searchParams.getAll(key).join(',');
  const rawQuery = state.url.searchParams.toString();
  const host = state.headers.host;
  return {
    version: '2.0',
    routeKey: selected.route.routeKey,
    rawPath: state.url.pathname,
    rawQueryString: rawQuery,
    ...(cookie !== undefined ? { cookies: cookie.split(/;\s*/).filter((c) => c !== '') } : {}),
    headers,
    ...(rawQuery !== '' ? { queryStringParameters: query } : {}),
    ...(Object.keys(selected.pathParameters).length > 0 ? { pathParameters: selected.pathParameters } : {}),
    ...(Object.keys(api.stageVariables).length > 0 ? { stageVariables: api.stageVariables } : {}),
    requestContext: {
      accountId: ACCOUNT_ID,
      apiId: API_ID,
      domainName: host,
      domainPrefix: host?.split('.')[0],
      http: {
        method: state.method,
        path: state.url.pathname,
        protocol: 'HTTP/1.1',
        sourceIp: state.sourceIp,
        userAgent: state.headers['user-agent'] ?? '',
      },
      requestId: state.requestId,
      routeKey: selected.route.routeKey,
      stage: api.stageName,
      time: clfTime(state.startedAt),
      timeEpoch: state.startedAt,
    },
  };
}

/** `$context.<name>` for this request, as an identity source reads it. */
function contextVariable(ctx: HttpGatewayContext, state: HttpRequestState, name: string): string | undefined {
  return (
    {
      accountId: ACCOUNT_ID,
      apiId: API_ID,
      domainName: state.headers.host,
      httpMethod: state.method,
      'identity.sourceIp': state.sourceIp,
      'identity.userAgent': state.headers['user-agent'],
      path: state.url.pathname,
      protocol: 'HTTP/1.1',
      requestId: state.requestId,
      routeKey: state.selected?.route.routeKey,
      stage: ctx.api.stageName,
    } as Record<string, string | undefined>
  )[name];
}

/** The identity sources' values, or undefined when one is missing or empty (a 401 without a call). */
function identityOf(
  ctx: HttpGatewayContext,
  state: HttpRequestState,
  authorizer: HttpAuthorizerModel,
): string[] | undefined {
  const values: string[] = [];
  for (const source of authorizer.identitySources) {
    const value =
      source.from === 'header'
        ? state.headers[source.name.toLowerCase()]
        : source.from === 'querystring'
          ? state.url.searchParams.getAll(source.name).join(',') || undefined
          : source.from === 'stageVariables'
            ? ctx.api.stageVariables[source.name]
            : contextVariable(ctx, state, source.name);
    if (value === undefined || value === '') return undefined;
    values.push(value);
  }
  return values;
}

/** A route the gateway serves: one whose integration it emulates. */
interface ServedRoute extends HttpRouteModel {
  readonly integration: Extract<HttpIntegrationModel, { type: 'AWS_PROXY' }>;
}

/** The route a request selects (below the stage): a 404 for none, a 501 for one not emulated. */
function routeRequest(ctx: HttpGatewayContext, state: HttpRequestState): ServedRoute {
  state.selected = state.path === '' ? undefined : selectHttpRoute(ctx.api.routes, state.method, state.path);
  const route = state.selected?.route;
  if (route === undefined) throw new HttpGatewayError('notFound');
  if (route.integration.type === 'UNSUPPORTED') {
    throw new HttpGatewayError('notEmulated', route.integration.reason);
  }
  return route as ServedRoute;
}

/** Invokes the authorizer function; a 401 for exactly Unauthorized, a 500 for any other failure or shape. */
async function callAuthorizer(
  ctx: HttpGatewayContext,
  state: HttpRequestState,
  authorizer: HttpAuthorizerModel,
  identity: string[],
): Promise<AuthorizerAnswer> {
  const routeArn = `arn:aws:execute-api:${REGION}:${ACCOUNT_ID}:${API_ID}/${ctx.api.stageName}/${state.method}${state.url.pathname}`;
  const event = { ...buildEventBase(ctx, state), type: 'REQUEST', routeArn, identitySource: identity };
  let result: unknown;
  try {
    const timeout = ctx.api.functions.get(authorizer.functionId)?.timeoutSeconds ?? 3;
    result = await withTimeout(handlerOf(ctx, authorizer.functionId)(event), Math.min(timeout, 30));
  } catch (err) {
    if (err instanceof Error && err.message === 'Unauthorized') throw new HttpGatewayError('unauthorized');
    throw new HttpGatewayError('internalError');
  }
  return authorizerAnswer(result, authorizer.simpleResponses, routeArn);
}

/** The authorizer's answer for the identity: a cached decision within its TTL, else a fresh call. */
function cachedAuthorizerAnswer(
  ctx: HttpGatewayContext,
  state: HttpRequestState,
  authorizer: HttpAuthorizerModel,
  identity: string[],
): Promise<AuthorizerAnswer> {
  // Per identity-source values, as API Gateway caches: without $context.routeKey among them, an answer
  // given for one route is reused for every route of the authorizer.
  const key = JSON.stringify([authorizer.logicalId, ...identity]);
  return decideThroughCache(ctx, key, authorizer.ttlSeconds, () =>
    callAuthorizer(ctx, state, authorizer, identity),
  );
}

/**
 * The REQUEST authorizer's check of a request: 401 without every identity source, the authorizer's answer
 * from the cache or a call, 403 unless it allows. Returns the context the backend sees.
 */
async function authorize(
  ctx: HttpGatewayContext,
  state: HttpRequestState,
  authorizer: HttpAuthorizerModel,
): Promise<Record<string, unknown>> {
  const identity = identityOf(ctx, state, authorizer);
  if (identity === undefined) throw new HttpGatewayError('unauthorized');
  const answer = await cachedAuthorizerAnswer(ctx, state, authorizer, identity);
  if (!answer.allowed) throw new HttpGatewayError('forbidden');
  return answer.context;
}

/**
 * A JWT authorizer's check of a request: 401 with API Gateway's `www-authenticate` challenge for a missing
 * or invalid token, 403 for one without the route's scopes. Returns `requestContext.authorizer`.
 */
async function authorizeJwt(
  ctx: HttpGatewayContext,
  state: HttpRequestState,
  guard: JwtGuard,
): Promise<Record<string, unknown>> {
  if (ctx.checkJwt === undefined)
    throw new HttpGatewayError('notEmulated', 'JWT authorizers need the local issuer');
  const decision = await ctx.checkJwt(guard, state.headers[guard.authorizer.identityHeader.toLowerCase()]);
  if (decision.kind === 'unauthorized') {
    throw new HttpGatewayError('unauthorized', undefined, {
      'www-authenticate': `Bearer scope="${guard.scopes.join(' ')}" error="invalid_token" error_description="${decision.reason}"`,
    });
  }
  if (decision.kind === 'forbidden') throw new HttpGatewayError('forbidden');
  return {
    jwt: { claims: httpClaims(decision.claims), scopes: decision.scopes.length > 0 ? decision.scopes : null },
  };
}

/** The payload 2.0 event a Lambda proxy integration receives, with the authorizer's part if any. */
function buildProxyEvent(
  ctx: HttpGatewayContext,
  state: HttpRequestState,
  body: Buffer,
  authorizer: Record<string, unknown> | undefined,
) {
  const base = buildEventBase(ctx, state);
  return {
    ...base,
    requestContext: {
      ...base.requestContext,
      ...(authorizer !== undefined ? { authorizer } : {}),
    },
    ...(body.length > 0 ? { body: body.toString('utf8') } : {}),
    isBase64Encoded: false,
  };
}

/** Invokes a proxy integration's function: 500 if it errs or passes its own timeout, 503 past the integration's. */
async function invokeProxy(ctx: HttpGatewayContext, route: ServedRoute, event: unknown): Promise<unknown> {
  const { functionId, timeoutMillis } = route.integration;
  const functionTimeout = ctx.api.functions.get(functionId)?.timeoutSeconds ?? 3;
  try {
    return await withTimeout(
      withTimeout(handlerOf(ctx, functionId)(event), functionTimeout).catch((err: unknown) => {
        ctx.onFunctionFailure(route.routeKey, functionId, err);
        throw new HttpGatewayError('internalError');
      }),
      timeoutMillis / 1000,
    );
  } catch (err) {
    if (err instanceof HttpGatewayError) throw err;
    throw new HttpGatewayError('unavailable');
  }
}

/**
 * A payload 2.0 answer as the reply it makes, with the API's CORS headers: an answer without statusCode is
 * the body of a 200 JSON answer; a statusCode out of range, a body not a string or a header not a scalar
 * is a 500.
 */
function readProxyResult(ctx: HttpGatewayContext, state: HttpRequestState, answer: unknown): Reply {
  const { api } = ctx;
  const cors = api.cors === undefined ? {} : corsHeaders(api.cors, state.headers.origin);
  const a = answer as Record<string, unknown> | null | undefined;
  // Payload 2.0: an answer without statusCode is the body of a 200 JSON answer.
  if (a === null || typeof a !== 'object' || !('statusCode' in a)) {
    return reply(state, 200, { 'content-type': 'application/json', ...cors }, JSON.stringify(a ?? null));
  }
  const statusCode = Number(a.statusCode);
  if (
    !Number.isInteger(statusCode) ||
    statusCode < 100 ||
    statusCode > 599 ||
    (a.body !== undefined && a.body !== null && typeof a.body !== 'string')
  ) {
    throw new HttpGatewayError('internalError');
  }
  const headers: Record<string, string | string[]> = {};
  for (const [name, value] of Object.entries((a.headers ?? {}) as Record<string, unknown>)) {
    if (typeof value !== 'string' && typeof value !== 'number' && typeof value !== 'boolean')
      throw new HttpGatewayError('internalError');
    // API Gateway ignores the CORS headers of an integration's answer when the API configures CORS.
    if (api.cors !== undefined && name.toLowerCase().startsWith('access-control-')) continue;
    headers[name.toLowerCase()] = String(value);
  }
  const cookies = Array.isArray(a.cookies) ? a.cookies.filter((c) => typeof c === 'string') : [];
  if (cookies.length > 0) headers['set-cookie'] = cookies;
  if (headers['content-type'] === undefined) headers['content-type'] = 'application/json';
  const payload = typeof a.body === 'string' ? a.body : '';
  return reply(
    state,
    statusCode,
    { ...headers, ...cors },
    a.isBase64Encoded === true ? Buffer.from(payload, 'base64') : payload,
  );
}

/** The route's Lambda proxy answer, for the request and the authorizer's context. */
async function integrate(
  ctx: HttpGatewayContext,
  state: HttpRequestState,
  route: ServedRoute,
  body: Buffer,
  authorizer: Record<string, unknown> | undefined,
): Promise<Reply> {
  const event = buildProxyEvent(ctx, state, body, authorizer);
  const answer = await invokeProxy(ctx, route, event);
  return readProxyResult(ctx, state, answer);
}

/** With CORS configured, API Gateway answers a preflight itself, whatever the routes. */
function isPreflight(
  api: HttpApiModel,
  state: HttpRequestState,
): api is HttpApiModel & { cors: HttpCorsModel } {
  return (
    api.cors !== undefined &&
    state.method === 'OPTIONS' &&
    state.headers.origin !== undefined &&
    state.headers['access-control-request-method'] !== undefined
  );
}

function preflightReply(state: HttpRequestState, cors: HttpCorsModel): Reply {
  const allowed = corsHeaders(cors, state.headers.origin);
  const headers: Record<string, string> = { ...allowed };
  if (Object.keys(allowed).length > 0) {
    if (cors.allowMethods.length > 0) headers['access-control-allow-methods'] = cors.allowMethods.join(',');
    if (cors.allowHeaders.length > 0) headers['access-control-allow-headers'] = cors.allowHeaders.join(',');
    if (cors.maxAge !== undefined) headers['access-control-max-age'] = String(cors.maxAge);
  }
  return reply(state, 204, headers, '');
}

/** API Gateway's own answer to an error of the request: fixed JSON, the detail after the message. */
function errorReply(state: HttpRequestState, err: HttpGatewayError): Reply {
  const [status, message] = HTTP_API_ANSWERS[err.answer];
  return reply(
    state,
    status,
    { 'content-type': 'application/json', ...err.headers },
    JSON.stringify({ message: err.detail === undefined ? message : `${message}: ${err.detail}` }),
  );
}

export function createLocalHttpGateway(options: LocalHttpGatewayOptions) {
  const { api } = options;
  const ctx: HttpGatewayContext = {
    api,
    functions: options.functions,
    now: options.now ?? Date.now,
    prefix: api.stageName === '$default' ? '' : `/${api.stageName}`,
    cache: createBoundedResultCache<AuthorizerAnswer>(options.maxCachedDecisions ?? 10_000),
    stats: { authorizerCalls: 0, cacheHits: 0 },
    checkJwt: options.checkJwt,
    onFunctionFailure: options.onFunctionFailure ?? printFunctionFailure,
  };

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const state = readHttpRequestState(ctx, req);
    try {
      const body = await readBody(req);
      if (body === undefined) throw new HttpGatewayError('tooLarge');
      if (isPreflight(api, state)) {
        send(res, preflightReply(state, api.cors));
        return;
      }
      const route = routeRequest(ctx, state);
      const authorizer =
        route.jwt !== undefined
          ? await authorizeJwt(ctx, state, route.jwt)
          : route.authorizer === undefined
            ? undefined
            : { lambda: await authorize(ctx, state, route.authorizer) };
      send(res, await integrate(ctx, state, route, body, authorizer));
    } catch (err) {
      if (!(err instanceof HttpGatewayError)) throw err;
      send(res, errorReply(state, err));
    }
  }

  return { handle, stats: ctx.stats as GatewayStats };
}

/**
 * What an authorizer's answer decides: a simple response's `isAuthorized` (a boolean, else the answer is
 * invalid: 500), or an IAM policy evaluated for the route ARN as for REST. Its context reaches the backend
 * as `requestContext.authorizer.lambda`.
 */
function authorizerAnswer(result: unknown, simpleResponses: boolean, routeArn: string): AuthorizerAnswer {
  const r = result as Record<string, unknown> | null;
  const invalid = () => new HttpGatewayError('internalError');
  if (r === null || typeof r !== 'object') throw invalid();
  const context = r.context ?? {};
  if (typeof context !== 'object' || context === null || Array.isArray(context)) throw invalid();
  if (simpleResponses) {
    if (typeof r.isAuthorized !== 'boolean') throw invalid();
    return { allowed: r.isAuthorized, context: context as Record<string, unknown> };
  }
  const policy = r.policyDocument as APIGatewayAuthorizerResult['policyDocument'] | undefined;
  if (
    typeof policy !== 'object' ||
    policy === null ||
    !Array.isArray(policy.Statement) ||
    policyProblem(policy) !== undefined
  ) {
    throw invalid();
  }
  return {
    allowed: policyDecision(policy, routeArn) === 'allow',
    context: context as Record<string, unknown>,
  };
}
