import { JwtWithoutValidKidError, KidNotFoundInJwksError } from 'aws-jwt-verify/error';
import type { PenaltyBox } from 'aws-jwt-verify/jwk';
import fc from 'fast-check';
import { beforeEach, describe, expect, it } from 'vitest';
import type { SigningKey } from '../../infra/local/mint.js';
import { ENV_NAMES } from '../../lambda/authorizer/config.js';
import { UNAUTHORIZED } from '../../lambda/authorizer/decision.js';
import { EntraJwksCache } from '../../lambda/authorizer/keys/key-cache.js';
import { KeyServer } from '../helpers/key-server.js';
import { buildAuthorizer, claims, event, publishedKeySet, signed, testKeys } from '../helpers/setup.js';

/*
 * How a token's header finds its key in the held set (docs/token-rules.md: "`kid` (or, for legacy v1 tokens,
 * `x5t`) names a key in the tenant's key set"). The oracle, written from that rule and not from key-cache.ts:
 * the header's id is its kid, or its x5t when it has no kid; the id names the key with that kid, failing that
 * the first key whose thumbprint (x5t) it is.
 *
 * What real Entra does (../shared/fixtures/entra): every key of all six fixture key sets carries x5t equal to
 * its kid (both the certificate's SHA-1 thumbprint), and Microsoft documents x5t as "the same (in use and
 * value) as kid". The v1 fixture tokens from passport-azure-ad carry both kid and x5t, equal; the 2014 v1
 * Azure AD Graph token carries x5t and no kid. So for a real Entra set the kid alone would find an x5t-only
 * token's key; the thumbprint index decides only for a set whose x5t differs from kid, which the tests below
 * publish on purpose (AD FS-style access tokens also name their key by x5t only).
 */

const ABSENT = Symbol('absent');
const URI = 'https://login.example.test/keys';
const MAIN = testKeys().main.publicJwk;
const noPenalty: PenaltyBox = {
  wait: async () => {},
  registerFailedAttempt: () => {},
  registerSuccessfulAttempt: () => {},
};

/** A key set of usable RSA keys named as given (one key's material for all: identity is the kid). */
function keySet(names: readonly { kid: string; x5t?: string }[]) {
  return {
    keys: names.map(({ kid, x5t }) => ({
      kty: 'RSA',
      use: 'sig',
      kid,
      n: MAIN.n,
      e: MAIN.e,
      ...(x5t !== undefined && { x5t }),
    })),
  };
}

function cacheServing(jwks: unknown) {
  let fetches = 0;
  const cache = new EntraJwksCache({
    penaltyBox: noPenalty,
    fetcher: {
      fetch: async () => {
        fetches++;
        return new TextEncoder().encode(JSON.stringify(jwks)).buffer as ArrayBuffer;
      },
    },
  });
  return { cache, fetches: () => fetches };
}

/** The oracle: the kid the header's id names, or undefined (no key), or 'no-id' (the header names none). */
function namedKid(
  header: Record<string, unknown>,
  keys: readonly { kid: string; x5t?: string }[],
): string | undefined | 'no-id' {
  const id = 'kid' in header ? header.kid : header.x5t;
  if (typeof id !== 'string' || id === '' || id.length > 128) return 'no-id';
  return (keys.find((k) => k.kid === id) ?? keys.find((k) => k.x5t === id))?.kid;
}

