import { mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { explainToken, renderExplanation } from '../../infra/local/explain.js';
import { localEnvironment } from '../../infra/local/local-environment.js';
import { ENV_NAMES, loadConfig } from '../../lambda/authorizer/config.js';
import { EntraJwksCache } from '../../lambda/authorizer/keys/key-cache.js';
import { fileParameterReader, TENANTS_FILE_ENV } from '../../lambda/authorizer/tenant-file.js';
import { parameterOrigin, parseTenantList } from '../../lambda/authorizer/tenant-list.js';
import { tenantSourceFor } from '../../lambda/authorizer/tenant-parameter.js';
import { refreshingTenantSource } from '../../lambda/authorizer/tenant-source.js';
import { KeyServer } from '../helpers/key-server.js';
import { CLIENT_ID, OTHER_TENANT, publishedKeySet, TENANT, token } from '../helpers/setup.js';

const dir = mkdtempSync(join(tmpdir(), 'tenants-file-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const NAME = '/saas/allowed-tenants';

const template = {
  [ENV_NAMES.tenantId]: 'organizations',
  [ENV_NAMES.allowedTenantsParameter]: NAME,
  [ENV_NAMES.tenantsRefreshSeconds]: '60',
  [ENV_NAMES.audiences]: CLIENT_ID,
};

describe('a local run of an authorizer whose tenants are in an SSM parameter', () => {
  it('reads the file --tenants-file (AZURE_ALLOWED_TENANTS_FILE) names instead of AWS', () => {
    const env = localEnvironment(template, 'http://127.0.0.1:3000', { [TENANTS_FILE_ENV]: 'tenants.json' });
    expect(env[TENANTS_FILE_ENV]).toBe(join(process.cwd(), 'tenants.json'));
    expect(env[ENV_NAMES.allowedTenantsParameter]).toBe(NAME);
  });

  it('refuses to start without the file, in one line saying what to give', () => {
    expect(() => localEnvironment(template, 'http://127.0.0.1:3000', {})).toThrow(
      /^the authorizer reads its allowed tenants from the SSM parameter \/saas\/allowed-tenants, which a local run never reads: give its value in a file with --tenants-file <file>/,
    );
  });

  it('names a parameter the template holds as a reference, which --env left unset', () => {
    const { [ENV_NAMES.allowedTenantsParameter]: _, ...referenced } = template;
    const env = localEnvironment(referenced, 'http://127.0.0.1:3000', { [TENANTS_FILE_ENV]: '/x.json' });
    expect(() => loadConfig(env)).not.toThrow();
  });

  it('picks up a changed file at the next refresh, its modification time as the version', async () => {
    const file = join(dir, 'tenants.json');
    writeFileSync(file, JSON.stringify([TENANT, OTHER_TENANT]));
    utimesSync(file, new Date('2026-01-01T00:00:00Z'), new Date('2026-01-01T00:00:00Z'));
    let clock = 0;
    const source = refreshingTenantSource({
      parameter: NAME,
      read: fileParameterReader(file),
      refreshMs: 60_000,
      now: () => clock,
    });
    expect(await source.tenants()).toEqual({
      tenants: new Set([TENANT, OTHER_TENANT]),
      origin: `${NAME}@file 2026-01-01T00:00:00.000Z`,
    });
    writeFileSync(file, `${TENANT}`);
    utimesSync(file, new Date('2026-01-02T00:00:00Z'), new Date('2026-01-02T00:00:00Z'));
    clock += 30_000;
    expect((await source.tenants()).tenants).toEqual(new Set([TENANT, OTHER_TENANT]));
    clock += 30_000;
    expect(await source.tenants()).toEqual({
      tenants: new Set([TENANT]),
      origin: `${NAME}@file 2026-01-02T00:00:00.000Z`,
    });
  });

  it('is what the Lambda reads when AZURE_ALLOWED_TENANTS_FILE is set', async () => {
    const file = join(dir, 'lambda.json');
    writeFileSync(file, JSON.stringify([OTHER_TENANT]));
    const env = { ...template, [TENANTS_FILE_ENV]: file };
    const list = await tenantSourceFor(loadConfig(env), env).tenants();
    expect(list.tenants).toEqual(new Set([OTHER_TENANT]));
  });
});

describe('explain with a parameter list', () => {
  const server = KeyServer.forSuite(publishedKeySet);

  it('judges the tenant by the list it is given and names it; a fixed list is named fixed', async () => {
    const config = loadConfig({ ...template, [ENV_NAMES.jwksUri]: server.url });
    const read = { value: JSON.stringify([TENANT]), type: 'String', version: '3' };
    const tenantList = { tenants: parseTenantList(read).tenants, origin: parameterOrigin(NAME, '3') };
    const keys = new EntraJwksCache();
    const allowed = await explainToken(token(), { config, keys, tenantList });
    expect([allowed.decision.reason, allowed.tenantList]).toEqual(['allowed', `${NAME}@3`]);
    const refused = await explainToken(token({ tenantId: OTHER_TENANT }), { config, keys, tenantList });
    expect([refused.decision.reason, refused.tenantList]).toEqual(['tenant_not_allowed', `${NAME}@3`]);
    expect(renderExplanation(refused, { assumed: [], notes: [] })).toContain(`Tenant list\n  ${NAME}@3`);

    const fixed = loadConfig({
      [ENV_NAMES.tenantId]: 'organizations',
      [ENV_NAMES.allowedTenants]: TENANT,
      [ENV_NAMES.audiences]: CLIENT_ID,
      [ENV_NAMES.jwksUri]: server.url,
    });
    expect((await explainToken(token(), { config: fixed, keys })).tenantList).toBe('fixed');
  });
});
