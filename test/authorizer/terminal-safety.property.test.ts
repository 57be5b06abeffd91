import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { explainToken, renderExplanation } from '../../infra/local/explain.js';
import { ENV_NAMES, loadConfig } from '../../lambda/authorizer/config.js';
import { EntraJwksCache } from '../../lambda/authorizer/keys/key-cache.js';
import { printable, printableJson } from '../../lambda/authorizer/safe-text.js';
import { KeyServer } from '../helpers/key-server.js';
import {
  buildAuthorizer,
  CLIENT_ID,
  claims,
  event,
  header,
  publishedKeySet,
  signed,
  TENANT,
} from '../helpers/setup.js';

const server = KeyServer.forSuite(publishedKeySet);

/**
 * C0 (U+0000-U+001F), DEL and C1 (U+0080-U+009F): what a terminal acts on; and the characters that change
 * how the rest of a line reads (Unicode's bidirectional formatting characters, UAX #9: ALM, LRM, RLM,
 * LRE-RLO, LRI-PDI; and the line and paragraph separators U+2028, U+2029).
 */
const CONTROL_CODES = [
  ...Array(0x20).keys(),
  ...Array.from({ length: 0x21 }, (_, i) => 0x7f + i),
  0x061c,
  0x200e,
  0x200f,
  0x2028,
  0x2029,
  0x202a,
  0x202b,
  0x202c,
  0x202d,
  0x202e,
  0x2066,
  0x2067,
  0x2068,
  0x2069,
];
const isControl = (c: string) => CONTROL_CODES.includes(c.charCodeAt(0));
const controlChar = fc.constantFrom(...CONTROL_CODES.map((c) => String.fromCharCode(c)));
/** Text with control characters anywhere: ESC [2J (clear), OSC 52 (clipboard), a fake Decision block. */
const hostile = fc
  .array(
    fc.oneof(
      controlChar,
      fc.constantFrom(
        '\x1b[2J',
        '\x1b]52;c;ZXZpbA==\x07',
        '\n\nDecision\n  Allow (200)\n',
        '\x9b2J',
        'admin\u202e\u2066// \u2069\u2066',
        'a',
        'é',
        ' ',
      ),
      fc.string({ maxLength: 3 }),
    ),
    { minLength: 1, maxLength: 8 },
  )
  .map((parts) => parts.join(''))
  .filter((s) => [...s].some(isControl));

const noControl = (text: string) => [...text].filter(isControl);

describe('printable', () => {
  it('leaves no control character, keeps every other one in order, and changes nothing else', () => {
    // Oracle: isControl in the test (C0, DEL and C1 by code point) and a decoding of the escapes back to the input
    fc.assert(
      fc.property(
        fc.array(fc.oneof(controlChar, fc.string({ maxLength: 4 })), { maxLength: 10 }),
        (parts) => {
          const text = parts.join('').replaceAll('\\', '/');
          const out = printable(text);
          expect(noControl(out)).toEqual([]);
          expect(out.replace(/\\x[0-9a-f]{2}|\\u[0-9a-f]{4}/g, '')).toBe(
            [...text].filter((c) => !isControl(c)).join(''),
          );
          expect(
            out.replace(/\\x([0-9a-f]{2})|\\u([0-9a-f]{4})/g, (_, x?: string, u?: string) =>
              String.fromCharCode(Number.parseInt((x ?? u) as string, 16)),
            ),
          ).toBe(text);
        },
      ),
    );
  });

  it('printableJson leaves JSON that parses to the same value, with no raw DEL or C1 character', () => {
    // Oracle: JSON.parse of the output equals the generated value, and isControl in the test
    fc.assert(
      fc.property(fc.dictionary(hostile, hostile, { maxKeys: 3 }), (value) => {
        const json = printableJson(JSON.stringify(value, null, 2));
        expect(noControl(json.replaceAll('\n', ''))).toEqual([]);
        expect(JSON.parse(json)).toEqual(value);
      }),
    );
  });
});

describe('text from a token never reaches a terminal or a log raw', () => {
  /** A signed token whose claim names and values, audience, tenant and key id carry control characters. */
  const hostileToken = fc
    .record({
      name: hostile,
      value: hostile,
      where: fc.constantFrom('aud', 'tid', 'iss', 'scp', 'kid', 'claim', 'azp'),
    })
    .map(({ name, value, where }) => {
      const payload: Record<string, unknown> = { ...claims(), [name]: value };
      if (where === 'aud' || where === 'tid' || where === 'iss' || where === 'scp' || where === 'azp')
        payload[where] = value;
      return signed(header(where === 'kid' ? { kid: value } : {}), payload);
    });

  it('npm run explain prints no control character but its own line breaks, and one Decision', async () => {
    const config = loadConfig({
      [ENV_NAMES.tenantId]: TENANT,
      [ENV_NAMES.audiences]: CLIENT_ID,
      [ENV_NAMES.jwksUri]: server.url,
    });
    const keys = new EntraJwksCache();
    // Oracle: a fixed invariant: no character isControl in the test names reaches the terminal, one Decision heading
    await fc.assert(
      fc.asyncProperty(hostileToken, async (token) => {
        const report = await explainToken(token, { config, keys });
        const text = renderExplanation(report, {
          assumed: [`${ENV_NAMES.audiences}=\x1b[2J`],
          notes: ['\x9b'],
        });
        expect(noControl(text.replaceAll('\n', ''))).toEqual([]);
        expect(text.split('\n').filter((line) => line === 'Decision')).toHaveLength(1);
        const json = printableJson(JSON.stringify(report, null, 2));
        expect(noControl(json.replaceAll('\n', ''))).toEqual([]);
      }),
      { numRuns: 60 },
    );
  });

  it('every field of the decision record is free of control characters', async () => {
    const { handler, records } = buildAuthorizer({
      [ENV_NAMES.jwksUri]: server.url,
      [ENV_NAMES.routePermissions]: JSON.stringify({ 'GET /items/{id}': { roles: ['Admin'] } }),
    });
    // Oracle: a fixed invariant: no character isControl in the test names reaches a decision record
    await fc.assert(
      fc.asyncProperty(hostileToken, hostile, async (token, path) => {
        const arn = `arn:aws:execute-api:eu-west-1:123456789012:abc123def4/prod/GET/items/${path}`;
        await handler(event(`Bearer ${token}`, arn)).catch(() => undefined);
        const { decision, error, ...fields } = records.at(-1) ?? { decision: { detail: '' } };
        for (const value of [decision.detail, ...Object.values(fields)]) {
          if (typeof value === 'string') expect(noControl(value)).toEqual([]);
        }
        if (error instanceof Error) expect(noControl(error.message)).toEqual([]);
      }),
      { numRuns: 60 },
    );
  });
});
