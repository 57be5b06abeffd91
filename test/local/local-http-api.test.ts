import { Template } from 'aws-cdk-lib/assertions';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CfnTemplate } from '../../infra/local/api-template.js';
import { readHttpApiModel } from '../../infra/local/http-api-template.js';
import { createLocalHttpGateway, selectHttpRoute } from '../../infra/local/http-gateway.js';
import { LOCAL_CLIENT_ID, LOCAL_TENANT_ID } from '../../infra/local/issuer.js';
import { type LocalServer, startLocalServer } from '../../infra/local/server.js';
import { SAMPLE_HTTP_STACK_NAME, SampleHttpApiStack } from '../../infra/sample/sample-http-api-stack.js';
import { testApp } from '../helpers/cdk.js';
import { entra, ROUTES } from '../helpers/http-sample.js';
import { localToken } from '../helpers/local-token.js';
import { tempDir } from '../helpers/temp-dir.js';

/**
 * `npm start -- --api-kind http`: the HTTP API variant of the sample, served from its synthesized template.
 * What each route answers is read here from the template the deploy would send (its route keys, the
 * authorizer's route permissions and identity sources), independently of the local gateway's reader.
 */

function synthesize(): CfnTemplate {
  const app = testApp();
  const stack = new SampleHttpApiStack(app, SAMPLE_HTTP_STACK_NAME, { entra, routes: ROUTES });
  return Template.fromStack(stack).toJSON() as CfnTemplate;
}

let local: LocalServer;
let template: CfnTemplate;

const resourcesOf = (type: string) =>
  Object.entries(template.Resources).filter(([, r]) => r.Type === type) as [
    string,
    { Properties: Record<string, unknown> },
  ][];

/** The HTTP API authorizer function's route permissions, as the template gives them to the Lambda. */
function routePermissions(): Record<string, { scopes?: string[]; roles?: string[] }> {
  const fn = resourcesOf('AWS::Lambda::Function').find(
    ([, r]) =>
      (r.Properties.Environment as { Variables?: Record<string, unknown> } | undefined)?.Variables
        ?.AZURE_API_KIND === 'http',
  );
  if (fn === undefined) throw new Error('no HTTP API authorizer function in the template');
  const variables = (fn[1].Properties.Environment as { Variables: Record<string, string> }).Variables;
  return JSON.parse(variables.AZURE_ROUTE_PERMISSIONS as string);
}

const token = (params: Record<string, string>) => localToken(local.tokenEndpoint, params);
const delegated = (scope: string) => token({ scope: `api://${LOCAL_CLIENT_ID}/${scope}` });
const appOnly = (role: string) =>
  token({ grant_type: 'client_credentials', scope: `api://${LOCAL_CLIENT_ID}/.default`, roles: role });

const call = (method: string, path: string, authorization?: string, headers: Record<string, string> = {}) =>
  fetch(`${local.url}${path}`, {
    method,
    headers: {
      ...headers,
      ...(authorization === undefined ? {} : { authorization: `Bearer ${authorization}` }),
    },
  });

