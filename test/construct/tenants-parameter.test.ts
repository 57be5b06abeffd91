import { Duration, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { RestApi } from 'aws-cdk-lib/aws-apigateway';
import { StringListParameter, StringParameter } from 'aws-cdk-lib/aws-ssm';
import { describe, expect, it } from 'vitest';
import type { EntraTokenAuthorizerProps } from '../../infra/construct/authorizer-props.js';
import { EntraHttpAuthorizer } from '../../infra/construct/entra-http-authorizer.js';
import { EntraTokenAuthorizer } from '../../infra/construct/entra-token-authorizer.js';
import { webSocketAuthorizerEnvironment } from '../../infra/construct/entra-websocket-authorizer.js';
import { ENV_NAMES } from '../../lambda/authorizer/config.js';
import { testApp } from '../helpers/cdk.js';

const TENANT = '72f988bf-86f1-41af-91ab-2d7cd011db47';
const CLIENT = '6e74172b-be56-4843-9ff4-e66a39bb12e3';

function build(props: (stack: Stack) => Partial<EntraTokenAuthorizerProps>) {
  const stack = new Stack(testApp(), 'S');
  const construct = new EntraTokenAuthorizer(stack, 'Entra', {
    tenantId: 'organizations',
    clientId: CLIENT,
    ...props(stack),
  });
  new RestApi(stack, 'Api').root
    .addResource('items')
    .addMethod('GET', undefined, { authorizer: construct.authorizer });
  return { construct, stack };
}

/** Every IAM statement of the template that names an SSM action, with its resources. */
function ssmStatements(stack: Stack) {
  const policies = Template.fromStack(stack).findResources('AWS::IAM::Policy');
  return Object.values(policies).flatMap((p) =>
    (p.Properties.PolicyDocument.Statement as { Action: string | string[]; Resource: unknown }[]).filter(
      (s) => [s.Action].flat().some((a) => a.startsWith('ssm:')),
    ),
  );
}

const synthError = (props: Partial<EntraTokenAuthorizerProps>) => {
  try {
    build(() => props);
  } catch (err) {
    return (err as Error).message;
  }
  return 'no error';
};

describe('EntraTokenAuthorizer with allowedTenants from an SSM parameter', () => {
  it('passes the parameter and the refresh to the Lambda, and grants ssm:GetParameter on it alone', () => {
    let parameter: StringParameter | undefined;
    const { construct, stack } = build((s) => {
      parameter = new StringParameter(s, 'Tenants', { stringValue: JSON.stringify([TENANT]) });
      return { allowedTenants: parameter };
    });
    expect(construct.environment[ENV_NAMES.allowedTenants]).toBeUndefined();
    expect(construct.environment[ENV_NAMES.tenantsRefreshSeconds]).toBe('300');
    const template = Template.fromStack(stack);
    template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: {
        Variables: {
          [ENV_NAMES.allowedTenantsParameter]: {
            Ref: stack.getLogicalId(parameter?.node.defaultChild as never),
          },
        },
      },
    });
    expect(ssmStatements(stack)).toEqual([
      {
        Action: 'ssm:GetParameter',
        Effect: 'Allow',
        Resource: stack.resolve(parameter?.parameterArn),
      },
    ]);
  });

  it('takes a StringListParameter or a name, granting the ARN of that name', () => {
    const byList = build((s) => ({
      allowedTenants: StringListParameter.fromStringListParameterName(s, 'L', '/saas/tenants'),
      tenantsRefresh: Duration.minutes(1),
    }));
    const byName = build(() => ({ allowedTenants: '/saas/tenants' }));
    for (const { stack, construct } of [byList, byName]) {
      expect(construct.environment[ENV_NAMES.allowedTenantsParameter]).toBe('/saas/tenants');
      const [statement] = ssmStatements(stack);
      expect(statement?.Action).toBe('ssm:GetParameter');
      expect(JSON.stringify(statement?.Resource)).toMatch(/:parameter\/saas\/tenants"/);
      expect(ssmStatements(stack)).toHaveLength(1);
    }
    expect(byList.construct.environment[ENV_NAMES.tenantsRefreshSeconds]).toBe('60');
  });

  it('grants nothing of SSM, and sets no new variable, for a fixed list', () => {
    const { construct, stack } = build(() => ({ allowedTenants: [TENANT] }));
    expect(ssmStatements(stack)).toEqual([]);
    expect(Object.keys(construct.environment).filter((k) => k.includes('TENANTS_'))).toEqual([]);
  });

  it('adds a tenants_unavailable alarm to addAlarms, on that reason alone', () => {
    const { construct, stack } = build(() => ({ allowedTenants: '/saas/tenants' }));
    const alarms = construct.addAlarms();
    expect(alarms.tenantsUnavailable).toBeDefined();
    Template.fromStack(stack).hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'Decisions',
      Dimensions: Match.arrayWith([{ Name: 'reason', Value: 'tenants_unavailable' }]),
      Threshold: 1,
    });
    expect(
      build(() => ({ allowedTenants: [TENANT] })).construct.addAlarms().tenantsUnavailable,
    ).toBeUndefined();
  });

  it.each([
    [
      'a refresh under 30 s',
      { allowedTenants: '/t', tenantsRefresh: Duration.seconds(10) },
      'tenantsRefresh must be whole seconds from 30 to 3600; got "10s"',
    ],
    [
      'a refresh that is not whole seconds',
      { allowedTenants: '/t', tenantsRefresh: Duration.millis(45_500) },
      'tenantsRefresh must be whole seconds from 30 to 3600; got "45.5s"',
    ],
    [
      'a refresh and a cache TTL over an hour together',
      { allowedTenants: '/t', tenantsRefresh: Duration.minutes(56) },
      'tenantsRefresh must be at most 3300s with resultsCacheTtl 300s: a tenant removed from the parameter is refused within tenantsRefresh + resultsCacheTtl, which may not pass an hour; got "3360s"',
    ],
    [
      'a refresh with a fixed list',
      { allowedTenants: [TENANT], tenantsRefresh: Duration.minutes(1) },
      'tenantsRefresh must be left out: it applies only when allowedTenants is an SSM parameter; got "60s"',
    ],
    [
      'a tenant GUID as a string',
      { allowedTenants: TENANT },
      `allowedTenants must be a list (['${TENANT}']): a string names an SSM parameter; got "${TENANT}"`,
    ],
    [
      'a parameter name SSM would refuse',
      { allowedTenants: 'my tenants' },
      'allowedTenants must be an SSM parameter name such as /saas/allowed-tenants (letters, digits, ".", "_", "-", "/"), or its ARN; got "my tenants"',
    ],
    [
      'a parameter for a single tenant',
      { tenantId: TENANT, allowedTenants: '/t' },
      `allowedTenants must be unset for the single tenant ${TENANT}: it applies only when tenantId is "organizations" or "common"; got "/t"`,
    ],
  ] as [string, Partial<EntraTokenAuthorizerProps>, string][])(
    'refuses %s, naming the prop',
    (_, props, message) => {
      expect(synthError(props)).toBe(`EntraTokenAuthorizer: ${message}`);
    },
  );

  it('takes an hour of refresh and cache together, the most it allows', () => {
    const { construct } = build(() => ({
      allowedTenants: '/t',
      tenantsRefresh: Duration.minutes(55),
      resultsCacheTtl: Duration.minutes(5),
    }));
    expect(construct.environment[ENV_NAMES.tenantsRefreshSeconds]).toBe('3300');
  });

  it('grants the same to the HTTP API kind, and checks its cache TTL in the sum', () => {
    const stack = new Stack(testApp(), 'S');
    const http = new EntraHttpAuthorizer(stack, 'E', {
      tenantId: 'common',
      clientId: CLIENT,
      allowedTenants: '/saas/tenants',
    });
    expect(http.environment[ENV_NAMES.allowedTenantsParameter]).toBe('/saas/tenants');
    expect(ssmStatements(stack)).toEqual([expect.objectContaining({ Action: 'ssm:GetParameter' })]);
    expect(
      () =>
        new EntraHttpAuthorizer(new Stack(testApp(), 'T'), 'E', {
          tenantId: 'common',
          clientId: CLIENT,
          allowedTenants: '/saas/tenants',
          tenantsRefresh: Duration.minutes(30),
          resultsCacheTtl: Duration.minutes(31),
        }),
    ).toThrow(/^EntraHttpAuthorizer: tenantsRefresh must be at most 1740s with resultsCacheTtl 1860s/);
  });

  it('counts no cache for a WebSocket API, whose $connect decisions API Gateway does not cache', () => {
    const env = webSocketAuthorizerEnvironment({
      tenantId: 'common',
      clientId: CLIENT,
      allowedTenants: '/t',
      tenantsRefresh: Duration.hours(1),
    });
    expect(env[ENV_NAMES.tenantsRefreshSeconds]).toBe('3600');
  });
});
