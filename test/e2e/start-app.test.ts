import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Stack } from 'aws-cdk-lib';
import { MockIntegration, PassthroughBehavior, RestApi } from 'aws-cdk-lib/aws-apigateway';
import { WebSocketApi, WebSocketStage } from 'aws-cdk-lib/aws-apigatewayv2';
import { WebSocketMockIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EntraTokenAuthorizer, EntraWebSocketAuthorizer } from '../../infra/index.js';
import { LOCAL_CLIENT_ID } from '../../infra/local/issuer.js';
import { testApp } from '../helpers/cdk.js';
import { finished } from '../helpers/run-script.js';

/**
 * `npm start -- --app <cdk.out>` in this repository: an app other than the sample, whose audience is not the
 * sample's. The lines its banner prints are run as printed, through npm and a shell, as a person pastes them.
 */

const ROOT = new URL('../../', import.meta.url).pathname;
const TENANT = '5b1e2c3d-4f5a-4b6c-8d7e-9f0a1b2c3d4e';
const CLIENT = '6c2f3d4e-5a6b-4c7d-9e8f-0a1b2c3d4e5f';
const work = mkdtempSync(join(tmpdir(), 'entra-start-app-'));
const assembly = join(work, 'cdk.out');

/** The environment of a fresh terminal: none of the AZURE_* or PORT settings of whoever runs the tests. */
function terminalEnv(extra: Record<string, string> = {}): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (v !== undefined && !k.startsWith('AZURE_') && k !== 'PORT') env[k] = v;
  }
  return { ...env, XDG_CACHE_HOME: join(work, 'cache'), ...extra };
}

const sh = (line: string) =>
  finished(spawn('sh', ['-c', line], { cwd: ROOT, env: terminalEnv(), stdio: ['ignore', 'pipe', 'pipe'] }));

/** A user's app: a REST API whose one method answers from a MockIntegration, guarded for its own audience. */
function synthesizeApp(): void {
  const app = testApp({ bundle: true, outdir: assembly });
  const stack = new Stack(app, 'Orders');
  const entra = new EntraTokenAuthorizer(stack, 'Entra', {
    tenantId: TENANT,
    clientId: CLIENT,
    requiredScopes: ['Orders.Read'],
  });
  const api = new RestApi(stack, 'Api', { defaultMethodOptions: { authorizer: entra.authorizer } });
  entra.addGatewayResponses(api);
  api.root.addResource('orders').addMethod(
    'GET',
    new MockIntegration({
      passthroughBehavior: PassthroughBehavior.NEVER,
      requestTemplates: { 'application/json': '{"statusCode": 200}' },
      integrationResponses: [
        { statusCode: '200', responseTemplates: { 'application/json': '{"orders": 1}' } },
      ],
    }),
    { methodResponses: [{ statusCode: '200' }] },
  );
  app.synth();
}

/** A user's app whose only guarded API is a WebSocket API: `$connect` needs a scope, the token in the query. */
function synthesizeWebSocketApp(outdir: string): void {
  const app = testApp({ bundle: true, outdir });
  const stack = new Stack(app, 'Live');
  const guard = new EntraWebSocketAuthorizer(stack, 'Entra', {
    tenantId: TENANT,
    clientId: CLIENT,
    requiredScopes: ['Live.Read'],
  });
  const api = new WebSocketApi(stack, 'Updates', {
    connectRouteOptions: { integration: new WebSocketMockIntegration('OnConnect'), authorizer: guard },
  });
  new WebSocketStage(stack, 'Stage', { webSocketApi: api, stageName: 'v1', autoDeploy: true });
  app.synth();
}

/** `npm start -- --app <assembly>` on port 0, once its banner is out: the process and what it printed. */
async function startOn(assemblyDir: string): Promise<{ start: ChildProcess; out: () => string }> {
  let out = '';
  const start = spawn('npm', ['start', '--', '--app', assemblyDir], {
    cwd: ROOT,
    env: terminalEnv({ PORT: '0' }),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  start.stdout?.on('data', (c) => {
    out += c;
  });
  start.stderr?.on('data', (c) => {
    out += c;
  });
  const deadline = Date.now() + 90_000;
  while (!out.includes('Ctrl-C stops it') && start.exitCode === null && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 100));
  }
  expect(out).toContain('Ctrl-C stops it');
  return { start, out: () => out };
}

describe('npm start -- --app <an app whose audience is not the sample>', () => {
  let start: ChildProcess;
  let out = '';

  beforeAll(async () => {
    synthesizeApp();
    const served = await startOn(assembly);
    start = served.start;
    out = served.out();
  }, 240_000);
  afterAll(() => {
    if (start !== undefined && start.exitCode === null) start.kill('SIGTERM');
    rmSync(work, { recursive: true, force: true });
  });

  it('prints a token command that mints a token the served app accepts: its curl line answers 200', async () => {
    const curl = out.split('\n').find((l) => l.startsWith('  curl '));
    expect(curl, out).toBeDefined();
    const run = await sh(curl as string);
    expect(run.stdout.split('\r\n')[0], `${curl}\n${run.stderr}`).toMatch(/^HTTP\/1\.1 200 /);
    expect(run.stdout).toContain('{"orders": 1}');
    // The token is the app's, not the sample's.
    const jwt = /Bearer \$\((.*) \| tail -n 1\)/.exec(curl as string)?.[1] as string;
    const minted = await sh(`${jwt} | tail -n 1`);
    const claims = JSON.parse(
      Buffer.from(minted.stdout.trim().split('.')[1] as string, 'base64url').toString(),
    );
    expect(claims).toMatchObject({ aud: CLIENT, tid: TENANT, scp: 'Orders.Read' });
    expect(claims.aud).not.toBe(LOCAL_CLIENT_ID);
  });

  it('prints an explain line that judges that token Allow', async () => {
    const line = out.split('\n').find((l) => l.includes('# why a token'));
    expect(line, out).toBeDefined();
    const run = await sh((line as string).replace(/ +#.*$/, ''));
    expect(run.stdout, run.stderr).toMatch(/Decision\n {2}Allow \(200\)/);
    expect(run.code).toBe(0);
  });
});

describe('npm start -- --app <an app whose only guarded API is a WebSocket API>', () => {
  const wsWork = mkdtempSync(join(tmpdir(), 'entra-start-ws-app-'));
  const wsAssembly = join(wsWork, 'cdk.out');
  let served: { start: ChildProcess; out: () => string } | undefined;

  beforeAll(async () => {
    synthesizeWebSocketApp(wsAssembly);
    served = await startOn(wsAssembly);
  }, 240_000);
  afterAll(() => {
    if (served !== undefined && served.start.exitCode === null) served.start.kill('SIGTERM');
    rmSync(wsWork, { recursive: true, force: true });
  });

  it('prints an explain line that judges $connect, the token in the query, with no authorizer cache', async () => {
    const out = served?.out() ?? '';
    const line = out.split('\n').find((l) => l.includes('# why a token'));
    expect(line, out).toBeDefined();
    const run = await sh((line as string).replace(/ +#.*$/, ''));
    expect(run.stdout, run.stderr).toMatch(/Decision\n {2}Allow \(200\), reason allowed: \$connect\n/);
    expect(run.stdout).toContain(
      'the token is valid and may call $connect (token in the access_token query parameter); API Gateway caches no WebSocket authorizer answer',
    );
    expect(run.stdout).not.toMatch(/GET \/|cached policy/);
    expect(run.code).toBe(0);
  });
});
