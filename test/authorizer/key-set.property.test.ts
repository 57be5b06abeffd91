import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { KeySetError, parseKeySet, usableKeys } from '../../lambda/authorizer/keys/key-set.js';

/*
 * Key set entries judged against docs/token-rules.md's key set table, not key-set.ts: an entry is kept only if it is an
 * RSA key (kty "RSA") for signatures (use absent or "sig"), for RS256 (alg absent or "RS256"), with a kid,
 * base64url n and e, a modulus of at least 2048 bits and an odd public exponent of at least 65537 (both
 * counted here with BigInt); kept keys carry kty,
 * kid, n, e, use "sig", and x5t and issuer when they are non-empty strings.
 */

const ABSENT = Symbol('absent');

/** A base64url modulus of a chosen bit length (leading zero bytes allowed, as some encoders write them). */
const modulus = fc
  .record({
    bits: fc.oneof(
      fc.constantFrom(0, 1, 8, 1024, 2040, 2047, 2048, 2049, 4096),
      fc.integer({ min: 0, max: 4200 }),
    ),
    zeros: fc.integer({ min: 0, max: 2 }),
    fill: fc.integer({ min: 0, max: 255 }),
  })
  .map(({ bits, zeros, fill }) => {
    const bytes = Math.ceil(bits / 8);
    const buf = Buffer.alloc(zeros + bytes, fill);
    if (bytes > 0) {
      const topBits = bits - (bytes - 1) * 8; // 1..8
      buf[zeros] = (fill & ((1 << (topBits - 1)) - 1)) | (1 << (topBits - 1));
    }
    buf.fill(0, 0, zeros);
    return buf.toString('base64url');
  });

/** Mostly the usable value, sometimes one of the others: most sets hold usable and unusable entries. */
const mostly = (usable: fc.Arbitrary<unknown>, ...others: unknown[]) =>
  fc.oneof({ arbitrary: usable, weight: 6 }, { arbitrary: fc.constantFrom(...others), weight: 1 });

const entry = fc.record({
  kty: mostly(fc.constant('RSA'), 'EC', 'rsa', 'oct', ABSENT),
  use: mostly(fc.constantFrom(ABSENT, 'sig'), 'enc', 'SIG', ''),
  alg: mostly(fc.constantFrom(ABSENT, 'RS256'), 'RS512', 'PS256', 'rs256', ''),
  kid: mostly(fc.constantFrom('k1', 'k2'), '', 5, ABSENT),
  n: fc.oneof(
    { arbitrary: modulus, weight: 6 },
    { arbitrary: fc.constantFrom(ABSENT, '', 'a+b/', 'ab=', 5), weight: 1 },
  ),
  // 65537 as Entra publishes it, 2^32+1 (odd, larger), and the weak ones: 3, 1, 65536 (even), 65535.
  e: mostly(fc.constantFrom('AQAB', 'AQAAAAE'), 'Aw', 'AQ', 'AQAA', 'AP__', '', 'A+B', 3, ABSENT),
  x5t: fc.constantFrom<unknown>(ABSENT, 'thumb', '', 7),
  issuer: fc.constantFrom<unknown>(ABSENT, 'https://login.microsoftonline.com/{tenantid}/v2.0', '', [
    'https://login.microsoftonline.com/{tenantid}/v2.0',
  ]),
  extra: fc.constantFrom<unknown>(ABSENT, 'x5c', 'd'),
});
type Entry = typeof entry extends fc.Arbitrary<infer T> ? T : never;

function toJson({ extra, ...fields }: Entry): Record<string, unknown> {
  const jwk = Object.fromEntries(Object.entries(fields).filter(([, v]) => v !== ABSENT));
  if (extra !== ABSENT) jwk[extra as string] = 'AAAA';
  return jwk;
}

const isB64Url = (v: unknown): v is string => typeof v === 'string' && /^[A-Za-z0-9_-]+$/.test(v);
const integerOf = (b64: string) => {
  const hex = Buffer.from(b64, 'base64url').toString('hex');
  return hex === '' ? 0n : BigInt(`0x${hex}`);
};
const strongExponent = (e: string) => integerOf(e) >= 65537n && integerOf(e) % 2n === 1n;
const bitsOf = (n: string) => {
  const hex = Buffer.from(n, 'base64url').toString('hex');
  return hex === '' ? 0 : BigInt(`0x${hex}`).toString(2).replace(/^0+/, '').length;
};

function expectedKey(jwk: Record<string, unknown>): Record<string, unknown> | undefined {
  const { kty, use, alg, kid, n, e, x5t, issuer } = jwk;
  if (kty !== 'RSA' || !(use === undefined || use === 'sig') || !(alg === undefined || alg === 'RS256'))
    return undefined;
  if (typeof kid !== 'string' || kid === '' || !isB64Url(n) || !isB64Url(e) || bitsOf(n) < 2048)
    return undefined;
  if (!strongExponent(e)) return undefined;
  return {
    kty,
    kid,
    n,
    e,
    use: 'sig',
    ...(typeof x5t === 'string' && x5t !== '' && { x5t }),
    ...(typeof issuer === 'string' && issuer !== '' && { issuer }),
  };
}

describe('a key set', () => {
  it('keeps exactly the usable entries, with the fields README names, and refuses a set with none', () => {
    // Oracle: expectedKey() above, the usable-key rules from README and RFC 7517/7518 written in the test, not key-set.ts
    fc.assert(
      fc.property(fc.array(entry.map(toJson), { maxLength: 5 }), fc.boolean(), (entries, asText) => {
        const expected = entries.map(expectedKey).filter((k) => k !== undefined);
        const body = JSON.stringify({ keys: entries });
        const parse = () => (asText ? parseKeySet(body) : parseKeySet(new TextEncoder().encode(body).buffer));
        if (expected.length === 0) {
          expect(parse).toThrow(KeySetError);
          expect(parse).toThrow(`key set has no usable RS256 signing key (of ${entries.length})`);
          return;
        }
        const { keys, dropped } = parse();
        expect(keys).toEqual(expected);
        expect(dropped).toBe(entries.length - expected.length);
      }),
      { numRuns: 500 },
    );
  });

  it('is refused when it is not JSON (or not UTF-8) or has no keys array', () => {
    expect(() => parseKeySet(new Uint8Array([0x7b, 0xff, 0x7d]).buffer)).toThrow(
      new KeySetError('key set is not JSON'),
    );
    for (const parsed of [null, undefined, 5, 'x', {}, { keys: {} }, { keys: 'k' }, []]) {
      expect(() => usableKeys(parsed)).toThrow(new KeySetError('key set has no "keys" array'));
    }
  });
});
