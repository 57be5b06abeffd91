import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Stack, Validations } from 'aws-cdk-lib';
import {
  AuthorizationType,
  CfnAuthorizer,
  type CfnMethod,
  LambdaIntegration,
  RestApi,
} from 'aws-cdk-lib/aws-apigateway';
import { HttpApi, HttpMethod } from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpJwtAuthorizer } from 'aws-cdk-lib/aws-apigatewayv2-authorizers';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import { Code, Function as LambdaFunction, Runtime } from 'aws-cdk-lib/aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EntraHttpAuthorizer, EntraTokenAuthorizer } from '../../infra/index.js';
import { type AssemblyServer, startAssemblyServer } from '../../infra/local/assembly-server.js';
import { LOCAL_USER_GRANT } from '../../infra/local/issuer.js';
import { testApp } from '../helpers/cdk.js';
import { runScript } from '../helpers/run-script.js';

/**
 * A user's API that mixes API Gateway's own JWT authorizer with this project's Lambda authorizer, built with
 * aws-cdk-lib as a user builds it (an HttpJwtAuthorizer beside an EntraHttpAuthorizer; on a RestApi, the
 * REST JWT authorizer declared through property overrides, as aws-cdk-lib has no construct for it yet),
 * synthesized to a cloud assembly with its bundles and served by `entra-authorizer start`, end to end:
 * Lambda functions on worker threads, tokens from the local issuer and from `token --route`.
 */

const TENANT = '2a4c6e80-1b3d-4f57-9a8c-0e2d4f6a8c0e';
const CLIENT = '9f8e7d6c-5b4a-4392-8170-6f5e4d3c2b1a';
const ISSUER = `https://login.microsoftonline.com/${TENANT}/v2.0`;

/** The backend: what it received as requestContext.authorizer, and the route it served. */
const BACKEND = `exports.handler = async (event) => ({
  statusCode: 200,
  headers: { 'content-type': 'application/json' },
  body: JSON.stringify({ route: event.routeKey ?? event.httpMethod + ' ' + event.resource, authorizer: event.requestContext.authorizer ?? null }),
});`;

const work = mkdtempSync(join(tmpdir(), 'entra-jwt-mixed-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

function backend(stack: Stack): LambdaFunction {
  const dir = join(work, 'backend');
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'index.js'), BACKEND);
  return new LambdaFunction(stack, 'Backend', {
    runtime: Runtime.NODEJS_22_X,
    handler: 'index.handler',
    code: Code.fromAsset(dir),
  });
}

