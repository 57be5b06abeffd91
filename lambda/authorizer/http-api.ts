import type { APIGatewayRequestAuthorizerEventV2 } from 'aws-lambda';
import type { EventKind } from './authorizer.js';
import { extractBearerToken } from './bearer.js';
import { type AuthorizerContext, buildContext } from './context.js';
import { BadEventError } from './errors.js';
import type { RouteKeyAuthorizer } from './route-keys.js';
import { preview } from './safe-text.js';

/**
 * An HTTP API's simple response (payload format 2.0, simple responses enabled): `isAuthorized`, and for an
 * Allow the caller's claims, which reach the backend as `event.requestContext.authorizer.lambda`.
 */
export interface SimpleAuthorizerAnswer {
  readonly isAuthorized: boolean;
  readonly context?: AuthorizerContext;
}

/** A header, whatever its case: API Gateway lower-cases them in payload 2.0, emulators may not. */
export function headerValue(
  headers: Readonly<Record<string, string | undefined>> | null | undefined,
  name: string,
): string | undefined {
  if (headers === null || typeof headers !== 'object') return undefined;
  const wanted = name.toLowerCase();
  for (const [key, value] of Object.entries(headers)) {
    if (key.toLowerCase() === wanted && typeof value === 'string') return value;
  }
  return undefined;
}

/**
 * The HTTP API REQUEST event (payload format 2.0): the token from `Authorization`, the decision for
 * `event.routeKey` (the declared route, such as `GET /items/{id}`), and a simple response as the answer.
 */
export function httpApiEventKind(
  routes: RouteKeyAuthorizer,
): EventKind<APIGatewayRequestAuthorizerEventV2, string, SimpleAuthorizerAnswer> {
  return {
    read(event) {
      if (event?.version !== '2.0' || event.type !== 'REQUEST' || typeof event.routeKey !== 'string') {
        throw new BadEventError(
          `not an HTTP API REQUEST event of payload format 2.0: version ${preview(event?.version, 20)}, type ${preview(event?.type, 20)}`,
        );
      }
      const method = event.requestContext?.http?.method;
      return {
        where: {
          method: typeof method === 'string' ? method : (event.routeKey.split(' ')[0] ?? ''),
          path: typeof event.rawPath === 'string' ? event.rawPath : '',
        },
        target: event.routeKey,
        token: () => extractBearerToken(headerValue(event.headers, 'authorization')),
      };
    },
    authorize(routeKey, { claims }) {
      const authorization = routes(claims, routeKey);
      if (authorization.allowed)
        return {
          outcome: 'allow',
          reason: 'allowed',
          detail: authorization.detail,
          result: { isAuthorized: true, context: buildContext(claims) },
        };
      return {
        outcome: 'deny',
        reason: authorization.reason,
        detail: authorization.missing,
        denial: authorization.denial,
        result: { isAuthorized: false },
      };
    },
  };
}
