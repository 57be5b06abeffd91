import type { APIGatewayAuthorizerResult, APIGatewayTokenAuthorizerEvent } from 'aws-lambda';
import { extractBearerToken } from './bearer.js';
import { CHALLENGE_CONTEXT_KEY } from './challenge-key.js';
import { buildContext, principalIdOf } from './context.js';
import { type Decision, respond } from './decision.js';
import type { EntraClaims } from './entra.js';
import {
  BadEventError,
  KeysUnavailableError,
  TenantsUnavailableError,
  TokenRejectedError,
} from './errors.js';
import type { HintFacts } from './hints.js';
import type { DecodedJwt } from './jwt-model.js';
import type { RouteAuthorizer } from './permissions.js';
import {
  buildPolicy,
  type MethodArn,
  parseMethodArn,
  requestResource,
  routeResources,
  stageResource,
  trailingSlashResource,
} from './policy.js';
import { REASONS, type Reason } from './reasons.js';
import { clip, LOG_LIMITS, loggableError, loggableText, safeString } from './safe-text.js';
import type { TokenVerifier, VerifiedToken } from './verifier.js';

/**
 * Safe facts about one decision: never the token, never the header. Every string in it is capped
 * (LOG_LIMITS) where it is built, so whatever logger writes it, one line stays a few KiB.
 */
export interface DecisionRecord<R = APIGatewayAuthorizerResult> {
  readonly decision: Decision<R>;
  readonly method?: string;
  readonly path?: string;
  readonly tid?: string;
  readonly oid?: string;
  readonly appId?: string;
  readonly kid?: string;
  /**
   * Which allowed tenant list a multi-tenant decision used: `fixed` (the configuration's), or the SSM
   * parameter and its version (`/saas/tenants@7`).
   */
  readonly tenantList?: string;
  /** For the operator: which mistake this rejection points at and how to fix it. */
  readonly hint?: string;
  readonly error?: unknown;
}

/** Writes one decision; `invocation` is what Lambda passes as the handler's context (opaque here). */
export type DecisionRecorder<I = unknown, R = APIGatewayAuthorizerResult> = (
  record: DecisionRecord<R>,
  invocation?: I,
) => void;

/**
 * Builds the operator hint of a rejection (see `hintFromFacts`); only called off the Allow path, so the
 * deployed Lambda loads the hint text at its first refusal (a promise), not at cold start.
 */
type Hinter = (
  reason: Reason,
  facts: Pick<HintFacts, 'header' | 'payload' | 'detail' | 'denial'>,
) => string | Promise<string>;

/** What authenticating a token needs, whatever the kind of API. */
export interface VerifyDeps {
  readonly verifier: TokenVerifier;
  readonly hint?: Hinter;
}

/** What a REST (TOKEN) decision needs. */
export interface DecisionDeps extends VerifyDeps {
  readonly routes: RouteAuthorizer;
}

/** Where a request goes, for the decision record (never the token, never a query string). */
interface RequestPlace {
  readonly method: string;
  readonly path: string;
}

/**
 * One kind of API Gateway event (REST TOKEN, HTTP API REQUEST 2.0, WebSocket `$connect` REQUEST): how its
 * facts are read and how a verified token becomes its Allow or Deny. Authentication (the 401s) stays in the
 * shared core; each kind only reads its event and answers in its own shape.
 */
export interface EventKind<E, T, R> {
  /** The request's facts; throws (a BadEventError) for an event of another kind: our failure, a 500. */
  read(event: E): { readonly where: RequestPlace; readonly target: T; token(): string };
  /** Allow or Deny (403) for a verified token. */
  authorize(target: T, verified: VerifiedToken): Decision<R>;
}

