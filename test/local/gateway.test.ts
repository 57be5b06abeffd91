import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { APIGatewayAuthorizerResult, APIGatewayProxyEvent } from 'aws-lambda';
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import {
  type CfnResource,
  type CfnTemplate,
  readApiModel,
  TemplateError,
} from '../../infra/local/api-template.js';
import {
  createLocalGateway,
  type LambdaHandler,
  policyDecision,
  policyProblem,
  selectResource,
} from '../../infra/local/gateway.js';

const ARN = 'arn:aws:execute-api:local-1:000000000000:localapi/test';
const policy = (...statements: [string, string[], string?][]): APIGatewayAuthorizerResult['policyDocument'] =>
  ({
    Version: '2012-10-17',
    Statement: statements.map(([Effect, Resource, Action]) => ({
      Action: Action ?? 'execute-api:Invoke',
      Effect,
      Resource,
    })),
  }) as APIGatewayAuthorizerResult['policyDocument'];

describe('policy evaluation as API Gateway does it', () => {
  const cases: [string, APIGatewayAuthorizerResult['policyDocument'], string, boolean][] = [
    ['a stage-wide Allow', policy(['Allow', [`${ARN}/*`]]), `${ARN}/GET/whoami`, true],
    ['an Allow for another route', policy(['Allow', [`${ARN}/GET/items`]]), `${ARN}/GET/whoami`, false],
    [
      'an explicit Deny beside a wider Allow',
      policy(['Allow', [`${ARN}/*`]], ['Deny', [`${ARN}/GET/whoami`]]),
      `${ARN}/GET/whoami`,
      false,
    ],
    [
      'a wildcard across segments',
      policy(['Allow', [`${ARN}/DELETE/items/*`]]),
      `${ARN}/DELETE/items/1/parts`,
      true,
    ],
    ['a one-character wildcard', policy(['Allow', [`${ARN}/GET/item?`]]), `${ARN}/GET/items`, true],
    [
      'another API',
      policy(['Allow', ['arn:aws:execute-api:local-1:000000000000:other/test/*']]),
      `${ARN}/GET/whoami`,
      false,
    ],
    ['no statement', policy(), `${ARN}/GET/whoami`, false],
    ['the action execute-api:*', policy(['Allow', [`${ARN}/*`], 'execute-api:*']), `${ARN}/GET/x`, true],
    [
      'the action in another case',
      policy(['Allow', [`${ARN}/*`], 'EXECUTE-API:invoke']),
      `${ARN}/GET/x`,
      true,
    ],
    [
      'another action',
      policy(['Allow', [`${ARN}/*`], 'execute-api:ManageConnections']),
      `${ARN}/GET/x`,
      false,
    ],
    ['a resource in another case', policy(['Allow', [`${ARN}/get/x`]]), `${ARN}/GET/x`, false],
  ];
  it.each(cases)('%s', (_, document, arn, allowed) => {
    expect(policyDecision(document, arn) === 'allow').toBe(allowed);
  });

  it('matches many * against a long path in bounded time, as IAM does (no backtracking blow-up)', () => {
    const path = `${ARN}/GET/${'a/'.repeat(600)}`;
    const document = policy(['Allow', [`${ARN}/*/*/*/*/*/*/*/*/edit`, `${ARN}/GET/*a*a*a*a*a*a*a*b`]]);
    const started = performance.now();
    expect(policyDecision(document, path)).toBe('implicit-deny');
    // A regular expression took over 18 s for this; the matcher takes well under a millisecond.
    expect(performance.now() - started).toBeLessThan(250);
    expect(policyDecision(document, `${path}edit`)).toBe('allow');
  });

  it('tells an explicit Deny from no matching Allow', () => {
    expect(policyDecision(policy(['Deny', [`${ARN}/*`]]), `${ARN}/GET/x`)).toBe('explicit-deny');
    expect(policyDecision(policy(['Allow', [`${ARN}/POST/x`]]), `${ARN}/GET/x`)).toBe('implicit-deny');
  });
});

// --- A small template language for the tests: exactly the CloudFormation the gateway reads. ---

