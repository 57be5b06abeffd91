import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  hasUriPrefix,
  hasWhitespace,
  isDigits,
  isEntraName,
  isGuid,
  isHostAndPort,
  isLoopbackHost,
  isPathParameter,
  parseRoutePermissions,
  routeKeyParts,
} from '../../lambda/authorizer/config.js';
import { isFirstPartyId, isGraphAudience, microsoftApiOf } from '../../lambda/authorizer/microsoft-apis.js';

/*
 * The checks of the cold start's path are written as loops and string tests. Their specification is the
 * regular expression each one was (each test's oracle), on strings drawn around the edges of its alphabet:
 * the characters either side of each range, upper case, non-ASCII digits and letters, astral characters,
 * and lengths at the limits.
 */

const EDGES = [
  ...'/09:@AFGZ[\\]`afgz{~!"#-.+_ \t\n\u007f\u0080é٣Ａ',
  '\u{1f600}',
  '\u00a0',
  '\u2028',
  '\u3000',
  '\ufeff',
  '\u180e',
  '\u200b',
  '\v',
  '\f',
  '\r',
] as const;

/** A string of `unit`s, mostly from `valid` (so the interesting strings are near a match), some edges. */
function near(valid: string, minLength: number, maxLength: number): fc.Arbitrary<string> {
  const unit = fc.oneof(
    { weight: 4, arbitrary: fc.constantFrom(...valid) },
    { weight: 1, arbitrary: fc.constantFrom(...EDGES) },
  );
  return fc.string({ unit, minLength, maxLength });
}

/** `value` with one position replaced by an edge character, or a character inserted or removed. */
function edited(value: fc.Arbitrary<string>): fc.Arbitrary<string> {
  return fc
    .tuple(
      value,
      fc.nat(),
      fc.constantFrom(...EDGES),
      fc.constantFrom('replace', 'insert', 'remove', 'upper'),
    )
    .map(([v, at, ch, how]) => {
      const i = v.length === 0 ? 0 : at % v.length;
      if (how === 'upper') return v.toUpperCase();
      if (how === 'insert') return v.slice(0, i) + ch + v.slice(i);
      if (how === 'remove') return v.slice(0, i) + v.slice(i + 1);
      return v.slice(0, i) + ch + v.slice(i + 1);
    });
}

const HEX = '0123456789abcdef';
const lowerGuid = fc.uuid().map((u) => u.toLowerCase());

describe('isGuid', () => {
  it('is the regular expression it replaced', () => {
    const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
    // Oracle: the regular expression isGuid was, the lower-case 8-4-4-4-12 GUID
    fc.assert(
      fc.property(fc.oneof(lowerGuid, edited(lowerGuid), near(`${HEX}-`, 34, 38)), (value) => {
        expect(isGuid(value)).toBe(GUID.test(value));
      }),
      { numRuns: 2000 },
    );
  });

  it('is false, never a TypeError, for what a JavaScript caller may pass that is no string', () => {
    for (const value of [undefined, null, 36, ['72f988bf-86f1-41af-91ab-2d7cd011db47'], {}])
      expect(isGuid(value as unknown as string)).toBe(false);
  });
});

describe('isFirstPartyId', () => {
  it('is the regular expression it replaced', () => {
    const FIRST_PARTY_ID = /^0000000[0-9a-f]-0000-0(?:000-c000|ff1-ce00)-000000000000$/;
    const firstParty = fc
      .tuple(fc.constantFrom(...HEX), fc.constantFrom('000-c000', 'ff1-ce00'))
      .map(([x, middle]) => `0000000${x}-0000-0${middle}-000000000000`);
    // Oracle: the regular expression isFirstPartyId was, Microsoft's two first-party id patterns
    fc.assert(
      fc.property(fc.oneof(firstParty, edited(firstParty), edited(lowerGuid)), (value) => {
        expect(isFirstPartyId(value)).toBe(FIRST_PARTY_ID.test(value));
      }),
      { numRuns: 2000 },
    );
  });
});

