import { generateKeyPairSync } from 'node:crypto';
import { beforeEach, describe, expect, it } from 'vitest';
import { createSigningKey } from '../../infra/local/mint.js';
import { ENV_NAMES } from '../../lambda/authorizer/config.js';
import { UNAUTHORIZED } from '../../lambda/authorizer/decision.js';
import { KeyFetchError } from '../../lambda/authorizer/errors.js';
import { KeyFetcher } from '../../lambda/authorizer/keys/fetcher.js';
import type { KeyCacheEvent, KeyCacheOptions } from '../../lambda/authorizer/keys/key-cache.js';
import { KeySetError, parseKeySet } from '../../lambda/authorizer/keys/key-set.js';
import { KeyServer, type KeyServerMode } from '../helpers/key-server.js';
import { buildAuthorizer, event, publishedKeySet, testKeys, token } from '../helpers/setup.js';

const server = KeyServer.forSuite();
beforeEach(() => {
  server.mode = 'ok';
  server.jwks = publishedKeySet();
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function setUp(options: KeyCacheOptions = {}) {
  const events: KeyCacheEvent[] = [];
  const authorizer = buildAuthorizer(
    { [ENV_NAMES.jwksUri]: server.url },
    { cooldownSeconds: 0.3, onEvent: (e) => events.push(e), ...options },
  );
  const decide = (t: string) =>
    authorizer.handler(event(`Bearer ${t}`)).then(
      (r) => `${r.policyDocument.Statement[0]?.Effect}`,
      (err: Error) => (err.message === UNAUTHORIZED ? '401' : '500'),
    );
  return { ...authorizer, events, decide };
}

const madeUpKid = (i: number) => token({}, { ...testKeys().attacker, kid: `made-up-${i}` });

describe('signing keys in the warm path', () => {
  it('are fetched once for 50 concurrent first calls, and not again for 300 warm calls', async () => {
    const { decide, events } = setUp();
    const before = server.requests;
    const first = await Promise.all(Array.from({ length: 50 }, () => decide(token())));
    expect(first).toEqual(Array(50).fill('Allow'));
    expect(server.requests - before).toBe(1);
    for (let i = 0; i < 300; i++) expect(await decide(token())).toBe('Allow');
    expect(server.requests - before).toBe(1);
    expect(events).toEqual([
      expect.objectContaining({ type: 'fetched', uri: server.url, status: 200, keyCount: 3, dropped: 0 }),
    ]);
  });
});

describe('key rotation', () => {
  it('accepts a newly published key at once, with one refetch in the same request', async () => {
    const { decide } = setUp();
    expect(await decide(token())).toBe('Allow');
    const rotated = createSigningKey({ kid: 'rotated-key' });
    server.jwks = { keys: [...publishedKeySet().keys, rotated.publicJwk] };
    const before = server.requests;
    expect(await decide(token({}, rotated))).toBe('Allow');
    expect(server.requests - before).toBe(1);
  });

  // Speed is the bench's business: here, that no made-up kid waits on a fetch of its own.
  it('answers a flood of made-up kids with 401s and at most one refetch per cooldown', async () => {
    const { decide } = setUp({ cooldownSeconds: 10 });
    expect(await decide(token())).toBe('Allow');
    const before = server.requests;
    const answers = await Promise.all(Array.from({ length: 200 }, (_, i) => decide(madeUpKid(i))));
    for (let i = 200; i < 400; i++) answers.push(await decide(madeUpKid(i)));
    expect(new Set(answers)).toEqual(new Set(['401']));
    expect(server.requests - before).toBe(1);
    expect(await decide(token())).toBe('Allow');
  });

  it('allows the next refetch once the cooldown has passed', async () => {
    const { decide } = setUp({ cooldownSeconds: 0.2 });
    await decide(token());
    const before = server.requests;
    expect(await decide(madeUpKid(1))).toBe('401');
    expect(await decide(madeUpKid(2))).toBe('401');
    expect(server.requests - before).toBe(1);
    await sleep(300);
    expect(await decide(madeUpKid(3))).toBe('401');
    expect(server.requests - before).toBe(2);
  });
});

describe('key age', () => {
  it('refreshes the set after max age, and serves stale keys while the refresh fails, within a bound', async () => {
    let now = 1_000_000;
    const { decide, events } = setUp({ now: () => now, maxAgeSeconds: 3600, staleIfErrorSeconds: 7200 });
    expect(await decide(token())).toBe('Allow');
    now += 3601 * 1000;
    const before = server.requests;
    expect(await decide(token())).toBe('Allow');
    expect(server.requests - before).toBe(1);

    now += 3601 * 1000;
    server.mode = 'status-503';
    expect(await decide(token())).toBe('Allow');
    expect(events.at(-1)).toMatchObject({ type: 'serving_stale', ageSeconds: 3601 });
    expect(events.at(-2)).toMatchObject({ type: 'fetch_failed', status: 503 });

    now += 7200 * 1000;
    await sleep(350);
    expect(await decide(token())).toBe('500');
  });
});

describe('a misbehaving key endpoint', () => {
  const modes: KeyServerMode[] = [
    'status-503',
    'status-404',
    'redirect',
    'html',
    'truncated',
    'hang',
    'drip',
    'huge',
    'huge-declared',
  ];

  it.each(modes)(
    '(%s) keeps held keys working and answers an unobtainable key with a 500 within 3 s',
    async (mode) => {
      const { decide } = setUp();
      expect(await decide(token())).toBe('Allow');
      server.mode = mode;
      const rotated = createSigningKey({ kid: `rotated-${mode}` });
      const started = performance.now();
      expect(await decide(token({}, rotated))).toBe('500');
      expect(performance.now() - started).toBeLessThan(3000);
      expect(await decide(token())).toBe('Allow');
    },
  );

  it.each(modes)('(%s) answers a cold container with a 500 within 3 s, never an Allow', async (mode) => {
    server.mode = mode;
    const { decide } = setUp();
    const started = performance.now();
    expect(await decide(token())).toBe('500');
    expect(performance.now() - started).toBeLessThan(3000);
  });

  it('rate-limits failed fetches, so an outage plus a kid flood is no fetch storm', async () => {
    server.mode = 'status-503';
    const { decide } = setUp({ cooldownSeconds: 10 });
    const before = server.requests;
    const answers = await Promise.all(Array.from({ length: 100 }, (_, i) => decide(madeUpKid(i))));
    for (let i = 0; i < 100; i++) answers.push(await decide(i % 2 ? token() : madeUpKid(i)));
    expect(new Set(answers)).toEqual(new Set(['500']));
    // one fetch, and its one retry
    expect(server.requests - before).toBe(2);
  });

  it('is used again within seconds after it recovers', async () => {
    server.mode = 'status-503';
    const { decide } = setUp({ cooldownSeconds: 0.3 });
    expect(await decide(token())).toBe('500');
    server.mode = 'ok';
    await sleep(350);
    expect(await decide(token())).toBe('Allow');
  });

  it('never replaces good keys with an answer that has no usable key', async () => {
    const { decide, events } = setUp();
    expect(await decide(token())).toBe('Allow');
    server.jwks = { keys: [{ kty: 'EC', crv: 'P-256', x: 'a', y: 'b', kid: 'ec' }] };
    expect(await decide(madeUpKid(1))).toBe('500');
    expect(events.at(-1)).toMatchObject({
      type: 'fetch_failed',
      error: expect.stringMatching(/no usable RS256/),
    });
    expect(await decide(token())).toBe('Allow');
  });
});

describe('key set parsing', () => {
  it('drops unusable entries and keeps the rest', () => {
    const small = generateKeyPairSync('rsa', { modulusLength: 1024 }).publicKey.export({ format: 'jwk' });
    const good = testKeys().main.publicJwk;
    const { keys, dropped } = parseKeySet(
      JSON.stringify({
        keys: [
          { kty: 'EC', crv: 'P-256', x: 'AA', y: 'AA', kid: 'ec' },
          { ...good, kid: 'enc', use: 'enc' },
          { ...small, kid: 'small' },
          { kty: 'RSA', kid: 'no-n', e: 'AQAB' },
          { ...good, kid: 'rs512', alg: 'RS512' },
          'junk',
          good,
        ],
      }),
    );
    expect(keys.map((k) => k.kid)).toEqual(['main-key']);
    expect(keys[0]?.issuer).toBe(good.issuer);
    expect(dropped).toBe(6);
  });

  it.each([
    ['<html>', 'key set is not JSON'],
    ['{"keys": {}}', 'key set has no "keys" array'],
    ['[]', 'key set has no "keys" array'],
    ['null', 'key set has no "keys" array'],
    ['{"keys": [{"kty": "EC"}]}', 'key set has no usable RS256 signing key (of 1)'],
  ])('refuses %j as a key set', (body, message) => {
    expect(() => parseKeySet(body)).toThrow(KeySetError);
    expect(() => parseKeySet(body)).toThrow(new KeySetError(message));
  });
});

describe('the key fetcher', () => {
  it.each(['http://login.example.com/keys', 'ftp://127.0.0.1/keys', 'file:///etc/passwd'])(
    'refuses %s without a request (HTTPS only, plain HTTP for loopback)',
    async (uri) => {
      await expect(new KeyFetcher().fetch(uri)).rejects.toBeInstanceOf(KeyFetchError);
    },
  );

  it('retries a 5xx once within its budget', async () => {
    server.mode = 'status-503';
    const before = server.requests;
    await expect(new KeyFetcher().fetch(server.url)).rejects.toThrow(/status 503/);
    expect(server.requests - before).toBe(2);
  });

  it('does not retry a redirect and says it does not follow one', async () => {
    server.mode = 'redirect';
    const before = server.requests;
    await expect(new KeyFetcher().fetch(server.url)).rejects.toThrow(/redirects are not followed/);
    expect(server.requests - before).toBe(1);
  });
});

describe('a key URL with credentials or a query', () => {
  const secretUri = () => server.url.replace('http://', 'http://keyuser:s3cr3t@').concat('?code=t0ps3cret');
  const shown = () => `${server.url.replace('http://', 'http://***@')}?***`;

  it('is redacted in every fetch event, fetch error, rejection detail and hint', async () => {
    const events: KeyCacheEvent[] = [];
    const authorizer = buildAuthorizer(
      { [ENV_NAMES.jwksUri]: secretUri() },
      { cooldownSeconds: 0.3, onEvent: (e) => events.push(e) },
    );
    const decide = (t: string) => authorizer.handler(event(`Bearer ${t}`)).catch(() => undefined);
    await decide(token());
    await decide(madeUpKid(1));
    server.mode = 'status-503';
    await sleep(350);
    await decide(madeUpKid(2));
    expect(events.map((e) => [e.type, e.uri])).toEqual([
      ['fetched', shown()],
      ['fetched', shown()],
      ['fetch_failed', shown()],
    ]);
    expect(events.at(-1)).toMatchObject({ error: `${shown()}: status 503, expected 200` });
    expect(authorizer.records.map((r) => r.decision.reason)).toEqual([
      'allowed',
      'unknown_key',
      'keys_unavailable',
    ]);
    expect(authorizer.records[1]?.hint).toContain(`is not in the key set at ${shown()}:`);
    expect(authorizer.records[2]?.hint).toContain(`the key set at ${shown()} could not be fetched`);
    const logged = JSON.stringify([
      events,
      authorizer.records.map(({ decision, hint }) => [decision.detail, hint]),
    ]);
    expect(logged).not.toMatch(/keyuser|s3cr3t|t0ps3cret/);
  });
});
