import {
  type AuthorizerConfig,
  ENV_NAMES,
  type Env,
  envSource,
  loadConfig,
  settingsOfEnv,
  validateSettings,
} from './config.js';
import { ConfigError } from './errors.js';
import { plannableRoutes } from './permissions.js';
import { parseRouteKeyPermissions, type RouteKeyPermission, routeProblemText } from './route-keys.js';

/**
 * Which kind of API Gateway API the authorizer serves, and the settings only that kind has. The construct
 * of each kind sets these; the one bundle serves all three, each strict about its own event.
 */
export const API_ENV = {
  kind: 'AZURE_API_KIND',
  webSocketTokenSource: 'AZURE_WEBSOCKET_TOKEN_SOURCE',
} as const;

const API_KINDS = ['rest', 'http', 'websocket'] as const;

/**
 * Where a WebSocket client puts its token: `?access_token=<jwt>` on the URL, or the subprotocol list
 * (`new WebSocket(url, ['access_token', jwt])`), since a browser cannot send `Authorization`.
 */
export const WEBSOCKET_TOKEN_SOURCES = ['query', 'protocol'] as const;
export type WebSocketTokenSource = (typeof WEBSOCKET_TOKEN_SOURCES)[number];

/** The query parameter, and the subprotocol that precedes the token in `Sec-WebSocket-Protocol`. */
export const WEBSOCKET_TOKEN_NAME = 'access_token';

type ApiSettings =
  | { readonly kind: 'rest' }
  | { readonly kind: 'http'; readonly routeKeys: readonly RouteKeyPermission[] | undefined }
  | { readonly kind: 'websocket'; readonly tokenSource: WebSocketTokenSource };

export interface ApiConfig extends AuthorizerConfig {
  readonly api: ApiSettings;
}

function oneOf<T extends string>(env: Env, name: string, allowed: readonly T[], fallback: T): T {
  const raw = env[name]?.trim();
  if (raw === undefined || raw === '') return fallback;
  if (!(allowed as readonly string[]).includes(raw))
    throw new ConfigError(name, raw, `one of ${allowed.join(', ')}`);
  return raw as T;
}

/**
 * `loadConfig` for the kind `AZURE_API_KIND` names (default `rest`). An HTTP API's route permissions are
 * route keys (`GET /items/{id}`), matched exactly; a WebSocket API has one guarded route, `$connect`, so route
 * permissions are refused there. A REST table too costly to plan is refused here, though decide.js plans it:
 * a cold start fails on its configuration, naming the variable. Every error names its variable, at cold
 * start and at synth alike. Each kind is read by a function of its own, which a cold start of another kind
 * never compiles.
 */
export function loadApiConfig(env: Env): ApiConfig {
  const kind = oneOf(env, API_ENV.kind, API_KINDS, 'rest');
  const source = env[API_ENV.webSocketTokenSource]?.trim() || undefined;
  if (kind !== 'websocket' && source !== undefined) {
    throw new ConfigError(
      API_ENV.webSocketTokenSource,
      source,
      `nothing: it applies only when ${API_ENV.kind} is "websocket"`,
    );
  }
  if (kind === 'rest') {
    const config = loadConfig(env);
    if (config.routePermissions !== undefined) plannableRoutes(config);
    return Object.freeze({ ...config, api: Object.freeze({ kind }) });
  }
  return kind === 'websocket' ? loadWebSocketConfig(env) : loadHttpApiConfig(env);
}

function loadWebSocketConfig(env: Env): ApiConfig {
  const rawRoutes = env[ENV_NAMES.routePermissions]?.trim() || undefined;
  if (rawRoutes !== undefined) {
    throw new ConfigError(
      ENV_NAMES.routePermissions,
      rawRoutes,
      `nothing for a WebSocket API, whose one guarded route is $connect: use ${ENV_NAMES.requiredScopes} or ${ENV_NAMES.requiredRoles}`,
    );
  }
  const tokenSource = oneOf(env, API_ENV.webSocketTokenSource, WEBSOCKET_TOKEN_SOURCES, 'query');
  return Object.freeze({
    ...loadConfig(env),
    api: Object.freeze({ kind: 'websocket' as const, tokenSource }),
  });
}

/** An HTTP API's route table is route keys: the shared settings are validated as for REST, the table by its own rules. */
function loadHttpApiConfig(env: Env): ApiConfig {
  const rawRoutes = env[ENV_NAMES.routePermissions]?.trim() || undefined;
  const settings = settingsOfEnv(env);
  const shared = validateSettings(settings, envSource(env));
  const routes = settings.routePermissions;
  const routeKeys =
    routes === undefined
      ? undefined
      : parseRouteKeyPermissions(
          routes,
          (problem) => new ConfigError(ENV_NAMES.routePermissions, rawRoutes, routeProblemText(problem)),
        );
  return Object.freeze({
    ...shared,
    routePermissions: undefined,
    api: Object.freeze({
      kind: 'http' as const,
      routeKeys: routeKeys === undefined ? undefined : Object.freeze(routeKeys),
    }),
  });
}
