import { Stack } from 'aws-cdk-lib';
import {
  CfnRoute,
  type HttpRouteAuthorizerBindOptions,
  type HttpRouteAuthorizerConfig,
  type IHttpRouteAuthorizer,
} from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpLambdaAuthorizer, HttpLambdaResponseType } from 'aws-cdk-lib/aws-apigatewayv2-authorizers';
import type { Construct } from 'constructs';
import { API_ENV } from '../../lambda/authorizer/api-kind.js';
import { ENV_NAMES } from '../../lambda/authorizer/config.js';
import { parseRouteKeyPermissions } from '../../lambda/authorizer/route-keys.js';
import { asConstruct, EntraAuthorizerLambdaConstruct } from './authorizer-lambda.js';
import {
  authorizerEnvironment,
  type EntraTokenAuthorizerProps,
  type RouteRule,
  resultsCacheTtlOf,
  TOKEN_AUTHORIZER_PROPS,
} from './authorizer-props.js';
import { PropsError } from './errors.js';
import { checkKnownProps, type KnownProps } from './known-props.js';
import { editDistance } from './nearest.js';
import { checkPropKinds, type PropKind } from './prop-kinds.js';

const CONSTRUCT = 'EntraHttpAuthorizer';

/** The identity sources of an HTTP API Lambda authorizer: the header, and the route key when answers are per route. */
const HTTP_IDENTITY_SOURCE = {
  authorization: '$request.header.Authorization',
  routeKey: '$context.routeKey',
} as const;

export interface EntraHttpAuthorizerProps extends Omit<EntraTokenAuthorizerProps, 'routePermissions'> {
  /**
   * Per-route rules keyed by the HTTP API's route keys, exactly as the routes are declared:
   * `{ 'GET /items/{id}': { scopes: ['Items.Read'] }, 'DELETE /items/{id}': { roles: ['Items.Admin'] } }`
   * (`ANY /files/{proxy+}` and `$default` too). A guarded route not listed is refused (403).
   * @default - one decision for every route
   */
  readonly routePermissions?: Readonly<Record<string, RouteRule>>;
}

/** Its props are EntraTokenAuthorizer's, `routePermissions` keyed by route keys. */
const HTTP_AUTHORIZER_PROPS = {
  ...TOKEN_AUTHORIZER_PROPS,
} as const satisfies KnownProps<EntraHttpAuthorizerProps, PropKind>;

/**
 * The Lambda's environment for an HTTP API, checked by the validators its cold start uses (the shared
 * settings', and the route keys' `parseRouteKeyPermissions`); a mistake fails the synth naming the prop.
 */
function httpAuthorizerEnvironment(props: EntraHttpAuthorizerProps): Record<string, string> {
  checkKnownProps(CONSTRUCT, props, HTTP_AUTHORIZER_PROPS);
  checkPropKinds(CONSTRUCT, props, HTTP_AUTHORIZER_PROPS);
  // A guarded route the table does not name always fails the synth here (see the validation below).
  if (props.unlistedMethods === 'deny')
    throw new PropsError(
      CONSTRUCT,
      'unlistedMethods',
      "'error' or left out: a guarded route that routePermissions does not name fails the synth ('deny' is for a RestApi's methods)",
      props.unlistedMethods,
    );
  const env = asConstruct(CONSTRUCT, () => authorizerEnvironment({ ...props, routePermissions: undefined }));
  env[API_ENV.kind] = 'http';
  if (props.routePermissions !== undefined) {
    parseRouteKeyPermissions(
      props.routePermissions,
      ({ at, expected, actual }) =>
        new PropsError(CONSTRUCT, `routePermissions${at === 'keys' ? ' keys' : at}`, expected, actual),
    );
    env[ENV_NAMES.routePermissions] = JSON.stringify(props.routePermissions);
  }
  return env;
}

/**
 * The table's key closest to a route key it lacks, as the REST check names the nearest method: route keys
 * match exactly, so `GET /orders/{orderId}` does not name the route `GET /orders/{id}`.
 */
function nearestKeyHint(routeKey: string, keys: readonly string[]): string {
  const shape = (key: string) => key.replace(/\{[^}]*?(\+?)\}/g, '{$1}');
  const sameShape = keys.find((key) => shape(key) === shape(routeKey));
  if (sameShape !== undefined)
    return `; it has "${sameShape}", which differs only in a parameter name: write the key as the route declares it`;
  let nearest: string | undefined;
  for (const key of keys)
    if (nearest === undefined || editDistance(routeKey, key) < editDistance(routeKey, nearest)) nearest = key;
  return nearest === undefined ? '' : `; the nearest key in it is "${nearest}"`;
}

