import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ENV_NAMES, loadConfig } from '../../lambda/authorizer/config.js';
import { KeyFetchError } from '../../lambda/authorizer/errors.js';
import {
  boundedJson,
  clip,
  isoTime,
  loggableText,
  preview,
  printable,
  redactUrl,
} from '../../lambda/authorizer/safe-text.js';

describe('clip', () => {
  it('keeps short text and cuts long text at the limit, counted as JSON writes it', () => {
    expect(clip('abc', 3)).toBe('abc');
    expect(clip('abcd', 3)).toBe('abc...');
    expect(clip('"""', 4)).toBe('""...');
    expect(clip('\u0000\u0000', 6)).toBe('\u0000...');
  });

  it('never writes more than the limit (plus the ellipsis) into JSON, and never splits a surrogate pair', () => {
    // Oracle: the limit measured with JSON.stringify and UTF-16 surrogate ranges in the test, not clip
    fc.assert(
      fc.property(
        fc.string({ unit: 'binary', maxLength: 400 }),
        fc.integer({ min: 1, max: 200 }),
        (text, max) => {
          const clipped = clip(text, max);
          if (clipped === text) return;
          expect(clipped.endsWith('...')).toBe(true);
          const kept = clipped.slice(0, -3);
          expect(text.startsWith(kept)).toBe(true);
          expect(JSON.stringify(kept).length - 2).toBeLessThanOrEqual(max);
          const last = kept.charCodeAt(kept.length - 1);
          const next = text.charCodeAt(kept.length);
          expect(last >= 0xd800 && last <= 0xdbff && next >= 0xdc00 && next <= 0xdfff).toBe(false);
        },
      ),
      { numRuns: 500 },
    );
  });
});

describe('loggableText', () => {
  it('is clip of printable, whatever the text: plain, quoted, controls, surrogates, formatting characters', () => {
    const unit = fc.oneof(
      fc.constantFrom('a', ' ', '~', '"', '\\', '\u007f', '\u0085', '\u202e', '\u2028', '\ud83d', '\ude00'),
      fc.string({ unit: 'binary', minLength: 1, maxLength: 1 }),
    );
    // Oracle: the composition the function stands for, clip(printable(text), max), each tested on its own
    fc.assert(
      fc.property(fc.string({ unit, maxLength: 300 }), fc.integer({ min: 1, max: 200 }), (text, max) => {
        expect(loggableText(text, max)).toBe(clip(printable(text), max));
      }),
      { numRuns: 2000 },
    );
    const guid = '72f988bf-86f1-41af-91ab-2d7cd011db47';
    expect(loggableText(guid, 36)).toBe(guid);
    expect(loggableText(guid, 35)).toBe(clip(guid, 35));
    expect(loggableText('a\u001bb', 128)).toBe('a\\x1bb');
  });
});

describe('preview', () => {
  it('renders untrusted values briefly', () => {
    expect(preview('RS256')).toBe('"RS256"');
    expect(preview(42)).toBe('42');
    expect(preview(undefined)).toBe('undefined');
    expect(preview({ a: [1, 2, 3, 4] })).toBe('{"a":[1,2,3,... 1 more]}');
    expect(preview('x'.repeat(1000)).length).toBeLessThan(100);
  });

  it('renders a value nested 100,000 levels deep in a few characters', () => {
    let deep: unknown = 'bottom';
    for (let i = 0; i < 100_000; i++) deep = [deep];
    expect(preview(deep)).toBe('[[[array of 1]]]');
  });
});

describe('isoTime', () => {
  it('says so for NumericDates no date can hold', () => {
    expect(isoTime(0)).toBe('1970-01-01T00:00:00.000Z');
    expect(isoTime(1e300)).toBe('1e+300 (not a representable date)');
    expect(isoTime(-8.64e12 - 1)).toBe('-8640000000001 (not a representable date)');
  });
});

describe('redactUrl', () => {
  it.each([
    [
      'https://login.microsoftonline.com/t/discovery/v2.0/keys',
      'https://login.microsoftonline.com/t/discovery/v2.0/keys',
    ],
    ['https://user:pass@keys.example/k?appid=1&sig=abc', 'https://***@keys.example/k?***'],
    ['https://token@keys.example:8443/k', 'https://***@keys.example:8443/k'],
    ['https://keys.example/k#frag', 'https://keys.example/k#***'],
    ['http://u:p@127.0.0.1:3000/keys?x', 'http://***@127.0.0.1:3000/keys?***'],
    ['not a url with user:pw@host?secret', 'not a url with user:pw@host?***'],
    ['ftp//u:p@host', 'ftp//u:p@host'],
    ['https://u:p@[bad/k?s', 'https://***@[bad/k?***'],
  ])('%s -> %s', (uri, shown) => {
    expect(redactUrl(uri)).toBe(shown);
  });

  it('is what key fetch errors and configuration errors carry', () => {
    const error = new KeyFetchError('https://user:s3cret@keys.example/k?code=x', 'status 500', true);
    expect(error.message).toBe('https://***@keys.example/k?***: status 500');
    expect(error.uri).toBe('https://***@keys.example/k?***');
    expect(() =>
      loadConfig({
        [ENV_NAMES.tenantId]: '72f988bf-86f1-41af-91ab-2d7cd011db47',
        [ENV_NAMES.audiences]: 'api://x',
        [ENV_NAMES.jwksUri]: 'http://user:s3cret@keys.example/k?code=x',
      }),
    ).toThrow(
      'AZURE_JWKS_URI: expected an https URL (plain http only for 127.0.0.1, ::1 or localhost); got "http://***@keys.example/k?***"',
    );
  });
});

describe('boundedJson', () => {
  it('copies a value, cutting off what lies deeper than the limit, without recursion', () => {
    let deep: unknown = 'bottom';
    for (let i = 0; i < 100_000; i++) deep = { a: deep };
    const copy = boundedJson({ alg: 'RS256', nested: [1, { b: [2] }], deep }, 4) as Record<string, unknown>;
    expect(copy.alg).toBe('RS256');
    expect(copy.nested).toEqual([1, { b: [2] }]);
    expect(JSON.stringify(copy.deep)).toBe('{"a":{"a":{"a":"[nested deeper than 4 levels]"}}}');
  });

  it('keeps a __proto__ key as data', () => {
    const copy = boundedJson(JSON.parse('{"__proto__":{"polluted":true}}')) as Record<string, unknown>;
    expect(Object.getPrototypeOf(copy)).toBe(Object.prototype);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(Object.keys(copy)).toEqual(['__proto__']);
  });
});
