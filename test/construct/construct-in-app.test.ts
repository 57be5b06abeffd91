import { App, Duration, Stack } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import {
  ApiDefinition,
  AuthorizationType,
  Deployment,
  type IResource,
  MockIntegration,
  RestApi,
  SpecRestApi,
} from 'aws-cdk-lib/aws-apigateway';
import { Alarm, Unit } from 'aws-cdk-lib/aws-cloudwatch';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import { Topic } from 'aws-cdk-lib/aws-sns';
import { describe, expect, it } from 'vitest';
import { environmentSizeProblem } from '../../infra/construct/authorizer-lambda.js';
import type { EntraTokenAuthorizerProps } from '../../infra/construct/authorizer-props.js';
import { EntraTokenAuthorizer } from '../../infra/construct/entra-token-authorizer.js';
import { unlistedMethods } from '../../infra/construct/route-coverage.js';
import { cdkJsonContext } from '../../infra/local/sample-template.js';
import { CONTEXT_KEYS, checkContextKeys } from '../../infra/sample/app-context.js';
import type { DecisionRecord } from '../../lambda/authorizer/authorizer.js';
import { ENV_NAMES } from '../../lambda/authorizer/config.js';
import type { Decision } from '../../lambda/authorizer/decision.js';
import { REASONS, type Reason } from '../../lambda/authorizer/reasons.js';
import { createTelemetry } from '../../lambda/authorizer/telemetry.js';
import { readTelemetryConfig } from '../../lambda/authorizer/telemetry-config.js';
import { testApp } from '../helpers/cdk.js';
import { authorizerFor, grantee, iamAllows } from '../helpers/policy-oracle.js';

const TENANT = '72f988bf-86f1-41af-91ab-2d7cd011db47';
const CLIENT = '6e74172b-be56-4843-9ff4-e66a39bb12e3';
const base = { tenantId: TENANT, clientId: CLIENT };

/** A stack with an API whose methods (`GET /orders`, ...) the authorizer guards by default. */
function apiWith(props: Partial<EntraTokenAuthorizerProps>, methods: readonly string[], app = testApp()) {
  const stack = new Stack(app, 'S');
  const entra = new EntraTokenAuthorizer(stack, 'Entra', { ...base, ...props });
  const api = new RestApi(stack, 'Api', { defaultMethodOptions: { authorizer: entra.authorizer } });
  for (const method of methods) {
    const [httpMethod, path] = method.split(' ') as [string, string];
    let resource: IResource = api.root;
    for (const part of path.split('/').filter((p) => p !== '')) {
      resource = resource.getResource(part) ?? resource.addResource(part);
    }
    resource.addMethod(httpMethod, new MockIntegration());
  }
  return { stack, entra, api };
}

const synthErrors = (stack: Stack): string => {
  try {
    Template.fromStack(stack);
    return '';
  } catch (err) {
    return (err as Error).message;
  }
};

describe('unlistedMethods: the guarded methods no key names, as the construct tells the Lambda', () => {
  const methods = (...names: string[]) =>
    names.map((n) => ({ httpMethod: n.split(' ')[0] as string, resourcePath: n.split(' ')[1] as string }));
  it('names a method only by its own resource path, never by a key that would match its requests', () => {
    expect(unlistedMethods(['GET /items/{id}'], methods('GET /items/{id}', 'GET /items/secret'))).toEqual([
      'GET /items/secret',
    ]);
    expect(unlistedMethods(['get /items/{itemId}'], methods('GET /items/{id}'))).toEqual([]);
    expect(unlistedMethods(['* /items'], methods('DELETE /items', 'GET /items'))).toEqual([]);
    expect(unlistedMethods(['ANY /{proxy+}'], methods('PATCH /items/{id}'))).toEqual(['PATCH /items/{id}']);
    // What an ANY serves beyond the methods its keys name is listed as the ANY itself.
    expect(unlistedMethods(['GET /files'], methods('ANY /files'))).toEqual(['* /files']);
    expect(unlistedMethods(['* /*'], methods('GET /a'))).toEqual(['GET /a']);
  });
});

