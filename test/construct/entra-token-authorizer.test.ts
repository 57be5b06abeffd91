import { Annotations, Duration, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { RestApi } from 'aws-cdk-lib/aws-apigateway';
import { RetentionDays } from 'aws-cdk-lib/aws-logs';
import { describe, expect, it } from 'vitest';
import type { EntraTokenAuthorizerProps } from '../../infra/construct/authorizer-props.js';
import {
  EntraTokenAuthorizer,
  GATEWAY_RESPONSES_WARNING,
} from '../../infra/construct/entra-token-authorizer.js';
import { readAppContext } from '../../infra/sample/app-context.js';
import { ENV_NAMES } from '../../lambda/authorizer/config.js';
import { testApp } from '../helpers/cdk.js';

const TENANT = '72f988bf-86f1-41af-91ab-2d7cd011db47';
const CLIENT = '6e74172b-be56-4843-9ff4-e66a39bb12e3';

function build(props: Partial<EntraTokenAuthorizerProps>) {
  const stack = new Stack(testApp(), 'S');
  const construct = new EntraTokenAuthorizer(stack, 'Entra', {
    tenantId: TENANT,
    clientId: CLIENT,
    ...props,
  });
  // An authorizer must guard a method to be synthesized (and route keys must match one).
  new RestApi(stack, 'Api').root
    .addResource('items')
    .addMethod('GET', undefined, { authorizer: construct.authorizer });
  return { construct, template: Template.fromStack(stack) };
}

describe('EntraTokenAuthorizer', () => {
  it('passes its props to the Lambda as the AZURE_* contract', () => {
    const { template, construct } = build({
      tenantId: 'organizations',
      allowedTenants: [TENANT],
      audiences: ['api://custom'],
      requiredRoles: ['Items.Admin'],
      routePermissions: { 'GET /items': { scopes: ['Items.Read'] } },
      jwksUri: 'https://login.microsoftonline.us/organizations/discovery/v2.0/keys',
      authorityHost: 'login.microsoftonline.us',
      clockSkew: Duration.seconds(60),
      resultsCacheTtl: Duration.seconds(0),
      logRetention: RetentionDays.ONE_WEEK,
      logLevel: 'DEBUG',
    });
    expect(construct.environment).toEqual({
      [ENV_NAMES.tenantId]: 'organizations',
      [ENV_NAMES.allowedTenants]: TENANT,
      [ENV_NAMES.audiences]: `${CLIENT},api://${CLIENT},api://custom`,
      [ENV_NAMES.requiredRoles]: 'Items.Admin',
      [ENV_NAMES.routePermissions]: '{"GET /items":{"scopes":["Items.Read"]}}',
      [ENV_NAMES.jwksUri]: 'https://login.microsoftonline.us/organizations/discovery/v2.0/keys',
      [ENV_NAMES.authorityHost]: 'login.microsoftonline.us',
      [ENV_NAMES.clockSkewSeconds]: '60',
    });
    template.hasResourceProperties('AWS::ApiGateway::Authorizer', { AuthorizerResultTtlInSeconds: 0 });
    template.hasResourceProperties('AWS::Logs::LogGroup', { RetentionInDays: 7 });
    template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: { Variables: { POWERTOOLS_LOG_LEVEL: 'DEBUG' } },
    });
  });

  const bad: [string, Partial<EntraTokenAuthorizerProps>, RegExp][] = [
    ['a tenant that is not a GUID', { tenantId: 'contoso' }, /tenantId must be a tenant GUID.*got "contoso"/],
    [
      'multi-tenant without allowedTenants',
      { tenantId: 'common' },
      /allowedTenants must be tenant GUIDs, or \['\*'\] for any tenant, because tenantId is "common"/,
    ],
    [
      'allowedTenants on a single tenant',
      { allowedTenants: [TENANT] },
      /allowedTenants must be unset for the single tenant/,
    ],
    [
      'allowedTenants mixing * and GUIDs',
      { tenantId: 'common', allowedTenants: ['*', TENANT] },
      /allowedTenants must be tenant GUIDs, or exactly/,
    ],
    [
      'a client id that is not a GUID',
      { clientId: 'my-api' },
      /clientId must be the application \(client\) id GUID; got "my-api"/,
    ],
    ['no audience at all', { clientId: undefined }, /clientId or audiences must be given/],
    [
      'a scope with a space',
      { requiredScopes: ['a b'] },
      /requiredScopes must be scope names Entra can write in scp: 1 to 120 letters, digits or ASCII punctuation/,
    ],
    [
      'a bad route key',
      { routePermissions: { '/items': {} } },
      /routePermissions keys must be "METHOD \/path", such as "GET \/items\/{id}" or "ANY \/{proxy\+}"/,
    ],
    [
      'a skew over ten minutes',
      { clockSkew: Duration.minutes(11) },
      /clockSkew must be a whole number of seconds from 0 to 600; got "660s"/,
    ],
    [
      'a timeout over 10 s',
      { timeout: Duration.seconds(30) },
      /timeout must be whole seconds from 3 to 10; got "30s"/,
    ],
    [
      'a cache TTL over an hour',
      { resultsCacheTtl: Duration.hours(2) },
      /resultsCacheTtl must be whole seconds, at most 1 hour/,
    ],
    [
      'an http key URL',
      { jwksUri: 'http://keys.example/k' },
      /^EntraTokenAuthorizer: jwksUri must be an https URL/,
    ],
    [
      'a metrics namespace CloudWatch reserves',
      { metricsNamespace: 'AWS/Lambda' },
      /^EntraTokenAuthorizer: metricsNamespace must be a namespace that starts with neither ":" nor "AWS\/"/,
    ],
    [
      'a log level the Lambda does not know',
      { logLevel: 'VERBOSE' as never },
      /^EntraTokenAuthorizer: logLevel must be one of TRACE/,
    ],
    [
      'Microsoft Graph as an audience',
      { audiences: ['https://graph.microsoft.com'] },
      /^EntraTokenAuthorizer: audiences must be your API's client id or App ID URI; https:\/\/graph\.microsoft\.com is the audience of Microsoft Graph/,
    ],
  ];
  it.each(bad)('refuses %s, naming the prop', (_, props, message) => {
    expect(() => build(props)).toThrow(message);
  });
});

