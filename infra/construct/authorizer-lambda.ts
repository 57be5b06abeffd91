import { Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import type { Role } from 'aws-cdk-lib/aws-iam';
import {
  Architecture,
  type CfnFunction,
  type Function as LambdaFunction,
  Runtime,
} from 'aws-cdk-lib/aws-lambda';
import { type LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { ENV_NAMES, SETTINGS, UNLISTED_METHODS_ENV } from '../../lambda/authorizer/config.js';
import { authorizerFunction } from './authorizer-function.js';
import { type EntraTokenAuthorizerProps, telemetryEnvironment } from './authorizer-props.js';
import { PropsError } from './errors.js';
import { functionLogging } from './lambda-defaults.js';
import { grantTenantsParameter } from './tenants-parameter.js';

/** The props every kind of Entra authorizer construct gives its Lambda. */
type AuthorizerLambdaProps = Pick<
  EntraTokenAuthorizerProps,
  'memorySize' | 'timeout' | 'logRetention' | 'logRemovalPolicy' | 'allowedTenants'
>;

interface AuthorizerLambda {
  readonly function: LambdaFunction;
  readonly logGroup: LogGroup;
  readonly role: Role;
}

/**
 * The authorizer Lambda of every kind of API (one bundle: Node.js 22, arm64, CommonJS, its source map beside it), with its log
 * group and a role that may write to it only. `environment` is the whole configuration, checked already.
 */
export function createAuthorizerLambda(
  scope: Construct,
  construct: string,
  props: AuthorizerLambdaProps,
  environment: Record<string, string>,
): AuthorizerLambda {
  const timeout = props.timeout ?? Duration.seconds(10);
  const seconds = timeout.toSeconds({ integral: false });
  if (!Number.isInteger(seconds) || seconds > 10 || seconds < 3)
    throw new PropsError(construct, 'timeout', 'whole seconds from 3 to 10', `${seconds}s`);
  // 256 MB: the smallest size whose warm decision is billed 1 ms (docs/performance.md: the cost model).
  const memorySize = props.memorySize ?? 256;
  if (!Number.isInteger(memorySize) || memorySize < 128 || memorySize > 10_240)
    throw new PropsError(
      construct,
      'memorySize',
      'whole megabytes from 128 to 10240 (what Lambda accepts)',
      memorySize,
    );
  const { logGroup, role } = functionLogging(scope, '', {
    retention: props.logRetention ?? RetentionDays.ONE_MONTH,
    removalPolicy: props.logRemovalPolicy ?? RemovalPolicy.DESTROY,
  });
  const fn = authorizerFunction(scope, 'Function', {
    runtime: Runtime.NODEJS_22_X,
    architecture: Architecture.ARM_64,
    memorySize,
    timeout,
    role,
    logGroup,
    description: 'Entra ID access token authorizer',
    // No NODE_OPTIONS=--enable-source-maps: it costs every cold start and every logged stack more than it
    // saves (docs/performance.md); the bundle's source map ships beside it for mapping a stack offline.
    environment,
  });
  grantTenantsParameter(scope, role, props.allowedTenants);
  fn.node.addValidation({ validate: () => environmentSizeProblems(construct, fn) });
  return { function: fn, logGroup, role };
}

/** Lambda refuses a function whose environment variables, measured as one JSON object, pass 4 KB. */
const MAX_ENVIRONMENT_BYTES = 4096;

/**
 * The deploy would fail with "exceeded the 4KB limit. String measured: {...}": say so at synth, naming the
 * route table, which is what grows. Variables still tokens (known only at deploy) are not measured.
 */
function environmentSizeProblems(construct: string, fn: LambdaFunction): string[] {
  const cfn = fn.node.defaultChild as CfnFunction;
  const resolved = Stack.of(fn).resolve(cfn.environment) as
    | { variables?: Record<string, unknown> }
    | undefined;
  return environmentSizeProblem(construct, resolved?.variables ?? {});
}

/** The problem with these variables' size, if they are all known (none a token) and too large. */
export function environmentSizeProblem(construct: string, variables: Record<string, unknown>): string[] {
  if (Object.values(variables).some((value) => typeof value !== 'string')) return [];
  const bytes = Buffer.byteLength(JSON.stringify(variables), 'utf8');
  if (bytes <= MAX_ENVIRONMENT_BYTES) return [];
  const list = largestList(variables as Record<string, string>);
  if (list !== undefined) {
    return [
      `${construct}: ${list.prop}: the Lambda's environment variables come to ${bytes} bytes as JSON (${list.prop} take ${list.bytes}), over the ${MAX_ENVIRONMENT_BYTES} bytes Lambda accepts: fewer or shorter entries`,
    ];
  }
  const routes = variables[ENV_NAMES.routePermissions];
  const share =
    typeof routes === 'string' ? ` (routePermissions take ${Buffer.byteLength(routes, 'utf8')})` : '';
  return [
    `${construct}: routePermissions: the Lambda's environment variables come to ${bytes} bytes as JSON${share}, over the ${MAX_ENVIRONMENT_BYTES} bytes Lambda accepts: fewer or shorter route keys (an ANY key or a {proxy+} for routes that share a rule), or shorter scope and role names`,
  ];
}

/**
 * The list prop (`requiredScopes`, `audiences`, ...) whose variable is the largest, when one is larger than
 * the route table's variables: then that list, not the table, is what passed the limit.
 */
function largestList(variables: Record<string, string>): { prop: string; bytes: number } | undefined {
  const size = (name: string) => Buffer.byteLength(variables[name] ?? '', 'utf8');
  const routes = size(ENV_NAMES.routePermissions) + size(UNLISTED_METHODS_ENV);
  const lists = Object.values(SETTINGS)
    .filter((row) => row.form === 'list')
    .map((row) => ({ prop: row.prop, bytes: size(row.variable) }))
    .sort((a, b) => b.bytes - a.bytes);
  const largest = lists[0];
  return largest !== undefined && largest.bytes > routes ? largest : undefined;
}

/**
 * Runs a check written for EntraTokenAuthorizer's props on behalf of another construct, so its PropsError
 * names the construct the author wrote.
 */
export function asConstruct<T>(construct: string, check: () => T): T {
  try {
    return check();
  } catch (err) {
    if (!(err instanceof PropsError) || err.construct === construct) throw err;
    const renamed = new PropsError(construct, err.prop, '', undefined);
    renamed.message = err.message.replace(`${err.construct}:`, `${construct}:`);
    throw renamed;
  }
}

/**
 * What the constructs of the HTTP and WebSocket kinds share: the authorizer Lambda, its log group and role,
 * and its environment (the kind's own, checked by the subclass before it gets here, plus telemetry).
 */
export abstract class EntraAuthorizerLambdaConstruct extends Construct {
  /** The authorizer Lambda (the packaged bundle; a NodejsFunction when built from this repository's source). */
  public readonly function: LambdaFunction;
  public readonly logGroup: LogGroup;
  public readonly role: Role;
  /** The Lambda environment: the `AZURE_*` contract, `AZURE_API_KIND` included. */
  public readonly environment: Readonly<Record<string, string>>;

  protected constructor(
    scope: Construct,
    id: string,
    construct: string,
    props: AuthorizerLambdaProps &
      Pick<EntraTokenAuthorizerProps, 'serviceName' | 'logLevel' | 'metricsNamespace'>,
    environment: Record<string, string>,
  ) {
    super(scope, id);
    this.environment = environment;
    const lambda = createAuthorizerLambda(this, construct, props, {
      ...environment,
      ...asConstruct(construct, () => telemetryEnvironment(props)),
    });
    this.function = lambda.function;
    this.logGroup = lambda.logGroup;
    this.role = lambda.role;
  }
}
