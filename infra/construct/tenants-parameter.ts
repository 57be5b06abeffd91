import { Token } from 'aws-cdk-lib';
import { PolicyStatement, type Role } from 'aws-cdk-lib/aws-iam';
import { type IStringListParameter, type IStringParameter, StringParameter } from 'aws-cdk-lib/aws-ssm';
import type { Construct } from 'constructs';
import { DEFAULTS, ENV_NAMES, isGuid, TENANTS_REFRESH_BOUNDS } from '../../lambda/authorizer/config.js';

/** Where a multi-tenant API's allowed tenants may live instead of the props: an SSM parameter, or its name. */
type TenantsParameter = IStringParameter | IStringListParameter | string;

/** The props this module reads (a subset of every authorizer construct's). */
interface TenantsParameterProps {
  readonly allowedTenants?: readonly string[] | TenantsParameter;
  readonly tenantsRefresh?: { toSeconds(opts: { integral: boolean }): number };
  readonly resultsCacheTtl?: { toSeconds(opts: { integral: boolean }): number };
}

/**
 * A tenant removed from the parameter is refused within tenantsRefresh plus the gateway's result-cache TTL:
 * the construct refuses settings whose sum passes this.
 */
const MAX_TENANT_REMOVAL_SECONDS = 3600;

/** What API Gateway's result cache holds a decision for unless the props say otherwise. */
const DEFAULT_CACHE_TTL_SECONDS = 300;

type Fail = (prop: string, expected: string, actual: unknown) => never;

function parameterOf(allowed: TenantsParameterProps['allowedTenants']): TenantsParameter | undefined {
  return allowed === undefined || Array.isArray(allowed) ? undefined : (allowed as TenantsParameter);
}

function checkRefresh(props: TenantsParameterProps, fail: Fail): number {
  const refresh = props.tenantsRefresh?.toSeconds({ integral: false }) ?? DEFAULTS.tenantsRefreshSeconds;
  const { min, max } = TENANTS_REFRESH_BOUNDS;
  if (!Number.isInteger(refresh) || refresh < min || refresh > max)
    fail('tenantsRefresh', `whole seconds from ${min} to ${max}`, `${refresh}s`);
  const ttl = props.resultsCacheTtl?.toSeconds({ integral: false }) ?? DEFAULT_CACHE_TTL_SECONDS;
  if (refresh + ttl > MAX_TENANT_REMOVAL_SECONDS) {
    fail(
      'tenantsRefresh',
      `at most ${MAX_TENANT_REMOVAL_SECONDS - ttl}s with resultsCacheTtl ${ttl}s: a tenant removed from the parameter is refused within tenantsRefresh + resultsCacheTtl, which may not pass an hour`,
      `${refresh}s`,
    );
  }
  return refresh;
}

/**
 * The Lambda variables of a tenant list kept in a parameter (none for a fixed list), and the placeholders the
 * loader checks in place of a name known only at deploy.
 */
export function tenantsParameterEnvironment(
  props: TenantsParameterProps,
  fail: Fail,
): { env: Record<string, string>; placeholders: Record<string, string> } {
  const parameter = parameterOf(props.allowedTenants);
  if (parameter === undefined) {
    if (props.tenantsRefresh !== undefined) {
      fail(
        'tenantsRefresh',
        'left out: it applies only when allowedTenants is an SSM parameter',
        `${props.tenantsRefresh.toSeconds({ integral: false })}s`,
      );
    }
    return { env: {}, placeholders: {} };
  }
  const name = typeof parameter === 'string' ? parameter : parameter.parameterName;
  if (typeof parameter === 'string') {
    if (Token.isUnresolved(name)) {
      fail(
        'allowedTenants',
        'a literal parameter name, or the parameter itself (StringParameter.fromStringParameterAttributes with simpleName), when its name is known only at deploy',
        name,
      );
    }
    if (name === '*' || isGuid(name.toLowerCase())) {
      fail('allowedTenants', `a list (['${name}']): a string names an SSM parameter`, name);
    }
  }
  const env = {
    [ENV_NAMES.allowedTenantsParameter]: name,
    [ENV_NAMES.tenantsRefreshSeconds]: String(checkRefresh(props, fail)),
  };
  return {
    env,
    placeholders: Token.isUnresolved(name)
      ? { [ENV_NAMES.allowedTenantsParameter]: '/resolved-at-deploy' }
      : {},
  };
}

/** Lets the authorizer's role read the tenant parameter, and nothing else of SSM (a fixed list: nothing). */
export function grantTenantsParameter(
  scope: Construct,
  role: Role,
  allowed: TenantsParameterProps['allowedTenants'],
): void {
  const parameter = parameterOf(allowed);
  if (parameter === undefined) return;
  const arn =
    typeof parameter !== 'string'
      ? parameter.parameterArn
      : parameter.startsWith('arn:')
        ? parameter
        : StringParameter.fromStringParameterName(scope, 'AllowedTenantsParameter', parameter).parameterArn;
  role.addToPolicy(new PolicyStatement({ actions: ['ssm:GetParameter'], resources: [arn] }));
}
