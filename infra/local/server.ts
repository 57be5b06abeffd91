import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { ENV } from '../../lambda/authorizer/config.js';
import { routePermissionsOf, SAMPLE_ROUTES } from '../routes.js';
import { type AuthorizerHandler, type BackendHandler, createLocalGateway } from './gateway.js';
import {
  createLocalIssuer,
  ISSUER_PREFIX,
  LOCAL_CLIENT_ID,
  LOCAL_SCOPE,
  LOCAL_TENANT_ID,
  loadOrCreateIssuerKey,
} from './issuer.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

export interface LocalServerOptions {
  /** 0 picks a free port. */
  readonly port: number;
  /** Where the issuer key is kept. @default <repo>/.local */
  readonly dataDir?: string;
  /** @default 300 */
  readonly cacheTtlSeconds?: number;
}

export interface LocalServer {
  readonly url: string;
  readonly issuerUrl: string;
  readonly tokenEndpoint: string;
  readonly stats: { readonly authorizerCalls: number; readonly cacheHits: number };
  stop(): Promise<void>;
}

/**
 * The sample API on 127.0.0.1: the local Entra-shaped issuer under /login, and the sample routes behind
 * the real authorizer and backend handlers, configured through the same AZURE_* variables as in AWS.
 */
export async function startLocalServer(options: LocalServerOptions): Promise<LocalServer> {
  const key = await loadOrCreateIssuerKey(options.dataDir ?? resolve(ROOT, '.local'));
  let handle: (
    req: import('node:http').IncomingMessage,
    res: import('node:http').ServerResponse,
  ) => Promise<void> = async (_req, res) => {
    res.writeHead(503).end();
  };
  const server = createServer((req, res) => {
    handle(req, res).catch(() => {
      if (!res.headersSent) res.writeHead(500).end();
    });
  });
  // A busy or forbidden port rejects with Node's error (code EADDRINUSE, EACCES, ...) for the caller to word.
  await new Promise<void>((done, fail) => {
    server.once('error', fail);
    server.listen(options.port, '127.0.0.1', () => {
      server.off('error', fail);
      done();
    });
  });
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  // The issuer answers first, so the authorizer's key fetch at init finds it.
  const issuer = createLocalIssuer({ key, baseUrl: url });
  handle = async (req, res) => {
    if (!(await issuer(req, res))) res.writeHead(503).end();
  };

  // The authorizer reads its configuration once, at module load, as in Lambda: set it, then import.
  Object.assign(process.env, {
    [ENV.tenantId]: LOCAL_TENANT_ID,
    [ENV.audiences]: `${LOCAL_CLIENT_ID},api://${LOCAL_CLIENT_ID}`,
    [ENV.requiredScopes]: LOCAL_SCOPE,
    [ENV.routePermissions]: JSON.stringify(routePermissionsOf(SAMPLE_ROUTES)),
    [ENV.jwksUri]: `${url}${ISSUER_PREFIX}/${LOCAL_TENANT_ID}/discovery/v2.0/keys`,
    POWERTOOLS_SERVICE_NAME: 'entra-authorizer-local',
    POWERTOOLS_LOG_LEVEL: process.env.POWERTOOLS_LOG_LEVEL ?? 'INFO',
    POWERTOOLS_METRICS_DISABLED: process.env.POWERTOOLS_METRICS_DISABLED ?? 'true',
  });
  const authorizerModule = await import('../../lambda/authorizer/handler.js');
  // Ready to answer once the cold-start key fetch has settled, so that its log line comes first.
  await authorizerModule.ready;
  const authorizer = authorizerModule.handler as AuthorizerHandler;
  const backends = new Map(
    await Promise.all(
      SAMPLE_ROUTES.map(async (route) => {
        const module = (await import(pathToFileURL(resolve(ROOT, route.entry)).href)) as {
          handler: BackendHandler;
        };
        return [route, module.handler] as const;
      }),
    ),
  );
  const gateway = createLocalGateway({
    routes: SAMPLE_ROUTES,
    authorizer,
    backends,
    cacheTtlSeconds: options.cacheTtlSeconds ?? 300,
  });
  handle = async (req, res) => {
    if (await issuer(req, res)) return;
    await gateway.handle(req, res);
  };

  return {
    url,
    issuerUrl: `${url}${ISSUER_PREFIX}/${LOCAL_TENANT_ID}/v2.0`,
    tokenEndpoint: `${url}${ISSUER_PREFIX}/${LOCAL_TENANT_ID}/oauth2/v2.0/token`,
    stats: gateway.stats,
    stop: () =>
      new Promise<void>((done) => {
        server.closeAllConnections();
        server.close(() => done());
      }),
  };
}
