import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Stack } from 'aws-cdk-lib';
import { WebSocketApi, WebSocketStage } from 'aws-cdk-lib/aws-apigatewayv2';
import { WebSocketLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import { Code, Function as LambdaFunction, Runtime } from 'aws-cdk-lib/aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { EntraWebSocketAuthorizer } from '../../infra/construct/entra-websocket-authorizer.js';
import { type AssemblyServer, startAssemblyServer } from '../../infra/local/assembly-server.js';
import { LOCAL_CLIENT_ID, LOCAL_TENANT_ID } from '../../infra/local/issuer.js';
import { testApp } from '../helpers/cdk.js';
import { localToken } from '../helpers/local-token.js';

// In the process lane: the synth bundles the authorizer with esbuild, a process of its own.
describe('entra-authorizer start on a cloud assembly whose only guarded API is a WebSocket API', () => {
  let served: AssemblyServer;
  let work: string;
  beforeAll(async () => {
    // cdk synth as a user runs it: the authorizer bundled, the backend staged from its folder.
    work = mkdtempSync(join(tmpdir(), 'entra-ws-assembly-'));
    const code = join(work, 'backend');
    mkdirSync(code);
    writeFileSync(
      join(code, 'index.js'),
      `exports.handler = async (event) => event.requestContext.routeKey === '$connect'
  ? { statusCode: 200, headers: { 'Sec-WebSocket-Protocol': 'access_token' } }
  : { statusCode: 200, body: JSON.stringify({ oid: event.requestContext.authorizer.oid, body: event.body }) };`,
    );
    const app = testApp({ bundle: true, outdir: join(work, 'cdk.out') });
    const stack = new Stack(app, 'LiveStack');
    const backend = new LambdaFunction(stack, 'Live', {
      runtime: Runtime.NODEJS_22_X,
      handler: 'index.handler',
      code: Code.fromAsset(code),
    });
    const guard = new EntraWebSocketAuthorizer(stack, 'Entra', {
      tenantId: LOCAL_TENANT_ID,
      clientId: LOCAL_CLIENT_ID,
      requiredScopes: ['Live.Read'],
      tokenSource: 'protocol',
    });
    const api = new WebSocketApi(stack, 'Updates', {
      connectRouteOptions: {
        integration: new WebSocketLambdaIntegration('OnConnect', backend),
        authorizer: guard,
      },
      defaultRouteOptions: {
        integration: new WebSocketLambdaIntegration('OnMessage', backend),
        returnResponse: true,
      },
    });
    new WebSocketStage(stack, 'Stage', { webSocketApi: api, stageName: 'v1', autoDeploy: true });
    app.synth();
    served = await startAssemblyServer({
      assemblyDir: join(work, 'cdk.out'),
      port: 0,
      dataDir: join(work, 'key'),
    });
  }, 180_000);
  afterAll(async () => {
    await served?.stop();
    rmSync(work, { recursive: true, force: true });
  });

  it('serves it on its own: 401 and 403 handshakes, a connection with the scope, its messages, and 404 for plain HTTP', async () => {
    expect([served.kind, served.notes, served.webSocketApis.map((a) => a.stageName)]).toEqual([
      'websocket',
      [],
      ['v1'],
    ]);
    const url = `${served.url.replace('http', 'ws')}/v1`;
    const connect = (protocols: string[]) =>
      new Promise<{ socket?: WebSocket; status?: number }>((done) => {
        const socket = new WebSocket(url, protocols);
        socket.once('open', () => done({ socket }));
        socket.once('unexpected-response', (_req, res) => done({ status: res.statusCode }));
        socket.once('error', () => done({}));
      });
    const scoped = await localToken(served.tokenEndpoint, { scope: `api://${LOCAL_CLIENT_ID}/Live.Read` });
    const other = await localToken(served.tokenEndpoint, { scope: `api://${LOCAL_CLIENT_ID}/Other` });
    expect(await connect([])).toEqual({ status: 401 });
    expect(await connect(['access_token', other])).toEqual({ status: 403 });
    const { socket } = await connect(['access_token', scoped]);
    expect(socket?.protocol).toBe('access_token');
    const reply = new Promise<string>((done) => socket?.once('message', (d: Buffer) => done(d.toString())));
    socket?.send('ping');
    expect(JSON.parse(await reply)).toEqual({ oid: expect.any(String), body: 'ping' });
    socket?.close();
    expect((await fetch(`${served.url}/v1`)).status).toBe(404);
  });
});
