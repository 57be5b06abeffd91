import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ENV_NAMES, loadConfig } from '../../lambda/authorizer/config.js';
import { KeyFetchError } from '../../lambda/authorizer/errors.js';
import {
  boundedJson,
  clip,
  isoTime,
  LOG_LIMITS,
  loggableError,
  loggableText,
  preview,
  printable,
  printableJson,
  redactUrl,
  safeString,
} from '../../lambda/authorizer/safe-text.js';

/** JSON's characters of a text, as JSON.stringify writes them (a lone surrogate takes six). */
const jsonLength = (text: string) => JSON.stringify(text).length - 2;
const isHigh = (c: number) => c >= 0xd800 && c <= 0xdbff;
const isLow = (c: number) => c >= 0xdc00 && c <= 0xdfff;

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

  it('keeps the longest start of the text that fits, cutting only between characters', () => {
    const unit = fc.oneof(
      fc.constantFrom('a', '"', '\\', '\b', '\t', '\n', '\f', '\r', '\u0000', '\u001f', '\u007f', '\u2028'),
      fc.constantFrom(
        '\ud7ff',
        '\ud800',
        '\udbff',
        '\udc00',
        '\udfff',
        '\ue000',
        '\ud83d\ude00',
        '\udbff\udfff',
      ),
    );
    // Oracle: JSON.stringify's length of each candidate start, and UTF-16's surrogate ranges, in the test
    fc.assert(
      fc.property(fc.string({ unit, maxLength: 60 }), fc.integer({ min: 1, max: 120 }), (text, max) => {
        let kept = 0;
        for (let k = 1; k <= text.length; k++) {
          const splitsPair = isHigh(text.charCodeAt(k - 1)) && isLow(text.charCodeAt(k));
          if (!splitsPair && jsonLength(text.slice(0, k)) <= max) kept = k;
        }
        expect(clip(text, max)).toBe(kept === text.length ? text : `${text.slice(0, kept)}...`);
      }),
      { numRuns: 2000 },
    );
  });
});

describe('printable and printableJson', () => {
  const FORMATS = [0x061c, 0x200e, 0x200f, 0x2028, 0x2029, 0x202a, 0x202b, 0x202c, 0x202d, 0x202e];
  const ISOLATES = [0x2066, 0x2067, 0x2068, 0x2069];

  it('escape exactly the C0 and C1 controls, DEL, and the bidirectional and line-separating characters', () => {
    // Oracle: the lists above (Unicode's C0, DEL, C1, the bidirectional formatting characters, U+2028/9), every code unit
    for (let code = 0; code <= 0xffff; code++) {
      const c = String.fromCharCode(code);
      const control = code < 0x20 || (code >= 0x7f && code <= 0x9f);
      const format = FORMATS.includes(code) || ISOLATES.includes(code);
      const hex4 = `\\u${code.toString(16).padStart(4, '0')}`;
      const expected = control ? `\\x${code.toString(16).padStart(2, '0')}` : format ? hex4 : c;
      if (printable(`a${c}b`) !== `a${expected}b`)
        expect([code, printable(`a${c}b`)]).toEqual([code, `a${expected}b`]);
      const json = code >= 0x7f && (control || format) ? hex4 : c;
      if (printableJson(`a${c}b`) !== `a${json}b`)
        expect([code, printableJson(`a${c}b`)]).toEqual([code, `a${json}b`]);
    }
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
    expect(preview(true)).toBe('true');
    expect(preview(null)).toBe('null');
    expect(preview(10n)).toBe('bigint');
    expect(preview(() => 1)).toBe('function');
    expect(preview(Symbol('s'))).toBe('symbol');
    expect(preview([1, 2, 3])).toBe('[1,2,3]');
    expect(preview({ a: 1, b: 2, c: 3 })).toBe('{"a":1,"b":2,"c":3}');
    expect(preview({ a: 1, b: 2, c: 3, d: 4, e: 5 })).toBe('{"a":1,"b":2,"c":3,... 2 more}');
    expect(preview({ a: { b: { c: 1, d: 2 } } })).toBe('{"a":{"b":{object of 2 keys}}}');
    expect(preview([[{ c: 1 }]])).toBe('[[{object of 1 keys}]]');
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
    ['https://:s3cret@keys.example/k', 'https://***@keys.example/k'],
    ['https://u:p@keys.example:99999/k?q=1#a-fragment', 'https://***@keys.example:99999/k?***#***'],
    ['https://keys.example:99999/k#a-fragment', 'https://keys.example:99999/k#***'],
    ['<https://u:p@keys.example:99999/k>', '<https://***@keys.example:99999/k>'],
    ['a://u:p@h:99999/k', 'a://***@h:99999/k'],
    ['h2://u:p@h:99999/k', 'h2://***@h:99999/k'],
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

  it('returns a value that is no object as it is, and copies arrays, nulls and plain data', () => {
    for (const v of [5, 'x', null, undefined, true]) expect(boundedJson(v)).toBe(v);
    expect(boundedJson([1, [2, null], { a: null }])).toEqual([1, [2, null], { a: null }]);
    const copy = boundedJson({ a: 1, b: [2] }) as Record<string, unknown>;
    copy.a = 2;
    delete copy.b;
    expect(copy).toEqual({ a: 2 });
  });
});

describe('safeString', () => {
  it('never throws, naming the type of a value that cannot be made text', () => {
    expect(safeString(new Error('boom'))).toBe('boom');
    expect(safeString(42)).toBe('42');
    expect(safeString(Object.create(null))).toBe('object');
  });
});

describe('loggableError', () => {
  it('caps and makes printable the message, name and stack of an error, and of its direct cause only', () => {
    const root = new Error('root');
    const cause = new Error('cause', { cause: root });
    const err = new TypeError('bad\u001b[31m token', { cause });
    err.stack = `TypeError: bad\n${'    at frame (file.js:1:1)\n'.repeat(200)}`;
    cause.stack = 'c'.repeat(5000);
    const safe = loggableError(err);
    expect(safe.message).toBe('bad\\x1b[31m token');
    expect(safe.name).toBe('TypeError');
    const kept = (safe.stack ?? '').slice(0, -3);
    expect(safe.stack?.endsWith('...')).toBe(true);
    expect(jsonLength(kept)).toBeLessThanOrEqual(LOG_LIMITS.stack);
    expect(jsonLength(kept)).toBeGreaterThanOrEqual(LOG_LIMITS.stack - 1);
    expect(safe.stack?.split('\n')[1]).toBe('    at frame (file.js:1:1)');
    const safeCause = safe.cause as Error;
    expect(safeCause.message).toBe('cause');
    expect(safeCause.stack).toBe(`${'c'.repeat(LOG_LIMITS.detail)}...`);
    expect('cause' in safeCause).toBe(false);
    expect(loggableError(safe)).toBe(safe);
  });

  it('has no cause where there is none or it cannot be read, and an empty stack where there is none', () => {
    const plain = new Error('plain');
    plain.stack = undefined;
    const safe = loggableError(plain);
    expect(safe.stack).toBe('');
    expect('cause' in safe).toBe(false);
    const trap = new Error('trap');
    Object.defineProperty(trap, 'cause', {
      get() {
        throw new Error('getter');
      },
    });
    expect('cause' in loggableError(trap)).toBe(false);
  });

  it('makes a thrown value that is no Error an Error with its text', () => {
    const safe = loggableError('a\nstring');
    expect(safe).toBeInstanceOf(Error);
    expect(safe.message).toBe('a\\x0astring');
    expect(safe.name).toBe('Error');
  });
});
