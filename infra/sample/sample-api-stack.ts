import { fileURLToPath } from 'node:url';
import { CfnOutput, Duration, RemovalPolicy, Stack, type StackProps, Validations } from 'aws-cdk-lib';
import {
  AccessLogFormat,
  AuthorizationType,
  LambdaIntegration,
  LogGroupLogDestination,
  MethodLoggingLevel,
  type Resource,
  RestApi,
} from 'aws-cdk-lib/aws-apigateway';
import { Architecture, Runtime } from 'aws-cdk-lib/aws-lambda';
import { NodejsFunction } from 'aws-cdk-lib/aws-lambda-nodejs';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { Construct } from 'constructs';
import { CORS_ALLOW_ORIGIN_ENV, isAllowOrigin } from '../../lambda/shared/cors.js';
import type { EntraTokenAuthorizerProps } from '../construct/authorizer-props.js';
import { EntraTokenAuthorizer } from '../construct/entra-token-authorizer.js';
import { PropsError } from '../construct/errors.js';
import { functionLogging, NODE22_BUNDLING } from '../construct/lambda-defaults.js';
import { type RouteDefinition, routePermissionsOf, SAMPLE_ROUTES } from './routes.js';

export interface SampleApiStackProps extends StackProps {
  /** The authorizer configuration; route permissions come from the route table. */
  readonly entra: Omit<EntraTokenAuthorizerProps, 'routePermissions'>;
  /**
   * The routes to serve.
   * @default SAMPLE_ROUTES (GET /whoami)
   */
  readonly routes?: readonly RouteDefinition[];
  /**
   * @default 'prod'
   */
  readonly stageName?: string;
  /**
   * The origin browser scripts may call the API from: `*` or one origin such as `https://app.example.com`.
   * It is stated here once and reaches the CORS preflight, the gateway's error answers and (as
   * `CORS_ALLOW_ORIGIN`) every backend, which must add it to its own answers.
   * @default '*'
   */
  readonly allowOrigin?: string;
}

/** The sample stack's name, as `cdk deploy` and `npm start` build it. */
export const SAMPLE_STACK_NAME = 'EntraAuthorizerSample';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

/** A REST API whose every method is guarded by the Entra authorizer, serving GET /whoami. */
export class SampleApiStack extends Stack {
  public readonly api: RestApi;
  public readonly entraAuthorizer: EntraTokenAuthorizer;
  /** The allowed origin (`*` or one origin). */
  public readonly allowOrigin: string;
  /** Each route's backend function. */
  public readonly backends: ReadonlyMap<RouteDefinition, NodejsFunction>;