function routeDecision(
  arn: MethodArn,
  verified: VerifiedToken,
  routes: RouteAuthorizer,
  challenge?: (grantee: EntraClaims) => string,
): Decision {
  const { claims } = verified;
  const principalId = principalIdOf(claims);
  const context: Record<string, string | number | boolean> = buildContext(claims);
  // A REST API's 403 challenge, which its ACCESS_DENIED gateway response reads from the context.
  if (challenge !== undefined) context[CHALLENGE_CONTEXT_KEY] = challenge(claims);
  const authorization = routes(claims, arn);
  if (authorization.allowed && authorization.routes === 'stage') {
    return {
      outcome: 'allow',
      reason: 'allowed',
      detail: 'stage',
      result: buildPolicy(principalId, { allow: [stageResource(arn)], deny: [] }, context),
    };
  }
  const allow = authorization.routes.flatMap((r) => routeResources(arn, r));
  // Declared routes a granted pattern would also admit (an IAM `*` crosses `/`) that this caller may not call.
  const denied = authorization.denied.flatMap((r) => routeResources(arn, r));
  if (authorization.allowed) {
    const count = authorization.routes.length;
    return {
      outcome: 'allow',
      reason: 'allowed',
      detail: `${count} route${count === 1 ? '' : 's'}`,
      // A route-based Allow is cached for every path; paths ending in `/` would alias other routes.
      result: buildPolicy(principalId, { allow, deny: [...denied, trailingSlashResource(arn)] }, context),
    };
  }
  // Listing the routes the caller may call keeps a cached answer right for them; the explicit Deny of this
  // request makes API Gateway's 403 follow our decision even where a wildcard would also have matched. A
  // request path IAM would read as a pattern (`/items/*`) is not denied by name, which would deny other
  // paths too; when the caller may call nothing at all, denying the whole stage is exact.
  const own = requestResource(arn);
  const deny = [
    ...(own !== undefined ? [own] : allow.length === 0 ? [stageResource(arn)] : []),
    ...denied,
    // Whatever is allowed must not reach another route through a path ending in `/`.
    ...(allow.length > 0 ? [trailingSlashResource(arn)] : []),
  ];
  const result = buildPolicy(principalId, { allow, deny }, context);
  return {
    outcome: 'deny',
    reason: authorization.reason,
    detail: authorization.missing,
    denial: authorization.denial,
    result,
  };
}

function decisionForError(err: unknown): Decision<never> {
  if (err instanceof TokenRejectedError)
    return { outcome: 'unauthorized', reason: err.reason, detail: err.message };
  if (err instanceof KeysUnavailableError)
    return { outcome: 'error', reason: 'keys_unavailable', detail: err.message };
  if (err instanceof TenantsUnavailableError)
    return { outcome: 'error', reason: 'tenants_unavailable', detail: err.message };
  return { outcome: 'error', reason: 'internal_error', detail: safeString(err) };
}

async function operatorHint(
  deps: VerifyDeps,
  decision: Decision<unknown>,
  token: DecodedJwt | undefined,
): Promise<string | undefined> {
  try {
    return await deps.hint?.(decision.reason, {
      header: token?.header,
      payload: token?.payload,
      detail: decision.detail,
      denial: 'denial' in decision ? decision.denial : undefined,
    });
  } catch {
    // A hint is advice for the operator: failing to build one never changes the decision; the reason's own
    // hint stands in.
    return REASONS[decision.reason].hint;
  }
}

/**
 * The record with every string capped at LOG_LIMITS and free of control characters (text from a token
 * could otherwise drive the terminal of whoever reads the log); absent fields stay absent.
 */
function capRecord<R>(record: DecisionRecord<R>): DecisionRecord<R> {
  const { decision, hint, error, path } = record;
  const detail = loggableText(decision.detail, LOG_LIMITS.detail);
  const out: Record<string, unknown> = {
    decision: detail === decision.detail ? decision : { ...decision, detail },
  };
  // The other fields, in their order; a loop over the keys, since a rest pattern copies the record first.
  for (const name in record) {
    const value = record[name as keyof DecisionRecord<R>];
    if (typeof value === 'string' && name !== 'path' && name !== 'hint' && name !== 'error')
      out[name] = loggableText(value, LOG_LIMITS.field);
  }
  if (path !== undefined) out.path = loggableText(path, LOG_LIMITS.path);
  if (hint !== undefined) out.hint = loggableText(hint, LOG_LIMITS.hint);
  if (error !== undefined) out.error = loggableError(error);
  return out as unknown as DecisionRecord<R>;
}

