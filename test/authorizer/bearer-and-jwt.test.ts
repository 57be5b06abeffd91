import { describe, expect, it } from 'vitest';
import { BEARER_HEADER_PATTERN, extractBearerToken } from '../../lambda/authorizer/bearer.js';
import { TokenRejectedError } from '../../lambda/authorizer/errors.js';
import { decodeJwt, isCanonicalBase64Url } from '../../lambda/authorizer/jwt.js';

describe('extractBearerToken', () => {
  it.each(['Bearer a.b.c', 'bearer a.b.c', 'BEARER a-_.b.c'])('takes the token from %j', (header) => {
    expect(extractBearerToken(header)).toBe(header.slice(7));
  });

  it.each([
    ['Bearer', 'malformed'],
    ['Bearer a.b', 'malformed'],
    ['Bearer a.b.c.d', 'malformed'],
    ['Bearer\ta.b.c', 'malformed'],
    ['Bearer a.b.c\n', 'malformed'],
    ['Token a.b.c', 'malformed'],
    [`Bearer ${'a'.repeat(16 * 1024)}.b.c`, 'malformed'],
  ])('refuses %j as %s', (header, reason) => {
    expect(() => extractBearerToken(header)).toThrow(expect.objectContaining({ reason }));
  });

  it('shares its rule with the API Gateway validation expression', () => {
    expect(new RegExp(BEARER_HEADER_PATTERN).test('Bearer a.b.c')).toBe(true);
    expect(new RegExp(BEARER_HEADER_PATTERN).test('Basic YTpi')).toBe(false);
  });
});

describe('decodeJwt', () => {
  it('accepts only canonical base64url', () => {
    expect(isCanonicalBase64Url('QQ')).toBe(true); // "A"
    expect(isCanonicalBase64Url('QR')).toBe(false); // also "A" to a lenient decoder
    expect(isCanonicalBase64Url('QUE')).toBe(true);
    expect(isCanonicalBase64Url('QUF')).toBe(false);
    expect(isCanonicalBase64Url('Q')).toBe(false);
  });

  it('refuses parts that are not JSON objects', () => {
    const b64 = (s: string) => Buffer.from(s).toString('base64url');
    expect(() => decodeJwt(`${b64('"x"')}.${b64('{}')}.AA`)).toThrow(TokenRejectedError);
    expect(() => decodeJwt(`${b64('{}')}.${b64('[1]')}.AA`)).toThrow(TokenRejectedError);
    expect(decodeJwt(`${b64('{"alg":"RS256"}')}.${b64('{"a":1}')}.AA`).payload).toEqual({ a: 1 });
  });
});
