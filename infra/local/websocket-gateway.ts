import { isUtf8 } from 'node:buffer';
import { randomBytes, randomUUID } from 'node:crypto';
import { type IncomingMessage, type Server, type ServerResponse, STATUS_CODES } from 'node:http';
import type { Duplex } from 'node:stream';
import type { APIGatewayAuthorizerResult } from 'aws-lambda';
import { type WebSocket, WebSocketServer } from 'ws';
import { loggableError } from '../../lambda/authorizer/safe-text.js';
import {
  clfTime,
  handlerOf,
  isUsableContext,
  type LambdaHandler,
  policyDecision,
  policyProblem,
  readBody,
  requestTarget,
  withTimeout,
} from './gateway.js';
import { addressedToLoopback, FOREIGN_HOST_BODY } from './loopback-host.js';
import {
  type RouteSelection,
  type WebSocketApiModel,
  type WebSocketAuthorizerModel,
  type WebSocketRouteModel,
  webSocketPaths,
} from './websocket-api-template.js';

/**
 * WebSocket APIs served from their template, the way API Gateway serves them: the upgrade request runs the
 * `$connect` route (its REQUEST authorizer, then its integration) before the handshake is answered, so a
 * refusal is the HTTP status the client sees; each message then goes to the route its route selection
 * expression picks (else `$default`), a closed connection to `$disconnect`, and the backends reach their
 * clients through `@connections` under the stage, as the ApiGatewayManagementApi client calls it.
 */

interface LocalWebSocketGatewayOptions {
  /** Each API is served at `/<stage>`. */
  readonly apis: readonly WebSocketApiModel[];
  readonly functions: ReadonlyMap<string, LambdaHandler>;
  /** @default Date.now */
  readonly now?: () => number;
  /** Where a failed invocation is told, with its route. @default console.error */
  readonly log?: (line: string) => void;
}

interface LocalWebSocketGateway {
  /** Takes an upgrade request for a served stage; false for any other path. */
  upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): boolean;
  /** Answers `/<stage>/@connections/<id>` (POST, GET, DELETE); false for any other request. */
  connections(req: IncomingMessage, res: ServerResponse): Promise<boolean>;
  /** Closes every connection without calling `$disconnect` (the functions stop with the server). */
  close(): void;
}

/** "Maximum frame size ... 32 KB; WebSocket message payload size: 128 KB" (API Gateway WebSocket quotas). */
const MAX_WEBSOCKET_MESSAGE_BYTES = 128 * 1024;

const REGION = 'local-1';
const ACCOUNT_ID = '000000000000';

/** One open connection, as `@connections` and every route's event describe it. */
interface Connection {
  readonly id: string;
  readonly api: WebSocketApiModel;
  readonly socket: WebSocket;
  readonly connectedAt: number;
  lastActiveAt: number;
  readonly sourceIp: string;
  readonly userAgent: string;
  readonly domainName: string;
  /** What `$connect`'s authorizer answered: `principalId` and its context, as the backends see it. */
  readonly authorizer: Record<string, unknown> | undefined;
}

interface WebSocketGatewayContext {
  readonly apis: ReadonlyMap<string, WebSocketApiModel>;
  readonly functions: ReadonlyMap<string, LambdaHandler>;
  readonly now: () => number;
  readonly log: (line: string) => void;
  readonly server: WebSocketServer;
  readonly connections: Map<string, Connection>;
  /** The subprotocol each accepted upgrade answers with, as its `$connect` integration said. */
  readonly protocols: WeakMap<IncomingMessage, string>;
  closing: boolean;
}

/** A connection or message id of API Gateway's shape (`L0SM9cOFvHcCIhw=`), safe in a URL path. */
function newId(): string {
  return randomBytes(11).toString('base64').replaceAll('+', 'A').replaceAll('/', 'B');
}

/** The API's id in ARNs and events: its logical id, as an API id is written (lower case, 10 characters). */
const apiIdOf = (api: WebSocketApiModel) =>
  api.apiId
    .toLowerCase()
    .replace(/[^a-z0-9]/g, '')
    .slice(0, 10);

/** A route by key; `$connect` and `$disconnect` are never chosen by a message. */
const routeOf = (api: WebSocketApiModel, key: string) => api.routes.find((r) => r.routeKey === key);

