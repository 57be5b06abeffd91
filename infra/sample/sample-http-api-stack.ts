import { CfnOutput, Duration, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import {
  type CfnStage,
  type CorsHttpMethod,
  HttpApi,
  type HttpMethod,
  WebSocketApi,
  WebSocketStage,
} from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpLambdaIntegration, WebSocketLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import type { NodejsFunction } from 'aws-cdk-lib/aws-lambda-nodejs';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { Construct } from 'constructs';
import { EntraHttpAuthorizer } from '../construct/entra-http-authorizer.js';
import { EntraWebSocketAuthorizer } from '../construct/entra-websocket-authorizer.js';
import { type RouteDefinition, routeKeyPermissionsOf, SAMPLE_ROUTES, SAMPLE_SCOPE } from './routes.js';
import { type SampleApiStackProps, sampleAllowOrigin, sampleBackend } from './sample-api-stack.js';

/** The REST sample's props but its stage name: the HTTP API serves `$default`, the WebSocket API `prod`. */
export type SampleHttpApiStackProps = Omit<SampleApiStackProps, 'stageName'>;

/** The HTTP API variant's stack name (`cdk deploy -c apiKind=http`). */
export const SAMPLE_HTTP_STACK_NAME = 'EntraAuthorizerSampleHttp';

/**
 * The sample on API Gateway's other two kinds: an HTTP API whose every route is guarded by
 * EntraHttpAuthorizer (the same route table as the REST sample, as route keys), and a WebSocket API whose
 * `$connect` is guarded by EntraWebSocketAuthorizer (token in `?access_token=`, the scope `access_as_user`).
 */
export class SampleHttpApiStack extends Stack {
  public readonly httpApi: HttpApi;
  public readonly webSocketApi: WebSocketApi;
  public readonly httpAuthorizer: EntraHttpAuthorizer;
  public readonly webSocketAuthorizer: EntraWebSocketAuthorizer;
  public readonly backends: ReadonlyMap<RouteDefinition, NodejsFunction>;

  constructor(scope: Construct, id: string, props: SampleHttpApiStackProps) {
    super(scope, id, props);
    const routes = props.routes ?? SAMPLE_ROUTES;
    const allowOrigin = sampleAllowOrigin('SampleHttpApiStack', props.allowOrigin);
    this.httpAuthorizer = new EntraHttpAuthorizer(this, 'EntraHttpAuthorizer', {
      ...props.entra,
      routePermissions: routeKeyPermissionsOf(routes),
    });
    this.httpApi = new HttpApi(this, 'HttpApi', {
      description: 'Sample HTTP API guarded by the Entra ID Lambda authorizer',
      defaultAuthorizer: this.httpAuthorizer,
      // API Gateway answers the preflight itself and adds these headers to the integrations' answers
      // (ignoring CORS headers a backend returns).
      corsPreflight: {
        allowOrigins: [allowOrigin],
        allowHeaders: ['Authorization', 'Content-Type'],
        allowMethods: [...new Set(routes.map((r) => r.method as CorsHttpMethod))],
        maxAge: Duration.hours(1),
      },
    });
    const backends = new Map<RouteDefinition, NodejsFunction>();
    for (const route of routes) {
      const backend = sampleBackend(this, route, allowOrigin);
      backends.set(route, backend);
      this.httpApi.addRoutes({
        path: route.path,
        methods: [route.method as HttpMethod],
        integration: new HttpLambdaIntegration(`${route.id}Integration`, backend),
      });
    }
    this.backends = backends;

    const whoami = backends.get(routes[0] as RouteDefinition) as NodejsFunction;
    this.webSocketAuthorizer = new EntraWebSocketAuthorizer(this, 'EntraWebSocketAuthorizer', {
      ...props.entra,
      requiredScopes: [...(props.entra.requiredScopes ?? []), SAMPLE_SCOPE],
      tokenSource: 'query',
    });
    this.webSocketApi = new WebSocketApi(this, 'WebSocketApi', {
      description: 'Sample WebSocket API: $connect guarded by the Entra ID Lambda authorizer',
      connectRouteOptions: {
        // The first route's backend answers 200 with the caller, which accepts the connection.
        integration: new WebSocketLambdaIntegration('ConnectIntegration', whoami),
        authorizer: this.webSocketAuthorizer,
      },
    });
    const webSocketStage = new WebSocketStage(this, 'WebSocketStage', {
      webSocketApi: this.webSocketApi,
      stageName: 'prod',
      autoDeploy: true,
      throttle: { rateLimit: 100, burstLimit: 200 },
    });
    this.accessLogs(webSocketStage.node.defaultChild as CfnStage, 'WebSocketAccessLogs');
    const httpStage = this.httpApi.defaultStage?.node.defaultChild as CfnStage | undefined;
    if (httpStage !== undefined) {
      this.accessLogs(httpStage, 'HttpAccessLogs');
      httpStage.defaultRouteSettings = { throttlingRateLimit: 100, throttlingBurstLimit: 200 };
    }

    new CfnOutput(this, 'HttpApiUrl', {
      value: this.httpApi.apiEndpoint,
      description: 'The HTTP API base URL',
    });
    new CfnOutput(this, 'WebSocketUrl', {
      value: `${webSocketStage.url}?access_token=<token>`,
      description: 'Connect with an Entra ID access token (scope access_as_user) in the query string',
    });
    Validations.of(this).acknowledge({
      id: 'AwsSolutions-L1',
      reason: 'Node.js 22 (nodejs22.x) is the runtime this project targets and tests; move on deliberately.',
    });
  }

  /**
   * JSON access logs that never record a query string: `$context.path` and `$context.routeKey`, not the
   * request URI, so a token sent as `?access_token=` stays out of them.
   */
  private accessLogs(stage: CfnStage, id: string): void {
    const group = new LogGroup(this, id, {
      retention: RetentionDays.ONE_MONTH,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    stage.accessLogSettings = {
      destinationArn: group.logGroupArn,
      format: JSON.stringify({
        requestId: '$context.requestId',
        ip: '$context.identity.sourceIp',
        requestTime: '$context.requestTime',
        routeKey: '$context.routeKey',
        status: '$context.status',
        error: '$context.error.message',
        authorizerError: '$context.authorizer.error',
        authorizerRequestId: '$context.authorizer.requestId',
      }),
    };
  }
}
