import type { APIGatewayAuthorizerResult, APIGatewayAuthorizerResultContext } from 'aws-lambda';
import { POLICY_SPECIAL_CHARACTERS, policyPathOf, REST_METHODS, type RoutePermission } from './config.js';
import { BadEventError } from './errors.js';
import { preview } from './safe-text.js';

export interface MethodArn {
  readonly partition: string;
  readonly region: string;
  readonly accountId: string;
  readonly apiId: string;
  readonly stage: string;
  readonly method: string;
  /** Starts with `/`; `/` for the root resource. */
  readonly path: string;
  /** The method ARN exactly as API Gateway (or an emulator) sent it. */
  readonly arn: string;
}

/**
 * `arn:{partition}:execute-api:{region}:{account}:{api id}/{stage}/{METHOD}/{path}`. Local emulators put
 * placeholders where AWS puts ids (serverless-offline `random-account-id` and `random-api-id`, with the
 * region `undefined` when none is configured; SAM CLI `123456789012` and `1234567890`; LocalStack
 * `000000000000` and custom API ids such as `my-api`), so a segment need only be non-empty and free of the
 * separators around it: no `:` or `/` up to the API id, no `/` in the stage or method. The path may hold
 * anything. serverless-offline sends no path at all for its stage root.
 */
const METHOD_ARN = /^(arn:([^:/]+):execute-api:([^:/]+):([^:/]+):([^:/]+)\/([^/]+))\/([^/]+)(?:\/(.*))?$/s;

/**
 * The longest Resource API Gateway takes in an authorizer's policy: "the resource ARN, as shown in the
 * policy statement output by the authorizer, is currently limited to 512 characters" ("Output from an API
 * Gateway Lambda authorizer"). A longer one turns the whole answer into a 500.
 */
export const MAX_POLICY_RESOURCE = 512;

/**
 * The longest ARN prefix up to the method, counted with `/OPTIONS`, accepted (see MAX_ROUTE_PATH): every
 * route resource then fits.
 */
const MAX_ARN_PREFIX = 212;

/** In an IAM resource `*` is a wildcard too, besides the characters route keys may not hold. */
const POLICY_SPECIAL = new RegExp(`[*${POLICY_SPECIAL_CHARACTERS}]`);

/** `arn:aws:execute-api:eu-west-1:123456789012:abc123/prod/GET/items/42` -> its parts. */
export function parseMethodArn(arn: unknown): MethodArn {
  const m = typeof arn === 'string' ? METHOD_ARN.exec(arn) : null;
  if (m === null) throw new BadEventError(`methodArn is not an execute-api method ARN: ${preview(arn, 200)}`);
  // The first group is the ARN up to the stage, its parts the next five.
  const [, stageArn, partition, region, accountId, apiId, stage, method, path] = m as unknown as string[];
  if (POLICY_SPECIAL.test(stageArn as string) || POLICY_SPECIAL.test(method as string)) {
    // Echoed into the policy, a wildcard here would extend an Allow to other APIs, stages or methods.
    throw new BadEventError(
      `methodArn has a policy wildcard (*, ?) or variable ($) before its path: ${preview(arn, 200)}`,
    );
  }
  const parsed = {
    partition: partition as string,
    region: region as string,
    accountId: accountId as string,
    apiId: apiId as string,
    stage: stage as string,
    method: method as string,
    path: `/${path ?? ''}`,
    arn: arn as string,
  };
  // Measured with the longest method a route resource can carry (a `*` route lists OPTIONS), whatever
  // method this request has. Real ARNs stay far below (a stage name has at most 128 characters).
  if ((stageArn as string).length + '/OPTIONS'.length > MAX_ARN_PREFIX) {
    throw new BadEventError(
      `methodArn has more than ${MAX_ARN_PREFIX} characters before its path: ${preview(arn, 200)}`,
    );
  }
  return parsed;
}

/** The ARN up to the stage, as it was sent. */
function stagePrefix(arn: MethodArn): string {
  return `arn:${arn.partition}:execute-api:${arn.region}:${arn.accountId}:${arn.apiId}/${arn.stage}`;
}

/** Every method and path of this API's stage, and nothing of other APIs or stages. */
export function stageResource(arn: MethodArn): string {
  return `${stagePrefix(arn)}/*`;
}

/**
 * The resources of one route: a method `*` becomes each method of REST_METHODS, because in the policy a `*`
 * matches across `/`: a `*` method before the path `/items` would also match `GET/admin/items`.
 */
export function routeResources(arn: MethodArn, route: Pick<RoutePermission, 'method' | 'path'>): string[] {
  const methods = route.method === '*' ? REST_METHODS : [route.method];
  // `{id}` and `{proxy+}` as `*`: the request's real path is in the method ARN.
  return methods.map((method) => `${stagePrefix(arn)}/${method}${policyPathOf(route.path)}`);
}

/**
 * Every path but the root that ends in `/`, whatever the method: denied in every policy built from route
 * permissions (see `isTrailingSlashPath`). `*\/*\/` cannot match the root's `GET/`, which has one `/`.
 */
export function trailingSlashResource(arn: MethodArn): string {
  return `${stagePrefix(arn)}/*/*/`;
}

/**
 * This request's own resource, as it was sent; undefined when its path holds a character IAM would read
 * as a wildcard or variable (a request for `/items/*`), since denying that would deny other paths too.
 */
export function requestResource(arn: MethodArn): string | undefined {
  if (POLICY_SPECIAL.test(arn.path)) return undefined;
  if (arn.arn.length <= MAX_POLICY_RESOURCE) return arn.arn;
  // Too long for a policy (a path of hundreds of characters): the longest prefix that fits, then `*`,
  // still covers the request, never cutting a surrogate pair.
  let cut = MAX_POLICY_RESOURCE - 1;
  const code = arn.arn.charCodeAt(cut - 1);
  if (code >= 0xd800 && code <= 0xdbff) cut--;
  return `${arn.arn.slice(0, cut)}*`;
}

/** The resources a policy allows and denies; an explicit Deny wins over any Allow in API Gateway. */
interface PolicyGrant {
  readonly allow: readonly string[];
  readonly deny: readonly string[];
}

function statement(Effect: 'Allow' | 'Deny', resources: readonly string[]) {
  return { Action: 'execute-api:Invoke', Effect, Resource: [...resources] };
}

export function buildPolicy(
  principalId: string,
  grant: PolicyGrant,
  context: APIGatewayAuthorizerResultContext,
): APIGatewayAuthorizerResult {
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
