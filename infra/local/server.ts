import { resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Duration } from 'aws-cdk-lib';
import { CORS_ALLOW_ORIGIN_ENV } from '../../lambda/shared/cors.js';
import type { RouteDefinition } from '../sample/routes.js';
import { type ApiServer, startApiServer } from './api-server.js';
import { readApiModel } from './api-template.js';
import type { LambdaHandler } from './gateway.js';
import { readHttpApiModel } from './http-api-template.js';
import { LOCAL_APP_ROLE, LOCAL_CLIENT_ID, LOCAL_TENANT_ID, loadOrCreateIssuerKey } from './issuer.js';
import { localEnvironment } from './local-environment.js';
import { synthesizeHttpSample, synthesizeSample } from './sample-template.js';
import { readServedWebSocketApis } from './websocket-api-template.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

export interface LocalServerOptions {
  /** 0 picks a free port. */
  readonly port: number;
  /** Where the issuer key is kept. @default <repo>/.local */
  readonly dataDir?: string;
  /** The authorizer's result cache TTL, synthesized into the template. @default 300 */
  readonly cacheTtlSeconds?: number;
  /** The stack's allowed origin. @default '*' */
  readonly allowOrigin?: string;
  /** The REST sample, or its HTTP API variant (`-c apiKind=http`). @default 'rest' */
  readonly apiKind?: 'rest' | 'http';
  /** The sample's route table. @default SAMPLE_ROUTES */
  readonly routes?: readonly RouteDefinition[];
}

export type LocalServer = ApiServer;

let instances = 0;

/**
 * Imports a Lambda handler module with its function's environment in place, as Lambda starts it: the
 * composition root reads its configuration once, at load. Each function of each local server gets its own
 * instance of the module (a distinct URL), so two servers in one process, or two functions of one source
 * (the HTTP API's and the WebSocket API's authorizer), do not share configuration.
 */
/**
 * Variables of the shell that a Lambda of this project could read: while a handler loads, those its
 * function's template does not set are hidden, so an `AZURE_REQUIRED_ROLES` exported for `npm run explain`
 * does not quietly change the local API (the only overrides are the documented POWERTOOLS_* ones).
 */
const LAMBDA_VARIABLE = new RegExp(`^(AZURE_|POWERTOOLS_|AWS_LAMBDA_|LOG_LEVEL$|${CORS_ALLOW_ORIGIN_ENV}$)`);

async function importHandler(
  source: string,
  env: Record<string, string>,
  instance: string,
): Promise<LambdaHandler> {
  const hidden = Object.keys(process.env).filter((name) => LAMBDA_VARIABLE.test(name) && !(name in env));
  const saved = new Map([...Object.keys(env), ...hidden].map((name) => [name, process.env[name]]));
  for (const name of hidden) delete process.env[name];
  Object.assign(process.env, env);
  try {
    const module = (await import(`${pathToFileURL(source).href}?local=${instance}`)) as {
      handler?: unknown;
      ready?: unknown;
    };
    if (typeof module.handler !== 'function') throw new Error(`${source} exports no handler function`);
    // The authorizer exports its cold-start key fetch: ready to answer once it has settled, so that its
    // log line comes before the banner.
    if (module.ready instanceof Promise) await module.ready;
    return module.handler as LambdaHandler;
  } finally {
    for (const [name, value] of saved) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
  }
}

/**
 * `npm start`: the sample stack as `cdk deploy` would create it, served on 127.0.0.1. The stack is
 * synthesized in this process for the local tenant and client id; the local gateway serves that template
 * (resources, methods, authorizer, CORS preflight, gateway responses) and runs each Lambda function's
 * source handler with the environment the template gives it, the key URL pointed at the local
 * Entra-shaped issuer under /login.
 */
export async function startLocalServer(options: LocalServerOptions): Promise<LocalServer> {
  const key = await loadOrCreateIssuerKey(options.dataDir ?? resolve(ROOT, '.local'));
  const props = {
    entra: {
      tenantId: LOCAL_TENANT_ID,
      clientId: LOCAL_CLIENT_ID,
      resultsCacheTtl: Duration.seconds(options.cacheTtlSeconds ?? 300),
    },
    allowOrigin: options.allowOrigin,
    ...(options.routes !== undefined ? { routes: options.routes } : {}),
  };
  const http = options.apiKind === 'http';
  const { template, sources } = http ? synthesizeHttpSample(props) : synthesizeSample(props);
  // A template API Gateway would refuse stops here, naming the resource and the parameter.
  const api = http ? readHttpApiModel(template) : readApiModel(template);
  // The HTTP sample's WebSocket API, served beside it.
  const webSocketApis = readServedWebSocketApis(template).apis;
  const served = new Map([...api.functions, ...webSocketApis.flatMap((ws) => [...ws.functions])]);
  const instance = ++instances;
  const importSources = async (url: string) => {
    const functions = new Map<string, LambdaHandler>();
    for (const fn of served.values()) {
      const source = sources.get(fn.logicalId);
      if (source === undefined) throw new Error(`no source handler for the Lambda function ${fn.logicalId}`);
      functions.set(
        fn.logicalId,
        await importHandler(source, localEnvironment(fn.environment, url), `${instance}-${fn.logicalId}`),
      );
    }
    return functions;
  };
  // Any tenant GUID, as for an assembly: `npm run token -- --tenant <guid>` mints a token the authorizer refuses.
  return startApiServer({
    port: options.port,
    api,
    // An app-only token carries, unless it asks for others, a role the sample does not require: valid, and
    // refused at GET /whoami for want of its scope.
    issuer: { key, anyTenant: true, defaultRoles: [LOCAL_APP_ROLE] },
    functions: importSources,
    webSocketApis,
  });
}
