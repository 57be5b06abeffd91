import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Duration, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { WebSocketApi, WebSocketStage } from 'aws-cdk-lib/aws-apigatewayv2';
import { WebSocketLambdaAuthorizer } from 'aws-cdk-lib/aws-apigatewayv2-authorizers';
import { WebSocketLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import { Code, Function as LambdaFunction, Runtime } from 'aws-cdk-lib/aws-lambda';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import type { CfnTemplate } from '../../infra/local/api-template.js';
import type { LambdaHandler } from '../../infra/local/gateway.js';
import { LOCAL_CLIENT_ID, LOCAL_TENANT_ID } from '../../infra/local/issuer.js';
import { type LocalServer, startLocalServer } from '../../infra/local/server.js';
import {
  parseRouteSelection,
  readServedWebSocketApis,
  readWebSocketApiModel,
  type WebSocketApiModel,
  webSocketApiIds,
} from '../../infra/local/websocket-api-template.js';
import {
  attachWebSocketApis,
  selectionValue,
  selectWebSocketRoute,
} from '../../infra/local/websocket-gateway.js';
import { webSocketStartLines } from '../../infra/local/websocket-start-lines.js';
import { SAMPLE_HTTP_STACK_NAME, SampleHttpApiStack } from '../../infra/sample/sample-http-api-stack.js';
import { testApp } from '../helpers/cdk.js';
import { localToken } from '../helpers/local-token.js';

/**
 * WebSocket APIs served locally from their synthesized template, driven by a real WebSocket client (ws):
 * the `$connect` handshake refused with the authorizer's status or accepted with the subprotocol its
 * integration answers, messages routed by the route selection expression, `$disconnect`, and `@connections`
 * for the backends. What each case expects is read from the template (identity sources, route keys, route
 * responses) and from API Gateway's documented WebSocket behaviour, not from the local reader.
 */

const CODE = Code.fromInline('exports.handler = async () => ({ statusCode: 200 });');

/** A user's WebSocket API as CDK writes it: every kind of route, a REQUEST authorizer on a header. */
function synthesizeChatApi(): CfnTemplate {
  const stack = new Stack(testApp(), 'ChatStack');
  const fn = (id: string) =>
    new LambdaFunction(stack, id, {
      runtime: Runtime.NODEJS_22_X,
      handler: 'index.handler',
      code: CODE,
      // Room for a first fetch in a loaded test worker (notify calls @connections).
      timeout: Duration.seconds(20),
    });
  const authorizer = new WebSocketLambdaAuthorizer('Guard', fn('GuardFn'), {
    identitySource: ['route.request.header.X-Token'],
  });
  const integration = (id: string, f = fn(`${id}Fn`)) => new WebSocketLambdaIntegration(id, f);
  const api = new WebSocketApi(stack, 'Chat', {
    connectRouteOptions: { integration: integration('OnConnect'), authorizer },
    disconnectRouteOptions: { integration: integration('OnDisconnect') },
    defaultRouteOptions: { integration: integration('OnDefault'), returnResponse: true },
  });
  api.addRoute('echo', { integration: integration('OnEcho'), returnResponse: true });
  api.addRoute('notify', { integration: integration('OnNotify') });
  api.addRoute('fail', { integration: integration('OnFail') });
  new WebSocketStage(stack, 'Dev', { webSocketApi: api, stageName: 'dev', autoDeploy: true });
  return Template.fromStack(stack).toJSON() as CfnTemplate;
}

const chatTemplate = synthesizeChatApi();
const resources = (type: string) =>
  Object.entries(chatTemplate.Resources).filter(([, r]) => r.Type === type) as [
    string,
    { Properties: Record<string, unknown> },
  ][];
/** The logical id of the function a route's integration invokes, as the template says. */
function functionOfRoute(routeKey: string): string {
  const [, route] = resources('AWS::ApiGatewayV2::Route').find(
    ([, r]) => r.Properties.RouteKey === routeKey,
  ) as [string, { Properties: Record<string, unknown> }];
  const integrationId = JSON.stringify(route.Properties.Target).match(/"Ref":"([^"]+)"/)?.[1];
  const integration = chatTemplate.Resources[integrationId as string];
  return JSON.stringify(integration?.Properties?.IntegrationUri).match(
    /"Fn::GetAtt":\["([^"]+)"/,
  )?.[1] as string;
}
const guardFunction = () =>
  JSON.stringify(resources('AWS::ApiGatewayV2::Authorizer')[0]?.[1].Properties.AuthorizerUri).match(
    /"Fn::GetAtt":\["([^"]+)"/,
  )?.[1] as string;