/** The user's app: one HTTP API and one REST API, each with JWT-guarded and Entra-Lambda-guarded routes. */
function synthesizeApp(outdir: string): void {
  const app = testApp({ bundle: true, outdir });
  const httpStack = new Stack(app, 'HttpOrders');
  const fn = backend(httpStack);
  const entra = new EntraHttpAuthorizer(httpStack, 'Entra', {
    tenantId: TENANT,
    clientId: CLIENT,
    routePermissions: { 'GET /admin': { roles: ['Orders.Admin'] } },
  });
  const jwt = new HttpJwtAuthorizer('Jwt', ISSUER, { jwtAudience: [CLIENT] });
  const http = new HttpApi(httpStack, 'Api');
  const integration = new HttpLambdaIntegration('Backend', fn);
  http.addRoutes({
    path: '/orders',
    methods: [HttpMethod.GET],
    integration,
    authorizer: jwt,
    authorizationScopes: ['Orders.Read'],
  });
  http.addRoutes({ path: '/admin', methods: [HttpMethod.GET], integration, authorizer: entra });

  const restStack = new Stack(app, 'RestOrders');
  const restFn = backend(restStack);
  const token = new EntraTokenAuthorizer(restStack, 'Entra', {
    tenantId: TENANT,
    clientId: CLIENT,
    routePermissions: { 'GET /admin': { roles: ['Orders.Admin'] } },
  });
  const rest = new RestApi(restStack, 'Api');
  const restJwt = new CfnAuthorizer(restStack, 'Jwt', {
    restApiId: rest.restApiId,
    name: 'Jwt',
    type: 'JWT',
    identitySource: 'method.request.header.Authorization',
  });
  // aws-cdk-lib's CfnAuthorizer has no jwtConfiguration yet: the documented property, as an override.
  restJwt.addPropertyOverride('JwtConfiguration', {
    DefaultAlgorithms: ['RS256'],
    Issuers: [{ Issuer: ISSUER, Audiences: [CLIENT] }],
  });
  // Its synth-time CloudFormation check does not know the property either.
  Validations.of(restJwt).acknowledge({
    id: 'CloudFormation-Validate::F3002',
    reason: 'JwtConfiguration is documented for AWS::ApiGateway::Authorizer',
  });
  const orders = rest.root.addResource('orders').addMethod('GET', new LambdaIntegration(restFn), {
    authorizationType: AuthorizationType.CUSTOM,
    authorizer: { authorizerId: restJwt.ref, authorizationType: AuthorizationType.CUSTOM },
  });
  // aws-cdk-lib keeps AuthorizationScopes for Cognito authorizers only: both as overrides.
  const cfnOrders = orders.node.defaultChild as CfnMethod;
  cfnOrders.addPropertyOverride('AuthorizationType', 'JWT');
  cfnOrders.addPropertyOverride('AuthorizationScopes', ['Orders.Read']);
  rest.root
    .addResource('admin')
    .addMethod('GET', new LambdaIntegration(restFn), { authorizer: token.authorizer });

  const onlyStack = new Stack(app, 'JwtOnly');
  const only = new HttpApi(onlyStack, 'Api', {
    defaultAuthorizer: new HttpJwtAuthorizer('Jwt', ISSUER, { jwtAudience: [CLIENT] }),
    defaultAuthorizationScopes: ['Orders.Read'],
  });
  only.addRoutes({
    path: '/orders',
    methods: [HttpMethod.GET],
    integration: new HttpLambdaIntegration('Backend', backend(onlyStack)),
  });
  app.synth();
}

const assembly = join(work, 'cdk.out');
beforeAll(() => synthesizeApp(assembly), 240_000);

async function issue(server: AssemblyServer, params: Record<string, string>): Promise<string> {
  const res = await fetch(`${server.url}/login/${TENANT}/oauth2/v2.0/token`, {
    method: 'POST',
    body: new URLSearchParams({ grant_type: LOCAL_USER_GRANT, ...params }),
  });
  expect(res.status).toBe(200);
  return ((await res.json()) as { access_token: string }).access_token;
}

async function call(server: AssemblyServer, path: string, token?: string) {
  const res = await fetch(`${server.url}${path}`, {
    headers: token === undefined ? {} : { authorization: `Bearer ${token}` },
  });
  return { status: res.status, body: await res.text() };
}

/** `token --route` as a person runs it against the served assembly: the bare JWT on its last line. */
async function routeToken(server: AssemblyServer, stack: string, route: string): Promise<string> {
  const run = await runScript('infra/local/cli.ts', [
    'token',
    '--route',
    route,
    '--assembly',
    assembly,
    '--stack',
    stack,
    '--port',
    String(server.port),
  ]);
  // What it minted, on stderr: the route's scope, not the Entra authorizer's defaults.
  expect(run.stderr).toBe('npm run token: minted a delegated token with scopes Orders.Read\n');
  expect(run.code).toBe(0);
  return run.stdout.trim().split('\n').at(-1) as string;
}