describe('isEntraName', () => {
  it('is the regular expression it replaced', () => {
    const ENTRA_NAME = /^(?!\.)[!#-[\]-~]{1,120}$/;
    const printable = Array.from({ length: 0x7f - 0x20 }, (_, i) => String.fromCharCode(0x20 + i)).join('');
    // Oracle: the regular expression isEntraName was, Graph's permissionScope and appRole value rule
    fc.assert(
      fc.property(
        fc.oneof(
          near(printable, 0, 3),
          near(printable, 118, 122),
          fc.string({ unit: fc.constantFrom(...'.!~#[]aZ09'), minLength: 119, maxLength: 121 }),
          edited(near('.Orders_Read', 1, 121)),
        ),
        (value) => {
          expect(isEntraName(value)).toBe(ENTRA_NAME.test(value));
        },
      ),
      { numRuns: 2000 },
    );
  });
});

describe('hasUriPrefix', () => {
  it('is the regular expression it replaced', () => {
    const URI_PREFIX = /^[A-Za-z][A-Za-z0-9+.-]*:\/\//;
    // Oracle: the regular expression hasUriPrefix was, a URI scheme and `://`
    fc.assert(
      fc.property(
        fc.oneof(
          near('aZ09+.-:/', 0, 12),
          edited(fc.constantFrom('api://x/Orders.Read', 'https://a.b/s', 'a://', 'z+.-9://')),
        ),
        (value) => {
          expect(hasUriPrefix(value)).toBe(URI_PREFIX.test(value));
        },
      ),
      { numRuns: 2000 },
    );
  });
});

describe('isDigits', () => {
  it('is the regular expression it replaced', () => {
    // Oracle: the regular expression isDigits was, ASCII digits only
    fc.assert(
      fc.property(fc.oneof(near('0123456789', 0, 4), edited(fc.nat().map(String))), (value) => {
        expect(isDigits(value)).toBe(/^\d+$/.test(value));
      }),
      { numRuns: 1000 },
    );
  });
});

describe('isLoopbackHost', () => {
  it('is the regular expressions it replaced', () => {
    const loopback = (hostname: string) => {
      const host = hostname.replace(/^\[|\]$/g, '');
      return host === 'localhost' || host === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);
    };
    const ipv4 = fc
      .tuple(
        fc.constantFrom('127', '12', '1270', '128'),
        fc.array(fc.nat({ max: 1200 }), { minLength: 2, maxLength: 4 }),
      )
      .map(([first, rest]) => [first, ...rest].join('.'));
    const bracketed = fc
      .tuple(
        fc.constantFrom('', '[', ']', '[]', ']['),
        fc.oneof(ipv4, fc.constantFrom('::1', 'localhost', '', '[', ']')),
      )
      .map(([b, host]) =>
        b.length === 2 ? `${b[0]}${host}${b[1]}` : b === '[' ? `[${host}` : `${host}${b}`,
      );
    // Oracle: the regular expressions isLoopbackHost was: brackets stripped, then localhost, ::1 or 127.n.n.n
    fc.assert(
      fc.property(
        fc.oneof(ipv4, edited(ipv4), bracketed, edited(bracketed), near('127.0[]:1', 0, 16)),
        (value) => {
          expect(isLoopbackHost(value)).toBe(loopback(value));
        },
      ),
      { numRuns: 2000 },
    );
  });
});

describe('isHostAndPort', () => {
  it('is the regular expression it replaced', () => {
    const HOST = /^[a-z0-9.-]+(:[0-9]{1,5})?$/;
    const host = fc
      .tuple(near('az09.-', 0, 6), fc.constantFrom('', ':', ':0', ':443', ':65535', ':123456', '::1'))
      .map(([name, port]) => name + port);
    // Oracle: the regular expression isHostAndPort was, a lower-case host name and an optional port
    fc.assert(
      fc.property(fc.oneof(host, edited(host), near('az09.-:', 0, 10)), (value) => {
        expect(isHostAndPort(value)).toBe(HOST.test(value));
      }),
      { numRuns: 2000 },
    );
  });
});

describe('isPathParameter', () => {
  it('is the regular expression it replaced', () => {
    const PATH_PARAMETER = /^\{[A-Za-z0-9._-]+\+?\}$/;
    const parameter = fc
      .tuple(near('azAZ09._-+{}', 0, 4), fc.constantFrom('', '+', '++'))
      .map(([name, plus]) => `{${name}${plus}}`);
    // Oracle: the regular expression isPathParameter was, API Gateway's {name} and {name+} segments
    fc.assert(
      fc.property(fc.oneof(parameter, edited(parameter), near('{}+a', 0, 4)), (value) => {
        expect(isPathParameter(value)).toBe(PATH_PARAMETER.test(value));
      }),
      { numRuns: 2000 },
    );
  });
});

