import type { Jwk, Jwks, JwkWithKid } from 'aws-jwt-verify/jwk';
import { safeJsonParse } from 'aws-jwt-verify/safe-json-parse';

const MIN_RSA_BITS = 2048;
/** Entra publishes `AQAB`; an exponent of 1 (`AQ`) "verifies" a signature that is just the padded hash. */
const MIN_RSA_EXPONENT = 65537n;

/** A signing key as this project keeps it: RS256-capable, with the Entra `issuer` (if any) preserved. */
export type SigningJwk = JwkWithKid & {
  readonly kty: 'RSA';
  readonly n: string;
  readonly e: string;
  readonly x5t?: string;
  readonly issuer?: string;
};

interface ParsedKeySet {
  readonly keys: readonly SigningJwk[];
  /** Entries that were present but unusable (wrong type, use, alg, size, exponent, fields). */
  readonly dropped: number;
}

export class KeySetError extends Error {
  override readonly name = 'KeySetError';
}

function modulusBits(n: string): number {
  const bytes = Buffer.from(n, 'base64url');
  let i = 0;
  while (i < bytes.length && bytes[i] === 0) i++;
  if (i === bytes.length) return 0;
  return (bytes.length - i - 1) * 8 + (32 - Math.clz32(bytes[i] as number));
}

/** The public exponent, unless it is even or below 65537: no real issuer publishes such a key. */
function usableExponent(e: string): boolean {
  // At most 8 bytes: real exponents are 3 bytes, and no check should cost more on a made-up one.
  const bytes = Buffer.from(e, 'base64url');
  if (bytes.length > 8) return false;
  const value = BigInt(`0x${bytes.toString('hex') || '0'}`);
  return value >= MIN_RSA_EXPONENT && value % 2n === 1n;
}

function toSigningJwk(entry: unknown): SigningJwk | undefined {
  if (typeof entry !== 'object' || entry === null || Array.isArray(entry)) return undefined;
  const { kty, use, alg, kid, x5t, n, e, issuer } = entry as Record<string, unknown>;
  if (kty !== 'RSA' || (use !== undefined && use !== 'sig') || (alg !== undefined && alg !== 'RS256'))
    return undefined;
  if (typeof kid !== 'string' || kid === '' || typeof n !== 'string' || typeof e !== 'string' || e === '') {
    return undefined;
  }
  if (!/^[A-Za-z0-9_-]+$/.test(n) || !/^[A-Za-z0-9_-]+$/.test(e) || modulusBits(n) < MIN_RSA_BITS)
    return undefined;
  if (!usableExponent(e)) return undefined;
  const jwk: Record<string, string> = { kty, kid, n, e, use: 'sig' };
  if (typeof x5t === 'string' && x5t !== '') jwk.x5t = x5t;
  if (typeof issuer === 'string' && issuer !== '') jwk.issuer = issuer;
  return jwk as SigningJwk;
}

/**
 * Parses a key set and keeps only usable RS256 signing keys. One bad entry does not spoil the set; a set
 * with no usable key at all is an error, so it can never replace a good set.
 */
export function parseKeySet(body: ArrayBuffer | string): ParsedKeySet {
  let parsed: unknown;
  try {
    const text = typeof body === 'string' ? body : new TextDecoder('utf-8', { fatal: true }).decode(body);
    parsed = safeJsonParse(text);
  } catch {
    throw new KeySetError('key set is not JSON');
  }
  return usableKeys(parsed);
}

/** The usable signing keys of a key set already parsed; see parseKeySet. */
export function usableKeys(parsed: unknown): ParsedKeySet {
  const entries = (parsed as { keys?: unknown } | null)?.keys;
  if (!Array.isArray(entries)) throw new KeySetError('key set has no "keys" array');
  const keys = entries.map(toSigningJwk).filter((k): k is SigningJwk => k !== undefined);
  if (keys.length === 0)
    throw new KeySetError(`key set has no usable RS256 signing key (of ${entries.length})`);
  return { keys, dropped: entries.length - keys.length };
}

export function toJwks(keys: readonly SigningJwk[]): Jwks {
  return { keys: keys as readonly Jwk[] } as Jwks;
}