/** The value of a JSON path in a parsed message, as text; undefined when it is not there. */
function valueAt(message: unknown, path: readonly string[]): string | undefined {
  let value = message;
  for (const name of path) {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined;
    value = (value as Record<string, unknown>)[name];
  }
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return undefined;
}

/**
 * The route key a message selects, or undefined when the expression cannot be evaluated (a message that is
 * not JSON, a path that is not there): API Gateway then takes `$default`.
 */
export function selectionValue(selection: RouteSelection, text: string): string | undefined {
  let message: unknown;
  try {
    message = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (selection.kind === 'path') return valueAt(message, selection.path);
  let key = '';
  for (const part of selection.parts) {
    if (typeof part === 'string') key += part;
    else {
      const value = valueAt(message, part);
      if (value === undefined) return undefined;
      key += value;
    }
  }
  return key;
}

/** The route a message goes to: the one its selection names, else `$default`, else none. */
export function selectWebSocketRoute(
  api: WebSocketApiModel,
  text: string | undefined,
): WebSocketRouteModel | undefined {
  const key = text === undefined ? undefined : selectionValue(api.routeSelection, text);
  const named =
    key === undefined || key === '$connect' || key === '$disconnect' ? undefined : routeOf(api, key);
  return named ?? routeOf(api, '$default');
}

/** What the upgrade request carries, in the shapes the `$connect` events give it. */
interface UpgradeRequest {
  readonly api: WebSocketApiModel;
  readonly connectionId: string;
  readonly requestId: string;
  readonly connectedAt: number;
  readonly headers: Record<string, string>;
  readonly multiValueHeaders: Record<string, string[]>;
  readonly query: URLSearchParams;
  readonly sourceIp: string;
}

function readUpgradeRequest(ctx: WebSocketGatewayContext, req: IncomingMessage, api: WebSocketApiModel) {
  const headers: Record<string, string> = {};
  const multiValueHeaders: Record<string, string[]> = {};
  for (let i = 0; i + 1 < req.rawHeaders.length; i += 2) {
    const name = req.rawHeaders[i] as string;
    const value = req.rawHeaders[i + 1] as string;
    headers[name] = headers[name] === undefined ? value : `${headers[name]},${value}`;
    multiValueHeaders[name] = [...(multiValueHeaders[name] ?? []), value];
  }
  return {
    api,
    connectionId: newId(),
    requestId: randomUUID(),
    connectedAt: ctx.now(),
    headers,
    multiValueHeaders,
    query: requestTarget(req.url ?? '/').searchParams,
    sourceIp: req.socket.remoteAddress ?? '127.0.0.1',
  } satisfies UpgradeRequest;
}

/** A header's value by name, whatever its case. */
function headerOf(headers: Readonly<Record<string, string>>, name: string): string | undefined {
  const lower = name.toLowerCase();
  for (const [key, value] of Object.entries(headers)) if (key.toLowerCase() === lower) return value;
  return undefined;
}

/** The `requestContext` every WebSocket event has, for one connection, route and event type. */
function requestContextOf(
  ctx: WebSocketGatewayContext,
  conn: Pick<Connection, 'api' | 'connectedAt' | 'sourceIp' | 'userAgent' | 'domainName'> & { id: string },
  route: { routeKey: string; eventType: 'CONNECT' | 'MESSAGE' | 'DISCONNECT'; requestId: string },
) {
  const now = ctx.now();
  return {
    routeKey: route.routeKey,
    eventType: route.eventType,
    extendedRequestId: route.requestId,
    requestTime: clfTime(now),
    messageDirection: 'IN',
    stage: conn.api.stageName,
    connectedAt: conn.connectedAt,
    requestTimeEpoch: now,
    identity: { sourceIp: conn.sourceIp, userAgent: conn.userAgent },
    requestId: route.requestId,
    domainName: conn.domainName,
    connectionId: conn.id,
    apiId: apiIdOf(conn.api),
  };
}

/** The connection an upgrade request would open, as its `$connect` events describe it. */
function upgradeConnection(up: UpgradeRequest) {
  return {
    id: up.connectionId,
    api: up.api,
    connectedAt: up.connectedAt,
    sourceIp: up.sourceIp,
    userAgent: headerOf(up.headers, 'user-agent') ?? '',
    domainName: headerOf(up.headers, 'host') ?? '',
  };
}

/** Headers, query string and stage variables of a `$connect` event (authorizer and integration alike). */
function connectEventBase(ctx: WebSocketGatewayContext, up: UpgradeRequest) {
  const query: Record<string, string> = {};
  const multiQuery: Record<string, string[]> = {};
  for (const key of new Set(up.query.keys())) {
    const values = up.query.getAll(key);
    query[key] = values[values.length - 1] as string;
    multiQuery[key] = values;
  }
  const hasQuery = Object.keys(query).length > 0;
  const { stageVariables } = up.api;
  return {
    headers: up.headers,
    multiValueHeaders: up.multiValueHeaders,
    ...(hasQuery ? { queryStringParameters: query, multiValueQueryStringParameters: multiQuery } : {}),
    ...(Object.keys(stageVariables).length > 0 ? { stageVariables } : {}),
    requestContext: requestContextOf(ctx, upgradeConnection(up), {
      routeKey: '$connect',
      eventType: 'CONNECT',
      requestId: up.requestId,
    }),
  };
}

/** A refusal of the upgrade: the HTTP status the client sees, and why. */
class Refusal extends Error {
  constructor(
    readonly status: number,
    readonly body = JSON.stringify({ message: REFUSAL_MESSAGES[status] ?? STATUS_CODES[status] }),
  ) {
    super(`refused ${status}`);
  }
}

const REFUSAL_MESSAGES: Readonly<Record<number, string>> = {
  401: 'Unauthorized',
  403: 'Forbidden',
  500: 'Internal server error',
};

/** `$context.<name>` of a `$connect` request, as an identity source reads it. */
function contextVariable(up: UpgradeRequest, name: string): string | undefined {
  return (
    {
      apiId: apiIdOf(up.api),
      connectionId: up.connectionId,
      domainName: headerOf(up.headers, 'host'),
      eventType: 'CONNECT',
      'identity.sourceIp': up.sourceIp,
      'identity.userAgent': headerOf(up.headers, 'user-agent'),
      requestId: up.requestId,
      routeKey: '$connect',
      stage: up.api.stageName,
    } as Record<string, string | undefined>
  )[name];
}

/** The identity sources' values, or undefined when one is missing or empty (a 401 without a call). */
function identityOf(up: UpgradeRequest, authorizer: WebSocketAuthorizerModel): string[] | undefined {
  const values: string[] = [];
  for (const source of authorizer.identitySources) {
    const value =
      source.from === 'header'
        ? headerOf(up.headers, source.name)
        : source.from === 'querystring'
          ? up.query.getAll(source.name).join(',')
          : source.from === 'stageVariables'
            ? up.api.stageVariables[source.name]
            : contextVariable(up, source.name);
    if (value === undefined || value === '') return undefined;
    values.push(value);
  }
  return values;
}

/** An authorizer's answer read as API Gateway reads it: an IAM policy for the `$connect` ARN, and its context. */
function authorizerDecision(result: unknown, methodArn: string): Record<string, unknown> {
  const r = result as Partial<APIGatewayAuthorizerResult> | null;
  const policy = r?.policyDocument;
  const context = r?.context ?? {};
  if (
    typeof r !== 'object' ||
    r === null ||
    typeof r.principalId !== 'string' ||
    typeof policy !== 'object' ||
    policy === null ||
    !Array.isArray(policy.Statement) ||
    policyProblem(policy) !== undefined ||
    !isUsableContext(context)
  ) {
    throw new Refusal(500);
  }
  if (policyDecision(policy, methodArn) !== 'allow') throw new Refusal(403);
  return { principalId: r.principalId, integrationLatency: 0, ...context };
}

/** `$connect`'s authorizer: 401 without its identity sources or for `Unauthorized`, 403 unless it allows, 500 on failure. */
async function authorizeConnect(
  ctx: WebSocketGatewayContext,
  up: UpgradeRequest,
  authorizer: WebSocketAuthorizerModel,
): Promise<Record<string, unknown>> {
  const identity = identityOf(up, authorizer);
  if (identity === undefined) throw new Refusal(401);
  const methodArn = `arn:aws:execute-api:${REGION}:${ACCOUNT_ID}:${apiIdOf(up.api)}/${up.api.stageName}/$connect`;
  const event = { type: 'REQUEST', methodArn, ...connectEventBase(ctx, up) };
  let result: unknown;
  try {
    const timeout = up.api.functions.get(authorizer.functionId)?.timeoutSeconds ?? 3;
    result = await withTimeout(handlerOf(ctx, authorizer.functionId)(event), Math.min(timeout, 29));
  } catch (err) {
    if (err instanceof Error && err.message === 'Unauthorized') throw new Refusal(401);
    ctx.log(
      `WebSocket ${up.api.apiId} $connect: the authorizer ${authorizer.logicalId} failed: ${describeError(err)}`,
    );
    throw new Refusal(500);
  }
  return authorizerDecision(result, methodArn);
}

/** A function's error for the server's output: its name and message, capped and printable. */
function describeError(err: unknown): string {
  const safe = loggableError(err);
  return `${safe.name}: ${safe.message}`;
}

/** A route's Lambda proxy integration called with an event; throws on the function's error or timeout. */
async function invokeRoute(
  ctx: WebSocketGatewayContext,
  api: WebSocketApiModel,
  route: WebSocketRouteModel,
  event: unknown,
): Promise<unknown> {
  if (route.integration.type !== 'AWS_PROXY') throw new Error(route.integration.reason);
  const { functionId, timeoutMillis } = route.integration;
  const functionTimeout = api.functions.get(functionId)?.timeoutSeconds ?? 3;
  try {
    return await withTimeout(
      withTimeout(handlerOf(ctx, functionId)(event), functionTimeout),
      timeoutMillis / 1000,
    );
  } catch (err) {
    ctx.log(`WebSocket ${api.apiId} ${route.routeKey}: ${functionId} failed: ${describeError(err)}`);
    throw err;
  }
}

/**
 * `$connect`'s integration, when the API has one: a 2xx answer accepts (its `Sec-WebSocket-Protocol`
 * header answers the client's subprotocols), another status refuses with that status, a failure with 500.
 */
async function integrateConnect(
  ctx: WebSocketGatewayContext,
  up: UpgradeRequest,
  route: WebSocketRouteModel,
  authorizer: Record<string, unknown> | undefined,
): Promise<string | undefined> {
  const base = connectEventBase(ctx, up);
  const event = {
    ...base,
    requestContext: { ...base.requestContext, ...(authorizer !== undefined ? { authorizer } : {}) },
    isBase64Encoded: false,
  };
  let answer: unknown;
  try {
    answer = await invokeRoute(ctx, up.api, route, event);
  } catch {
    throw new Refusal(500);
  }
  const a = (answer ?? {}) as { statusCode?: unknown; headers?: unknown; body?: unknown };
  const status = a.statusCode === undefined ? 200 : Number(a.statusCode);
  if (!Number.isInteger(status) || status < 200 || status > 599) throw new Refusal(500);
  if (status > 299) throw new Refusal(status, typeof a.body === 'string' ? a.body : '');
  const headers = (typeof a.headers === 'object' && a.headers !== null ? a.headers : {}) as Record<
    string,
    string
  >;
  const protocol = headerOf(headers, 'sec-websocket-protocol');
  return typeof protocol === 'string' ? protocol : undefined;
}

/** Writes a refusal on the socket of an upgrade request, as an HTTP answer. */
function refuse(socket: Duplex, refusal: Refusal): void {
  if (!socket.writable) return;
  socket.end(
    `HTTP/1.1 ${refusal.status} ${STATUS_CODES[refusal.status] ?? ''}\r\n` +
      'Content-Type: application/json\r\n' +
      `Content-Length: ${Buffer.byteLength(refusal.body)}\r\n` +
      'Connection: close\r\n\r\n' +
      refusal.body,
  );
}

/** An upgrade request: `$connect`'s authorizer and integration, then the handshake (or the refusal). */
async function connect(
  ctx: WebSocketGatewayContext,
  req: IncomingMessage,
  socket: Duplex,
  head: Buffer,
  api: WebSocketApiModel,
): Promise<void> {
  const up = readUpgradeRequest(ctx, req, api);
  const route = routeOf(api, '$connect');
  let authorizer: Record<string, unknown> | undefined;
  let protocol: string | undefined;
  try {
    if (route?.integration.type === 'UNSUPPORTED')
      throw new Refusal(
        501,
        JSON.stringify({ message: `Not emulated locally: ${route.integration.reason}` }),
      );
    if (route?.authorizer !== undefined) authorizer = await authorizeConnect(ctx, up, route.authorizer);
    if (route !== undefined) protocol = await integrateConnect(ctx, up, route, authorizer);
  } catch (err) {
    refuse(socket, err instanceof Refusal ? err : new Refusal(500));
    return;
  }
  if (protocol !== undefined) ctx.protocols.set(req, protocol);
  ctx.server.handleUpgrade(req, socket, head, (ws) => {
    const conn: Connection = { ...upgradeConnection(up), socket: ws, lastActiveAt: ctx.now(), authorizer };
    ctx.connections.set(conn.id, conn);
    ws.on('message', (data: Buffer, isBinary: boolean) => void onMessage(ctx, conn, data, isBinary));
    ws.on('close', (code: number, reason: Buffer) => void onClose(ctx, conn, code, reason.toString()));
    // A frame the client may not send (over 128 KB, bad UTF-8): ws closes with its code (1009, 1007) and
    // reports it here; left unheard, the 'error' event would end the whole local server.
    ws.on('error', (err: Error & { code?: string }) =>
      ctx.log(`WebSocket ${conn.id}: ${err.code ?? 'error'}, closed by the gateway`),
    );
  });
}

/** The gateway's own message to a client (`{"message", "connectionId", "requestId"}`). */
function sendGatewayMessage(conn: Connection, message: string, requestId: string): void {
  conn.socket.send(JSON.stringify({ message, connectionId: conn.id, requestId }));
}

/** A message: the route its selection names (else `$default`), its integration, its answer if two-way. */
async function onMessage(ctx: WebSocketGatewayContext, conn: Connection, data: Buffer, isBinary: boolean) {
  conn.lastActiveAt = ctx.now();
  const requestId = randomUUID();
  const text = isBinary ? undefined : data.toString('utf8');
  const route = selectWebSocketRoute(conn.api, text);
  if (route === undefined) return sendGatewayMessage(conn, 'Forbidden', requestId);
  if (route.integration.type === 'UNSUPPORTED') {
    return sendGatewayMessage(conn, `Not emulated locally: ${route.integration.reason}`, requestId);
  }
  const event = {
    requestContext: {
      ...requestContextOf(ctx, conn, { routeKey: route.routeKey, eventType: 'MESSAGE', requestId }),
      messageId: newId(),
      ...(conn.authorizer !== undefined ? { authorizer: conn.authorizer } : {}),
    },
    body: isBinary ? data.toString('base64') : text,
    isBase64Encoded: isBinary,
  };
  let answer: unknown;
  try {
    answer = await invokeRoute(ctx, conn.api, route, event);
  } catch {
    return sendGatewayMessage(conn, 'Internal server error', requestId);
  }
  const body = (answer as { body?: unknown } | null)?.body;
  if (route.returnsResponse && typeof body === 'string' && conn.socket.readyState === conn.socket.OPEN) {
    conn.socket.send(body);
  }
}

/** A closed connection: `$disconnect`'s integration, if any, told how it closed; its failure is only logged. */
async function onClose(ctx: WebSocketGatewayContext, conn: Connection, code: number, reason: string) {
  ctx.connections.delete(conn.id);
  const route = routeOf(conn.api, '$disconnect');
  if (ctx.closing || route === undefined || route.integration.type !== 'AWS_PROXY') return;
  const requestId = randomUUID();
  const event = {
    headers: { Host: conn.domainName },
    requestContext: {
      ...requestContextOf(ctx, conn, { routeKey: '$disconnect', eventType: 'DISCONNECT', requestId }),
      disconnectStatusCode: code,
      disconnectReason: reason,
      ...(conn.authorizer !== undefined ? { authorizer: conn.authorizer } : {}),
    },
    isBase64Encoded: false,
  };
  await invokeRoute(ctx, conn.api, route, event).catch(() => undefined);
}

/** `/<stage>/@connections/<id>` of a served API, split; undefined for any other path. */
function connectionsTarget(ctx: WebSocketGatewayContext, url: string) {
  const match = /^\/([^/]+)\/@connections\/([^/]+)$/.exec(requestTarget(url).pathname);
  if (match === null) return undefined;
  const decode = (part: string) => {
    try {
      return decodeURIComponent(part);
    } catch {
      return '';
    }
  };
  const api = ctx.apis.get(`/${decode(match[1] as string)}`);
  if (api === undefined) return undefined;
  const conn = ctx.connections.get(decode(match[2] as string));
  return { conn: conn?.api === api ? conn : undefined };
}

/** An answer of the management API, with the error type the AWS SDK reads (`x-amzn-errortype`). */
function managementReply(res: ServerResponse, status: number, error?: string, message?: string): void {
  if (error === undefined) {
    res.writeHead(status).end();
    return;
  }
  res.writeHead(status, { 'content-type': 'application/json', 'x-amzn-errortype': error });
  res.end(JSON.stringify({ message: message ?? error }));
}

/** `@connections/<id>`: POST sends to the client, GET describes the connection, DELETE closes it; 410 for a gone one. */
async function answerConnections(
  req: IncomingMessage,
  res: ServerResponse,
  conn: Connection | undefined,
): Promise<void> {
  const method = req.method ?? 'GET';
  if (!['POST', 'GET', 'DELETE'].includes(method))
    return managementReply(res, 403, 'ForbiddenException', 'Forbidden');
  const data = method === 'POST' ? await readBody(req, MAX_WEBSOCKET_MESSAGE_BYTES) : Buffer.alloc(0);
  if (conn === undefined || conn.socket.readyState !== conn.socket.OPEN)
    return managementReply(res, 410, 'GoneException');
  if (data === undefined) return managementReply(res, 413, 'PayloadTooLargeException');
  if (method === 'POST') {
    conn.socket.send(data, { binary: !isUtf8(data) });
    return managementReply(res, 200);
  }
  if (method === 'DELETE') {
    conn.socket.close(1000);
    return managementReply(res, 204);
  }
  res.writeHead(200, { 'content-type': 'application/json' });
  res.end(
    JSON.stringify({
      connectedAt: new Date(conn.connectedAt).toISOString(),
      identity: { sourceIp: conn.sourceIp, userAgent: conn.userAgent },
      lastActiveAt: new Date(conn.lastActiveAt).toISOString(),
    }),
  );
}

function createLocalWebSocketGateway(options: LocalWebSocketGatewayOptions): LocalWebSocketGateway {
  const protocols = new WeakMap<IncomingMessage, string>();
  const ctx: WebSocketGatewayContext = {
    apis: webSocketPaths(options.apis).served,
    functions: options.functions,
    now: options.now ?? Date.now,
    log: options.log ?? ((line) => console.error(line)),
    server: new WebSocketServer({
      noServer: true,
      clientTracking: false,
      maxPayload: MAX_WEBSOCKET_MESSAGE_BYTES,
      handleProtocols: (_offered, req) => protocols.get(req) ?? false,
    }),
    connections: new Map(),
    protocols,
    closing: false,
  };
  return {
    upgrade(req, socket, head) {
      const api = ctx.apis.get(requestTarget(req.url ?? '/').pathname);
      if (api === undefined || ctx.closing) return false;
      void connect(ctx, req, socket, head, api);
      return true;
    },
    async connections(req, res) {
      const target = connectionsTarget(ctx, req.url ?? '/');
      if (target === undefined) return false;
      await answerConnections(req, res, target.conn);
      return true;
    },
    close() {
      ctx.closing = true;
      for (const conn of ctx.connections.values()) conn.socket.terminate();
      ctx.connections.clear();
    },
  };
}

/**
 * The WebSocket part of the local server: its upgrade requests answered 503 until `serve` names the APIs
 * (their functions are started by then), 404 for a path no API is served at.
 */
export function attachWebSocketApis(server: Server, log?: (line: string) => void) {
  let gateway: LocalWebSocketGateway | undefined;
  let closed = false;
  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    if (!addressedToLoopback(req)) return refuse(socket, new Refusal(403, FOREIGN_HOST_BODY));
    if (gateway?.upgrade(req, socket, head) === true) return;
    refuse(socket, new Refusal(gateway === undefined && !closed ? 503 : 404));
  });
  return {
    serve(apis: readonly WebSocketApiModel[], functions: ReadonlyMap<string, LambdaHandler>): void {
      gateway = createLocalWebSocketGateway({ apis: closed ? [] : apis, functions, ...(log ? { log } : {}) });
    },
    connections: (req: IncomingMessage, res: ServerResponse) =>
      gateway?.connections(req, res) ?? Promise.resolve(false),
    close(): void {
      closed = true;
      gateway?.close();
    },
  };
}
