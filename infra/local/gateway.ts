import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { APIGatewayAuthorizerResult, APIGatewayProxyEvent } from 'aws-lambda';
import {
  type ApiModel,
  GATEWAY_RESPONSE_STATUS,
  type GatewayResponseType,
  type IntegrationModel,
  type Mapping,
  type MethodModel,
  type ResourceModel,
  type TokenAuthorizerModel,
} from './api-template.js';
import { type JwtChecker, type JwtGuard, restClaimText } from './jwt-authorizer.js';
import { evaluateMapping, type MappingInputs } from './mapping-expression.js';
import { renderTemplate } from './mapping-template.js';

// biome-ignore lint/suspicious/noExplicitAny: a Lambda handler takes the event of its trigger
export type LambdaHandler = (event: any) => Promise<unknown>;

/**
 * Told when a backend fails (a throw, its own timeout, an answer API Gateway cannot use), which the client
 * only sees as a 502 (500 on an HTTP API): `route` is `GET /items/{id}`.
 */
export type FunctionFailureReporter = (route: string, functionId: string, error: unknown) => void;

/**
 * The server's default: the error and its stack on stderr with the route, as `sam local` prints them (a
 * timeout has no stack worth reading: the wait was ours).
 */
export const printFunctionFailure: FunctionFailureReporter = (route, functionId, error) => {
  const detail =
    error instanceof Error
      ? error instanceof TimeoutError || error.name === 'FunctionTimeoutError'
        ? `${error.name}: ${error.message}`
        : (error.stack ?? `${error.name}: ${error.message}`)
      : String(error);
  process.stderr.write(`${route}: the Lambda function ${functionId} failed: ${detail}\n`);
};

interface LocalGatewayOptions {
  /** Where a failing backend is told. @default printFunctionFailure */
  readonly onFunctionFailure?: FunctionFailureReporter;
  /** The REST API as the synthesized template describes it. */
  readonly api: ApiModel;
  /** The handler of every Lambda function the API invokes, by the function's logical id. */
  readonly functions: ReadonlyMap<string, LambdaHandler>;
  /** @default Date.now */
  readonly now?: () => number;
  /** @default 'local-1' */
  readonly region?: string;
  /** @default '000000000000' */
  readonly accountId?: string;
  /** Decisions kept at most in the authorizer cache (the oldest leaves first). @default 10_000 */
  readonly maxCachedDecisions?: number;
  /** Where authorizer decisions are kept. @default createBoundedResultCache(maxCachedDecisions) */
  readonly authorizerCache?: AuthorizerResultCache;
  /** Checks the methods a JWT authorizer guards; without it they are answered 501. */
  readonly checkJwt?: JwtChecker;
}

export interface GatewayStats {
  readonly authorizerCalls: number;
  readonly cacheHits: number;
}

/** API Gateway's payload limit for REST APIs (10 MB). */
const MAX_PAYLOAD_BYTES = 10 * 1024 * 1024;
/** The longest an integration may run (the REST API default of 29 s). */
const INTEGRATION_TIMEOUT_SECONDS = 29;

/** What API Gateway says in `x-amzn-ErrorType` for the errors the local gateway can raise. */
const ERROR_TYPES: Partial<Record<GatewayResponseType, string>> = {
  UNAUTHORIZED: 'UnauthorizedException',
  ACCESS_DENIED: 'AccessDeniedException',
  MISSING_AUTHENTICATION_TOKEN: 'MissingAuthenticationTokenException',
  AUTHORIZER_CONFIGURATION_ERROR: 'AuthorizerConfigurationException',
  BAD_REQUEST_PARAMETERS: 'BadRequestException',
};

/**
 * IAM's wildcards: `*` any run of characters, `?` one character. Greedy, going back only to the last `*`:
 * at worst pattern length x text length steps, never the exponential backtracking of a regular expression
 * (a policy of several `*` against a long path would otherwise stall the server).
 */
function wildcardMatches(pattern: string, text: string, ignoreCase = false): boolean {
  const p = ignoreCase ? pattern.toLowerCase() : pattern;
  const t = ignoreCase ? text.toLowerCase() : text;
  let i = 0;
  let j = 0;
  let star = -1;
  let resume = 0;
  while (j < t.length) {
    if (i < p.length && (p[i] === '?' || (p[i] !== '*' && p[i] === t[j]))) {
      i++;
      j++;
    } else if (i < p.length && p[i] === '*') {
      star = i++;
      resume = j;
    } else if (star !== -1) {
      i = star + 1;
      j = ++resume;
    } else return false;
  }
  while (p[i] === '*') i++;
  return i === p.length;
}

type PolicyDecision = 'allow' | 'explicit-deny' | 'implicit-deny';

