import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type {
  APIGatewayAuthorizerResult,
  APIGatewayProxyEvent,
  APIGatewayProxyResult,
  APIGatewayTokenAuthorizerEvent,
} from 'aws-lambda';
import { BEARER_HEADER_PATTERN } from '../../lambda/authorizer/bearer.js';
import { UNAUTHORIZED } from '../../lambda/authorizer/decision.js';
import {
  CORS_HEADERS,
  GATEWAY_RESPONSES,
  type GatewayResponseKind,
  gatewayResponseHeaders,
} from '../gateway-responses.js';
import type { RouteDefinition } from '../routes.js';

export type AuthorizerHandler = (
  event: APIGatewayTokenAuthorizerEvent,
) => Promise<APIGatewayAuthorizerResult>;
export type BackendHandler = (event: APIGatewayProxyEvent) => Promise<APIGatewayProxyResult>;

export interface LocalGatewayOptions {
  readonly routes: readonly RouteDefinition[];
  readonly authorizer: AuthorizerHandler;
  readonly backends: ReadonlyMap<RouteDefinition, BackendHandler>;
  /** API Gateway's result cache per token. @default 300 */
  readonly cacheTtlSeconds?: number;
  /** @default 'local' */
  readonly stage?: string;
  /** @default Date.now */
  readonly now?: () => number;
  /** The realm in WWW-Authenticate challenges. @default 'EntraAuthorizerSample' */
  readonly realm?: string;
}

const ARN_PREFIX = 'arn:aws:execute-api:local-1:000000000000:localapi';
const IDENTITY_VALIDATION = new RegExp(BEARER_HEADER_PATTERN);

/** IAM's wildcards in a resource: `*` any run of characters, `?` one character. */
function resourceMatches(pattern: string, arn: string): boolean {
  const source = pattern
    .replace(/[.+^${}()|[\]\\]/g, '\\$&')
    .replaceAll('*', '.*')
    .replaceAll('?', '.');
  return new RegExp(`^${source}$`).test(arn);
}

/** API Gateway's evaluation of an authorizer policy: an explicit Deny wins, then any Allow, else deny. */
export function evaluatePolicy(
  policy: APIGatewayAuthorizerResult['policyDocument'],
  methodArn: string,
): boolean {
  let allowed = false;
  for (const statement of policy.Statement) {
    const s = statement as { Effect: string; Action?: string | string[]; Resource?: string | string[] };
    const actions = [s.Action ?? []].flat();
    if (!actions.some((a) => a === 'execute-api:Invoke' || a === 'execute-api:*' || a === '*')) continue;
    if (![s.Resource ?? []].flat().some((r) => resourceMatches(r, methodArn))) continue;
    if (s.Effect === 'Deny') return false;
    if (s.Effect === 'Allow') allowed = true;
  }
  return allowed;
}

function send(res: ServerResponse, status: number, headers: Record<string, string>, body: string) {
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(body);
}

/**
 * API Gateway REST semantics on a local port: the identity source and validation regex (401 without
 * invoking), the TOKEN event, the policy evaluated against the method ARN, the result cache per token,
 * the context handed to the backend, and the gateway responses.
 */
export function createLocalGateway(options: LocalGatewayOptions) {
  const stage = options.stage ?? 'local';
  const ttlMs = (options.cacheTtlSeconds ?? 300) * 1000;
  const now = options.now ?? Date.now;
  const realm = options.realm ?? 'EntraAuthorizerSample';
  const cache = new Map<string, { result: APIGatewayAuthorizerResult; expires: number }>();
  const stats = { authorizerCalls: 0, cacheHits: 0 };

  const gatewayResponse = (res: ServerResponse, kind: GatewayResponseKind) => {
    const { statusCode, message } = GATEWAY_RESPONSES[kind];
    send(res, statusCode, gatewayResponseHeaders(kind, realm), JSON.stringify({ message }));
  };

  const authorize = async (header: string, methodArn: string): Promise<APIGatewayAuthorizerResult> => {
    const hit = cache.get(header);
    if (hit !== undefined && hit.expires > now()) {
      stats.cacheHits++;
      return hit.result;
    }
    stats.authorizerCalls++;
    const result = await options.authorizer({ type: 'TOKEN', authorizationToken: header, methodArn });
    if (ttlMs > 0) cache.set(header, { result, expires: now() + ttlMs });
    return result;
  };

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://local');
    const method = req.method ?? 'GET';
    if (method === 'OPTIONS') {
      send(
        res,
        204,
        { ...CORS_HEADERS, 'Access-Control-Allow-Methods': 'GET,POST,PUT,PATCH,DELETE,OPTIONS' },
        '',
      );
      return;
    }
    const route = options.routes.find((r) => r.method === method && r.path === url.pathname);
    const backend = route !== undefined ? options.backends.get(route) : undefined;
    if (route === undefined || backend === undefined) {
      // What API Gateway answers for a method it does not have.
      send(res, 403, CORS_HEADERS, JSON.stringify({ message: 'Missing Authentication Token' }));
      return;
    }
    const header = req.headers.authorization;
    if (header === undefined || !IDENTITY_VALIDATION.test(header))
      return gatewayResponse(res, 'unauthorized');

    const methodArn = `${ARN_PREFIX}/${stage}/${method}${url.pathname}`;
    let result: APIGatewayAuthorizerResult;
    try {
      result = await authorize(header, methodArn);
    } catch (err) {
      return gatewayResponse(
        res,
        (err as Error).message === UNAUTHORIZED ? 'unauthorized' : 'authorizerFailure',
      );
    }
    if (!evaluatePolicy(result.policyDocument, methodArn)) return gatewayResponse(res, 'accessDenied');

    const body = await readBody(req);
    const context = Object.fromEntries(Object.entries(result.context ?? {}).map(([k, v]) => [k, String(v)]));
    const event = {
      resource: route.path,
      path: url.pathname,
      httpMethod: method,
      headers: Object.fromEntries(Object.entries(req.headers).map(([k, v]) => [k, String(v)])),
      multiValueHeaders: {},
      queryStringParameters: url.search === '' ? null : Object.fromEntries(url.searchParams),
      multiValueQueryStringParameters: null,
      pathParameters: null,
      stageVariables: null,
      body: body === '' ? null : body,
      isBase64Encoded: false,
      requestContext: {
        accountId: '000000000000',
        apiId: 'localapi',
        authorizer: { ...context, principalId: result.principalId },
        httpMethod: method,
        path: `/${stage}${url.pathname}`,
        protocol: 'HTTP/1.1',
        requestId: randomUUID(),
        requestTimeEpoch: now(),
        resourceId: 'local',
        resourcePath: route.path,
        stage,
        identity: {
          sourceIp: req.socket.remoteAddress ?? '127.0.0.1',
          userAgent: req.headers['user-agent'] ?? null,
        },
      },
    } as unknown as APIGatewayProxyEvent;
    try {
      const answer = await backend(event);
      const headers = Object.fromEntries(
        Object.entries(answer.headers ?? {}).map(([k, v]) => [k, String(v)]),
      );
      send(res, answer.statusCode, { ...CORS_HEADERS, ...headers }, answer.body);
    } catch {
      send(res, 502, CORS_HEADERS, JSON.stringify({ message: 'Internal server error' }));
    }
  }

  return { handle, stats };
}

async function readBody(req: IncomingMessage): Promise<string> {
  let body = '';
  for await (const chunk of req) body += chunk;
  return body;
}
