import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type PackResult, run, userEnv } from './consumer-app.js';
import { packFromCopy, writeConsumerManifest } from './consumer-manifest.js';

/**
 * Your own API, locally, as a user gets it: a fresh CommonJS CDK app installs the tarball (with aws-cdk-lib,
 * constructs, the CDK CLI and esbuild, nothing of this repository), declares its own RestApi and its own
 * NodejsFunction backend, runs `cdk synth`, then `npx entra-authorizer start` in the background, and calls
 * its routes with tokens from `npx entra-authorizer token`.
 */

const TENANT = '3d3b8c1e-6a5f-4b8e-9c2d-1f0e2d3c4b5a';
const CLIENT = '8a7b6c5d-4e3f-4a1b-9c8d-7e6f5a4b3c2d';
const ROUTES = {
  'GET /orders': { scopes: ['Orders.Read'] },
  'POST /orders': { roles: ['Orders.Write'] },
  'GET /orders/*': { scopes: ['Orders.Read'] },
};

/** The user's app: their API with three routes (a scope, a role, a path parameter) and their backend. */
const APP = `const { App, Stack } = require('aws-cdk-lib');
const { LambdaIntegration, RestApi } = require('aws-cdk-lib/aws-apigateway');
const { Runtime } = require('aws-cdk-lib/aws-lambda');
const { NodejsFunction } = require('aws-cdk-lib/aws-lambda-nodejs');
const { EntraTokenAuthorizer } = require('entra-authorizer');

const app = new App();
const stack = new Stack(app, 'OrdersStack');
const entra = new EntraTokenAuthorizer(stack, 'Entra', {
  tenantId: '${TENANT}',
  clientId: '${CLIENT}',
  routePermissions: ${JSON.stringify(ROUTES)},
});
const api = new RestApi(stack, 'OrdersApi', { defaultMethodOptions: { authorizer: entra.authorizer } });
entra.addGatewayResponses(api);
const backend = new NodejsFunction(stack, 'Orders', { entry: 'backend.js', runtime: Runtime.NODEJS_22_X });
const orders = api.root.addResource('orders');
orders.addMethod('GET', new LambdaIntegration(backend));
orders.addMethod('POST', new LambdaIntegration(backend));
orders.addResource('{id}').addMethod('GET', new LambdaIntegration(backend));
`;

/** The user's backend: reads the caller with entra-authorizer/identity and says what it saw. */
const BACKEND = `const { readIdentity } = require('entra-authorizer/identity');
exports.handler = async (event) => {
  const caller = readIdentity(event.requestContext.authorizer);
  return {
    statusCode: 200,
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      route: event.httpMethod + ' ' + event.resource,
      id: event.pathParameters ? event.pathParameters.id : null,
      tid: caller.tid,
      scopes: caller.scopes,
      roles: caller.roles,
      appOnly: caller.appOnly,
    }),
  };
};
`;

let work: string;
let app: string;
let server: ChildProcess | undefined;
let base: string;
let port: number;
let banner = '';

/** A user's shell in the app folder, with npm's and npx's own lookups only. */
const env = () => ({ ...userEnv(), CDK_DISABLE_CLI_TELEMETRY: 'true' });
const npx = (args: readonly string[]) => run('npx', ['--no-install', ...args], { cwd: app, env: env() });

function createApp(packed: PackResult): void {
  app = join(work, 'orders');
  mkdirSync(app);
  const tools = ['aws-cdk-lib', 'constructs', 'aws-cdk', 'esbuild'];
  writeConsumerManifest(app, { name: 'orders-app', type: 'commonjs', packed, tools });
  writeFileSync(join(app, 'cdk.json'), JSON.stringify({ app: 'node app.js', versionReporting: false }));
  writeFileSync(join(app, 'app.js'), APP);
  writeFileSync(join(app, 'backend.js'), BACKEND);
}

/** `npx entra-authorizer start --port 0` in the background; resolves with its banner once it listens. */
function startServer(): Promise<string> {
  server = spawn('npx', ['--no-install', 'entra-authorizer', 'start', '--port', '0'], {
    cwd: app,
    env: { ...env(), XDG_CACHE_HOME: join(work, 'cache') },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  return new Promise((done, fail) => {
    server?.stdout?.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      if (out.includes('Ctrl-C stops it')) done(out);
    });
    server?.stderr?.on('data', (chunk: Buffer) => {
      err += chunk.toString();
    });
    server?.once('exit', (code) => fail(new Error(`start exited ${code}:\n${out}\n${err}`)));
  });
}