describe('the WebSocket API reader', () => {
  it('reads the stage, the route selection expression, every route, which routes answer, and the authorizer of $connect', () => {
    const [apiId] = webSocketApiIds(chatTemplate);
    const api = readWebSocketApiModel(chatTemplate, apiId as string);
    const stage = resources('AWS::ApiGatewayV2::Stage')[0]?.[1].Properties;
    expect(api.stageName).toBe(stage?.StageName);
    const [, apiResource] = resources('AWS::ApiGatewayV2::Api')[0] as [
      string,
      { Properties: Record<string, unknown> },
    ];
    expect(api.routeSelectionExpression).toBe(apiResource.Properties.RouteSelectionExpression);
    const templateKeys = resources('AWS::ApiGatewayV2::Route').map(([, r]) => r.Properties.RouteKey);
    expect(api.routes.map((r) => r.routeKey).sort()).toEqual([...templateKeys].sort());
    // Oracle: a route answers the client exactly when a RouteResponse names it.
    const answered = resources('AWS::ApiGatewayV2::RouteResponse').map(([, r]) =>
      JSON.stringify(r.Properties.RouteId),
    );
    for (const route of api.routes)
      expect(route.returnsResponse).toBe(answered.includes(JSON.stringify({ Ref: route.logicalId })));
    const connect = api.routes.find((r) => r.routeKey === '$connect');
    expect(connect?.authorizer?.identitySources).toEqual([{ from: 'header', name: 'X-Token' }]);
    expect(connect?.authorizer?.functionId).toBe(guardFunction());
    expect(api.unsupported).toEqual([]);
  });

  it('names a route it cannot emulate, and an API whose selection expression it cannot evaluate is not served', () => {
    const template = structuredClone(chatTemplate) as CfnTemplate;
    const [id] = resources('AWS::ApiGatewayV2::Integration').find(([, r]) =>
      JSON.stringify(r.Properties.IntegrationUri).includes(functionOfRoute('notify')),
    ) as [string, unknown];
    (template.Resources[id]?.Properties as Record<string, unknown>).IntegrationType = 'MOCK';
    const served = readServedWebSocketApis(template);
    expect(served.notes).toEqual([
      'WebSocket /dev notify: IntegrationType MOCK is not emulated locally (only AWS_PROXY to Lambda): refused',
    ]);
    const [apiId] = webSocketApiIds(template);
    (template.Resources[apiId as string]?.Properties as Record<string, unknown>).RouteSelectionExpression =
      '$request.header.x';
    const unserved = readServedWebSocketApis(template);
    expect(unserved.apis).toEqual([]);
    expect(unserved.notes).toEqual([
      expect.stringMatching(
        /^the WebSocket API \S+ is not served: \S+: RouteSelectionExpression "\$request\.header\.x" is not emulated locally [^\n]+$/,
      ),
    ]);
  });
});

describe('route selection', () => {
  const api = readWebSocketApiModel(chatTemplate, webSocketApiIds(chatTemplate)[0] as string);
  const keys = ['echo', 'notify', 'fail'];

  it('takes the route whose key the expression evaluates to, else $default, never $connect or $disconnect', () => {
    // Oracle: "The service uses the route whose routeKey exactly matches the evaluated value. If none match
    // and a route with the $default route key is defined, the service selects the $default route" and "API
    // Gateway calls the $default route if the route selection expression cannot be evaluated" (API Gateway
    // developer guide, route selection expressions); $connect and $disconnect are called by the connection.
    fc.assert(
      fc.property(
        fc.oneof(
          fc.constantFrom(...keys, '$connect', '$disconnect', '$default'),
          fc.string(),
          fc.integer().map(String),
        ),
        fc.oneof(fc.constant('json'), fc.constant('nested'), fc.constant('text')),
        (action, shape) => {
          const text =
            shape === 'json'
              ? JSON.stringify({ action, other: 1 })
              : shape === 'nested'
                ? JSON.stringify({ data: { action } })
                : `action=${action}`;
          const expected = shape === 'json' && keys.includes(action) ? action : '$default';
          expect(selectWebSocketRoute(api, text)?.routeKey).toBe(expected);
        },
      ),
    );
  });

  it('evaluates a template of request.body paths with its literal text, and misses when a part is absent', () => {
    const selection = parseRouteSelection(`\${request.body.service}/\${request.body.call.name}`);
    expect(selection).toBeDefined();
    if (selection === undefined) return;
    expect(selectionValue(selection, '{"service":"chat","call":{"name":"send"}}')).toBe('chat/send');
    expect(selectionValue(selection, '{"service":"chat"}')).toBeUndefined();
    expect(parseRouteSelection('$request.body.action')).toEqual({ kind: 'path', path: ['action'] });
    expect(parseRouteSelection('$request.header.action')).toBeUndefined();
    expect(parseRouteSelection('action')).toBeUndefined();
  });
});

