import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { ApiModel } from './api-template.js';
import { createLocalGateway, type GatewayStats, type LambdaHandler } from './gateway.js';
import type { HttpApiModel } from './http-api-template.js';
import { createLocalHttpGateway } from './http-gateway.js';
import { createLocalIssuer, type LocalIssuerOptions, localIssuerUrls } from './issuer.js';
import { createJwtChecker } from './jwt-authorizer.js';
import { addressedToLoopback, FOREIGN_HOST_BODY } from './loopback-host.js';
import type { WebSocketApiModel } from './websocket-api-template.js';
import { attachWebSocketApis } from './websocket-gateway.js';

/**
 * The one local server of `npm start` and `entra-authorizer start`: the Entra-shaped issuer under /login and
 * the REST API or HTTP API of a template on 127.0.0.1. Where the handlers come from (the sample's TypeScript sources in
 * this process, or an assembly's bundles on worker threads) is the caller's part.
 */

type Handle = (req: IncomingMessage, res: ServerResponse) => Promise<void>;

interface ApiServerOptions {
  /** 0 picks a free port. */
  readonly port: number;
  /** A REST API, or an HTTP API (`kind: 'http'`). */
  readonly api: ApiModel | HttpApiModel;
  /** The issuer's key, tenant, audience and default scopes (its base URL is the server's own). */
  readonly issuer: Omit<LocalIssuerOptions, 'baseUrl'>;
  /**
   * Starts the API's Lambda functions once the issuer answers at `url` (the authorizer fetches its keys at
   * init): their handlers by logical id.
   */
  readonly functions: (url: string) => Promise<ReadonlyMap<string, LambdaHandler>>;
  /** WebSocket APIs served beside it, each at `/<stage>` (their functions among `functions`'). */
  readonly webSocketApis?: readonly WebSocketApiModel[];
}

export interface ApiServer {
  readonly url: string;
  /** The port it listens on (the one asked for, or the one picked for 0). */
  readonly port: number;
  readonly issuerUrl: string;
  readonly tokenEndpoint: string;
  readonly stats: GatewayStats;
  /** The WebSocket APIs served beside the API, each at `/<stage>` of `url` (as ws://). */
  readonly webSocketApis: readonly WebSocketApiModel[];
  stop(): Promise<void>;
}

/**
 * Listens on 127.0.0.1, answering requests addressed to a loopback name only (see loopback-host.ts); a busy
 * or forbidden port rejects with Node's error (EADDRINUSE, EACCES, ...).
 */
async function listen(port: number, handle: () => Handle) {
  const server = createServer((req, res) => {
    if (!addressedToLoopback(req)) {
      res.writeHead(403, { 'content-type': 'application/json' }).end(FOREIGN_HOST_BODY);
      return;
    }
    handle()(req, res).catch(() => {
      if (!res.headersSent) res.writeHead(500).end();
      else res.destroy();
    });
  });
  await new Promise<void>((done, fail) => {
    server.once('error', fail);
    server.listen(port, '127.0.0.1', () => {
      server.off('error', fail);
      done();
    });
  });
  return server;
}

export async function startApiServer(options: ApiServerOptions): Promise<ApiServer> {
  let handle: Handle = async (_req, res) => {
    res.writeHead(503).end();
  };
  const server = await listen(options.port, () => handle);
  const port = (server.address() as AddressInfo).port;
  const url = `http://127.0.0.1:${port}`;
  const issuer = createLocalIssuer({ ...options.issuer, baseUrl: url });
  // The issuer answers first, so the authorizer's key fetch at init finds it.
  handle = async (req, res) => {
    if (!(await issuer(req, res))) res.writeHead(503).end();
  };
  const sockets = attachWebSocketApis(server);
  const stop = () =>
    new Promise<void>((done) => {
      sockets.close();
      server.closeAllConnections();
      server.close(() => done());
    });
  let functions: ReadonlyMap<string, LambdaHandler>;
  try {
    functions = await options.functions(url);
  } catch (err) {
    await stop();
    throw err;
  }
  const { api } = options;
  const urls = localIssuerUrls(url, options.issuer.tenantId);
  // API Gateway's own JWT authorizers check signatures against the local issuer's keys, whatever issuer
  // the template names: every local token is signed with the one key.
  const checkJwt = createJwtChecker(urls.jwksUri);
  const gateway =
    'kind' in api
      ? createLocalHttpGateway({ api, functions, checkJwt })
      : createLocalGateway({ api, functions, checkJwt });
  const webSocketApis = options.webSocketApis ?? [];
  sockets.serve(webSocketApis, functions);
  handle = async (req, res) => {
    if (await issuer(req, res)) return;
    if (await sockets.connections(req, res)) return;
    await gateway.handle(req, res);
  };
  return {
    url,
    port,
    issuerUrl: urls.issuer,
    tokenEndpoint: urls.tokenEndpoint,
    stats: gateway.stats,
    webSocketApis,
    stop,
  };
}