/** `npx entra-authorizer token ...`: the JWT on its last line. */
async function token(...args: string[]): Promise<string> {
  const { stdout } = await npx(['entra-authorizer', 'token', '--port', String(port), ...args]);
  return stdout.trim().split('\n').at(-1) as string;
}

const call = (path: string, jwt?: string, method = 'GET') =>
  fetch(`${base}${path}`, { method, headers: jwt === undefined ? {} : { Authorization: `Bearer ${jwt}` } });

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'entra-local-cli-'));
  createApp(await packFromCopy(work));
  await run('npm', ['ci', '--prefer-offline', '--no-audit', '--no-fund'], { cwd: app, env: env() });
  await npx(['cdk', 'synth', '--quiet', '--no-notices']);
  banner = await startServer();
  base = /entra-authorizer local API on (http:\/\/127\.0\.0\.1:(\d+))/.exec(banner)?.[1] as string;
  port = Number(new URL(base).port);
}, 300_000);

afterAll(async () => {
  server?.kill('SIGTERM');
  if (work !== undefined) await rm(work, { recursive: true, force: true });
}, 120_000);

describe('npx entra-authorizer start, in a CDK app of its own after cdk synth', () => {
  it('serves the stack and its API, and lists its methods', () => {
    expect(banner).toMatch(
      /entra-authorizer local API on http:\/\/127\.0\.0\.1:\d+: OrdersStack, REST API OrdersApi\w+/,
    );
    for (const line of ['GET    ', 'POST   '])
      expect(banner).toContain(`${line}${base}/orders   (authorizer `);
    expect(banner).toContain(`GET    ${base}/orders/{id}   (authorizer `);
    expect(banner).not.toContain('not as in AWS');
  });

  it("answers a token of the authorizer's own tenant and audience 200, the backend reading the caller", async () => {
    // No flags: the tenant, the audience and the scopes the template's authorizer declares.
    const res = await call('/orders', await token());
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({
      route: 'GET /orders',
      id: null,
      tid: TENANT,
      scopes: ['Orders.Read'],
      roles: [],
      appOnly: false,
    });
  });

  it('passes the path parameter to the backend', async () => {
    const res = await call('/orders/42', await token('--scopes', 'Orders.Read'));
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ route: 'GET /orders/{id}', id: '42', scopes: ['Orders.Read'] });
  });

  it('answers a route that needs a role: 403 to a token without it, 200 to an app-only token with it', async () => {
    const denied = await call('/orders', await token('--scopes', 'Orders.Read'), 'POST');
    expect(denied.status).toBe(403);
    const allowed = await call('/orders', await token('--app-only', '--roles', 'Orders.Write'), 'POST');
    expect(allowed.status).toBe(200);
    expect(await allowed.json()).toMatchObject({
      route: 'POST /orders',
      roles: ['Orders.Write'],
      appOnly: true,
    });
  });

  it('answers 401 without a token, and for a token of another tenant or audience', async () => {
    expect((await call('/orders')).status).toBe(401);
    const otherTenant = await token('--tenant', '11111111-2222-4333-8444-555555555555');
    expect((await call('/orders', otherTenant)).status).toBe(401);
    expect((await call('/orders', await token('--audience', 'api://someone-else'))).status).toBe(401);
  });

  it('answers a path the API does not declare 403 Missing Authentication Token', async () => {
    const res = await call('/customers', await token());
    expect(res.status).toBe(403);
    expect(await res.json()).toEqual({ message: 'Missing Authentication Token' });
  });

  it("explains a token with the served authorizer's configuration", async () => {
    const jwt = await token('--scopes', 'Orders.Read');
    const allowed = await npx([
      'entra-authorizer',
      'explain',
      '--port',
      String(port),
      '--route',
      'GET /orders',
      jwt,
    ]);
    expect(allowed.stdout).toMatch(/Decision\n {2}Allow \(200\)/);
    await expect(
      npx(['entra-authorizer', 'explain', '--port', String(port), '--route', 'POST /orders', jwt]),
    ).rejects.toThrow(/Deny \(403\)/);
  });
});
