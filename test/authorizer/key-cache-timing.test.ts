import { KidNotFoundInJwksError } from 'aws-jwt-verify/error';
import type { PenaltyBox } from 'aws-jwt-verify/jwk';
import { describe, expect, it } from 'vitest';
import { KeysUnavailableError } from '../../lambda/authorizer/errors.js';
import {
  EntraJwksCache,
  KEY_CACHE_DEFAULTS,
  type KeyCacheEvent,
} from '../../lambda/authorizer/keys/key-cache.js';
import { publishedKeySet, testKeys } from '../helpers/setup.js';

/**
 * The key cache's documented timing (README, signing keys table), on a clock the test moves: a set older
 * than 24 h is refetched on the next request that needs it; while refreshes fail the held keys serve for up
 * to 72 h past max age; while retries cool down an unknown kid is a 401 (`unknown_key`), and a key we cannot
 * obtain because the endpoint failed is a 500.
 */
const URI = 'https://login.example.test/keys';
const HOUR = 3600_000;
const body = (jwks: unknown) => new TextEncoder().encode(JSON.stringify(jwks)).buffer as ArrayBuffer;
const jwt = (kid: string) => ({ header: { alg: 'RS256', kid }, payload: {} });
const MAIN = testKeys().main.publicJwk.kid as string;

function setUp(cooling: () => boolean = () => false) {
  let clock = 1_000_000;
  let up = true;
  let fetches = 0;
  const penaltyBox: PenaltyBox = {
    wait: async () => {
      if (cooling()) throw new Error('cooling down');
    },
    registerFailedAttempt: () => {},
    registerSuccessfulAttempt: () => {},
  };
  const cache = new EntraJwksCache({
    now: () => clock,
    penaltyBox,
    fetcher: {
      fetch: async () => {
        fetches++;
        if (!up) throw new Error('endpoint down');
        return body(publishedKeySet());
      },
    },
  });
  return {
    cache,
    advance: (ms: number) => {
      clock += ms;
    },
    setUp: (value: boolean) => {
      up = value;
    },
    fetches: () => fetches,
  };
}

describe('a key set older than 24 h', () => {
  it('still serves at exactly 24 h without a fetch, and is refetched one millisecond later', async () => {
    const t = setUp();
    await t.cache.getJwk(URI, jwt(MAIN));
    t.advance(24 * HOUR);
    expect(t.cache.findFreshJwk(URI, MAIN)?.kid).toBe(MAIN);
    await t.cache.getJwk(URI, jwt(MAIN));
    expect(t.fetches()).toBe(1);
    t.advance(1);
    expect(t.cache.findFreshJwk(URI, MAIN)).toBeUndefined();
    await t.cache.getJwk(URI, jwt(MAIN));
    expect(t.fetches()).toBe(2);
  });
});

describe('held keys while refreshes fail', () => {
  it.each([
    ['just past max age', 24 * HOUR + 1, true],
    ['72 h past max age', 96 * HOUR, true],
    ['one millisecond beyond', 96 * HOUR + 1, false],
  ])('%s: %s ms after the fetch, served: %s', async (_, age, served) => {
    for (const cooling of [false, true]) {
      let cool = false;
      const t = setUp(() => cool);
      await t.cache.getJwk(URI, jwt(MAIN));
      t.setUp(false);
      t.advance(age);
      cool = cooling;
      const answer = t.cache.getJwk(URI, jwt(MAIN));
      if (served) await expect(answer).resolves.toMatchObject({ kid: MAIN });
      else await expect(answer).rejects.toBeInstanceOf(KeysUnavailableError);
    }
  });
});

describe('an unknown kid while retries cool down', () => {
  it('is a 401 (kid not found) when the held set came from a good fetch', async () => {
    let cool = false;
    const t = setUp(() => cool);
    await t.cache.getJwk(URI, jwt(MAIN));
    cool = true;
    await expect(t.cache.getJwk(URI, jwt('made-up'))).rejects.toBeInstanceOf(KidNotFoundInJwksError);
  });

  it('is a 500 (keys unavailable) when the last fetch failed, held set or not', async () => {
    let cool = false;
    const t = setUp(() => cool);
    await t.cache.getJwk(URI, jwt(MAIN));
    t.advance(25 * HOUR);
    t.setUp(false);
    // The refresh fails; the held key still serves.
    await expect(t.cache.getJwk(URI, jwt(MAIN))).resolves.toMatchObject({ kid: MAIN });
    cool = true;
    await expect(t.cache.getJwk(URI, jwt('made-up'))).rejects.toBeInstanceOf(KeysUnavailableError);

    const cold = setUp(() => cool);
    cold.setUp(false);
    await expect(cold.cache.getJwk(URI, jwt(MAIN))).rejects.toBeInstanceOf(KeysUnavailableError);
  });

  it('is a 401 again once a fetch after the failure succeeded', async () => {
    let cool = false;
    const t = setUp(() => cool);
    t.setUp(false);
    await expect(t.cache.getJwk(URI, jwt(MAIN))).rejects.toBeInstanceOf(KeysUnavailableError);
    t.setUp(true);
    await t.cache.getJwk(URI, jwt(MAIN));
    cool = true;
    await expect(t.cache.getJwk(URI, jwt('made-up'))).rejects.toBeInstanceOf(KidNotFoundInJwksError);
  });
});

