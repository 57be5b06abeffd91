import { Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { MockIntegration, RestApi } from 'aws-cdk-lib/aws-apigateway';
import type { APIGatewayAuthorizerResult } from 'aws-lambda';
import type { EntraTokenAuthorizerProps } from '../../infra/construct/authorizer-props.js';
import { EntraTokenAuthorizer } from '../../infra/construct/entra-token-authorizer.js';
import { explainToken } from '../../infra/local/explain.js';
import { type DecisionRecord, decide } from '../../lambda/authorizer/authorizer.js';
import { loadConfig } from '../../lambda/authorizer/config.js';
import { createHinter } from '../../lambda/authorizer/hints.js';
import { EntraJwksCache } from '../../lambda/authorizer/keys/key-cache.js';
import { createTenantKeyCache } from '../../lambda/authorizer/keys/tenant-keys.js';
import { createRouteAuthorizer } from '../../lambda/authorizer/permissions.js';
import { createTokenVerifier } from '../../lambda/authorizer/verifier.js';
import { testApp } from './cdk.js';
import { iamAllows } from './policy-oracle.js';

const ARN = 'arn:aws:execute-api:eu-west-1:123456789012:abc123def4/prod';

/**
 * A user's app: a REST API whose methods (`GET /orders`, ...) the construct guards. Synthesized, its Lambda's
 * environment (as CloudFormation would get it) configures the real authorizer, which then judges tokens.
 */
export function guardedApp(props: EntraTokenAuthorizerProps, methods: readonly string[]) {
  const stack = new Stack(testApp(), 'UserApp');
  const entra = new EntraTokenAuthorizer(stack, 'Entra', props);
  const api = new RestApi(stack, 'Api', { defaultMethodOptions: { authorizer: entra.authorizer } });
  for (const method of methods) {
    const [httpMethod, path] = method.split(' ') as [string, string];
    const resource = path === '/' ? api.root : api.root.resourceForPath(path);
    resource.addMethod(httpMethod, new MockIntegration());
  }
  const functions = Template.fromStack(stack).findResources('AWS::Lambda::Function');
  const env = Object.values(functions)
    .map((f) => f.Properties?.Environment?.Variables as Record<string, string> | undefined)
    .find((vars) => vars?.AZURE_AUDIENCES !== undefined);
  if (env === undefined) throw new Error('the synthesized app has no authorizer function');
  const config = loadConfig(env);
  const keys = new EntraJwksCache();
  const tenantKeys = createTenantKeyCache();
  const deps = {
    verifier: createTokenVerifier({ config, keys, tenantKeys }),
    routes: createRouteAuthorizer(config),
    hint: createHinter(config),
  };
  const arnOf = (route: string) => `${ARN}/${route.replace(' ', '')}`;
  return {
    env,
    config,
    /** The fresh decision on `route` (`GET /orders`). */
    async decide(token: string, route: string): Promise<DecisionRecord> {
      return decide({ type: 'TOKEN', authorizationToken: `Bearer ${token}`, methodArn: arnOf(route) }, deps);
    },
    /** The policy API Gateway caches from a decision on `route`, judged as IAM would on `other`. */
    cachedAllows(result: APIGatewayAuthorizerResult, other: string): boolean {
      return iamAllows(result, arnOf(other));
    },
    explain: (token: string, route = 'GET /') => {
      const [method, path] = route.split(' ') as [string, string];
      return explainToken(token, {
        config,
        keys: new EntraJwksCache(),
        tenantKeys: createTenantKeyCache(),
        route: { method, path },
      });
    },
  };
}