const API: CfnResource = { Type: 'AWS::ApiGateway::RestApi', Properties: { Name: 'Api' } };
const ROOT = { 'Fn::GetAtt': ['Api', 'RootResourceId'] };
const api = { Ref: 'Api' };
const resource = (parent: unknown, part: string): CfnResource => ({
  Type: 'AWS::ApiGateway::Resource',
  Properties: { RestApiId: api, ParentId: parent, PathPart: part },
});
const lambda = (timeout = 3): CfnResource => ({
  Type: 'AWS::Lambda::Function',
  Properties: { Timeout: timeout, Environment: { Variables: {} } },
});
const uri = (fn: string) => ({
  'Fn::Join': [
    '',
    [
      'arn:aws:apigateway:',
      { Ref: 'AWS::Region' },
      ':lambda:path/functions/',
      { 'Fn::GetAtt': [fn, 'Arn'] },
      '/invocations',
    ],
  ],
});
const proxyMethod = (
  res: unknown,
  httpMethod: string,
  fn: string,
  extra: Record<string, unknown> = {},
): CfnResource => ({
  Type: 'AWS::ApiGateway::Method',
  Properties: {
    RestApiId: api,
    ResourceId: res,
    HttpMethod: httpMethod,
    AuthorizationType: 'NONE',
    Integration: { Type: 'AWS_PROXY', IntegrationHttpMethod: 'POST', Uri: uri(fn) },
    ...extra,
  },
});
const guarded = { AuthorizationType: 'CUSTOM', AuthorizerId: { Ref: 'Auth' } };
const authorizer = (ttl: number): CfnResource => ({
  Type: 'AWS::ApiGateway::Authorizer',
  Properties: {
    RestApiId: api,
    Type: 'TOKEN',
    IdentitySource: 'method.request.header.Authorization',
    IdentityValidationExpression: '^Bearer [a-z.]+$',
    AuthorizerResultTtlInSeconds: ttl,
    // As CDK writes it: through a published version.
    AuthorizerUri: { 'Fn::Join': ['', ['arn:', { Ref: 'AuthFnVersion' }, '/invocations']] },
  },
});
const gatewayResponse = (type: string, props: Record<string, unknown>): CfnResource => ({
  Type: 'AWS::ApiGateway::GatewayResponse',
  Properties: { RestApiId: api, ResponseType: type, ...props },
});
const template = (resources: Record<string, CfnResource>): CfnTemplate => ({
  Resources: {
    Api: API,
    Stage: {
      Type: 'AWS::ApiGateway::Stage',
      Properties: { RestApiId: api, StageName: 'test', Variables: { env: 'dev' } },
    },
    AuthFn: lambda(),
    AuthFnVersion: { Type: 'AWS::Lambda::Version', Properties: { FunctionName: { Ref: 'AuthFn' } } },
    Backend: lambda(1),
    ...resources,
  },
});

let server: Server | undefined;
/** What the gateway told of failing backends, in the last `serve`. */
const failures: { route: string; functionId: string; error: string }[] = [];
afterEach(() => new Promise<void>((done) => (server ? server.close(() => done()) : done())));

async function serve(
  t: CfnTemplate,
  functions: Record<string, LambdaHandler>,
  now: () => number = Date.now,
  maxCachedDecisions?: number,
) {
  failures.length = 0;
  const gateway = createLocalGateway({
    api: readApiModel(t),
    functions: new Map(Object.entries(functions)),
    now,
    maxCachedDecisions,
    onFunctionFailure: (route, functionId, error) =>
      failures.push({
        route,
        functionId,
        error: error instanceof Error ? (error.stack ?? '') : String(error),
      }),
  });
  server = createServer((req, res) => void gateway.handle(req, res));
  await new Promise<void>((done) => server?.listen(0, '127.0.0.1', done));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return { gateway, call: (path: string, init: RequestInit = {}) => fetch(`${base}${path}`, init) };
}

const echo: LambdaHandler = async (event: APIGatewayProxyEvent) => ({
  statusCode: 200,
  headers: { 'content-type': 'application/json' },
  body: JSON.stringify(event),
});
const allowAll: LambdaHandler = async (event: { methodArn: string; authorizationToken: string }) => ({
  principalId: 'p',
  policyDocument: policy(['Allow', [`${event.methodArn.split('/').slice(0, 2).join('/')}/*`]]),
  context: { n: 1, yes: true, token: event.authorizationToken },
});

