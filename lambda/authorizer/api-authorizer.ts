import type {
  APIGatewayAuthorizerResult,
  APIGatewayRequestAuthorizerEvent,
  APIGatewayRequestAuthorizerEventV2,
  APIGatewayTokenAuthorizerEvent,
} from 'aws-lambda';
import type { ApiConfig } from './api-kind.js';
import {
  createAuthorizerWith,
  type DecisionRecorder,
  tokenEventKind,
  type VerifyDeps,
} from './authorizer.js';
import { createChallenger } from './challenge.js';
import { httpApiEventKind, type SimpleAuthorizerAnswer } from './http-api.js';
import { createRouteAuthorizer } from './permissions.js';
import { createRouteKeyAuthorizer } from './route-keys.js';
import { webSocketEventKind } from './websocket.js';

/** The one handler of the bundle, typed per kind of event; each deployment takes the kind its configuration names. */
export interface ApiAuthorizerHandler<I> {
  (event: APIGatewayTokenAuthorizerEvent, invocation?: I): Promise<APIGatewayAuthorizerResult>;
  (event: APIGatewayRequestAuthorizerEventV2, invocation?: I): Promise<SimpleAuthorizerAnswer>;
  (event: APIGatewayRequestAuthorizerEvent, invocation?: I): Promise<APIGatewayAuthorizerResult>;
}

/**
 * The authorizer for the kind of API `config.api` names: REST (TOKEN event, IAM policy), HTTP API (payload
 * 2.0, simple response, route keys) or WebSocket (`$connect` REQUEST event, IAM policy). An event of another
 * kind is our failure, a 500, never a decision.
 */
export function createApiAuthorizer<I = unknown>(
  config: ApiConfig,
  deps: VerifyDeps & { readonly record?: DecisionRecorder<I, unknown> },
): ApiAuthorizerHandler<I> {
  const { api } = config;
  switch (api.kind) {
    case 'rest':
      return createAuthorizerWith(
        tokenEventKind(createRouteAuthorizer(config), createChallenger(config)),
        deps,
      ) as ApiAuthorizerHandler<I>;
    case 'http':
      return createAuthorizerWith(
        httpApiEventKind(
          createRouteKeyAuthorizer({
            required: config.required,
            routeKeys: api.routeKeys,
            guestUsers: config.guestUsers,
          }),
        ),
        deps,
      ) as ApiAuthorizerHandler<I>;
    case 'websocket':
      return createAuthorizerWith(
        webSocketEventKind(createRouteAuthorizer(config), api.tokenSource),
        deps,
      ) as ApiAuthorizerHandler<I>;
  }
}
