import { TenantsUnavailableError } from './errors.js';
import { type ParameterValue, parameterOrigin, parseTenantList, type TenantList } from './tenant-list.js';

/** Where decisions get the allowed tenant list: the one narrow seam between the tenant rule and its source. */
export interface TenantSource {
  /** The list to decide with now; rejects with TenantsUnavailableError when no list may be used. */
  tenants(): Promise<TenantList>;
}

/** What a refreshing source reports, for the log. */
export type TenantListEvent =
  | {
      readonly type: 'tenants_read';
      readonly origin: string;
      readonly count: number;
      /** Entries that are not tenant GUIDs, dropped (capped, as the log shows them). */
      readonly dropped: readonly string[];
    }
  | {
      readonly type: 'tenants_read_failed';
      readonly parameter: string;
      readonly error: string;
      /** The list decisions go on using (its origin), or undefined when they fail closed. */
      readonly serving: string | undefined;
    };

interface RefreshingTenantSourceOptions {
  /** The parameter's name, for origins and messages. */
  readonly parameter: string;
  /** Reads the parameter's value once; rejects on any failure. */
  readonly read: () => Promise<ParameterValue>;
  /** tenantsRefresh, in milliseconds. */
  readonly refreshMs: number;
  /** Milliseconds since the epoch. @default Date.now */
  readonly now?: () => number;
  readonly onEvent?: (event: TenantListEvent) => void;
}

/** The list of the configuration, the same for every decision. */
export function fixedTenantSource(tenants: ReadonlySet<string> | 'any'): TenantSource {
  const list = Promise.resolve(Object.freeze({ tenants, origin: 'fixed' }));
  return { tenants: () => list };
}

/** How long one read may take before it counts as failed (SDK retries of a throttled call included). */
export const READ_TIMEOUT_MS = 3000;
/** With no list to serve, a failed read is retried this long after the last attempt, not on every request. */
const RETRY_AFTER_FAILURE_MS = 2000;

interface GoodList {
  readonly list: TenantList;
  /** When the read that returned it was sent: the value is at least this recent. */
  readonly readAt: number;
}

/**
 * A list read from a parameter and read again as it ages, keyed to `refreshMs` (R):
 * - younger than R minus a lead (a tenth of R, at most 30 s): used as it is;
 * - from then on, a read starts in the background and the list is used until it returns;
 * - R old: a decision waits for the read (only after an idle spell does one get this far), so a tenant
 *   removed from the parameter is refused within R plus the gateway's result-cache TTL;
 * - if a read fails, the last good list is used until it is 2R old, with reads retried in the background;
 *   after that, and whenever there has never been a list, every decision fails closed
 *   (TenantsUnavailableError, a 500 with reason tenants_unavailable).
 */
export function refreshingTenantSource(options: RefreshingTenantSourceOptions): TenantSource {
  const { parameter, read, refreshMs, onEvent } = options;
  const now = options.now ?? Date.now;
  const lead = Math.min(refreshMs / 10, 30_000);
  let good: GoodList | undefined;
  let inFlight: { readonly promise: Promise<void>; readonly startedAt: number } | undefined;
  let lastAttempt = Number.NEGATIVE_INFINITY;
  let lastError = 'not read yet';
  let failedSinceGood = false;

  const attempt = (): Promise<void> => {
    const startedAt = now();
    lastAttempt = startedAt;
    const newest = () => good === undefined || startedAt >= good.readAt;
    // A value that is no list fails like a read that failed; the promise itself never rejects.
    const promise = timed(Promise.resolve().then(read), READ_TIMEOUT_MS)
      .then((value) => ({ ...parseTenantList(value), origin: parameterOrigin(parameter, value.version) }))
      .then(
        ({ tenants, dropped, origin }) => {
          if (newest()) {
            good = { list: Object.freeze({ tenants, origin }), readAt: startedAt };
            failedSinceGood = false;
          }
          onEvent?.({ type: 'tenants_read', origin, count: tenants.size, dropped });
        },
        (err: unknown) => {
          if (!newest()) return;
          lastError = describe(err);
          failedSinceGood = true;
          onEvent?.({
            type: 'tenants_read_failed',
            parameter,
            error: lastError,
            serving: usable(now()) ? good?.list.origin : undefined,
          });
        },
      );
    inFlight = { promise, startedAt };
    void promise.finally(() => {
      if (inFlight?.promise === promise) inFlight = undefined;
    });
    return promise;
  };

  /** The read under way, unless it was started so long ago (a frozen environment) that it cannot count. */
  const current = (at: number): Promise<void> | undefined =>
    inFlight !== undefined && at - inFlight.startedAt < READ_TIMEOUT_MS ? inFlight.promise : undefined;
  const usable = (at: number) => good !== undefined && at - good.readAt < 2 * refreshMs;
  const unavailable = () =>
    new TenantsUnavailableError(
      good === undefined
        ? `no tenant list read from ${parameter} yet: ${lastError}`
        : `the tenant list ${good.list.origin} is past its use-by time and ${parameter} could not be read again: ${lastError}`,
    );

  return {
    async tenants() {
      const at = now();
      const age = good === undefined ? Number.POSITIVE_INFINITY : at - good.readAt;
      if (good !== undefined && age < refreshMs - lead) return good.list;
      const retryDue = at - lastAttempt >= (failedSinceGood ? RETRY_AFTER_FAILURE_MS : 0);
      const pending = current(at) ?? (retryDue ? attempt() : undefined);
      if (good !== undefined && (age < refreshMs || (failedSinceGood && usable(at)))) return good.list;
      if (pending !== undefined) await pending;
      if (good !== undefined && usable(now())) return good.list;
      throw unavailable();
    },
  };
}

function timed<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
    timer.unref?.();
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

function describe(err: unknown): string {
  if (err instanceof Error) return `${err.name}: ${err.message}`.slice(0, 300);
  return String(err).slice(0, 300);
}
