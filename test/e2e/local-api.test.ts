import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { createHash, X509Certificate } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LOCAL_CLIENT_ID, LOCAL_TENANT_ID, LOCAL_USER_GRANT } from '../../infra/local/issuer.js';
import { type LocalServer, startLocalServer } from '../../infra/local/server.js';

const ROOT = new URL('../../', import.meta.url).pathname;
let local: LocalServer;
beforeAll(async () => {
  local = await startLocalServer({
    port: 0,
    dataDir: mkdtempSync(join(tmpdir(), 'entra-local-')),
    cacheTtlSeconds: 300,
  });
});
afterAll(() => local.stop());

async function getToken(params: Record<string, string> = {}): Promise<string> {
  const res = await fetch(local.tokenEndpoint, {
    method: 'POST',
    body: new URLSearchParams({
      grant_type: LOCAL_USER_GRANT,
      scope: `api://${LOCAL_CLIENT_ID}/access_as_user`,
      ...params,
    }),
  });
  expect(res.status).toBe(200);
  return ((await res.json()) as { access_token: string }).access_token;
}

const whoami = (authorization?: string) =>
  fetch(`${local.url}/whoami`, { headers: authorization === undefined ? {} : { authorization } });

describe('npm start: the sample API over HTTP on 127.0.0.1', () => {
  it('answers 200 with the caller claims from /whoami', async () => {
    const res = await whoami(`Bearer ${await getToken()}`);
    expect(res.status).toBe(200);
    expect(res.headers.get('access-control-allow-origin')).toBe('*');
    expect(await res.json()).toMatchObject({
      tid: LOCAL_TENANT_ID,
      scopes: ['access_as_user'],
      version: '2.0',
      appOnly: false,
      preferredUsername: 'alice@contoso.example',
    });
  });

  it('answers 401 with WWW-Authenticate: Bearer and no authorizer call without a token', async () => {
    const before = local.stats.authorizerCalls;
    const res = await whoami();
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toMatch(/^Bearer realm="[^"]+", error="invalid_token"/);
    expect(local.stats.authorizerCalls).toBe(before);
  });

  it('answers 401 for junk: before the authorizer when the regex fails, from it otherwise', async () => {
    const before = local.stats.authorizerCalls;
    expect((await whoami('Basic dXNlcjpwYXNz')).status).toBe(401);
    expect(local.stats.authorizerCalls).toBe(before);
    expect((await whoami('Bearer abc.def.ghi')).status).toBe(401);
    expect(local.stats.authorizerCalls).toBe(before + 1);
  });

  it('answers 401 for an expired token', async () => {
    expect((await whoami(`Bearer ${await getToken({ expires_in: '-400' })}`)).status).toBe(401);
  });

  it('answers 403 without the scope, for delegated and app-only tokens', async () => {
    const other = await getToken({ scope: `api://${LOCAL_CLIENT_ID}/Items.Read` });
    const app = await getToken({
      grant_type: 'client_credentials',
      scope: `api://${LOCAL_CLIENT_ID}/.default`,
      roles: 'Items.Admin',
    });
    for (const t of [other, app]) {
      const res = await whoami(`Bearer ${t}`);
      expect(res.status).toBe(403);
      expect(res.headers.get('www-authenticate')).toMatch(/error="insufficient_scope"/);
    }
  });

  it('accepts v1 tokens too', async () => {
    const res = await whoami(`Bearer ${await getToken({ token_version: '1' })}`);
    expect(await res.json()).toMatchObject({ version: '1.0' });
  });

  it('reuses a cached decision within the TTL', async () => {
    const t = `Bearer ${await getToken()}`;
    const calls = local.stats.authorizerCalls;
    const hits = local.stats.cacheHits;
    expect((await whoami(t)).status).toBe(200);
    expect((await whoami(t)).status).toBe(200);
    expect((await whoami(t)).status).toBe(200);
    expect(local.stats.authorizerCalls - calls).toBe(1);
    expect(local.stats.cacheHits - hits).toBe(2);
  });

  it('answers 403 Missing Authentication Token for a route it does not have', async () => {
    const res = await fetch(`${local.url}/nope`);
    expect(res.status).toBe(403);
    expect(await res.json()).toEqual({ message: 'Missing Authentication Token' });
  });
});