describe('npm start -- --api-kind http answers as the synthesized HTTP API says', () => {
  beforeAll(async () => {
    template = synthesize();
    local = await startLocalServer({
      port: 0,
      dataDir: tempDir('entra-local-http-'),
      cacheTtlSeconds: 300,
      apiKind: 'http',
      routes: ROUTES,
    });
  }, 120_000);
  afterAll(() => local?.stop());

  it('every route of the template: 200 with its permission, 403 without, 401 with no Authorization', async () => {
    const rules = routePermissions();
    const [httpApiId] = resourcesOf('AWS::ApiGatewayV2::Api').find(
      ([, r]) => r.Properties.ProtocolType === 'HTTP',
    ) as [string, unknown];
    const routeKeys = resourcesOf('AWS::ApiGatewayV2::Route')
      .filter(([, r]) => (r.Properties.ApiId as { Ref: string }).Ref === httpApiId)
      .map(([, r]) => r.Properties.RouteKey as string);
    expect(routeKeys.sort()).toEqual(Object.keys(rules).sort());
    for (const routeKey of routeKeys) {
      const rule = rules[routeKey] ?? {};
      const [method = '', pattern = ''] = routeKey.split(' ');
      const path = pattern.replace(/\{[^}]+\}/g, '42');
      const granted =
        rule.scopes?.[0] !== undefined
          ? await delegated(rule.scopes[0])
          : await appOnly(rule.roles?.[0] ?? '');
      const ok = await call(method, path, granted);
      expect(ok.status, routeKey).toBe(200);
      // The backend reads the caller from requestContext.authorizer.lambda (payload 2.0).
      expect(await ok.json()).toMatchObject({ tid: LOCAL_TENANT_ID });
      const refused = await call(method, path, await delegated('Unrelated.Scope'));
      expect([refused.status, await refused.json()], routeKey).toEqual([403, { message: 'Forbidden' }]);
      const missing = await call(method, path);
      expect([missing.status, await missing.json()], routeKey).toEqual([401, { message: 'Unauthorized' }]);
      const bad = await call(method, path, 'not.a.token');
      expect([bad.status, await bad.json()], routeKey).toEqual([401, { message: 'Unauthorized' }]);
    }
  });

  it('answers a route the template does not declare 404 Not Found, with no authorizer call', async () => {
    const before = local.stats.authorizerCalls;
    for (const [method, path] of [
      ['GET', '/nothing'],
      ['POST', '/whoami'],
      ['GET', '/items'],
      ['GET', '/items/1/2'],
    ] as const) {
      const res = await call(method, path, await delegated('access_as_user'));
      expect([res.status, await res.json()], `${method} ${path}`).toEqual([404, { message: 'Not Found' }]);
    }
    expect(local.stats.authorizerCalls).toBe(before);
  });

  it('caches per identity-source values: with $context.routeKey, an Allow for one route never admits another', async () => {
    const [, authorizer] = resourcesOf('AWS::ApiGatewayV2::Authorizer').find(
      ([, r]) => r.Properties.AuthorizerPayloadFormatVersion === '2.0',
    ) as [string, { Properties: Record<string, unknown> }];
    expect(authorizer.Properties.IdentitySource).toEqual([
      '$request.header.Authorization',
      '$context.routeKey',
    ]);
    const user = await delegated('access_as_user');
    const calls = local.stats.authorizerCalls;
    const hits = local.stats.cacheHits;
    expect((await call('GET', '/whoami', user)).status).toBe(200);
    expect((await call('GET', '/whoami', user)).status).toBe(200);
    expect([local.stats.authorizerCalls - calls, local.stats.cacheHits - hits]).toEqual([1, 1]);
    // The same token on another route: its own decision (403), not the cached Allow.
    expect((await call('GET', '/items/7', user)).status).toBe(403);
    expect((await call('GET', '/items/8', user)).status).toBe(403);
    expect([local.stats.authorizerCalls - calls, local.stats.cacheHits - hits]).toEqual([2, 2]);
  });

  it("answers the CORS preflight itself from the API's CorsConfiguration, and adds the origin to answers", async () => {
    const [, api] = resourcesOf('AWS::ApiGatewayV2::Api').find(
      ([, r]) => r.Properties.ProtocolType === 'HTTP',
    ) as [string, { Properties: { CorsConfiguration: Record<string, unknown> } }];
    const cors = api.Properties.CorsConfiguration;
    const res = await call('OPTIONS', '/items/3', undefined, {
      origin: 'https://app.example.com',
      'access-control-request-method': 'DELETE',
    });
    expect(res.status).toBe(204);
    expect(res.headers.get('access-control-allow-origin')).toBe((cors.AllowOrigins as string[])[0]);
    expect(res.headers.get('access-control-allow-methods')?.split(',').sort()).toEqual(
      (cors.AllowMethods as string[]).sort(),
    );
    expect(res.headers.get('access-control-allow-headers')?.split(',')).toEqual(cors.AllowHeaders);
    expect(res.headers.get('access-control-max-age')).toBe(String(cors.MaxAge));
    // API Gateway's own empty answer: no body, so no Content-Type.
    expect(res.headers.get('content-type')).toBeNull();
    const ok = await call('GET', '/whoami', await delegated('access_as_user'), {
      origin: 'https://app.example.com',
    });
    expect(ok.headers.get('access-control-allow-origin')).toBe('*');
  });
});

