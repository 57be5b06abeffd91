import type { DecodedJwt } from './jwt-model.js';
import type { RejectionReason } from './reasons.js';
import { redactUrl } from './safe-text.js';

/**
 * A setting is missing or wrong: thrown at cold start so the deployment fails loudly, and at synth by the same
 * validator, where the construct turns it into a PropsError.
 */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  constructor(
    /** The setting as the side that read it names it: the variable at cold start, the prop at synth. */
    readonly variable: string,
    /** The raw value, or (for a route table) the part of it that is wrong. */
    readonly actual: unknown,
    readonly expected: string,
  ) {
    super(
      `${variable}: expected ${expected}; got ${actual === undefined ? 'nothing' : JSON.stringify(actual)}`,
    );
  }
}

/** The token is not a genuine access token for this API: API Gateway answers 401. */
export class TokenRejectedError extends Error {
  override readonly name = 'TokenRejectedError';
  /** The unverified token, kept for hints only: it is never logged. */
  token: DecodedJwt | undefined;
  constructor(
    readonly reason: RejectionReason,
    message: string,
  ) {
    super(message);
  }
}

/** Our own failure to obtain signing keys: API Gateway answers 500, never 401 and never Allow. */
export class KeysUnavailableError extends Error {
  override readonly name = 'KeysUnavailableError';
}

/** No allowed tenant list can be trusted (none read yet, or the last one is too old): a 500, never a 401. */
export class TenantsUnavailableError extends Error {
  override readonly name = 'TenantsUnavailableError';
}

/** The key endpoint answered, but not with something we accept (status, redirect, size, time). */
export class KeyFetchError extends Error {
  override readonly name = 'KeyFetchError';
  /** The key URL with user-info and query redacted: this error's message is logged. */
  readonly uri: string;
  constructor(
    uri: string,
    message: string,
    readonly retryable: boolean,
    readonly status?: number,
  ) {
    const shown = redactUrl(uri);
    super(`${shown}: ${message}`);
    this.uri = shown;
  }
}

/** API Gateway sent something that is not a REST TOKEN event: our failure, 500. */
export class BadEventError extends Error {
  override readonly name = 'BadEventError';
}
