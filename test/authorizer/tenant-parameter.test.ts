import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { TenantsUnavailableError } from '../../lambda/authorizer/errors.js';
import { ssmParameterReader } from '../../lambda/authorizer/tenant-parameter.js';
import {
  READ_TIMEOUT_MS,
  refreshingTenantSource,
  type TenantListEvent,
} from '../../lambda/authorizer/tenant-source.js';
import { OTHER_TENANT, TENANT } from '../helpers/setup.js';
import { SsmServer } from '../helpers/ssm-server.js';

const NAME = '/saas/allowed-tenants';
const THIRD = '3f1e2d3c-4b5a-4968-8776-5544332211aa';
const REFRESH_MS = 300_000;

describe('the SSM parameter reader (the real SDK client against a local GetParameter)', () => {
  const ssm = SsmServer.forSuite();
  beforeEach(() => {
    for (const [name, value] of Object.entries(ssm.env())) vi.stubEnv(name, value);
    ssm.mode = 'ok';
    ssm.throttleNext = 0;
    ssm.parameters.clear();
  });
  afterEach(() => vi.unstubAllEnvs());

  it('reads a String, its type and its version, through AWS_ENDPOINT_URL_SSM', async () => {
    ssm.put(NAME, JSON.stringify([TENANT]));
    ssm.put(NAME, JSON.stringify([TENANT, OTHER_TENANT]));
    const calls = ssm.calls.length;
    await expect(ssmParameterReader(NAME)()).resolves.toEqual({
      value: JSON.stringify([TENANT, OTHER_TENANT]),
      type: 'String',
      version: '2',
    });
    expect(ssm.calls.slice(calls)).toEqual([{ target: 'AmazonSSM.GetParameter', name: NAME }]);
  });

  it('reads a StringList', async () => {
    ssm.put(NAME, `${TENANT},${OTHER_TENANT}`, 'StringList');
    await expect(ssmParameterReader(NAME)()).resolves.toMatchObject({ type: 'StringList', version: '1' });
  });

  it('rejects with the service error: ParameterNotFound, AccessDeniedException', async () => {
    await expect(ssmParameterReader(NAME)()).rejects.toMatchObject({ name: 'ParameterNotFound' });
    ssm.put(NAME, JSON.stringify([TENANT]));
    ssm.mode = 'access-denied';
    await expect(ssmParameterReader(NAME)()).rejects.toMatchObject({ name: 'AccessDeniedException' });
  });

  it('rides out one throttled answer (the SDK retries it) and rejects when throttling persists', async () => {
    ssm.put(NAME, JSON.stringify([TENANT]));
    ssm.throttleNext = 1;
    const calls = ssm.calls.length;
    await expect(ssmParameterReader(NAME)()).resolves.toMatchObject({ version: '1' });
    expect(ssm.calls.length - calls).toBe(2);
    ssm.mode = 'throttled';
    await expect(ssmParameterReader(NAME)()).rejects.toMatchObject({ name: 'ThrottlingException' });
  });

  it('gives up on a slow answer after READ_TIMEOUT_MS', async () => {
    ssm.put(NAME, JSON.stringify([TENANT]));
    ssm.mode = 'slow';
    const started = Date.now();
    await expect(ssmParameterReader(NAME)()).rejects.toThrow();
    const waited = Date.now() - started;
    expect(waited).toBeGreaterThanOrEqual(READ_TIMEOUT_MS - 50);
    expect(waited).toBeLessThan(ssm.slowMs);
  });
});

