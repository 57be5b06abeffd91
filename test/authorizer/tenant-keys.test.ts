import { randomUUID } from 'node:crypto';
import type { PenaltyBox } from 'aws-jwt-verify/jwk';
import { beforeEach, describe, expect, it } from 'vitest';
import { createSigningKey, type SigningKey } from '../../infra/local/mint.js';
import { ENV_NAMES, loadConfig } from '../../lambda/authorizer/config.js';
import { decodeJwt } from '../../lambda/authorizer/jwt.js';
import type { KeyCacheEvent, KeyCacheOptions } from '../../lambda/authorizer/keys/key-cache.js';
import { EntraJwksCache } from '../../lambda/authorizer/keys/key-cache.js';
import {
  createTenantKeyCache,
  TENANT_KEY_DEFAULTS,
  tenantKeysUriOf,
} from '../../lambda/authorizer/keys/tenant-keys.js';
import { CONSUMERS_TENANT_ID } from '../../lambda/authorizer/tenants.js';
import { createKeyLookup, createTokenVerifier } from '../../lambda/authorizer/verifier.js';
import { KeyServer } from '../helpers/key-server.js';
import {
  buildAuthorizer,
  CLIENT_ID,
  event,
  OTHER_TENANT,
  TENANT,
  testKeys,
  token,
} from '../helpers/setup.js';

/*
 * Keys per tenant (docs/token-rules.md, "Keys per tenant"): a multi-tenant API looks a kid up in the shared
 * set (`organizations`/`common`) first and, when it is not there and the token's tenant is allowed, in that
 * tenant's own set at `/{tid}/discovery/v2.0/keys` on the same host. The tenants' sets share one fetch budget
 * (one fetch per cooldown, whatever tenant a token names) and at most 100 are held.
 */

const V2_TEMPLATE = 'https://login.microsoftonline.com/{tenantid}/v2.0';
const shared = testKeys().main;
/** Tenant T's own key: in T's set only. */
const tenantKey = createSigningKey({ kid: 'tenant-key', issuer: V2_TEMPLATE });
/** The other tenant's own key, as a v1-style key naming no issuer. */
const otherKey = createSigningKey({ kid: 'other-key' });
/** A key in the other tenant's set that names T's issuer: it signs for T only. */
const pinnedToT = createSigningKey({
  kid: 'pinned-key',
  issuer: `https://login.microsoftonline.com/${TENANT}/v2.0`,
});

const noPenalty: PenaltyBox = {
  wait: async () => {},
  registerFailedAttempt: () => {},
  registerSuccessfulAttempt: () => {},
};

const server = KeyServer.forSuite();
const path = (tenant: string) => new URL(server.urlOf(tenant)).pathname;
const tenantPaths = () => server.paths.filter((p) => p !== path('organizations'));

beforeEach(() => {
  server.mode = 'ok';
  server.jwks = { keys: [shared.publicJwk] };
  server.tenantSets.clear();
  server.tenantSets.set(TENANT, { keys: [shared.publicJwk, tenantKey.publicJwk] });
  server.tenantSets.set(OTHER_TENANT, {
    keys: [shared.publicJwk, otherKey.publicJwk, pinnedToT.publicJwk],
  });
  server.tenantModes.clear();
  server.paths.length = 0;
});

/** A multi-tenant API (`organizations`) on the key server, its clock in the test's hands. */
function setUp(allowedTenants = `${TENANT},${OTHER_TENANT}`, options: KeyCacheOptions = {}) {
  let clock = Date.now();
  const events: KeyCacheEvent[] = [];
  const authorizer = buildAuthorizer(
    {
      [ENV_NAMES.tenantId]: 'organizations',
      [ENV_NAMES.allowedTenants]: allowedTenants,
      [ENV_NAMES.jwksUri]: server.urlOf('organizations'),
    },
    { cooldownSeconds: 10, now: () => clock, onEvent: (e) => events.push(e), ...options },
  );
  /** The decision's reason code (`allowed`, `unknown_key`, ...). */
  const decide = async (t: string): Promise<string> => {
    await authorizer.handler(event(`Bearer ${t}`)).catch(() => undefined);
    return authorizer.records.at(-1)?.decision.reason ?? 'none';
  };
  const tick = (seconds: number) => {
    clock += seconds * 1000;
  };
  return { ...authorizer, events, decide, tick };
}