describe("a guarded method no key names, as a user's app meets it", () => {
  const routes = { 'GET /items/{id}': { scopes: ['Items.Read'] } };
  const methods = ['GET /items/{id}', 'GET /items/secret'];
  const BASE = 'arn:aws:execute-api:eu-west-1:123456789012:abc123def4/prod';
  const lambdaEnv = (stack: Stack): Record<string, string> => {
    const functions = Template.fromStack(stack).findResources('AWS::Lambda::Function', {
      Properties: { Description: 'Entra ID access token authorizer' },
    });
    return Object.values(functions)[0]?.Properties.Environment.Variables;
  };

  it("fails the synth naming GET /items/secret, which only a neighbour's key would match", () => {
    expect(synthErrors(apiWith({ routePermissions: routes }, methods).stack)).toContain(
      'method GET /items/secret is guarded by this authorizer but no routePermissions key names it',
    );
  });

  it("with unlistedMethods 'deny', refuses it to an Items.Read token, fresh and through the cached policy", async () => {
    const { stack } = apiWith({ routePermissions: routes, unlistedMethods: 'deny' }, methods);
    const env = lambdaEnv(stack);
    expect(JSON.parse(env.AZURE_UNLISTED_METHODS as string)).toEqual(['GET /items/secret']);
    const decide = authorizerFor(routes, '', grantee(['Items.Read'], []), '', env);
    const fresh = await decide(`${BASE}/GET/items/secret`);
    expect(fresh.outcome).toBe('deny');
    expect(fresh.detail).toContain('a guarded method no route key names');
    const cached = await decide(`${BASE}/GET/items/1`);
    expect(cached.outcome).toBe('allow');
    expect(iamAllows(cached.result, `${BASE}/GET/items/secret`)).toBe(false);
    expect(iamAllows(cached.result, `${BASE}/GET/items/2`)).toBe(true);
  });

  it('gives it the "* /*" default rule, and only it', async () => {
    const table = { ...routes, '* /*': { roles: ['Secret.Reader'] } };
    const { stack } = apiWith({ routePermissions: table }, methods);
    const env = lambdaEnv(stack);
    const reader = authorizerFor(table, '', grantee(['Items.Read'], []), '', env);
    const refused = await reader(`${BASE}/GET/items/secret`);
    expect(refused.outcome).toBe('deny');
    expect(refused.detail).toBe(
      'GET /items/secret ("GET /items/secret", which no key names: the "* /*" default\'s rule) requires role Secret.Reader',
    );
    expect((await reader(`${BASE}/GET/items/1`)).outcome).toBe('allow');
    const secret = authorizerFor(table, '', grantee([], ['Secret.Reader']), '', env);
    expect((await secret(`${BASE}/GET/items/secret`)).outcome).toBe('allow');
    expect((await secret(`${BASE}/GET/items/1`)).outcome).toBe('deny');
  });

  it('fails the synth on a table whose Denies cannot be planned in time, naming the key that costs most', () => {
    const table: Record<string, object> = {};
    for (let i = 0; i < 16; i++) {
      table[`GET /${Array.from({ length: 140 }, (_, j) => (j === i ? 'x' : '{p}')).join('/')}`] = {};
    }
    expect(
      synthErrors(apiWith({ routePermissions: table, unlistedMethods: 'deny' }, ['GET /a']).stack),
    ).toMatch(
      /routePermissions key "GET \/x\/\{p\}[^"]*": expected a table whose cached-policy Denies can be planned at cold start/,
    );
  });

  it('says in one synth line what a SpecRestApi gets', () => {
    const stack = new Stack(testApp(), 'S');
    const entra = new EntraTokenAuthorizer(stack, 'Entra', { ...base, routePermissions: routes });
    const api = new SpecRestApi(stack, 'Spec', {
      apiDefinition: ApiDefinition.fromInline({
        openapi: '3.0.0',
        info: { title: 't', version: '1' },
        paths: {},
      }),
    });
    entra.authorizer._attachToApi(api);
    Template.fromStack(stack);
    const infos = Annotations.fromStack(stack).findInfo('*', Match.stringLikeRegexp('SpecRestApi'));
    expect(infos).toHaveLength(1);
  });
});