describe("the refetch cooldown (10 s by default), on the cache's clock", () => {
  /** A cache with the default cooldown, its clock and its endpoint (which publishes `kids`) in the test's hands. */
  function cooling() {
    let clock = 2_000_000;
    let up = true;
    const fetched: number[] = [];
    let jwks = publishedKeySet();
    const cache = new EntraJwksCache({
      now: () => clock,
      fetcher: {
        fetch: async (uri) => {
          fetched.push(uri === URI ? 1 : 2);
          if (!up) throw new Error('endpoint down');
          return body(jwks);
        },
      },
    });
    return {
      cache,
      fetches: () => fetched.length,
      uris: () => fetched,
      advance: (ms: number) => {
        clock += ms;
      },
      down: (value: boolean) => {
        up = !value;
      },
      publish: (extra: object) => {
        jwks = { keys: [...publishedKeySet().keys, extra] } as never;
      },
    };
  }
  const COOLDOWN = KEY_CACHE_DEFAULTS.cooldownSeconds * 1000;

  it('lets one refetch through per cooldown after a kid the set lacked, whatever kid asks next', async () => {
    const t = cooling();
    await t.cache.getJwk(URI, jwt(MAIN));
    await expect(t.cache.getJwk(URI, jwt('made-up-1'))).rejects.toBeInstanceOf(KidNotFoundInJwksError);
    expect(t.fetches()).toBe(2);
    for (const kid of ['made-up-1', 'made-up-2', 'made-up-3'])
      await expect(t.cache.getJwk(URI, jwt(kid))).rejects.toThrow(/cooling down/);
    t.advance(COOLDOWN - 1);
    await expect(t.cache.getJwk(URI, jwt('made-up-4'))).rejects.toThrow(/cooling down/);
    expect(t.fetches()).toBe(2);
    t.advance(1);
    await expect(t.cache.getJwk(URI, jwt('made-up-5'))).rejects.toBeInstanceOf(KidNotFoundInJwksError);
    expect(t.fetches()).toBe(3);
    // Held keys never wait on the cooldown.
    await expect(t.cache.getJwk(URI, jwt(MAIN))).resolves.toMatchObject({ kid: MAIN });
    expect(t.fetches()).toBe(3);
  });

  it('holds back a retry for a cooldown after a failed fetch, and ends once an attempt finds its kid', async () => {
    const t = cooling();
    t.down(true);
    await expect(t.cache.getJwk(URI, jwt(MAIN))).rejects.toBeInstanceOf(KeysUnavailableError);
    t.down(false);
    t.advance(COOLDOWN - 1);
    await expect(t.cache.getJwk(URI, jwt(MAIN))).rejects.toThrow(/cooling down/);
    expect(t.fetches()).toBe(1);
    t.advance(1);
    await expect(t.cache.getJwk(URI, jwt(MAIN))).resolves.toMatchObject({ kid: MAIN });
    // A rotated key found by the refetch: the next unknown kid may fetch at once.
    await expect(t.cache.getJwk(URI, jwt('made-up'))).rejects.toBeInstanceOf(KidNotFoundInJwksError);
    t.advance(COOLDOWN);
    t.publish({ ...testKeys().attacker.publicJwk, kid: 'rotated' });
    await expect(t.cache.getJwk(URI, jwt('rotated'))).resolves.toMatchObject({ kid: 'rotated' });
    await expect(t.cache.getJwk(URI, jwt('made-up-2'))).rejects.toBeInstanceOf(KidNotFoundInJwksError);
    expect(t.fetches()).toBe(5);
  });

  it('ends the wait when a concurrent attempt on the same fetch found its kid', async () => {
    const t = cooling();
    await t.cache.getJwk(URI, jwt(MAIN));
    t.publish({ ...testKeys().attacker.publicJwk, kid: 'rotated' });
    // One fetch serves both: the made-up kid starts the cooldown, the rotated kid's success ends it.
    const [madeUp, rotated] = await Promise.allSettled([
      t.cache.getJwk(URI, jwt('made-up')),
      t.cache.getJwk(URI, jwt('rotated')),
    ]);
    expect(madeUp.status).toBe('rejected');
    expect(rotated).toMatchObject({ status: 'fulfilled', value: { kid: 'rotated' } });
    expect(t.fetches()).toBe(2);
    await expect(t.cache.getJwk(URI, jwt('made-up-2'))).rejects.toBeInstanceOf(KidNotFoundInJwksError);
    expect(t.fetches()).toBe(3);
  });

  it('cools each key URL down on its own', async () => {
    const t = cooling();
    const OTHER = 'https://login.example.test/other/keys';
    await t.cache.getJwk(URI, jwt(MAIN));
    await t.cache.getJwk(OTHER, jwt(MAIN));
    await expect(t.cache.getJwk(URI, jwt('made-up'))).rejects.toBeInstanceOf(KidNotFoundInJwksError);
    await expect(t.cache.getJwk(OTHER, jwt('made-up'))).rejects.toBeInstanceOf(KidNotFoundInJwksError);
    await expect(t.cache.getJwk(URI, jwt('made-up'))).rejects.toThrow(/cooling down/);
    expect(t.uris()).toEqual([1, 2, 1, 2]);
  });
});

