import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { KeyServer } from '../helpers/key-server.js';
import { runScript } from '../helpers/run-script.js';
import { CLIENT_ID, claims, header, publishedKeySet, signed, TENANT } from '../helpers/setup.js';

/*
 * The command itself, as an operator runs it, on tokens whose text would act on a terminal: what it writes
 * (text or --json) holds no C0 control but its own line breaks, no DEL
 * and no C1 control (ECMA-48: C0 is U+0000-U+001F, C1 is U+0080-U+009F). The report functions have their
 * own property (terminal-safety); this one covers the lines the command prints around them.
 */
const server = KeyServer.forSuite(publishedKeySet);
const explain = (args: string[]) => runScript('infra/local/explain-cli.ts', args);

/** The raw control characters in `text`, its line breaks aside. */
const rawControls = (text: string) =>
  [...text].filter((c) => {
    const code = c.charCodeAt(0);
    return c !== '\n' && (code < 0x20 || (code >= 0x7f && code <= 0x9f));
  });
const control = fc
  .integer({ min: 0, max: 0x9f })
  .filter((c) => c < 0x20 || c >= 0x7f)
  .map((c) => String.fromCharCode(c));
const hostile = fc
  .array(
    fc.oneof(
      control,
      fc.constantFrom('\x1b[2J', '\x1b]52;c;ZXZpbA==\x07', '\nDecision\n  Allow (200)\n', '\x9b2J', 'a'),
    ),
    {
      minLength: 1,
      maxLength: 5,
    },
  )
  // Each holds a C1 control, which JSON.stringify writes raw, besides whatever else was drawn.
  .map((parts) => `${parts.join('')}\x9d`);
const b64 = (value: string) => Buffer.from(value).toString('base64url');

describe('npm run explain at a terminal', () => {
  it('prints no raw control character from a token, in text or --json, signed or not', async () => {
    // Oracle: a fixed invariant: no raw C0, DEL or C1 control character in the output, checked on the output bytes
    await fc.assert(
      fc.asyncProperty(
        hostile,
        fc.constantFrom('aud', 'tid', 'iss', 'scp', 'azp', 'kid', 'name'),
        fc.boolean(),
        fc.boolean(),
        fc.boolean(),
        async (text, where, sign, json, configured) => {
          const payload: Record<string, unknown> = { ...claims(), [text]: text };
          if (where !== 'kid') payload[where] = text;
          const head = header(where === 'kid' ? { kid: text } : {});
          const token = sign
            ? signed(head, payload)
            : `${b64(JSON.stringify(head))}.${b64(JSON.stringify(payload))}.${b64('not a signature')}`;
          const run = await explain([
            ...(json ? ['--json'] : []),
            // Unconfigured, explain assumes the token's own tenant and audience, and says so (or fails).
            ...(configured ? ['--tenant', TENANT, '--audience', CLIENT_ID] : []),
            '--jwks-uri',
            server.url,
            token,
          ]);
          // Allow (0) for a signed token that passes, a 401 or 403 (1), or a tenant no variable takes (2).
          expect([0, 1, 2]).toContain(run.code);
          expect(rawControls(run.stdout + run.stderr)).toEqual([]);
          if (run.code === 2) expect(run.stdout).toBe('');
          else if (json) expect(() => JSON.parse(run.stdout)).not.toThrow();
          else expect(run.stdout.split('\n').filter((line) => line === 'Decision')).toHaveLength(1);
        },
      ),
      { numRuns: 8 },
    );
  }, 240_000);
});