describe('route rules checked against the API at synth', () => {
  it('fails on a key that matches no method, naming the key and the nearest method', () => {
    const { stack } = apiWith({ routePermissions: { 'GET /order': { scopes: ['Orders.Read'] } } }, [
      'GET /orders',
      'POST /orders',
    ]);
    const message = synthErrors(stack);
    expect(message).toContain(
      'EntraTokenAuthorizer: routePermissions key "GET /order" names no method guarded by this authorizer; the nearest is GET /orders',
    );
  });

  it('fails on a guarded method no key covers, naming it, unless unlistedMethods is deny', () => {
    const routes = { 'GET /orders': { scopes: ['Orders.Read'] } };
    const message = synthErrors(apiWith({ routePermissions: routes }, ['GET /orders', 'POST /orders']).stack);
    expect(message).toContain(
      'method POST /orders is guarded by this authorizer but no routePermissions key names it',
    );
    expect(message).not.toContain('GET /orders is guarded');
    const deny = apiWith({ routePermissions: routes, unlistedMethods: 'deny' }, [
      'GET /orders',
      'POST /orders',
    ]);
    expect(synthErrors(deny.stack)).toBe('');
  });

  it('names what an ANY method serves that no key covers; a catch-all key covers everything', () => {
    const partial = apiWith({ routePermissions: { 'GET /{proxy+}': {} } }, ['ANY /{proxy+}']);
    expect(synthErrors(partial.stack)).toContain(
      'method ANY /{proxy+} (for POST, PUT, PATCH, DELETE, HEAD, OPTIONS) is guarded',
    );
    const all = apiWith({ routePermissions: { '* /*': { scopes: ['x'] } } }, ['ANY /{proxy+}', 'GET /']);
    expect(synthErrors(all.stack)).toBe('');
  });

  it('checks nothing without route permissions, and ignores methods that do not use this authorizer', () => {
    expect(synthErrors(apiWith({}, ['GET /a', 'POST /b']).stack)).toBe('');
    const { stack, api } = apiWith({ routePermissions: { 'GET /a': {} } }, ['GET /a']);
    const none = { authorizationType: AuthorizationType.NONE };
    api.root
      .addResource('public')
      .addMethod('GET', new MockIntegration(), { ...none, authorizer: { ...none, authorizerId: '' } });
    api.root.addResource('open').addCorsPreflight({ allowOrigins: ['*'] });
    expect(synthErrors(stack)).toBe('');
  });

  it('addMethod adds the guarded method and records its rule, from the resource path', () => {
    const { stack, entra, api } = apiWith({}, []);
    const items = api.root.addResource('items');
    entra.addMethod(items, 'GET', new MockIntegration(), { scopes: ['Items.Read'] });
    entra.addMethod(items.addResource('{id}'), 'DELETE', new MockIntegration(), { roles: ['Items.Admin'] });
    const expected = {
      'GET /items': { scopes: ['Items.Read'] },
      'DELETE /items/{id}': { roles: ['Items.Admin'] },
    };
    expect(JSON.parse(entra.environment.AZURE_ROUTE_PERMISSIONS as string)).toEqual(expected);
    const template = Template.fromStack(stack);
    const functions = template.findResources('AWS::Lambda::Function', {
      Properties: { Description: 'Entra ID access token authorizer' },
    });
    const env = Object.values(functions)[0]?.Properties.Environment.Variables;
    expect(JSON.parse(env.AZURE_ROUTE_PERMISSIONS)).toEqual(expected);
    template.resourcePropertiesCountIs('AWS::ApiGateway::Method', { AuthorizationType: 'CUSTOM' }, 2);
  });

  it('addMethod guards the method with this authorizer on an API without a default, ANY as the key method *', () => {
    const stack = new Stack(testApp(), 'S');
    const entra = new EntraTokenAuthorizer(stack, 'Entra', base);
    const api = new RestApi(stack, 'Api');
    entra.addMethod(api.root.addResource('items'), 'GET', new MockIntegration(), { scopes: ['Items.Read'] });
    entra.addMethod(api.root.addResource('{proxy+}'), 'ANY', new MockIntegration(), { scopes: ['All'] });
    api.root.addResource('health').addMethod('GET', new MockIntegration());
    expect(JSON.parse(entra.environment.AZURE_ROUTE_PERMISSIONS as string)).toEqual({
      'GET /items': { scopes: ['Items.Read'] },
      '* /{proxy+}': { scopes: ['All'] },
    });
    const template = Template.fromStack(stack);
    const [authorizerId] = Object.keys(template.findResources('AWS::ApiGateway::Authorizer'));
    const guarded = { AuthorizationType: 'CUSTOM', AuthorizerId: { Ref: authorizerId } };
    template.hasResourceProperties('AWS::ApiGateway::Method', { HttpMethod: 'GET', ...guarded });
    template.hasResourceProperties('AWS::ApiGateway::Method', { HttpMethod: 'ANY', ...guarded });
    template.resourcePropertiesCountIs('AWS::ApiGateway::Method', { AuthorizationType: 'NONE' }, 1);
  });

  it('addMethod refuses a second, different rule for the same key, and a rule the Lambda would refuse', () => {
    const { entra, api } = apiWith({ routePermissions: { 'GET /items': { scopes: ['a'] } } }, []);
    const items = api.root.addResource('items');
    expect(() => entra.addMethod(items, 'GET', new MockIntegration(), { scopes: ['b'] })).toThrow(
      /addMethod: rule must be the rule routePermissions already gives "GET \/items"/,
    );
    expect(() =>
      entra.addMethod(items, 'POST', new MockIntegration(), { scopes: ['has space'] } as never),
    ).toThrow(/addMethod: rule\.scopes must be .*array of names without spaces/);
  });
});

