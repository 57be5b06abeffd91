import {
  JwksNotAvailableInCacheError,
  JwtWithoutValidKidError,
  KidNotFoundInJwksError,
  WaitPeriodNotYetEndedJwkError,
} from 'aws-jwt-verify/error';
import type { Fetcher } from 'aws-jwt-verify/https';
import type { Jwks, JwksCache, PenaltyBox } from 'aws-jwt-verify/jwk';
import { KeysUnavailableError } from '../errors.js';
import { headerKeyId } from '../jwt.js';
import { redactUrl } from '../safe-text.js';
import { KeyFetcher } from './fetcher.js';
import { parseKeySet, type SigningJwk, toJwks, usableKeys } from './key-set.js';

export const KEY_CACHE_DEFAULTS = {
  /** After this the set is refetched on the next request that needs it. */
  maxAgeSeconds: 24 * 60 * 60,
  /** How long past max age a set may still serve while refreshes fail. */
  staleIfErrorSeconds: 72 * 60 * 60,
  /** Minimum gap between refetches forced by an unknown kid or by a failed fetch. */
  cooldownSeconds: 10,
} as const;

/** What the cache reports; `uri` and every message carry the key URL without user-info or query. */
export type KeyCacheEvent =
  | {
      readonly type: 'fetched';
      readonly uri: string;
      readonly status: number;
      readonly durationMs: number;
      readonly keyCount: number;
      readonly dropped: number;
    }
  | {
      readonly type: 'fetch_failed';
      readonly uri: string;
      readonly status: number | undefined;
      readonly durationMs: number;
      readonly error: string;
    }
  | { readonly type: 'serving_stale'; readonly uri: string; readonly ageSeconds: number };

export interface KeyCacheOptions {
  /** @default a KeyFetcher: 2 s budget, 256 KiB cap, no redirects */
  readonly fetcher?: Fetcher;
  /** @default a cooldown of cooldownSeconds per key URL, on the cache's clock */
  readonly penaltyBox?: PenaltyBox;
  /** @default 10 */
  readonly cooldownSeconds?: number;
  /** @default 86400 (24 h) */
  readonly maxAgeSeconds?: number;
  /** @default 259200 (72 h) */
  readonly staleIfErrorSeconds?: number;
  /**
   * At most this many key URLs held (sets, and URLs whose last fetch failed); past it the set fetched
   * longest ago is dropped. For a cache whose URLs come from tokens (per-tenant sets). @default unbounded
   */
  readonly maxSets?: number;
  /** @default Date.now */
  readonly now?: () => number;
  /** Called for every fetch and every fallback to stale keys; the handler logs them. */
  readonly onEvent?: (event: KeyCacheEvent) => void;
}

interface Entry {
  readonly jwks: Jwks;
  readonly byId: ReadonlyMap<string, SigningJwk>;
  readonly fetchedAt: number;
}

/** What the cache reads of a token: its header (aws-jwt-verify hands its decomposed JWT, the verifier its own). */
interface TokenWithHeader {
  readonly header: Readonly<Record<string, unknown>>;
}

/** The key id a token names, as aws-jwt-verify's cache interface expects it: or its own error. */
function keyIdOf(header: TokenWithHeader['header']): string {
  const id = headerKeyId(header);
  if (id === undefined) throw new JwtWithoutValidKidError('JWT header has no kid');
  return id;
}

/**
 * The HTTP status a failed fetch carries (KeyFetchError's), read by shape: the cold start's fetch is made by
 * index.js, whose KeyFetchError is another class than this bundle's (decide.js).
 */
function statusOf(err: unknown): number | undefined {
  const status = (err as { status?: unknown } | undefined)?.status;
  return typeof status === 'number' ? status : undefined;
}

/** A message that may quote the key URL (a plugged-in fetcher's error, say), with the URL redacted. */
function redacted(uri: string, message: string): string {
  return message.replaceAll(uri, redactUrl(uri));
}

function index(keys: readonly SigningJwk[]): Map<string, SigningJwk> {
  const byId = new Map<string, SigningJwk>();
  for (const key of keys) {
    if (key.x5t !== undefined && !byId.has(key.x5t)) byId.set(key.x5t, key);
  }
  // kid wins over an x5t of another key
  for (const key of keys) byId.set(key.kid, key);
  return byId;
}

