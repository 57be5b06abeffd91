import { ENV_NAMES, loadConfig } from '../../lambda/authorizer/config.js';
import { CLIENT_ID, TENANT } from './setup.js';

/** A configuration as a hint reads it (its tenant without the parameter's list): the test tenant and client, plus `env`. */
export function hintConfig(env: Record<string, string> = {}) {
  const c = loadConfig({ [ENV_NAMES.tenantId]: TENANT, [ENV_NAMES.audiences]: CLIENT_ID, ...env });
  return {
    ...c,
    tenant:
      c.tenant.mode === 'single'
        ? c.tenant
        : { mode: 'multi' as const, allowedTenants: c.tenant.allowedTenants },
  };
}
