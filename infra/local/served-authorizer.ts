import { resolve } from 'node:path';
import { ENV_NAMES } from '../../lambda/authorizer/config.js';
import { AssemblyError, pickGuardedApi, readAssemblyStacks } from './assembly.js';
import { localPort } from './port.js';

/**
 * What `entra-authorizer explain` needs of the authorizer `entra-authorizer start` serves: its configuration
 * as the template declares it, and where the local issuer's keys for its tenant are.
 */
export interface ServedAuthorizer {
  /** The authorizer function's variables from the template, the key URL left to the caller. */
  readonly environment: Readonly<Record<string, string>>;
  readonly port: number;
  /** The tenant in the local issuer's paths (`/login/<tenant>/...`). */
  readonly tenantPath: string;
  /** The first route of its route permissions, a `*` read as one segment; else GET /. */
  readonly defaultRoute: string;
}

export interface ServedAuthorizerFlags {
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
  };
}
