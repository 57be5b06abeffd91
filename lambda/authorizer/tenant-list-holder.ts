import type { TenantConfig } from './config.js';
import { TenantsUnavailableError } from './errors.js';
import type { TenantList } from './tenant-list.js';
import type { TenantSource } from './tenant-source.js';
import type { TokenVerifier } from './verifier.js';

/** The list no decision may admit a tenant by: what a decision names when there is no list to use. */
const NO_TENANT_LIST: TenantList = Object.freeze({ tenants: new Set<string>(), origin: 'none' });

/** A multi-tenant API's tenant list, read at run time, for an authorizer built once. */
interface TenantListHolder {
  /** `tenant`'s rule whose allow-list is, at each read, the current list's tenants. */
  readonly rule: TenantConfig;
  /** The list the decision under way is judged by; NO_TENANT_LIST when none may be used. */
  current(): TenantList;
  /** Makes the source's list current (never rejects); a cold start's first read. */
  refresh(): Promise<void>;
  /**
   * `verifier`, after making the list current for this token; with no list to use, it rejects with
   * TenantsUnavailableError (a 500, `tenants_unavailable`, with its one decision line).
   */
  verifying(verifier: TokenVerifier): TokenVerifier;
}

/**
 * The holder of the list `source` gives (it reads and refreshes it; `source` itself may still be loading).
 * Only `verifying` and `refresh` change the list, and Lambda hands an environment one event at a time, so a
 * decision's tenant rule and its decision line see the same list.
 */
export function createTenantListHolder(
  tenant: Extract<TenantConfig, { mode: 'multi' }>,
  source: () => Promise<TenantSource>,
): TenantListHolder {
  let current = NO_TENANT_LIST;
  /** Makes the list current; answers the failure, if no list may be used, as our own error. */
  const update = async (): Promise<TenantsUnavailableError | undefined> => {
    try {
      current = await (await source()).tenants();
      return undefined;
    } catch (err) {
      current = NO_TENANT_LIST;
      // A lazily loaded source has its own copy of the error class; a source that cannot load has none.
      return err instanceof TenantsUnavailableError
        ? err
        : new TenantsUnavailableError(err instanceof Error ? err.message : String(err));
    }
  };
  return {
    rule: Object.freeze({
      mode: 'multi',
      tenantId: tenant.tenantId,
      get allowedTenants() {
        return current.tenants;
      },
    }),
    current: () => current,
    refresh: () => update().then(() => undefined),
    verifying: (verifier) => ({
      async verify(token) {
        const failure = await update();
        if (failure !== undefined) throw failure;
        return verifier.verify(token);
      },
    }),
  };
}