/**
 * aws-jwt-verify's SimplePenaltyBox on the cache's clock, without a timer per failure: after a failed
 * attempt at a key URL (its fetch failed, or the set it fetched lacked the kid), that URL is not fetched again
 * for `waitMs`, whatever kid asks; a successful attempt ends the wait.
 */
class Cooldown implements PenaltyBox {
  /** Per key URL, when its wait ends (ms since the epoch). */
  private readonly waitsUntil = new Map<string, number>();

  constructor(
    private readonly waitMs: number,
    private readonly now: () => number,
  ) {}

  async wait(uri: string): Promise<void> {
    const until = this.waitsUntil.get(uri);
    if (until === undefined) return;
    if (this.now() < until)
      throw new WaitPeriodNotYetEndedJwkError(`${redactUrl(uri)}: refetch cooling down`);
    this.waitsUntil.delete(uri);
  }

  registerFailedAttempt(uri: string): void {
    this.waitsUntil.set(uri, this.now() + this.waitMs);
  }

  registerSuccessfulAttempt(uri: string): void {
    this.waitsUntil.delete(uri);
  }
}

/**
 * aws-jwt-verify's JwksCache for a key endpoint that must not be trusted to be up: single-flight fetches,
 * refetch on an unknown kid at most once per cooldown, a maximum age, and stale-if-error within a bound.
 * A bad answer never replaces good keys.
 */
export class EntraJwksCache implements JwksCache {
  private readonly fetcher: Fetcher;
  private readonly penaltyBox: PenaltyBox;
  private readonly maxAgeMs: number;
  private readonly staleLimitMs: number;
  private readonly now: () => number;
  private readonly onEvent: (event: KeyCacheEvent) => void;
  private readonly entries = new Map<string, Entry>();
  private readonly inflight = new Map<string, Promise<Jwks>>();
  private readonly lastFetchFailed = new Set<string>();
  private readonly maxSets: number;

  constructor(options: KeyCacheOptions = {}) {
    this.fetcher = options.fetcher ?? new KeyFetcher();
    this.now = options.now ?? Date.now;
    this.penaltyBox =
      options.penaltyBox ??
      new Cooldown((options.cooldownSeconds ?? KEY_CACHE_DEFAULTS.cooldownSeconds) * 1000, this.now);
    this.maxAgeMs = (options.maxAgeSeconds ?? KEY_CACHE_DEFAULTS.maxAgeSeconds) * 1000;
    this.staleLimitMs =
      this.maxAgeMs + (options.staleIfErrorSeconds ?? KEY_CACHE_DEFAULTS.staleIfErrorSeconds) * 1000;
    this.onEvent = options.onEvent ?? (() => {});
    this.maxSets = options.maxSets ?? Number.POSITIVE_INFINITY;
  }

  /** The warm path: a key we hold in a set younger than max age, or undefined. Never fetches. */
  findFreshJwk(uri: string, keyId: string): SigningJwk | undefined {
    const entry = this.entries.get(uri);
    if (entry === undefined || this.now() - entry.fetchedAt > this.maxAgeMs) return undefined;
    return entry.byId.get(keyId);
  }

  getCachedJwk(uri: string, jwt: TokenWithHeader): SigningJwk {
    const entry = this.usableEntry(uri);
    if (entry === undefined)
      throw new JwksNotAvailableInCacheError(`JWKS for ${redactUrl(uri)} not yet available in cache`);
    const keyId = keyIdOf(jwt.header);
    const jwk = entry.byId.get(keyId);
    if (jwk === undefined) throw new KidNotFoundInJwksError(`JWK for kid "${keyId}" not found in the JWKS`);
    return jwk;
  }

