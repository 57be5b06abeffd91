import type { APIGatewayTokenAuthorizerEvent } from 'aws-lambda';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ENV_NAMES } from '../../lambda/authorizer/config.js';
import { REASONS } from '../../lambda/authorizer/reasons.js';
import { coldStartHandler } from '../helpers/cold-start.js';
import { emfViolations } from '../helpers/emf.js';
import { KeyServer } from '../helpers/key-server.js';
import { CLIENT_ID, event, OTHER_TENANT, publishedKeySet, TENANT, token } from '../helpers/setup.js';
import { SsmServer } from '../helpers/ssm-server.js';

const NAME = '/saas/allowed-tenants';

const decisions = (chunks: string[]) =>
  chunks
    .join('')
    .split('\n')
    // Node's own warnings (the SDK's on Node.js 20, at its first load) are not the authorizer's lines.
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as Record<string, unknown>)
    .filter((l) => l.message === 'authorizer decision');

/** The handler's answer: the policy's effect, or the message API Gateway maps to a status. */
const answer = (handler: (e: APIGatewayTokenAuthorizerEvent) => Promise<unknown>, bearer: string) =>
  handler(event(`Bearer ${bearer}`)).then(
    (r) => (r as { policyDocument: { Statement: { Effect: string }[] } }).policyDocument.Statement[0]?.Effect,
    (err: Error) => err.message,
  );

