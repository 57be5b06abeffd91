import { isGuid } from '../../lambda/authorizer/config.js';
import { isAllowOrigin } from '../../lambda/shared/cors.js';
import type { EntraTokenAuthorizerProps } from '../construct/authorizer-props.js';
import { nearest } from '../construct/nearest.js';

export class ContextError extends Error {
  override readonly name = 'ContextError';
}

const list = (value: unknown): string[] | undefined =>
  value === undefined || value === ''
    ? undefined
    : String(value)
        .split(',')
        .map((s) => s.trim())
        .filter((s) => s !== '');

/**
 * `cdk deploy -c tenantId=<guid> -c clientId=<guid> [-c audiences=a,b] [-c requiredScopes=...]
 * [-c requiredRoles=...] [-c allowedTenants=...] [-c allowedClientApps=<guid>,<guid>]` -> authorizer props. A missing or malformed value fails the
 * synth naming the key and showing how to pass it.
 */
export function readAppContext(
  get: (key: string) => unknown,
): Omit<EntraTokenAuthorizerProps, 'routePermissions'> {
  const tenantId = get('tenantId');
  const clientId = get('clientId');
  const how = (key: string, example: string) =>
    `pass it to cdk (synth, deploy or destroy) as: -c ${key}=${example}`;
  if (typeof tenantId !== 'string' || tenantId === '') {
    throw new ContextError(
      `context key tenantId is missing: ${how('tenantId', '<tenant GUID>')} -c clientId=<client GUID>`,
    );
  }
  const tenant = tenantId.toLowerCase();
  if (!isGuid(tenant) && tenant !== 'organizations' && tenant !== 'common') {
    throw new ContextError(
      `context key tenantId must be a tenant GUID, "organizations" or "common"; got "${tenantId}": ${how('tenantId', '00000000-0000-0000-0000-000000000000')}`,
    );
  }
  if (typeof clientId !== 'string' || clientId === '') {
    throw new ContextError(
      `context key clientId is missing: ${how('clientId', '<application (client) GUID>')}`,
    );
  }
  if (!isGuid(clientId.toLowerCase())) {
    throw new ContextError(
      `context key clientId must be the application (client) id GUID; got "${clientId}": ${how('clientId', '00000000-0000-0000-0000-000000000000')}`,
    );
  }
  const allowedTenants = list(get('allowedTenants'));
  if ((tenant === 'organizations' || tenant === 'common') && allowedTenants === undefined) {
    throw new ContextError(
      `context key allowedTenants is required when tenantId is "${tenant}": ${how('allowedTenants', '<guid>,<guid>')} (or -c allowedTenants='*')`,
    );
  }
  const allowedClientApps = list(get('allowedClientApps'));
  const badApp = allowedClientApps?.find((app) => !isGuid(app.toLowerCase()));
  if (badApp !== undefined) {
    throw new ContextError(
      `context key allowedClientApps must be application (client) id GUIDs; got "${badApp}": ${how('allowedClientApps', '<client app GUID>,<client app GUID>')}`,
    );
  }
  return {
    tenantId: tenant,
    clientId: clientId.toLowerCase(),
    audiences: list(get('audiences')),
    requiredScopes: list(get('requiredScopes')),
    requiredRoles: list(get('requiredRoles')),
    allowedTenants,
    ...(allowedClientApps !== undefined ? { allowedClientApps } : {}),
  };
}

/** The keys `readAppContext`, `readAllowOrigin` and `readApiKind` read: a prop of the same name is set from each (but `apiKind`, which picks the stack). */
export const CONTEXT_KEYS = [
  'tenantId',
  'clientId',
  'audiences',
  'requiredScopes',
  'requiredRoles',
  'allowedTenants',
  'allowedClientApps',
  'allowOrigin',
  'apiKind',
] as const;

/** `-c allowOrigin=https://app.example.com`: the one origin browser scripts may call from (default `*`). */
export function readAllowOrigin(get: (key: string) => unknown): string | undefined {
  const value = get('allowOrigin');
  if (value === undefined || value === '') return undefined;
  if (typeof value !== 'string' || !isAllowOrigin(value)) {
    throw new ContextError(
      `context key allowOrigin must be "*" or one origin as a browser sends it (lower case, no path, no default port); got "${String(value)}": pass it to cdk (synth, deploy or destroy) as: -c allowOrigin=https://app.example.com`,
    );
  }
  return value;
}

/** `-c apiKind=http`: the sample on an HTTP API and a WebSocket API instead of the REST API (`rest`, the default). */
export function readApiKind(get: (key: string) => unknown): 'rest' | 'http' {
  const value = get('apiKind');
  if (value === undefined || value === '' || value === 'rest') return 'rest';
  if (value === 'http') return 'http';
  throw new ContextError(
    `context key apiKind must be "rest" or "http"; got "${String(value)}": pass it to cdk (synth, deploy or destroy) as: -c apiKind=http`,
  );
}

/**
 * `-c requiredScope=x` (for requiredScopes) would be ignored in silence: a context key that is not one of
 * CONTEXT_KEYS but is close to one fails the synth, naming the key it meant. Keys unlike ours (CDK's feature
 * flags, `aws:cdk:...`, other tools' settings) pass.
 */
export function checkContextKeys(keys: readonly string[]): void {
  for (const key of keys) {
    if ((CONTEXT_KEYS as readonly string[]).includes(key) || /[:/@]/.test(key)) continue;
    const meant = nearest(
      key.toLowerCase(),
      CONTEXT_KEYS.map((k) => k.toLowerCase()),
    );
    const known = CONTEXT_KEYS.find((k) => k.toLowerCase() === meant);
    if (known !== undefined) {
      throw new ContextError(
        `context key ${key} is not one of this app's keys (did you mean ${known}?): pass it to cdk (synth, deploy or destroy) as: -c ${known}=...`,
      );
    }
  }
}