describe('routing as API Gateway does it', () => {
  const tree = readApiModel(
    template({
      Items: resource(ROOT, 'items'),
      Item: resource({ Ref: 'Items' }, '{id}'),
      Special: resource({ Ref: 'Items' }, 'special'),
      Parts: resource({ Ref: 'Item' }, 'parts'),
      Files: resource(ROOT, 'files'),
      Path: resource({ Ref: 'Files' }, '{path+}'),
    }),
  ).root;

  it.each([
    ['/', '/', {}],
    ['/items', '/items', {}],
    ['/items/', '/items', {}],
    ['/items/special', '/items/special', {}],
    ['/items/42', '/items/{id}', { id: '42' }],
    ['/items/a%20b/parts', '/items/{id}/parts', { id: 'a b' }],
    ['/files/a/b/c.txt', '/files/{path+}', { path: 'a/b/c.txt' }],
  ])('%s selects %s', (path, resourcePath, params) => {
    expect(selectResource(tree, path)).toMatchObject({
      resource: { path: resourcePath },
      pathParameters: params,
    });
  });

  it.each([['/nope'], ['/items/42/other'], ['//items'], ['/items//']])('%s selects nothing', (path) => {
    expect(selectResource(tree, path)).toBeUndefined();
  });

  it('answers 403 Missing Authentication Token for an undeclared path or method, OPTIONS included', async () => {
    const { call } = await serve(
      template({ Items: resource(ROOT, 'items'), ItemsGet: proxyMethod({ Ref: 'Items' }, 'GET', 'Backend') }),
      { Backend: echo },
    );
    for (const [path, method] of [
      ['/nope', 'GET'],
      ['/items', 'POST'],
      ['/items', 'OPTIONS'],
      ['/', 'GET'],
    ]) {
      const res = await call(path as string, { method });
      expect(res.status).toBe(403);
      expect(await res.json()).toEqual({ message: 'Missing Authentication Token' });
      expect(res.headers.get('x-amzn-errortype')).toBe('MissingAuthenticationTokenException');
    }
    expect((await call('/items')).status).toBe(200);
  });

  it('routes the path as sent: no dot segments or percent-escapes resolved the way a browser would', async () => {
    const { call } = await serve(
      template({ Items: resource(ROOT, 'items'), ItemsGet: proxyMethod({ Ref: 'Items' }, 'GET', 'Backend') }),
      { Backend: echo },
    );
    const { request } = await import('node:http');
    const port = new URL((await call('/items')).url).port;
    const status = (path: string) =>
      new Promise<number>((done, fail) => {
        const req = request({ host: '127.0.0.1', port, path, method: 'GET' }, (res) => {
          res.resume();
          done(res.statusCode ?? 0);
        });
        req.on('error', fail);
        req.end();
      });
    for (const path of ['/x/../items', '/./items', '/%2e/items']) expect(await status(path)).toBe(403);
    expect(await status('/items?x=1')).toBe(200);
  });

  it('lets ANY answer the methods not declared on their own', async () => {
    const { call } = await serve(
      template({
        Items: resource(ROOT, 'items'),
        ItemsAny: proxyMethod({ Ref: 'Items' }, 'ANY', 'Backend'),
        ItemsGet: proxyMethod({ Ref: 'Items' }, 'GET', 'Other'),
        Other: lambda(),
      }),
      { Backend: echo, Other: async () => ({ statusCode: 299, body: '' }) },
    );
    expect((await call('/items', { method: 'DELETE' })).status).toBe(200);
    expect((await call('/items')).status).toBe(299);
  });
});