/** The REST API's TOKEN event: the method ARN, the `Authorization` header, and an IAM policy as the answer. */
export function tokenEventKind(
  routes: RouteAuthorizer,
  challenge?: (grantee: EntraClaims) => string,
): EventKind<APIGatewayTokenAuthorizerEvent, MethodArn, APIGatewayAuthorizerResult> {
  return {
    read(event) {
      if (event?.type !== 'TOKEN')
        throw new BadEventError(
          `event type is ${JSON.stringify(clip(safeString(event?.type), 40))}; expected "TOKEN"`,
        );
      const arn = parseMethodArn(event.methodArn);
      return {
        where: { method: arn.method, path: arn.path },
        target: arn,
        token: () => extractBearerToken(event.authorizationToken),
      };
    },
    authorize: (arn, verified) => routeDecision(arn, verified, routes, challenge),
  };
}

async function reachDecision<E, T, R>(
  kind: EventKind<E, T, R>,
  event: E,
  deps: VerifyDeps,
): Promise<DecisionRecord<R>> {
  let request: ReturnType<EventKind<E, T, R>['read']>;
  try {
    request = kind.read(event);
  } catch (err) {
    return { decision: decisionForError(err), error: err };
  }
  const where = { method: request.where.method, path: request.where.path };
  let verified: VerifiedToken;
  try {
    verified = await deps.verifier.verify(request.token());
  } catch (err) {
    const decision = decisionForError(err);
    const hint = await operatorHint(
      deps,
      decision,
      err instanceof TokenRejectedError ? err.token : undefined,
    );
    return { decision, ...where, hint, ...(decision.reason === 'internal_error' ? { error: err } : {}) };
  }
  const { claims, keyId, jwt } = verified;
  const safe = { tid: claims.tid, oid: claims.oid, appId: claims.appId, kid: keyId };
  try {
    const decision = kind.authorize(request.target, verified);
    if (decision.outcome === 'allow') return { decision, ...where, ...safe };
    return { decision, ...where, ...safe, hint: await operatorHint(deps, decision, jwt) };
  } catch (err) {
    return { decision: decisionForError(err), ...where, ...safe, error: err };
  }
}

/**
 * Event -> bearer token -> verified Entra claims -> this kind's Allow or Deny. Every path that is not a
 * verified, permitted token ends in a 401 or a 500 thrown by `respond`; none returns Allow. Never throws:
 * whatever happens, the answer is one capped record.
 */
export async function decideWith<E, T, R>(
  kind: EventKind<E, T, R>,
  event: E,
  deps: VerifyDeps,
): Promise<DecisionRecord<R>> {
  try {
    return capRecord(await reachDecision(kind, event, deps));
  } catch (err) {
    return capRecord<R>({ decision: decisionForError(err), error: err });
  }
}

/** A Lambda handler for one kind of event: one decision, one record, one answer. */
export function createAuthorizerWith<E, T, R, I = unknown>(
  kind: EventKind<E, T, R>,
  deps: VerifyDeps & { readonly record?: DecisionRecorder<I, R> },
): (event: E, invocation?: I) => Promise<R> {
  return async (event, invocation) => {
    const record = await decideWith(kind, event, deps);
    try {
      deps.record?.(record, invocation);
    } catch {
      // A logger that fails must not turn the decision into another answer.
    }
    return respond(record.decision);
  };
}

/** The REST TOKEN decision: `decideWith` for the TOKEN event and the route permissions in `deps`. */
export async function decide(
  event: APIGatewayTokenAuthorizerEvent,
  deps: DecisionDeps,
): Promise<DecisionRecord> {
  return decideWith(tokenEventKind(deps.routes), event, deps);
}
