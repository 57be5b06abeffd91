/**
 * For backend Lambdas behind the Entra authorizer: turns `event.requestContext.authorizer` back into typed
 * claims. API Gateway may hand numbers and booleans through as strings, so both forms are read.
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
}

type AuthorizerContextLike = Readonly<Record<string, unknown>> | null | undefined;

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

/** Reads the caller; throws MissingIdentityError when the method is not behind the Entra authorizer. */
export function readIdentity(authorizer: AuthorizerContextLike): CallerIdentity {
  if (authorizer === null || authorizer === undefined || text(authorizer.tid) === '') {
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
  };
}

/** Does the caller hold this delegated scope or app role? For per-action checks inside a backend. */
export function hasScopeOrRole(identity: CallerIdentity, name: string): boolean {
  return identity.scopes.includes(name) || identity.roles.includes(name);
}