describe('the key a header names', () => {
  const ids = ['a', 'b', 'c', 'd'];
  const names = fc.uniqueArray(
    fc.record({
      kid: fc.constantFrom(...ids),
      x5t: fc.constantFrom<string | typeof ABSENT>(ABSENT, ...ids, 't1', 't2'),
    }),
    { selector: (k) => k.kid, minLength: 1, maxLength: 5 },
  );
  const headerValue = fc.constantFrom<unknown>(ABSENT, ...ids, 't1', 't2', 'zz', '', 7);
  const headers = fc.record({ kid: headerValue, x5t: headerValue });
  const withoutAbsent = (r: Record<string, unknown>) =>
    Object.fromEntries(Object.entries(r).filter(([, v]) => v !== ABSENT));

  it('is the key with that kid, else the first key with that x5t; a header without a usable id names none', async () => {
    // Oracle: namedKid() above, the lookup rule written from the spec (kid, else first x5t), not the key cache
    await fc.assert(
      fc.asyncProperty(names, headers, async (rawNames, rawHeader) => {
        const keys = rawNames.map((k) => withoutAbsent(k) as { kid: string; x5t?: string });
        const header: Record<string, unknown> = { alg: 'RS256', ...withoutAbsent(rawHeader) };
        const expected = namedKid(header, keys);
        const jwt = { header, payload: {} };

        // Fetched on demand (getJwk), then served from what is held (findFreshJwk, getCachedJwk).
        const fetched = cacheServing(keySet(keys));
        const answer = fetched.cache.getJwk(URI, jwt as never);
        if (expected === 'no-id') {
          await expect(answer).rejects.toThrow(new JwtWithoutValidKidError('JWT header has no kid'));
          expect(fetched.fetches()).toBe(0);
          return;
        }
        if (expected === undefined) await expect(answer).rejects.toBeInstanceOf(KidNotFoundInJwksError);
        else await expect(answer).resolves.toMatchObject({ kid: expected });
        const id = ('kid' in header ? header.kid : header.x5t) as string;
        expect(fetched.cache.findFreshJwk(URI, id)?.kid).toBe(expected);

        // Added by aws-jwt-verify's JwksCache.addJwks: served without a fetch.
        const added = cacheServing({ keys: [] });
        added.cache.addJwks(URI, keySet(keys) as never);
        if (expected === undefined) {
          expect(() => added.cache.getCachedJwk(URI, jwt as never)).toThrow(KidNotFoundInJwksError);
        } else expect(added.cache.getCachedJwk(URI, jwt as never).kid).toBe(expected);
        expect(added.cache.findFreshJwk(URI, id)?.kid).toBe(expected);
        expect(added.fetches()).toBe(0);
      }),
      { numRuns: 400 },
    );
  });

  it('for a header without a usable kid or x5t is none: JwtWithoutValidKidError, also from a held set', async () => {
    const { cache, fetches } = cacheServing(publishedKeySet());
    await cache.getJwks(URI);
    for (const header of [
      {},
      { kid: '' },
      { kid: 7, x5t: 'main-key' },
      { x5t: '' },
      { x5t: 'k'.repeat(129) },
    ]) {
      const jwt = { header: { alg: 'RS256', ...header }, payload: {} } as never;
      await expect(cache.getJwk(URI, jwt)).rejects.toThrow(
        new JwtWithoutValidKidError('JWT header has no kid'),
      );
      expect(() => cache.getCachedJwk(URI, jwt)).toThrow(
        new JwtWithoutValidKidError('JWT header has no kid'),
      );
    }
    expect(fetches()).toBe(1);
  });

  it('is served from a set given to addJwks, without a fetch, and only its usable keys', () => {
    const { cache, fetches } = cacheServing(publishedKeySet());
    const jwks = { keys: [{ ...MAIN, kid: 'weak', e: 'Aw' }, MAIN] };
    cache.addJwks(URI, jwks as never);
    const jwt = (kid: string) => ({ header: { alg: 'RS256', kid }, payload: {} }) as never;
    expect(cache.getCachedJwk(URI, jwt('main-key'))).toMatchObject({ kid: 'main-key', n: MAIN.n });
    expect(() => cache.getCachedJwk(URI, jwt('weak'))).toThrow(KidNotFoundInJwksError);
    expect(fetches()).toBe(0);
  });
});

describe('a token that names its key by x5t only, verified end to end', () => {
  const server = KeyServer.forSuite();
  const { main, second } = testKeys();
  beforeEach(() => {
    server.mode = 'ok';
  });

  /** Publishes the keys (each with the given x5t) and returns the decision for a token signed by `by`. */
  async function decide(
    published: readonly [SigningKey, string][],
    header: Record<string, unknown>,
    by: SigningKey,
  ) {
    server.jwks = { keys: published.map(([key, x5t]) => ({ ...key.publicJwk, x5t })) };
    const { handler, records } = buildAuthorizer({ [ENV_NAMES.jwksUri]: server.url });
    const token = signed({ typ: 'JWT', alg: 'RS256', ...header }, claims(), by);
    const answer = await handler(event(`Bearer ${token}`)).then(
      (r) => r.policyDocument.Statement[0]?.Effect,
      (err: Error) => (err.message === UNAUTHORIZED ? '401' : '500'),
    );
    return `${answer} ${records.at(-1)?.decision.reason}`;
  }

  it('is allowed when the x5t is the thumbprint of the key that signed it, though no kid names it', async () => {
    const set: [SigningKey, string][] = [
      [second, 'second-thumb'],
      [main, 'main-thumb'],
    ];
    expect(await decide(set, { x5t: 'main-thumb' }, main)).toBe('Allow allowed');
    expect(await decide(set, { x5t: 'second-thumb' }, second)).toBe('Allow allowed');
    expect(await decide(set, { kid: 'main-key' }, main)).toBe('Allow allowed');
    expect(await decide(set, { x5t: 'main-thumb' }, second)).toBe('401 bad_signature');
    expect(await decide(set, { x5t: 'other-thumb' }, main)).toBe('401 unknown_key');
  });

  it('finds the first key with that x5t when two share it', async () => {
    const set: [SigningKey, string][] = [
      [main, 'shared-thumb'],
      [second, 'shared-thumb'],
    ];
    expect(await decide(set, { x5t: 'shared-thumb' }, main)).toBe('Allow allowed');
    expect(await decide(set, { x5t: 'shared-thumb' }, second)).toBe('401 bad_signature');
  });

  it('finds the key whose kid it is, not another key whose x5t it is, in either order', async () => {
    for (const set of [
      [
        [main, 'second-key'],
        [second, 'second-thumb'],
      ],
      [
        [second, 'second-thumb'],
        [main, 'second-key'],
      ],
    ] as [SigningKey, string][][]) {
      expect(await decide(set, { x5t: 'second-key' }, second)).toBe('Allow allowed');
      expect(await decide(set, { x5t: 'second-key' }, main)).toBe('401 bad_signature');
    }
  });
});
