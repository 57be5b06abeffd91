import { resolve } from 'node:path';
import { ENV_NAMES } from '../../lambda/authorizer/config.js';
import { type ResourceModel, readApiModel } from './api-template.js';
import { AssemblyError, type GuardedApi, pickGuardedApi, readAssemblyStacks } from './assembly.js';
import { selectResource } from './gateway.js';
import { readHttpApiModel } from './http-api-template.js';
import { selectHttpRoute } from './http-gateway.js';
import { localPort } from './port.js';

/**
 * What `entra-authorizer explain` needs of the authorizer `entra-authorizer start` serves: its configuration
 * as the template declares it, and where the local issuer's keys for its tenant are.
 */
interface ServedAuthorizer {
  /** The authorizer function's variables from the template, the key URL left to the caller. */
  readonly environment: Readonly<Record<string, string>>;
  readonly port: number;
  /** The tenant in the local issuer's paths (`/login/<tenant>/...`). */
  readonly tenantPath: string;
  /** The first route of its route permissions, a `*` read as one segment; else GET /. */
  readonly defaultRoute: string;
  /** What the API declares, as API Gateway routes it; undefined when the template cannot be served. */
  readonly routes: DeclaredRoutes | undefined;
}

interface DeclaredRoutes {
  /** `GET /items/{id}` (a REST method or an HTTP API route key), in the template's order. */
  readonly declared: readonly string[];
  /** Whether a request reaches a declared method (else API Gateway answers it itself, before any authorizer). */
  readonly serves: (method: string, path: string) => boolean;
  /** API Gateway's own answer to a request no method is declared for. */
  readonly undeclaredAnswer: string;
}

/** The methods (REST) or route keys (HTTP API) of the guarded API, read as the local gateway reads them. */
function declaredRoutes(guarded: GuardedApi): DeclaredRoutes | undefined {
  // A WebSocket API's authorizer guards `$connect` alone, whatever the request's path.
  if (guarded.kind === 'websocket') return undefined;
  try {
    if (guarded.kind === 'http') {
      const api = readHttpApiModel(guarded.stack.template, { apiId: guarded.restApiId });
      return {
        declared: api.routes.map((r) => r.routeKey),
        serves: (method, path) => selectHttpRoute(api.routes, method, path) !== undefined,
        undeclaredAnswer: '404 {"message":"Not Found"}',
      };
    }
    const api = readApiModel(guarded.stack.template, { restApiId: guarded.restApiId });
    const declared: string[] = [];
    const visit = (node: ResourceModel) => {
      for (const verb of node.methods.keys()) declared.push(`${verb} ${node.path}`);
      node.children.forEach(visit);
    };
    visit(api.root);
    return {
      declared,
      serves: (method, path) => {
        const methods = selectResource(api.root, path)?.resource.methods;
        return methods?.has(method) === true || methods?.has('ANY') === true;
      },
      undeclaredAnswer: '403 {"message":"Missing Authentication Token"}',
    };
  } catch {
    // `start` says what is wrong with the template; explain still judges the token
    return undefined;
  }
}

interface ServedAuthorizerFlags {
  readonly app?: string | undefined;
  readonly stack?: string | undefined;
  readonly api?: string | undefined;
  readonly port?: string | undefined;
}

function firstRoute(routePermissions: string | undefined): string {
  try {
    const first = Object.keys(JSON.parse(routePermissions ?? '{}') as object)[0];
    if (first !== undefined) return first.replace(/^\*/, 'GET').replaceAll('*', '1');
  } catch {
    // the configuration check reports it
  }
  return 'GET /';
}

/** Reads the assembly (default ./cdk.out); throws AssemblyError or PortError with one line for a person. */
export function servedAuthorizer(flags: ServedAuthorizerFlags): ServedAuthorizer {
  const guarded = pickGuardedApi(readAssemblyStacks(resolve(flags.app ?? 'cdk.out')), flags);
  if (guarded.authorizerFunctionId === undefined) {
    throw new AssemblyError(
      `the API ${guarded.restApiId} has only API Gateway's own JWT authorizers; explain judges an Entra authorizer's decisions`,
    );
  }
  const { [ENV_NAMES.jwksUri]: _, ...environment } = guarded.authorizerEnvironment;
  return {
    environment,
    port: localPort(flags.port !== undefined ? { PORT: flags.port } : process.env),
    tenantPath: environment[ENV_NAMES.tenantId] ?? 'organizations',
    defaultRoute: firstRoute(environment[ENV_NAMES.routePermissions]),
    routes: declaredRoutes(guarded),
  };
}
