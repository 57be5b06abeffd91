import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { ENV_NAMES } from '../../lambda/authorizer/config.js';
import { coldStartHandler } from '../helpers/cold-start.js';
import { emfViolations } from '../helpers/emf.js';
import { KeyServer } from '../helpers/key-server.js';
import { CLIENT_ID, event, publishedKeySet, TENANT, testKeys, token } from '../helpers/setup.js';

const _HANDLER = fileURLToPath(new URL('../../lambda/authorizer/handler.ts', import.meta.url));

const records = (chunks: string[]) =>
  chunks
    .join('')
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as Record<string, unknown>);

const context = (awsRequestId: string) => ({
  awsRequestId,
  functionName: 'entra-authorizer',
  invokedFunctionArn: 'arn:aws:lambda:eu-west-1:123456789012:function:entra-authorizer:3',
  memoryLimitInMB: '512',
});

describe('the Lambda handler module', () => {
  const server = KeyServer.forSuite(publishedKeySet);
  afterEach(() => {
    vi.unstubAllEnvs();
    vi.restoreAllMocks();
  });

  const env = () => ({
    [ENV_NAMES.tenantId]: TENANT,
    [ENV_NAMES.audiences]: CLIENT_ID,
    [ENV_NAMES.jwksUri]: server.url,
    POWERTOOLS_LOG_LEVEL: 'INFO',
    POWERTOOLS_METRICS_DISABLED: 'false',
  });

  it('fails the cold start with a message naming the bad variable', async () => {
    await expect(coldStartHandler({ ...env(), [ENV_NAMES.tenantId]: 'contoso' })).rejects.toThrow(
      /^AZURE_TENANT_ID: expected/,
    );
    await expect(coldStartHandler({ ...env(), POWERTOOLS_LOG_LEVEL: 'VERBOSE' })).rejects.toThrow(
      /^POWERTOOLS_LOG_LEVEL: expected/,
    );
  });

  it('starts the key fetch at init, so the first request finds the keys', async () => {
    const before = server.requests;
    const { handler, restore } = await coldStartHandler(env());
    await vi.waitFor(() => expect(server.requests).toBe(before + 1));
    await handler(event(`Bearer ${token()}`));
    restore();
    expect(server.requests).toBe(before + 1);
  });

  it("settles ready only once the cold start's key fetch has ended, here failed at its budget", async () => {
    server.mode = 'hang';
    try {
      const { lines, restore } = await coldStartHandler(env());
      restore();
      expect(records(lines).map((r) => r.message)).toEqual(['signing key fetch failed']);
    } finally {
      server.mode = 'ok';
    }
  });

  it("logs a multi-tenant API's fetch of a tenant's own key set, as it logs the shared set's", async () => {
    const { main, second } = testKeys();
    server.jwks = { keys: [main.publicJwk] };
    server.tenantSets.set(TENANT, { keys: [second.publicJwk] });
    try {
      const { handler, lines, restore } = await coldStartHandler({
        ...env(),
        [ENV_NAMES.tenantId]: 'organizations',
        [ENV_NAMES.allowedTenants]: TENANT,
        [ENV_NAMES.jwksUri]: server.urlOf('organizations'),
      });
      const answer = await handler(event(`Bearer ${token({}, second)}`));
      restore();
      expect(answer.policyDocument.Statement.map((s) => s.Effect)).toEqual(['Allow']);
      const fetched = records(lines).filter((r) => r.message === 'signing keys fetched');
      // The cold start's shared set, the shared set again for the kid it lacks, then the tenant's own.
      expect(fetched.map((r) => new URL(String(r.uri)).pathname)).toEqual([
        '/organizations/discovery/v2.0/keys',
        '/organizations/discovery/v2.0/keys',
        `/${TENANT}/discovery/v2.0/keys`,
      ]);
    } finally {
      server.jwks = publishedKeySet();
      server.tenantSets.clear();
    }
  });

  it('serves the keys it holds past their 24 hours when a refetch fails, and logs it as a warning', async () => {
    vi.useFakeTimers({ toFake: ['Date'], now: Date.now() });
    try {
      const { handler, lines, restore } = await coldStartHandler(env());
      server.mode = 'status-503';
      vi.setSystemTime(Date.now() + 25 * 3600 * 1000);
      const answer = await handler(event(`Bearer ${token()}`));
      restore();
      expect(answer.policyDocument.Statement.map((s) => s.Effect)).toEqual(['Allow']);
      const stale = records(lines).filter((r) => r.message === 'serving stale signing keys');
      expect(stale).toHaveLength(1);
      expect(stale[0]).toMatchObject({ level: 'WARN', uri: server.url });
      expect(stale[0]?.ageSeconds).toBeGreaterThanOrEqual(25 * 3600);
    } finally {
      server.mode = 'ok';
      vi.useRealTimers();
    }
  });

  it('answers 500 with one decision line when the decision code cannot be built, settling ready', async () => {
    server.mode = 'status-503';
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown) => unhandled.push(reason);
    process.on('unhandledRejection', onUnhandled);
    // Its construction throws, as a missing file does at its require: a message of several lines.
    vi.doMock('../../lambda/authorizer/decide.js', () => ({
      createDecider: () => {
        throw new Error('decide.js is missing\nRequire stack: index.js');
      },
    }));
    try {
      const { handler, lines, restore } = await coldStartHandler(env());
      const outcomes = [];
      for (const request of [1, 2]) {
        outcomes.push(
          await handler(event(`Bearer ${token()}`), context(`request-${request}`)).then(
            () => 'returned',
            (err: Error) => err.message,
          ),
        );
      }
      await new Promise((settle) => setTimeout(settle, 50));
      restore();
      expect(outcomes).toEqual([
        'Authorizer failure (internal_error)',
        'Authorizer failure (internal_error)',
      ]);
      const decisions = records(lines).filter((r) => r.message === 'authorizer decision');
      expect(decisions.map((d) => [d.outcome, d.reason, d.function_request_id])).toEqual([
        ['error', 'internal_error', 'request-1'],
        ['error', 'internal_error', 'request-2'],
      ]);
      expect(String(decisions[0]?.detail)).toMatch(
        /^decision code unavailable: [^\n]*decide\.js is missing$/,
      );
      expect(JSON.stringify(decisions[0]?.error)).toMatch(/decide\.js is missing/);
      // The cold start's key fetch, which failed with no key cache to take it, is no unhandled rejection.
      expect(unhandled).toEqual([]);
    } finally {
      process.off('unhandledRejection', onUnhandled);
      vi.doUnmock('../../lambda/authorizer/decide.js');
      server.mode = 'ok';
    }
  });

  it('fetches the key set again for a kid it lacks, so a key published after the cold start is found', async () => {
    const { main, second } = testKeys();
    server.jwks = { keys: [main.publicJwk] };
    try {
      const { handler, restore } = await coldStartHandler(env());
      const before = server.requests;
      server.jwks = publishedKeySet();
      const answer = await handler(event(`Bearer ${token({}, second)}`));
      restore();
      expect(answer.policyDocument.Statement.map((s) => s.Effect)).toEqual(['Allow']);
      expect(server.requests).toBe(before + 1);
    } finally {
      server.jwks = publishedKeySet();
    }
  });

  it('writes one JSON line per decision: the reason, safe claims, hint, Lambda context and the metric, as valid EMF', async () => {
    const { handler, out, err, restore } = await coldStartHandler({
      ...env(),
      POWERTOOLS_METRICS_NAMESPACE: 'Checkout',
      AWS_LAMBDA_INITIALIZATION_TYPE: 'on-demand',
    });
    const good = token();
    const bad = token({ audience: 'api://other' });
    await handler(event(`Bearer ${good}`), context('req-1'));
    await handler(event(`Bearer ${bad}`), context('req-2')).catch(() => {});
    restore();
    expect(err).toEqual([]);
    const lines = records(out);
    expect(lines.map((r) => r.message)).toEqual([
      'signing keys fetched',
      'authorizer decision',
      'authorizer decision',
    ]);
    const decisions = lines.filter((r) => r.message === 'authorizer decision');
    for (const d of decisions) expect(emfViolations(JSON.stringify(d))).toEqual([]);
    // tenantList is a multi-tenant API's field (docs/observability.md): a single tenant's lines have none.
    for (const d of decisions) expect(d).not.toHaveProperty('tenantList');
    expect(decisions).toEqual([
      expect.objectContaining({
        level: 'INFO',
        outcome: 'allow',
        reason: 'allowed',
        tid: TENANT,
        kid: 'main-key',
        cold_start: true,
        function_request_id: 'req-1',
        function_name: 'entra-authorizer',
        Decisions: 1,
      }),
      expect.objectContaining({
        level: 'INFO',
        outcome: 'unauthorized',
        reason: 'wrong_audience',
        hint: expect.stringContaining('api://other'),
        cold_start: false,
        function_request_id: 'req-2',
        Decisions: 1,
      }),
    ]);
    expect(decisions[0]?._aws).toMatchObject({ CloudWatchMetrics: [{ Namespace: 'Checkout' }] });
    expect(lines[0]).toMatchObject({ keyCount: 3 });
    expect(lines[0]).not.toHaveProperty('_aws');
    const all = out.join('');
    for (const t of [good, bad]) {
      expect(all).not.toContain(t.split('.')[2]);
      expect(all).not.toContain(t.split('.')[1]);
    }
  });

  it('logs without the metric when metrics are disabled, and writes the metric alone when the level is SILENT', async () => {
    const noMetrics = await coldStartHandler({ ...env(), POWERTOOLS_METRICS_DISABLED: 'true' });
    await noMetrics.handler(event(`Bearer ${token()}`));
    noMetrics.restore();
    const [decision] = records(noMetrics.out).filter((r) => r.message === 'authorizer decision');
    expect(decision).toMatchObject({ outcome: 'allow', reason: 'allowed' });
    expect(decision).not.toHaveProperty('_aws');

    const silent = await coldStartHandler({ ...env(), POWERTOOLS_LOG_LEVEL: 'SILENT' });
    await silent.handler(event('Bearer not-a-jwt')).catch(() => {});
    silent.restore();
    expect(records(silent.out)).toEqual([
      {
        _aws: expect.any(Object),
        service: 'entra-authorizer',
        outcome: 'unauthorized',
        reason: 'malformed',
        Decisions: 1,
      },
    ]);
    expect(emfViolations(silent.out.join('').trim())).toEqual([]);
  });
});
