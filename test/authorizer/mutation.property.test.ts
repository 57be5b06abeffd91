import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ENV_NAMES } from '../../lambda/authorizer/config.js';
import { KeyServer } from '../helpers/key-server.js';
import { buildAuthorizer, event, publishedKeySet, token } from '../helpers/setup.js';

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.=+/ ';

type Mutation =
  | { kind: 'replace'; at: number; char: string }
  | { kind: 'insert'; at: number; char: string }
  | { kind: 'delete'; at: number }
  | { kind: 'swap'; at: number; with: number }
  | { kind: 'truncate'; at: number };

function mutate(original: string, m: Mutation): string {
  const at = m.at % original.length;
  switch (m.kind) {
    case 'replace':
      return original.slice(0, at) + m.char + original.slice(at + 1);
    case 'insert':
      return original.slice(0, at) + m.char + original.slice(at);
    case 'delete':
      return original.slice(0, at) + original.slice(at + 1);
    case 'swap': {
      const other = m.with % original.length;
      const chars = [...original];
      [chars[at], chars[other]] = [chars[other] as string, chars[at] as string];
      return chars.join('');
    }
    case 'truncate':
      return original.slice(0, at);
  }
}

const char = fc.constantFrom(...ALPHABET);
/** Anywhere, with extra weight on the ends of the three parts, where encodings are most lenient. */
const positionsIn = (t: string) => {
  const dots = [t.indexOf('.'), t.lastIndexOf('.')];
  const edges = [0, ...dots.flatMap((d) => [d - 1, d, d + 1]), t.length - 2, t.length - 1];
  return fc.oneof(fc.nat({ max: t.length - 1 }), fc.constantFrom(...edges));
};
const mutationsOf = (position: fc.Arbitrary<number>): fc.Arbitrary<Mutation> =>
  fc.oneof(
    fc.record({ kind: fc.constant('replace' as const), at: position, char }),
    fc.record({ kind: fc.constant('insert' as const), at: position, char }),
    fc.record({ kind: fc.constant('delete' as const), at: position }),
    fc.record({ kind: fc.constant('swap' as const), at: position, with: position }),
    fc.record({ kind: fc.constant('truncate' as const), at: position }),
  );

describe('random mutations of a valid token', () => {
  const server = KeyServer.forSuite(publishedKeySet);

  it('are never allowed', async () => {
    const { handler } = buildAuthorizer({ [ENV_NAMES.jwksUri]: server.url });
    const original = token({ scopes: ['access_as_user', 'Items.Read'] });
    const accepted = await handler(event(`Bearer ${original}`));
    expect(accepted.policyDocument.Statement.map((s) => s.Effect)).toEqual(['Allow']);

    // Oracle: a fixed invariant: a token changed after signing fails its RS256 signature, so it is never allowed
    await fc.assert(
      fc.asyncProperty(
        fc.array(mutationsOf(positionsIn(original)), { minLength: 1, maxLength: 3 }),
        async (mutations) => {
          const mutated = mutations.reduce(mutate, original);
          fc.pre(mutated !== original);
          const answer = await handler(event(`Bearer ${mutated}`)).then(
            (result) => result.policyDocument.Statement.map((s) => s.Effect).join(','),
            () => 'rejected',
          );
          expect(answer).toBe('rejected');
        },
      ),
      { numRuns: 1500 },
    );
  });
});
