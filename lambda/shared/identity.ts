/**
 * For backend Lambdas behind the Entra authorizer: turns `event.requestContext.authorizer` back into typed
 * claims, from a REST or WebSocket API (the context itself) or an HTTP API (the context under `lambda`).
 * API Gateway may hand numbers and booleans through as strings, so both forms are read.
 */
export interface CallerIdentity {
  readonly principalId: string;
  readonly oid: string;
  readonly tid: string;
  readonly sub: string;
  readonly scopes: readonly string[];
  readonly roles: readonly string[];
  readonly appId: string;
  readonly version: string;
  readonly appOnly: boolean;
  /** Seconds since the epoch. */
  readonly expiresAt: number | undefined;
  readonly name: string | undefined;
  readonly preferredUsername: string | undefined;
  /**
   * True when the authorizer left out claims to keep its answer within WebSocket's 8 KB limit: `name`,
   * `preferredUsername`, and roles or scopes from the end of their lists. A check of a missing role refuses.
   */
  readonly claimsTruncated: boolean;
}

/**
 * `event.requestContext.authorizer` of any API kind, or the whole event: typed as `object` so that aws-lambda's
 * own types (`APIGatewayProxyEvent`, `APIGatewayProxyEventV2WithLambdaAuthorizer<T>`, whose context is an
 * interface without an index signature, `APIGatewayProxyWebsocketEventV2`, which declares no authorizer)
 * are taken as they are, without a cast.
 */
type AuthorizerContextLike = object | null | undefined;

const text = (value: unknown): string =>
  typeof value === 'string'
    ? value
    : typeof value === 'number' || typeof value === 'boolean'
      ? String(value)
      : '';
const words = (value: unknown): string[] =>
  text(value)
    .split(' ')
    .filter((w) => w !== '');
const optional = (value: unknown): string | undefined => (text(value) === '' ? undefined : text(value));

export class MissingIdentityError extends Error {
  override readonly name = 'MissingIdentityError';
}

const isRecord = (value: unknown): value is Readonly<Record<string, unknown>> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/**
 * Reads the caller from `event.requestContext.authorizer` of a REST, HTTP or WebSocket API (or from the
 * event itself); throws MissingIdentityError when the route is not behind the Entra authorizer.
 */
export function readIdentity(contextOrEvent: AuthorizerContextLike): CallerIdentity {
  // The whole event: its request context's authorizer (no claim of ours is called requestContext).
  const context =
    isRecord(contextOrEvent) && isRecord(contextOrEvent.requestContext)
      ? contextOrEvent.requestContext.authorizer
      : contextOrEvent;
  // An HTTP API (payload 2.0) puts a Lambda authorizer's context under `lambda`.
  const authorizer =
    isRecord(context) && text(context.tid) === '' && isRecord(context.lambda) ? context.lambda : context;
  if (!isRecord(authorizer) || text(authorizer.tid) === '') {
    throw new MissingIdentityError('no Entra authorizer context on this request: is the method guarded?');
  }
  const exp = Number(text(authorizer.exp));
  return {
    principalId: text(authorizer.principalId) || text(authorizer.oid) || text(authorizer.sub),
    oid: text(authorizer.oid),
    tid: text(authorizer.tid),
    sub: text(authorizer.sub),
    scopes: words(authorizer.scp),
    roles: words(authorizer.roles),
    appId: text(authorizer.appId),
    version: text(authorizer.ver),
    appOnly: authorizer.appOnly === true || authorizer.appOnly === 'true',
    expiresAt: Number.isFinite(exp) && exp > 0 ? exp : undefined,
    name: optional(authorizer.name),
    preferredUsername: optional(authorizer.preferredUsername),
    claimsTruncated: authorizer.claimsTruncated === true || authorizer.claimsTruncated === 'true',
  };
}

/** Does the caller hold this delegated scope or app role? For per-action checks inside a backend. */
export function hasScopeOrRole(identity: CallerIdentity, name: string): boolean {
  return identity.scopes.includes(name) || identity.roles.includes(name);
}