const tokenOf = (tenantId: string, key: SigningKey) => token({ tenantId }, key);
const madeUp = (kid: string) => ({ ...testKeys().attacker, kid });

describe('the key URL of a tenant', () => {
  it("is the shared URL with the token's tenant in place of organizations/common, same host, shape and query", () => {
    const cases: [string, string][] = [
      [
        'https://login.microsoftonline.com/organizations/discovery/v2.0/keys',
        `https://login.microsoftonline.com/${TENANT}/discovery/v2.0/keys`,
      ],
      [
        'https://login.microsoftonline.com/common/discovery/keys',
        `https://login.microsoftonline.com/${TENANT}/discovery/keys`,
      ],
      [
        'https://login.microsoftonline.us/common/discovery/v2.0/keys?appid=abc',
        `https://login.microsoftonline.us/${TENANT}/discovery/v2.0/keys?appid=abc`,
      ],
      [
        'http://127.0.0.1:3000/login/organizations/discovery/v2.0/keys',
        `http://127.0.0.1:3000/login/${TENANT}/discovery/v2.0/keys`,
      ],
    ];
    for (const [sharedUri, expected] of cases) expect(tenantKeysUriOf(sharedUri)?.(TENANT)).toBe(expected);
  });

  it('is none for a key URL that is not Entra-shaped or already names a tenant', () => {
    for (const uri of [
      'https://keys.example.com/jwks.json',
      `https://login.microsoftonline.com/${TENANT}/discovery/v2.0/keys`,
      'https://login.microsoftonline.com/organizations/v2.0/keys',
      'https://login.microsoftonline.com/organizations/discovery/v2.0/keys/extra',
    ]) {
      expect(tenantKeysUriOf(uri)).toBeUndefined();
    }
  });
});