describe('hasWhitespace', () => {
  it('finds every UTF-16 code unit \\s matches, and no other', () => {
    for (let code = 0; code <= 0xffff; code++) {
      const ch = String.fromCharCode(code);
      if (hasWhitespace(`a${ch}b`) !== /\s/.test(ch)) expect.fail(`U+${code.toString(16)}`);
    }
  });
});

describe('routeKeyParts and hasWhitespace', () => {
  it('are the regular expressions they replaced', () => {
    const ROUTE_KEY = /^(\S+) (\/\S*)$/;
    const key = fc
      .tuple(
        near('GETany*', 0, 4),
        fc.constantFrom(' ', ' ', ' ', '  ', '', '\t'),
        fc.constantFrom('/', '', 'a'),
        near('ab{}/', 0, 6),
      )
      .map(([method, space, slash, path]) => method + space + slash + path);
    // Oracle: the regular expression routeKeyParts was, a method, one space and a path from /
    fc.assert(
      fc.property(fc.oneof(key, edited(key)), (route) => {
        const match = ROUTE_KEY.exec(route);
        expect(routeKeyParts(route)).toEqual(
          match === null ? undefined : { method: match[1], path: match[2] },
        );
      }),
      { numRuns: 2000 },
    );
    // Oracle: the regular expression hasWhitespace was, \s anywhere
    fc.assert(
      fc.property(fc.oneof(near('a ', 0, 3), near('ab', 0, 3)), (value) => {
        expect(hasWhitespace(value)).toBe(/\s/.test(value));
      }),
      { numRuns: 2000 },
    );
  });
});

describe('a route key with a policy special character', () => {
  it('is refused naming the first one, as the regular expression that found it did', () => {
    const refusal = (path: string) => {
      try {
        parseRoutePermissions({ [`GET ${path}`]: {} });
        return undefined;
      } catch (err) {
        const text = String(err);
        return text.includes('paths without "?"')
          ? '?'
          : text.includes('paths without "$"')
            ? '$'
            : undefined;
      }
    };
    // Oracle: the regular expression /[?$]/ the check was: its first match is the character the message names
    fc.assert(
      // (without white space, which ends the route key before its path is read)
      fc.property(
        near('a?$', 0, 5).filter((tail) => !/\s/.test(tail)),
        (tail) => {
          expect(refusal(`/${tail}`)).toBe(/[?$]/.exec(`/${tail}`)?.[0]);
        },
      ),
      { numRuns: 1000 },
    );
  });
});

describe("Microsoft's own APIs", () => {
  // Oracle: Microsoft's documented application ids and resource URIs (Graph 00000003-0000-0000-c000-000000000000
  // and https://graph.microsoft.com, Azure AD Graph https://graph.windows.net, Resource Manager
  // 797f4846-ba00-4fd7-ba43-dac1f8f63013 and https://management.azure.com).
  it('tells Graph audiences (Microsoft Graph, the retired Azure AD Graph) from those of other Microsoft APIs', () => {
    for (const graph of [
      '00000003-0000-0000-c000-000000000000',
      'https://graph.microsoft.com/',
      'HTTPS://GRAPH.MICROSOFT.COM',
      'https://graph.windows.net',
    ])
      expect(isGraphAudience(graph)).toBe(true);
    for (const other of [
      '797f4846-ba00-4fd7-ba43-dac1f8f63013',
      'https://management.azure.com/',
      'https://vault.azure.net',
      'api://my-api',
    ])
      expect(isGraphAudience(other)).toBe(false);
  });

  it('names an unlisted first-party id or a Microsoft host "a Microsoft API", and a customer audience none', () => {
    expect(microsoftApiOf('00000007-0000-0000-c000-000000000000')).toBe('a Microsoft API');
    expect(microsoftApiOf('https://contoso.sharepoint.com/sites/x')).toBe('a Microsoft API');
    expect(microsoftApiOf('https://management.azure.com/')).toBe('Azure Resource Manager');
    expect(microsoftApiOf('https://graph.microsoft.com/v1.0')).toBe('Microsoft Graph');
    expect(microsoftApiOf('https://office.com')).toBe('a Microsoft API');
    expect(microsoftApiOf('api://my-api')).toBeUndefined();
    expect(microsoftApiOf('https://api.contoso.com')).toBeUndefined();
  });
});