  async getJwk(uri: string, jwt: TokenWithHeader): Promise<SigningJwk> {
    const keyId = keyIdOf(jwt.header);
    const fresh = this.findFreshJwk(uri, keyId);
    if (fresh !== undefined) return fresh;
    // From here on, a held key is one past max age: served only while refreshes fail or cool down.
    const held = this.usableEntry(uri);
    const heldKey = held?.byId.get(keyId);

    try {
      await this.penaltyBox.wait(uri, keyId);
    } catch {
      // Cooling down after an unknown kid or a failed fetch: answer at once from what we have.
      if (heldKey !== undefined) return this.serveStale(uri, heldKey, held);
      if (held !== undefined && !this.lastFetchFailed.has(uri)) {
        throw new KidNotFoundInJwksError(
          `JWK for kid "${keyId}" not found in the JWKS (refetch cooling down)`,
        );
      }
      throw new KeysUnavailableError(
        `no signing keys for ${redactUrl(uri)}: the last fetch failed and retries are cooling down`,
      );
    }

    try {
      await this.getJwks(uri);
    } catch (err) {
      this.penaltyBox.registerFailedAttempt(uri, keyId);
      if (heldKey !== undefined) return this.serveStale(uri, heldKey, held);
      throw new KeysUnavailableError(
        `signing keys for kid "${keyId}" unobtainable: ${redacted(uri, (err as Error).message)}`,
      );
    }
    const jwk = this.entries.get(uri)?.byId.get(keyId);
    if (jwk === undefined) {
      this.penaltyBox.registerFailedAttempt(uri, keyId);
      throw new KidNotFoundInJwksError(`JWK for kid "${keyId}" not found in the JWKS`);
    }
    this.penaltyBox.registerSuccessfulAttempt(uri, keyId);
    return jwk;
  }

  addJwks(uri: string, jwks: Jwks): void {
    this.store(uri, usableKeys(jwks).keys);
  }

  /** Fetches the set now (shared with any fetch already under way) and keeps it if it is usable. */
  getJwks(uri: string): Promise<Jwks> {
    const running = this.inflight.get(uri);
    if (running !== undefined) return running;
    const fetching = this.fetchAndStore(uri).finally(() => this.inflight.delete(uri));
    this.inflight.set(uri, fetching);
    return fetching;
  }

  private async fetchAndStore(uri: string): Promise<Jwks> {
    const started = this.now();
    try {
      const body = await this.fetcher.fetch(uri);
      const { keys, dropped } = parseKeySet(body);
      const entry = this.store(uri, keys);
      this.lastFetchFailed.delete(uri);
      this.onEvent({
        type: 'fetched',
        uri: redactUrl(uri),
        status: 200,
        durationMs: this.now() - started,
        keyCount: keys.length,
        dropped,
      });
      return entry.jwks;
    } catch (err) {
      this.lastFetchFailed.add(uri);
      this.dropOldest(this.lastFetchFailed);
      this.onEvent({
        type: 'fetch_failed',
        uri: redactUrl(uri),
        status: statusOf(err),
        durationMs: this.now() - started,
        error: redacted(uri, (err as Error).message),
      });
      throw err;
    }
  }

  private store(uri: string, keys: readonly SigningJwk[]): Entry {
    const entry: Entry = { jwks: toJwks(keys), byId: index(keys), fetchedAt: this.now() };
    // Deleted first, so the map's order (insertion order) is the order of fetches, oldest first.
    this.entries.delete(uri);
    this.entries.set(uri, entry);
    this.dropOldest(this.entries);
    return entry;
  }

  /** Keeps `held` within maxSets by dropping its oldest members (Maps and Sets iterate in insertion order). */
  private dropOldest(held: Map<string, unknown> | Set<string>): void {
    for (const uri of held.keys()) {
      if (held.size <= this.maxSets) return;
      held.delete(uri);
    }
  }

  /** The held entry, unless it is older than max age plus the stale-if-error bound. */
  private usableEntry(uri: string): Entry | undefined {
    const entry = this.entries.get(uri);
    if (entry !== undefined && this.now() - entry.fetchedAt > this.staleLimitMs) {
      this.entries.delete(uri);
      return undefined;
    }
    return entry;
  }

  private serveStale(uri: string, key: SigningJwk, entry: Entry | undefined): SigningJwk {
    const ageMs = entry === undefined ? 0 : this.now() - entry.fetchedAt;
    if (ageMs > this.maxAgeMs)
      this.onEvent({ type: 'serving_stale', uri: redactUrl(uri), ageSeconds: Math.round(ageMs / 1000) });
    return key;
  }
}
