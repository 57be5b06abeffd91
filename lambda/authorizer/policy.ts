import type { APIGatewayAuthorizerResult, APIGatewayAuthorizerResultContext } from 'aws-lambda';
import type { RoutePermission } from './config.js';
import { BadEventError } from './errors.js';

export interface MethodArn {
  readonly partition: string;
  readonly region: string;
  readonly accountId: string;
  readonly apiId: string;
  readonly stage: string;
  readonly method: string;
  /** Starts with `/`; `/` for the root resource. */
  readonly path: string;
}

const METHOD_ARN =
  /^arn:(aws[a-z-]*):execute-api:([a-z0-9-]+):(\d{12}):([A-Za-z0-9]+)\/([^/]+)\/([A-Z*]+)\/(.*)$/;

/** `arn:aws:execute-api:eu-west-1:123456789012:abc123/prod/GET/items/42` -> its parts. */
export function parseMethodArn(arn: string): MethodArn {
  const m = METHOD_ARN.exec(arn);
  if (m === null)
    throw new BadEventError(`methodArn is not an execute-api method ARN: ${JSON.stringify(arn)}`);
  const [, partition, region, accountId, apiId, stage, method, path] = m as unknown as [string, ...string[]];
  return {
    partition: partition as string,
    region: region as string,
    accountId: accountId as string,
    apiId: apiId as string,
    stage: stage as string,
    method: method as string,
    path: `/${path}`,
  };
}

function stagePrefix(arn: MethodArn): string {
  return `arn:${arn.partition}:execute-api:${arn.region}:${arn.accountId}:${arn.apiId}/${arn.stage}`;
}

/** Every method and path of this API's stage, and nothing of other APIs or stages. */
export function stageResource(arn: MethodArn): string {
  return `${stagePrefix(arn)}/*`;
}

export function routeResource(arn: MethodArn, route: Pick<RoutePermission, 'method' | 'path'>): string {
  return `${stagePrefix(arn)}/${route.method}${route.path}`;
}

export function requestResource(arn: MethodArn): string {
  return `${stagePrefix(arn)}/${arn.method}${arn.path}`;
}

/** The resources a policy allows and denies; an explicit Deny wins over any Allow in API Gateway. */
export interface PolicyGrant {
  readonly allow: readonly string[];
  readonly deny: readonly string[];
}

export function buildPolicy(
  principalId: string,
  grant: PolicyGrant,
  context: APIGatewayAuthorizerResultContext,
): APIGatewayAuthorizerResult {
  const statement = (Effect: 'Allow' | 'Deny', resources: readonly string[]) => ({
    Action: 'execute-api:Invoke',
    Effect,
    Resource: [...resources],
  });
  return {
    principalId,
    policyDocument: {
      Version: '2012-10-17',
      Statement: [
        ...(grant.allow.length > 0 ? [statement('Allow', grant.allow)] : []),
        ...(grant.deny.length > 0 ? [statement('Deny', grant.deny)] : []),
      ],
    },
    context,
  };
}