/** The guarded route key whose text is the fewest edits away from a key of the table. */
function nearestRouteHint(key: string, routeKeys: readonly string[]): string {
  let nearest: string | undefined;
  for (const routeKey of routeKeys)
    if (nearest === undefined || editDistance(key, routeKey) < editDistance(key, nearest)) nearest = routeKey;
  return nearest === undefined ? '' : `; the nearest is ${nearest}`;
}

/**
 * The table checked against the route keys the authorizer guards: a key that names no guarded route (it
 * would decide nothing), and a guarded route no key names (every request to it would be refused). Route keys
 * match exactly, `$default` and `ANY /path` included.
 */
function routeTableProblems(
  table: Readonly<Record<string, RouteRule>>,
  routeKeys: readonly string[],
): string[] {
  if (routeKeys.length === 0) return [];
  const keys = Object.keys(table);
  const unguarded = keys
    .filter((key) => !routeKeys.includes(key))
    .map(
      (key) =>
        `${CONSTRUCT}: routePermissions key "${key}" names no route guarded by this authorizer${nearestRouteHint(key, routeKeys)}`,
    );
  const unnamed = routeKeys
    .filter((key) => !Object.hasOwn(table, key))
    .map(
      (key) =>
        `${CONSTRUCT}: routePermissions must name every route it guards; "${key}" is not in it, so every request to it would be refused (403)${nearestKeyHint(key, keys)}`,
    );
  return [...unguarded, ...unnamed];
}

export class EntraHttpAuthorizer extends EntraAuthorizerLambdaConstruct implements IHttpRouteAuthorizer {
  /** The identity sources: the cache key, and what a request must carry not to be a 401 before the Lambda. */
  public readonly identitySource: readonly string[];
  private readonly authorizer: HttpLambdaAuthorizer;

  constructor(scope: Construct, id: string, props: EntraHttpAuthorizerProps) {
    super(scope, id, CONSTRUCT, props, httpAuthorizerEnvironment(props));
    const ttl = resultsCacheTtlOf(CONSTRUCT, props);
    const perRoute = props.routePermissions !== undefined && ttl.toSeconds() > 0;
    this.identitySource = [
      HTTP_IDENTITY_SOURCE.authorization,
      ...(perRoute ? [HTTP_IDENTITY_SOURCE.routeKey] : []),
    ];
    // A published version, as for REST: a change of the function changes the authorizer.
    this.authorizer = new HttpLambdaAuthorizer(id, this.function.currentVersion, {
      authorizerName: `${Stack.of(this).stackName}-${id}`.slice(0, 128),
      identitySource: [...this.identitySource],
      resultsCacheTtl: ttl,
      responseTypes: [HttpLambdaResponseType.SIMPLE],
    });
    const table = props.routePermissions;
    if (table !== undefined) {
      this.node.addValidation({ validate: () => routeTableProblems(table, this.guardedRouteKeys()) });
    }
  }

  public bind(options: HttpRouteAuthorizerBindOptions): HttpRouteAuthorizerConfig {
    return this.authorizer.bind(options);
  }

  /**
   * The route keys of the routes whose `AWS::ApiGatewayV2::Route` names this authorizer, read at synth as the
   * REST construct reads its methods: routes added after it, by `defaultAuthorizer` or as L1 `CfnRoute`s.
   */
  private guardedRouteKeys(): string[] {
    // Attached through this construct or through its HttpLambdaAuthorizer (a JavaScript app can reach it):
    // either way, its id is known once a route took it, and reading it before throws.
    let authorizerId: string;
    try {
      authorizerId = this.authorizer.authorizerId;
    } catch {
      return [];
    }
    const keys = this.node.root.node
      .findAll()
      .filter((c): c is CfnRoute => c instanceof CfnRoute)
      .filter((route) => {
        const stack = Stack.of(route);
        return (
          JSON.stringify(stack.resolve(route.authorizerId)) === JSON.stringify(stack.resolve(authorizerId))
        );
      })
      .map((route) => Stack.of(route).resolve(route.routeKey) as unknown)
      .filter((key): key is string => typeof key === 'string');
    return [...new Set(keys)];
  }
}