describe('the refreshing tenant list (SSM through the real client, a test clock)', () => {
  const ssm = SsmServer.forSuite();
  let clock = 0;
  let events: TenantListEvent[] = [];
  const source = () =>
    refreshingTenantSource({
      parameter: NAME,
      read: ssmParameterReader(NAME),
      refreshMs: REFRESH_MS,
      now: () => clock,
      onEvent: (event) => events.push(event),
    });
  const tenantsOf = async (s: ReturnType<typeof source>) => [...((await s.tenants()).tenants as Set<string>)];

  beforeEach(() => {
    for (const [name, value] of Object.entries(ssm.env())) vi.stubEnv(name, value);
    ssm.mode = 'ok';
    ssm.throttleNext = 0;
    ssm.parameters.clear();
    clock = 1_000_000;
    events = [];
  });
  afterEach(() => vi.unstubAllEnvs());

  it('names the parameter and version it read; a tenant removed is refused once the list is tenantsRefresh old', async () => {
    ssm.put(NAME, JSON.stringify([TENANT, OTHER_TENANT]));
    const tenants = source();
    await expect(tenants.tenants()).resolves.toEqual({
      tenants: new Set([TENANT, OTHER_TENANT]),
      origin: `${NAME}@1`,
    });
    ssm.put(NAME, JSON.stringify([TENANT]));
    clock += REFRESH_MS / 2;
    expect(await tenantsOf(tenants)).toEqual([TENANT, OTHER_TENANT]);
    clock += REFRESH_MS / 2;
    await expect(tenants.tenants()).resolves.toEqual({ tenants: new Set([TENANT]), origin: `${NAME}@2` });
  });

  it('reads again in the background shortly before the list is due, so no decision waits while SSM answers', async () => {
    ssm.put(NAME, JSON.stringify([TENANT]));
    const tenants = source();
    await tenants.tenants();
    const calls = ssm.calls.length;
    ssm.put(NAME, JSON.stringify([OTHER_TENANT]));
    clock += REFRESH_MS - 1000;
    // This decision still uses the list it has; the read it started lands for the next one.
    expect(await tenantsOf(tenants)).toEqual([TENANT]);
    await vi.waitFor(() => expect(events.filter((e) => e.type === 'tenants_read')).toHaveLength(2));
    expect(await tenantsOf(tenants)).toEqual([OTHER_TENANT]);
    expect(ssm.calls.length - calls).toBe(1);
  });

  it('fails closed when the first read fails: ParameterNotFound, access denied, throttling', async () => {
    const tenants = source();
    await expect(tenants.tenants()).rejects.toThrow(TenantsUnavailableError);
    await expect(tenants.tenants()).rejects.toThrow(
      /no tenant list read from \/saas\/allowed-tenants yet: ParameterNotFound/,
    );
    ssm.put(NAME, JSON.stringify([TENANT]));
    ssm.mode = 'access-denied';
    clock += 60_000;
    await expect(tenants.tenants()).rejects.toThrow(/AccessDeniedException/);
    ssm.mode = 'throttled';
    clock += 60_000;
    await expect(tenants.tenants()).rejects.toThrow(/ThrottlingException/);
    ssm.mode = 'ok';
    clock += 60_000;
    expect(await tenantsOf(tenants)).toEqual([TENANT]);
    expect(events.map((e) => e.type)).toEqual([
      'tenants_read_failed',
      'tenants_read_failed',
      'tenants_read_failed',
      'tenants_read',
    ]);
  });

  it('with no list, retries a failed read at most every few seconds, not on every request', async () => {
    const tenants = source();
    await expect(tenants.tenants()).rejects.toThrow(TenantsUnavailableError);
    const calls = ssm.calls.length;
    for (let i = 0; i < 5; i++) await expect(tenants.tenants()).rejects.toThrow(TenantsUnavailableError);
    expect(ssm.calls.length).toBe(calls);
  });

  it('keeps the last good list while reads fail, until it is twice tenantsRefresh old; then fails closed', async () => {
    ssm.put(NAME, JSON.stringify([TENANT]));
    const tenants = source();
    await tenants.tenants();
    ssm.mode = 'access-denied';
    clock += REFRESH_MS;
    expect(await tenantsOf(tenants)).toEqual([TENANT]);
    expect(events.at(-1)).toMatchObject({ type: 'tenants_read_failed', serving: `${NAME}@1` });
    clock += REFRESH_MS - 1;
    expect(await tenantsOf(tenants)).toEqual([TENANT]);
    clock += 1;
    await expect(tenants.tenants()).rejects.toThrow(/past its use-by time/);
    ssm.mode = 'ok';
    clock += 10_000;
    expect(await tenantsOf(tenants)).toEqual([TENANT]);
  });

  it('treats a malformed value as a failed read, never as a list; drops entries that are not GUIDs', async () => {
    ssm.put(NAME, '[not json');
    const tenants = source();
    await expect(tenants.tenants()).rejects.toThrow(/not a JSON array/);
    ssm.put(NAME, '{"tenants": []}');
    clock += 10_000;
    await expect(tenants.tenants()).rejects.toThrow(/JSON but not an array/);
    ssm.put(NAME, 'ciphertext', 'SecureString');
    clock += 10_000;
    await expect(tenants.tenants()).rejects.toThrow(/SecureString/);
    ssm.put(NAME, JSON.stringify(['*', TENANT.toUpperCase(), 'contoso.onmicrosoft.com', 42, ` ${THIRD} `]));
    clock += 10_000;
    expect((await tenantsOf(tenants)).sort()).toEqual([TENANT, THIRD].sort());
    expect(events.at(-1)).toEqual({
      type: 'tenants_read',
      origin: `${NAME}@4`,
      count: 2,
      dropped: ['*', 'contoso.onmicrosoft.com', '42'],
    });
  });

  it('a slow answer at cold start ends in tenants_unavailable; on refresh the last good list serves meanwhile', async () => {
    ssm.put(NAME, JSON.stringify([TENANT]));
    ssm.mode = 'slow';
    const cold = source();
    await expect(cold.tenants()).rejects.toThrow(/no answer within/);

    ssm.mode = 'ok';
    const warm = source();
    await warm.tenants();
    ssm.mode = 'slow';
    clock += REFRESH_MS - 1000;
    const started = Date.now();
    expect(await tenantsOf(warm)).toEqual([TENANT]);
    expect(Date.now() - started).toBeLessThan(500);
  }, 15_000);
});
