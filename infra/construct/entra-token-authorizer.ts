import { Annotations, Aspects, CfnResource, Lazy, Stack } from 'aws-cdk-lib';
import {
  AuthorizationType,
  type CfnGatewayResponse,
  type CfnRestApi,
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
import type { LogGroup } from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { BEARER_HEADER_PATTERN } from '../../lambda/authorizer/bearer.js';
import { ENV_NAMES, parseRoutePermissions, UNLISTED_METHODS_ENV } from '../../lambda/authorizer/config.js';
import { routeTablePlanProblem } from '../../lambda/authorizer/permissions.js';
import { guardedRoutes } from '../../lambda/authorizer/route-table.js';
import { TELEMETRY_ENV_NAMES } from '../../lambda/authorizer/telemetry-config.js';
import { ApiBoundTokenAuthorizer } from './api-binding.js';
import { createAuthorizerLambda } from './authorizer-lambda.js';
import {
  authorizerEnvironment,
  type EntraTokenAuthorizerProps,
  type RouteRule,
  resultsCacheTtlOf,
  TOKEN_AUTHORIZER_PROPS,
  telemetryEnvironment,
} from './authorizer-props.js';
import {
  type AuthorizerAlarmOptions,
  type AuthorizerAlarms,
  createAlarms,
  type DecisionMetricOptions,
  decisionMetric,
} from './decision-metrics.js';
import { PropsError } from './errors.js';
import { addEntraGatewayResponses, type GatewayResponseOptions } from './gateway-responses.js';
import { checkKnownProps } from './known-props.js';
import { checkPropKinds } from './prop-kinds.js';
import { routeCoverageProblems, routeKeyFor, unlistedMethods } from './route-coverage.js';

/** The id of the synth warning for a guarded RestApi without `addGatewayResponses`, to acknowledge it. */
export const GATEWAY_RESPONSES_WARNING = 'entra-authorizer:addGatewayResponses';

/**
 * Whether a RestApi whose whole definition is in this app (not imported, not an OpenAPI document) lacks a
 * 401 or 403 gateway response of its own.
 */
function lacksGatewayResponses(api: IRestApi): boolean {
  const cfn = api.node.defaultChild as CfnRestApi | undefined;
  if (
    cfn?.cfnResourceType !== 'AWS::ApiGateway::RestApi' ||
    cfn.body !== undefined ||
    cfn.bodyS3Location !== undefined
  )
    return false;
  const types = new Set(
    api.node
      .findAll()
      .filter(
        (c): c is CfnGatewayResponse =>
          c instanceof CfnResource && c.cfnResourceType === 'AWS::ApiGateway::GatewayResponse',
      )
      .map((r) => r.responseType),
  );
  return !types.has('UNAUTHORIZED') || !types.has('ACCESS_DENIED');
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
    checkKnownProps('EntraTokenAuthorizer', props, TOKEN_AUTHORIZER_PROPS);
    checkPropKinds('EntraTokenAuthorizer', props, TOKEN_AUTHORIZER_PROPS);
    this.environment = authorizerEnvironment(props);
    this.#routes = props.routePermissions === undefined ? undefined : { ...props.routePermissions };
    this.#unlistedMethods = props.unlistedMethods ?? 'error';
    this.#telemetry = telemetryEnvironment(props);
    const ttl = resultsCacheTtlOf('EntraTokenAuthorizer', props);

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
    if (this.#routes !== undefined) this.listUnlistedMethods();
    this.node.addValidation({ validate: () => this.routeProblems() });
    // Before CDK resolves the authorizer's API id, which fails with its bare "must be attached to a RestApi".
    Aspects.of(this).add({
      visit: (node) => {
        if (node !== this || this.#bound.api !== undefined) return;
        throw new PropsError(
          'EntraTokenAuthorizer',
          'authorizer',
          'used by the methods it guards (defaultMethodOptions: { authorizer: entra.authorizer } on your RestApi, the authorizer option of a method, or entra.addMethod(...))',
          undefined,
        );
      },
    });
    this.node.addValidation({ validate: () => this.gatewayResponseWarnings() });
  }

  /**
   * A guarded RestApi without this authorizer's gateway responses is not wrong to AWS, but its 401s and 403s
   * lose their challenge and CORS headers: a warning users can acknowledge
   * (`Annotations.of(entra).acknowledgeWarning(GATEWAY_RESPONSES_WARNING)`).
   */
  private gatewayResponseWarnings(): string[] {
    const api = this.#bound.api;
    if (api !== undefined && lacksGatewayResponses(api)) {
      Annotations.of(this).addWarningV2(
        GATEWAY_RESPONSES_WARNING,
        `EntraTokenAuthorizer: ${api.node.path} has no UNAUTHORIZED and ACCESS_DENIED gateway responses, so its 401s and 403s carry no WWW-Authenticate challenge and no CORS headers (a browser sees a CORS error, not the status): call entra.addGatewayResponses(api)`,
      );
    }
    return [];
  }

  // ---- Route rules against the API's methods ----

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
    checkPropKinds('addMethod', { httpMethod, rule }, { httpMethod: 'text', rule: 'routes' });
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
    if (this.#routes === undefined) this.listUnlistedMethods();
    this.#routes = table;
    const json = JSON.stringify(table);
    (this.environment as Record<string, string>)[ENV_NAMES.routePermissions] = json;
    this.function.addEnvironment(ENV_NAMES.routePermissions, json);
    return resource.addMethod(httpMethod, integration, {
      ...options,
      authorizer: this.authorizer,
      authorizationType: AuthorizationType.CUSTOM,
    });
  }

  /**
   * Tells the Lambda, at synth, which guarded methods no key names, so that it judges every request by the
   * method that serves it. Empty (the variable unset) when the methods are out of sight.
   */
  private listUnlistedMethods(): void {
    const value = Lazy.string({
      produce: () => {
        const methods = this.#bound.guardedMethods();
        if (methods.length === 0) return '';
        return JSON.stringify(unlistedMethods(Object.keys(this.#routes ?? {}), methods));
      },
    });
    this.function.addEnvironment(UNLISTED_METHODS_ENV, value);
  }

  private routeProblems(): string[] {
    const routes = this.#routes;
    if (routes === undefined) return [];
    const methods = this.#bound.guardedMethods();
    if (methods.length === 0 && this.#bound.api !== undefined) {
      // A SpecRestApi's methods live in its OpenAPI document, out of sight.
      Annotations.of(this).addInfo(
        'routePermissions: the methods of this API are not visible at synth (a SpecRestApi), so a request is judged by the key whose resource path serves it among the keys, or by "* /*": name every method of the OpenAPI document as a key, or a method no key names is judged by a neighbour\'s rule',
      );
    }
    if (methods.length === 0) return [];
    const problems = routeCoverageProblems(Object.keys(routes), methods, this.#unlistedMethods);
    const unlisted = unlistedMethods(Object.keys(routes), methods);
    const config = {
      routePermissions: parseRoutePermissions(routes),
      unlistedMethods: parseRoutePermissions(Object.fromEntries(unlisted.map((k) => [k, {}]))),
    };
    const plan = routeTablePlanProblem(guardedRoutes(config));
    if (plan !== undefined) problems.push(`routePermissions key "${plan.key}": expected ${plan.expected}`);
    return problems.map((problem) => `EntraTokenAuthorizer: ${problem}`);
  }

  // ---- Every configuration change redeploys the stage ----

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

  // ---- Metrics and alarms ----

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
   * `keys_unavailable`) in a short window, any throttle, and an unusual number of 401s. See docs/observability.md's
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
    this.#alarms = createAlarms(
      this,
      this.#metricSource(),
      this.function,
      options,
      this.environment[ENV_NAMES.allowedTenantsParameter] !== undefined,
    );
    return this.#alarms;
  }

  #metricSource() {
    return {
      namespace: this.#telemetry[TELEMETRY_ENV_NAMES.metricsNamespace] as string,
      serviceName: this.#telemetry[TELEMETRY_ENV_NAMES.serviceName] as string,
    };
  }
}
