import { createHash, createSign, generateKeyPairSync, type KeyObject, randomUUID } from 'node:crypto';
import { v2IssuerOf } from '../../lambda/authorizer/clouds.js';

/** One RS256 signing key in Entra's key-set shape (kid, x5t, n, e). */
export interface SigningKey {
  readonly kid: string;
  readonly privateKey: KeyObject;
  readonly publicJwk: {
    readonly kty: 'RSA';
    readonly use: 'sig';
    readonly kid: string;
    readonly x5t: string;
    readonly n: string;
    readonly e: string;
    readonly issuer?: string;
  };
}

export function createSigningKey(options: { kid?: string; bits?: number; issuer?: string } = {}): SigningKey {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: options.bits ?? 2048 });
  return signingKeyFrom(privateKey, publicKey, options);
}

export function signingKeyFrom(
  privateKey: KeyObject,
  publicKey: KeyObject,
  options: { kid?: string; issuer?: string } = {},
): SigningKey {
  const jwk = publicKey.export({ format: 'jwk' }) as { n: string; e: string };
  // Entra's kid is the certificate thumbprint; without a certificate, a thumbprint of the modulus stands in.
  const kid = options.kid ?? createHash('sha1').update(jwk.n).digest('base64url');
  return {
    kid,
    privateKey,
    publicJwk: {
      kty: 'RSA',
      use: 'sig',
      kid,
      x5t: kid,
      n: jwk.n,
      e: jwk.e,
      ...(options.issuer !== undefined ? { issuer: options.issuer } : {}),
    },
  };
}

const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

/** Signs header and payload as a compact JWS; the header is taken as given (tests forge on purpose). */
export function signJwt(
  header: Record<string, unknown>,
  payload: Record<string, unknown>,
  key: KeyObject,
): string {
  const input = `${b64(header)}.${b64(payload)}`;
  const signature = createSign('RSA-SHA256').update(input).sign(key).toString('base64url');
  return `${input}.${signature}`;
}

export interface EntraTokenOptions {
  readonly tenantId: string;
  /** The audience the client asked for: a client id GUID or an App ID URI. */
  readonly audience: string;
  readonly version?: '1.0' | '2.0';
  /** Delegated scopes (scp); absent for app-only tokens. */
  readonly scopes?: readonly string[];
  readonly roles?: readonly string[];
  /** App-only: the client acts as itself (no scp, oid = sub = the service principal). */
  readonly appOnly?: boolean;
  readonly clientId?: string;
  readonly expiresInSeconds?: number;
  readonly nowSeconds?: number;
  /** The login host: a `<tenant>.ciamlogin.com` host gives External ID's issuer (v2 only). */
  readonly authorityHost?: string;
  readonly user?: { readonly oid: string; readonly name: string; readonly username: string };
  /**
   * A guest (B2B) user, as Entra marks one without optional claims: `idp` names the user's home tenant
   * (GUEST_HOME_TENANT), not the issuer.
   */
  readonly guest?: boolean;
  /** Group object ids for the `groups` claim. */
  readonly groups?: readonly string[];
  /**
   * Group overage, as Entra writes it when the groups do not fit: no `groups`, and `_claim_names` /
   * `_claim_sources` pointing at the user's memberships in Graph.
   */
  readonly groupsOverage?: boolean;
}

/** The home tenant of the guest users minted here (an arbitrary GUID, never the token's own tenant). */
export const GUEST_HOME_TENANT = '9e1c0000-4e5e-4000-8000-00000000c0de';

const DEMO_USER = {
  oid: '00000000-0000-4000-8000-00000000a11c',
  name: 'Alice Example',
  username: 'alice@contoso.example',
} as const;
export const DEMO_CLIENT_ID = '11111111-2222-4333-8444-555555555555';

/** The claims Entra ID puts in an access token, v1 or v2, delegated or app-only. */
export function entraAccessTokenClaims(options: EntraTokenOptions): Record<string, unknown> {
  const now = Math.floor(options.nowSeconds ?? Date.now() / 1000);
  const version = options.version ?? '2.0';
  const clientId = options.clientId ?? DEMO_CLIENT_ID;
  const user = options.user ?? DEMO_USER;
  const appOnly = options.appOnly ?? false;
  const principal = appOnly ? '99999999-8888-4777-8666-555555555555' : user.oid;
  const iss =
    version === '2.0'
      ? v2IssuerOf(options.tenantId, options.authorityHost ?? 'login.microsoftonline.com')
      : `https://sts.windows.net/${options.tenantId}/`;
  const claims: Record<string, unknown> = {
    aud: options.audience,
    iss,
    iat: now,
    nbf: now,
    exp: now + (options.expiresInSeconds ?? 3600),
    aio: 'E2RgYJj4cZ7x',
    ...(version === '2.0' ? { azp: clientId, azpacr: '0' } : { appid: clientId, appidacr: '0' }),
    idp: options.guest === true ? `https://sts.windows.net/${GUEST_HOME_TENANT}/` : iss,
    oid: principal,
    rh: '0.AAAA',
    sub: appOnly
      ? principal
      : createHash('sha256').update(`${principal}:${options.audience}`).digest('base64url'),
    tid: options.tenantId,
    uti: randomUUID().replaceAll('-', '').slice(0, 22),
    ver: version,
  };
  if (!appOnly) {
    claims.scp = (options.scopes ?? ['access_as_user']).join(' ');
    if (version === '2.0') {
      claims.name = user.name;
      claims.preferred_username = user.username;
    } else {
      claims.name = user.name;
      claims.upn = user.username;
      claims.unique_name = user.username;
    }
  }
  if (options.roles !== undefined && options.roles.length > 0) claims.roles = [...options.roles];
  if (options.groupsOverage === true) {
    claims._claim_names = { groups: 'src1' };
    claims._claim_sources = {
      src1: { endpoint: `https://graph.windows.net/${options.tenantId}/users/${principal}/getMemberObjects` },
    };
  } else if (options.groups !== undefined && options.groups.length > 0) claims.groups = [...options.groups];
  if (appOnly) claims.idtyp = 'app';
  return claims;
}

export function mintEntraAccessToken(key: SigningKey, options: EntraTokenOptions): string {
  return signJwt(
    { typ: 'JWT', alg: 'RS256', kid: key.kid, x5t: key.kid },
    entraAccessTokenClaims(options),
    key.privateKey,
  );
}
