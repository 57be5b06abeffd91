import { afterEach, describe, expect, it, vi } from 'vitest';
import { ENV } from '../../lambda/authorizer/config.js';
import { KeyServer } from '../helpers/key-server.js';
import { CLIENT_ID, event, publishedKeySet, TENANT, token } from '../helpers/setup.js';

/** The real composition root, loaded fresh as a cold start would, with stdout captured. */
async function coldStart(env: Record<string, string>) {
  vi.resetModules();
  for (const [name, value] of Object.entries(env)) vi.stubEnv(name, value);
  const lines: string[] = [];
  const write = vi.spyOn(process.stdout, 'write').mockImplementation((chunk) => {
    lines.push(String(chunk));
    return true;
  });
  try {
    const module = await import('../../lambda/authorizer/handler.js');
    return { handler: module.handler, lines, restore: () => write.mockRestore() };
  } catch (err) {
    write.mockRestore();
    throw err;
  }
}

describe('the Lambda handler module', () => {
  const server = KeyServer.forSuite(publishedKeySet);
  afterEach(() => {
    vi.unstubAllEnvs();
    vi.restoreAllMocks();
  });

  const env = () => ({
    [ENV.tenantId]: TENANT,
    [ENV.audiences]: CLIENT_ID,
    [ENV.jwksUri]: server.url,
    POWERTOOLS_LOG_LEVEL: 'INFO',
    POWERTOOLS_METRICS_DISABLED: 'false',
  });

  it('fails the cold start with a message naming the bad variable', async () => {
    await expect(coldStart({ ...env(), [ENV.tenantId]: 'contoso' })).rejects.toThrow(
      /^AZURE_TENANT_ID: expected/,
    );
  });

  it('starts the key fetch at init, so the first request finds the keys', async () => {
    const before = server.requests;
    const { handler, restore } = await coldStart(env());
    await vi.waitFor(() => expect(server.requests).toBe(before + 1));
    await handler(event(`Bearer ${token()}`));
    restore();
    expect(server.requests).toBe(before + 1);
  });

  it('logs one JSON line per decision with reason and safe claims, a metric per outcome, and never the token', async () => {
    const { handler, lines, restore } = await coldStart(env());
    const good = token();
    const bad = token({ audience: 'api://other' });
    await handler(event(`Bearer ${good}`));
    await handler(event(`Bearer ${bad}`)).catch(() => {});
    restore();
    const records = lines
      .flatMap((l) => l.split('\n'))
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l));
    const decisions = records.filter((r) => r.message === 'authorizer decision');
    expect(decisions).toEqual([
      expect.objectContaining({
        level: 'INFO',
        outcome: 'allow',
        reason: 'allowed',
        tid: TENANT,
        kid: 'main-key',
      }),
      expect.objectContaining({ level: 'INFO', outcome: 'unauthorized', reason: 'wrong_audience' }),
    ]);
    expect(records.some((r) => r.message === 'signing keys fetched' && r.keyCount === 3)).toBe(true);
    const emf = records.filter((r) => r._aws !== undefined);
    expect(emf.map((r) => [r.outcome, r.reason, r.Decisions])).toEqual([
      ['allow', 'allowed', 1],
      ['unauthorized', 'wrong_audience', 1],
    ]);
    const all = lines.join('');
    for (const t of [good, bad]) expect(all).not.toContain(t.split('.')[2]);
  });
});