/**
 * API Gateway's evaluation of an authorizer policy for `execute-api:Invoke` on a method ARN: an explicit
 * Deny wins, then any Allow, else an implicit deny. Actions match case-insensitively, resources exactly,
 * both with IAM's wildcards.
 */
export function policyDecision(
  policy: APIGatewayAuthorizerResult['policyDocument'],
  methodArn: string,
): PolicyDecision {
  let allowed = false;
  for (const statement of policy?.Statement ?? []) {
    const s = statement as { Effect?: unknown; Action?: unknown; Resource?: unknown };
    const actions = [s.Action ?? []].flat().filter((a): a is string => typeof a === 'string');
    if (!actions.some((a) => wildcardMatches(a, 'execute-api:Invoke', true))) continue;
    const resources = [s.Resource ?? []].flat().filter((r): r is string => typeof r === 'string');
    if (!resources.some((r) => wildcardMatches(r, methodArn))) continue;
    if (s.Effect === 'Deny') return 'explicit-deny';
    if (s.Effect === 'Allow') allowed = true;
  }
  return allowed ? 'allow' : 'implicit-deny';
}

/**
 * API Gateway's limit on a Resource in an authorizer's policy: "the resource ARN, as shown in the policy
 * statement output by the authorizer, is currently limited to 512 characters" (Output from an API Gateway
 * Lambda authorizer).
 */
const MAX_POLICY_RESOURCE_CHARS = 512;

/**
 * API Gateway's limit on the method ARN of a method an authorizer guards: "the maximum length is 1600 bytes
 * ... the API client receives a 414 Request URI too long response" (Output from an API Gateway Lambda
 * authorizer); path parameter values can push it over.
 */
const MAX_METHOD_ARN_BYTES = 1600;

/** Why API Gateway would refuse an authorizer's policy, answering 500, or undefined when it takes it. */
export function policyProblem(policy: APIGatewayAuthorizerResult['policyDocument']): string | undefined {
  for (const statement of policy?.Statement ?? []) {
    const resources = [(statement as { Resource?: unknown }).Resource ?? []].flat();
    // Counted in characters (code points), as the documentation states the limit.
    const long = resources.find((r) => typeof r === 'string' && [...r].length > MAX_POLICY_RESOURCE_CHARS);
    if (long !== undefined) {
      return `a policy Resource of ${[...(long as string)].length} characters (at most ${MAX_POLICY_RESOURCE_CHARS})`;
    }
  }
  return undefined;
}

/**
 * Whether API Gateway takes an authorizer's `context`: absent, or a map whose values are strings, numbers or
 * booleans ("you cannot set a JSON object or array as a valid value of any key in the context map", Output
 * from an API Gateway Lambda authorizer); any other is the authorizer's failure, a 500.
 */
export function isUsableContext(context: unknown): boolean {
  if (context === undefined || context === null) return true;
  if (typeof context !== 'object' || Array.isArray(context)) return false;
  return Object.values(context).every((v) => typeof v !== 'object' || v === null);
}

interface Route {
  readonly resource: ResourceModel;
  readonly pathParameters: Record<string, string>;
}

/**
 * The resource a path selects: a literal part before a `{param}` before a greedy `{proxy+}`. A trailing
 * slash selects the same resource, as on API Gateway.
 */
export function selectResource(root: ResourceModel, path: string): Route | undefined {
  const parts = path.split('/').slice(1);
  if (parts.length > 1 && parts.at(-1) === '') parts.pop();
  if (parts.length === 1 && parts[0] === '') parts.pop();
  const decode = (s: string) => {
    try {
      return decodeURIComponent(s);
    } catch {
      return s;
    }
  };
  const walk = (node: ResourceModel, i: number, params: Record<string, string>): Route | undefined => {
    if (i === parts.length) return { resource: node, pathParameters: params };
    const part = parts[i] as string;
    if (part === '') return undefined;
    const literal = node.children.find((c) => c.pathPart === part);
    const viaLiteral = literal && walk(literal, i + 1, params);
    if (viaLiteral) return viaLiteral;
    for (const child of node.children.filter((c) => /^\{[^+}]+\}$/.test(c.pathPart))) {
      const found = walk(child, i + 1, { ...params, [child.pathPart.slice(1, -1)]: decode(part) });
      if (found) return found;
    }
    const greedy = node.children.find((c) => /^\{.+\+\}$/.test(c.pathPart));
    if (greedy) {
      return {
        resource: greedy,
        pathParameters: { ...params, [greedy.pathPart.slice(1, -2)]: decode(parts.slice(i).join('/')) },
      };
    }
    return undefined;
  };
  return walk(root, 0, {});
}

class GatewayError extends Error {
  constructor(
    readonly type: GatewayResponseType,
    /** `$context.error.message`; API Gateway leaves it null for authorizer failures. */
    readonly errorMessage: string | null,
    /** For errors that have no response type of their own (a failed proxy integration answers 502). */
    readonly statusCode?: number,
    readonly errorType?: string,
  ) {
    super(errorMessage ?? type);
  }
}

