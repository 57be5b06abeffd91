import { Duration, Lazy, type RemovalPolicy, Stack } from 'aws-cdk-lib';
import {
  AuthorizationType,
  IdentitySource,
  type Integration,
  type IResource,
  type IRestApi,
  type Method,
  type MethodOptions,
  type TokenAuthorizer,
} from 'aws-cdk-lib/aws-apigateway';
import type { IMetric, MetricOptions } from 'aws-cdk-lib/aws-cloudwatch';
import type { Role } from 'aws-cdk-lib/aws-iam';
import type { Function as LambdaFunction } from 'aws-cdk-lib/aws-lambda';
import type { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { BEARER_HEADER_PATTERN } from '../lambda/authorizer/bearer.js';
import {
  DEFAULTS,
  ENV,
  type EnvName,
  isGuid,
  loadConfig,
  MAX_CLOCK_SKEW_SECONDS,
  MULTI_TENANT_AUTHORITIES,
  microsoftAudienceProblem,
  parseRoutePermissions,
} from '../lambda/authorizer/config.js';
import { ConfigError } from '../lambda/authorizer/errors.js';
import {
  readTelemetryConfig,
  TELEMETRY_DEFAULTS,
  TELEMETRY_ENV,
  type LogLevel as TelemetryLogLevel,
} from '../lambda/authorizer/telemetry-config.js';
import { ApiBoundTokenAuthorizer } from './api-binding.js';
import { createAuthorizerLambda } from './authorizer-lambda.js';
import {
  type AuthorizerAlarmOptions,
  type AuthorizerAlarms,
  createAlarms,
  type DecisionMetricOptions,
  decisionMetric,
} from './decision-metrics.js';
import { PropsError } from './errors.js';
import { addEntraGatewayResponses, type GatewayResponseOptions } from './gateway-responses.js';
import { routeCoverageProblems, routeKeyFor } from './route-coverage.js';

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
   * Multi-tenant only, and required there: the tenant GUIDs that may call, or `['*']` for any tenant.
   * @default - none (single tenant)
   */
  readonly allowedTenants?: readonly string[];
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
   * decision is still billed 1 ms (the README's cost model); a larger size shortens cold starts for a little
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
  [ENV.tenantId]: 'tenantId',
  [ENV.allowedTenants]: 'allowedTenants',
  [ENV.audiences]: 'audiences',
  [ENV.requiredScopes]: 'requiredScopes',
  [ENV.requiredRoles]: 'requiredRoles',
  [ENV.routePermissions]: 'routePermissions',
  [ENV.jwksUri]: 'jwksUri',
  [ENV.clockSkewSeconds]: 'clockSkew',
  [ENV.authorityHost]: 'authorityHost',
  [ENV.v1IssuerHost]: 'v1IssuerHost',
  [ENV.allowedClientApps]: 'allowedClientApps',
};

/** A list prop: undefined is "none"; an empty list is refused, since it would read as "none" silently. */
function checkNames(prop: string, names: readonly string[] | undefined, omitted: string): string[] {
  if (names === undefined) return [];
  const list = [...names];
  if (list.length === 0 || list.some((name) => typeof name !== 'string' || name === '' || /[\s,]/.test(name)))
    fail(prop, `a non-empty list of names without spaces or commas (leave it out for ${omitted})`, list);
  return list;
}

/** Validates the props (naming the prop) and returns the Lambda's environment. */
export function authorizerEnvironment(props: EntraTokenAuthorizerProps): Record<string, string> {
  const tenantId = props.tenantId?.toLowerCase();
  const multi = (MULTI_TENANT_AUTHORITIES as readonly string[]).includes(tenantId);
  if (!multi && !isGuid(tenantId ?? ''))
    fail('tenantId', 'a tenant GUID, "organizations" or "common"', props.tenantId);
  if (multi && (props.allowedTenants ?? []).length === 0) {
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
  const allowed = checkNames('allowedTenants', props.allowedTenants, 'a single tenant');
  if (allowed.length > 1 && allowed.includes('*'))
    fail('allowedTenants', "tenant GUIDs or exactly ['*']", allowed);
  if (allowed.some((t) => t !== '*' && !isGuid(t.toLowerCase())))
    fail('allowedTenants', 'tenant GUIDs', allowed);
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
  const clientApps = checkNames('allowedClientApps', props.allowedClientApps, 'any client app');
  if (clientApps.some((app) => !isGuid(app.toLowerCase())))
    fail(
      'allowedClientApps',
      'application (client) id GUIDs: the azp claim of v2 tokens, appid of v1',
      clientApps,
    );
  // Not integral: a fraction of a second is refused here, naming the prop, not by Duration's own error.
  const skew = props.clockSkew?.toSeconds({ integral: false }) ?? DEFAULTS.clockSkewSeconds;
  if (!Number.isInteger(skew) || skew < 0 || skew > MAX_CLOCK_SKEW_SECONDS) {
    fail('clockSkew', `whole seconds from 0 to ${MAX_CLOCK_SKEW_SECONDS}`, `${skew}s`);
  }
  if (props.routePermissions !== undefined) {
    parseRoutePermissions(
      props.routePermissions,
      ({ at, expected, actual }) =>
        new PropsError(
          'EntraTokenAuthorizer',
          `routePermissions${at === 'keys' ? ' keys' : at}`,
          expected,
          actual,
        ),
    );
  }

  const env: Record<string, string> = {
    [ENV.tenantId]: tenantId,
    [ENV.audiences]: [...new Set(audiences)].join(','),
    [ENV.clockSkewSeconds]: String(skew),
  };
  if (allowed.length > 0) env[ENV.allowedTenants] = allowed.join(',');
  const scopes = checkNames('requiredScopes', props.requiredScopes, 'no required scope');
  const roles = checkNames('requiredRoles', props.requiredRoles, 'no required role');
  if (scopes.length > 0) env[ENV.requiredScopes] = scopes.join(',');
  if (roles.length > 0) env[ENV.requiredRoles] = roles.join(',');
  if (clientApps.length > 0) env[ENV.allowedClientApps] = clientApps.join(',');
  if (props.routePermissions !== undefined)
    env[ENV.routePermissions] = JSON.stringify(props.routePermissions);
  if (props.jwksUri !== undefined) env[ENV.jwksUri] = props.jwksUri;
  if (props.authorityHost !== undefined) env[ENV.authorityHost] = props.authorityHost;
  if (props.v1IssuerHost !== undefined) env[ENV.v1IssuerHost] = props.v1IssuerHost;
  // The Lambda's own loader is the last word: synth fails on anything its cold start would reject.
  try {
    loadConfig(env);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    const prop = PROP_OF_VARIABLE[err.variable as EnvName] ?? err.variable;
    // The loader's own view of the value: what the Lambda would get, a key URL's credentials redacted; the
    // variables it speaks of named as the props that set them.
    const expected = Object.entries(PROP_OF_VARIABLE).reduce(
      (text, [variable, name]) => text.replaceAll(variable, name),
      err.expected,
    );
    fail(prop, expected, err.actual);
  }
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
    [TELEMETRY_ENV.serviceName]: props.serviceName ?? TELEMETRY_DEFAULTS.serviceName,
    [TELEMETRY_ENV.logLevel]: props.logLevel ?? 'INFO',
    [TELEMETRY_ENV.metricsNamespace]: props.metricsNamespace ?? TELEMETRY_DEFAULTS.metricsNamespace,
  };
  const propOf: Record<string, string> = {
    [TELEMETRY_ENV.serviceName]: 'serviceName',
    [TELEMETRY_ENV.logLevel]: 'logLevel',
    [TELEMETRY_ENV.metricsNamespace]: 'metricsNamespace',
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

/**
 * The Entra ID TOKEN authorizer: the Lambda (bundled by esbuild, Node.js 22, arm64) and the API Gateway
 * authorizer that reads `Authorization`, turns away anything but `Bearer <jwt>` before invoking it, and
 * caches decisions per token. Use `authorizer` on your methods.
 */
export class EntraTokenAuthorizer extends Construct {
  /** The authorizer Lambda (from the packaged bundle; a NodejsFunction when built from this repository's source). */
  public readonly function: LambdaFunction;
  public readonly authorizer: TokenAuthorizer;
  public readonly logGroup: LogGroup;
  public readonly role: Role;
  /** The Lambda environment: the `AZURE_*` contract of `lambda/authorizer/config.ts`. */
  public readonly environment: Readonly<Record<string, string>>;
  /** The route table: the `routePermissions` prop and the rules of `addMethod`. */
  #routes: Readonly<Record<string, RouteRule>> | undefined;
  readonly #unlistedMethods: 'error' | 'deny';
  readonly #telemetry: Readonly<Record<string, string>>;
  #alarms: AuthorizerAlarms | undefined;
  #authorizerSettings: Readonly<Record<string, unknown>>;
  readonly #bound: ApiBoundTokenAuthorizer;

  constructor(scope: Construct, id: string, props: EntraTokenAuthorizerProps) {
    super(scope, id);
    this.environment = authorizerEnvironment(props);
    this.#routes = props.routePermissions === undefined ? undefined : { ...props.routePermissions };
    this.#unlistedMethods = props.unlistedMethods ?? 'error';
    if (this.#unlistedMethods !== 'error' && this.#unlistedMethods !== 'deny')
      fail('unlistedMethods', "'error' or 'deny'", props.unlistedMethods);
    this.#telemetry = telemetryEnvironment(props);
    const ttl = props.resultsCacheTtl ?? Duration.minutes(5);
    const ttlSeconds = ttl.toSeconds({ integral: false });
    if (!Number.isInteger(ttlSeconds) || ttlSeconds > 3600)
      fail('resultsCacheTtl', 'whole seconds, at most 1 hour', `${ttlSeconds}s`);

    const lambda = createAuthorizerLambda(this, 'EntraTokenAuthorizer', props, {
      ...this.environment,
      ...this.#telemetry,
    });
    this.function = lambda.function;
    this.logGroup = lambda.logGroup;
    this.role = lambda.role;

    // The authorizer points at a published version: any change of the function (configuration included)
    // changes the authorizer, and redeployOnChange folds it into the API deployment, so the stage is
    // redeployed and its cache of decisions flushed.
    const authorizerName = `${Stack.of(this).stackName}-${id}`.slice(0, 128);
    this.#authorizerSettings = {
      authorizerName,
      validationRegex: BEARER_HEADER_PATTERN,
      resultsCacheTtlSeconds: ttl.toSeconds(),
    };
    this.#bound = new ApiBoundTokenAuthorizer(
      this,
      'Authorizer',
      {
        handler: this.function.currentVersion,
        identitySource: IdentitySource.header('Authorization'),
        validationRegex: BEARER_HEADER_PATTERN,
        resultsCacheTtl: ttl,
        authorizerName,
      },
      (api) => this.redeployOnChange(api),
    );
    this.authorizer = this.#bound;
    this.node.addValidation({ validate: () => this.routeProblems() });
  }

  // ---- Route rules against the API's methods (issue 18, part 1) ----

  /**
   * Adds a method guarded by this authorizer and its route rule in one call, so the rule cannot name a
   * method that does not exist: `entra.addMethod(items, 'GET', integration, { scopes: ['Items.Read'] })`.
   * The key is the method on the resource's path as declared (`GET /items/{id}`; `ANY` is `*`).
   */
  public addMethod(
    resource: IResource,
    httpMethod: string,
    integration: Integration,
    rule: RouteRule,
    options: MethodOptions = {},
  ): Method {
    const key = routeKeyFor(httpMethod, resource.path);
    const routes = this.#routes ?? {};
    const existing = routes[key];
    if (existing !== undefined && JSON.stringify(existing) !== JSON.stringify(rule)) {
      throw new PropsError(
        'addMethod',
        'rule',
        `the rule routePermissions already gives "${key}" (${JSON.stringify(existing)})`,
        rule,
      );
    }
    const table = { ...routes, [key]: rule };
    parseRoutePermissions(
      table,
      ({ at, expected, actual }) =>
        new PropsError(
          'addMethod',
          at === 'keys' ? 'the route key' : `rule${at.replace(/^\[[^\]]*\]/, '')}`,
          expected,
          actual,
        ),
    );
    this.#routes = table;
    const json = JSON.stringify(table);
    (this.environment as Record<string, string>)[ENV.routePermissions] = json;
    this.function.addEnvironment(ENV.routePermissions, json);
    return resource.addMethod(httpMethod, integration, {
      ...options,
      authorizer: this.authorizer,
      authorizationType: AuthorizationType.CUSTOM,
    });
  }

  private routeProblems(): string[] {
    const routes = this.#routes;
    if (routes === undefined || Object.keys(routes).length === 0) return [];
    const methods = this.#bound.guardedMethods();
    // A SpecRestApi's methods live in its OpenAPI document, out of sight: nothing to check against.
    if (methods.length === 0) return [];
    return routeCoverageProblems(Object.keys(routes), methods, this.#unlistedMethods).map(
      (problem) => `EntraTokenAuthorizer: ${problem}`,
    );
  }

  // ---- Every configuration change redeploys the stage (issue 18, part 2) ----

  /**
   * Folds the authorizer's published version and settings into the API's latest deployment, so any change of
   * its configuration gives the deployment a new logical id and redeploys the stage, whatever the app's
   * feature flags (`@aws-cdk/aws-apigateway:authorizerChangeDeploymentLogicalId` does it only when set).
   */
  private redeployOnChange(api: IRestApi): void {
    api.latestDeployment?.addToLogicalId({
      entraTokenAuthorizer: Lazy.any({
        // The version's logical id carries the hash of the function's configuration and code.
        produce: () => ({
          version: this.function.currentVersion.functionArn,
          environment: this.environment,
          authorizer: this.#authorizerSettings,
        }),
      }),
    });
  }

  /**
   * Gives `api` the 401/403/500 answers this authorizer's callers expect: RFC 6750 `WWW-Authenticate`
   * challenges (exposed to scripts with `Access-Control-Expose-Headers`) and CORS headers on every error
   * the gateway answers, so browsers see the real status. Pass the same `allowOrigin` as your CORS
   * preflight and your backends.
   */
  public addGatewayResponses(api: IRestApi, options: GatewayResponseOptions = {}): void {
    addEntraGatewayResponses(api, options);
  }

  // ---- Metrics and alarms (issue 18, part 4) ----

  /**
   * The `Decisions` metric the authorizer writes, summed over `period` (default 5 minutes): all decisions,
   * or those of one `outcome` and/or `reason`. With a reason it is a plain `Metric`; otherwise a Metrics
   * Insights query (a `MathExpression`) over the reasons of that outcome.
   */
  public metricDecisions(options: DecisionMetricOptions = {}): IMetric {
    return decisionMetric(this.#metricSource(), options);
  }

  /** Decisions with outcome `error`: the 500s of the authorizer's own failures (`keys_unavailable`, ...). */
  public metricErrors(options: MetricOptions = {}): IMetric {
    return this.metricDecisions({ ...options, outcome: 'error' });
  }

  /** Decisions with outcome `deny`: valid tokens without the needed scope or role (403). */
  public metricDenials(options: MetricOptions = {}): IMetric {
    return this.metricDecisions({ ...options, outcome: 'deny' });
  }

  /** Decisions with outcome `unauthorized`: tokens refused (401) by the Lambda. */
  public metricUnauthorized(options: MetricOptions = {}): IMetric {
    return this.metricDecisions({ ...options, outcome: 'unauthorized' });
  }

  /** The authorizer function's duration (average over 5 minutes unless `options` say otherwise). */
  public metricDuration(options: MetricOptions = {}): IMetric {
    return this.function.metricDuration(options);
  }

  /** The authorizer function's throttled invocations (sum over 5 minutes unless `options` say otherwise). */
  public metricThrottles(options: MetricOptions = {}): IMetric {
    return this.function.metricThrottles(options);
  }

  /**
   * The alarms an operator must hear about, each with `action` when given: any `error` decision (such as
   * `keys_unavailable`) in a short window, any throttle, and an unusual number of 401s. See the README's
   * runbook for what each means and what to check first.
   */
  public addAlarms(options: AuthorizerAlarmOptions = {}): AuthorizerAlarms {
    if (this.#alarms !== undefined) {
      throw new PropsError(
        'addAlarms',
        'call',
        'made once per authorizer (it returned the alarms)',
        'a second call',
      );
    }
    this.#alarms = createAlarms(this, this.#metricSource(), this.function, options);
    return this.#alarms;
  }

  #metricSource() {
    return {
      namespace: this.#telemetry[TELEMETRY_ENV.metricsNamespace] as string,
      serviceName: this.#telemetry[TELEMETRY_ENV.serviceName] as string,
    };
  }
}
