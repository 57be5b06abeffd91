import { WEBSOCKET_TOKEN_NAME } from '../../lambda/authorizer/api-kind.js';
import { ENV_NAMES } from '../../lambda/authorizer/config.js';
import type { WebSocketApiModel, WebSocketIdentitySource } from './websocket-api-template.js';

/**
 * The lines `start` prints for the WebSocket APIs it serves: each API's URL, how `$connect` is guarded, its
 * routes and its `@connections` endpoint; and a "Try it" line that connects with a token where the
 * authorizer's identity source looks for one (wscat, the usual command-line client).
 */
export function webSocketStartLines(
  url: string,
  apis: readonly WebSocketApiModel[],
  /** The command that prints a token, given its extra flags (`--scopes a,b`). */
  token: (flags: string) => string,
): { lines: string[]; tryIt: string[] } {
  const lines: string[] = [];
  const tryIt: string[] = [];
  for (const api of apis) {
    const wsUrl = `${url.replace(/^http/, 'ws')}/${api.stageName}`;
    const connect = api.routes.find((r) => r.routeKey === '$connect');
    const authorizer = connect?.authorizer;
    const guard =
      authorizer === undefined
        ? '$connect: no authorizer'
        : `$connect: authorizer ${authorizer.logicalId}, token in ${authorizer.identitySource.join(', ')}`;
    const served = api.routes.filter((r) => r.integration.type !== 'UNSUPPORTED').map((r) => r.routeKey);
    const messages = served.filter((key) => key !== '$connect' && key !== '$disconnect');
    const events = served.filter((key) => key === '$connect' || key === '$disconnect');
    lines.push(
      `  WS     ${wsUrl}   (${guard})`,
      `         ${events.length > 0 ? `${events.join(', ')}; ` : ''}${
        messages.length > 0
          ? `messages by ${api.routeSelectionExpression} to ${messages.join(', ')}`
          : 'no message route (a message is answered "Forbidden")'
      }`,
      `         @connections: POST, GET, DELETE ${url}/${api.stageName}/@connections/{connectionId}`,
    );
    const scopes = authorizer === undefined ? undefined : requiredScopesOf(api, authorizer.functionId);
    const jwt = `$(${token(scopes === undefined ? '' : `--scopes ${scopes}`)} | tail -n 1)`;
    tryIt.push(
      `  npx wscat ${wscatArguments(wsUrl, authorizer?.identitySources ?? [], jwt)}   # a WebSocket client`,
    );
  }
  return { lines, tryIt };
}

/** The scopes the WebSocket authorizer's template asks for, comma-separated, if any. */
function requiredScopesOf(api: WebSocketApiModel, functionId: string): string | undefined {
  const scopes = api.functions.get(functionId)?.environment[ENV_NAMES.requiredScopes];
  return scopes === undefined || scopes.trim() === '' ? undefined : scopes;
}

/** wscat's arguments putting the token where the identity source looks (query, subprotocol, header). */
function wscatArguments(wsUrl: string, sources: readonly WebSocketIdentitySource[], jwt: string): string {
  const source = sources[0];
  if (source?.from === 'querystring') return `-c "${wsUrl}?${source.name}=${jwt}"`;
  if (source?.from === 'header' && source.name.toLowerCase() === 'sec-websocket-protocol') {
    return `-s ${WEBSOCKET_TOKEN_NAME} -s "${jwt}" -c ${wsUrl}`;
  }
  if (source?.from === 'header') return `-H "${source.name}: ${jwt}" -c ${wsUrl}`;
  return `-c ${wsUrl}`;
}