describe('the Lambda handler with allowed tenants from an SSM parameter', () => {
  const keys = KeyServer.forSuite(publishedKeySet);
  const ssm = SsmServer.forSuite();
  beforeEach(() => {
    ssm.mode = 'ok';
    ssm.parameters.clear();
  });
  afterEach(() => {
    vi.useRealTimers();
    vi.unstubAllEnvs();
    vi.restoreAllMocks();
  });

  const env = () => ({
    ...ssm.env(),
    [ENV_NAMES.tenantId]: 'organizations',
    [ENV_NAMES.allowedTenantsParameter]: NAME,
    [ENV_NAMES.tenantsRefreshSeconds]: '60',
    [ENV_NAMES.audiences]: CLIENT_ID,
    [ENV_NAMES.jwksUri]: keys.url,
    POWERTOOLS_LOG_LEVEL: 'INFO',
    POWERTOOLS_METRICS_DISABLED: 'false',
    POWERTOOLS_METRICS_NAMESPACE: 'Checkout',
  });

  it('reads the list at cold start, decides by it, and refuses a tenant removed from it after the refresh', async () => {
    ssm.put(NAME, JSON.stringify([TENANT, OTHER_TENANT]));
    vi.useFakeTimers({ toFake: ['Date'], now: Date.now() });
    const { handler, out, restore } = await coldStartHandler(env());
    const other = token({ tenantId: OTHER_TENANT });
    expect(await answer(handler, token())).toBe('Allow');
    expect(await answer(handler, other)).toBe('Allow');
    ssm.put(NAME, JSON.stringify([TENANT]));
    vi.setSystemTime(Date.now() + 30_000);
    expect(await answer(handler, other)).toBe('Allow');
    vi.setSystemTime(Date.now() + 30_000);
    expect(await answer(handler, other)).toBe('Unauthorized');
    expect(await answer(handler, token())).toBe('Allow');
    restore();
    const refusal = decisions(out).find((d) => d.reason === 'tenant_not_allowed');
    expect(refusal?.hint).toMatch(
      new RegExp(`not on the list in the SSM parameter ${NAME}: if a tenant should call`),
    );
    expect(decisions(out).map((d) => [d.reason, d.tenantList])).toEqual([
      ['allowed', `${NAME}@1`],
      ['allowed', `${NAME}@1`],
      ['allowed', `${NAME}@1`],
      ['tenant_not_allowed', `${NAME}@2`],
      ['allowed', `${NAME}@2`],
    ]);
  });

  it('builds the authorizer once: a new version of the list reaches only the tenant rule', async () => {
    const built = vi.fn();
    vi.doMock('../../lambda/authorizer/api-authorizer.js', async (load) => {
      const actual = await load<typeof import('../../lambda/authorizer/api-authorizer.js')>();
      return {
        ...actual,
        createApiAuthorizer: (...args: Parameters<typeof actual.createApiAuthorizer>) => {
          built();
          return actual.createApiAuthorizer(...args);
        },
      };
    });
    try {
      ssm.put(NAME, JSON.stringify([TENANT, OTHER_TENANT]));
      vi.useFakeTimers({ toFake: ['Date'], now: Date.now() });
      const { handler, out, restore } = await coldStartHandler(env());
      const other = token({ tenantId: OTHER_TENANT });
      expect(await answer(handler, other)).toBe('Allow');
      ssm.put(NAME, JSON.stringify([TENANT]));
      vi.setSystemTime(Date.now() + 61_000);
      expect(await answer(handler, other)).toBe('Unauthorized');
      ssm.put(NAME, JSON.stringify([OTHER_TENANT]));
      vi.setSystemTime(Date.now() + 61_000);
      expect(await answer(handler, other)).toBe('Allow');
      restore();
      expect(decisions(out).map((d) => d.tenantList)).toEqual([`${NAME}@1`, `${NAME}@2`, `${NAME}@3`]);
      expect(built).toHaveBeenCalledTimes(1);
    } finally {
      vi.doUnmock('../../lambda/authorizer/api-authorizer.js');
    }
  });

  it('with no list at cold start, answers every token 500 tenants_unavailable, one line and metric each', async () => {
    const { handler, err, lines: written, restore } = await coldStartHandler(env());
    expect(await answer(handler, token())).toBe('Authorizer failure (tenants_unavailable)');
    // What is no token at all needs no list to be refused.
    expect(await answer(handler, 'not-a-jwt')).toBe('Unauthorized');
    restore();
    const lines = decisions(written);
    expect(lines.map((d) => [d.outcome, d.reason, d.tenantList])).toEqual([
      ['error', 'tenants_unavailable', 'none'],
      ['unauthorized', 'malformed', 'none'],
    ]);
    expect(lines[0]).toMatchObject({
      level: 'ERROR',
      detail: expect.stringMatching(/ParameterNotFound/),
      hint: REASONS.tenants_unavailable.hint,
    });
    for (const line of lines) expect(emfViolations(JSON.stringify(line))).toEqual([]);
    expect(JSON.stringify(err)).toMatch(/tenant list read failed/);
  });

  it('logs each read of the list: its origin and size, the entries it dropped (ten shown, all counted), a failure as an error', async () => {
    const logged = (chunks: string[]) =>
      chunks
        .join('')
        .split('\n')
        .filter((l) => l.startsWith('{'))
        .map((l) => JSON.parse(l) as Record<string, unknown>)
        .filter((l) => String(l.message).startsWith('tenant list read'));
    ssm.put(NAME, JSON.stringify([TENANT]));
    const clean = await coldStartHandler(env());
    clean.restore();
    expect(logged(clean.lines)).toEqual([
      expect.objectContaining({ level: 'INFO', message: 'tenant list read', count: 1, dropped: [] }),
    ]);
    expect(String(logged(clean.lines)[0]?.origin)).toContain(NAME);
    const junk = Array.from({ length: 12 }, (_, i) => `not-a-tenant-${i}`);
    ssm.put(NAME, JSON.stringify([TENANT, ...junk]));
    const dirty = await coldStartHandler(env());
    dirty.restore();
    expect(logged(dirty.lines)).toEqual([
      expect.objectContaining({
        level: 'WARN',
        message: 'tenant list read; entries that are not tenant GUIDs dropped',
        count: 1,
        dropped: junk.slice(0, 10),
        droppedCount: 12,
      }),
    ]);
    ssm.parameters.clear();
    const failed = await coldStartHandler(env());
    failed.restore();
    expect(logged(failed.lines)).toEqual([
      expect.objectContaining({ level: 'ERROR', message: 'tenant list read failed', parameter: NAME }),
    ]);
    expect(String(logged(failed.lines)[0]?.error)).toMatch(/ParameterNotFound/);
  });

  it('keeps a fixed list as it was, naming it fixed, without loading the parameter reader', async () => {
    const loaded = vi.fn();
    vi.doMock('../../lambda/authorizer/tenant-parameter.js', async (load) => {
      loaded();
      return load();
    });
    try {
      const { handler, out, restore } = await coldStartHandler({
        ...env(),
        [ENV_NAMES.allowedTenantsParameter]: '',
        [ENV_NAMES.tenantsRefreshSeconds]: '',
        [ENV_NAMES.allowedTenants]: TENANT,
      });
      const calls = ssm.calls.length;
      expect(await answer(handler, token())).toBe('Allow');
      expect(await answer(handler, token({ tenantId: OTHER_TENANT }))).toBe('Unauthorized');
      restore();
      expect(ssm.calls.length).toBe(calls);
      expect(decisions(out).map((d) => d.tenantList)).toEqual(['fixed', 'fixed']);
      expect(loaded).not.toHaveBeenCalled();
    } finally {
      vi.doUnmock('../../lambda/authorizer/tenant-parameter.js');
    }
  });
});