describe('a configuration change redeploys the stage', () => {
  const deploymentIds = (flag: boolean | undefined, scope: string): string[] => {
    const context =
      flag === undefined ? {} : { '@aws-cdk/aws-apigateway:authorizerChangeDeploymentLogicalId': flag };
    const app = new App({ context: { ...context, 'aws:cdk:bundling-stacks': [] } });
    const { stack } = apiWith({ requiredScopes: [scope] }, ['GET /items'], app);
    return Object.keys(Template.fromStack(stack).findResources('AWS::ApiGateway::Deployment'));
  };

  it.each([undefined, false, true])('changes the deployment logical id with a scope (flag %s)', (flag) => {
    const before = deploymentIds(flag, 'Items.Read');
    expect(before).toHaveLength(1);
    expect(deploymentIds(flag, 'Items.Read')).toEqual(before);
    expect(deploymentIds(flag, 'Items.Write')).not.toEqual(before);
  });

  /** The deployment of an API whose rule is declared with addMethod, and whose authorizer caches for `ttl`. */
  const withRule = (flag: boolean | undefined, scope: string, ttl: Duration): string[] => {
    const context =
      flag === undefined ? {} : { '@aws-cdk/aws-apigateway:authorizerChangeDeploymentLogicalId': flag };
    const stack = new Stack(new App({ context: { ...context, 'aws:cdk:bundling-stacks': [] } }), 'S');
    const entra = new EntraTokenAuthorizer(stack, 'Entra', { ...base, resultsCacheTtl: ttl });
    const api = new RestApi(stack, 'Api');
    entra.addMethod(api.root.addResource('items'), 'GET', new MockIntegration(), { scopes: [scope] });
    return Object.keys(Template.fromStack(stack).findResources('AWS::ApiGateway::Deployment'));
  };

  it.each([undefined, false, true])(
    'changes it with a rule added by addMethod, and with the result cache TTL (flag %s)',
    (flag) => {
      const before = withRule(flag, 'Items.Read', Duration.minutes(5));
      expect(before).toHaveLength(1);
      expect(withRule(flag, 'Items.Read', Duration.minutes(5))).toEqual(before);
      expect(withRule(flag, 'Items.Write', Duration.minutes(5))).not.toEqual(before);
      expect(withRule(flag, 'Items.Read', Duration.minutes(1))).not.toEqual(before);
    },
  );
});

describe('a deployment of your own (deploy: false), as docs/permissions-and-caching.md says', () => {
  const ownDeployment = (scope: string): string[] => {
    const stack = new Stack(testApp(), 'S');
    const entra = new EntraTokenAuthorizer(stack, 'Entra', { ...base, requiredScopes: [scope] });
    const api = new RestApi(stack, 'Api', { deploy: false });
    entra.addMethod(api.root.addResource('items'), 'GET', new MockIntegration(), {});
    const deployment = new Deployment(stack, 'Mine', { api });
    deployment.addToLogicalId(entra.function.currentVersion.functionArn);
    return Object.keys(Template.fromStack(stack).findResources('AWS::ApiGateway::Deployment'));
  };

  it('changes with the authorizer when it folds in the published version', () => {
    const before = ownDeployment('Items.Read');
    expect(before).toHaveLength(1);
    expect(ownDeployment('Items.Read')).toEqual(before);
    expect(ownDeployment('Items.Write')).not.toEqual(before);
  });
});

