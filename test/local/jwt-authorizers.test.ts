import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ApiServer, startApiServer } from '../../infra/local/api-server.js';
import { type CfnTemplate, readApiModel, TemplateError } from '../../infra/local/api-template.js';
import type { LambdaHandler } from '../../infra/local/gateway.js';
import { readHttpApiModel } from '../../infra/local/http-api-template.js';
import { type IssuerKey, loadOrCreateIssuerKey } from '../../infra/local/issuer.js';
import { entraIssuerParts } from '../../infra/local/jwt-route-token.js';
import {
  createSigningKey,
  entraAccessTokenClaims,
  mintEntraAccessToken,
  signJwt,
} from '../../infra/local/mint.js';

/**
 * API Gateway's own JWT authorizers served locally from hand-written templates of the documented shapes:
 * an HTTP API's `AuthorizerType: JWT` (JwtConfiguration Issuer/Audience, route AuthorizationScopes) and a
 * REST API's `Type: JWT` (JwtConfiguration DefaultAlgorithms and Issuers with Audiences and
 * AdditionalClaims, method AuthorizationScopes). Every expected status is the documentation's:
 * _Control access to HTTP APIs with JWT authorizers_, _Troubleshooting issues with HTTP API JWT
 * authorizers_, _Control access to REST APIs using JWT authorizers_ and its pages on methods and claims.
 */

const TENANT = '5b3c2a1d-0e9f-4a8b-9c7d-6e5f4a3b2c1d';
const OTHER_TENANT = '0f1e2d3c-4b5a-4968-8776-a5b4c3d2e1f0';
const AUDIENCE = '7c6b5a49-3827-4165-9504-a3b2c1d0e9f8';
const ISSUER = `https://login.microsoftonline.com/${TENANT}/v2.0`;
const V1_ISSUER = `https://sts.windows.net/${TENANT}/`;
const CLIENT_APP = 'c11e0700-0000-4000-8000-0000000c11e0';

const api = { Ref: 'Api' };
const backendUri = { 'Fn::GetAtt': ['Backend', 'Arn'] };
const BACKEND = {
  Type: 'AWS::Lambda::Function',
  Properties: { Runtime: 'nodejs22.x', Handler: 'index.handler', Timeout: 3 },
};

const HTTP_TEMPLATE: CfnTemplate = {
  Resources: {
    Api: { Type: 'AWS::ApiGatewayV2::Api', Properties: { Name: 'jwt', ProtocolType: 'HTTP' } },
    Stage: { Type: 'AWS::ApiGatewayV2::Stage', Properties: { ApiId: api, StageName: '$default' } },
    Backend: BACKEND,
    Jwt: {
      Type: 'AWS::ApiGatewayV2::Authorizer',
      Properties: {
        ApiId: api,
        Name: 'Jwt',
        AuthorizerType: 'JWT',
        IdentitySource: ['$request.header.Authorization'],
        JwtConfiguration: { Issuer: ISSUER, Audience: [AUDIENCE] },
      },
    },
    Integration: {
      Type: 'AWS::ApiGatewayV2::Integration',
      Properties: {
        ApiId: api,
        IntegrationType: 'AWS_PROXY',
        IntegrationUri: backendUri,
        PayloadFormatVersion: '2.0',
      },
    },
    Scoped: route('GET /orders', { AuthorizationScopes: ['Orders.Read', 'Orders.Admin'] }),
    Open: route('GET /any', {}),
  },
};

function route(routeKey: string, props: Record<string, unknown>) {
  return {
    Type: 'AWS::ApiGatewayV2::Route',
    Properties: {
      ApiId: api,
      RouteKey: routeKey,
      AuthorizationType: 'JWT',
      AuthorizerId: { Ref: 'Jwt' },
      Target: { 'Fn::Join': ['', ['integrations/', { Ref: 'Integration' }]] },
      ...props,
    },
  };
}