describe('the events a fetch and a fallback report', () => {
  /** A cache whose fetch takes `fetchMs` on the test's clock, and whose endpoint the test takes down. */
  function timed(fetchMs: number) {
    let clock = 5_000_000;
    let up = true;
    let afterFailedFetch = 0;
    const events: KeyCacheEvent[] = [];
    const cache = new EntraJwksCache({
      now: () => clock,
      onEvent: (e) => events.push(e),
      fetcher: {
        fetch: async () => {
          clock += fetchMs;
          if (up) return body(publishedKeySet());
          clock += afterFailedFetch;
          throw new Error('endpoint down');
        },
      },
    });
    return {
      cache,
      events,
      advance: (ms: number) => {
        clock += ms;
      },
      down: (clockStep = 0) => {
        up = false;
        afterFailedFetch = clockStep;
      },
    };
  }

  it('give the time a fetch took, successful or failed', async () => {
    const t = timed(1234);
    await t.cache.getJwks(URI);
    t.down();
    await expect(t.cache.getJwks(URI)).rejects.toThrow('endpoint down');
    expect(t.events).toEqual([
      { type: 'fetched', uri: URI, status: 200, durationMs: 1234, keyCount: 3, dropped: 0 },
      { type: 'fetch_failed', uri: URI, status: undefined, durationMs: 1234, error: 'endpoint down' },
    ]);
  });

  it('report the HTTP status a failed fetch carries, and none that is not a number', async () => {
    for (const [status, reported] of [
      [503, 503],
      ['503', undefined],
    ] as const) {
      const events: KeyCacheEvent[] = [];
      const cache = new EntraJwksCache({
        onEvent: (e) => events.push(e),
        fetcher: {
          fetch: async () => {
            throw Object.assign(new Error('endpoint down'), { status });
          },
        },
      });
      await expect(cache.getJwks(URI)).rejects.toThrow('endpoint down');
      expect(events).toEqual([expect.objectContaining({ type: 'fetch_failed', status: reported })]);
    }
  });

  it('warn of stale keys with the age of the set served, in seconds', async () => {
    const t = timed(400);
    await t.cache.getJwk(URI, jwt(MAIN));
    // The set is dated when its fetch ended; 30 h later a refresh starts and fails 400 ms on: 108000.4 s.
    t.advance(30 * HOUR);
    t.down();
    await expect(t.cache.getJwk(URI, jwt(MAIN))).resolves.toMatchObject({ kid: MAIN });
    expect(t.events.at(-1)).toEqual({ type: 'serving_stale', uri: URI, ageSeconds: 30 * 3600 });
  });

  // Date.now may step back (a clock synchronised while a refresh hangs): the warning is about the age of the
  // set at the moment it is served, and a set not older than max age is not stale.
  it.each([
    ['exactly max age', 0],
    ['a second under max age', -1000],
  ])('say nothing of a set served at %s after the clock stepped back', async (_, offsetMs) => {
    const t = timed(0);
    await t.cache.getJwk(URI, jwt(MAIN));
    t.advance(24 * HOUR + 5000);
    t.down(-5000 + offsetMs);
    await expect(t.cache.getJwk(URI, jwt(MAIN))).resolves.toMatchObject({ kid: MAIN });
    expect(t.events.map((e) => e.type)).toEqual(['fetched', 'fetch_failed']);
  });
});