describe('one authorizer, its APIs and gateway responses', () => {
  it('refuses a second RestApi with a message saying what to do', () => {
    const { stack, entra } = apiWith({}, ['GET /a']);
    const other = new RestApi(stack, 'Other');
    expect(() =>
      other.root.addMethod('GET', new MockIntegration(), { authorizer: entra.authorizer }),
    ).toThrow(
      'EntraTokenAuthorizer: authorizer must be used on one RestApi only (an API Gateway authorizer belongs to one API, and S/Entra already guards S/Api): create one EntraTokenAuthorizer per API; got "a method of S/Other"',
    );
  });

  it('adds the gateway responses once; the same call again is a no-op, other options a clear error', () => {
    const { stack, entra, api } = apiWith({}, ['GET /a']);
    entra.addGatewayResponses(api);
    entra.addGatewayResponses(api);
    expect(() => entra.addGatewayResponses(api, { allowOrigin: 'https://app.example.com' })).toThrow(
      /addGatewayResponses: options must be those of its first call for S\/Api \(\{\}\): an API has one gateway response per type/,
    );
    Template.fromStack(stack).resourceCountIs('AWS::ApiGateway::GatewayResponse', 6);
  });

  it('gives a SpecRestApi (OpenAPI) the same gateway responses', () => {
    const stack = new Stack(testApp(), 'S');
    const entra = new EntraTokenAuthorizer(stack, 'Entra', base);
    const api = new SpecRestApi(stack, 'Spec', {
      apiDefinition: ApiDefinition.fromInline({
        openapi: '3.0.2',
        info: { title: 'x', version: '1' },
        paths: {},
      }),
    });
    // The construct's authorizer needs a method of the API (a TOKEN authorizer belongs to one API).
    api.root.addResource('orders').addMethod('GET', new MockIntegration(), { authorizer: entra.authorizer });
    entra.addGatewayResponses(api, { realm: 'orders' });
    const template = Template.fromStack(stack);
    template.resourceCountIs('AWS::ApiGateway::GatewayResponse', 6);
    template.hasResourceProperties('AWS::ApiGateway::GatewayResponse', {
      ResponseType: 'UNAUTHORIZED',
      RestApiId: { Ref: stack.getLogicalId(api.node.defaultChild as never) },
      ResponseParameters: { 'gatewayresponse.header.WWW-Authenticate': '\'Bearer realm="orders"\'' },
    });
  });
});

