import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { extractBearerToken } from '../../lambda/authorizer/bearer.js';
import { TokenRejectedError } from '../../lambda/authorizer/errors.js';
import { decodeJwt, headerKeyId, isCanonicalBase64Url } from '../../lambda/authorizer/jwt.js';

/*
 * The header and JWT shape of docs/token-rules.md's first rule, on generated input: `Bearer <jwt>` with the scheme
 * in any case and one space (RFC 7235), a compact JWS of three non-empty base64url parts (RFC 7515) in its
 * one canonical spelling (RFC 4648 section 3.5: no padding, zero unused bits), at most 16 KiB in all.
 */

const B64URL = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
const segment = fc.string({ unit: fc.constantFrom(...B64URL), minLength: 1, maxLength: 12 });
const scheme = fc
  .array(fc.boolean(), { minLength: 6, maxLength: 6 })
  .map((upper) => [...'bearer'].map((c, i) => (upper[i] ? c.toUpperCase() : c)).join(''));

function outcome(run: () => string): string {
  try {
    return `token ${run()}`;
  } catch (err) {
    expect(err).toBeInstanceOf(TokenRejectedError);
    return (err as TokenRejectedError).reason;
  }
}

describe('the Authorization header', () => {
  it('gives the token of "Bearer <a>.<b>.<c>" in any case of the scheme, and refuses any other shape', () => {
    const junk = fc.constantFrom('', ' ', '  ', '\t', '.', '=', '+', '/', 'Bearer ', '\n', 'ä');
    // Oracle: the header grammar written out as `valid` below (RFC 6750 §2.1, scheme in any case), not bearer.ts
    fc.assert(
      fc.property(
        fc.oneof(scheme, fc.constantFrom('Basic', 'Beare', 'Bearerr', 'Token')),
        fc.constantFrom(' ', '  ', '\t', ''),
        fc.array(segment, { minLength: 1, maxLength: 4 }),
        junk,
        junk,
        (s, space, parts, before, after) => {
          // "Bearer " + any scheme word glued to the token is itself a well-formed header of another token.
          fc.pre(!(before === 'Bearer ' && space === ''));
          const token = parts.join('.');
          const header = `${before}${s}${space}${token}${after}`;
          const valid =
            before === '' &&
            after === '' &&
            s.toLowerCase() === 'bearer' &&
            space === ' ' &&
            parts.length === 3;
          expect(outcome(() => extractBearerToken(header))).toBe(valid ? `token ${token}` : 'malformed');
        },
      ),
    );
    expect(outcome(() => extractBearerToken(undefined))).toBe('missing_token');
    expect(outcome(() => extractBearerToken(''))).toBe('missing_token');
  });

  it('is at most 16 KiB, to the character', () => {
    const header = (length: number) => `Bearer a.b.${'c'.repeat(length - 'Bearer a.b.'.length)}`;
    expect(outcome(() => extractBearerToken(header(16 * 1024)))).toBe(`token ${header(16 * 1024).slice(7)}`);
    expect(outcome(() => extractBearerToken(header(16 * 1024 + 1)))).toBe('malformed');
  });
});

describe('a base64url part', () => {
  it('is canonical exactly when decoding and encoding it again gives it back', () => {
    // Oracle: a round trip through Node's Buffer base64url codec, not jwt.ts
    fc.assert(
      fc.property(fc.string({ unit: fc.constantFrom(...B64URL), minLength: 1, maxLength: 16 }), (part) => {
        const roundTrip = Buffer.from(part, 'base64url').toString('base64url') === part;
        expect(isCanonicalBase64Url(part)).toBe(roundTrip);
      }),
      { numRuns: 2000 },
    );
  });
});

describe('a compact JWT', () => {
  const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');

  it('splits into a header and payload that are JSON objects, and refuses anything else', () => {
    const json = fc.constantFrom<unknown>({ a: 1 }, {}, [], 'x', 5, null, [{ a: 1 }]);
    // Oracle: JSON.stringify and Buffer base64url in the test, and RFC 7519 §7.2 (header and payload are JSON objects)
    fc.assert(
      fc.property(json, json, segment, (h, p, sig) => {
        const isObject = (v: unknown) => typeof v === 'object' && v !== null && !Array.isArray(v);
        const token = `${b64(h)}.${b64(p)}.${sig}`;
        const canonical = isCanonicalBase64Url(sig);
        const expected = !canonical ? 'malformed' : isObject(h) && isObject(p) ? 'decoded' : 'malformed';
        const got = outcome(() => {
          const jwt = decodeJwt(token);
          expect(jwt).toEqual({
            header: h,
            payload: p,
            signingInput: `${b64(h)}.${b64(p)}`,
            signatureB64: sig,
          });
          return 'decoded';
        });
        expect(got).toBe(expected === 'decoded' ? 'token decoded' : expected);
      }),
    );
  });

  const PARTS = 'JWT does not have exactly three non-empty parts';
  it.each([
    ['.e30.sig', PARTS],
    ['e30..sig', PARTS],
    ['e30.e30.', PARTS],
    ['e30.e30', PARTS],
    ['e30.e30.sig.x', PARTS],
    ['e30.e30.sig.', PARTS],
    ['e30', PARTS],
    ['e31.e30.sig', 'JWT part is not canonical base64url'],
    ['e30.e31.sig', 'JWT part is not canonical base64url'],
    ['e30.e30.sih', 'JWT part is not canonical base64url'],
    ['bm90IGpzb24.e30.sig', 'JWT header is not base64url-encoded JSON'],
    ['e30.bm90IGpzb24.sig', 'JWT payload is not base64url-encoded JSON'],
    ['e30.W10.sig', 'JWT payload is not a JSON object'],
    ['bnVsbA.e30.sig', 'JWT header is not a JSON object'],
  ])('refuses %s as malformed: %s', (token, detail) => {
    expect(outcome(() => JSON.stringify(decodeJwt(token)))).toBe('malformed');
    expect(() => decodeJwt(token)).toThrow(new TokenRejectedError('malformed', detail));
  });

  it('names its key by kid, or by x5t only when kid is absent, up to 128 characters', () => {
    expect(headerKeyId({ kid: 'a', x5t: 'b' })).toBe('a');
    expect(headerKeyId({ x5t: 'b' })).toBe('b');
    expect(headerKeyId({ kid: 5, x5t: 'b' })).toBeUndefined();
    expect(headerKeyId({ kid: '', x5t: 'b' })).toBeUndefined();
    expect(headerKeyId({ kid: 'k'.repeat(128) })).toBe('k'.repeat(128));
    expect(headerKeyId({ kid: 'k'.repeat(129) })).toBeUndefined();
    expect(headerKeyId({ x5t: 'k'.repeat(129) })).toBeUndefined();
    expect(headerKeyId({})).toBeUndefined();
  });
});