export interface RequestTarget {
  readonly pathname: string;
  readonly searchParams: URLSearchParams;
}

/** `/path?query` (or an absolute-form `http://host/path?query`) split as sent. */
export function requestTarget(raw: string): RequestTarget {
  const absolute = /^[a-z][a-z0-9+.-]*:\/\/[^/?#]*/i.exec(raw);
  const target = absolute === null ? raw : raw.slice(absolute[0].length) || '/';
  const query = target.indexOf('?');
  return {
    pathname: query === -1 ? target : target.slice(0, query),
    searchParams: new URLSearchParams(query === -1 ? '' : target.slice(query + 1)),
  };
}

interface RequestState {
  readonly requestId: string;
  readonly startedAt: number;
  readonly method: string;
  /** The request target as sent: no dot-segment or percent normalisation, which API Gateway does not do. */
  readonly url: RequestTarget;
  readonly headers: Record<string, string[]>;
  readonly rawHeaderNames: Map<string, string>;
  readonly sourceIp: string;
  route?: Route;
  resourcePath?: string;
  authorizer?: Record<string, string>;
  /** How long the Lambda authorizer took, in ms (0 for a decision from the cache). */
  authorizerLatency?: number;
  /** A JWT authorizer's claims, with their JSON types, as a Lambda proxy integration receives them. */
  jwtClaims?: Record<string, unknown>;
  error?: GatewayError;
}

/** CLF time, as `$context.requestTime` has it: `28/Nov/2026:10:00:00 +0000`. */
export function clfTime(epochMs: number): string {
  const d = new Date(epochMs);
  const months = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${pad(d.getUTCDate())}/${months[d.getUTCMonth()]}/${d.getUTCFullYear()}:${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())} +0000`;
}

/** The request's body, or undefined past `limit` bytes (a REST or HTTP API's payload limit by default). */
export async function readBody(req: IncomingMessage, limit = MAX_PAYLOAD_BYTES): Promise<Buffer | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit) return undefined;
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

/** A wait `withTimeout` gave up on. */
class TimeoutError extends Error {
  override readonly name = 'TimeoutError';
}

export function withTimeout<T>(promise: Promise<T>, seconds: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new TimeoutError(`timed out after ${seconds} s`)), seconds * 1000);
    timer.unref();
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** One authorizer decision as the cache keeps it (a REST authorizer's result, or what an HTTP API's decided). */
export interface CachedDecision<R = APIGatewayAuthorizerResult> {
  readonly result: R;
  /** Epoch milliseconds; from then on the authorizer is asked again. */
  readonly expires: number;
}

/**
 * Where the gateway keeps authorizer decisions, by authorizer and token, for the authorizer's TTL: a part
 * one can swap (to watch it, or to share it between gateways); the default is bounded.
 */
export interface AuthorizerResultCache<R = APIGatewayAuthorizerResult> {
  get(key: string): CachedDecision<R> | undefined;
  set(key: string, decision: CachedDecision<R>): void;
}

/**
 * The default decision cache: bounded, like any cache an attacker can fill with made-up tokens, the
 * oldest entry going first. Expiry is the gateway's to judge, so a stale entry stays until pushed out.
 */
export function createBoundedResultCache<R = APIGatewayAuthorizerResult>(
  maxEntries: number,
): AuthorizerResultCache<R> {
  const entries = new Map<string, CachedDecision<R>>();
  return {
    get: (key) => entries.get(key),
    set: (key, decision) => {
      if (entries.size >= maxEntries) entries.delete(entries.keys().next().value as string);
      entries.set(key, decision);
    },
  };
}

/** What every step of a request reads: the API, its handlers, where it is served, and the decision cache. */
interface GatewayContext {
  readonly api: ApiModel;
  readonly functions: ReadonlyMap<string, LambdaHandler>;
  readonly now: () => number;
  readonly region: string;
  readonly accountId: string;
  readonly apiId: string;
  readonly cache: AuthorizerResultCache;
  readonly stats: { authorizerCalls: number; cacheHits: number };
  readonly checkJwt: JwtChecker | undefined;
  readonly onFunctionFailure: FunctionFailureReporter;
}

/** An answer to write: status, headers and body. */
export interface Reply {
  readonly statusCode: number;
  readonly headers: Record<string, string | string[]>;
  readonly body: string | Buffer;
}

export function send(res: ServerResponse, reply: Reply): void {
  res.writeHead(reply.statusCode, reply.headers);
  res.end(reply.body);
}

/** The handler of a Lambda function the API invokes; a missing one is the caller's bug. */
export function handlerOf(ctx: Pick<GatewayContext, 'functions'>, functionId: string): LambdaHandler {
  const handler = ctx.functions.get(functionId);
  if (handler === undefined) throw new Error(`no handler for the Lambda function ${functionId}`);
  return handler;
}

/** The request's headers by lower-case name (every value, in order), and each name as first sent. */
function readRequestState(req: IncomingMessage, now: () => number): RequestState {
  const headers: Record<string, string[]> = {};
  const rawHeaderNames = new Map<string, string>();
  for (let i = 0; i + 1 < req.rawHeaders.length; i += 2) {
    const name = req.rawHeaders[i] as string;
    const lower = name.toLowerCase();
    headers[lower] = [...(headers[lower] ?? []), req.rawHeaders[i + 1] as string];
    if (!rawHeaderNames.has(lower)) rawHeaderNames.set(lower, name);
  }
  return {
    requestId: randomUUID(),
    startedAt: now(),
    method: req.method ?? 'GET',
    url: requestTarget(req.url ?? '/'),
    headers,
    rawHeaderNames,
    sourceIp: req.socket.remoteAddress ?? '127.0.0.1',
  };
}

/** `$context.<name>` for this request, as mapping expressions and gateway response templates read it. */
function contextVariables(ctx: GatewayContext, state: RequestState) {
  return (name: string): string | undefined => {
    const host = state.headers.host?.[0];
    const values: Record<string, string | undefined> = {
      accountId: ctx.accountId,
      apiId: ctx.apiId,
      domainName: host,
      domainPrefix: host?.split('.')[0],
      extendedRequestId: state.requestId,
      httpMethod: state.method,
      'identity.sourceIp': state.sourceIp,
      'identity.userAgent': state.headers['user-agent']?.[0],
      path: `/${ctx.api.stageName}${state.url.pathname}`,
      protocol: 'HTTP/1.1',
      requestId: state.requestId,
      requestTime: clfTime(state.startedAt),
      requestTimeEpoch: String(state.startedAt),
      resourcePath: state.resourcePath,
      stage: ctx.api.stageName,
      'error.message': state.error?.errorMessage ?? undefined,
      'error.messageString': state.error && JSON.stringify(state.error.errorMessage),
      'error.responseType': state.error?.type,
    };
    if (name in values) return values[name];
    if (name.startsWith('authorizer.')) return state.authorizer?.[name.slice('authorizer.'.length)];
    return undefined;
  };
}

/** The query string by name, every value of a repeated name in order. */
function queryOf(url: RequestTarget): Record<string, string[]> {
  return Object.fromEntries(
    [...new Set(url.searchParams.keys())].map((k) => [k, url.searchParams.getAll(k)]),
  );
}

function mappingInputs(ctx: GatewayContext, state: RequestState): MappingInputs {
  return {
    methodRequest: {
      header: state.headers,
      path: state.route?.pathParameters ?? {},
      querystring: queryOf(state.url),
    },
    stageVariables: ctx.api.stageVariables,
    context: contextVariables(ctx, state),
  };
}

/** The headers a list of mappings sets (mappings to other places are not headers). */
function mappedHeaders(mappings: readonly Mapping[], inputs: MappingInputs): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const m of mappings) {
    if (m.target.location !== 'header') continue;
    const value = evaluateMapping(m.source, inputs);
    if (value !== undefined) headers[m.target.name] = value;
  }
  return headers;
}

/**
 * The template's answer to an error of the request: its own gateway response, else DEFAULT_4XX/5XX, else
 * API Gateway's; `$context.error.*` names the error.
 */
function renderGatewayResponse(ctx: GatewayContext, request: RequestState, error: GatewayError): Reply {
  const { api } = ctx;
  const state: RequestState = { ...request, error };
  const defaultStatus = GATEWAY_RESPONSE_STATUS[error.type] ?? error.statusCode ?? 500;
  const own = api.gatewayResponses.get(error.type);
  const fallback = api.gatewayResponses.get(defaultStatus >= 500 ? 'DEFAULT_5XX' : 'DEFAULT_4XX');
  const response = own ?? fallback;
  const templates = response?.templates ?? {};
  const contentType =
    'application/json' in templates || Object.keys(templates).length === 0
      ? 'application/json'
      : (Object.keys(templates)[0] as string);
  const template = templates[contentType] ?? '{"message":$context.error.messageString}';
  // Gateway response templates are simple variable substitution, not VTL.
  const body = renderTemplate(template, {
    context: contextVariables(ctx, state),
    stageVariables: api.stageVariables,
  });
  const errorType = error.errorType ?? ERROR_TYPES[error.type];
  return {
    // DEFAULT_4XX's (5XX's) status code, when set, is every other 4XX's (5XX's) that names none itself.
    statusCode: error.statusCode ?? own?.statusCode ?? fallback?.statusCode ?? defaultStatus,
    headers: {
      'Content-Type': contentType,
      ...mappedHeaders(response?.parameters ?? [], mappingInputs(ctx, state)),
      'x-amzn-RequestId': state.requestId,
      ...(errorType !== undefined ? { 'x-amzn-ErrorType': errorType } : {}),
    },
    body,
  };
}

type MockIntegration = Extract<IntegrationModel, { type: 'MOCK' }>;
type ProxyIntegration = Extract<IntegrationModel, { type: 'AWS_PROXY' }>;

/** A method the gateway serves: one whose integration it emulates. */
interface ServedMethod extends MethodModel {
  readonly integration: MockIntegration | ProxyIntegration;
}

/** The route and method a request selects; anything the API does not declare, OPTIONS included, is a 403. */
function routeRequest(ctx: GatewayContext, state: RequestState): { route: Route; method: ServedMethod } {
  state.route = selectResource(ctx.api.root, state.url.pathname);
  const methods = state.route?.resource.methods;
  const method = methods?.get(state.method) ?? methods?.get('ANY');
  if (state.route === undefined || method === undefined) {
    throw new GatewayError('MISSING_AUTHENTICATION_TOKEN', 'Missing Authentication Token');
  }
  state.resourcePath = state.route.resource.path;
  if (method.integration.type === 'UNSUPPORTED') {
    // Named at start; never served otherwise than AWS would in silence.
    throw new GatewayError(
      'DEFAULT_5XX',
      `Not emulated locally: ${method.integration.reason}`,
      501,
      'NotEmulatedLocally',
    );
  }
  return { route: state.route, method: method as ServedMethod };
}

/** What `decideThroughCache` reads: the cache, the clock and the counts it keeps. */
interface DecisionCacheContext<R> {
  readonly cache: AuthorizerResultCache<R>;
  readonly now: () => number;
  readonly stats: { authorizerCalls: number; cacheHits: number };
}

/** A cached decision within its TTL, else a fresh one from `call`, kept for `ttlSeconds` (none when 0). */
export async function decideThroughCache<R>(
  ctx: DecisionCacheContext<R>,
  key: string,
  ttlSeconds: number,
  call: () => Promise<R>,
): Promise<R> {
  const hit = ctx.cache.get(key);
  if (hit !== undefined && hit.expires > ctx.now()) {
    ctx.stats.cacheHits++;
    return hit.result;
  }
  ctx.stats.authorizerCalls++;
  const result = await call();
  // Only decisions are cached; a 401 or a failure asks again next time.
  if (ttlSeconds > 0) ctx.cache.set(key, { result, expires: ctx.now() + ttlSeconds * 1000 });
  return result;
}

/** The authorizer's answer for a token: a cached decision within its TTL, else a fresh call. */
function authorizerResult(
  ctx: GatewayContext,
  authorizer: TokenAuthorizerModel,
  token: string,
  methodArn: string,
): Promise<APIGatewayAuthorizerResult> {
  return decideThroughCache(ctx, `${authorizer.logicalId}\n${token}`, authorizer.ttlSeconds, () =>
    callAuthorizer(ctx, authorizer, token, methodArn),
  );
}

/** Invokes the authorizer function; a 401 for exactly Unauthorized, a 500 for any other failure or shape. */
async function callAuthorizer(
  ctx: GatewayContext,
  authorizer: TokenAuthorizerModel,
  token: string,
  methodArn: string,
): Promise<APIGatewayAuthorizerResult> {
  let answer: unknown;
  try {
    answer = await withTimeout(
      handlerOf(ctx, authorizer.functionId)({ type: 'TOKEN', authorizationToken: token, methodArn }),
      Math.min(
        ctx.api.functions.get(authorizer.functionId)?.timeoutSeconds ?? 3,
        INTEGRATION_TIMEOUT_SECONDS,
      ),
    );
  } catch (err) {
    // Only the exact message Unauthorized is a 401; any other failure is the authorizer's own 500.
    if (err instanceof Error && err.message === 'Unauthorized') {
      throw new GatewayError('UNAUTHORIZED', 'Unauthorized');
    }
    throw new GatewayError('AUTHORIZER_CONFIGURATION_ERROR', null);
  }
  const shaped = answer as Partial<APIGatewayAuthorizerResult> | null;
  if (
    shaped === null ||
    typeof shaped !== 'object' ||
    typeof shaped.principalId !== 'string' ||
    typeof shaped.policyDocument !== 'object' ||
    !Array.isArray(shaped.policyDocument?.Statement) ||
    policyProblem(shaped.policyDocument) !== undefined ||
    !isUsableContext(shaped.context)
  ) {
    throw new GatewayError('AUTHORIZER_CONFIGURATION_ERROR', null);
  }
  return shaped as APIGatewayAuthorizerResult;
}

/**
 * The TOKEN authorizer's check of a request: 401 without a token (or one the validation expression
 * refuses), the authorizer's decision from the cache or a call, 403 unless its policy allows the method
 * ARN. Returns `$context.authorizer`.
 */
async function authorize(
  ctx: GatewayContext,
  state: RequestState,
  authorizer: TokenAuthorizerModel,
): Promise<Record<string, string>> {
  // The same value the backend's `headers` gets: with the header sent twice, the last one.
  const token = state.headers[authorizer.identityHeader.toLowerCase()]?.at(-1);
  // A missing or empty identity source, or one the validation expression refuses, is a 401 without a call.
  if (token === undefined || token === '') throw new GatewayError('UNAUTHORIZED', 'Unauthorized');
  if (authorizer.validation !== undefined && !authorizer.validation.test(token)) {
    throw new GatewayError('UNAUTHORIZED', 'Unauthorized');
  }
  const methodArn = `arn:aws:execute-api:${ctx.region}:${ctx.accountId}:${ctx.apiId}/${ctx.api.stageName}/${state.method}${state.url.pathname}`;
  if (Buffer.byteLength(methodArn) > MAX_METHOD_ARN_BYTES) {
    throw new GatewayError('DEFAULT_4XX', 'Request URI too long', 414);
  }
  const started = ctx.now();
  const result = await authorizerResult(ctx, authorizer, token, methodArn);
  state.authorizerLatency = ctx.now() - started;
  const context = {
    ...Object.fromEntries(Object.entries(result.context ?? {}).map(([k, v]) => [k, String(v)])),
    principalId: result.principalId,
  };
  const decision = policyDecision(result.policyDocument, methodArn);
  if (decision !== 'allow') {
    // The ACCESS_DENIED gateway response reads the context of the decision that refused ($context.authorizer.*).
    state.authorizer = context;
    throw new GatewayError(
      'ACCESS_DENIED',
      decision === 'explicit-deny'
        ? 'User is not authorized to access this resource with an explicit deny'
        : 'User is not authorized to access this resource',
    );
  }
  return context;
}

/**
 * A JWT authorizer's check of a request: 401 for a missing or invalid token, 403 for one without the
 * method's scopes. Its claims become `$context.authorizer.claims.<name>` (JSON text) and, with their JSON
 * types, the proxy event's `requestContext.authorizer.claims`.
 */
async function authorizeJwt(ctx: GatewayContext, state: RequestState, guard: JwtGuard): Promise<void> {
  if (ctx.checkJwt === undefined) {
    throw new GatewayError('DEFAULT_5XX', 'Not emulated locally: JWT authorizers need the local issuer', 501);
  }
  const decision = await ctx.checkJwt(
    guard,
    state.headers[guard.authorizer.identityHeader.toLowerCase()]?.at(-1),
  );
  if (decision.kind === 'unauthorized') throw new GatewayError('UNAUTHORIZED', 'Unauthorized');
  if (decision.kind === 'forbidden') throw new GatewayError('ACCESS_DENIED', 'Forbidden');
  state.jwtClaims = decision.claims;
  state.authorizer = Object.fromEntries(
    Object.entries(decision.claims).map(([name, value]) => [`claims.${name}`, restClaimText(value)]),
  );
}

/** The request validator's parameter check: the required parameters absent or blank, by name. */
function findMissingParameters(state: RequestState, method: MethodModel): string[] {
  const missing: string[] = [];
  for (const key of method.requiredParameters) {
    const match =
      /^method\.request\.(header|querystring|path|multivalueheader|multivaluequerystring)\.(.+)$/.exec(key);
    if (match === null) continue;
    const [, location, name] = match as unknown as [string, string, string];
    const values = location.endsWith('header')
      ? state.headers[name.toLowerCase()]
      : location.endsWith('querystring')
        ? state.url.searchParams.getAll(name)
        : [state.route?.pathParameters[name] ?? ''];
    if (values === undefined || values.every((v) => v.trim() === '')) missing.push(name);
  }
  return missing;
}

/** A MOCK integration's answer: the integration response its request template's status code selects. */
function mockReply(ctx: GatewayContext, state: RequestState, integration: MockIntegration): Reply {
  const { requestTemplates, responses } = integration;
  const requestType = state.headers['content-type']?.[0]?.split(';')[0]?.trim() || 'application/json';
  const template = requestTemplates[requestType] ?? requestTemplates['application/json'] ?? '';
  // A MOCK integration answers with the status code its request template names.
  const status = /statusCode\s*:\s*(\d{3})/.exec(template)?.[1] ?? '200';
  const response =
    responses.find((r) => r.selectionPattern?.test(status)) ??
    responses.find((r) => r.selectionPattern === undefined);
  if (response === undefined) {
    throw new GatewayError('API_CONFIGURATION_ERROR', 'Internal server error');
  }
  const mapped = mappedHeaders(response.parameters, {
    ...mappingInputs(ctx, state),
    integrationResponse: { header: {}, body: '' },
  });
  // A response template's key is the media type of the body it makes; without one (a CORS preflight's
  // 204) the answer has no body and, unless a mapping names one, no Content-Type.
  const type =
    'application/json' in response.templates ? 'application/json' : Object.keys(response.templates)[0];
  const named = Object.keys(mapped).some((h) => h.toLowerCase() === 'content-type');
  return {
    statusCode: response.statusCode,
    headers: {
      ...(type !== undefined && !named ? { 'Content-Type': type } : {}),
      ...mapped,
      'x-amzn-RequestId': state.requestId,
    },
    body: renderTemplate(type === undefined ? '' : (response.templates[type] as string), {
      context: contextVariables(ctx, state),
      stageVariables: ctx.api.stageVariables,
      param: (name) => paramOf(state, name),
    }),
  };
}

/** `$input.params(name)`: the method request's path parameter, else query string parameter, else header. */
function paramOf(state: RequestState, name: string): string | undefined {
  return (
    state.route?.pathParameters[name] ??
    state.url.searchParams.get(name) ??
    state.headers[name.toLowerCase()]?.at(-1)
  );
}

/** The event a Lambda proxy integration receives: headers as sent (last value, and every value), and the context. */
function buildProxyEvent(
  ctx: GatewayContext,
  state: RequestState,
  route: Route,
  method: MethodModel,
  body: Buffer,
): APIGatewayProxyEvent {
  const { api } = ctx;
  const singleHeaders: Record<string, string> = {};
  const multiHeaders: Record<string, string[]> = {};
  for (const [name, values] of Object.entries(state.headers)) {
    const original = state.rawHeaderNames.get(name) ?? name;
    singleHeaders[original] = values.at(-1) as string;
    multiHeaders[original] = values;
  }
  const query = queryOf(state.url);
  const hasQuery = Object.keys(query).length > 0;
  const pathParameters = route.pathParameters;
  return {
    resource: route.resource.path,
    path: state.url.pathname,
    httpMethod: state.method,
    headers: singleHeaders,
    multiValueHeaders: multiHeaders,
    queryStringParameters: hasQuery
      ? Object.fromEntries(Object.entries(query).map(([k, v]) => [k, v.at(-1) as string]))
      : null,
    multiValueQueryStringParameters: hasQuery ? query : null,
    pathParameters: Object.keys(pathParameters).length > 0 ? pathParameters : null,
    stageVariables: Object.keys(api.stageVariables).length > 0 ? api.stageVariables : null,
    body: body.length === 0 ? null : body.toString('utf8'),
    isBase64Encoded: false,
    requestContext: {
      accountId: ctx.accountId,
      apiId: ctx.apiId,
      authorizer:
        state.jwtClaims !== undefined
          ? { claims: state.jwtClaims }
          : state.authorizer === undefined
            ? null
            : // A Lambda authorizer's context, its principal, and its latency as a number.
              { ...state.authorizer, integrationLatency: state.authorizerLatency ?? 0 },
      domainName: state.headers.host?.[0],
      domainPrefix: state.headers.host?.[0]?.split('.')[0],
      extendedRequestId: state.requestId,
      httpMethod: state.method,
      identity: {
        sourceIp: state.sourceIp,
        userAgent: state.headers['user-agent']?.[0] ?? null,
      },
      path: `/${api.stageName}${state.url.pathname}`,
      protocol: 'HTTP/1.1',
      requestId: state.requestId,
      requestTime: clfTime(state.startedAt),
      requestTimeEpoch: state.startedAt,
      resourceId: method.logicalId,
      resourcePath: route.resource.path,
      stage: api.stageName,
    },
  } as unknown as APIGatewayProxyEvent;
}

/** A failed Lambda proxy integration: 502, which has no gateway response type of its own. */
const proxyFailed = () =>
  new GatewayError('DEFAULT_5XX', 'Internal server error', 502, 'InternalServerErrorException');

/** Invokes a proxy integration's function: 502 if it errs or passes its own timeout, 504 past the integration's. */
async function invokeProxy(ctx: GatewayContext, integration: ProxyIntegration, event: APIGatewayProxyEvent) {
  const { functionId, timeoutMillis } = integration;
  const functionTimeout = ctx.api.functions.get(functionId)?.timeoutSeconds ?? 3;
  try {
    return await withTimeout(
      // A function that errs or times out within its own timeout is Lambda's error: a 502.
      withTimeout(handlerOf(ctx, functionId)(event), functionTimeout).catch((err: unknown) => {
        ctx.onFunctionFailure(`${event.httpMethod} ${event.resource}`, functionId, err);
        throw proxyFailed();
      }),
      timeoutMillis / 1000,
    );
  } catch (err) {
    if (err instanceof GatewayError) throw err;
    // Past the integration timeout API Gateway stops waiting: 504 (AWS knowledge center, "API Gateway 504").
    throw new GatewayError('INTEGRATION_TIMEOUT', 'Endpoint request timed out');
  }
}

const scalarHeader = (v: unknown) =>
  typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean' ? String(v) : undefined;

/**
 * A Lambda proxy answer (statusCode, headers, multiValueHeaders, body, isBase64Encoded) as the reply it
 * makes; nothing is added but a Content-Type when it names none. Any other shape is a 502.
 */
function readProxyResult(answer: unknown, requestId: string): Reply {
  const a = answer as Record<string, unknown> | null;
  const statusCode = Number(a?.statusCode);
  if (
    a === null ||
    typeof a !== 'object' ||
    !Number.isInteger(statusCode) ||
    statusCode < 100 ||
    statusCode > 599 ||
    (a.body !== undefined && a.body !== null && typeof a.body !== 'string')
  ) {
    throw proxyFailed();
  }
  const headers: Record<string, string[]> = {};
  for (const [name, values] of Object.entries((a.multiValueHeaders ?? {}) as Record<string, unknown>)) {
    if (!Array.isArray(values)) throw proxyFailed();
    headers[name] = values.map(scalarHeader).filter((v): v is string => v !== undefined);
  }
  for (const [name, value] of Object.entries((a.headers ?? {}) as Record<string, unknown>)) {
    const v = scalarHeader(value);
    if (v === undefined) throw proxyFailed();
    const list = headers[name] ?? [];
    if (!list.includes(v)) list.push(v);
    headers[name] = list;
  }
  if (!Object.keys(headers).some((h) => h.toLowerCase() === 'content-type')) {
    headers['Content-Type'] = ['application/json'];
  }
  const payload = typeof a.body === 'string' ? a.body : '';
  return {
    statusCode,
    headers: { ...headers, 'x-amzn-RequestId': requestId },
    body: a.isBase64Encoded === true ? Buffer.from(payload, 'base64') : payload,
  };
}

/** The method's integration answer: a MOCK's integration response, or the Lambda proxy's own. */
async function integrate(
  ctx: GatewayContext,
  state: RequestState,
  route: Route,
  method: ServedMethod,
  body: Buffer,
): Promise<Reply> {
  if (method.integration.type === 'MOCK') return mockReply(ctx, state, method.integration);
  const event = buildProxyEvent(ctx, state, route, method, body);
  const answer = await invokeProxy(ctx, method.integration, event);
  try {
    return readProxyResult(answer, state.requestId);
  } catch (err) {
    const malformed = new Error(
      `Malformed Lambda proxy response (statusCode, headers, multiValueHeaders, body as a string): ${JSON.stringify(answer)?.slice(0, 200)}`,
    );
    malformed.stack = malformed.message;
    ctx.onFunctionFailure(`${event.httpMethod} ${event.resource}`, method.integration.functionId, malformed);
    throw err;
  }
}

/**
 * A REST API served from its template, the way API Gateway serves it: the resource and method tree
 * (403 Missing Authentication Token for anything undeclared), the TOKEN authorizer (identity source,
 * validation expression, result cache, policy evaluated against the method ARN), required-parameter
 * validation, MOCK integrations through their integration responses, Lambda proxy integrations whose
 * answers pass through untouched, and every error answered through the template's gateway responses.
 */
export function createLocalGateway(options: LocalGatewayOptions) {
  const ctx: GatewayContext = {
    api: options.api,
    functions: options.functions,
    now: options.now ?? Date.now,
    region: options.region ?? 'local-1',
    accountId: options.accountId ?? '000000000000',
    apiId: 'localapi',
    cache: options.authorizerCache ?? createBoundedResultCache(options.maxCachedDecisions ?? 10_000),
    stats: { authorizerCalls: 0, cacheHits: 0 },
    checkJwt: options.checkJwt,
    onFunctionFailure: options.onFunctionFailure ?? printFunctionFailure,
  };

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const state = readRequestState(req, ctx.now);
    try {
      const body = await readBody(req);
      if (body === undefined) throw new GatewayError('REQUEST_TOO_LARGE', 'Request Too Long');
      const { route, method } = routeRequest(ctx, state);
      if (method.jwt !== undefined) await authorizeJwt(ctx, state, method.jwt);
      if (method.authorizer !== undefined) state.authorizer = await authorize(ctx, state, method.authorizer);
      const missing = findMissingParameters(state, method);
      if (missing.length > 0) {
        throw new GatewayError(
          'BAD_REQUEST_PARAMETERS',
          `Missing required request parameters: [${missing.join(', ')}]`,
        );
      }
      send(res, await integrate(ctx, state, route, method, body));
    } catch (err) {
      if (!(err instanceof GatewayError)) throw err;
      send(res, renderGatewayResponse(ctx, state, err));
    }
  }

  return { handle, stats: ctx.stats as GatewayStats };
}
