import { createPublicKey, type JsonWebKey, type KeyObject, verify } from 'node:crypto';
import { KidNotFoundInJwksError } from 'aws-jwt-verify/error';
import { v2IssuersOf } from './clouds.js';
import { type AuthorizerConfig, isGuid } from './config.js';
import { checkEntraToken, type EntraClaims, type EntraRules, isTenantAllowed } from './entra.js';
import { TokenRejectedError } from './errors.js';
import { decodeJwt } from './jwt.js';
import type { DecodedJwt } from './jwt-model.js';
import type { EntraJwksCache } from './keys/key-cache.js';
import type { SigningJwk } from './keys/key-set.js';
import { tenantKeysUriOf } from './keys/tenant-keys.js';

export interface VerifiedToken {
  readonly claims: EntraClaims;
  readonly keyId: string;
  readonly jwt: DecodedJwt;
}

export interface TokenVerifier {
  /** Resolves with the verified claims; rejects with TokenRejectedError (401) or KeysUnavailableError (500). */
  verify(token: string): Promise<VerifiedToken>;
}

/**
 * Where the verifier finds a token's key: the warm lookup that never fetches, then the lookup that may
 * fetch (once per cooldown) and may fall back to the last good set.
 */
type SigningKeySource = Pick<EntraJwksCache, 'findFreshJwk' | 'getJwk'>;

interface KeyLookupDeps {
  readonly config: Pick<AuthorizerConfig, 'tenant' | 'jwksUri'>;
  /** The configured key set (`jwksUri`). */
  readonly keys: SigningKeySource;
  /**
   * A multi-tenant API's per-tenant key sets (createTenantKeyCache), read for a kid the shared set lacks.
   * Without it, or for a single tenant, only `jwksUri` is read.
   */
  readonly tenantKeys?: SigningKeySource | undefined;
}

interface TokenVerifierDeps extends KeyLookupDeps {
  readonly config: Pick<AuthorizerConfig, keyof EntraRules | 'jwksUri'>;
  /** Seconds since the epoch. @default Date.now()/1000 */
  readonly now?: () => number;
}

/** A token's key and the key URL it came from. */
interface FoundKey {
  readonly key: SigningJwk;
  readonly uri: string;
}

/**
 * The key a token names: from the configured set; failing that, in a multi-tenant API, from the token's
 * tenant's own set, since a key specific to a tenant need not be in the shared one. A
 * tenant set is read only for a tenant the tenant rule allows, and serves only that tenant's tokens, since
 * its URL is the token's tid. When neither gives the key, the configured set's verdict stands:
 * KidNotFoundInJwksError (no such key, a 401) or KeysUnavailableError (keys unobtainable, a 500).
 */
export function createKeyLookup({ config, keys, tenantKeys }: KeyLookupDeps) {
  const tenantUriOf = config.tenant.mode === 'multi' ? tenantKeysUriOf(config.jwksUri) : undefined;
  const { tenant } = config;

  return async (jwt: DecodedJwt, keyId: string, tid: string): Promise<FoundKey> => {
    const fresh = keys.findFreshJwk(config.jwksUri, keyId);
    if (fresh !== undefined) return { key: fresh, uri: config.jwksUri };
    const fromShared = async () => ({ key: await keys.getJwk(config.jwksUri, jwt), uri: config.jwksUri });
    const mayReadOwn = tenantUriOf !== undefined && isGuid(tid) && isTenantAllowed(tid, tenant);
    if (tenantKeys === undefined || !mayReadOwn) return fromShared();
    const own = tenantUriOf(tid);
    const ownFresh = tenantKeys.findFreshJwk(own, keyId);
    if (ownFresh !== undefined) return { key: ownFresh, uri: own };
    try {
      return await fromShared();
    } catch (sharedError) {
      try {
        return { key: await tenantKeys.getJwk(own, jwt), uri: own };
      } catch (err) {
        // Neither set gave the key: the shared set's verdict stands. When it answered without the kid,
        // whatever kept the tenant's set from us is the token's 401, so a made-up tenant is never our 500.
        if (!(sharedError instanceof KidNotFoundInJwksError)) throw sharedError;
        throw new KidNotFoundInJwksError(
          `kid "${keyId}" is in neither the shared key set nor tenant ${tid}'s: ${(err as Error).message}`,
        );
      }
    }
  };
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

/**
 * One imported key per key of the current set, dropped with the set: a cache keyed by anything the token
 * says (its unverified `iss`, say) would let forged tokens grow it without bound.
 */
const keyObjects = new WeakMap<SigningJwk, KeyObject>();

/**
 * The RS256 signature (RSASSA-PKCS1-v1_5 with SHA-256, RFC 7518 §3.3) over the token's encoded header and
 * payload, with this key. The key set kept only RSA signing keys of at least 2048 bits, and the Entra rules
 * refused any other `alg`, so nothing here depends on the token's say.
 */
export function verifiesRs256(jwt: DecodedJwt, key: SigningJwk): boolean {
  let keyObject = keyObjects.get(key);
  if (keyObject === undefined) {
    keyObject = createPublicKey({ key: key as JsonWebKey, format: 'jwk' });
    keyObjects.set(key, keyObject);
  }
  return verify(
    'RSA-SHA256',
    Buffer.from(jwt.signingInput),
    keyObject,
    Buffer.from(jwt.signatureB64, 'base64url'),
  );
}

/**
 * Is this a genuine Entra access token for us? The Entra rules first (alg, header, iss, tid, aud, exp, nbf,
 * token kind: entra.ts), so a forged token costs no fetch and no key import; then the key (from the cache,
 * or one fetch), its issuer binding, and the RS256 signature.
 */
export function createTokenVerifier({
  config,
  keys,
  tenantKeys,
  now = () => Date.now() / 1000,
}: TokenVerifierDeps): TokenVerifier {
  const lookUp = createKeyLookup({ config, keys, tenantKeys });
  /** A key past the warm path: the lookup, which may fetch. */
  const findKey = async (jwt: DecodedJwt, keyId: string, tid: string): Promise<SigningJwk> => {
    try {
      return (await lookUp(jwt, keyId, tid)).key;
    } catch (err) {
      // The key cache's "no such key" is the token's fault; anything else (keys unobtainable) is ours, a 500.
      if (err instanceof KidNotFoundInJwksError) throw new TokenRejectedError('unknown_key', err.message);
      throw err;
    }
  };

  return {
    async verify(token) {
      let jwt: DecodedJwt | undefined;
      try {
        jwt = decodeJwt(token);
        const { keyId, claims } = checkEntraToken(jwt, config, now());
        // The warm path: a held key of the shared set, without an await.
        const key = keys.findFreshJwk(config.jwksUri, keyId) ?? (await findKey(jwt, keyId, claims.tid));
        if (!keyServesIssuer(key, claims, config.authorityHost)) {
          throw new TokenRejectedError(
            'key_issuer_mismatch',
            `key ${key.kid} signs for ${key.issuer}; the token claims ${claims.iss}`,
          );
        }
        if (!verifiesRs256(jwt, key)) {
          throw new TokenRejectedError(
            'bad_signature',
            `RS256 signature does not verify with key ${key.kid}`,
          );
        }
        return { claims, keyId, jwt };
      } catch (err) {
        if (err instanceof TokenRejectedError) err.token = jwt;
        throw err;
      }
    },
  };
}
