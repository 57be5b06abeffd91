/** The package root, `entra-authorizer`: the construct and the types its props and methods take. */

export type { WebSocketTokenSource } from '../lambda/authorizer/api-kind.js';
export type { EntraTokenAuthorizerProps, LogLevel, RouteRule } from './authorizer-props.js';
export type {
  AuthorizerAlarmOptions,
  AuthorizerAlarms,
  DecisionMetricOptions,
  DecisionOutcome,
  DecisionReason,
} from './decision-metrics.js';
export {
  EntraHttpAuthorizer,
  type EntraHttpAuthorizerProps,
} from './entra-http-authorizer.js';
export { EntraTokenAuthorizer } from './entra-token-authorizer.js';
export {
  EntraWebSocketAuthorizer,
  type EntraWebSocketAuthorizerProps,
} from './entra-websocket-authorizer.js';
export { PropsError } from './errors.js';
export type { GatewayResponseOptions } from './gateway-responses.js';
