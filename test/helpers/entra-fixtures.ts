import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { vi } from 'vitest';
import { ENV_NAMES } from '../../lambda/authorizer/config.js';
import type { KeyServer } from './key-server.js';
import { buildAuthorizer } from './setup.js';

/** ../shared/fixtures/entra, read in place: real Entra ID tokens and key sets from public test suites. */
export const ENTRA_FIXTURES = resolve(
  dirname(fileURLToPath(import.meta.url)),
  '../../../shared/fixtures/entra',
);
export const HAVE_ENTRA_FIXTURES = existsSync(join(ENTRA_FIXTURES, 'pairs.json'));

/**
 * True where the fixtures are absent (a user's clone), after saying so once for `suite`: a suite that reads
 * them skips with a line that tells why, never silently.
 */
export function skipWithoutFixtures(suite: string): boolean {
  if (!HAVE_ENTRA_FIXTURES)
    console.warn(`real Entra ID fixtures not found at ${ENTRA_FIXTURES}: ${suite} is skipped`);
  return !HAVE_ENTRA_FIXTURES;
}

export interface FixturePair {
  readonly token: string;
  readonly jwks: string;
  readonly kid: string | null;
  readonly x5t: string | null;
  readonly expect_signature_valid: boolean;
  readonly clock_valid_at: number;
  readonly exp: number;
  readonly iss: string;
  readonly aud: string;
  readonly tid: string;
  readonly ver: string;
  readonly token_kind: string;
}

/** The pairs, or none where the fixtures are absent (a user's clone), so suites can be collected and skip. */
export function fixturePairs(): FixturePair[] {
  if (!HAVE_ENTRA_FIXTURES) return [];
  return JSON.parse(readFileSync(join(ENTRA_FIXTURES, 'pairs.json'), 'utf8')) as FixturePair[];
}

export function fixtureToken(pair: FixturePair): string {
  return readFileSync(join(ENTRA_FIXTURES, pair.token), 'utf8').trim();
}

export function fixtureJwks(path: string): { keys: unknown[] } {
  return JSON.parse(readFileSync(join(ENTRA_FIXTURES, path), 'utf8')) as { keys: unknown[] };
}

export function fixturePair(tokenFile: string): FixturePair {
  const pair = fixturePairs().find((p) => p.token.endsWith(tokenFile));
  if (pair === undefined) throw new Error(`no fixture pair for ${tokenFile}`);
  return pair;
}

/**
 * Judges a fixture as of its valid time (aws-jwt-verify reads Date.now too, so the clock is faked) with its
 * key set served by `server`. Restore with vi.useRealTimers().
 */
export function atFixture(
  pair: FixturePair,
  server: KeyServer,
  options: { at?: number; jwks?: string } = {},
): string {
  vi.useFakeTimers({ toFake: ['Date'] });
  vi.setSystemTime((options.at ?? pair.clock_valid_at) * 1000);
  server.jwks = fixtureJwks(options.jwks ?? pair.jwks);
  return fixtureToken(pair);
}

/**
 * The authorizer configured for a fixture's tenant and audience (overridden by `env`), judging as of its valid
 * time with its key set served by `server` (see atFixture). Restore with vi.useRealTimers().
 */
export function fixtureAuthorizer(
  tokenFile: string,
  server: KeyServer,
  env: Record<string, string> = {},
  options: { at?: number; jwks?: string } = {},
) {
  const pair = fixturePair(tokenFile);
  const token = atFixture(pair, server, options);
  const authorizer = buildAuthorizer({
    [ENV_NAMES.jwksUri]: server.url,
    [ENV_NAMES.tenantId]: pair.tid,
    [ENV_NAMES.audiences]: pair.aud,
    ...env,
  });
  return { pair, ...authorizer, token };
}