describe('addGatewayResponses', () => {
  const api = (restApiName: string) => {
    const stack = new Stack(testApp(), 'S');
    const entra = new EntraTokenAuthorizer(stack, 'Entra', { tenantId: TENANT, clientId: CLIENT });
    const rest = new RestApi(stack, 'Api', { restApiName });
    rest.root.addMethod('GET', undefined, { authorizer: entra.authorizer });
    return { entra, api: rest };
  };

  it('takes the realm from the API name, and says to pass one when the name cannot serve', () => {
    const ok = api('Items');
    ok.entra.addGatewayResponses(ok.api);
    const responses = Template.fromStack(Stack.of(ok.api)).findResources('AWS::ApiGateway::GatewayResponse');
    expect(JSON.stringify(responses)).toContain(`'Bearer realm=\\"Items\\"'`);
    for (const name of ['My API "v2"', 'Café']) {
      const bad = api(name);
      expect(() => bad.entra.addGatewayResponses(bad.api)).toThrow(
        /^addGatewayResponses: realm \(by default the API name, which cannot serve here: pass \{ realm \}\) must be printable ASCII/,
      );
      expect(() => bad.entra.addGatewayResponses(bad.api, { realm: 'Items' })).not.toThrow();
    }
  });
});

describe('synth mistakes the construct names', () => {
  const synthOf = (guard: 'none' | 'method' | 'responses', acknowledge = false) => {
    const app = testApp();
    const stack = new Stack(app, 'S');
    const entra = new EntraTokenAuthorizer(stack, 'Entra', { tenantId: TENANT, clientId: CLIENT });
    const rest = new RestApi(stack, 'Api', { restApiName: 'Items' });
    rest.root.addMethod('GET', undefined, guard === 'none' ? {} : { authorizer: entra.authorizer });
    if (guard === 'responses') entra.addGatewayResponses(rest);
    if (acknowledge) Annotations.of(entra).acknowledgeWarning(GATEWAY_RESPONSES_WARNING);
    return () => app.synth().getStackByName('S').messages;
  };

  it('an authorizer no method uses fails the synth in its own words, not CDK\'s "must be attached to a RestApi"', () => {
    expect(synthOf('none')).toThrow(
      /^EntraTokenAuthorizer: authorizer must be used by the methods it guards \(defaultMethodOptions: \{ authorizer: entra\.authorizer \} on your RestApi, the authorizer option of a method, or entra\.addMethod\(\.\.\.\)\); got nothing$/,
    );
  });

  it('a guarded RestApi without addGatewayResponses is a warning with an id users can acknowledge', () => {
    const warnings = (messages: readonly { level: string; entry: { data?: unknown } }[]) =>
      messages.filter((m) => m.level === 'warning').map((m) => String(m.entry.data));
    expect(warnings(synthOf('method')())).toEqual([
      `EntraTokenAuthorizer: S/Api has no UNAUTHORIZED and ACCESS_DENIED gateway responses, so its 401s and 403s carry no WWW-Authenticate challenge and no CORS headers (a browser sees a CORS error, not the status): call entra.addGatewayResponses(api) [ack: ${GATEWAY_RESPONSES_WARNING}]`,
    ]);
    expect(warnings(synthOf('responses')())).toEqual([]);
    expect(warnings(synthOf('method', true)())).toEqual([]);
  });
});

describe('cdk deploy context', () => {
  const get = (values: Record<string, string>) => (key: string) => values[key];

  it('reads tenantId, clientId and the optional lists', () => {
    expect(
      readAppContext(
        get({
          tenantId: 'common',
          clientId: CLIENT.toUpperCase(),
          allowedTenants: `${TENANT}, *`,
          requiredScopes: 'a,b',
        }),
      ),
    ).toEqual({
      tenantId: 'common',
      clientId: CLIENT,
      allowedTenants: [TENANT, '*'],
      requiredScopes: ['a', 'b'],
      requiredRoles: undefined,
      audiences: undefined,
    });
  });

  it.each([
    [{}, /tenantId is missing: pass it to cdk \(synth, deploy or destroy\) as: -c tenantId=/],
    [{ tenantId: 'contoso' }, /tenantId must be .*got "contoso".*-c tenantId=/],
    [
      { tenantId: TENANT },
      /clientId is missing: pass it to cdk \(synth, deploy or destroy\) as: -c clientId=/,
    ],
    [{ tenantId: TENANT, clientId: 'x' }, /clientId must be .*got "x".*-c clientId=/],
    [{ tenantId: 'organizations', clientId: CLIENT }, /allowedTenants is required .*-c allowedTenants=/],
  ])('fails the synth for %j with a message naming the key', (values, message) => {
    expect(() => readAppContext(get(values as Record<string, string>))).toThrow(message);
  });
});
