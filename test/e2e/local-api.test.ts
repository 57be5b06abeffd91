import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { createHash, X509Certificate } from 'node:crypto';
import { promisify } from 'node:util';
import { Template } from 'aws-cdk-lib/assertions';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LOCAL_CLIENT_ID, LOCAL_TENANT_ID } from '../../infra/local/issuer.js';
import { type LocalServer, startLocalServer } from '../../infra/local/server.js';
import { SAMPLE_STACK_NAME, SampleApiStack } from '../../infra/sample/sample-api-stack.js';
import { testApp } from '../helpers/cdk.js';
import { localToken } from '../helpers/local-token.js';
import { tempDir } from '../helpers/temp-dir.js';

const ROOT = new URL('../../', import.meta.url).pathname;
let local: LocalServer;
beforeAll(async () => {
  local = await startLocalServer({
    port: 0,
    dataDir: tempDir('entra-local-'),
    cacheTtlSeconds: 300,
  });
});
afterAll(() => local.stop());

const getToken = (params: Record<string, string> = {}) => localToken(local.tokenEndpoint, params);

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
    // RFC 6750 §3.1: no error code for a request that carried no token.
    expect(res.headers.get('www-authenticate')).toBe(`Bearer realm="${SAMPLE_STACK_NAME}"`);
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
      // The scope GET /whoami needs, named so the client can ask for that consent.
      expect(res.headers.get('www-authenticate')).toBe(
        'Bearer error="insufficient_scope", scope="access_as_user"',
      );
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

/*
 * What `cdk deploy` would create, synthesized here on its own (with the local tenant and client id npm start
 * uses), and npm start's answers compared with it header for header.
 */