/** An event a backend or the authorizer received, with the fields the tests read. */
interface SeenEvent {
  readonly type?: string;
  readonly methodArn?: string;
  readonly queryStringParameters?: Record<string, string>;
  readonly isBase64Encoded?: boolean;
  readonly requestContext: Record<string, unknown> & { readonly connectionId: string };
}

/** What the notify backend's @connections calls answered: POST's status and GET's description. */
const connectionDescriptions: { posted: number; described: unknown }[] = [];

/** What the in-process backends saw, by route key. */
const seen: Record<string, SeenEvent[]> = {};
const record = (key: string, event: SeenEvent) => {
  seen[key] = [...(seen[key] ?? []), event];
};
/** The last event a route (or `authorizer`) received; a test fails when there is none. */
function lastSeen(key: string): SeenEvent {
  const event = seen[key]?.at(-1);
  if (event === undefined) throw new Error(`no ${key} event`);
  return event;
}

/**
 * The chat API's functions: the authorizer allows `X-Token: good` (context `oid`), denies `deny`, fails
 * for `boom` and is Unauthorized otherwise; $connect refuses `?refuse=418` with that status and answers the
 * `chat` subprotocol; echo answers the message, notify replies through @connections, fail throws.
 */
function chatFunctions(): Map<string, LambdaHandler> {
  const allow = (methodArn: string) => ({
    principalId: 'user-1',
    policyDocument: {
      Version: '2012-10-17',
      Statement: [{ Effect: 'Allow', Action: 'execute-api:Invoke', Resource: methodArn }],
    },
    context: { oid: 'oid-1' },
  });
  const token = (e: { headers: Record<string, string> }) => e.headers['X-Token'] ?? e.headers['x-token'];
  return new Map<string, LambdaHandler>([
    [
      guardFunction(),
      async (e) => {
        record('authorizer', e);
        if (token(e) === 'boom') throw new Error('boom');
        if (token(e) === 'list') return { ...allow(e.methodArn), context: { roles: ['a'] } };
        if (token(e) === 'deny')
          return {
            ...allow(e.methodArn),
            policyDocument: {
              Version: '2012-10-17',
              Statement: [{ Effect: 'Deny', Action: 'execute-api:Invoke', Resource: e.methodArn }],
            },
          };
        if (token(e) !== 'good') throw new Error('Unauthorized');
        return allow(e.methodArn);
      },
    ],
    [
      functionOfRoute('$connect'),
      async (e) => {
        record('$connect', e);
        const refuse = e.queryStringParameters?.refuse;
        if (refuse !== undefined) return { statusCode: Number(refuse), body: 'no' };
        return { statusCode: 200, headers: { 'Sec-WebSocket-Protocol': 'chat' } };
      },
    ],
    [functionOfRoute('$disconnect'), async (e) => void record('$disconnect', e)],
    [
      functionOfRoute('$default'),
      async (e) => {
        record('$default', e);
        return { statusCode: 200, body: `default: ${e.body}` };
      },
    ],
    [
      functionOfRoute('echo'),
      async (e) => {
        record('echo', e);
        return { statusCode: 200, body: e.body };
      },
    ],
    [
      functionOfRoute('notify'),
      async (e) => {
        record('notify', e);
        const { domainName, stage, connectionId } = e.requestContext;
        const endpoint = `http://${domainName}/${stage}/@connections/${encodeURIComponent(connectionId)}`;
        // As the ApiGatewayManagementApi client calls it: a signed POST whose body is the data.
        const posted = await fetch(endpoint, {
          method: 'POST',
          body: 'pushed',
          headers: { authorization: 'AWS4-HMAC-SHA256 x' },
        });
        const described = await fetch(endpoint);
        connectionDescriptions.push({ posted: posted.status, described: await described.json() });
        return { statusCode: 200 };
      },
    ],
    [
      functionOfRoute('fail'),
      async () => {
        throw new Error('backend failure');
      },
    ],
  ]);
}

