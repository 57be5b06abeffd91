import { Duration, type RemovalPolicy } from 'aws-cdk-lib';
import type { RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { IStringListParameter, IStringParameter } from 'aws-cdk-lib/aws-ssm';
import {
  DEFAULTS,
  ENV_NAMES,
  type EnvName,
  isGuid,
  loadConfig,
  MAX_CLOCK_SKEW_SECONDS,
  MULTI_TENANT_AUTHORITIES,
  microsoftAudienceProblem,
  parseRoutePermissions,
} from '../../lambda/authorizer/config.js';
import { ConfigError } from '../../lambda/authorizer/errors.js';
import {
  readTelemetryConfig,
  TELEMETRY_DEFAULTS,
  TELEMETRY_ENV_NAMES,
  type LogLevel as TelemetryLogLevel,
} from '../../lambda/authorizer/telemetry-config.js';
import { PropsError } from './errors.js';
import { tenantsParameterEnvironment } from './tenants-parameter.js';

/**
 * A route's rule: one of the scopes or one of the roles; `{}` admits any valid access token that carries a
 * scope or a role. With `clientApps`, only tokens of those client applications (`azp`/`appid`) may call it.
 */
export interface RouteRule {
  readonly scopes?: readonly string[];
  readonly roles?: readonly string[];
  readonly clientApps?: readonly string[];
}

/** The authorizer's log levels (`POWERTOOLS_LOG_LEVEL`): a line is written at its level and above. */
export type LogLevel = TelemetryLogLevel;

export interface EntraTokenAuthorizerProps {
  /** The tenant GUID, or `organizations` / `common` for a multi-tenant API (then set `allowedTenants`). */
  readonly tenantId: string;
  /**
   * Multi-tenant only, and required there: the tenant GUIDs that may call, or `['*']` for any tenant. Or the
   * SSM parameter that holds them (a `StringParameter` holding a JSON array of GUIDs, a
   * `StringListParameter`, or a parameter's name), read by the Lambda at run time every `tenantsRefresh`:
   * tenants come and go without a deploy (docs/configuration.md, "Tenants from an SSM parameter").
   * @default - none (single tenant)
   */
  readonly allowedTenants?: readonly string[] | IStringParameter | IStringListParameter | string;
  /**
   * With `allowedTenants` from a parameter: how often the Lambda reads it again. A tenant removed from it is
   * refused within `tenantsRefresh` plus `resultsCacheTtl`, which together may not pass an hour.
   * @default Duration.minutes(5)
   */
  readonly tenantsRefresh?: Duration;
  /**
   * The API's application (client) id. Accepted as audience both as `<guid>` (v2 tokens) and `api://<guid>`
   * (v1 tokens). Give `clientId`, `audiences`, or both.
   * @default - only `audiences`
   */
  readonly clientId?: string;
  /**
   * More accepted `aud` values, e.g. a custom App ID URI.
   * @default - derived from `clientId`
   */
  readonly audiences?: readonly string[];
  /**
   * The token needs one of these delegated scopes (`scp`) ...
   * @default - none
   */
  readonly requiredScopes?: readonly string[];
  /**
   * ... or one of these app roles (`roles`). With neither, any valid access token that carries a scope or a role may call.
   * @default - none
   */
  readonly requiredRoles?: readonly string[];
  /**
   * The client applications (application ids) whose tokens may call the API: the caller is `azp` in v2
   * tokens and `appid` in v1. Any other client's token gets a 403 (`client_app_not_allowed`). A route rule's
   * `clientApps` narrows it per route.
   * @default - any client app
   */
  readonly allowedClientApps?: readonly string[];
  /**
   * Per-route rules, e.g. `{ 'GET /items': { scopes: ['Items.Read'] }, 'DELETE /items/*': { roles: ['Items.Admin'] } }`.
   * Unlisted routes are refused (403).
   * @default - one decision for the whole stage
   */
  readonly routePermissions?: Readonly<Record<string, RouteRule>>;
  /**
   * The key set URL.
   * @default `https://{authorityHost}/{tenantId}/discovery/v2.0/keys`
   */
  readonly jwksUri?: string;
  /**
   * The login host of a sovereign cloud, e.g. `login.microsoftonline.us`.
   * @default 'login.microsoftonline.com'
   */
  readonly authorityHost?: string;
  /**
   * The host of v1 issuers (`https://{host}/{tid}/`) in a sovereign cloud.
   * @default 'sts.windows.net'
   */
  readonly v1IssuerHost?: string;
  /**
   * Tolerance for `exp` and `nbf`. A token is accepted up to this long past its `exp`, and API Gateway may
   * then cache that Allow for `resultsCacheTtl`: a token keeps working for up to `clockSkew` +
   * `resultsCacheTtl` after `exp` (about 10 minutes with both defaults).
   * @default Duration.minutes(5)
   */
  readonly clockSkew?: Duration;
  /**
   * How long API Gateway caches a decision per token (0 disables the cache). An Allow made just before the
   * token's `exp` + `clockSkew` is cached this long, so a token keeps working for up to `clockSkew` + this
   * after its `exp` (about 10 minutes with both defaults); lower either if that matters.
   * @default Duration.minutes(5)
   */
  readonly resultsCacheTtl?: Duration;
  /**
   * Retention of the authorizer's log group.
   * @default RetentionDays.ONE_MONTH
   */
  readonly logRetention?: RetentionDays;
  /**
   * The level of the authorizer's log lines: decisions are INFO (our own failures ERROR); WARN hides them
   * from the log, but the `Decisions` metric is still written.
   * @default 'INFO'
   */
  readonly logLevel?: LogLevel;
  /**
   * Lambda memory; CPU, and so cold start time, scales with it. The default is the smallest size whose warm
   * decision is still billed 1 ms (docs/performance.md's cost model); a larger size shortens cold starts for a little
   * more per decision.
   * @default 256
   */
  readonly memorySize?: number;
  /**
   * Lambda timeout, at most 10 seconds.
   * @default Duration.seconds(10)
   */
  readonly timeout?: Duration;
  /**
   * Powertools service name in logs and metrics.
   * @default 'entra-authorizer'
   */
  readonly serviceName?: string;
  /**
   * CloudWatch namespace of the `Decisions` metric.
   * @default 'EntraAuthorizer'
   */
  readonly metricsNamespace?: string;
  /**
   * What to do with the log group when the stack is deleted.
   * @default RemovalPolicy.DESTROY
   */
  readonly logRemovalPolicy?: RemovalPolicy;
  /**
   * Under route permissions, a method guarded by this authorizer that no route key covers fails the synth
   * (`'error'`), since every call to it would be a 403; `'deny'` says that is meant.
   * @default 'error'
   */
  readonly unlistedMethods?: 'error' | 'deny';
}

function fail(prop: string, expected: string, actual: unknown): never {
  throw new PropsError('EntraTokenAuthorizer', prop, expected, actual);
}

/** The prop each Lambda variable comes from, so the loader's verdict names what the author wrote. */
const PROP_OF_VARIABLE: Readonly<Record<EnvName, keyof EntraTokenAuthorizerProps>> = {
  [ENV_NAMES.tenantId]: 'tenantId',
  [ENV_NAMES.allowedTenants]: 'allowedTenants',
  [ENV_NAMES.audiences]: 'audiences',
  [ENV_NAMES.requiredScopes]: 'requiredScopes',
  [ENV_NAMES.requiredRoles]: 'requiredRoles',
  [ENV_NAMES.routePermissions]: 'routePermissions',
  [ENV_NAMES.jwksUri]: 'jwksUri',
  [ENV_NAMES.clockSkewSeconds]: 'clockSkew',
  [ENV_NAMES.authorityHost]: 'authorityHost',
  [ENV_NAMES.v1IssuerHost]: 'v1IssuerHost',
  [ENV_NAMES.allowedClientApps]: 'allowedClientApps',
  [ENV_NAMES.allowedTenantsParameter]: 'allowedTenants',
  [ENV_NAMES.tenantsRefreshSeconds]: 'tenantsRefresh',
};

/** A list prop: undefined is "none"; an empty list is refused, since it would read as "none" silently. */
function checkNames(prop: string, names: readonly string[] | undefined, omitted: string): string[] {
  if (names === undefined) return [];
  const list = [...names];
  if (list.length === 0 || list.some((name) => typeof name !== 'string' || name === '' || /[\s,]/.test(name)))
    fail(prop, `a non-empty list of names without spaces or commas (leave it out for ${omitted})`, list);
  return list;
}

/** The tenant and its allow-list, lower-cased: one GUID, or `organizations`/`common` with allowed tenants. */
function checkTenants(props: EntraTokenAuthorizerProps): { tenantId: string; allowed: string[] } {
  const tenantId = props.tenantId?.toLowerCase() ?? '';
  const multi = (MULTI_TENANT_AUTHORITIES as readonly string[]).includes(tenantId);
  if (!multi && !isGuid(tenantId))
    fail('tenantId', 'a tenant GUID, "organizations" or "common"', props.tenantId);
  if (props.allowedTenants !== undefined && !Array.isArray(props.allowedTenants)) {
    if (!multi)
      fail(
        'allowedTenants',
        `left out for the single tenant ${tenantId}: it applies only when tenantId is "organizations" or "common"`,
        'a parameter',
      );
    return { tenantId, allowed: [] };
  }
  const listed = props.allowedTenants as readonly string[] | undefined;
  if (multi && (listed ?? []).length === 0) {
    fail(
      'allowedTenants',
      `tenant GUIDs, or ['*'] for any tenant, because tenantId is "${tenantId}"`,
      props.allowedTenants,
    );
  }
  if (!multi && props.allowedTenants !== undefined) {
    fail(
      'allowedTenants',
      `left out for the single tenant ${tenantId}: it applies only when tenantId is "organizations" or "common"`,
      props.allowedTenants,
    );
  }
  const allowed = checkNames('allowedTenants', listed, 'a single tenant');
  if (allowed.length > 1 && allowed.includes('*'))
    fail('allowedTenants', "tenant GUIDs or exactly ['*']", allowed);
  if (allowed.some((t) => t !== '*' && !isGuid(t.toLowerCase())))
    fail('allowedTenants', 'tenant GUIDs', allowed);
  return { tenantId, allowed };
}

/** The audiences tokens may carry: the client id in both versions' forms, then any listed; never Microsoft's. */
function checkAudiences(props: EntraTokenAuthorizerProps): string[] {
  if (props.clientId !== undefined && !isGuid(props.clientId.toLowerCase())) {
    fail('clientId', 'the application (client) id GUID', props.clientId);
  }
  const microsoftApi =
    props.clientId === undefined ? undefined : microsoftAudienceProblem(props.clientId, 'client id');
  if (microsoftApi !== undefined) fail('clientId', microsoftApi, props.clientId);
  for (const audience of props.audiences ?? []) {
    const problem = typeof audience === 'string' ? microsoftAudienceProblem(audience) : undefined;
    if (problem !== undefined) fail('audiences', problem, props.audiences);
  }
  const audiences = [
    ...(props.clientId !== undefined
      ? [props.clientId.toLowerCase(), `api://${props.clientId.toLowerCase()}`]
      : []),
    ...checkNames('audiences', props.audiences, 'only the audiences of clientId'),
  ];
  if (audiences.length === 0)
    fail(
      'clientId or audiences',
      "given: your API's client id, or the audiences its tokens carry",
      undefined,
    );
  return [...new Set(audiences)];
}

function checkClientApps(props: EntraTokenAuthorizerProps): string[] {
  const apps = props.allowedClientApps ?? [];
  // An id with a space is not a "name" mistake: every entry must be a GUID, so the message says so.
  if (apps.some((app) => typeof app !== 'string' || !isGuid(app.toLowerCase())))
    fail(
      'allowedClientApps',
      'application (client) id GUIDs: the azp claim of v2 tokens, appid of v1',
      props.allowedClientApps,
    );
  return checkNames('allowedClientApps', props.allowedClientApps, 'any client app');
}

function checkClockSkew(props: EntraTokenAuthorizerProps): number {
  // Not integral: a fraction of a second is refused here, naming the prop, not by Duration's own error.
  const skew = props.clockSkew?.toSeconds({ integral: false }) ?? DEFAULTS.clockSkewSeconds;
  if (!Number.isInteger(skew) || skew < 0 || skew > MAX_CLOCK_SKEW_SECONDS) {
    fail('clockSkew', `whole seconds from 0 to ${MAX_CLOCK_SKEW_SECONDS}`, `${skew}s`);
  }
  return skew;
}

function checkRoutePermissions(routePermissions: EntraTokenAuthorizerProps['routePermissions']): void {
  if (routePermissions === undefined) return;
  parseRoutePermissions(
    routePermissions,
    ({ at, expected, actual }) =>
      new PropsError(
        'EntraTokenAuthorizer',
        `routePermissions${at === 'keys' ? ' keys' : at}`,
        expected,
        actual,
      ),
  );
}

/**
 * The Lambda's own loader is the last word: synth fails on anything its cold start would reject, naming the
 * prop, with the loader's own view of the value (what the Lambda would get, a key URL's credentials
 * redacted) and the variables it speaks of named as the props that set them.
 */
function confirmWithLoader(env: Record<string, string>, placeholders: Record<string, string>): void {
  try {
    loadConfig({ ...env, ...placeholders });
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    const prop = PROP_OF_VARIABLE[err.variable as EnvName] ?? err.variable;
    const expected = Object.entries(PROP_OF_VARIABLE).reduce(
      (text, [variable, name]) => text.replaceAll(variable, name),
      err.expected,
    );
    fail(prop, expected, err.actual);
  }
}

/** Validates the props (naming the prop) and returns the Lambda's environment. */
export function authorizerEnvironment(props: EntraTokenAuthorizerProps): Record<string, string> {
  const { tenantId, allowed } = checkTenants(props);
  const audiences = checkAudiences(props);
  const clientApps = checkClientApps(props);
  const skew = checkClockSkew(props);
  checkRoutePermissions(props.routePermissions);

  const env: Record<string, string> = {
    [ENV_NAMES.tenantId]: tenantId,
    [ENV_NAMES.audiences]: audiences.join(','),
    [ENV_NAMES.clockSkewSeconds]: String(skew),
  };
  if (allowed.length > 0) env[ENV_NAMES.allowedTenants] = allowed.join(',');
  const scopes = checkNames('requiredScopes', props.requiredScopes, 'no required scope');
  const roles = checkNames('requiredRoles', props.requiredRoles, 'no required role');
  if (scopes.length > 0) env[ENV_NAMES.requiredScopes] = scopes.join(',');
  if (roles.length > 0) env[ENV_NAMES.requiredRoles] = roles.join(',');
  if (clientApps.length > 0) env[ENV_NAMES.allowedClientApps] = clientApps.join(',');
  if (props.routePermissions !== undefined)
    env[ENV_NAMES.routePermissions] = JSON.stringify(props.routePermissions);
  if (props.jwksUri !== undefined) env[ENV_NAMES.jwksUri] = props.jwksUri;
  if (props.authorityHost !== undefined) env[ENV_NAMES.authorityHost] = props.authorityHost;
  if (props.v1IssuerHost !== undefined) env[ENV_NAMES.v1IssuerHost] = props.v1IssuerHost;
  const parameter = tenantsParameterEnvironment(props, fail);
  Object.assign(env, parameter.env);
  confirmWithLoader(env, parameter.placeholders);
  return env;
}

/**
 * The telemetry variables of the Lambda (Powertools' names), checked at synth by the reader its cold start
 * uses: a namespace CloudWatch would refuse fails here, naming the prop.
 */
export function telemetryEnvironment(
  props: Pick<EntraTokenAuthorizerProps, 'serviceName' | 'logLevel' | 'metricsNamespace'>,
): Record<string, string> {
  const env = {
    [TELEMETRY_ENV_NAMES.serviceName]: props.serviceName ?? TELEMETRY_DEFAULTS.serviceName,
    [TELEMETRY_ENV_NAMES.logLevel]: props.logLevel ?? 'INFO',
    [TELEMETRY_ENV_NAMES.metricsNamespace]: props.metricsNamespace ?? TELEMETRY_DEFAULTS.metricsNamespace,
  };
  const propOf: Record<string, string> = {
    [TELEMETRY_ENV_NAMES.serviceName]: 'serviceName',
    [TELEMETRY_ENV_NAMES.logLevel]: 'logLevel',
    [TELEMETRY_ENV_NAMES.metricsNamespace]: 'metricsNamespace',
  };
  try {
    readTelemetryConfig(env);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    fail(propOf[err.variable] ?? err.variable, err.expected, err.actual);
  }
  return env;
}

/** The cache TTL API Gateway allows (at most an hour), 5 minutes unless the props say otherwise. */
export function resultsCacheTtlOf(
  construct: string,
  props: Pick<EntraTokenAuthorizerProps, 'resultsCacheTtl'>,
): Duration {
  const ttl = props.resultsCacheTtl ?? Duration.minutes(5);
  if (ttl.toSeconds() > 3600)
    throw new PropsError(construct, 'resultsCacheTtl', 'at most 1 hour', `${ttl.toSeconds()}s`);
  return ttl;
}
