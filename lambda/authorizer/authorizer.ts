import type { APIGatewayAuthorizerResult, APIGatewayTokenAuthorizerEvent } from 'aws-lambda';
import { extractBearerToken } from './bearer.js';
import { buildContext, principalIdOf } from './context.js';
import { type Decision, respond } from './decision.js';
import { BadEventError, KeysUnavailableError, TokenRejectedError } from './errors.js';
import type { DecodedJwt } from './jwt.js';
import type { RouteAuthorizer } from './permissions.js';
import {
  buildPolicy,
  type MethodArn,
  parseMethodArn,
  requestResource,
  routeResources,
  stageResource,
} from './policy.js';
import type { HintFacts, Reason } from './reasons.js';
import type { TokenVerifier, VerifiedToken } from './verifier.js';

/** Safe facts about one decision: never the token, never the header. */
export interface DecisionRecord {
  readonly decision: Decision;
  readonly method?: string;
  readonly path?: string;
  readonly tid?: string;
  readonly oid?: string;
  readonly appId?: string;
  readonly kid?: string;
  /** For the operator: which mistake this rejection points at and how to fix it. */
  readonly hint?: string;
  readonly error?: unknown;
}

export type DecisionRecorder = (record: DecisionRecord) => void;

/** Builds the operator hint of a rejection (see `hintFor`); only called off the Allow path. */
export type Hinter = (reason: Reason, facts: Pick<HintFacts, 'header' | 'payload' | 'detail'>) => string;

export interface AuthorizerDeps {
  readonly verifier: TokenVerifier;
  readonly routes: RouteAuthorizer;
  readonly record?: DecisionRecorder;
  readonly hint?: Hinter;
}

const MAX_DETAIL = 300;
const clip = (text: string) => (text.length > MAX_DETAIL ? `${text.slice(0, MAX_DETAIL)}...` : text);

function permit(arn: MethodArn, verified: VerifiedToken, routes: RouteAuthorizer): Decision {
  const { claims } = verified;
  const principalId = principalIdOf(claims);
  const context = buildContext(claims);
  const authorization = routes(claims, arn);
  if (authorization.allowed) {
    const resources =
      authorization.routes === 'stage'
        ? [stageResource(arn)]
        : authorization.routes.flatMap((r) => routeResources(arn, r));
    return {
      outcome: 'allow',
      reason: 'allowed',
      detail: authorization.routes === 'stage' ? 'stage' : `${authorization.routes.length} routes`,
      result: buildPolicy(principalId, { allow: resources, deny: [] }, context),
    };
  }
  // Listing the routes the caller may call keeps a cached answer right for them; the explicit Deny of this
  // request makes API Gateway's 403 follow our decision even where a wildcard would also have matched. A
  // request path IAM would read as a pattern (`/items/*`) is not denied by name, which would deny other
  // paths too; when the caller may call nothing at all, denying the whole stage is exact.
  const allow = authorization.routes.flatMap((r) => routeResources(arn, r));
  const own = requestResource(arn);
  const deny = own !== undefined ? [own] : allow.length === 0 ? [stageResource(arn)] : [];
  const result = buildPolicy(principalId, { allow, deny }, context);
  return { outcome: 'deny', reason: authorization.reason, detail: authorization.missing, result };
}

function failure(err: unknown): Decision {
  if (err instanceof TokenRejectedError)
    return { outcome: 'unauthorized', reason: err.reason, detail: clip(err.message) };
  if (err instanceof KeysUnavailableError)
    return { outcome: 'error', reason: 'keys_unavailable', detail: clip(err.message) };
  return {
    outcome: 'error',
    reason: 'internal_error',
    detail: clip(err instanceof Error ? err.message : String(err)),
  };
}

function hintFor(
  deps: AuthorizerDeps,
  decision: Decision,
  token: DecodedJwt | undefined,
): string | undefined {
  return deps.hint?.(decision.reason, {
    header: token?.header,
    payload: token?.payload,
    detail: decision.detail,
  });
}

/**
 * Event -> bearer token -> verified Entra claims -> route permissions -> policy and context. Every path
 * that is not a verified, permitted token ends in a 401 or a 500 thrown by `respond`; none returns Allow.
 */
export async function decide(
  event: APIGatewayTokenAuthorizerEvent,
  deps: AuthorizerDeps,
): Promise<DecisionRecord> {
  let arn: MethodArn;
  try {
    if (event?.type !== 'TOKEN')
      throw new BadEventError(`event type is ${JSON.stringify(event?.type)}; expected "TOKEN"`);
    arn = parseMethodArn(event.methodArn);
  } catch (err) {
    return { decision: failure(err), error: err };
  }
  const where = { method: arn.method, path: arn.path };
  let verified: VerifiedToken;
  try {
    verified = await deps.verifier.verify(extractBearerToken(event.authorizationToken));
  } catch (err) {
    const decision = failure(err);
    const hint = hintFor(deps, decision, err instanceof TokenRejectedError ? err.token : undefined);
    return { decision, ...where, hint, ...(decision.reason === 'internal_error' ? { error: err } : {}) };
  }
  const { claims, keyId, jwt } = verified;
  const safe = { tid: claims.tid, oid: claims.oid, appId: claims.appId, kid: keyId };
  try {
    const decision = permit(arn, verified, deps.routes);
    if (decision.outcome === 'allow') return { decision, ...where, ...safe };
    return { decision, ...where, ...safe, hint: hintFor(deps, decision, jwt) };
  } catch (err) {
    return { decision: failure(err), ...where, ...safe, error: err };
  }
}

export function createAuthorizer(
  deps: AuthorizerDeps,
): (event: APIGatewayTokenAuthorizerEvent) => Promise<APIGatewayAuthorizerResult> {
  return async (event) => {
    const record = await decide(event, deps);
    deps.record?.(record);
    return respond(record.decision);
  };
}