describe('the TOKEN authorizer', () => {
  const guardedApi = (ttl = 60, extra: Record<string, CfnResource> = {}) =>
    template({
      Auth: authorizer(ttl),
      Items: resource(ROOT, 'items'),
      ItemsGet: proxyMethod({ Ref: 'Items' }, 'GET', 'Backend', guarded),
      ItemsPost: proxyMethod({ Ref: 'Items' }, 'POST', 'Backend', guarded),
      ...extra,
    });

  it('answers 401 without a call for a missing, empty or non-matching header', async () => {
    let calls = 0;
    const { call } = await serve(guardedApi(), {
      AuthFn: async (e: unknown) => {
        calls++;
        return allowAll(e);
      },
      Backend: echo,
    });
    const attempts: Record<string, string>[] = [
      {},
      { authorization: '' },
      { authorization: 'Basic abc' },
      { authorization: 'Bearer A.B' },
    ];
    for (const headers of attempts) {
      const res = await call('/items', { headers });
      expect(res.status).toBe(401);
      expect(await res.json()).toEqual({ message: 'Unauthorized' });
    }
    expect(calls).toBe(0);
    expect((await call('/items', { headers: { authorization: 'Bearer a.b.c' } })).status).toBe(200);
    expect(calls).toBe(1);
  });

  it('hands the backend the context as strings and the principal, and reuses a decision per token within the TTL', async () => {
    let clock = 1_000_000;
    const arns: string[] = [];
    const { call, gateway } = await serve(
      guardedApi(60),
      {
        AuthFn: async (e: { methodArn: string; authorizationToken: string }) => {
          arns.push(e.methodArn);
          return allowAll(e);
        },
        Backend: echo,
      },
      () => clock,
    );
    const get = async (token: string, method = 'GET') =>
      (await (
        await call('/items', { method, headers: { authorization: token } })
      ).json()) as APIGatewayProxyEvent;
    const event = await get('Bearer a.b.c');
    expect(event.requestContext.authorizer).toEqual({
      n: '1',
      yes: 'true',
      token: 'Bearer a.b.c',
      principalId: 'p',
      // The authorizer's latency in ms, a number (the test's clock stands still).
      integrationLatency: 0,
    });
    expect(event.requestContext.stage).toBe('test');
    expect(event.resource).toBe('/items');
    clock += 59_000;
    await get('Bearer a.b.c', 'POST');
    await get('Bearer x.y.z');
    expect(gateway.stats).toEqual({ authorizerCalls: 2, cacheHits: 1 });
    clock += 2_000;
    await get('Bearer a.b.c');
    expect(arns).toEqual([`${ARN}/GET/items`, `${ARN}/GET/items`, `${ARN}/GET/items`]);
  });

  it('keeps a bounded number of decisions, dropping the oldest first', async () => {
    const { call, gateway } = await serve(guardedApi(300), { AuthFn: allowAll, Backend: echo }, Date.now, 2);
    for (const t of ['a', 'b', 'c', 'b', 'c', 'a']) {
      expect((await call('/items', { headers: { authorization: `Bearer ${t}.${t}.${t}` } })).status).toBe(
        200,
      );
    }
    // a, b, c asked; b and c still held; a was dropped when c came, so it is asked again.
    expect(gateway.stats).toEqual({ authorizerCalls: 4, cacheHits: 2 });
  });

  it('judges and hands on the same token when Authorization is sent twice: the last, as the proxy event has it', async () => {
    const seen: string[] = [];
    const { call } = await serve(guardedApi(0), {
      AuthFn: async (e: { methodArn: string; authorizationToken: string }) => {
        seen.push(e.authorizationToken);
        return allowAll(e);
      },
      Backend: echo,
    });
    // fetch joins repeated headers; a raw request keeps them apart, as a client may send them.
    const { request } = await import('node:http');
    const url = new URL((await call('/items')).url);
    const body = await new Promise<string>((done, fail) => {
      const req = request({ host: url.hostname, port: url.port, path: '/items', method: 'GET' }, (res) => {
        let text = '';
        res.on('data', (c) => {
          text += c;
        });
        res.on('end', () => done(text));
      });
      req.on('error', fail);
      req.setHeader('Authorization', ['Bearer first.token.x', 'Bearer last.token.y']);
      req.end();
    });
    const event = JSON.parse(body) as APIGatewayProxyEvent;
    expect(seen).toEqual(['Bearer last.token.y']);
    expect(event.headers.Authorization).toBe('Bearer last.token.y');
  });

  it('evaluates a cached policy against each method ARN', async () => {
    const { call, gateway } = await serve(guardedApi(300), {
      AuthFn: async (e: { methodArn: string }) => ({
        principalId: 'p',
        policyDocument: policy(['Allow', [e.methodArn]]),
      }),
      Backend: echo,
    });
    const auth = { authorization: 'Bearer a.b.c' };
    expect((await call('/items', { headers: auth })).status).toBe(200);
    const denied = await call('/items', { method: 'POST', headers: auth });
    expect(denied.status).toBe(403);
    expect(await denied.json()).toEqual({ message: 'User is not authorized to access this resource' });
    expect(gateway.stats.cacheHits).toBe(1);
  });

  it('asks again after 401s and failures, which are not cached; TTL 0 caches nothing', async () => {
    let calls = 0;
    const { call } = await serve(guardedApi(0), {
      AuthFn: async (e: { authorizationToken: string }) => {
        calls++;
        if (e.authorizationToken === 'Bearer bad.bad.bad') throw new Error('Unauthorized');
        if (e.authorizationToken === 'Bearer boom.boom.boom') throw new Error('boom');
        if (e.authorizationToken === 'Bearer odd.odd.odd') return { principalId: 'p' };
        return { principalId: 'p', policyDocument: policy(['Deny', [`${ARN}/*`]]) };
      },
      Backend: echo,
    });
    const status = async (token: string) => {
      const res = await call('/items', { headers: { authorization: token } });
      return [res.status, await res.json(), res.headers.get('x-amzn-errortype')];
    };
    expect(await status('Bearer bad.bad.bad')).toEqual([
      401,
      { message: 'Unauthorized' },
      'UnauthorizedException',
    ]);
    expect(await status('Bearer bad.bad.bad')).toEqual([
      401,
      { message: 'Unauthorized' },
      'UnauthorizedException',
    ]);
    expect(await status('Bearer boom.boom.boom')).toEqual([
      500,
      { message: null },
      'AuthorizerConfigurationException',
    ]);
    expect(await status('Bearer odd.odd.odd')).toEqual([
      500,
      { message: null },
      'AuthorizerConfigurationException',
    ]);
    expect(await status('Bearer deny.deny.deny')).toEqual([
      403,
      { message: 'User is not authorized to access this resource with an explicit deny' },
      'AccessDeniedException',
    ]);
    expect((await status('Bearer deny.deny.deny'))[0]).toBe(403);
    expect(calls).toBe(6);
  });

  it('answers 500, as API Gateway does, for a policy with a Resource over 512 characters, Allow or Deny', async () => {
    // Oracle: API Gateway's documented 512-character Resource limit, measured on the generated Resource
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 0, max: 700 }),
        fc.constantFrom('Allow', 'Deny'),
        async (extra, effect) => {
          // A run of `*` matches what one does, so every length of this Resource names GET /items.
          const long = `${ARN}/GET/${'*'.repeat(extra)}items`;
          expect(policyProblem(policy([effect, [long]])) !== undefined).toBe(long.length > 512);
          const { call } = await serve(guardedApi(0), {
            AuthFn: async () => ({
              principalId: 'p',
              policyDocument: policy(['Allow', [`${ARN}/GET/items`]], [effect, [long]]),
            }),
            Backend: echo,
          });
          const res = await call('/items', { headers: { authorization: 'Bearer a.b.c' } });
          await new Promise<void>((done) => (server ? server.close(() => done()) : done()));
          server = undefined;
          const expected = long.length > 512 ? 500 : effect === 'Deny' ? 403 : 200;
          expect(res.status).toBe(expected);
        },
      ),
      { numRuns: 15 },
    );
  });

  it('answers 414 without a call when the method ARN is over 1,600 bytes', async () => {
    // "Output from an API Gateway Lambda authorizer": an authorization-enabled method ARN is at most 1600
    // bytes; path parameter values can push it over, and the client then gets a 414.
    let calls = 0;
    const { call } = await serve(
      guardedApi(0, {
        Item: resource({ Ref: 'Items' }, '{id}'),
        ItemGet: proxyMethod({ Ref: 'Item' }, 'GET', 'Backend', guarded),
      }),
      {
        AuthFn: async (e: unknown) => {
          calls++;
          return allowAll(e);
        },
        Backend: echo,
      },
    );
    const arnOf = (id: string) => `${ARN}/GET/items/${id}`;
    const headers = { authorization: 'Bearer a.b.c' };
    const fits = 'a'.repeat(1600 - arnOf('').length);
    expect(arnOf(fits).length).toBe(1600);
    expect((await call(`/items/${fits}`, { headers })).status).toBe(200);
    const res = await call(`/items/${fits}a`, { headers });
    expect(res.status).toBe(414);
    expect(calls).toBe(1);
  });

  it('answers 500 for a context value that is a JSON object or array, which the authorizer output may not hold', async () => {
    // "Output from an API Gateway Lambda authorizer": context values are strings, numbers or booleans; "you
    // cannot set a JSON object or array as a valid value of any key in the context map".
    const contexts: Record<string, unknown> = {
      'Bearer list.list.list': { roles: ['Items.Read'] },
      'Bearer nest.nest.nest': { user: { oid: '1' } },
      'Bearer flat.flat.flat': { n: 1, yes: false, s: 'x' },
    };
    const { call } = await serve(guardedApi(0), {
      AuthFn: async (e: { authorizationToken: string }) => ({
        principalId: 'p',
        policyDocument: policy(['Allow', [`${ARN}/*`]]),
        context: contexts[e.authorizationToken],
      }),
      Backend: echo,
    });
    const answer = async (token: string) => {
      const res = await call('/items', { headers: { authorization: token } });
      return [res.status, res.headers.get('x-amzn-errortype')];
    };
    expect(await answer('Bearer list.list.list')).toEqual([500, 'AuthorizerConfigurationException']);
    expect(await answer('Bearer nest.nest.nest')).toEqual([500, 'AuthorizerConfigurationException']);
    expect(await answer('Bearer flat.flat.flat')).toEqual([200, null]);
  });

  it('answers 500 for an answer without a principalId, which the authorizer output must include', async () => {
    // "Output from an API Gateway Lambda authorizer": the output "must include the principal identifier
    // (principalId) and a policy document".
    const { call } = await serve(guardedApi(0), {
      AuthFn: async () => ({ policyDocument: policy(['Allow', [`${ARN}/*`]]) }),
      Backend: echo,
    });
    const res = await call('/items', { headers: { authorization: 'Bearer a.b.c' } });
    expect([res.status, res.headers.get('x-amzn-errortype')]).toEqual([
      500,
      'AuthorizerConfigurationException',
    ]);
  });

  it('gives the ACCESS_DENIED gateway response the context of the Deny that refused ($context.authorizer.*)', async () => {
    const t = guardedApi(60, {
      Denied: gatewayResponse('ACCESS_DENIED', {
        ResponseParameters: { 'gatewayresponse.header.X-Needs': 'context.authorizer.needs' },
        ResponseTemplates: { 'application/json': '{"needs": "$context.authorizer.needs"}' },
      }),
    });
    const { call } = await serve(t, {
      AuthFn: async () => ({
        principalId: 'p',
        policyDocument: policy(['Deny', [`${ARN}/GET/items`]]),
        context: { needs: 'Items.Read' },
      }),
      Backend: echo,
    });
    const res = await call('/items', { headers: { authorization: 'Bearer a.b.c' } });
    expect(res.status).toBe(403);
    expect(res.headers.get('x-needs')).toBe('Items.Read');
    expect(await res.json()).toEqual({ needs: 'Items.Read' });
  });

  it('runs before request validation: a missing identity source is a 401, a missing parameter a 400', async () => {
    const t = guardedApi(60, {
      Validator: {
        Type: 'AWS::ApiGateway::RequestValidator',
        Properties: { RestApiId: api, ValidateRequestParameters: true },
      },
      Search: resource(ROOT, 'search'),
      SearchGet: proxyMethod({ Ref: 'Search' }, 'GET', 'Backend', {
        ...guarded,
        RequestValidatorId: { Ref: 'Validator' },
        RequestParameters: {
          'method.request.header.Authorization': true,
          'method.request.querystring.q': true,
        },
      }),
    });
    const { call } = await serve(t, { AuthFn: allowAll, Backend: echo });
    expect((await call('/search?q=x')).status).toBe(401);
    const missing = await call('/search?q=%20', { headers: { authorization: 'Bearer a.b.c' } });
    expect(missing.status).toBe(400);
    expect(await missing.json()).toEqual({ message: 'Missing required request parameters: [q]' });
    expect((await call('/search?q=x', { headers: { authorization: 'Bearer a.b.c' } })).status).toBe(200);
  });
});

