import { generateKeyPairSync } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { KeySetError, parseKeySet } from '../../lambda/authorizer/keys/key-set.js';
import { testKeys } from '../helpers/setup.js';

/** A big-endian exponent as a JWK writes it (no leading zero bytes). */
const exponent = (value: bigint) => {
  const hex = value.toString(16);
  return Buffer.from(hex.length % 2 === 1 ? `0${hex}` : hex, 'hex').toString('base64url');
};

describe('a key set keeps only keys a real issuer would publish', () => {
  const good = testKeys().main.publicJwk;
  const small = generateKeyPairSync('rsa', { modulusLength: 1024 }).publicKey.export({ format: 'jwk' });
  // One entry per kind docs/token-rules.md says is dropped, each next to a good key.
  it.each([
    ['not RSA', { kty: 'EC', crv: 'P-256', x: 'AA', y: 'AA', kid: 'ec' }],
    ['use enc', { ...good, kid: 'x', use: 'enc' }],
    ['alg RS512', { ...good, kid: 'x', alg: 'RS512' }],
    ['RSA under 2048 bits', { ...small, kid: 'x' }],
    ['no n', { kty: 'RSA', kid: 'x', e: 'AQAB' }],
    ['no e', { kty: 'RSA', kid: 'x', n: good.n }],
    ['no kid', { ...good, kid: undefined }],
    ['exponent 1 ("AQ")', { ...good, kid: 'x', e: 'AQ' }],
    ['exponent 3', { ...good, kid: 'x', e: 'Aw' }],
    ['an even exponent', { ...good, kid: 'x', e: exponent(65538n) }],
    ['an exponent of 0', { ...good, kid: 'x', e: 'AA' }],
    ['an exponent of no whole byte ("A")', { ...good, kid: 'x', e: 'A' }],
    ['a modulus of no whole byte ("A")', { ...good, kid: 'x', n: 'A' }],
    ['not an object', 'junk'],
    ['null', null],
    ['a number', 42],
    ['an array', [good]],
  ])('drops an entry with %s and counts it', (_, entry) => {
    const { keys, dropped } = parseKeySet(JSON.stringify({ keys: [entry, good] }));
    expect(keys.map((k) => k.kid)).toEqual([good.kid]);
    expect(dropped).toBe(1);
  });

  it('refuses a key set that is not UTF-8, as JSON exchanged between systems must be (RFC 8259, 8.1)', () => {
    const text = JSON.stringify({ keys: [{ ...good, kid: 'k\u00e9' }] });
    const bytes = Buffer.from(text, 'utf8');
    // The two bytes of "é" become one lone continuation byte: no longer UTF-8, though a lenient decoder reads on.
    const at = bytes.indexOf(Buffer.from('\u00e9', 'utf8'));
    const broken = Buffer.concat([bytes.subarray(0, at), Buffer.from([0xa9]), bytes.subarray(at + 2)]);
    const body = broken.buffer.slice(broken.byteOffset, broken.byteOffset + broken.byteLength);
    expect(() => parseKeySet(body)).toThrow(KeySetError);
    expect(() => parseKeySet(body)).toThrow('key set is not JSON');
    expect(
      parseKeySet(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength)).keys,
    ).toHaveLength(1);
  });

  it('keeps an RSA key exactly when its exponent is odd and at least 65537', () => {
    const value = fc.oneof(
      fc.bigInt({ min: 0n, max: 70_000n }),
      fc.bigInt({ min: 65_530n, max: 65_540n }),
      fc.bigInt({ min: 0n, max: (1n << 32n) - 1n }),
    );
    // Oracle: the rule 'odd and at least 65537', computed on the generated bigint in the test
    fc.assert(
      fc.property(value, (e) => {
        const { keys, dropped } = parseKeySet(
          JSON.stringify({ keys: [{ ...good, kid: 'candidate', e: exponent(e) }, good] }),
        );
        const kept = e >= 65537n && e % 2n === 1n;
        expect(keys.some((k) => k.kid === 'candidate')).toBe(kept);
        expect(dropped).toBe(kept ? 0 : 1);
      }),
      { numRuns: 500 },
    );
  });

  it('drops a key whose n or e is not base64url anywhere in it (RFC 7518 section 6.3.1: Base64urlUInt)', () => {
    for (const bad of ['+', '/', '=', '.', ' ']) {
      for (const field of ['n', 'e'] as const) {
        const value = good[field] as string;
        for (const written of [
          `${bad}${value}`,
          `${value.slice(0, 2)}${bad}${value.slice(2)}`,
          `${value}${bad}`,
        ]) {
          const { keys, dropped } = parseKeySet(
            JSON.stringify({ keys: [{ ...good, kid: 'candidate', [field]: written }, good] }),
          );
          expect(
            keys.map((k) => k.kid),
            `${field} = ${written.slice(0, 8)}`,
          ).toEqual([good.kid]);
          expect(dropped).toBe(1);
        }
      }
    }
  });

  it('keeps a strong exponent written in up to 8 bytes, and drops a longer one', () => {
    // 8 bytes is the most a kept exponent may take (docs/token-rules.md); real ones take 3.
    const longest = (1n << 63n) + 1n;
    for (const [e, kept] of [
      [longest, true],
      [(1n << 64n) - 1n, true],
      [(1n << 64n) | 1n, false],
    ] as const) {
      const { keys } = parseKeySet(
        JSON.stringify({ keys: [{ ...good, kid: 'candidate', e: exponent(e) }, good] }),
      );
      expect(keys.some((k) => k.kid === 'candidate')).toBe(kept);
    }
  });
});