describe('keys per tenant in a multi-tenant API', () => {
  it('takes a kid of the shared set from it, reading no tenant set', async () => {
    const { decide } = setUp();
    expect(await decide(tokenOf(TENANT, shared))).toBe('allowed');
    expect(await decide(tokenOf(OTHER_TENANT, shared))).toBe('allowed');
    expect(server.paths).toEqual([path('organizations')]);
  });

  it("takes a kid only in the tenant's own set from that set: fetched once, then held", async () => {
    // The shared set may refetch at will here: a held tenant key must still cost no fetch at all.
    const { decide } = setUp(undefined, { penaltyBox: noPenalty });
    expect(await decide(tokenOf(TENANT, shared))).toBe('allowed');
    expect(await decide(tokenOf(TENANT, tenantKey))).toBe('allowed');
    // The unknown kid refetches the shared set (as it always did), then reads the tenant's own.
    expect(server.paths).toEqual([path('organizations'), path('organizations'), path(TENANT)]);
    for (let i = 0; i < 50; i++) expect(await decide(tokenOf(TENANT, tenantKey))).toBe('allowed');
    expect(server.paths).toHaveLength(3);
  });

  it('shares one tenant set fetch among concurrent first tokens of that tenant', async () => {
    const { decide } = setUp();
    await decide(tokenOf(TENANT, shared));
    const answers = await Promise.all(Array.from({ length: 20 }, () => decide(tokenOf(TENANT, tenantKey))));
    expect(new Set(answers)).toEqual(new Set(['allowed']));
    expect(tenantPaths()).toEqual([path(TENANT)]);
  });

  it('never fetches for a tenant the tenant rule refuses: a 401 tenant_not_allowed', async () => {
    const { decide } = setUp(TENANT);
    expect(await decide(tokenOf(OTHER_TENANT, otherKey))).toBe('tenant_not_allowed');
    expect(await decide(tokenOf(OTHER_TENANT, madeUp('made-up')))).toBe('tenant_not_allowed');
    expect(server.paths).toEqual([]);
    // Personal accounts are outside organizations even when any tenant is allowed.
    const any = setUp('*');
    expect(await any.decide(tokenOf(CONSUMERS_TENANT_ID, madeUp('made-up')))).toBe('tenant_not_allowed');
    expect(server.paths).toEqual([]);
  });

  it("keeps a tenant's key to that tenant: another tenant's token with it is unknown_key or key_issuer_mismatch", async () => {
    const { decide, tick, records } = setUp();
    expect(await decide(tokenOf(TENANT, tenantKey))).toBe('allowed');
    tick(10);
    // T's key is held, but the other tenant's token is looked up in the other tenant's set, which lacks it.
    expect(await decide(tokenOf(OTHER_TENANT, tenantKey))).toBe('unknown_key');
    expect(records.at(-1)?.decision.detail).toBe(
      `kid "tenant-key" is in neither the shared key set nor tenant ${OTHER_TENANT}'s: JWK for kid "tenant-key" not found in the JWKS`,
    );
    expect(tenantPaths()).toEqual([path(TENANT), path(OTHER_TENANT)]);
    // A key of the other tenant's set that names T's issuer signs for T alone, and is not in T's set.
    expect(await decide(tokenOf(OTHER_TENANT, pinnedToT))).toBe('key_issuer_mismatch');
    expect(await decide(tokenOf(TENANT, pinnedToT))).toBe('unknown_key');
    expect(await decide(tokenOf(OTHER_TENANT, otherKey))).toBe('allowed');
  });

  it('lets one tenant set fetch start per cooldown, whichever tenant asks', async () => {
    const { decide, tick } = setUp();
    await decide(tokenOf(TENANT, shared));
    expect(await decide(tokenOf(TENANT, tenantKey))).toBe('allowed');
    tick(5);
    expect(await decide(tokenOf(OTHER_TENANT, otherKey))).toBe('unknown_key');
    expect(await decide(tokenOf(TENANT, madeUp('rotated-maybe')))).toBe('unknown_key');
    expect(tenantPaths()).toEqual([path(TENANT)]);
    tick(5);
    expect(await decide(tokenOf(OTHER_TENANT, otherKey))).toBe('allowed');
    expect(tenantPaths()).toEqual([path(TENANT), path(OTHER_TENANT)]);
  });

  it("serves each tenant's last good set while its refetch fails, within the stale bound", async () => {
    // The shared set refetches whenever asked, however little the test's clock moved.
    const { decide, tick, events } = setUp(undefined, { penaltyBox: noPenalty });
    expect(await decide(tokenOf(TENANT, tenantKey))).toBe('allowed');
    tick(25 * 3600);
    server.tenantModes.set(TENANT, 'status-503');
    expect(await decide(tokenOf(TENANT, tenantKey))).toBe('allowed');
    expect(events).toContainEqual(
      expect.objectContaining({ type: 'serving_stale', uri: server.urlOf(TENANT) }),
    );
    // With the shared set down too (its held set stale, its refetch failing), the tenant's set still serves.
    server.mode = 'status-503';
    tick(10);
    expect(await decide(tokenOf(TENANT, tenantKey))).toBe('allowed');
    // Past max age plus stale-if-error the set is gone; the shared set answered without the kid: a 401.
    server.mode = 'ok';
    tick(72 * 3600);
    expect(await decide(tokenOf(TENANT, tenantKey))).toBe('unknown_key');
    // A token whose key the shared set cannot even be asked for stays our 500, tenant set or not.
    const cold = setUp();
    server.mode = 'status-503';
    expect(await cold.decide(tokenOf(TENANT, tenantKey))).toBe('keys_unavailable');
  });
});