const root = { 'Fn::GetAtt': ['Api', 'RootResourceId'] };
const REST_TEMPLATE: CfnTemplate = {
  Resources: {
    Api: { Type: 'AWS::ApiGateway::RestApi', Properties: { Name: 'jwt' } },
    Stage: { Type: 'AWS::ApiGateway::Stage', Properties: { RestApiId: api, StageName: 'prod' } },
    Backend: BACKEND,
    Orders: {
      Type: 'AWS::ApiGateway::Resource',
      Properties: { RestApiId: api, ParentId: root, PathPart: 'orders' },
    },
    Echo: {
      Type: 'AWS::ApiGateway::Resource',
      Properties: { RestApiId: api, ParentId: root, PathPart: 'echo' },
    },
    Jwt: {
      Type: 'AWS::ApiGateway::Authorizer',
      Properties: {
        RestApiId: api,
        Name: 'Jwt',
        Type: 'JWT',
        IdentitySource: 'method.request.header.Authorization',
        JwtConfiguration: {
          DefaultAlgorithms: ['RS256'],
          Issuers: [
            {
              Issuer: ISSUER,
              Audiences: [AUDIENCE],
              AdditionalClaims: [
                { ClaimName: 'azp', Format: 'SINGLE_STRING', ExpectedValues: [CLIENT_APP], Required: true },
              ],
            },
            { Issuer: V1_ISSUER, Audiences: [`api://${AUDIENCE}`] },
          ],
        },
      },
    },
    GetOrders: method({ Ref: 'Orders' }, ['Orders.Read'], {
      Type: 'AWS_PROXY',
      IntegrationHttpMethod: 'POST',
      Uri: backendUri,
    }),
    GetEcho: method({ Ref: 'Echo' }, [], {
      Type: 'MOCK',
      RequestTemplates: { 'application/json': '{"statusCode": 200}' },
      IntegrationResponses: [
        {
          StatusCode: '200',
          ResponseParameters: { 'method.response.header.X-Name': 'context.authorizer.claims.name' },
          ResponseTemplates: { 'application/json': '{}' },
        },
      ],
    }),
  },
};

function method(resource: unknown, scopes: string[], integration: Record<string, unknown>) {
  return {
    Type: 'AWS::ApiGateway::Method',
    Properties: {
      RestApiId: api,
      ResourceId: resource,
      HttpMethod: 'GET',
      AuthorizationType: 'JWT',
      AuthorizerId: { Ref: 'Jwt' },
      ...(scopes.length > 0 ? { AuthorizationScopes: scopes } : {}),
      Integration: integration,
      MethodResponses: [{ StatusCode: '200', ResponseParameters: { 'method.response.header.X-Name': true } }],
    },
  };
}

const work = mkdtempSync(join(tmpdir(), 'entra-jwt-'));
let key: IssuerKey;
afterAll(() => rmSync(work, { recursive: true, force: true }));
beforeAll(async () => {
  key = await loadOrCreateIssuerKey(work);
});

let backendCalls = 0;
/** The backend answers with what it received as `requestContext.authorizer`. */
const backend: LambdaHandler = async (event) => {
  backendCalls += 1;
  return { statusCode: 200, body: JSON.stringify(event.requestContext.authorizer ?? null) };
};

function serve(template: CfnTemplate, kind: 'http' | 'rest'): Promise<ApiServer> {
  return startApiServer({
    port: 0,
    api: kind === 'http' ? readHttpApiModel(template) : readApiModel(template),
    issuer: { key, tenantId: TENANT, anyTenant: true },
    functions: async () => new Map([['Backend', backend]]),
  });
}

const nowSeconds = () => Math.floor(Date.now() / 1000);
const token = (options: Partial<Parameters<typeof mintEntraAccessToken>[1]> = {}) =>
  mintEntraAccessToken(key, {
    tenantId: TENANT,
    audience: AUDIENCE,
    scopes: ['Orders.Read'],
    clientId: CLIENT_APP,
    ...options,
  });
/** A token of the local issuer's key with these claims exactly. */
const signed = (claims: Record<string, unknown>) =>
  signJwt({ typ: 'JWT', alg: 'RS256', kid: key.kid }, claims, key.privateKey);