describe('the local HTTP API gateway, with stand-in functions', () => {
  const api = () => readHttpApiModel(synthesize());
  const ids = () => {
    const model = api();
    const route = model.routes.find((r) => r.routeKey === 'GET /whoami');
    if (route?.authorizer === undefined || route.integration.type !== 'AWS_PROXY')
      throw new Error('no route');
    return { model, authorizer: route.authorizer.functionId, backend: route.integration.functionId };
  };

  async function serve(
    authorizer: (event: unknown) => Promise<unknown>,
    backend?: (event: unknown) => Promise<unknown>,
  ) {
    const { model, authorizer: authorizerId, backend: backendId } = ids();
    const functions = new Map<string, (event: unknown) => Promise<unknown>>([
      [authorizerId, authorizer],
      [backendId, backend ?? (async () => ({ statusCode: 200, body: 'ok' }))],
    ]);
    const gateway = createLocalHttpGateway({ api: model, functions });
    const { createServer } = await import('node:http');
    const server = createServer((req, res) => void gateway.handle(req, res));
    await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
    const { port } = server.address() as { port: number };
    const get = async (headers: Record<string, string> = { authorization: 'Bearer t' }) => {
      const res = await fetch(`http://127.0.0.1:${port}/whoami`, { headers });
      return [res.status, await res.text()] as const;
    };
    return { get, stop: () => new Promise((done) => server.close(done)) };
  }

  it("keeps the authorizer's contract: Unauthorized 401, any other failure or an invalid answer 500", async () => {
    const cases: [() => Promise<unknown>, number, string][] = [
      [async () => Promise.reject(new Error('Unauthorized')), 401, 'Unauthorized'],
      [async () => Promise.reject(new Error('keys unavailable')), 500, 'Internal Server Error'],
      [async () => ({ isAuthorized: 'yes' }), 500, 'Internal Server Error'],
      [async () => ({ isAuthorized: false }), 403, 'Forbidden'],
    ];
    for (const [authorizer, status, message] of cases) {
      const served = await serve(authorizer);
      expect(await served.get()).toEqual([status, JSON.stringify({ message })]);
      await served.stop();
    }
  });

  it('sends the authorizer a payload 2.0 REQUEST event with the identity sources, and the backend its context', async () => {
    const seen: Record<string, unknown>[] = [];
    const served = await serve(
      async (event) => {
        seen.push(event as Record<string, unknown>);
        return { isAuthorized: true, context: { oid: 'o-1' } };
      },
      async (event) => {
        seen.push(event as Record<string, unknown>);
        return { hello: 'world' };
      },
    );
    // An answer without statusCode is the JSON body of a 200 (payload format 2.0).
    expect(await served.get({ authorization: 'Bearer abc' })).toEqual([200, '{"hello":"world"}']);
    await served.stop();
    expect(seen[0]).toMatchObject({
      version: '2.0',
      type: 'REQUEST',
      routeKey: 'GET /whoami',
      identitySource: ['Bearer abc', 'GET /whoami'],
      rawPath: '/whoami',
    });
    expect(seen[1]).toMatchObject({
      version: '2.0',
      routeKey: 'GET /whoami',
      requestContext: { authorizer: { lambda: { oid: 'o-1' } }, http: { method: 'GET', path: '/whoami' } },
    });
  });

  it('answers a backend that throws 500 Internal Server Error', async () => {
    const served = await serve(
      async () => ({ isAuthorized: true }),
      async () => Promise.reject(new Error('boom')),
    );
    expect(await served.get()).toEqual([500, '{"message":"Internal Server Error"}']);
    await served.stop();
  });
});

describe('route selection', () => {
  // The priorities of "Routing API requests" (Working with routes for HTTP APIs): a full match of route and
  // method, then a match through a greedy path variable, then $default.
  const routes = [
    'GET /pets/dog/1',
    'GET /pets/dog/{id}',
    'GET /pets/{proxy+}',
    'ANY /{proxy+}',
    '$default',
  ].map(
    (routeKey) =>
      ({
        logicalId: routeKey,
        routeKey,
        authorizer: undefined,
        integration: { type: 'UNSUPPORTED', reason: '' },
      }) as const,
  );
  it.each([
    ['GET', '/pets/dog/1', 'GET /pets/dog/1'],
    ['GET', '/pets/dog/2', 'GET /pets/dog/{id}'],
    ['GET', '/pets/cat', 'GET /pets/{proxy+}'],
    ['POST', '/pets/cat', 'ANY /{proxy+}'],
    ['GET', '/', '$default'],
  ])('%s %s selects %s', (method, path, expected) => {
    expect(selectHttpRoute(routes, method, path)?.route.routeKey).toBe(expected);
  });
});