const logged: string[] = [];

/** A local server of WebSocket APIs only, as startApiServer attaches them; its host:port and its stop. */
async function serveApis(apis: readonly WebSocketApiModel[], functions: ReadonlyMap<string, LambdaHandler>) {
  const server: Server = createServer();
  const sockets = attachWebSocketApis(server, (line) => logged.push(line));
  server.on('request', (req, res) => {
    void sockets.connections(req, res).then((done) => {
      if (!done) res.writeHead(404).end();
    });
  });
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  sockets.serve(apis, functions);
  return {
    host: `127.0.0.1:${(server.address() as AddressInfo).port}`,
    stop: () => {
      sockets.close();
      server.close();
    },
  };
}

const chat = readWebSocketApiModel(chatTemplate, webSocketApiIds(chatTemplate)[0] as string);
let base: string;
beforeAll(async () => {
  const served = await serveApis([chat], chatFunctions());
  base = served.host;
  return served.stop;
});

/** Opens a client; resolves with it once open, or with the HTTP status the handshake was refused with. */
function open(
  path: string,
  options: { headers?: Record<string, string>; protocols?: string[] } = {},
  host = base,
): Promise<{ socket?: WebSocket; status?: number; body?: string; error?: string }> {
  return new Promise((done) => {
    const socket = new WebSocket(`ws://${host}${path}`, options.protocols ?? [], {
      headers: options.headers,
    });
    socket.once('open', () => done({ socket }));
    socket.once('unexpected-response', (_req, res) => {
      let body = '';
      res.on('data', (chunk: Buffer) => {
        body += chunk.toString();
      });
      res.on('end', () => done({ status: res.statusCode, body }));
    });
    socket.once('error', (err) => done({ error: err.message }));
  });
}

/** The next `count` messages a client receives, as text. */
function nextMessages(socket: WebSocket, count = 1): Promise<string[]> {
  return new Promise((done) => {
    const got: string[] = [];
    const onMessage = (data: Buffer) => {
      got.push(data.toString());
      if (got.length === count) {
        socket.off('message', onMessage);
        done(got);
      }
    };
    socket.on('message', onMessage);
  });
}

const good = { headers: { 'X-Token': 'good' }, protocols: ['chat'] };

describe('the $connect handshake', () => {
  it('refuses without the identity source (401, no call), for Unauthorized (401), a Deny (403), a failing authorizer (500)', async () => {
    const before = (seen.authorizer ?? []).length;
    expect(await open('/dev')).toMatchObject({ status: 401, body: '{"message":"Unauthorized"}' });
    expect((seen.authorizer ?? []).length).toBe(before);
    expect(await open('/dev', { headers: { 'X-Token': 'bad' } })).toMatchObject({ status: 401 });
    expect(await open('/dev', { headers: { 'X-Token': 'deny' } })).toMatchObject({
      status: 403,
      body: '{"message":"Forbidden"}',
    });
    expect(await open('/dev', { headers: { 'X-Token': 'boom' } })).toMatchObject({ status: 500 });
    // A context value that is a JSON object or array is no authorizer output API Gateway takes.
    expect(await open('/dev', { headers: { 'X-Token': 'list' } })).toMatchObject({ status: 500 });
    expect(logged.some((l) => l.includes('$connect') && l.includes('Error: boom'))).toBe(true);
  });

  it('gives the authorizer a REQUEST event for the $connect ARN, and $connect its decision', async () => {
    const { socket } = await open('/dev?room=1', good);
    expect(socket?.protocol).toBe('chat');
    socket?.close();
    const event = lastSeen('authorizer');
    expect(event.type).toBe('REQUEST');
    expect(event.methodArn).toMatch(/^arn:aws:execute-api:[^:]+:\d{12}:[a-z0-9]+\/dev\/\$connect$/);
    expect(event.queryStringParameters).toEqual({ room: '1' });
    const connect = lastSeen('$connect');
    expect(connect.requestContext).toMatchObject({
      routeKey: '$connect',
      eventType: 'CONNECT',
      stage: 'dev',
      messageDirection: 'IN',
      authorizer: { principalId: 'user-1', oid: 'oid-1' },
    });
    expect(connect.requestContext.connectionId).toBe(event.requestContext.connectionId);
  });

  it("refuses with the $connect integration's own status, and at a path no stage is served at", async () => {
    expect(await open('/dev?refuse=418', good)).toMatchObject({ status: 418 });
    expect(await open('/prod', good)).toMatchObject({ status: 404 });
  });
});

