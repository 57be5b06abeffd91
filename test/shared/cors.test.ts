import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  CORS_ALLOW_ORIGIN_ENV,
  corsHeaders,
  isAllowOrigin,
  readCorsOptions,
  withCors,
} from '../../lambda/shared/cors.js';

describe('the allowed origin', () => {
  it('is * or one origin exactly as a browser sends it in Origin', () => {
    for (const ok of [
      '*',
      'https://app.example.com',
      'http://127.0.0.1:5173',
      'http://[::1]:3000',
      'https://a-b.c.example:8443',
    ]) {
      expect(isAllowOrigin(ok)).toBe(true);
    }
    // Each of these would never equal a browser's Origin header, and so would block every call.
    for (const bad of [
      '',
      'null',
      'app.example.com',
      'https://App.example.com',
      'https://app.example.com/',
      'https://app.example.com:443',
      'https://app.example.com/path',
      'https://user@app.example.com',
      'ftp://app.example.com',
      "https://a'b.example",
      'https://*.example.com',
      'https://a.example.com,https://b.example.com',
    ]) {
      expect(isAllowOrigin(bad)).toBe(false);
    }
  });

  it('accepts what a browser would serialize for any http(s) host and port', () => {
    // A label with "--" as its third and fourth characters is IDNA's (xn--...): the URL parser decodes it as
    // punycode, or refuses it (xn--a), so it is no plain host name.
    const label = fc.stringMatching(/^[a-z]([a-z0-9-]{0,8}[a-z0-9])?$/).filter((l) => l.slice(2, 4) !== '--');
    // Oracle: the WHATWG URL parser's serialized origin (new URL().origin), not isAllowOrigin
    fc.assert(
      fc.property(
        fc.constantFrom('http', 'https'),
        fc.array(label, { minLength: 1, maxLength: 4 }),
        fc.option(fc.integer({ min: 1, max: 65535 }), { nil: undefined }),
        (scheme, labels, port) => {
          const origin = new URL(`${scheme}://${labels.join('.')}${port === undefined ? '' : `:${port}`}/x`)
            .origin;
          expect(isAllowOrigin(origin)).toBe(true);
          expect(isAllowOrigin(`${origin}/`)).toBe(false);
        },
      ),
    );
  });

  it('is read once from CORS_ALLOW_ORIGIN, * by default, and a bad value names the variable', () => {
    expect(readCorsOptions({})).toEqual({ allowOrigin: '*' });
    expect(readCorsOptions({ [CORS_ALLOW_ORIGIN_ENV]: ' https://app.example.com ' })).toEqual({
      allowOrigin: 'https://app.example.com',
    });
    expect(() => readCorsOptions({ [CORS_ALLOW_ORIGIN_ENV]: 'https://app.example.com/' })).toThrow(
      /^CORS_ALLOW_ORIGIN: expected .*got "https:\/\/app.example.com\/"/,
    );
  });
});

describe('withCors', () => {
  it('adds Access-Control-Allow-Origin, and Vary: Origin for a named origin', () => {
    expect(corsHeaders({ allowOrigin: '*' })).toEqual({ 'Access-Control-Allow-Origin': '*' });
    expect(
      withCors(
        { statusCode: 200, body: '' },
        {
          allowOrigin: 'https://app.example.com',
        },
      ).headers,
    ).toEqual({
      'Access-Control-Allow-Origin': 'https://app.example.com',
      Vary: 'Origin',
    });
  });

  it('leaves a header the backend set itself, whatever the case of its name', () => {
    const result = withCors(
      {
        statusCode: 200,
        body: '',
        headers: { 'access-control-allow-origin': 'https://other.example', vary: 'Accept' },
      },
      { allowOrigin: 'https://app.example.com' },
    );
    expect(result.headers).toEqual({
      'access-control-allow-origin': 'https://other.example',
      vary: 'Accept',
    });
  });
});
