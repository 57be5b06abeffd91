import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Stack, Validations } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import { CfnRoute, HttpApi, HttpMethod, type HttpRoute } from 'aws-cdk-lib/aws-apigatewayv2';
import type { HttpLambdaAuthorizer } from 'aws-cdk-lib/aws-apigatewayv2-authorizers';
import { HttpUrlIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import { AwsSolutionsChecks } from 'cdk-nag';
import { describe, expect, it } from 'vitest';
import { EntraHttpAuthorizer } from '../../infra/construct/entra-http-authorizer.js';
import { EntraWebSocketAuthorizer } from '../../infra/construct/entra-websocket-authorizer.js';
import { SampleApiStack } from '../../infra/sample/sample-api-stack.js';
import { SampleHttpApiStack } from '../../infra/sample/sample-http-api-stack.js';
import { API_ENV, loadApiConfig } from '../../lambda/authorizer/api-kind.js';
import { ENV_NAMES } from '../../lambda/authorizer/config.js';
import { testApp } from '../helpers/cdk.js';

const TENANT = '72f988bf-86f1-41af-91ab-2d7cd011db47';
const CLIENT = '6e74172b-be56-4843-9ff4-e66a39bb12e3';

type Resource = { Type: string; Properties: Record<string, unknown> };

function synth() {
  const app = testApp();
  const stack = new SampleHttpApiStack(app, 'SampleHttp', { entra: { tenantId: TENANT, clientId: CLIENT } });
  return { stack, template: Template.fromStack(stack) };
}

/** The authorizer Lambda a template's API Gateway v2 authorizer invokes, found through its AuthorizerUri. */
function functionOf(template: Template, authorizer: Resource): Resource {
  const uri = JSON.stringify(authorizer.Properties.AuthorizerUri);
  const version = Object.entries(template.findResources('AWS::Lambda::Version')).find(([id]) =>
    uri.includes(id),
  );
  const fnId = (version?.[1] as Resource | undefined)?.Properties.FunctionName as { Ref: string };
  return template.findResources('AWS::Lambda::Function')[fnId.Ref] as Resource;
}

const authorizerOfApi = (template: Template, apiLogicalId: string) =>
  Object.values(template.findResources('AWS::ApiGatewayV2::Authorizer')).find(
    (a) => JSON.stringify((a as Resource).Properties.ApiId) === JSON.stringify({ Ref: apiLogicalId }),
  ) as Resource;

describe('the HTTP API variant of the sample (cdk deploy -c apiKind=http)', () => {
  const { template, stack } = synth();
  const httpApiId = stack.getLogicalId(stack.httpApi.node.defaultChild as never);
  const webSocketApiId = stack.getLogicalId(stack.webSocketApi.node.defaultChild as never);

  it('guards GET /whoami with a Lambda REQUEST authorizer: payload 2.0, simple responses, cached per token and route key', () => {
    const authorizer = authorizerOfApi(template, httpApiId);
    expect(authorizer.Properties).toMatchObject({
      AuthorizerType: 'REQUEST',
      AuthorizerPayloadFormatVersion: '2.0',
      EnableSimpleResponses: true,
      IdentitySource: ['$request.header.Authorization', '$context.routeKey'],
      AuthorizerResultTtlInSeconds: 300,
    });
    template.hasResourceProperties('AWS::ApiGatewayV2::Route', {
      ApiId: { Ref: httpApiId },
      RouteKey: 'GET /whoami',
      AuthorizationType: 'CUSTOM',
    });
    // Every route of the API is guarded: none without the authorizer (the CORS preflight is API Gateway's).
    for (const route of Object.values(template.findResources('AWS::ApiGatewayV2::Route')) as Resource[]) {
      expect(route.Properties.AuthorizationType).toBe('CUSTOM');
    }
  });

  it("gives the HTTP API's Lambda the route table as route keys, which its own loader accepts", () => {
    const variables = (
      functionOf(template, authorizerOfApi(template, httpApiId)).Properties.Environment as {
        Variables: Record<string, string>;
      }
    ).Variables;
    expect(variables).toMatchObject({
      [API_ENV.kind]: 'http',
      [ENV_NAMES.routePermissions]: JSON.stringify({ 'GET /whoami': { scopes: ['access_as_user'] } }),
    });
    const config = loadApiConfig(variables);
    expect(config.api).toMatchObject({
      kind: 'http',
      routeKeys: [{ route: 'GET /whoami', scopes: ['access_as_user'] }],
    });
  });

  it('guards the WebSocket $connect route with a REQUEST authorizer on ?access_token= and no cache', () => {
    const authorizer = authorizerOfApi(template, webSocketApiId);
    expect(authorizer.Properties).toMatchObject({
      AuthorizerType: 'REQUEST',
      IdentitySource: ['route.request.querystring.access_token'],
    });
    expect(authorizer.Properties).not.toHaveProperty('AuthorizerResultTtlInSeconds');
    template.hasResourceProperties('AWS::ApiGatewayV2::Route', {
      ApiId: { Ref: webSocketApiId },
      RouteKey: '$connect',
      AuthorizationType: 'CUSTOM',
    });
    const variables = (
      functionOf(template, authorizer).Properties.Environment as { Variables: Record<string, string> }
    ).Variables;
    expect(variables).toMatchObject({
      [API_ENV.kind]: 'websocket',
      [API_ENV.webSocketTokenSource]: 'query',
      [ENV_NAMES.requiredScopes]: 'access_as_user',
    });
    expect(variables).not.toHaveProperty(ENV_NAMES.routePermissions);
    expect(loadApiConfig(variables).api).toEqual({ kind: 'websocket', tokenSource: 'query' });
  });

  it('runs all three kinds on the one authorizer bundle: the same handler, runtime and architecture', () => {
    const rest = Template.fromStack(
      new SampleApiStack(testApp(), 'Sample', { entra: { tenantId: TENANT, clientId: CLIENT } }),
    );
    const shape = (t: Template) =>
      (Object.values(t.findResources('AWS::Lambda::Function')) as Resource[])
        .filter((f) => f.Properties.Description === 'Entra ID access token authorizer')
        .map((f) => [f.Properties.Handler, f.Properties.Runtime, f.Properties.Architectures]);
    expect(shape(template)).toEqual([
      ['index.handler', 'nodejs22.x', ['arm64']],
      ['index.handler', 'nodejs22.x', ['arm64']],
    ]);
    expect(shape(rest)).toEqual([shape(template)[0]]);
  });

  it('keeps query strings (a WebSocket token) out of its access logs', () => {
    const stages = Object.values(template.findResources('AWS::ApiGatewayV2::Stage')) as Resource[];
    expect(stages).toHaveLength(2);
    for (const stage of stages) {
      const format = (stage.Properties.AccessLogSettings as { Format: string }).Format;
      expect(format).toContain('$context.routeKey');
      expect(format).not.toMatch(/requestUri|querystring|\$context\.path|identitySource/i);
    }
  });

  it('synthesizes without warnings and passes the cdk-nag AwsSolutions checks', () => {
    expect(Annotations.fromStack(stack).findWarning('*', Match.anyValue())).toEqual([]);
    const app = testApp({ outdir: mkdtempSync(join(tmpdir(), 'nag-')) });
    new SampleHttpApiStack(app, 'SampleHttp', { entra: { tenantId: TENANT, clientId: CLIENT } });
    Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
    expect(() => app.synth()).not.toThrow();
  });
});

describe('the constructs of the other two kinds', () => {
  const make = <T>(build: (stack: Stack) => T) => build(new Stack(testApp(), 'S'));

  const base = { tenantId: TENANT, clientId: CLIENT };
  it.each([
    [
      () =>
        make((s) => new EntraHttpAuthorizer(s, 'E', { ...base, routePermissions: { 'GET /items/*': {} } })),
      /^EntraHttpAuthorizer: routePermissions keys must be HTTP API route keys/,
    ],
    [
      () => make((s) => new EntraHttpAuthorizer(s, 'E', { ...base, tenantId: 'contoso' })),
      /^EntraHttpAuthorizer: tenantId must be/,
    ],
    [
      () => make((s) => new EntraWebSocketAuthorizer(s, 'E', { ...base, tokenSource: 'cookie' as never })),
      /^EntraWebSocketAuthorizer: tokenSource must be one of query, protocol/,
    ],
    [
      () =>
        make(
          (s) =>
            new EntraWebSocketAuthorizer(s, 'E', {
              ...base,
              ...({ routePermissions: { 'GET /x': {} } } as object),
            }),
        ),
      /^EntraWebSocketAuthorizer: routePermissions must be absent/,
    ],
    [
      () => make((s) => new EntraWebSocketAuthorizer(s, 'E', { ...base, logLevel: 'LOUD' as never })),
      /^EntraWebSocketAuthorizer: logLevel must be/,
    ],
  ])('fail the synth naming the construct and the prop (%#)', (build, message) => {
    expect(build).toThrow(message);
  });

  it('fail the synth when an HTTP API route they guard is missing from routePermissions (it would always be 403)', () => {
    const guard = (methods: HttpMethod[]) => {
      const stack = new Stack(testApp(), 'S');
      const entra = new EntraHttpAuthorizer(stack, 'E', {
        tenantId: TENANT,
        clientId: CLIENT,
        routePermissions: { 'GET /items/{id}': {} },
      });
      const integration = new HttpUrlIntegration('Backend', 'https://backend.example');
      new HttpApi(stack, 'Api', { defaultAuthorizer: entra }).addRoutes({
        path: '/items/{id}',
        methods,
        integration,
      });
      return () => Template.fromStack(stack);
    };
    expect(guard([HttpMethod.GET])).not.toThrow();
    expect(guard([HttpMethod.GET, HttpMethod.DELETE])).toThrow(
      /EntraHttpAuthorizer: routePermissions must name every route it guards; "DELETE \/items\/\{id\}" is not in it, so every request to it would be refused \(403\); the nearest key in it is "GET \/items\/\{id\}"/,
    );
  });

  /**
   * An HTTP API guarded by its default authorizer, its routes added after the authorizer by `addRoutes`
   * (and `$default` when `withDefaultRoute`).
   */
  const guardedHttpApi = (
    routePermissions: Record<string, object>,
    routes: [string, HttpMethod[]][],
    withDefaultRoute = false,
  ) => {
    const stack = new Stack(testApp(), 'S');
    const entra = new EntraHttpAuthorizer(stack, 'E', {
      tenantId: TENANT,
      clientId: CLIENT,
      routePermissions,
    });
    const integration = new HttpUrlIntegration('Backend', 'https://backend.example');
    const api = new HttpApi(stack, 'Api', {
      defaultAuthorizer: entra,
      ...(withDefaultRoute ? { defaultIntegration: integration } : {}),
    });
    for (const [path, methods] of routes) api.addRoutes({ path, methods, integration });
    return () => Template.fromStack(stack);
  };

  it('fail the synth on a routePermissions key that names no route they guard, naming the nearest guarded route key', () => {
    expect(
      guardedHttpApi({ 'GET /items': {}, 'PUT /items': { scopes: ['Items.Write'] } }, [
        ['/items', [HttpMethod.GET]],
      ]),
    ).toThrow(
      'EntraHttpAuthorizer: routePermissions key "PUT /items" names no route guarded by this authorizer; the nearest is GET /items',
    );
  });

  it('fail it too when a JavaScript app attaches the inner HttpLambdaAuthorizer (entra.authorizer) instead of the construct', () => {
    const stack = new Stack(testApp(), 'S');
    const entra = new EntraHttpAuthorizer(stack, 'E', {
      tenantId: TENANT,
      clientId: CLIENT,
      routePermissions: { 'GET /items': {}, 'PUT /items': { scopes: ['Items.Write'] } },
    });
    const inner = (entra as unknown as { authorizer: HttpLambdaAuthorizer }).authorizer;
    const api = new HttpApi(stack, 'Api', { defaultAuthorizer: inner });
    api.addRoutes({
      path: '/items',
      methods: [HttpMethod.GET],
      integration: new HttpUrlIntegration('Backend', 'https://backend.example'),
    });
    expect(() => Template.fromStack(stack)).toThrow(
      'EntraHttpAuthorizer: routePermissions key "PUT /items" names no route guarded by this authorizer; the nearest is GET /items',
    );
  });

  it('synthesize a table whose keys all name guarded routes: $default, ANY and greedy paths as declared', () => {
    const synthesized = guardedHttpApi(
      { $default: {}, 'ANY /files/{proxy+}': {}, 'GET /items/{id}': { scopes: ['Items.Read'] } },
      [
        ['/files/{proxy+}', [HttpMethod.ANY]],
        ['/items/{id}', [HttpMethod.GET]],
      ],
      true,
    )();
    expect(Object.keys(synthesized.findResources('AWS::ApiGatewayV2::Route'))).toHaveLength(3);
  });

  it("read the routes they guard from the API's AWS::ApiGatewayV2::Route resources, L1 routes too", () => {
    const withRawRoutes = (rawKeys: string[]) => {
      const stack = new Stack(testApp(), 'S');
      const entra = new EntraHttpAuthorizer(stack, 'E', {
        tenantId: TENANT,
        clientId: CLIENT,
        routePermissions: { 'GET /items': {}, 'POST /items': {} },
      });
      const integration = new HttpUrlIntegration('Backend', 'https://backend.example');
      const api = new HttpApi(stack, 'Api');
      const [route] = api.addRoutes({
        path: '/items',
        methods: [HttpMethod.GET],
        integration,
        authorizer: entra,
      });
      const { authorizerId } = (route as HttpRoute).node.defaultChild as CfnRoute;
      for (const routeKey of rawKeys)
        new CfnRoute(stack, routeKey, {
          apiId: api.apiId,
          routeKey,
          authorizationType: 'CUSTOM',
          authorizerId,
        });
      return () => Template.fromStack(stack);
    };
    expect(withRawRoutes(['POST /items'])).not.toThrow();
    expect(withRawRoutes(['POST /items', 'DELETE /items'])).toThrow(/"DELETE \/items" is not in it/);
  });

  it('name the key that differs from a guarded HTTP API route only in a parameter name', () => {
    const stack = new Stack(testApp(), 'S');
    const entra = new EntraHttpAuthorizer(stack, 'E', {
      tenantId: TENANT,
      clientId: CLIENT,
      routePermissions: { 'GET /orders/{orderId}': {}, 'GET /orders': {} },
    });
    const integration = new HttpUrlIntegration('Backend', 'https://backend.example');
    new HttpApi(stack, 'Api', { defaultAuthorizer: entra }).addRoutes({
      path: '/orders/{id}',
      methods: [HttpMethod.GET],
      integration,
    });
    expect(() => Template.fromStack(stack)).toThrow(
      /"GET \/orders\/\{id\}" is not in it, so every request to it would be refused \(403\); it has "GET \/orders\/\{orderId\}", which differs only in a parameter name: write the key as the route declares it/,
    );
  });

  it.each([
    ['EntraHttpAuthorizer', (s: Stack) => new EntraHttpAuthorizer(s, 'E', base)],
    ['EntraWebSocketAuthorizer', (s: Stack) => new EntraWebSocketAuthorizer(s, 'E', base)],
  ])(
    "%s gives its Lambda the REST construct's settings: 256 MB, arm64, Node.js 22, no source-map loader",
    (_, build) => {
      const template = make((s) => {
        build(s);
        return Template.fromStack(s);
      });
      template.hasResourceProperties('AWS::Lambda::Function', {
        MemorySize: 256,
        Runtime: 'nodejs22.x',
        Architectures: ['arm64'],
        Timeout: 10,
        Environment: { Variables: Match.objectLike({ NODE_OPTIONS: Match.absent() }) },
      });
    },
  );

  it('read the token from Sec-WebSocket-Protocol when told, with the identity source set to match', () => {
    const { authorizer, stack } = make((s) => ({
      stack: s,
      authorizer: new EntraWebSocketAuthorizer(s, 'E', {
        tenantId: TENANT,
        clientId: CLIENT,
        tokenSource: 'protocol',
      }),
    }));
    expect(authorizer.identitySource).toBe('route.request.header.Sec-WebSocket-Protocol');
    Template.fromStack(stack).hasResourceProperties('AWS::Lambda::Function', {
      Environment: { Variables: Match.objectLike({ [API_ENV.webSocketTokenSource]: 'protocol' }) },
    });
  });

  it('cache an HTTP API by the token alone only when the decision cannot depend on the route', () => {
    const perRoute = make(
      (s) =>
        new EntraHttpAuthorizer(s, 'E', {
          tenantId: TENANT,
          clientId: CLIENT,
          routePermissions: { $default: {} },
        }),
    );
    const stageWide = make(
      (s) => new EntraHttpAuthorizer(s, 'E', { tenantId: TENANT, clientId: CLIENT, requiredScopes: ['a'] }),
    );
    expect(perRoute.identitySource).toEqual(['$request.header.Authorization', '$context.routeKey']);
    expect(stageWide.identitySource).toEqual(['$request.header.Authorization']);
  });
});
