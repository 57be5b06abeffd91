import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { run, userEnv } from './consumer-app.js';
import { packFromCopy, writeConsumerManifest } from './consumer-manifest.js';

/**
 * A user's WebSocket API, locally, from the packed tarball: a fresh ES module CDK app declares an HTTP API
 * (EntraHttpAuthorizer) and a WebSocket API whose `$connect` an EntraWebSocketAuthorizer guards with the
 * token in `Sec-WebSocket-Protocol`, with `$connect`, `$disconnect`, `$default` and a named route; after
 * `cdk synth`, `npx entra-authorizer start` serves both, and a real WebSocket client talks to it.
 */

const TENANT = '3d3b8c1e-6a5f-4b8e-9c2d-1f0e2d3c4b5a';
const CLIENT = '8a7b6c5d-4e3f-4a1b-9c8d-7e6f5a4b3c2d';

const APP = `import { App, Stack } from 'aws-cdk-lib';
import { HttpApi, WebSocketApi, WebSocketStage } from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpLambdaIntegration, WebSocketLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import { Runtime } from 'aws-cdk-lib/aws-lambda';
import { NodejsFunction } from 'aws-cdk-lib/aws-lambda-nodejs';
import { EntraHttpAuthorizer, EntraWebSocketAuthorizer } from 'entra-authorizer';

const app = new App();
const stack = new Stack(app, 'ChatStack');
const entra = { tenantId: '${TENANT}', clientId: '${CLIENT}' };
const chat = new NodejsFunction(stack, 'Chat', { entry: 'chat.mjs', runtime: Runtime.NODEJS_22_X });
const http = new HttpApi(stack, 'Http', {
  defaultAuthorizer: new EntraHttpAuthorizer(stack, 'HttpEntra', { ...entra, requiredScopes: ['Chat.Send'] }),
});
http.addRoutes({ path: '/me', integration: new HttpLambdaIntegration('Me', chat) });
const guard = new EntraWebSocketAuthorizer(stack, 'WsEntra', { ...entra, requiredScopes: ['Chat.Send'], tokenSource: 'protocol' });
const ws = new WebSocketApi(stack, 'Ws', {
  connectRouteOptions: { integration: new WebSocketLambdaIntegration('OnConnect', chat), authorizer: guard },
  disconnectRouteOptions: { integration: new WebSocketLambdaIntegration('OnDisconnect', chat) },
  defaultRouteOptions: { integration: new WebSocketLambdaIntegration('OnDefault', chat), returnResponse: true },
});
ws.addRoute('shout', { integration: new WebSocketLambdaIntegration('OnShout', chat) });
new WebSocketStage(stack, 'Live', { webSocketApi: ws, stageName: 'live', autoDeploy: true });
`;

/** One backend for every route: it reads the caller with entra-authorizer/identity and replies. */
const CHAT = `import { readIdentity } from 'entra-authorizer/identity';
export const handler = async (event) => {
  const { routeKey, connectionId, domainName, stage } = event.requestContext;
  if (routeKey === '$connect') return { statusCode: 200, headers: { 'Sec-WebSocket-Protocol': 'access_token' } };
  if (routeKey === '$disconnect') {
    console.log('disconnected ' + connectionId);
    return { statusCode: 200 };
  }
  const caller = readIdentity(event.requestContext.authorizer);
  if (routeKey === 'shout') {
    const text = JSON.parse(event.body).text.toUpperCase();
    const url = 'http://' + domainName + '/' + stage + '/@connections/' + encodeURIComponent(connectionId);
    const posted = await fetch(url, { method: 'POST', body: text });
    if (posted.status !== 200) throw new Error('@connections answered ' + posted.status);
    return { statusCode: 200 };
  }
  return { statusCode: 200, body: JSON.stringify({ route: routeKey ?? event.routeKey, tid: caller.tid, scopes: caller.scopes, body: event.body ?? null }) };
};
`;

let work: string;
let app: string;
let server: ChildProcess | undefined;
let output = '';
let wsUrl: string;
let port: number;

const env = () => ({ ...userEnv(), CDK_DISABLE_CLI_TELEMETRY: 'true' });
const npx = (args: readonly string[]) => run('npx', ['--no-install', ...args], { cwd: app, env: env() });

/** `npx entra-authorizer token ...`: the JWT on its last line. */
async function token(...args: string[]): Promise<string> {
  const { stdout } = await npx(['entra-authorizer', 'token', '--port', String(port), ...args]);
  return stdout.trim().split('\n').at(-1) as string;
}

