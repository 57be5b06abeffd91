import { WaitPeriodNotYetEndedJwkError } from 'aws-jwt-verify/error';
import type { PenaltyBox } from 'aws-jwt-verify/jwk';
import { EntraJwksCache, KEY_CACHE_DEFAULTS, type KeyCacheOptions } from './key-cache.js';

export const TENANT_KEY_DEFAULTS = {
  /**
   * Tenant key sets held at once, however many tenants tokens name: 100 sets of 7 keys (a real set's size)
   * cost about 1.5 MB of heap (npm run bench).
   */
  maxSets: 100,
} as const;

/** Entra's key URL shapes: `/{tenant}/discovery/v2.0/keys` (v2) and `/{tenant}/discovery/keys` (v1). */
const SHARED_KEYS_PATH = /^(.*\/)(?:organizations|common)(\/discovery\/(?:v2\.0\/)?keys)$/i;

/**
 * The key URL of one tenant beside a multi-tenant API's shared one: `…/organizations/discovery/v2.0/keys`
 * becomes `…/{tid}/discovery/v2.0/keys` on the same host, in the same (v1 or v2) shape, with the same query.
 * Undefined when the configured URL is not Entra's shared shape: a key URL of one's own names no tenants.
 */
export function tenantKeysUriOf(jwksUri: string): ((tid: string) => string) | undefined {
  const shared = new URL(jwksUri);
  const match = SHARED_KEYS_PATH.exec(shared.pathname);
  if (match === null) return undefined;
  const [, before, after] = match as unknown as [string, string, string];
  return (tid) => {
    const url = new URL(shared);
    url.pathname = `${before}${encodeURIComponent(tid)}${after}`;
    return url.href;
  };
}

/**
 * One fetch budget shared by every tenant's key URL: a fetch of any of them, whatever it finds, holds back
 * the next one for `waitSeconds`. Tokens naming made-up tenants (each a URL of its own) or made-up kids thus
 * cost at most one fetch per cooldown between them, as unknown kids do for the shared set; a per-URL cooldown
 * (the shared set's, in key-cache.ts) would allow one per tenant, and tenants are the token's to choose.
 */
class SharedFetchBudget implements PenaltyBox {
  private nextFetchAt = Number.NEGATIVE_INFINITY;
  /** The URL whose fetch spent the budget, until that fetch reports back. */
  private fetching: string | undefined;

  constructor(
    private readonly waitSeconds: number,
    private readonly now: () => number = Date.now,
  ) {}

  async wait(uri: string): Promise<void> {
    // Concurrent first tokens of one tenant share the fetch under way (the cache's single flight).
    if (uri === this.fetching) return;
    const now = this.now();
    if (now < this.nextFetchAt) {
      throw new WaitPeriodNotYetEndedJwkError('a tenant key set was fetched less than a cooldown ago');
    }
    // Spent when the fetch starts, not when it ends: concurrent tokens naming different tenants get one.
    this.nextFetchAt = now + this.waitSeconds * 1000;
    this.fetching = uri;
  }

  /** The fetch under way has ended (only its own lookups get past wait() meanwhile). */
  registerFailedAttempt(): void {
    this.fetching = undefined;
  }

  registerSuccessfulAttempt(): void {
    this.fetching = undefined;
  }
}

/**
 * The cache of a multi-tenant API's per-tenant key sets: the key cache's max age, stale-if-error and
 * single-flight fetches, with one fetch budget for all tenants and at most `maxSets` sets held.
 */
export function createTenantKeyCache(options: KeyCacheOptions = {}): EntraJwksCache {
  const cooldownSeconds = options.cooldownSeconds ?? KEY_CACHE_DEFAULTS.cooldownSeconds;
  return new EntraJwksCache({
    maxSets: TENANT_KEY_DEFAULTS.maxSets,
    ...options,
    penaltyBox: options.penaltyBox ?? new SharedFetchBudget(cooldownSeconds, options.now),
  });
}