describe('npm start answers as the deployed template says', () => {
  type Json = Record<string, unknown>;
  const template = Template.fromStack(
    new SampleApiStack(testApp(), SAMPLE_STACK_NAME, {
      entra: { tenantId: LOCAL_TENANT_ID, clientId: LOCAL_CLIENT_ID },
    }),
  ).toJSON() as { Resources: Record<string, { Type: string; Properties: Json }> };
  const resources = Object.values(template.Resources);
  const gatewayResponse = (type: string) =>
    resources.find((r) => r.Type === 'AWS::ApiGateway::GatewayResponse' && r.Properties.ResponseType === type)
      ?.Properties;
  /**
   * Mapped headers as the template writes them: a literal, or a context variable whose value the test
   * states (`sources`); any other source fails the comparison.
   */
  const literals = (parameters: unknown, prefix: string, sources: Record<string, string> = {}) =>
    Object.fromEntries(
      Object.entries((parameters ?? {}) as Record<string, string>).map(([key, value]) => {
        const name = key.slice(prefix.length).toLowerCase();
        if (value in sources) return [name, sources[value]];
        expect(value).toMatch(/^'[^']*'$/);
        return [name, value.slice(1, -1)];
      }),
    );
  /** The answer's CORS and challenge headers: exactly the template's, none added, none missing. */
  const corsAndChallenge = (res: Response) =>
    Object.fromEntries(
      [...res.headers].filter(([name]) => /^(access-control-|www-authenticate$|vary$)/.test(name)),
    );
  const expectGatewayResponse = async (res: Response, type: string, sources: Record<string, string> = {}) => {
    const declared = gatewayResponse(type) ?? {};
    expect(res.status).toBe(Number(declared.StatusCode));
    expect(corsAndChallenge(res)).toEqual(
      literals(declared.ResponseParameters, 'gatewayresponse.header.', sources),
    );
    const body = (declared.ResponseTemplates as Record<string, string> | undefined)?.['application/json'];
    expect(await res.text()).toBe(body);
  };

  it('401 without a token, and for a token the authorizer refuses: the UNAUTHORIZED response', async () => {
    await expectGatewayResponse(await whoami(), 'UNAUTHORIZED');
    await expectGatewayResponse(await whoami('Bearer abc.def.ghi'), 'UNAUTHORIZED');
  });

  it('403 for a token without the route’s scope: the ACCESS_DENIED response', async () => {
    const app = await getToken({
      grant_type: 'client_credentials',
      scope: `api://${LOCAL_CLIENT_ID}/.default`,
      roles: 'Items.Admin',
    });
    // The Deny's context names the scope GET /whoami needs, which an app role cannot stand for.
    await expectGatewayResponse(await whoami(`Bearer ${app}`), 'ACCESS_DENIED', {
      'context.authorizer.wwwAuthenticate': 'Bearer error="insufficient_scope", scope="access_as_user"',
    });
  });

  it('403 Missing Authentication Token for an undeclared route or preflight: DEFAULT_4XX', async () => {
    // The template customizes no MISSING_AUTHENTICATION_TOKEN response, so API Gateway falls back to DEFAULT_4XX.
    expect(gatewayResponse('MISSING_AUTHENTICATION_TOKEN')).toBeUndefined();
    const fallback = literals(gatewayResponse('DEFAULT_4XX')?.ResponseParameters, 'gatewayresponse.header.');
    expect(Object.keys(fallback)).toContain('access-control-allow-origin');
    for (const res of [
      await fetch(`${local.url}/nope`),
      await fetch(`${local.url}/whoami`, { method: 'POST' }),
      await fetch(`${local.url}/nope`, { method: 'OPTIONS', headers: { origin: 'http://127.0.0.1:1' } }),
    ]) {
      expect(res.status).toBe(403);
      expect(corsAndChallenge(res)).toEqual(fallback);
      expect(await res.json()).toEqual({ message: 'Missing Authentication Token' });
    }
  });

  it('the CORS preflight: the OPTIONS method’s integration response', async () => {
    const whoamiResource = Object.entries(template.Resources).find(
      ([, r]) => r.Type === 'AWS::ApiGateway::Resource' && r.Properties.PathPart === 'whoami',
    )?.[0];
    const options = resources.find(
      (r) =>
        r.Type === 'AWS::ApiGateway::Method' &&
        r.Properties.HttpMethod === 'OPTIONS' &&
        (r.Properties.ResourceId as Json).Ref === whoamiResource,
    )?.Properties;
    const [declared] = (((options?.Integration ?? {}) as Json).IntegrationResponses ?? []) as Json[];
    const res = await fetch(`${local.url}/whoami`, {
      method: 'OPTIONS',
      headers: {
        origin: 'http://127.0.0.1:1',
        'access-control-request-method': 'GET',
        'access-control-request-headers': 'authorization',
      },
    });
    expect(res.status).toBe(Number(declared?.StatusCode));
    expect(corsAndChallenge(res)).toEqual(literals(declared?.ResponseParameters, 'method.response.header.'));
  });

  it('200 carries the backend’s own CORS header, set from the template’s CORS_ALLOW_ORIGIN, nothing added', async () => {
    const res = await whoami(`Bearer ${await getToken()}`);
    expect(res.status).toBe(200);
    const backend = resources.find(
      (r) =>
        r.Type === 'AWS::Lambda::Function' &&
        (r.Properties.Environment as { Variables?: Json })?.Variables?.CORS_ALLOW_ORIGIN,
    );
    const origin = (backend?.Properties.Environment as { Variables: Json } | undefined)?.Variables
      .CORS_ALLOW_ORIGIN;
    expect(origin).toBe('*');
    expect(corsAndChallenge(res)).toEqual({ 'access-control-allow-origin': origin });
  });

  it("runs the Lambdas with their template's environment, not the shell's AZURE_* or CORS settings", async () => {
    const shell = {
      AZURE_REQUIRED_ROLES: 'Foo',
      AZURE_ALLOWED_TENANTS: '*',
      CORS_ALLOW_ORIGIN: 'https://x.example',
    };
    Object.assign(process.env, shell);
    let other: Awaited<ReturnType<typeof startLocalServer>> | undefined;
    try {
      other = await startLocalServer({ port: 0, dataDir: tempDir('entra-local-') });
    } finally {
      for (const name of Object.keys(shell)) delete process.env[name];
    }
    try {
      const token = await localToken(other.tokenEndpoint);
      const res = await fetch(`${other.url}/whoami`, {
        headers: { authorization: `Bearer ${token}` },
      });
      expect(res.status).toBe(200);
      expect(res.headers.get('access-control-allow-origin')).toBe('*');
    } finally {
      await other.stop();
    }
  });

  it('serves another allowed origin from the stack setting alone, backend included', async () => {
    const origin = 'http://127.0.0.1:5173';
    const other = await startLocalServer({
      port: 0,
      dataDir: tempDir('entra-local-'),
      allowOrigin: origin,
    });
    try {
      const token = await localToken(other.tokenEndpoint);
      const ok = await fetch(`${other.url}/whoami`, {
        headers: { authorization: `Bearer ${token}` },
      });
      expect(ok.status).toBe(200);
      expect(corsAndChallenge(ok)).toEqual({ 'access-control-allow-origin': origin, vary: 'Origin' });
      const denied = await fetch(`${other.url}/whoami`);
      expect(denied.headers.get('access-control-allow-origin')).toBe(origin);
      const preflight = await fetch(`${other.url}/whoami`, { method: 'OPTIONS' });
      expect(preflight.headers.get('access-control-allow-origin')).toBe(origin);
      // The first server keeps its own configuration: each server imports its own handler instances.
      expect((await whoami(`Bearer ${await getToken()}`)).headers.get('access-control-allow-origin')).toBe(
        '*',
      );
    } finally {
      await other.stop();
    }
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

  it('npm start answers once its banner is out, and stops cleanly on Ctrl-C', async () => {
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
    // (test/e2e/commands.test.ts runs each banner line as printed.)
    expect((await fetch(`${url}/whoami`)).status).toBe(401);
    child.kill('SIGINT');
    expect(await exited).toBe(0);
  });
});