describe('the local Entra-shaped issuer', () => {
  it('publishes v1 and v2 discovery documents with Entra issuers', async () => {
    const v2 = await (await fetch(`${local.issuerUrl}/.well-known/openid-configuration`)).json();
    expect(v2).toMatchObject({ issuer: `https://login.microsoftonline.com/${LOCAL_TENANT_ID}/v2.0` });
    const v1 = await (
      await fetch(`${local.issuerUrl.replace('/v2.0', '')}/.well-known/openid-configuration`)
    ).json();
    expect(v1).toMatchObject({ issuer: `https://sts.windows.net/${LOCAL_TENANT_ID}/` });
  });

  it("serves keys in Entra's format: kid = x5t = the certificate thumbprint, n/e matching x5c", async () => {
    const v2 = (await (await fetch(`${local.issuerUrl}/.well-known/openid-configuration`)).json()) as {
      jwks_uri: string;
    };
    const { keys } = (await (await fetch(v2.jwks_uri)).json()) as { keys: Record<string, unknown>[] };
    const key = keys[0] as { kid: string; x5t: string; n: string; e: string; x5c: string[]; issuer: string };
    const der = Buffer.from(key.x5c[0] as string, 'base64');
    const cert = new X509Certificate(der);
    expect(key.kid).toBe(createHash('sha1').update(der).digest('base64url'));
    expect(key.x5t).toBe(key.kid);
    expect(cert.publicKey.export({ format: 'jwk' })).toMatchObject({ n: key.n, e: key.e });
    expect(cert.verify(cert.publicKey)).toBe(true);
    expect(key.issuer).toBe('https://login.microsoftonline.com/{tenantid}/v2.0');
  });

  it('issues app-only tokens with roles and no scp', async () => {
    const t = await getToken({
      grant_type: 'client_credentials',
      scope: `api://${LOCAL_CLIENT_ID}/.default`,
      roles: 'A,B',
    });
    const claims = JSON.parse(Buffer.from(t.split('.')[1] as string, 'base64url').toString());
    expect(claims).toMatchObject({ roles: ['A', 'B'], idtyp: 'app', aud: LOCAL_CLIENT_ID, ver: '2.0' });
    expect(claims.scp).toBeUndefined();
  });
});

describe('the commands', () => {
  it('npm run token prints a token the local API accepts as its last line', async () => {
    const { stdout } = await promisify(execFile)(
      'npx',
      ['tsx', 'infra/local/token-cli.ts', '--scopes', 'access_as_user,Items.Read'],
      {
        cwd: ROOT,
        env: { ...process.env, PORT: new URL(local.url).port },
      },
    );
    const last = stdout.trim().split('\n').at(-1) as string;
    expect(last).toMatch(/^[\w-]+\.[\w-]+\.[\w-]+$/);
    const res = await whoami(`Bearer ${last}`);
    expect(await res.json()).toMatchObject({ scopes: ['access_as_user', 'Items.Read'] });
  });

  it('npm start prints what it serves and a curl line, and stops cleanly on Ctrl-C', async () => {
    const child: ChildProcess = spawn(process.execPath, ['--import', 'tsx', 'infra/local/start.ts'], {
      cwd: ROOT,
      env: { ...process.env, PORT: '0', POWERTOOLS_LOG_LEVEL: 'SILENT' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout?.on('data', (c) => {
      out += c;
    });
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    await expect.poll(() => out, { timeout: 20_000 }).toMatch(/Ctrl-C stops it/);
    const url = /local API on (http:\/\/127\.0\.0\.1:\d+)/.exec(out)?.[1] as string;
    expect(out).toContain(
      `curl -i -H "Authorization: Bearer $(PORT=${new URL(url).port} npm run -s token | tail -n 1)" ${url}/whoami`,
    );
    expect((await fetch(`${url}/whoami`)).status).toBe(401);
    child.kill('SIGINT');
    expect(await exited).toBe(0);
  });
});