describe('an open connection', () => {
  let socket: WebSocket;
  let connectionId: string;
  beforeAll(async () => {
    socket = (await open('/dev', good)).socket as WebSocket;
    connectionId = lastSeen('$connect').requestContext.connectionId;
  });

  it('sends each message to the route its action names, else $default; two-way routes answer', async () => {
    const replies = nextMessages(socket);
    socket.send(JSON.stringify({ action: 'echo', text: 'hi' }));
    expect(await replies).toEqual(['{"action":"echo","text":"hi"}']);
    const next = nextMessages(socket);
    socket.send('plain text');
    expect(await next).toEqual(['default: plain text']);
    const message = lastSeen('echo');
    expect(message.requestContext).toMatchObject({
      routeKey: 'echo',
      eventType: 'MESSAGE',
      authorizer: { principalId: 'user-1', oid: 'oid-1' },
    });
    expect(message.isBase64Encoded).toBe(false);
    const binary = nextMessages(socket);
    socket.send(Buffer.from([0, 1, 2, 255]));
    expect(await binary).toEqual([`default: ${Buffer.from([0, 1, 2, 255]).toString('base64')}`]);
    expect(lastSeen('$default').isBase64Encoded).toBe(true);
  });

  it('closes a connection whose message is over 128 KB with 1009', async () => {
    const { socket: other } = await open('/dev', good);
    const closed = new Promise<number>((done) => other?.once('close', (code) => done(code)));
    other?.send('x'.repeat(128 * 1024 + 1));
    expect(await closed).toBe(1009);
  });

  it('lets a backend reply through @connections (POST sends, GET describes), and a failing route answers Internal server error', async () => {
    const got = nextMessages(socket, 1);
    socket.send(JSON.stringify({ action: 'notify' }));
    expect(await got).toEqual(['pushed']);
    // Oracle: GetConnection's output (connectedAt and lastActiveAt timestamps, identity.sourceIp and
    // identity.userAgent), API Gateway Management API reference.
    await expect
      .poll(() => connectionDescriptions.at(-1))
      .toEqual({
        posted: 200,
        described: {
          connectedAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/),
          identity: { sourceIp: '127.0.0.1', userAgent: '' },
          lastActiveAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
        },
      });
    const failed = nextMessages(socket, 1);
    socket.send(JSON.stringify({ action: 'fail' }));
    const [text] = await failed;
    expect(JSON.parse(text as string)).toMatchObject({ message: 'Internal server error' });
    expect(logged.some((l) => l.includes(' fail: ') && l.includes('backend failure'))).toBe(true);
  });

  it('answers @connections for a gone connection 410 GoneException, and DELETE closes one, calling $disconnect', async () => {
    const gone = await fetch(`http://${base}/dev/@connections/nobody`, { method: 'POST', body: 'x' });
    expect([gone.status, gone.headers.get('x-amzn-errortype')]).toEqual([410, 'GoneException']);
    const closed = new Promise<number>((done) => socket.once('close', (code) => done(code)));
    const deleted = await fetch(`http://${base}/dev/@connections/${encodeURIComponent(connectionId)}`, {
      method: 'DELETE',
    });
    expect(deleted.status).toBe(204);
    expect(await closed).toBe(1000);
    await expect
      .poll(() => seen.$disconnect?.find((e) => e.requestContext.connectionId === connectionId))
      .toBeDefined();
    expect(lastSeen('$disconnect').requestContext).toMatchObject({
      routeKey: '$disconnect',
      eventType: 'DISCONNECT',
      connectionId,
    });
  });
});