describe('a flood of forged tenants and kids', () => {
  const forged = (i: number) =>
    i % 2 === 0 ? tokenOf(randomUUID(), madeUp(`made-up-${i}`)) : tokenOf(TENANT, madeUp(`made-up-${i}`));

  it('costs at most one tenant set fetch per cooldown, and every such token is a 401', async () => {
    const { decide, tick } = setUp('*', { cooldownSeconds: 600 });
    expect(await decide(tokenOf(TENANT, shared))).toBe('allowed');
    const windows = 6;
    const answers: string[] = [];
    for (let w = 0; w < windows; w++) {
      answers.push(...(await Promise.all(Array.from({ length: 100 }, (_, i) => decide(forged(i))))));
      for (let i = 100; i < 150; i++) answers.push(await decide(forged(i)));
      tick(600);
    }
    expect(new Set(answers)).toEqual(new Set(['unknown_key']));
    expect(tenantPaths()).toHaveLength(windows);
    // The shared set's refetch keeps its own limit, on the same clock: its first fetch, then one per cooldown.
    expect(server.paths.filter((p) => p === path('organizations'))).toHaveLength(1 + windows);
    expect(await decide(tokenOf(TENANT, shared))).toBe('allowed');
  });

  it(`holds at most ${TENANT_KEY_DEFAULTS.maxSets} tenant sets, the latest fetched`, async () => {
    // Every tenant GUID has a set here, as every real tenant has: the worst case for memory.
    server.tenantSets.clear();
    const { decide, tick, tenantKeys } = setUp('*');
    const tenants = Array.from({ length: TENANT_KEY_DEFAULTS.maxSets + 50 }, () => randomUUID());
    for (const tid of tenants) {
      expect(await decide(tokenOf(tid, madeUp('made-up')))).toBe('unknown_key');
      tick(10);
    }
    expect(tenantPaths()).toHaveLength(tenants.length);
    const held = tenants.filter(
      (tid) => tenantKeys.findFreshJwk(server.urlOf(tid), shared.kid) !== undefined,
    );
    expect(held).toEqual(tenants.slice(-TENANT_KEY_DEFAULTS.maxSets));
  });
});

describe('a single-tenant API', () => {
  it('reads its own key set only', async () => {
    const authorizer = buildAuthorizer(
      { [ENV_NAMES.tenantId]: TENANT, [ENV_NAMES.jwksUri]: server.urlOf('organizations') },
      { cooldownSeconds: 10 },
    );
    await authorizer.handler(event(`Bearer ${tokenOf(TENANT, tenantKey)}`)).catch(() => undefined);
    expect(authorizer.records.at(-1)?.decision.reason).toBe('unknown_key');
    expect(server.paths).toEqual([path('organizations')]);
  });
});

const multiTenant = () =>
  loadConfig({
    [ENV_NAMES.tenantId]: 'organizations',
    [ENV_NAMES.allowedTenants]: TENANT,
    [ENV_NAMES.audiences]: CLIENT_ID,
    [ENV_NAMES.jwksUri]: server.urlOf('organizations'),
  });

describe('which set answers', () => {
  it('the shared set wins when both hold a kid', async () => {
    // T's set names the shared kid with other key material: the shared set is read first.
    const impostor = { ...testKeys().attacker.publicJwk };
    server.tenantSets.set(TENANT, { keys: [impostor, tenantKey.publicJwk] });
    const { decide, keys, tenantKeys } = setUp();
    expect(await decide(tokenOf(TENANT, tenantKey))).toBe('allowed');
    expect(await decide(tokenOf(TENANT, shared))).toBe('allowed');
    expect(await decide(tokenOf(TENANT, testKeys().attacker))).toBe('bad_signature');
    // explain's lookup, without the verifier's own warm path before it, answers the same.
    const lookUp = createKeyLookup({ config: multiTenant(), keys, tenantKeys });
    const found = await lookUp(decodeJwt(tokenOf(TENANT, shared)), shared.kid, TENANT);
    expect([found.uri, found.key.n]).toEqual([server.urlOf('organizations'), shared.publicJwk.n]);
  });

  it('without a tenant key cache, a multi-tenant verifier reads the configured set only', async () => {
    const verifier = createTokenVerifier({ config: multiTenant(), keys: new EntraJwksCache() });
    await expect(verifier.verify(tokenOf(TENANT, tenantKey))).rejects.toMatchObject({
      reason: 'unknown_key',
    });
    expect(server.paths).toEqual([path('organizations')]);
  });
});

