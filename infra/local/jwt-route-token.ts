import { resolve } from 'node:path';
import { type ApiModel, type ResourceModel, readApiModel } from './api-template.js';
import { AssemblyError, pickGuardedApi, readAssemblyStacks } from './assembly.js';
import { selectResource } from './gateway.js';
import { type HttpApiModel, readHttpApiModel } from './http-api-template.js';
import { selectHttpRoute } from './http-gateway.js';
import type { JwtGuard } from './jwt-authorizer.js';

/**
 * What `token --route "<METHOD> /path"` asks the local issuer for, when API Gateway's own JWT authorizer
 * guards that route: a token for the tenant and token version its issuer names, its first audience and
 * the route's scopes, read from the synthesized template.
 */
export interface JwtRouteToken {
  /** The tenant in the issuer's path (`/login/<tenant>/...`). */
  readonly tenant: string;
  readonly version: '1' | '2';
  /** An External ID issuer (`https://<tid>.ciamlogin.com/<tid>/v2.0`). */
  readonly externalId: boolean;
  readonly audience: string;
  readonly scopes: readonly string[];
}

export interface JwtRouteFlags {
  readonly route: string;
  readonly app?: string | undefined;
  readonly stack?: string | undefined;
  readonly api?: string | undefined;
}

const GUID = '[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}';

/** The tenant and token version of an Entra issuer as tokens carry it; undefined for any other issuer. */
export function entraIssuerParts(issuer: string): Omit<JwtRouteToken, 'audience' | 'scopes'> | undefined {
  const v2 = new RegExp(`^https://login\\.microsoftonline\\.com/(${GUID})/v2\\.0$`).exec(issuer);
  if (v2 !== null) return { tenant: v2[1] as string, version: '2', externalId: false };
  const v1 = new RegExp(`^https://sts\\.windows\\.net/(${GUID})/$`).exec(issuer);
  if (v1 !== null) return { tenant: v1[1] as string, version: '1', externalId: false };
  const ciam = new RegExp(`^https://(${GUID})\\.ciamlogin\\.com/(${GUID})/v2\\.0$`).exec(issuer);
  if (ciam !== null && ciam[1] === ciam[2])
    return { tenant: ciam[1] as string, version: '2', externalId: true };
  return undefined;
}

/** The JWT guard of the route a request `<METHOD> /path` (or an HTTP API route key) selects. */
function guardOf(flags: JwtRouteFlags): JwtGuard | undefined {
  const match = /^([A-Z]+) (\/\S*)$/.exec(flags.route);
  if (match === null && flags.route !== '$default') {
    throw new AssemblyError(`--route: expected "<METHOD> /path"; got "${flags.route}"`);
  }
  const [method, path] = match === null ? ['GET', '/'] : [match[1] as string, match[2] as string];
  const guarded = pickGuardedApi(readAssemblyStacks(resolve(flags.app ?? 'cdk.out')), flags);
  if (guarded.kind === 'http') {
    const api = readHttpApiModel(guarded.stack.template, { apiId: guarded.restApiId });
    const route =
      api.routes.find((r) => r.routeKey === flags.route) ?? selectHttpRoute(api.routes, method, path)?.route;
    return route?.jwt;
  }
  const api = readApiModel(guarded.stack.template, { restApiId: guarded.restApiId });
  const methods = selectResource(api.root, path)?.resource.methods;
  return (methods?.get(method) ?? methods?.get('ANY'))?.jwt;
}

/** Reads the assembly; a route without a JWT authorizer, or one whose issuers are not Entra's, is an AssemblyError. */
export function jwtRouteToken(flags: JwtRouteFlags): JwtRouteToken {
  const guard = guardOf(flags);
  if (guard === undefined) {
    throw new AssemblyError(
      `--route ${flags.route}: no JWT authorizer guards that route of the served API (without --route, the token is for its Entra authorizer)`,
    );
  }
  for (const rule of guard.authorizer.issuers) {
    const parts = entraIssuerParts(rule.issuer);
    if (parts !== undefined && rule.audiences[0] !== undefined) {
      return { ...parts, audience: rule.audiences[0], scopes: guard.scopes };
    }
  }
  throw new AssemblyError(
    `--route ${flags.route}: the JWT authorizer ${guard.authorizer.logicalId} trusts no Entra issuer the local issuer can mint for (${guard.authorizer.issuers.map((r) => r.issuer).join(', ')})`,
  );
}

/** Every JWT guard of an API's routes or methods, in template order. */
function jwtGuardsOf(api: ApiModel | HttpApiModel): JwtGuard[] {
  if ('kind' in api) return api.routes.flatMap((r) => (r.jwt === undefined ? [] : [r.jwt]));
  const guards: JwtGuard[] = [];
  const visit = (node: ResourceModel) => {
    for (const m of node.methods.values()) if (m.jwt !== undefined) guards.push(m.jwt);
    for (const child of node.children) visit(child);
  };
  visit(api.root);
  return guards;
}

/**
 * The local issuer's tenant, audience and default scopes for an API only API Gateway's own JWT authorizers
 * guard: those of its first route with an Entra issuer, so `token` without flags fits it.
 */
export function jwtIssuerSettings(api: ApiModel | HttpApiModel) {
  for (const guard of jwtGuardsOf(api)) {
    for (const rule of guard.authorizer.issuers) {
      const parts = entraIssuerParts(rule.issuer);
      if (parts === undefined || rule.audiences[0] === undefined) continue;
      return {
        tenantId: parts.tenant,
        audience: rule.audiences[0],
        ...(guard.scopes.length > 0 ? { defaultScopes: guard.scopes } : {}),
      };
    }
  }
  return {};
}