describe('a WebSocket API without $default', () => {
  it('answers a message no route takes with {"message": "Forbidden", connectionId, requestId}', async () => {
    const template: CfnTemplate = {
      Resources: Object.fromEntries(
        Object.entries(chatTemplate.Resources).filter(
          ([, r]) => !(r.Type === 'AWS::ApiGatewayV2::Route' && r.Properties?.RouteKey === '$default'),
        ),
      ),
    };
    const api = readWebSocketApiModel(template, chat.apiId);
    const served = await serveApis([api], chatFunctions());
    try {
      const { socket } = await open('/dev', good, served.host);
      const reply = nextMessages(socket as WebSocket);
      socket?.send('plain text');
      const [text] = await reply;
      expect(Object.keys(JSON.parse(text as string)).sort()).toEqual([
        'connectionId',
        'message',
        'requestId',
      ]);
      expect(JSON.parse(text as string).message).toBe('Forbidden');
      socket?.close();
    } finally {
      served.stop();
    }
  });
});

describe('npm start -- --api-kind http: the sample WebSocket API with the Entra authorizer', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'entra-local-ws-key-'));
  let local: LocalServer;
  let template: CfnTemplate;
  beforeAll(async () => {
    const entra = {
      tenantId: LOCAL_TENANT_ID,
      clientId: LOCAL_CLIENT_ID,
      resultsCacheTtl: Duration.seconds(300),
    };
    const stack = new SampleHttpApiStack(testApp(), SAMPLE_HTTP_STACK_NAME, { entra });
    template = Template.fromStack(stack).toJSON() as CfnTemplate;
    local = await startLocalServer({ port: 0, apiKind: 'http', dataDir });
  }, 60_000);
  afterAll(async () => {
    await local?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('takes the token where the template says, and answers 401, 403 or the connection as the authorizer decides', async () => {
    const [webSocketApiId] = webSocketApiIds(template);
    const ofWebSocketApi = (r: CfnTemplate['Resources'][string]) =>
      JSON.stringify(r.Properties?.ApiId) === JSON.stringify({ Ref: webSocketApiId });
    const authorizer = Object.values(template.Resources).find(
      (r) => r.Type === 'AWS::ApiGatewayV2::Authorizer' && ofWebSocketApi(r),
    );
    const [source] = (authorizer?.Properties?.IdentitySource ?? []) as string[];
    const name = /^route\.request\.querystring\.(.+)$/.exec(source as string)?.[1];
    expect(name).toBeDefined();
    const stage = Object.values(template.Resources).find(
      (r) => r.Type === 'AWS::ApiGatewayV2::Stage' && ofWebSocketApi(r),
    )?.Properties?.StageName;
    const url = `${local.url.replace('http', 'ws')}/${stage}`;
    const connect = (query: string) =>
      new Promise<number>((done) => {
        const socket = new WebSocket(`${url}${query}`);
        socket.once('open', () => {
          socket.close();
          done(101);
        });
        socket.once('unexpected-response', (_req, res) => done(res.statusCode ?? 0));
        socket.once('error', () => done(0));
      });
    const scoped = await localToken(local.tokenEndpoint, {
      scope: `api://${LOCAL_CLIENT_ID}/access_as_user`,
    });
    const other = await localToken(local.tokenEndpoint, { scope: `api://${LOCAL_CLIENT_ID}/Other.Scope` });
    expect(await connect('')).toBe(401);
    expect(await connect(`?${name}=not-a-jwt`)).toBe(401);
    expect(await connect(`?${name}=${other}`)).toBe(403);
    expect(await connect(`?${name}=${scoped}`)).toBe(101);
  });

  it('prints the WebSocket URL, its guard, its routes, @connections and a wscat line', () => {
    const { lines, tryIt } = webSocketStartLines(local.url, local.webSocketApis, (flags) => `token ${flags}`);
    const ws = local.url.replace('http', 'ws');
    expect(lines[0]).toMatch(
      new RegExp(
        `^  WS     ${ws}/prod   \\(\\$connect: authorizer \\S+, token in route\\.request\\.querystring\\.access_token\\)$`,
      ),
    );
    expect(lines[1]).toBe('         $connect; no message route (a message is answered "Forbidden")');
    expect(lines[2]).toBe(
      `         @connections: POST, GET, DELETE ${local.url}/prod/@connections/{connectionId}`,
    );
    expect(tryIt).toEqual([
      `  npx wscat -c "${ws}/prod?access_token=$(token --scopes access_as_user | tail -n 1)"   # a WebSocket client`,
    ]);
  });
});
