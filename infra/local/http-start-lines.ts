import type { HttpApiModel } from './http-api-template.js';
import type { JwtGuard } from './jwt-authorizer.js';

/** How `start` names a route of API Gateway's own JWT authorizer, and the token command that fits it. */
export function jwtGuardLabel(guard: JwtGuard, route: string): string {
  const scopes = guard.scopes.length > 0 ? `, scopes ${guard.scopes.join(' ')}` : '';
  return `JWT authorizer ${guard.authorizer.logicalId}${scopes}; a token: token --route "${route}"`;
}

/**
 * The lines `start` prints for an HTTP API: one per route it serves, and the route its "Try it" lines call
 * (the first guarded GET, else the first guarded one), path parameters filled in.
 */
export function httpRouteLines(
  url: string,
  api: HttpApiModel,
): { methods: string[]; example: { verb: string; path: string } | undefined } {
  const methods: string[] = [];
  let example: { verb: string; path: string } | undefined;
  for (const route of api.routes) {
    if (route.integration.type === 'UNSUPPORTED') continue;
    const guard =
      route.jwt !== undefined
        ? jwtGuardLabel(route.jwt, route.routeKey)
        : route.authorizer !== undefined
          ? `authorizer ${route.authorizer.logicalId}`
          : 'no authorizer';
    const [verb = '', path = ''] = route.routeKey === '$default' ? ['ANY', '/*'] : route.routeKey.split(' ');
    methods.push(
      `  ${verb.padEnd(6)} ${url}${path}   (${guard}${route.routeKey === '$default' ? ', $default' : ''})`,
    );
    if (
      route.authorizer !== undefined &&
      (example === undefined || (example.verb !== 'GET' && verb === 'GET'))
    )
      example = {
        verb: verb === 'ANY' ? 'GET' : verb,
        path:
          route.routeKey === '$default' ? '/' : path.replace(/\{[^}]+\+\}/g, 'x').replace(/\{[^}]+\}/g, '1'),
      };
  }
  return { methods, example };
}
