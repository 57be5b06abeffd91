import { Duration, Stack } from 'aws-cdk-lib';
import type {
  IWebSocketRouteAuthorizer,
  WebSocketRouteAuthorizerBindOptions,
  WebSocketRouteAuthorizerConfig,
} from 'aws-cdk-lib/aws-apigatewayv2';
import { WebSocketLambdaAuthorizer } from 'aws-cdk-lib/aws-apigatewayv2-authorizers';
import type { Construct } from 'constructs';
import {
  API_ENV,
  WEBSOCKET_TOKEN_NAME,
  WEBSOCKET_TOKEN_SOURCES,
  type WebSocketTokenSource,
} from '../../lambda/authorizer/api-kind.js';
import { asConstruct, EntraAuthorizerLambdaConstruct } from './authorizer-lambda.js';
import {
  authorizerEnvironment,
  type EntraTokenAuthorizerProps,
  TOKEN_AUTHORIZER_PROPS,
} from './authorizer-props.js';
import { PropsError } from './errors.js';
import { checkKnownProps, type KnownProps } from './known-props.js';
import { checkPropKinds, type PropKind } from './prop-kinds.js';

const CONSTRUCT = 'EntraWebSocketAuthorizer';

/** Where the token is, as a WebSocket API's identity source names it. */
const WEBSOCKET_IDENTITY_SOURCE: Readonly<Record<WebSocketTokenSource, string>> = {
  query: `route.request.querystring.${WEBSOCKET_TOKEN_NAME}`,
  protocol: 'route.request.header.Sec-WebSocket-Protocol',
};

export interface EntraWebSocketAuthorizerProps
  extends Omit<EntraTokenAuthorizerProps, 'routePermissions' | 'resultsCacheTtl' | 'unlistedMethods'> {
  /**
   * Where browsers put the token, since they cannot send `Authorization` on a WebSocket: `query`
   * (`wss://.../prod?access_token=<jwt>`) or `protocol` (`new WebSocket(url, ['access_token', jwt])`, whose
   * `$connect` integration must then answer `Sec-WebSocket-Protocol: access_token`).
   * @default 'query'
   */
  readonly tokenSource?: WebSocketTokenSource;
}

const {
  routePermissions: _,
  resultsCacheTtl: __,
  unlistedMethods: ___,
  ...SHARED_PROPS
} = TOKEN_AUTHORIZER_PROPS;
const WEBSOCKET_AUTHORIZER_PROPS = {
  ...SHARED_PROPS,
  tokenSource: 'text',
} as const satisfies KnownProps<EntraWebSocketAuthorizerProps, PropKind>;

/** The Lambda's environment for a WebSocket API, checked at synth; a mistake names the prop. */
export function webSocketAuthorizerEnvironment(props: EntraWebSocketAuthorizerProps): Record<string, string> {
  // The props of the REST and HTTP authorizers it has not: routePermissions and unlistedMethods refused with
  // their reason; resultsCacheTtl, which a props object shared with them may carry, let through (set to 0
  // below), since API Gateway does not cache $connect decisions and so it changes nothing.
  const { routePermissions, unlistedMethods, resultsCacheTtl, ...own } = (props ??
    {}) as EntraTokenAuthorizerProps;
  checkKnownProps(CONSTRUCT, props === null || props === undefined ? props : own, WEBSOCKET_AUTHORIZER_PROPS);
  if (routePermissions !== undefined)
    throw new PropsError(
      CONSTRUCT,
      'routePermissions',
      'absent: a WebSocket API authorizes $connect only (use requiredScopes or requiredRoles)',
      routePermissions,
    );
  if (unlistedMethods !== undefined)
    throw new PropsError(
      CONSTRUCT,
      'unlistedMethods',
      "absent: it decides a RestApi's methods that no route key names, and a WebSocket API authorizes $connect only",
      unlistedMethods,
    );
  checkPropKinds(CONSTRUCT, own, WEBSOCKET_AUTHORIZER_PROPS);
  // Let through from a shared props object, it is still a Duration there.
  checkPropKinds(CONSTRUCT, { resultsCacheTtl }, { resultsCacheTtl: 'duration' });
  const source = props.tokenSource ?? 'query';
  if (!(WEBSOCKET_TOKEN_SOURCES as readonly string[]).includes(source))
    throw new PropsError(
      CONSTRUCT,
      'tokenSource',
      `one of ${WEBSOCKET_TOKEN_SOURCES.join(', ')}`,
      props.tokenSource,
    );
  const env = asConstruct(CONSTRUCT, () =>
    authorizerEnvironment({
      ...props,
      routePermissions: undefined,
      // API Gateway does not cache a WebSocket API's $connect decisions.
      resultsCacheTtl: Duration.seconds(0),
    }),
  );
  env[API_ENV.kind] = 'websocket';
  env[API_ENV.webSocketTokenSource] = source;
  return env;
}

/**
 * The Entra ID authorizer of a WebSocket API's `$connect` route: the same Lambda and rules as
 * EntraTokenAuthorizer, as a Lambda REQUEST authorizer reading the token from the query string or from
 * `Sec-WebSocket-Protocol`, answering with an IAM policy for the connect route that stays within
 * WebSocket's 8 KB limit on the authorizer's answer. Pass it as `connectRouteOptions.authorizer`.
 */
export class EntraWebSocketAuthorizer
  extends EntraAuthorizerLambdaConstruct
  implements IWebSocketRouteAuthorizer
{
  /** The identity source: a `$connect` without it is a 401 before the Lambda runs. */
  public readonly identitySource: string;
  private readonly authorizer: WebSocketLambdaAuthorizer;

  constructor(scope: Construct, id: string, props: EntraWebSocketAuthorizerProps) {
    super(scope, id, CONSTRUCT, props, webSocketAuthorizerEnvironment(props));
    this.identitySource = WEBSOCKET_IDENTITY_SOURCE[props.tokenSource ?? 'query'];
    this.authorizer = new WebSocketLambdaAuthorizer(id, this.function.currentVersion, {
      authorizerName: `${Stack.of(this).stackName}-${id}`.slice(0, 128),
      identitySource: [this.identitySource],
    });
  }

  public bind(options: WebSocketRouteAuthorizerBindOptions): WebSocketRouteAuthorizerConfig {
    return this.authorizer.bind(options);
  }
}
