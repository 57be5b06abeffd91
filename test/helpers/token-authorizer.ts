import type { APIGatewayAuthorizerResult, APIGatewayTokenAuthorizerEvent } from 'aws-lambda';
import {
  createAuthorizerWith,
  type DecisionDeps,
  type DecisionRecorder,
  tokenEventKind,
} from '../../lambda/authorizer/authorizer.js';

/**
 * The REST (TOKEN) authorizer on deps of a test's own (a verifier, a route authorizer, a recorder): what
 * handler.ts builds through createApiAuthorizer for a REST API, without its configuration and telemetry.
 */
export function createAuthorizer<I = unknown>(
  deps: DecisionDeps & { readonly record?: DecisionRecorder<I> },
): (event: APIGatewayTokenAuthorizerEvent, invocation?: I) => Promise<APIGatewayAuthorizerResult> {
  return createAuthorizerWith(tokenEventKind(deps.routes), deps);
}
