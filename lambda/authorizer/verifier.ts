import { createPublicKey, type JsonWebKey, type KeyObject } from 'node:crypto';
import {
  JwtBaseError,
  JwtExpiredError,
  JwtInvalidAudienceError,
  JwtInvalidClaimError,
  JwtInvalidIssuerError,
  JwtInvalidSignatureAlgorithmError,
  JwtInvalidSignatureError,
  JwtNotBeforeError,
  KidNotFoundInJwksError,
} from 'aws-jwt-verify/error';
import type { DecomposedJwt } from 'aws-jwt-verify/jwt';
import type { JwtPayload } from 'aws-jwt-verify/jwt-model';
import {
  JwtVerifierBase,
  type JwtVerifierProperties,
  KeyObjectCache,
  type VerifyProperties,
} from 'aws-jwt-verify/jwt-verifier';
import { v2IssuersOf } from './clouds.js';
import type { AuthorizerConfig } from './config.js';
import { checkEntraToken, type EntraClaims, type EntraRules } from './entra.js';
import { KeysUnavailableError, TokenRejectedError } from './errors.js';
import { decodeJwt } from './jwt.js';
import type { DecodedJwt } from './jwt-model.js';
import type { EntraJwksCache } from './keys/key-cache.js';
import type { SigningJwk } from './keys/key-set.js';

/**
 * aws-jwt-verify caches imported keys per unverified `iss`; with a multi-tenant allow-list of `*`, forged
 * tokens could fill that cache with one entry per made-up tenant. One KeyObject per key of the current
 * set instead: dropped with the set.
 */
class PerKeyObjectCache extends KeyObjectCache {
  private readonly byKey = new WeakMap<object, KeyObject>();
  override transformJwkToKeyObjectSync(jwk: object): KeyObject {
    let keyObject = this.byKey.get(jwk);
    if (keyObject === undefined) {
      keyObject = createPublicKey({ key: jwk as JsonWebKey, format: 'jwk' });
      this.byKey.set(jwk, keyObject);
    }
    return keyObject;
  }
}

type EntraVerifyProperties = Required<Pick<VerifyProperties, 'audience' | 'graceSeconds'>> & {
  issuer: string;
};

/**
 * aws-jwt-verify's verifier, fed the token we already split and parsed: it checks the key against the
 * header, the RS256 signature, and exp, nbf, iss and aud again, without decoding the token a second time.
 */
class EntraJwtVerifier extends JwtVerifierBase<
  EntraVerifyProperties,
  JwtVerifierProperties<EntraVerifyProperties>,
  false
> {
  constructor(
    private readonly jwksUri: string,
    keys: EntraJwksCache,
  ) {
    // The issuer is passed per token (Entra issuers embed the tenant), so none is fixed here.
    super({ issuer: null as unknown as string, jwksUri }, keys);
    const self = this as unknown as { publicKeyCache?: unknown };
    if (!(self.publicKeyCache instanceof KeyObjectCache)) {
      throw new Error(
        'aws-jwt-verify changed its key object cache: review EntraJwtVerifier before upgrading',
      );
    }
    self.publicKeyCache = new PerKeyObjectCache();
  }

  verifyDecoded(jwt: DecodedJwt, properties: EntraVerifyProperties): JwtPayload {
    return this.verifyDecomposedJwtSync(jwt as unknown as DecomposedJwt, this.jwksUri, properties);
  }
}

export interface VerifiedToken {
  readonly claims: EntraClaims;
  readonly keyId: string;
  readonly jwt: DecodedJwt;
}

export interface TokenVerifier {
  /** Resolves with the verified claims; rejects with TokenRejectedError (401) or KeysUnavailableError (500). */
  verify(token: string): Promise<VerifiedToken>;
}

export interface TokenVerifierDeps {
  readonly config: Pick<AuthorizerConfig, keyof EntraRules | 'jwksUri'>;
  readonly keys: EntraJwksCache;
  /** Seconds since the epoch. @default Date.now()/1000 */
  readonly now?: () => number;
}

/**
 * Microsoft's signing-key issuer rule: a key that names an issuer (v2 sets carry a {tenantid} template)
 * signs only for that issuer. Its v2 forms (both 21Vianet hosts' for that cloud) also cover the same
 * tenant's v1 tokens and each other, since v1 key sets carry no issuer at all.
 */
