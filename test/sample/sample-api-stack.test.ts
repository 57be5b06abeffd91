import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Validations } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import { describe, expect, it } from 'vitest';
import { SAMPLE_ROUTES } from '../../infra/sample/routes.js';
import { SampleApiStack } from '../../infra/sample/sample-api-stack.js';
import { BEARER_HEADER_PATTERN } from '../../lambda/authorizer/bearer.js';
import { ENV_NAMES } from '../../lambda/authorizer/config.js';
import { CORS_ALLOW_ORIGIN_ENV } from '../../lambda/shared/cors.js';
import { testApp } from '../helpers/cdk.js';

const TENANT = '72f988bf-86f1-41af-91ab-2d7cd011db47';
const CLIENT = '6e74172b-be56-4843-9ff4-e66a39bb12e3';

function synth(entra: Record<string, unknown> = {}, props: { allowOrigin?: string } = {}) {
  const app = testApp();
  const stack = new SampleApiStack(app, 'Sample', {
    entra: { tenantId: TENANT, clientId: CLIENT, ...entra },
    ...props,
  });
  return { app, stack, template: Template.fromStack(stack) };
}

describe('the sample stack', () => {
  // Deployed as the README says: only the tenant and the client id.
  const { template, stack } = synth();

  it('has a TOKEN authorizer on the Authorization header with the Bearer regex and an explicit TTL', () => {
    template.hasResourceProperties('AWS::ApiGateway::Authorizer', {
      Type: 'TOKEN',
      IdentitySource: 'method.request.header.Authorization',
      IdentityValidationExpression: BEARER_HEADER_PATTERN,
      AuthorizerResultTtlInSeconds: 300,
    });
  });

  it('has a validation regex that passes a Bearer JWT and turns away anything else', () => {
    const regex = new RegExp(BEARER_HEADER_PATTERN);
    expect(regex.test('Bearer eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln')).toBe(true);
    expect(regex.test('bearer eyJh.eyJz.c2ln')).toBe(true);
    for (const bad of ['Basic dXNlcjpwYXNz', 'Bearer', 'Bearer a.b', 'Bearer  a.b.c', 'eyJh.eyJz.c2ln']) {
      expect(regex.test(bad)).toBe(false);
    }
  });

  it('runs the authorizer on Node.js 22, arm64, with at most 10 s and the AZURE_* environment', () => {
    template.hasResourceProperties('AWS::Lambda::Function', {
      Description: 'Entra ID access token authorizer',
      Runtime: 'nodejs22.x',
      Architectures: ['arm64'],
      Timeout: 10,
      Environment: {
        Variables: {
          [ENV_NAMES.tenantId]: TENANT,
          [ENV_NAMES.audiences]: `${CLIENT},api://${CLIENT}`,
          // The route table's rule: GET /whoami needs the delegated scope access_as_user.
          [ENV_NAMES.routePermissions]: JSON.stringify({ 'GET /whoami': { scopes: ['access_as_user'] } }),
          [ENV_NAMES.clockSkewSeconds]: '300',
          POWERTOOLS_SERVICE_NAME: 'entra-authorizer',
          POWERTOOLS_LOG_LEVEL: 'INFO',
          POWERTOOLS_METRICS_NAMESPACE: 'EntraAuthorizer',
        },
      },
      LoggingConfig: { LogGroup: Match.anyValue() },
    });
    template.hasResourceProperties('AWS::Logs::LogGroup', { RetentionInDays: 30 });
    expect(JSON.stringify(template.findResources('Custom::LogRetention'))).toBe('{}');
  });

  it('guards every method but CORS preflight with the authorizer', () => {
    const methods = Object.values(template.findResources('AWS::ApiGateway::Method')) as {
      Properties: { HttpMethod: string; AuthorizationType: string; AuthorizerId?: unknown };
    }[];
    const guarded = methods.filter((m) => m.Properties.HttpMethod !== 'OPTIONS');
    expect(guarded.length).toBeGreaterThan(0);
    for (const m of guarded) {
      expect(m.Properties.AuthorizationType).toBe('CUSTOM');
      expect(m.Properties.AuthorizerId).toEqual({ Ref: expect.stringMatching(/^EntraAuthorizer/) });
    }
    template.hasResourceProperties('AWS::ApiGateway::Method', {
      HttpMethod: 'GET',
      AuthorizationType: 'CUSTOM',
    });
  });

  it('requires the scope access_as_user for GET /whoami from the route table alone', () => {
    const variables = Object.values(template.findResources('AWS::Lambda::Function')).map(
      (f) =>
        (f as { Properties: { Environment?: { Variables?: Record<string, string> } } }).Properties.Environment
          ?.Variables ?? {},
    );
    const authorizer = variables.find((v) => v[ENV_NAMES.tenantId] !== undefined) ?? {};
    expect(JSON.parse(authorizer[ENV_NAMES.routePermissions] ?? '{}')).toEqual({
      'GET /whoami': { scopes: ['access_as_user'] },
    });
    // No stage-wide requirement: the rule lives in the route table, deployed and local alike.
    expect(authorizer[ENV_NAMES.requiredScopes]).toBeUndefined();
  });

  it('answers 401 with a challenge that claims no error, since the token may simply be missing', () => {
    template.hasResourceProperties('AWS::ApiGateway::GatewayResponse', {
      ResponseType: 'UNAUTHORIZED',
      StatusCode: '401',
      ResponseParameters: {
        'gatewayresponse.header.WWW-Authenticate': `'Bearer realm="Sample"'`,
        'gatewayresponse.header.Access-Control-Allow-Origin': "'*'",
        'gatewayresponse.header.Access-Control-Expose-Headers': "'WWW-Authenticate'",
      },
      ResponseTemplates: { 'application/json': '{"message":"Unauthorized"}' },
    });
  });

  it("answers 403 with the Deny's own challenge (its context), exposed to browser scripts", () => {
    template.hasResourceProperties('AWS::ApiGateway::GatewayResponse', {
      ResponseType: 'ACCESS_DENIED',
      StatusCode: '403',
      ResponseParameters: {
        'gatewayresponse.header.WWW-Authenticate': 'context.authorizer.wwwAuthenticate',
        'gatewayresponse.header.Access-Control-Allow-Origin': "'*'",
        'gatewayresponse.header.Access-Control-Expose-Headers': "'WWW-Authenticate'",
      },
    });
  });

  it('answers the authorizer’s own failures with 500 and CORS, and CORS on every other 4XX/5XX', () => {
    for (const type of ['AUTHORIZER_FAILURE', 'AUTHORIZER_CONFIGURATION_ERROR']) {
      template.hasResourceProperties('AWS::ApiGateway::GatewayResponse', {
        ResponseType: type,
        StatusCode: '500',
        ResponseParameters: { 'gatewayresponse.header.Access-Control-Allow-Origin': "'*'" },
      });
    }
    for (const type of ['DEFAULT_4XX', 'DEFAULT_5XX']) {
      template.hasResourceProperties('AWS::ApiGateway::GatewayResponse', {
        ResponseType: type,
        ResponseParameters: { 'gatewayresponse.header.Access-Control-Allow-Origin': "'*'" },
      });
    }
  });

  it('answers the CORS preflight with the routes’ methods and gives backends the allowed origin', () => {
    template.hasResourceProperties('AWS::ApiGateway::Method', {
      HttpMethod: 'OPTIONS',
      Integration: {
        Type: 'MOCK',
        IntegrationResponses: [
          Match.objectLike({
            StatusCode: '204',
            ResponseParameters: {
              'method.response.header.Access-Control-Allow-Headers': "'Authorization,Content-Type'",
              'method.response.header.Access-Control-Allow-Origin': "'*'",
              'method.response.header.Access-Control-Allow-Methods': "'GET'",
              'method.response.header.Access-Control-Max-Age': "'3600'",
            },
          }),
        ],
      },
    });
    template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: { Variables: { [CORS_ALLOW_ORIGIN_ENV]: '*' } },
    });
  });

  it('states a named allowed origin once: preflight, gateway responses and backends', () => {
    const origin = 'https://app.example.com';
    const named = synth({}, { allowOrigin: origin }).template;
    const json = JSON.stringify(named.toJSON());
    expect(json).not.toContain(`"'*'"`);
    named.hasResourceProperties('AWS::ApiGateway::GatewayResponse', {
      ResponseType: 'UNAUTHORIZED',
      ResponseParameters: Match.objectLike({
        'gatewayresponse.header.Access-Control-Allow-Origin': `'${origin}'`,
        'gatewayresponse.header.Vary': "'Origin'",
      }),
    });
    named.hasResourceProperties('AWS::ApiGateway::Method', {
      HttpMethod: 'OPTIONS',
      Integration: {
        IntegrationResponses: [
          Match.objectLike({
            ResponseParameters: Match.objectLike({
              'method.response.header.Access-Control-Allow-Origin': `'${origin}'`,
              'method.response.header.Vary': "'Origin'",
            }),
          }),
        ],
      },
    });
    named.hasResourceProperties('AWS::Lambda::Function', {
      Environment: { Variables: { [CORS_ALLOW_ORIGIN_ENV]: origin } },
    });
  });

  it.each([
    ['https://App.example.com'],
    ['https://app.example.com/'],
    ['app.example.com'],
    ["https://a'b.example"],
  ])('refuses the allowed origin %s, naming the prop', (origin) => {
    expect(() => synth({}, { allowOrigin: origin })).toThrow(/allowOrigin must be "\*" or one origin/);
  });

  it('writes access logs and outputs the API URL and a ready curl line', () => {
    template.hasResourceProperties('AWS::ApiGateway::Stage', {
      AccessLogSetting: { DestinationArn: Match.anyValue(), Format: Match.anyValue() },
    });
    template.hasOutput('ApiUrl', {});
    template.hasOutput('WhoamiCurl', {
      Value: {
        'Fn::Join': [
          '',
          Match.arrayWith([Match.stringLikeRegexp('^curl -H "Authorization: Bearer \\$TOKEN" ')]),
        ],
      },
    });
  });

  it("retains API Gateway's account-level CloudWatch role, which other APIs of the account share", () => {
    const account = template.findResources('AWS::ApiGateway::Account');
    expect(Object.keys(account)).toHaveLength(1);
    const roles = Object.values(template.findResources('AWS::IAM::Role')).filter((r) =>
      JSON.stringify(r).includes('AmazonAPIGatewayPushToCloudWatchLogs'),
    ) as { DeletionPolicy?: string }[];
    expect(roles.map((r) => r.DeletionPolicy)).toEqual(['Retain']);
    expect(Object.values(account).map((a) => (a as { DeletionPolicy?: string }).DeletionPolicy)).toEqual([
      'Retain',
    ]);
  });

  it('reports no warnings or errors', () => {
    expect(Annotations.fromStack(stack).findWarning('*', Match.anyValue())).toEqual([]);
    expect(Annotations.fromStack(stack).findError('*', Match.anyValue())).toEqual([]);
  });

  it('passes the cdk-nag AwsSolutions checks (with written reasons for what it accepts)', () => {
    const app = testApp({ outdir: mkdtempSync(join(tmpdir(), 'nag-')) });
    new SampleApiStack(app, 'Sample', { entra: { tenantId: TENANT, clientId: CLIENT } });
    Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
    expect(() => app.synth()).not.toThrow();
  });

  it('makes cdk-nag fail the synth when a finding has no reason', () => {
    const app = testApp({ outdir: mkdtempSync(join(tmpdir(), 'nag-')) });
    const stack = new SampleApiStack(app, 'Sample', { entra: { tenantId: TENANT, clientId: CLIENT } });
    stack.api.root.addResource('open').addMethod('GET', undefined, { authorizationType: 'NONE' as never });
    Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
    expect(() => app.synth()).toThrow(/AwsSolutions-APIG4/);
  });

  it('redeploys the stage when the authorizer configuration changes', () => {
    const deployment = (t: Template) => Object.keys(t.findResources('AWS::ApiGateway::Deployment'));
    const a = deployment(synth({ requiredScopes: ['a'] }).template);
    const b = deployment(synth({ requiredScopes: ['b'] }).template);
    const a2 = deployment(synth({ requiredScopes: ['a'] }).template);
    expect(a).not.toEqual(b);
    expect(a).toEqual(a2);
  });
});

describe('a route table with path parameters', () => {
  it('builds {param} resources and hands the authorizer the same resource paths', () => {
    const app = testApp();
    const stack = new SampleApiStack(app, 'Params', {
      entra: { tenantId: TENANT, clientId: CLIENT },
      routes: [
        ...SAMPLE_ROUTES,
        {
          method: 'GET',
          path: '/items/{id}',
          entry: SAMPLE_ROUTES[0]?.entry as string,
          id: 'Item',
          permission: {},
        },
        {
          method: 'PUT',
          path: '/files/{path+}',
          entry: SAMPLE_ROUTES[0]?.entry as string,
          id: 'File',
          permission: {},
        },
      ],
    });
    const template = Template.fromStack(stack);
    template.hasResourceProperties('AWS::ApiGateway::Resource', { PathPart: '{id}' });
    template.hasResourceProperties('AWS::ApiGateway::Resource', { PathPart: '{path+}' });
    const env = stack.entraAuthorizer.environment[ENV_NAMES.routePermissions] as string;
    // The authorizer matches {id} to one segment, as API Gateway does; `*` would cross `/`.
    expect(Object.keys(JSON.parse(env))).toEqual(['GET /whoami', 'GET /items/{id}', 'PUT /files/{path+}']);
  });
});