describe("the tenant sets' fetch budget (createTenantKeyCache)", () => {
  const uriOf = (tenant: string) => `https://login.example.test/${tenant}/discovery/v2.0/keys`;
  const jwt = (kid: string) => ({ header: { kid } });
  function cache(options: KeyCacheOptions = {}) {
    let clock = 1_000_000;
    const fetched: string[] = [];
    const tenantKeys = createTenantKeyCache({
      ...options,
      now: () => clock,
      fetcher: {
        fetch: async (uri: string) => {
          fetched.push(uri);
          await new Promise((resolve) => setTimeout(resolve, 5));
          return new TextEncoder().encode(JSON.stringify({ keys: [tenantKey.publicJwk] }))
            .buffer as ArrayBuffer;
        },
      },
    });
    return { tenantKeys, fetched, tick: (ms: number) => (clock += ms) };
  }

  it('is one fetch start per 10 s by default, whichever tenant; a fetch under way is shared by its tenant', async () => {
    const { tenantKeys, fetched, tick } = cache();
    const first = await Promise.all(
      Array.from({ length: 5 }, () => tenantKeys.getJwk(uriOf('a'), jwt('tenant-key'))),
    );
    expect(first.map((k) => k.kid)).toEqual(Array(5).fill('tenant-key'));
    expect(fetched).toEqual([uriOf('a')]);
    tick(9_999);
    await expect(tenantKeys.getJwk(uriOf('b'), jwt('tenant-key'))).rejects.toThrow();
    await expect(tenantKeys.getJwk(uriOf('a'), jwt('made-up'))).rejects.toThrow();
    expect(fetched).toEqual([uriOf('a')]);
    tick(1);
    expect((await tenantKeys.getJwk(uriOf('b'), jwt('tenant-key'))).kid).toBe('tenant-key');
    expect(fetched).toEqual([uriOf('a'), uriOf('b')]);
  });

  it('counts a fetch that found the kid: a second tenant waits all the same', async () => {
    const { tenantKeys, fetched, tick } = cache();
    await tenantKeys.getJwk(uriOf('a'), jwt('tenant-key'));
    tick(5_000);
    await expect(tenantKeys.getJwk(uriOf('b'), jwt('tenant-key'))).rejects.toThrow();
    expect(fetched).toEqual([uriOf('a')]);
  });

  it("counts a fetch that missed the kid: the same tenant's next made-up kid waits too", async () => {
    const { tenantKeys, fetched, tick } = cache();
    await expect(tenantKeys.getJwk(uriOf('a'), jwt('made-up-1'))).rejects.toThrow();
    tick(1);
    await expect(tenantKeys.getJwk(uriOf('a'), jwt('made-up-2'))).rejects.toThrow();
    expect(fetched).toEqual([uriOf('a')]);
  });

  it('drops the set fetched longest ago past maxSets, a refetched set counting as new', async () => {
    const { tenantKeys, tick } = cache({ maxSets: 2 });
    const held = () => ['a', 'b', 'c'].filter((t) => tenantKeys.findFreshJwk(uriOf(t), 'tenant-key'));
    for (const tenant of ['a', 'b']) {
      await tenantKeys.getJwk(uriOf(tenant), jwt('tenant-key'));
      tick(10_000);
    }
    // a's set, past its cooldown, is fetched again for a kid it lacks: it is now the newest.
    await expect(tenantKeys.getJwk(uriOf('a'), jwt('made-up'))).rejects.toThrow();
    tick(10_000);
    await tenantKeys.getJwk(uriOf('c'), jwt('tenant-key'));
    expect(held()).toEqual(['a', 'c']);
  });
});