export function keyServesIssuer(key: SigningJwk, claims: EntraClaims, authorityHost: string): boolean {
  if (key.issuer === undefined) return true;
  const effective = key.issuer.replaceAll('{tenantid}', claims.tid);
  return effective === claims.iss || v2IssuersOf(claims.tid, authorityHost).includes(effective);
}

function translate(err: unknown): Error {
  if (err instanceof TokenRejectedError || err instanceof KeysUnavailableError) return err;
  if (err instanceof KidNotFoundInJwksError) return new TokenRejectedError('unknown_key', err.message);
  if (err instanceof JwtInvalidSignatureError) return new TokenRejectedError('bad_signature', err.message);
  if (err instanceof JwtExpiredError) return new TokenRejectedError('expired', err.message);
  if (err instanceof JwtNotBeforeError) return new TokenRejectedError('not_yet_valid', err.message);
  if (err instanceof JwtInvalidIssuerError) return new TokenRejectedError('wrong_issuer', err.message);
  if (err instanceof JwtInvalidAudienceError) return new TokenRejectedError('wrong_audience', err.message);
  if (err instanceof JwtInvalidSignatureAlgorithmError)
    return new TokenRejectedError('unsupported_alg', err.message);
  // Any other verdict of the library is a token that did not verify; anything else is our own failure (500).
  if (err instanceof JwtBaseError) return new TokenRejectedError('malformed', err.message);
  return err instanceof Error ? err : new Error(String(err));
}

/**
 * Is this a genuine Entra access token for us? Cheap Entra checks first, then the key (from the cache, or
 * one fetch), then the signature through aws-jwt-verify, which re-checks exp, nbf, iss and aud.
 */
export function createTokenVerifier({
  config,
  keys,
  now = () => Date.now() / 1000,
}: TokenVerifierDeps): TokenVerifier {
  const jwtVerifier = new EntraJwtVerifier(config.jwksUri, keys);
  const audience = [...config.audiences];

  const checkSignature = (jwt: DecodedJwt, key: SigningJwk, claims: EntraClaims): void => {
    if (!keyServesIssuer(key, claims, config.authorityHost)) {
      throw new TokenRejectedError(
        'key_issuer_mismatch',
        `key ${key.kid} signs for ${key.issuer}; the token claims ${claims.iss}`,
      );
    }
    jwtVerifier.verifyDecoded(jwt, { issuer: claims.iss, audience, graceSeconds: config.clockSkewSeconds });
  };

  return {
    async verify(token) {
      let jwt: DecodedJwt | undefined;
      try {
        jwt = decodeJwt(token);
        const { keyId, claims } = checkEntraToken(jwt, config, now());
        const key =
          keys.findFreshJwk(config.jwksUri, keyId) ??
          ((await keys.getJwk(config.jwksUri, jwt as unknown as DecomposedJwt)) as SigningJwk);
        checkSignature(jwt, key, claims);
        return { claims, keyId, jwt };
      } catch (err) {
        const rejection = translate(err);
        if (rejection instanceof TokenRejectedError) rejection.token = jwt;
        throw rejection;
      }
    },
  };
}

/**
 * For `npm run explain`: does the signature verify with this key, whatever the claims say? The signature
 * covers the encoded parts, so the claims handed to aws-jwt-verify are cut down to `iss`: no time or
 * audience check can fail (or choke on a time no date can hold), and a claim error means the signature held.
 */
export function createSignatureChecker(
  jwksUri: string,
  keys: EntraJwksCache,
): (jwt: DecodedJwt, iss: string) => boolean {
  const jwtVerifier = new EntraJwtVerifier(jwksUri, keys);
  return (jwt, iss) => {
    try {
      jwtVerifier.verifyDecoded(
        { ...jwt, payload: { iss } },
        { issuer: iss, audience: null as unknown as string[], graceSeconds: 0 },
      );
      return true;
    } catch (err) {
      if (err instanceof JwtInvalidSignatureError) return false;
      if (err instanceof JwtInvalidClaimError) return true;
      throw err;
    }
  };
}
