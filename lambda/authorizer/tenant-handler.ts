import type { TenantList } from './tenant-list.js';
import type { TenantSource } from './tenant-source.js';

/** The list no decision may admit a tenant by: what a decision names when there is no list to use. */
export const NO_TENANT_LIST: TenantList = Object.freeze({ tenants: new Set<string>(), origin: 'none' });

/**
 * A handler that asks `source` for the list before each decision and decides with the authorizer built for
 * that list, rebuilt only when the list changes (a new parameter version). With no list to use, the
 * authorizer `authorizerFor` builds with `refusal` decides: every token's verification fails with the
 * source's error, so each such request still gets its one decision line (a 500, `tenants_unavailable`).
 */
export function createTenantListHandler<E, I, R>(
  source: TenantSource,
  authorizerFor: (list: TenantList, refusal?: () => unknown) => (event: E, invocation?: I) => Promise<R>,
): (event: E, invocation?: I) => Promise<R> {
  let failure: unknown;
  let unavailable: ((event: E, invocation?: I) => Promise<R>) | undefined;
  let current:
    | { readonly list: TenantList; readonly decide: (event: E, invocation?: I) => Promise<R> }
    | undefined;
  return async (event, invocation) => {
    let list: TenantList;
    try {
      list = await source.tenants();
    } catch (err) {
      failure = err;
      unavailable ??= authorizerFor(NO_TENANT_LIST, () => failure);
      return unavailable(event, invocation);
    }
    if (current?.list !== list) current = { list, decide: authorizerFor(list) };
    return current.decide(event, invocation);
  };
}
