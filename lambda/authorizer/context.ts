import type { EntraClaims } from './entra.js';

/**
 * The authorizer context API Gateway hands to the backend. API Gateway accepts only strings, numbers and
 * booleans here; `lambda/shared/identity.ts` reads it back into typed claims. The token is never in it.
 */
export interface AuthorizerContext {
  readonly [key: string]: string | number | boolean;
  readonly oid: string;
  readonly tid: string;
  readonly sub: string;
  readonly scp: string;
  readonly roles: string;
  readonly appId: string;
  readonly ver: string;
  readonly appOnly: boolean;
  readonly exp: number;
  readonly name: string;
  readonly preferredUsername: string;
}

export function principalIdOf(claims: Pick<EntraClaims, 'oid' | 'sub'>): string {
  return claims.oid ?? claims.sub ?? 'unknown';
}

export function buildContext(claims: EntraClaims): AuthorizerContext {
  return {
    oid: claims.oid ?? '',
    tid: claims.tid,
    sub: claims.sub ?? '',
    scp: claims.scopes.join(' '),
    roles: claims.roles.join(' '),
    appId: claims.appId ?? '',
    ver: claims.ver,
    appOnly: claims.appOnly,
    exp: claims.exp,
    name: claims.name ?? '',
    preferredUsername: claims.preferredUsername ?? '',
  };
}