describe('gateway responses', () => {
  it('serves a customized type as declared, and DEFAULT_4XX (its status included) for the others', async () => {
    const { call } = await serve(
      template({
        Auth: authorizer(0),
        Items: resource(ROOT, 'items'),
        ItemsGet: proxyMethod({ Ref: 'Items' }, 'GET', 'Backend', guarded),
        Default4xx: gatewayResponse('DEFAULT_4XX', {
          StatusCode: '418',
          ResponseParameters: { 'gatewayresponse.header.X-Default': "'d'" },
        }),
        Unauthorized: gatewayResponse('UNAUTHORIZED', {
          StatusCode: '401',
          ResponseParameters: {
            'gatewayresponse.header.X-Own': "'own'",
            'gatewayresponse.header.X-Trace': 'method.request.header.x-trace',
            'gatewayresponse.header.X-Stage': 'stageVariables.env',
            'gatewayresponse.header.X-Missing': 'method.request.header.x-absent',
          },
          ResponseTemplates: {
            'application/json':
              '{"id":"$context.requestId","type":"$context.error.responseType","msg":$context.error.messageString}',
          },
        }),
      }),
      { AuthFn: allowAll, Backend: echo },
    );
    const missing = await call('/nope');
    expect(missing.status).toBe(418);
    expect(missing.headers.get('x-default')).toBe('d');
    expect(await missing.json()).toEqual({ message: 'Missing Authentication Token' });

    const unauthorized = await call('/items', { headers: { 'x-trace': 't-1' } });
    expect(unauthorized.status).toBe(401);
    expect(unauthorized.headers.get('x-own')).toBe('own');
    expect(unauthorized.headers.get('x-trace')).toBe('t-1');
    expect(unauthorized.headers.get('x-stage')).toBe('dev');
    expect(unauthorized.headers.has('x-missing')).toBe(false);
    expect(unauthorized.headers.has('x-default')).toBe(false);
    const body = (await unauthorized.json()) as { id: string };
    expect(body).toEqual({
      id: unauthorized.headers.get('x-amzn-requestid'),
      type: 'UNAUTHORIZED',
      msg: 'Unauthorized',
    });
  });

  it("gives a customized type without a StatusCode DEFAULT_4XX's status, which changes every other 4XX's", async () => {
    const { call } = await serve(
      template({
        Auth: authorizer(0),
        Items: resource(ROOT, 'items'),
        ItemsGet: proxyMethod({ Ref: 'Items' }, 'GET', 'Backend', guarded),
        Default4xx: gatewayResponse('DEFAULT_4XX', { StatusCode: '418' }),
        Unauthorized: gatewayResponse('UNAUTHORIZED', {
          ResponseParameters: { 'gatewayresponse.header.X-Own': "'own'" },
        }),
      }),
      { AuthFn: allowAll, Backend: echo },
    );
    // "Gateway response types for API Gateway": DEFAULT_4XX's default status is null, and "changing
    // the status code of this fallback gateway response changes the status codes of all other 4XX responses".
    const unauthorized = await call('/items');
    expect(unauthorized.status).toBe(418);
    expect(unauthorized.headers.get('x-own')).toBe('own');
    expect(await unauthorized.json()).toEqual({ message: 'Unauthorized' });
  });

  it('answers a failed proxy integration 502 through DEFAULT_5XX', async () => {
    const { call } = await serve(
      template({
        Items: resource(ROOT, 'items'),
        ItemsGet: proxyMethod({ Ref: 'Items' }, 'GET', 'Backend'),
        Default5xx: gatewayResponse('DEFAULT_5XX', {
          ResponseParameters: { 'gatewayresponse.header.X-Five': "'5'" },
        }),
      }),
      {
        Backend: async (event: APIGatewayProxyEvent) => {
          const mode = event.queryStringParameters?.mode;
          if (mode === 'throw') throw new Error('boom');
          if (mode === 'status') return { statusCode: 'abc', body: '' };
          if (mode === 'body') return { statusCode: 200, body: { not: 'a string' } };
          if (mode === 'slow') return new Promise(() => {});
          return { statusCode: 200, body: 'ok' };
        },
      },
    );
    for (const mode of ['throw', 'status', 'body', 'slow']) {
      const res = await call(`/items?mode=${mode}`);
      expect([mode, res.status]).toEqual([mode, 502]);
      expect(res.headers.get('x-five')).toBe('5');
      expect(await res.json()).toEqual({ message: 'Internal server error' });
    }
    // The client sees only the 502; the server's output says why, with the route and where it threw.
    expect(failures.map((f) => f.route)).toEqual(Array(4).fill('GET /items'));
    expect(failures.every((f) => f.functionId === 'Backend')).toBe(true);
    expect(failures[0]?.error).toMatch(/^Error: boom\n\s+at .*\/gateway\.test\.ts/);
    expect(failures[1]?.error).toMatch(/^Malformed Lambda proxy response .*"statusCode":"abc"/);
    expect(failures[3]?.error).toMatch(/^TimeoutError: timed out after 1 s/);
  });
});