describe('metrics and alarms over what the authorizer writes', () => {
  /** The decision line the Lambda writes for `reason`, with the environment the construct gave it. */
  const lineFor = (env: Record<string, string>, reason: Reason) => {
    const lines: string[] = [];
    const telemetry = createTelemetry(readTelemetryConfig(env), {
      out: (l) => lines.push(l),
      err: (l) => lines.push(l),
    });
    const outcome = REASONS[reason].outcome;
    const decision = (
      outcome === 'allow' || outcome === 'deny'
        ? {
            outcome,
            reason,
            detail: 'd',
            result: { principalId: 'p', policyDocument: { Version: '2012-10-17', Statement: [] } },
          }
        : { outcome, reason, detail: 'd' }
    ) as Decision;
    telemetry.decision({ decision } as DecisionRecord);
    const line = JSON.parse(lines[0] as string);
    const directive = line._aws.CloudWatchMetrics[0];
    return {
      namespace: directive.Namespace as string,
      name: directive.Metrics[0].Name as string,
      dimensions: Object.fromEntries((directive.Dimensions[0] as string[]).map((d) => [d, line[d]])),
    };
  };

  const functionEnv = (stack: Stack): Record<string, string> => {
    const functions = Template.fromStack(stack).findResources('AWS::Lambda::Function', {
      Properties: { Description: 'Entra ID access token authorizer' },
    });
    return Object.values(functions)[0]?.Properties.Environment.Variables;
  };

  it.each([{}, { metricsNamespace: 'Shop/Auth', serviceName: 'orders-api' }])(
    'metricDecisions({ reason }) is the metric the Lambda writes for that reason (%o)',
    (props) => {
      const { stack, entra } = apiWith(props, ['GET /a']);
      const reasons = Object.keys(REASONS) as Reason[];
      reasons.forEach((reason, i) => {
        new Alarm(stack, `A${i}`, {
          metric: entra.metricDecisions({ reason }),
          threshold: 1,
          evaluationPeriods: 1,
        });
      });
      const template = Template.fromStack(stack);
      const env = functionEnv(stack);
      for (const reason of reasons) {
        const written = lineFor(env, reason);
        template.hasResourceProperties('AWS::CloudWatch::Alarm', {
          Namespace: written.namespace,
          MetricName: written.name,
          Statistic: 'Sum',
          Dimensions: Object.entries(written.dimensions)
            .sort(([a], [b]) => a.localeCompare(b))
            .map(([Name, Value]) => ({ Name, Value })),
        });
      }
    },
  );

  it('metricDecisions({ outcome }) queries that outcome over the metric the Lambda writes', () => {
    const { stack, entra } = apiWith({ metricsNamespace: 'Shop/Auth' }, ['GET /a']);
    const written = lineFor(functionEnv(stack), 'keys_unavailable');
    const config = entra.metricErrors().toMetricConfig();
    expect(config.mathExpression?.expression).toBe(
      `SELECT SUM(${written.name}) FROM SCHEMA("${written.namespace}", ${Object.keys(written.dimensions).join(', ')}) WHERE service = '${written.dimensions.service}' AND outcome = 'error'`,
    );
    expect(entra.metricDecisions().toMetricConfig().mathExpression?.expression).toMatch(
      /WHERE service = 'entra-authorizer'$/,
    );
    expect(() => entra.metricDecisions({ outcome: 'deny', reason: 'expired' })).toThrow(
      /metricDecisions: outcome must be "unauthorized" for reason "expired", or unset; got "deny"/,
    );
    expect(entra.metricDuration().toMetricConfig().metricStat?.metricName).toBe('Duration');
  });

  it('metricDecisions without a reason refuses the options its query would drop, naming them', () => {
    const { entra } = apiWith({}, ['GET /a']);
    for (const [options, prop] of [
      [{ statistic: 'Average' }, 'statistic'],
      [{ outcome: 'deny', account: '123456789012' }, 'account'],
      [{ unit: Unit.COUNT }, 'unit'],
      [{ dimensionsMap: { route: 'GET /a' } }, 'dimensionsMap'],
    ] as const) {
      expect(() => entra.metricDecisions(options)).toThrow(
        new RegExp(
          `^metricDecisions: ${prop} must be given with a reason: .* takes only period, label, color; got`,
        ),
      );
    }
    const kept = entra
      .metricDecisions({ outcome: 'deny', period: Duration.minutes(1), label: 'denied', color: '#ff0000' })
      .toMetricConfig();
    expect(kept.renderingProperties).toEqual({ label: 'denied', color: '#ff0000' });
    expect(
      entra.metricDecisions({ reason: 'expired', statistic: 'Average' }).toMetricConfig().metricStat
        ?.statistic,
    ).toBe('Average');
  });

  it("the shortcuts: 500s are error, 403s deny, 401s unauthorized; throttles and duration are the function's", () => {
    const { stack, entra } = apiWith({}, ['GET /a']);
    const where = (metric: ReturnType<typeof entra.metricDecisions>) =>
      metric.toMetricConfig().mathExpression?.expression.replace(/^.* WHERE /, '');
    expect(where(entra.metricErrors())).toBe("service = 'entra-authorizer' AND outcome = 'error'");
    expect(where(entra.metricDenials())).toBe("service = 'entra-authorizer' AND outcome = 'deny'");
    expect(where(entra.metricUnauthorized())).toBe(
      "service = 'entra-authorizer' AND outcome = 'unauthorized'",
    );
    const fn = { FunctionName: stack.resolve(entra.function.functionName) };
    for (const [metric, name] of [
      [entra.metricThrottles(), 'Throttles'],
      [entra.metricDuration(), 'Duration'],
    ] as const) {
      const stat = metric.toMetricConfig().metricStat;
      expect({ namespace: stat?.namespace, name: stat?.metricName }).toEqual({
        namespace: 'AWS/Lambda',
        name,
      });
      expect(stack.resolve(stat?.dimensions)).toEqual([{ name: 'FunctionName', value: fn.FunctionName }]);
    }
  });

  it('addAlarms: errors and throttles in a minute, 401s over five, each with the action', () => {
    const { stack, entra } = apiWith({}, ['GET /a']);
    const topic = new Topic(stack, 'Pager');
    const alarms = entra.addAlarms({ action: new SnsAction(topic) });
    expect(() => entra.addAlarms()).toThrow(/addAlarms: call must be made once per authorizer/);
    const template = Template.fromStack(stack);
    template.resourceCountIs('AWS::CloudWatch::Alarm', 3);
    const topicRef = { Ref: stack.getLogicalId(topic.node.defaultChild as never) };
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Metrics: [
        {
          Expression: `SELECT SUM(Decisions) FROM SCHEMA("EntraAuthorizer", service, outcome, reason) WHERE service = 'entra-authorizer' AND outcome = 'error'`,
          Period: 60,
          ReturnData: true,
        },
      ],
      Threshold: 1,
      EvaluationPeriods: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      TreatMissingData: 'notBreaching',
      AlarmActions: [topicRef],
      OKActions: [topicRef],
    });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: 'AWS/Lambda',
      MetricName: 'Throttles',
      Period: 60,
      Statistic: 'Sum',
      Threshold: 1,
      AlarmActions: [topicRef],
    });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Metrics: [{ Expression: Match.stringLikeRegexp("outcome = 'unauthorized'$"), Period: 300 }],
      Threshold: 100,
    });
    expect(Object.keys(alarms).sort()).toEqual(['errors', 'throttles', 'unauthorized']);
  });
});

