import { Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import { IdentitySource, type RestApi, TokenAuthorizer } from 'aws-cdk-lib/aws-apigateway';
import type { Role } from 'aws-cdk-lib/aws-iam';
import { Architecture, type Function as LambdaFunction, Runtime } from 'aws-cdk-lib/aws-lambda';
import { type LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
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
  parseRoutePermissions,
} from '../lambda/authorizer/config.js';
import { ConfigError } from '../lambda/authorizer/errors.js';
import {
  readTelemetryConfig,
  TELEMETRY_DEFAULTS,
  TELEMETRY_ENV,
  type LogLevel as TelemetryLogLevel,
} from '../lambda/authorizer/telemetry-config.js';
import { authorizerFunction } from './authorizer-function.js';
import { PropsError } from './errors.js';
import { addEntraGatewayResponses, type GatewayResponseOptions } from './gateway-responses.js';
import { functionLogging } from './lambda-defaults.js';

/** A route's rule: one of the scopes or one of the roles; `{}` admits any valid access token that carries a scope or a role. */
export interface RouteRule {
  readonly scopes?: readonly string[];
  readonly roles?: readonly string[];
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
   * Lambda memory; CPU, and so RS256 verification speed, scales with it.
   * @default 512
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
};

function checkNames(prop: string, names: readonly string[] | undefined): string[] {
  const list = [...(names ?? [])];
  for (const name of list) {
    if (typeof name !== 'string' || name === '' || /[\s,]/.test(name))
      fail(prop, 'names without spaces or commas', list);
  }
  return list;
}

/** Validates the props (naming the prop) and returns the Lambda's environment. */
export function authorizerEnvironment(props: EntraTokenAuthorizerProps): Record<string, string> {
  const tenantId = props.tenantId?.toLowerCase();
  const multi = (MULTI_TENANT_AUTHORITIES as readonly string[]).includes(tenantId);
  if (!multi && !isGuid(tenantId ?? ''))
    fail('tenantId', 'a tenant GUID, "organizations" or "common"', props.tenantId);
  const allowed = checkNames('allowedTenants', props.allowedTenants);
  if (multi && allowed.length === 0)
    fail('allowedTenants', `set for tenantId "${tenantId}" (tenant GUIDs, or ['*'])`, props.allowedTenants);
  if (!multi && allowed.length > 0)
    fail('allowedTenants', 'empty for a single-tenant tenantId', props.allowedTenants);
  if (allowed.length > 1 && allowed.includes('*'))
    fail('allowedTenants', "tenant GUIDs or exactly ['*']", allowed);
  if (allowed.some((t) => t !== '*' && !isGuid(t.toLowerCase())))
    fail('allowedTenants', 'tenant GUIDs', allowed);
  if (props.clientId !== undefined && !isGuid(props.clientId.toLowerCase())) {
    fail('clientId', 'the application (client) id GUID', props.clientId);
  }
  const audiences = [
    ...(props.clientId !== undefined
      ? [props.clientId.toLowerCase(), `api://${props.clientId.toLowerCase()}`]
      : []),
    ...checkNames('audiences', props.audiences),
  ];
  if (audiences.length === 0)
    fail('clientId or audiences', 'given (at least one accepted audience)', undefined);
  const skew = props.clockSkew?.toSeconds() ?? DEFAULTS.clockSkewSeconds;
  if (!Number.isInteger(skew) || skew < 0 || skew > MAX_CLOCK_SKEW_SECONDS) {
    fail('clockSkew', `whole seconds from 0 to ${MAX_CLOCK_SKEW_SECONDS}`, `${skew}s`);
  }
  if (props.routePermissions !== undefined) {
    parseRoutePermissions(
      props.routePermissions,
      (expected) =>
        new PropsError('EntraTokenAuthorizer', 'routePermissions', expected, props.routePermissions),
    );
  }

  const env: Record<string, string> = {
    [ENV.tenantId]: tenantId,
    [ENV.audiences]: [...new Set(audiences)].join(','),
    [ENV.clockSkewSeconds]: String(skew),
  };
  if (allowed.length > 0) env[ENV.allowedTenants] = allowed.join(',');
  const scopes = checkNames('requiredScopes', props.requiredScopes);
  const roles = checkNames('requiredRoles', props.requiredRoles);
  if (scopes.length > 0) env[ENV.requiredScopes] = scopes.join(',');
  if (roles.length > 0) env[ENV.requiredRoles] = roles.join(',');
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
    // The loader's own view of the value: what the Lambda would get, a key URL's credentials redacted.
    fail(prop, err.expected, err.actual);
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

  constructor(scope: Construct, id: string, props: EntraTokenAuthorizerProps) {
    super(scope, id);
    this.environment = authorizerEnvironment(props);
    const timeout = props.timeout ?? Duration.seconds(10);
    if (timeout.toSeconds() > 10 || timeout.toSeconds() < 3)
      fail('timeout', 'from 3 to 10 seconds', `${timeout.toSeconds()}s`);
    const ttl = props.resultsCacheTtl ?? Duration.minutes(5);
    if (ttl.toSeconds() > 3600) fail('resultsCacheTtl', 'at most 1 hour', `${ttl.toSeconds()}s`);

    const { logGroup, role } = functionLogging(this, '', {
      retention: props.logRetention ?? RetentionDays.ONE_MONTH,
      removalPolicy: props.logRemovalPolicy ?? RemovalPolicy.DESTROY,
    });
    this.logGroup = logGroup;
    this.role = role;

    this.function = authorizerFunction(this, 'Function', {
      runtime: Runtime.NODEJS_22_X,
      architecture: Architecture.ARM_64,
      memorySize: props.memorySize ?? 512,
      timeout,
      role: this.role,
      logGroup: this.logGroup,
      description: 'Entra ID access token authorizer',
      environment: {
        ...this.environment,
        ...telemetryEnvironment(props),
        NODE_OPTIONS: '--enable-source-maps',
      },
    });

    // The authorizer points at a published version: any change of the function (configuration included)
    // changes the authorizer, and with it the API deployment, so the stage is redeployed and its cache of
    // decisions flushed.
    this.authorizer = new TokenAuthorizer(this, 'Authorizer', {
      handler: this.function.currentVersion,
      identitySource: IdentitySource.header('Authorization'),
      validationRegex: BEARER_HEADER_PATTERN,
      resultsCacheTtl: ttl,
      authorizerName: `${Stack.of(this).stackName}-${id}`.slice(0, 128),
    });
  }

  /**
   * Gives `api` the 401/403/500 answers this authorizer's callers expect: RFC 6750 `WWW-Authenticate`
   * challenges (exposed to scripts with `Access-Control-Expose-Headers`) and CORS headers on every error
   * the gateway answers, so browsers see the real status. Pass the same `allowOrigin` as your CORS
   * preflight and your backends.
   */
  public addGatewayResponses(api: RestApi, options: GatewayResponseOptions = {}): void {
    addEntraGatewayResponses(api, options);
  }
}