  constructor(scope: Construct, id: string, props: SampleApiStackProps) {
    super(scope, id, props);
    const routes = props.routes ?? SAMPLE_ROUTES;
    this.allowOrigin = sampleAllowOrigin('SampleApiStack', props.allowOrigin);

    this.entraAuthorizer = new EntraTokenAuthorizer(this, 'EntraAuthorizer', {
      ...props.entra,
      routePermissions: routePermissionsOf(routes),
    });

    const accessLogs = new LogGroup(this, 'AccessLogs', {
      retention: RetentionDays.ONE_MONTH,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    this.api = new RestApi(this, 'Api', {
      description: 'Sample API guarded by the Entra ID token authorizer',
      // Execution logs need API Gateway's account-level CloudWatch role, which every REST API of the account
      // and region shares: it stays when this stack is destroyed.
      cloudWatchRole: true,
      cloudWatchRoleRemovalPolicy: RemovalPolicy.RETAIN,
      deployOptions: {
        stageName: props.stageName ?? 'prod',
        accessLogDestination: new LogGroupLogDestination(accessLogs),
        accessLogFormat: AccessLogFormat.jsonWithStandardFields(),
        loggingLevel: MethodLoggingLevel.ERROR,
        tracingEnabled: true,
        throttlingRateLimit: 100,
        throttlingBurstLimit: 200,
      },
      // Every method is guarded unless it says otherwise.
      defaultMethodOptions: {
        authorizer: this.entraAuthorizer.authorizer,
        authorizationType: AuthorizationType.CUSTOM,
      },
      // A browser asks before it sends Authorization: the preflight names the routes' methods.
      defaultCorsPreflightOptions: {
        allowOrigins: [this.allowOrigin],
        allowHeaders: ['Authorization', 'Content-Type'],
        allowMethods: [...new Set(routes.map((r) => r.method))],
        maxAge: Duration.hours(1),
      },
    });
    // Browsers see the real status only if error answers carry CORS headers too; RFC 6750 challenges
    // tell clients what to do.
    this.entraAuthorizer.addGatewayResponses(this.api, { realm: id, allowOrigin: this.allowOrigin });

    const validator = this.api.addRequestValidator('Validator', {
      validateRequestParameters: true,
      validateRequestBody: true,
    });
    const backends = new Map<RouteDefinition, NodejsFunction>();
    for (const route of routes) {
      const resource = route.path
        .split('/')
        .filter((part) => part !== '')
        .reduce<Resource | typeof this.api.root>(
          (parent, part) => parent.getResource(part) ?? parent.addResource(part),
          this.api.root,
        );
      const backend = this.backend(route);
      backends.set(route, backend);
      resource.addMethod(route.method, new LambdaIntegration(backend), {
        requestValidator: validator,
        requestParameters: { 'method.request.header.Authorization': true },
      });
    }
    this.backends = backends;

    new CfnOutput(this, 'ApiUrl', { value: this.api.url, description: 'The API base URL' });
    new CfnOutput(this, 'WhoamiCurl', {
      value: `curl -H "Authorization: Bearer $TOKEN" ${this.api.urlForPath('/whoami')}`,
      description: 'Call GET /whoami with an Entra ID access token in $TOKEN',
    });
    this.suppressWithReasons();
  }

  private backend(route: RouteDefinition): NodejsFunction {
    return sampleBackend(this, route, this.allowOrigin);
  }

  /** The cdk-nag findings this sample accepts, each with its reason. */
  private suppressWithReasons(): void {
    const acknowledge = (scope: Construct, id: string, reason: string) =>
      Validations.of(scope).acknowledge({ id, reason });
    acknowledge(
      this,
      'AwsSolutions-COG4',
      'Methods use the Entra ID Lambda TOKEN authorizer; Cognito is not the identity provider here.',
    );
    acknowledge(
      this,
      'AwsSolutions-APIG3',
      'A sample API: attach the AWS WAF web ACL of your organisation to the stage when you adopt it.',
    );
    acknowledge(
      this,
      'AwsSolutions-L1',
      'Node.js 22 (nodejs22.x) is the runtime this project targets and tests; move on deliberately.',
    );
    const cloudWatchRole = this.api.node.tryFindChild('CloudWatchRole');
    if (cloudWatchRole !== undefined) {
      acknowledge(
        cloudWatchRole,
        'AwsSolutions::AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs]',
        "API Gateway's account-level logging role; AWS's managed push policy is the documented one for it.",
      );
    }
    // CORS preflight (OPTIONS) must answer without credentials, as browsers send none.
    for (const method of this.api.methods.filter((m) => m.httpMethod === 'OPTIONS')) {
      acknowledge(method, 'AwsSolutions-APIG4', 'CORS preflight requests carry no credentials by design.');
    }
  }
}

/** A route's backend Lambda, as every sample stack builds it: Node.js 22, arm64, the one allowed origin. */
export function sampleBackend(scope: Construct, route: RouteDefinition, allowOrigin: string): NodejsFunction {
  const { logGroup, role } = functionLogging(scope, route.id, { retention: RetentionDays.ONE_MONTH });
  return new NodejsFunction(scope, `${route.id}Function`, {
    entry: `${ROOT}${route.entry}`,
    handler: 'handler',
    runtime: Runtime.NODEJS_22_X,
    architecture: Architecture.ARM_64,
    memorySize: 256,
    timeout: Duration.seconds(10),
    role,
    logGroup,
    // With a Lambda proxy integration the backend's answer reaches the browser as it is: the backend
    // adds the CORS headers itself (lambda/shared/cors.ts reads this variable).
    environment: { [CORS_ALLOW_ORIGIN_ENV]: allowOrigin },
    bundling: NODE22_BUNDLING,
  });
}

/** A sample stack's one allowed origin (`*` unless given), or a PropsError naming the stack's prop. */
export function sampleAllowOrigin(stack: string, allowOrigin: string | undefined): string {
  const origin = allowOrigin ?? '*';
  if (!isAllowOrigin(origin)) {
    throw new PropsError(
      stack,
      'allowOrigin',
      '"*" or one origin as a browser sends it, such as https://app.example.com',
      allowOrigin,
    );
  }
  return origin;
}
