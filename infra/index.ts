/** The package root, `entra-authorizer`: the construct and the types its props and methods take. */

export type { WebSocketTokenSource } from '../lambda/authorizer/api-kind.js';
export type { EntraTokenAuthorizerProps, LogLevel, RouteRule } from './construct/authorizer-props.js';
export type {
  AuthorizerAlarmOptions,
  AuthorizerAlarms,
  DecisionMetricOptions,
  DecisionOutcome,
  DecisionReason,
} from './construct/decision-metrics.js';
export {
  EntraHttpAuthorizer,
  type EntraHttpAuthorizerProps,
} from './construct/entra-http-authorizer.js';
export { EntraTokenAuthorizer, GATEWAY_RESPONSES_WARNING } from './construct/entra-token-authorizer.js';
export {
  EntraWebSocketAuthorizer,
  type EntraWebSocketAuthorizerProps,
} from './construct/entra-websocket-authorizer.js';
export { PropsError } from './construct/errors.js';
export type { GatewayResponseOptions } from './construct/gateway-responses.js';