describe('the sample app refuses a context key that looks like one of its own', () => {
  it('names the key it meant', () => {
    expect(() => checkContextKeys(['requiredScope'])).toThrow(
      "context key requiredScope is not one of this app's keys (did you mean requiredScopes?): pass it to cdk (synth, deploy or destroy) as: -c requiredScopes=...",
    );
    expect(() => checkContextKeys(['tenantid'])).toThrow(/did you mean tenantId\?/);
    expect(() => checkContextKeys(['allowOrigins'])).toThrow(/did you mean allowOrigin\?/);
  });

  it("passes its own keys, cdk.json's context (feature flags) and keys unlike its own", () => {
    expect(() =>
      checkContextKeys([...CONTEXT_KEYS, ...Object.keys(cdkJsonContext()), 'stage', 'vpcId']),
    ).not.toThrow();
  });
});

describe("the Lambda environment's 4 KB", () => {
  // Lambda measures the variables as one JSON object ("exceeded the 4KB limit. String measured: {...}").
  const table = (count: number) =>
    Object.fromEntries(
      Array.from({ length: count }, (_, i) => [`GET /r${i}`, { scopes: [`Scope.${i}`] }] as const),
    );
  const methods = (count: number) => Array.from({ length: count }, (_, i) => `GET /r${i}`);

  it('is measured as JSON, up to and including 4096 bytes', () => {
    const sized = (bytes: number) => {
      const overhead = JSON.stringify({ A: '' }).length;
      return { A: 'x'.repeat(bytes - overhead) };
    };
    expect(environmentSizeProblem('C', sized(4096))).toEqual([]);
    expect(environmentSizeProblem('C', sized(4097))).toEqual([
      "C: routePermissions: the Lambda's environment variables come to 4097 bytes as JSON, over the 4096 bytes Lambda accepts: fewer or shorter route keys (an ANY key or a {proxy+} for routes that share a rule), or shorter scope and role names",
    ]);
    // Bytes, not characters, and JSON's escapes counted: 2 bytes for each "é", 2 for each quote.
    expect(environmentSizeProblem('C', { A: 'é'.repeat(2040) })).toEqual([]);
    expect(environmentSizeProblem('C', { A: 'é'.repeat(2046) })[0]).toContain('come to 4100 bytes');
    expect(environmentSizeProblem('C', { A: '"'.repeat(2046) })[0]).toContain('come to 4100 bytes');
    // A variable known only at deploy (a token) leaves the size unknown: nothing to say at synth.
    expect(environmentSizeProblem('C', { A: 'x'.repeat(5000), B: { Ref: 'P' } })).toEqual([]);
  });

  it('fails the synth naming routePermissions when its table makes the variables too large', () => {
    const small = apiWith({ routePermissions: table(30) }, methods(30));
    expect(synthErrors(small.stack)).toBe('');
    const large = apiWith({ routePermissions: table(150) }, methods(150));
    const routes = large.entra.environment[ENV_NAMES.routePermissions] as string;
    expect(synthErrors(large.stack)).toMatch(
      new RegExp(
        `EntraTokenAuthorizer: routePermissions: the Lambda's environment variables come to \\d+ bytes as JSON \\(routePermissions take ${routes.length}\\), over the 4096 bytes Lambda accepts`,
      ),
    );
  }, 60_000);
});
