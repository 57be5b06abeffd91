import type { Fetcher } from 'aws-jwt-verify/https';
import { type ApiAuthorizerHandler, createApiAuthorizer } from './api-authorizer.js';
import type { ApiConfig } from './api-kind.js';
import type { DecisionRecord } from './authorizer.js';
import type { createHinter, HintFacts } from './hints.js';
import { KeyFetcher } from './keys/fetcher.js';
import { EntraJwksCache, type KeyCacheOptions } from './keys/key-cache.js';
import { createTenantKeyCache } from './keys/tenant-keys.js';
import type { Reason } from './reasons.js';
import { createTenantListHolder } from './tenant-list-holder.js';
import type { TenantSource } from './tenant-source.js';
import { createTokenVerifier } from './verifier.js';

type Hinter = ReturnType<typeof createHinter>;
type HintedFacts = Pick<HintFacts, 'header' | 'payload' | 'detail' | 'denial'>;

/** The first fetch of the configured key set, started by the composition root before this module loaded. */
interface FirstKeyFetch {
  readonly uri: string;
  readonly body: Promise<ArrayBuffer>;
}

/**
 * What the decision code is given by the composition root (handler.ts), besides the configuration: logging,
 * the lazily loaded modules' loaders and the first key fetch. It reads no environment of its own.
 */
export interface DeciderDeps<I> {
  /** Writes one decision line (and its metric); `tenantList` is set for a multi-tenant API. */
  readonly record: (record: DecisionRecord<unknown>, invocation?: I) => void;
  /** Logs the key caches' fetches and fallbacks. */
  readonly onKeyEvent: NonNullable<KeyCacheOptions['onEvent']>;
  /** The cold start's fetch of `config.jwksUri`, which the key cache takes as its first fetch. */
  readonly firstKeys: FirstKeyFetch;
  /** A multi-tenant API's tenant list source where a parameter holds it (tenant-parameter.js). */
  readonly tenantSource: () => Promise<TenantSource>;
  /** hints.js's createHinter, loaded at the first refusal. */
  readonly hinter: () => Promise<typeof createHinter>;
}

/** The decision code, ready: the handler, and a promise that settles once the first keys (and tenants) are in. */
export interface Decider<I> {
  readonly handler: ApiAuthorizerHandler<I>;
  readonly ready: Promise<void>;
}

/** `fetcher`, except that the first fetch of `first.uri` is the one already under way. */
function seededFetcher(first: FirstKeyFetch, fetcher: Fetcher): Fetcher {
  let seed: FirstKeyFetch | undefined = first;
  return {
    fetch(uri, ...rest) {
      if (seed === undefined || uri !== seed.uri) return fetcher.fetch(uri, ...rest);
      const { body } = seed;
      seed = undefined;
      return body;
    },
  };
}

/**
 * The decision code of the Lambda, a file of its own (decide.js) beside index.js, loaded while the cold
 * start's key fetch waits on the network. The key caches live here, with the verifier and the authorizer,
 * so that every error class (ours, aws-jwt-verify's) is thrown and caught within this one bundle: only
 * configuration, bytes and functions cross from index.js, never an error to be told apart by its class.
 */
export function createDecider<I>(config: ApiConfig, deps: DeciderDeps<I>): Decider<I> {
  const fetcher = new KeyFetcher();
  const keys = new EntraJwksCache({
    fetcher: seededFetcher(deps.firstKeys, fetcher),
    onEvent: deps.onKeyEvent,
  });
  // A multi-tenant API's tenants' own key sets, read for a kid the shared set lacks: bounded, one fetch budget.
  const tenantKeys = createTenantKeyCache({ fetcher, onEvent: deps.onKeyEvent });
  const parameterTenants =
    config.tenant.mode === 'multi' && config.tenantsParameter !== undefined
      ? createTenantListHolder(config.tenant, deps.tenantSource)
      : undefined;
  const settled = () => undefined;
  const ready = Promise.all([
    keys.getJwks(config.jwksUri).then(settled, settled),
    parameterTenants?.refresh(),
  ]).then(settled);

  /** Which tenant list a decision used, for a multi-tenant API's decision line: `fixed`, or the parameter's. */
  const tenantListOf: (() => string) | undefined =
    parameterTenants !== undefined
      ? () => parameterTenants.current().origin
      : config.tenant.mode === 'multi'
        ? () => 'fixed'
        : undefined;
  const decided = parameterTenants === undefined ? config : { ...config, tenant: parameterTenants.rule };
  const verifier = createTokenVerifier({ config: decided, keys, tenantKeys });
  let hinter: Promise<Hinter> | undefined;
  const hint = (reason: Reason, facts: HintedFacts) => {
    hinter ??= deps.hinter().then((createHinter) => createHinter(decided));
    return hinter.then((hintOf) => hintOf(reason, facts));
  };

  const handler = createApiAuthorizer<I>(decided, {
    verifier: parameterTenants === undefined ? verifier : parameterTenants.verifying(verifier),
    hint,
    record: (record, invocation) =>
      deps.record(
        tenantListOf === undefined ? record : { ...record, tenantList: tenantListOf() },
        invocation,
      ),
  });
  return { handler, ready };
}
