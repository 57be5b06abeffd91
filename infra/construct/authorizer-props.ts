import { Duration, type RemovalPolicy } from 'aws-cdk-lib';
import type { RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { IStringListParameter, IStringParameter } from 'aws-cdk-lib/aws-ssm';
import {
  type AuthorizerSettings,
  DEFAULTS,
  ENV_NAMES,
  envOfSettings,
  isGuid,
  microsoftAudienceProblem,
  readRoutePermissions,
  SETTINGS,
  type Setting,
  type SettingsSource,
  validateSettings,
} from '../../lambda/authorizer/config.js';
import { ConfigError } from '../../lambda/authorizer/errors.js';
import {
  readTelemetryConfig,
  TELEMETRY_DEFAULTS,
  TELEMETRY_ENV_NAMES,
  type LogLevel as TelemetryLogLevel,
} from '../../lambda/authorizer/telemetry-config.js';
import { PropsError } from './errors.js';
import type { KnownProps } from './known-props.js';
import type { PropKind } from './prop-kinds.js';
import { tenantsParameterEnvironment } from './tenants-parameter.js';

/**
 * A route's rule: one of the scopes or one of the roles; `{}` admits any valid access token that carries a
 * scope or a role. With `clientApps`, only tokens of those client applications (`azp`/`appid`) may call it.
 */
export interface RouteRule {
  readonly scopes?: readonly string[];
  readonly roles?: readonly string[];
  readonly clientApps?: readonly string[];
  /** With `groups`, the caller must also be in one of these security groups (object id GUIDs). */
  readonly groups?: readonly string[];
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
   * The security groups (object id GUIDs, as in the token's `groups` claim), one of which every caller must
   * be in, beside the required scope or role. A token whose groups did not fit (group overage: no `groups`,
   * `_claim_names` instead) gets a 403 `groups_overage` wherever a group is needed. A route rule's `groups`
   * does the same per route.
   * @default - no group needed
   */
  readonly requiredGroups?: readonly string[];
  /**
   * What a guest (B2B) user of your tenant gets. Entra issues guests tokens for your API like members;
   * `'refuse'` answers them 403 (`guest_not_allowed`), telling a guest by the optional claim `acct` (turn it
   * on in the API's token configuration) or, without it, by an `idp` claim that names another tenant or
   * identity provider than the issuer (docs/permissions-and-caching.md).
   * @default 'allow' - a guest is admitted by your tenant's own decision (the invitation, user assignment,
   * Conditional Access) and then judged by the same scopes and roles as a member
   */
  readonly guestUsers?: 'allow' | 'refuse';
  /**
   * The client applications (application ids) whose tokens may call the API: the caller is `azp` in v2
   * tokens and `appid` in v1. Any other client's token gets a 403 (`client_app_not_allowed`). A route rule's
   * `clientApps` narrows it per route.
   * @default - any client app
   */
  readonly allowedClientApps?: readonly string[];
  /**
   * Per-method rules, keyed by the method and its resource path as declared, e.g.
   * `{ 'GET /items': { scopes: ['Items.Read'] }, 'DELETE /items/{id}': { roles: ['Items.Admin'] } }`; `'* /*'` is the
   * default rule of the guarded methods no other key names. A method is decided by its own key only.
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
   * Under route permissions, a method guarded by this authorizer that no route key names (and no `'* /*'`
   * default) fails the synth (`'error'`); `'deny'` says no token may call it, fresh or from a cached policy.
   * @default 'error'
   */
  readonly unlistedMethods?: 'error' | 'deny';
}

/**
 * The props EntraTokenAuthorizer takes, with what each holds: a key not here is refused (`checkKnownProps`),
 * and so is a value not of its kind (`checkPropKinds`).
 */
export const TOKEN_AUTHORIZER_PROPS = {
  tenantId: 'text',
  allowedTenants: 'tenants',
  tenantsRefresh: 'duration',
  clientId: 'text',
  audiences: 'names',
  requiredScopes: 'names',
  requiredRoles: 'names',
  requiredGroups: 'names',
  guestUsers: 'text',
  allowedClientApps: 'names',
  routePermissions: 'routes',
  jwksUri: 'text',
  authorityHost: 'text',
  v1IssuerHost: 'text',
  clockSkew: 'duration',
  resultsCacheTtl: 'duration',
  logRetention: 'retention',
  logLevel: 'text',
  memorySize: 'number',
  timeout: 'duration',
  serviceName: 'text',
  metricsNamespace: 'text',
  logRemovalPolicy: 'removal',
  unlistedMethods: 'text',
} as const satisfies KnownProps<EntraTokenAuthorizerProps, PropKind>;

function fail(prop: string, expected: string, actual: unknown): never {
  throw new PropsError('EntraTokenAuthorizer', prop, expected, actual);
}

type ListSetting = { [S in Setting]: (typeof SETTINGS)[S]['form'] extends 'list' ? S : never }[Setting];

/** The props as a source of settings: a message names the prop and shows it as written. */
function propsSource(props: EntraTokenAuthorizerProps, skewSeconds: number): SettingsSource {
  return {
    nameOf: (setting) => SETTINGS[setting].prop,
    shown: (setting) =>
      setting === 'clockSkewSeconds'
        ? `${skewSeconds}s`
        : (props as unknown as Record<string, unknown>)[SETTINGS[setting].prop],
    anyTenant: "['*']",
    routeError: ({ at, expected, actual }) =>
      new ConfigError(`routePermissions${at === 'keys' ? ' keys' : at}`, actual, expected),
  };
}

/**
 * The audiences tokens may carry: the client id in both versions' forms, then any listed. `clientId` is a
 * prop only (the variable holds the audiences it stands for), so its own rules are here.
 */
function audiencesOf(props: EntraTokenAuthorizerProps): string[] {
  if (props.clientId !== undefined && !isGuid(props.clientId.toLowerCase())) {
    fail('clientId', 'the application (client) id GUID', props.clientId);
  }
  const microsoftApi =
    props.clientId === undefined ? undefined : microsoftAudienceProblem(props.clientId, 'client id');
  if (microsoftApi !== undefined) fail('clientId', microsoftApi, props.clientId);
  checkList(props, 'audiences');
  const client = props.clientId?.toLowerCase();
  const audiences = [
    ...(client !== undefined ? [client, `api://${client}`] : []),
    ...(props.audiences ?? []),
  ];
  if (audiences.length === 0)
    fail(
      'clientId or audiences',
      "given: your API's client id, or the audiences its tokens carry",
      undefined,
    );
  return [...new Set(audiences)];
}

/**
 * A list prop: undefined is "none"; an empty list is refused, since it would read as "none" silently, and
 * so is a name with a comma or a space, which the variable's list would split.
 */
function checkList(props: EntraTokenAuthorizerProps, setting: ListSetting): void {
  const { prop, none } = SETTINGS[setting];
  const names = props[prop];
  // allowedTenants may name a parameter instead: tenants-parameter.ts checks that form.
  if (names === undefined || !Array.isArray(names)) return;
  const list = [...names];
  if (list.length === 0 || list.some((name) => typeof name !== 'string' || name === '' || /[\s,]/.test(name)))
    fail(prop, `a non-empty list of names without spaces or commas (leave it out for ${none})`, list);
}

/**
 * The props as the authorizer's settings, checked by the validator the cold start runs on the variables
 * (`validateSettings`), then by the rules of the props' own form; the variables the Lambda gets are these
 * settings (`envOfSettings`). A mistake names the prop.
 */
export function authorizerSettings(props: EntraTokenAuthorizerProps): AuthorizerSettings {
  // Not integral: a fraction of a second is refused by the validator, naming the prop, not by Duration.
  const skewSeconds = props.clockSkew?.toSeconds({ integral: false }) ?? DEFAULTS.clockSkewSeconds;
  // Each setting from its prop as written; the three whose prop says it in another form, converted.
  const written = Object.entries(SETTINGS).map(([setting, { prop }]) => [setting, props[prop]]);
  // A tenant list kept in an SSM parameter: its name (a placeholder for the validator where it is known only
  // at deploy) and refresh, checked with the result-cache TTL they bound together.
  const parameter = tenantsParameterEnvironment(props, fail);
  const settings: AuthorizerSettings = {
    ...Object.fromEntries(written),
    tenantId: props.tenantId?.toLowerCase(),
    allowedTenants: Array.isArray(props.allowedTenants) ? props.allowedTenants : undefined,
    allowedTenantsParameter: parameter.env[ENV_NAMES.allowedTenantsParameter],
    tenantsRefreshSeconds: parameter.env[ENV_NAMES.tenantsRefreshSeconds],
    audiences: audiencesOf(props),
    clockSkewSeconds: String(skewSeconds),
  };
  const source = propsSource(props, skewSeconds);
  try {
    validateSettings(
      {
        ...settings,
        allowedTenantsParameter:
          parameter.placeholders[ENV_NAMES.allowedTenantsParameter] ?? settings.allowedTenantsParameter,
      },
      source,
    );
    readRoutePermissions(settings.routePermissions, source);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    fail(err.variable, err.expected, err.actual);
  }
  for (const [setting, row] of Object.entries(SETTINGS)) {
    if (row.form === 'list') checkList(props, setting as ListSetting);
  }
  // Every kind's construct checks it, though only a REST API's methods can be unlisted.
  if (props.unlistedMethods !== undefined && !['error', 'deny'].includes(props.unlistedMethods))
    fail('unlistedMethods', "'error' or 'deny'", props.unlistedMethods);
  return settings;
}

/** Validates the props (naming the prop) and returns the Lambda's environment. */
export function authorizerEnvironment(props: EntraTokenAuthorizerProps): Record<string, string> {
  return envOfSettings(authorizerSettings(props));
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

/** The cache TTL API Gateway allows (whole seconds, at most an hour), 5 minutes unless the props say otherwise. */
export function resultsCacheTtlOf(
  construct: string,
  props: Pick<EntraTokenAuthorizerProps, 'resultsCacheTtl'>,
): Duration {
  const ttl = props.resultsCacheTtl ?? Duration.minutes(5);
  const seconds = ttl.toSeconds({ integral: false });
  if (!Number.isInteger(seconds) || seconds > 3600)
    throw new PropsError(construct, 'resultsCacheTtl', 'whole seconds, at most 1 hour', `${seconds}s`);
  return ttl;
}