/** Opens a client with the token as its subprotocol; resolves with it, or with the refusal's status. */
function connect(protocols: string[]): Promise<{ socket?: WebSocket; status?: number }> {
  return new Promise((done) => {
    const socket = new WebSocket(wsUrl, protocols);
    socket.once('open', () => done({ socket }));
    socket.once('unexpected-response', (_req, res) => done({ status: res.statusCode }));
    socket.once('error', () => done({}));
  });
}

const nextMessage = (socket: WebSocket) =>
  new Promise<string>((done) => socket.once('message', (data: Buffer) => done(data.toString())));

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'entra-local-ws-'));
  const packed = await packFromCopy(work);
  app = join(work, 'chat');
  mkdirSync(app);
  const tools = ['aws-cdk-lib', 'constructs', 'aws-cdk', 'esbuild'];
  writeConsumerManifest(app, { name: 'chat-app', type: 'module', packed, tools });
  writeFileSync(join(app, 'cdk.json'), JSON.stringify({ app: 'node app.js', versionReporting: false }));
  writeFileSync(join(app, 'app.js'), APP);
  writeFileSync(join(app, 'chat.mjs'), CHAT);
  await run('npm', ['ci', '--prefer-offline', '--no-audit', '--no-fund'], { cwd: app, env: env() });
  await npx(['cdk', 'synth', '--quiet', '--no-notices']);
  const started = spawn('npx', ['--no-install', 'entra-authorizer', 'start', '--port', '0'], {
    cwd: app,
    env: { ...env(), XDG_CACHE_HOME: join(work, 'cache') },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  server = started;
  await new Promise<void>((done, fail) => {
    started.stdout?.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      if (output.includes('Ctrl-C stops it')) done();
    });
    started.stderr?.on('data', (chunk: Buffer) => {
      output += chunk.toString();
    });
    started.once('exit', (code) => fail(new Error(`start exited ${code}:\n${output}`)));
  });
  wsUrl = /^ {2}WS {5}(ws:\/\/127\.0\.0\.1:\d+\/live) /m.exec(output)?.[1] as string;
  port = Number(new URL(wsUrl).port);
}, 300_000);

afterAll(async () => {
  server?.kill('SIGTERM');
  if (work !== undefined) await rm(work, { recursive: true, force: true });
}, 120_000);

describe('npx entra-authorizer start with a WebSocket API, from the packed tarball', () => {
  it('prints the WebSocket URL, its guard, its routes, @connections, and a wscat line with the token as subprotocol', () => {
    const http = wsUrl.replace('ws://', 'http://').replace(/\/live$/, '');
    expect(output).toMatch(
      /^ {2}WS {5}ws:\/\/127\.0\.0\.1:\d+\/live {3}\(\$connect: authorizer WsWsEntra\w+, token in route\.request\.header\.Sec-WebSocket-Protocol\)$/m,
    );
    expect(output).toContain(
      '         $connect, $disconnect; messages by $request.body.action to $default, shout',
    );
    expect(output).toContain(
      `         @connections: POST, GET, DELETE ${http}/live/@connections/{connectionId}`,
    );
    expect(output).toContain(
      `  npx wscat -s access_token -s "$(PORT=${port} npx entra-authorizer token --scopes Chat.Send | tail -n 1)" -c ${wsUrl}`,
    );
    expect(output).not.toContain('not as in AWS');
  });

  it('refuses the handshake 401 without the subprotocol token, 403 without the scope', async () => {
    expect(await connect([])).toEqual({ status: 401 });
    expect(await connect(['access_token', await token('--scopes', 'Other.Scope')])).toEqual({ status: 403 });
  });

  it('connects with the scope, routes messages, lets the backend reply through @connections, and calls $disconnect', async () => {
    const { socket } = await connect(['access_token', await token('--scopes', 'Chat.Send')]);
    expect(socket?.protocol).toBe('access_token');
    if (socket === undefined) return;
    const echoed = nextMessage(socket);
    socket.send('hello');
    expect(JSON.parse(await echoed)).toEqual({
      route: '$default',
      tid: TENANT,
      scopes: ['Chat.Send'],
      body: 'hello',
    });
    const shouted = nextMessage(socket);
    socket.send(JSON.stringify({ action: 'shout', text: 'hi there' }));
    expect(await shouted).toBe('HI THERE');
    socket.close();
    await expect.poll(() => output, { timeout: 10_000 }).toMatch(/disconnected \S+=/);
  });
});
