import type { APIGatewayAuthorizerResult, APIGatewayRequestAuthorizerEvent } from 'aws-lambda';
import { WEBSOCKET_TOKEN_NAME, type WebSocketTokenSource } from './api-kind.js';
import type { EventKind } from './authorizer.js';
import { COMPACT_JWT, MAX_AUTHORIZATION_HEADER_LENGTH } from './bearer.js';
import { type AuthorizerContext, buildContext, principalIdOf } from './context.js';
import { BadEventError, TokenRejectedError } from './errors.js';
import { headerValue } from './http-api.js';
import type { RouteAuthorizer } from './permissions.js';
import { buildPolicy } from './policy.js';
import { preview } from './safe-text.js';

/**
 * "AWS Lambda authorizer result size: 8 KB" (API Gateway developer guide, Quotas for configuring and running
 * a WebSocket API; not adjustable). Read as 8,000 bytes, the stricter of 8 KB and 8 KiB, of the JSON answer.
 */
export const WEBSOCKET_AUTHORIZER_RESULT_LIMIT = 8000;

/** `arn:{partition}:execute-api:{region}:{account}:{api}/{stage}/$connect`, no wildcard before `$connect`. */
const CONNECT_ARN = /^arn:[^:/*?$]+:execute-api:[^:/*?$]+:[^:/*?$]+:[^:/*?$]+\/[^/*?$]+\/\$connect$/;

/** The JSON size API Gateway receives. */
export function answerBytes(answer: unknown): number {
  return Buffer.byteLength(JSON.stringify(answer), 'utf8');
}

/**
 * The answer made to fit `limit`: when the caller's claims would overflow it, the context gives up first
 * `name` and `preferredUsername`, then app roles and scopes from the end of their lists (whole names only),
 * and says so with `claimsTruncated: true`. It only ever loses claims, so a backend that checks a scope or
 * role of a truncated context refuses rather than admits. The policy itself is never touched.
 */
function fitAnswer(answer: APIGatewayAuthorizerResult, limit: number): APIGatewayAuthorizerResult {
  if (answerBytes(answer) <= limit || answer.context === undefined) return answer;
  const context = { ...(answer.context as AuthorizerContext), claimsTruncated: true } as Record<
    string,
    string | number | boolean
  >;
  const sized = () => ({ ...answer, context });
  for (const field of ['name', 'preferredUsername']) {
    context[field] = '';
    if (answerBytes(sized()) <= limit) return sized();
  }
  for (const field of ['roles', 'scp']) {
    const names = String(context[field] ?? '')
      .split(' ')
      .filter((n) => n !== '');
    // The most names that fit, by bisection: fewer names never make the answer larger.
    let low = 0;
    let high = names.length;
    while (low < high) {
      const mid = Math.ceil((low + high) / 2);
      context[field] = names.slice(0, mid).join(' ');
      if (answerBytes(sized()) <= limit) low = mid;
      else high = mid - 1;
    }
    context[field] = names.slice(0, low).join(' ');
    if (answerBytes(sized()) <= limit) return sized();
  }
  // Only the identifiers are left, which Entra keeps short; an answer still too large is our failure (500).
  throw new Error(
    `the authorizer answer is ${answerBytes(sized())} bytes even without names, roles and scopes`,
  );
}

/** The token of a `$connect` request from the one place the construct's identity source names. */
function webSocketToken(event: APIGatewayRequestAuthorizerEvent, source: WebSocketTokenSource): string {
  let token: string | undefined;
  if (source === 'query') {
    const all = event.multiValueQueryStringParameters?.[WEBSOCKET_TOKEN_NAME];
    if (Array.isArray(all) && all.length > 1)
      throw new TokenRejectedError(
        'malformed',
        `${all.length} ${WEBSOCKET_TOKEN_NAME} query parameters; one expected`,
      );
    token = event.queryStringParameters?.[WEBSOCKET_TOKEN_NAME] ?? undefined;
    if (token === undefined || token === '')
      throw new TokenRejectedError('missing_token', `no ${WEBSOCKET_TOKEN_NAME} query parameter`);
  } else {
    const protocols = (headerValue(event.headers, 'sec-websocket-protocol') ?? '')
      .split(',')
      .map((p) => p.trim())
      .filter((p) => p !== '');
    const at = protocols.indexOf(WEBSOCKET_TOKEN_NAME);
    if (at < 0 || protocols.lastIndexOf(WEBSOCKET_TOKEN_NAME) !== at)
      throw new TokenRejectedError(
        at < 0 ? 'missing_token' : 'malformed',
        `Sec-WebSocket-Protocol does not name "${WEBSOCKET_TOKEN_NAME}" exactly once, followed by the token`,
      );
    token = protocols[at + 1];
    if (token === undefined)
      throw new TokenRejectedError(
        'missing_token',
        `no token after "${WEBSOCKET_TOKEN_NAME}" in Sec-WebSocket-Protocol`,
      );
  }
  if (token.length > MAX_AUTHORIZATION_HEADER_LENGTH)
    throw new TokenRejectedError(
      'malformed',
      `the token is ${token.length} characters; at most ${MAX_AUTHORIZATION_HEADER_LENGTH} accepted`,
    );
  if (!COMPACT_JWT.test(token))
    throw new TokenRejectedError(
      'malformed',
      'the token is not a compact JWT "<header>.<payload>.<signature>"',
    );
  return token;
}

/**
 * The WebSocket `$connect` REQUEST event: the token from the query string or the subprotocol list, the
 * token-wide rules (a WebSocket API guards one route), and an IAM policy for the connect route, kept within
 * WebSocket's limit on the authorizer's answer.
 */
export function webSocketEventKind(
  routes: RouteAuthorizer,
  source: WebSocketTokenSource,
  limit: number = WEBSOCKET_AUTHORIZER_RESULT_LIMIT,
): EventKind<APIGatewayRequestAuthorizerEvent, string, APIGatewayAuthorizerResult> {
  return {
    read(event) {
      const arn = event?.methodArn;
      if (event?.type !== 'REQUEST' || typeof arn !== 'string' || !CONNECT_ARN.test(arn)) {
        throw new BadEventError(
          `not a WebSocket $connect REQUEST event: type ${preview(event?.type, 20)}, methodArn ${preview(arn, 200)}`,
        );
      }
      return {
        where: { method: 'CONNECT', path: '$connect' },
        target: arn,
        token: () => webSocketToken(event, source),
      };
    },
    authorize(arn, { claims }) {
      // With no route permissions, the request is not looked at: the token-wide rules alone.
      const authorization = routes(claims, { method: '', path: '/' });
      const principalId = principalIdOf(claims);
      if (authorization.allowed)
        return {
          outcome: 'allow',
          reason: 'allowed',
          detail: '$connect',
          result: fitAnswer(
            buildPolicy(principalId, { allow: [arn], deny: [] }, buildContext(claims)),
            limit,
          ),
        };
      return {
        outcome: 'deny',
        reason: authorization.reason,
        detail: authorization.missing,
        denial: authorization.denial,
        result: buildPolicy(principalId, { allow: [], deny: [arn] }, {}),
      };
    },
  };
}