describe.each([
  ['HttpOrders', 'http'],
  ['RestOrders', 'rest'],
] as const)(
  'a user %s API mixing a JWT authorizer and an Entra Lambda authorizer, locally',
  (stack, kind) => {
    let server: AssemblyServer;
    beforeAll(async () => {
      server = await startAssemblyServer({
        assemblyDir: assembly,
        stack,
        port: 0,
        dataDir: join(work, `issuer-${kind}`),
      });
    }, 120_000);
    afterAll(() => server?.stop());

    it('serves both kinds of route; nothing is answered 501', () => {
      expect(server.notes.filter((n) => n.includes('501'))).toEqual([]);
    });

    it('the JWT route: 200 with a token for its issuer, audience and scope (token --route), its claims at the backend', async () => {
      const token = await routeToken(server, stack, 'GET /orders');
      const claims = JSON.parse(Buffer.from(token.split('.')[1] as string, 'base64url').toString('utf8'));
      expect(claims).toMatchObject({ iss: ISSUER, aud: CLIENT, scp: 'Orders.Read' });
      const res = await call(server, '/orders', token);
      expect(res.status).toBe(200);
      const { authorizer } = JSON.parse(res.body);
      const seen = kind === 'http' ? authorizer.jwt.claims : authorizer.claims;
      expect(seen).toMatchObject({ iss: ISSUER, aud: CLIENT, tid: TENANT });
    });

    it('token --route on a route no JWT authorizer guards: one line, exit 2', async () => {
      const run = await runScript('infra/local/cli.ts', [
        'token',
        '--route',
        'GET /admin',
        '--assembly',
        assembly,
        '--stack',
        stack,
        '--port',
        String(server.port),
      ]);
      expect(run.code).toBe(2);
      expect(run.stderr.trim().split('\n')).toEqual([
        'npm run token: --route GET /admin: no JWT authorizer guards that route of the served API (without --route, the token is for its Entra authorizer)',
      ]);
    });

    it('the JWT route: 401 without a token, 403 without its scope', async () => {
      expect((await call(server, '/orders')).status).toBe(401);
      const unscoped = await issue(server, { scope: 'Other.Scope', audience: CLIENT });
      expect((await call(server, '/orders', unscoped)).status).toBe(403);
    });

    it('the Entra Lambda route beside it: its own rules (an app role), its own context', async () => {
      const admin = await issue(server, {
        grant_type: 'client_credentials',
        scope: `api://${CLIENT}/.default`,
        roles: 'Orders.Admin',
        audience: CLIENT,
      });
      const res = await call(server, '/admin', admin);
      expect(res.status).toBe(200);
      const { authorizer } = JSON.parse(res.body);
      const context = kind === 'http' ? authorizer.lambda : authorizer;
      expect(context.roles).toContain('Orders.Admin');
      // The JWT route's scoped user token is no app-role token: the Lambda refuses it.
      const user = await issue(server, { scope: 'Orders.Read', audience: CLIENT });
      expect((await call(server, '/admin', user)).status).toBe(403);
      expect((await call(server, '/orders', admin)).status).toBe(403);
    });
  },
);

describe("an API that only API Gateway's own JWT authorizer guards, locally", () => {
  let server: AssemblyServer;
  beforeAll(async () => {
    server = await startAssemblyServer({
      assemblyDir: assembly,
      stack: 'JwtOnly',
      port: 0,
      dataDir: join(work, 'issuer-only'),
    });
  }, 120_000);
  afterAll(() => server?.stop());

  it('is served; the issuer mints for its issuer, audience and scope what `npx entra-authorizer token` asks without flags', async () => {
    // The packaged command's request without flags: the served authorizer's tenant, its scopes.
    const res = await fetch(`${server.url}/login/organizations/oauth2/v2.0/token`, {
      method: 'POST',
      body: new URLSearchParams({ grant_type: LOCAL_USER_GRANT, token_version: '2', expires_in: '3600' }),
    });
    const token = ((await res.json()) as { access_token: string }).access_token;
    const claims = JSON.parse(Buffer.from(token.split('.')[1] as string, 'base64url').toString('utf8'));
    expect(claims).toMatchObject({ iss: ISSUER, aud: CLIENT, scp: 'Orders.Read' });
    expect((await call(server, '/orders', token)).status).toBe(200);
    expect((await call(server, '/orders')).status).toBe(401);
  });
});
