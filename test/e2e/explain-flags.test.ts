import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ENV_NAMES } from '../../lambda/authorizer/config.js';
import { KeyServer } from '../helpers/key-server.js';
import { runScript } from '../helpers/run-script.js';
import { CLIENT_ID, claims, header, publishedKeySet, signed, TENANT, testKeys } from '../helpers/setup.js';

const server = KeyServer.forSuite(publishedKeySet);
const OTHER_APP = '0a0a0a0a-1111-4222-8333-444444444444';

const explain = (args: string[], tenantsFileTenant?: string) =>
  runScript(
    'infra/local/explain-cli.ts',
    args,
    tenantsFileTenant === undefined ? {} : { AZURE_ALLOWED_TENANTS_FILE: tenantsFile(tenantsFileTenant) },
  );

/** A tenants file (in the temporary folder) listing only `tenant`. */
function tenantsFile(tenant: string): string {
  const file = join(mkdtempSync(join(tmpdir(), 'explain-tenants-')), 'tenants.json');
  writeFileSync(file, `${tenant}`);
  return file;
}

/** A v1 token whose issuer is on `v1Host`, signed by a key that names no issuer. */
const v1Token = (v1Host: string) =>
  signed(
    header({ kid: 'second-key' }),
    { ...claims({ version: '1.0' }), iss: `https://${v1Host}/${TENANT}/` },
    testKeys().second,
  );

describe('npm run explain takes every variable the Lambda reads', () => {
  it('names a flag for each of them in its usage', async () => {
    const { code, stdout } = await explain(['--help']);
    expect(code).toBe(0);
    for (const variable of Object.values(ENV_NAMES)) expect(stdout).toContain(variable);
  }, 30_000);

  it('--authority-host, --v1-issuer-host and --allowed-client-apps judge as the Lambda would', async () => {
    const common = ['--json', '--tenant', TENANT, '--audience', CLIENT_ID, '--jwks-uri', server.url];
    const [china, otherApp, unknownCloud, unknownCloudPaired] = await Promise.all([
      explain([...common, '--authority-host', 'login.chinacloudapi.cn', v1Token('sts.chinacloudapi.cn')]),
      explain([
        ...common,
        '--authority-host',
        'login.chinacloudapi.cn',
        '--allowed-client-apps',
        OTHER_APP,
        v1Token('sts.chinacloudapi.cn'),
      ]),
      explain([...common, '--authority-host', 'login.sovcloud.example', v1Token('sts.sovcloud.example')]),
      explain([
        ...common,
        '--authority-host',
        'login.sovcloud.example',
        '--v1-issuer-host',
        'sts.sovcloud.example',
        v1Token('sts.sovcloud.example'),
      ]),
    ]);
    expect([china.code, JSON.parse(china.stdout).decision.reason]).toEqual([0, 'allowed']);
    expect([otherApp.code, JSON.parse(otherApp.stdout).decision.reason]).toEqual([
      1,
      'client_app_not_allowed',
    ]);
    expect(unknownCloud.code).toBe(2);
    expect(unknownCloud.stderr).toMatch(
      /^npm run explain: configuration: AZURE_V1_ISSUER_HOST: expected the host of the v1 issuer/,
    );
    expect([unknownCloudPaired.code, JSON.parse(unknownCloudPaired.stdout).decision.reason]).toEqual([
      0,
      'allowed',
    ]);
  }, 60_000);
});

describe('npm run explain with the allowed tenants in an SSM parameter', () => {
  const OTHER = '0b5c6a5e-1111-4222-8333-444455556666';
  it('judges by the list --tenants-file holds, names it, and never reads AWS without it', async () => {
    const common = ['--tenant', 'organizations', '--audience', CLIENT_ID, '--jwks-uri', server.url];
    const token = signed(header(), claims());
    const dir = mkdtempSync(join(tmpdir(), 'explain-tenants-'));
    const file = join(dir, 'tenants.json');
    writeFileSync(file, JSON.stringify([TENANT, '*']));
    const [listed, refused, missing] = await Promise.all([
      explain([...common, '--tenants-parameter', '/saas/tenants', '--tenants-file', file, '--json', token]),
      explain([...common, '--tenants-parameter', '/saas/tenants', '--tenants-refresh', '60', token], OTHER),
      explain([...common, '--tenants-parameter', '/saas/tenants', token]),
    ]);
    const report = JSON.parse(listed.stdout) as {
      decision: { reason: string };
      tenantList: string;
      notes: string[];
    };
    expect(report.decision.reason).toBe('allowed');
    expect(report.tenantList).toMatch(/^\/saas\/tenants@file \d{4}-/);
    expect(report.notes).toEqual([`${file}: dropped entries that are not tenant GUIDs: *`]);
    expect([refused.code, refused.stdout]).toEqual([1, expect.stringContaining('tenant_not_allowed')]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(
      /the allowed tenants are in the SSM parameter \/saas\/tenants, which explain never reads: give its value in a file with --tenants-file <file>/,
    );
    rmSync(dir, { recursive: true, force: true });
  }, 60_000);
});

describe('npm run explain refuses what the cold start refuses, in the same words', () => {
  it('a scope written as its full URI, a role Entra cannot write, guest users neither allow nor refuse', async () => {
    const common = [
      '--tenant',
      TENANT,
      '--audience',
      CLIENT_ID,
      '--jwks-uri',
      server.url,
      v1Token('sts.windows.net'),
    ];
    const [uri, role, guests] = await Promise.all([
      explain([...common, '--scopes', `api://${CLIENT_ID}/Orders.Read`]),
      explain([...common, '--roles', 'Orders"Admin']),
      explain([...common, '--guest-users', 'deny']),
    ]);
    expect([uri.code, uri.stderr.trim()]).toEqual([
      2,
      `npm run explain: configuration: AZURE_REQUIRED_SCOPES: expected scope names as scp carries them ("Orders.Read"): scp holds the scope name only, never the App ID URI before it; got "api://${CLIENT_ID}/Orders.Read"`,
    ]);
    expect([role.code, role.stderr.trim()]).toEqual([
      2,
      'npm run explain: configuration: AZURE_REQUIRED_ROLES: expected role names Entra can write in roles: 1 to 120 letters, digits or ASCII punctuation other than " and \\, not starting with "."; got "Orders\\"Admin"',
    ]);
    expect([guests.code, guests.stderr.trim()]).toEqual([
      2,
      'npm run explain: configuration: AZURE_GUEST_USERS: expected one of "allow", "refuse"; got "deny"',
    ]);
  }, 60_000);
});