async function call(server: ApiServer, path: string, authorization?: string) {
  const before = backendCalls;
  const res = await fetch(`${server.url}${path}`, {
    headers: authorization === undefined ? {} : { authorization },
  });
  return {
    status: res.status,
    headers: res.headers,
    body: await res.text(),
    reachedBackend: backendCalls > before,
  };
}

describe('an HTTP API JWT authorizer (AuthorizerType JWT) served locally', () => {
  let server: ApiServer;
  beforeAll(async () => {
    server = await serve(HTTP_TEMPLATE, 'http');
  });
  afterAll(() => server?.stop());

  it('admits a token with one of the route scopes; the backend reads requestContext.authorizer.jwt', async () => {
    const res = await call(server, '/orders', `Bearer ${token()}`);
    expect(res.status).toBe(200);
    const authorizer = JSON.parse(res.body);
    expect(authorizer.jwt.claims.iss).toBe(ISSUER);
    expect(authorizer.jwt.claims.aud).toBe(AUDIENCE);
    expect(authorizer.jwt.claims.scp).toBe('Orders.Read');
    // The documented payload 2.0 example shows every claim as a string.
    expect(typeof authorizer.jwt.claims.exp).toBe('string');
    expect(authorizer.jwt.scopes).toEqual(['Orders.Read']);
    expect(authorizer.lambda).toBeUndefined();
  });

  it('takes the token with or without Bearer, and any one of several scopes', async () => {
    expect((await call(server, '/orders', token())).status).toBe(200);
    expect((await call(server, '/orders', `Bearer ${token({ scopes: ['x', 'Orders.Admin'] })}`)).status).toBe(
      200,
    );
  });

  it('401 with invalid_token and no backend call without a token', async () => {
    const res = await call(server, '/orders');
    expect(res.status).toBe(401);
    expect(JSON.parse(res.body)).toEqual({ message: 'Unauthorized' });
    expect(res.headers.get('www-authenticate')).toMatch(
      /^Bearer scope="Orders.Read Orders.Admin" error="invalid_token"/,
    );
    expect(res.reachedBackend).toBe(false);
  });

  it('403 Forbidden for a valid token with none of the route scopes; a route without scopes admits it', async () => {
    const bare = token({ scopes: ['Other.Scope'] });
    const res = await call(server, '/orders', `Bearer ${bare}`);
    expect(res.status).toBe(403);
    expect(JSON.parse(res.body)).toEqual({ message: 'Forbidden' });
    expect(res.reachedBackend).toBe(false);
    expect((await call(server, '/any', `Bearer ${bare}`)).status).toBe(200);
    const appOnly = token({ appOnly: true, roles: ['Orders.Read'] });
    expect((await call(server, '/orders', `Bearer ${appOnly}`)).status).toBe(403);
  });

  it('401 for an issuer that is not exactly the configured one: v1, another tenant, a trailing slash', async () => {
    for (const bad of [
      token({ version: '1.0' }),
      token({ tenantId: OTHER_TENANT }),
      signed({
        ...entraAccessTokenClaims({ tenantId: TENANT, audience: AUDIENCE, scopes: ['Orders.Read'] }),
        iss: `${ISSUER}/`,
      }),
    ]) {
      const res = await call(server, '/orders', `Bearer ${bad}`);
      expect(res.status).toBe(401);
      expect(res.headers.get('www-authenticate')).toContain('valid issuer');
    }
  });

  it('401 for another audience; client_id stands in for a missing aud, as documented', async () => {
    const res = await call(server, '/orders', `Bearer ${token({ audience: `api://${AUDIENCE}` })}`);
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toContain(
      'error_description="the token does not have a valid audience"',
    );
    const { aud: _, ...claims } = entraAccessTokenClaims({
      tenantId: TENANT,
      audience: AUDIENCE,
      scopes: ['Orders.Read'],
    });
    expect(
      (await call(server, '/orders', `Bearer ${signed({ ...claims, client_id: AUDIENCE })}`)).status,
    ).toBe(200);
    expect(
      (await call(server, '/orders', `Bearer ${signed({ ...claims, client_id: 'someone' })}`)).status,
    ).toBe(401);
  });

  it('401 for an expired token, one not valid yet, one issued in the future', async () => {
    const expired = token({ expiresInSeconds: -60 });
    expect((await call(server, '/orders', `Bearer ${expired}`)).status).toBe(401);
    const later = token({ nowSeconds: nowSeconds() + 600 });
    expect((await call(server, '/orders', `Bearer ${later}`)).status).toBe(401);
    const base = entraAccessTokenClaims({ tenantId: TENANT, audience: AUDIENCE, scopes: ['Orders.Read'] });
    const futureIat = signed({ ...base, iat: nowSeconds() + 600 });
    expect((await call(server, '/orders', `Bearer ${futureIat}`)).status).toBe(401);
  });

  it('401 for a signature of another key, an algorithm not RSA, or no JWT at all', async () => {
    const other = createSigningKey();
    const base = entraAccessTokenClaims({ tenantId: TENANT, audience: AUDIENCE, scopes: ['Orders.Read'] });
    const forged = signJwt({ typ: 'JWT', alg: 'RS256', kid: key.kid }, base, other.privateKey);
    expect((await call(server, '/orders', `Bearer ${forged}`)).status).toBe(401);
    const [h, p] = token().split('.');
    const none = `${Buffer.from(JSON.stringify({ alg: 'none', kid: key.kid })).toString('base64url')}.${p}.`;
    expect((await call(server, '/orders', `Bearer ${none}`)).status).toBe(401);
    expect((await call(server, '/orders', `Bearer ${h}.${p}`)).status).toBe(401);
    expect((await call(server, '/orders', 'Bearer not-a-jwt')).status).toBe(401);
  });
});

describe('a REST API JWT authorizer (Type JWT) served locally from the documented template shape', () => {
  let server: ApiServer;
  beforeAll(async () => {
    server = await serve(REST_TEMPLATE, 'rest');
  });
  afterAll(() => server?.stop());

  it('admits a token with the method scope; a Lambda proxy receives each claim with its JSON type', async () => {
    const res = await call(server, '/orders', `Bearer ${token()}`);
    expect(res.status).toBe(200);
    const authorizer = JSON.parse(res.body);
    expect(authorizer.claims.iss).toBe(ISSUER);
    expect(typeof authorizer.claims.exp).toBe('number');
    expect(authorizer.claims.scp).toBe('Orders.Read');
  });

  it('trusts several issuers, each with its own audiences', async () => {
    const v1 = token({ version: '1.0', audience: `api://${AUDIENCE}` });
    expect((await call(server, '/orders', `Bearer ${v1}`)).status).toBe(200);
    // The v2 issuer's audience is not the v1 issuer's.
    const v1WrongAudience = token({ version: '1.0', audience: AUDIENCE });
    expect((await call(server, '/orders', `Bearer ${v1WrongAudience}`)).status).toBe(401);
  });

  it('parameter mappings read $context.authorizer.claims.<name> as JSON text, non-ASCII escaped', async () => {
    const user = {
      oid: '00000000-0000-4000-8000-00000000b0b0',
      name: 'Zoë "Z" Example',
      username: 'zoe@contoso.example',
    };
    const res = await call(server, '/echo', `Bearer ${token({ user })}`);
    expect(res.status).toBe(200);
    expect(res.headers.get('x-name')).toBe('"Zo\\u00EB \\"Z\\" Example"');
  });

  it('401 without a token, for an expired one, an unknown issuer, or another audience', async () => {
    for (const authorization of [
      undefined,
      `Bearer ${token({ expiresInSeconds: -60 })}`,
      `Bearer ${token({ tenantId: OTHER_TENANT })}`,
      `Bearer ${token({ audience: 'api://someone-else' })}`,
    ]) {
      const res = await call(server, '/orders', authorization);
      expect(res.status).toBe(401);
      expect(JSON.parse(res.body)).toEqual({ message: 'Unauthorized' });
      expect(res.reachedBackend).toBe(false);
    }
  });

  it('401 when an additional claim is not one of its expected values, or a required one is missing', async () => {
    expect((await call(server, '/orders', `Bearer ${token({ clientId: 'another-client' })}`)).status).toBe(
      401,
    );
    const { azp: _, ...claims } = entraAccessTokenClaims({
      tenantId: TENANT,
      audience: AUDIENCE,
      scopes: ['Orders.Read'],
    });
    expect((await call(server, '/orders', `Bearer ${signed(claims)}`)).status).toBe(401);
    // The v1 issuer has no additional claim rule: its tokens carry appid, not azp.
    expect(
      (
        await call(
          server,
          '/orders',
          `Bearer ${token({ version: '1.0', audience: `api://${AUDIENCE}`, clientId: 'x' })}`,
        )
      ).status,
    ).toBe(200);
  });

  it('403 for a valid token without the method scope', async () => {
    const res = await call(server, '/orders', `Bearer ${token({ scopes: ['Other.Scope'] })}`);
    expect(res.status).toBe(403);
    expect(res.reachedBackend).toBe(false);
  });
});

describe('reading JWT authorizers from a template', () => {
  it('refuses what API Gateway documents it refuses, naming the resource and the property', () => {
    const jwt = REST_TEMPLATE.Resources.Jwt as { Properties: Record<string, unknown> };
    const broken: CfnTemplate = {
      Resources: {
        ...REST_TEMPLATE.Resources,
        Jwt: {
          ...jwt,
          Type: 'AWS::ApiGateway::Authorizer',
          Properties: {
            ...jwt.Properties,
            JwtConfiguration: {
              DefaultAlgorithms: ['HS256'],
              Issuers: [
                { Issuer: 'http://insecure.example', Audiences: ['a'] },
                {
                  Issuer: ISSUER,
                  Audiences: [],
                  AdditionalClaims: [{ ClaimName: 'scp', Format: 'SINGLE_STRING' }],
                },
              ],
            },
          },
        },
      },
    };
    let message = '';
    try {
      readApiModel(broken);
    } catch (err) {
      if (!(err instanceof TemplateError)) throw err;
      message = err.message;
    }
    expect(message).toContain('Jwt (AWS::ApiGateway::Authorizer JWT): JwtConfiguration.DefaultAlgorithms');
    expect(message).toContain('Issuers[0].Issuer must be an absolute https URL');
    expect(message).toContain('Issuers[1].Audiences needs audiences');
    expect(message).toContain('Issuers[1].AdditionalClaims[0]: ClaimName must be a claim other than');
  });

  it('a route whose JWT authorizer reads the token elsewhere than one header is answered 501 and named', () => {
    const jwt = HTTP_TEMPLATE.Resources.Jwt as { Properties: Record<string, unknown> };
    const model = readHttpApiModel({
      Resources: {
        ...HTTP_TEMPLATE.Resources,
        Jwt: {
          ...jwt,
          Type: 'AWS::ApiGatewayV2::Authorizer',
          Properties: { ...jwt.Properties, IdentitySource: ['$request.querystring.token'] },
        },
      },
    });
    expect(model.unsupported).toEqual([
      expect.stringMatching(
        /^GET \/orders: the JWT authorizer Jwt's IdentitySource .* is not emulated locally/,
      ),
      expect.stringMatching(/^GET \/any: /),
    ]);
  });

  it('knows the Entra issuers the local issuer mints for', () => {
    expect(entraIssuerParts(ISSUER)).toEqual({ tenant: TENANT, version: '2', externalId: false });
    expect(entraIssuerParts(V1_ISSUER)).toEqual({ tenant: TENANT, version: '1', externalId: false });
    expect(entraIssuerParts(`https://${TENANT}.ciamlogin.com/${TENANT}/v2.0`)).toEqual({
      tenant: TENANT,
      version: '2',
      externalId: true,
    });
    expect(entraIssuerParts('https://cognito-idp.us-east-1.amazonaws.com/pool')).toBeUndefined();
    expect(entraIssuerParts(`${ISSUER}/`)).toBeUndefined();
  });
});