describe('integrations', () => {
  it('passes a proxy answer through untouched: its headers only, multi-value headers, base64 bodies', async () => {
    const { call } = await serve(
      template({ Items: resource(ROOT, 'items'), ItemsGet: proxyMethod({ Ref: 'Items' }, 'GET', 'Backend') }),
      {
        Backend: async (event: APIGatewayProxyEvent) =>
          event.queryStringParameters?.binary === '1'
            ? {
                statusCode: 200,
                headers: { 'content-type': 'image/png' },
                body: Buffer.from([1, 2, 3]).toString('base64'),
                isBase64Encoded: true,
              }
            : {
                statusCode: 201,
                headers: { 'X-One': 1, 'Set-Cookie': 'a=1' },
                multiValueHeaders: { 'Set-Cookie': ['a=1', 'b=2'] },
                body: 'hello',
              },
      },
    );
    const res = await call('/items', { headers: { origin: 'http://elsewhere.example' } });
    expect(res.status).toBe(201);
    expect(await res.text()).toBe('hello');
    expect(res.headers.get('x-one')).toBe('1');
    expect(res.headers.getSetCookie()).toEqual(['a=1', 'b=2']);
    expect(res.headers.get('content-type')).toBe('application/json');
    // The gateway adds no CORS headers to a proxy integration's answer.
    expect([...res.headers.keys()].filter((h) => h.startsWith('access-control-'))).toEqual([]);
    const binary = await call('/items?binary=1');
    expect(Buffer.from(await binary.arrayBuffer())).toEqual(Buffer.from([1, 2, 3]));
  });

  it('hands the proxy event the path, parameters, query, headers and stage variables', async () => {
    const { call } = await serve(
      template({
        Items: resource(ROOT, 'items'),
        Item: resource({ Ref: 'Items' }, '{id}'),
        ItemPut: proxyMethod({ Ref: 'Item' }, 'PUT', 'Backend'),
      }),
      { Backend: echo },
    );
    const event = (await (
      await call('/items/7/?a=1&a=2&b=3', { method: 'PUT', headers: { 'X-Custom': 'v' }, body: '{"x":1}' })
    ).json()) as APIGatewayProxyEvent;
    expect(event).toMatchObject({
      resource: '/items/{id}',
      path: '/items/7/',
      httpMethod: 'PUT',
      pathParameters: { id: '7' },
      queryStringParameters: { a: '2', b: '3' },
      multiValueQueryStringParameters: { a: ['1', '2'], b: ['3'] },
      stageVariables: { env: 'dev' },
      body: '{"x":1}',
      isBase64Encoded: false,
      requestContext: {
        resourcePath: '/items/{id}',
        httpMethod: 'PUT',
        path: '/test/items/7/',
        stage: 'test',
      },
    });
    expect(event.headers['X-Custom']).toBe('v');
    expect(event.multiValueHeaders['X-Custom']).toEqual(['v']);
  });

  it('answers a MOCK integration through the integration response its status selects', async () => {
    const mock = (responses: Record<string, unknown>[]): CfnResource => ({
      Type: 'AWS::ApiGateway::Method',
      Properties: {
        RestApiId: api,
        ResourceId: ROOT,
        HttpMethod: 'OPTIONS',
        AuthorizationType: 'NONE',
        Integration: {
          Type: 'MOCK',
          RequestTemplates: { 'application/json': '{ statusCode: 200 }' },
          IntegrationResponses: responses,
        },
        MethodResponses: responses.map((r) => ({
          StatusCode: r.StatusCode,
          ResponseParameters: Object.fromEntries(
            Object.keys((r.ResponseParameters ?? {}) as object).map((k) => [k, true]),
          ),
        })),
      },
    });
    const { call } = await serve(
      template({
        Options: mock([
          { StatusCode: '500', SelectionPattern: '5\\d\\d' },
          {
            StatusCode: '204',
            ResponseParameters: {
              'method.response.header.Access-Control-Allow-Methods': "'GET'",
              'method.response.header.X-Request': 'context.requestId',
            },
          },
        ]),
      }),
      {},
    );
    const res = await call('/', { method: 'OPTIONS' });
    expect(res.status).toBe(204);
    expect(res.headers.get('access-control-allow-methods')).toBe('GET');
    expect(res.headers.get('x-request')).toBe(res.headers.get('x-amzn-requestid'));
    // No response template and no mapped Content-Type: a body of no media type, and no Content-Type.
    expect(res.headers.get('content-type')).toBeNull();
  });

  it("fills a MOCK response template's plain $context and $input.params references; VTL logic is a 501 named at start", async () => {
    const mock = (path: string, body: string): [string, CfnResource][] => [
      [path, resource(ROOT, path)],
      [
        `${path}Get`,
        {
          Type: 'AWS::ApiGateway::Method',
          Properties: {
            RestApiId: api,
            ResourceId: { Ref: path },
            HttpMethod: 'GET',
            ...guarded,
            Integration: {
              Type: 'MOCK',
              RequestTemplates: { 'application/json': '{"statusCode": 200}' },
              IntegrationResponses: [{ StatusCode: '200', ResponseTemplates: { 'application/json': body } }],
            },
            MethodResponses: [{ StatusCode: '200' }],
          },
        },
      ],
    ];
    const t = template({
      Auth: authorizer(0),
      ...Object.fromEntries(
        mock(
          'plain',
          `{"caller": "$context.authorizer.principalId", "q": "$input.params('q')", "env": "$stageVariables.env"}`,
        ),
      ),
      ...Object.fromEntries(mock('logic', '#if($context.stage == "test"){"a": 1}#end')),
    });
    expect(readApiModel(t).unsupported).toEqual([
      'GET /logic: Integration.IntegrationResponses[0].ResponseTemplates: VTL logic (the directive #if) is not emulated locally',
    ]);
    const { call } = await serve(t, { AuthFn: allowAll });
    const headers = { Authorization: 'Bearer a.b.c' };
    const plain = await call('/plain?q=x', { headers });
    expect(plain.status).toBe(200);
    // The response template's key is the media type of the body it makes.
    expect(plain.headers.get('content-type')).toBe('application/json');
    expect(await plain.json()).toEqual({ caller: 'p', q: 'x', env: 'dev' });
    const logic = await call('/logic', { headers });
    expect(logic.status).toBe(501);
    expect(((await logic.json()) as { message: string }).message).toMatch(/^Not emulated locally: .*#if/);
  });

  it('answers 413 for a payload over 10 MB', async () => {
    const { call } = await serve(
      template({
        Items: resource(ROOT, 'items'),
        ItemsPost: proxyMethod({ Ref: 'Items' }, 'POST', 'Backend'),
      }),
      { Backend: echo },
    );
    const res = await call('/items', { method: 'POST', body: Buffer.alloc(10 * 1024 * 1024 + 1) });
    expect(res.status).toBe(413);
  });
});

describe('a template the local gateway refuses, naming the resource and the parameter', () => {
  const refuse = (resources: Record<string, CfnResource>) => () => readApiModel(template(resources));
  it.each<[string, Record<string, CfnResource>, RegExp]>([
    [
      'an unquoted literal',
      {
        D4: gatewayResponse('DEFAULT_4XX', {
          ResponseParameters: { 'gatewayresponse.header.Access-Control-Allow-Origin': '*' },
        }),
      },
      /D4 \(AWS::ApiGateway::GatewayResponse DEFAULT_4XX\): ResponseParameters\["gatewayresponse\.header\.Access-Control-Allow-Origin"\]: the value "\*"/,
    ],
    [
      'an unknown context variable',
      {
        D4: gatewayResponse('DEFAULT_4XX', {
          ResponseParameters: { 'gatewayresponse.header.X': 'context.nope' },
        }),
      },
      /context\.nope is not one of API Gateway's context variables/,
    ],
    [
      'a status code out of range',
      { D4: gatewayResponse('DEFAULT_4XX', { StatusCode: '600' }) },
      /StatusCode "600" does not match/,
    ],
    [
      'an integration response header the method response does not declare',
      {
        M: {
          Type: 'AWS::ApiGateway::Method',
          Properties: {
            RestApiId: api,
            ResourceId: ROOT,
            HttpMethod: 'GET',
            Integration: {
              Type: 'MOCK',
              RequestTemplates: { 'application/json': '{"statusCode": 200}' },
              IntegrationResponses: [
                { StatusCode: '200', ResponseParameters: { 'method.response.header.X': "'x'" } },
              ],
            },
            MethodResponses: [{ StatusCode: '200' }],
          },
        },
      },
      /M \(AWS::ApiGateway::Method GET \/\): Integration\.IntegrationResponses\[0\]\.ResponseParameters\["method\.response\.header\.X"\]: .* not declared/,
    ],
    [
      'an integration request parameter the method does not declare',
      {
        M: proxyMethod(ROOT, 'GET', 'Backend', {
          Integration: {
            Type: 'AWS_PROXY',
            Uri: uri('Backend'),
            RequestParameters: { 'integration.request.header.x': 'method.request.header.x' },
          },
        }),
      },
      /Integration\.RequestParameters\["integration\.request\.header\.x"\]: method\.request\.header\.x is not declared/,
    ],
  ])('%s', (_, resources, message) => {
    expect(refuse(resources)).toThrow(TemplateError);
    expect(refuse(resources)).toThrow(message);
  });
});
