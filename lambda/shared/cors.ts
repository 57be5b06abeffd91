/**
 * CORS for a backend's own answer. With a Lambda proxy integration API Gateway adds no CORS headers to what
 * the backend returns: a browser can read the answer only if the backend sets them itself.
 */

/** The variable that carries the allowed origin: the stack sets it, backends read it once at cold start. */
export const CORS_ALLOW_ORIGIN_ENV = 'CORS_ALLOW_ORIGIN';

export interface CorsOptions {
  /** `*`, or one origin such as `https://app.example.com`. */
  readonly allowOrigin: string;
}

const ORIGIN = /^https?:\/\/[A-Za-z0-9.-]+(:\d{1,5})?$/;

/** `*` or a single origin (scheme, host, optional port; no path): what `Access-Control-Allow-Origin` takes. */
export function isAllowOrigin(value: string): boolean {
  return value === '*' || ORIGIN.test(value);
}

/** Reads the allowed origin from the environment once; a bad value fails the cold start naming the variable. */
export function readCorsOptions(env: Readonly<Record<string, string | undefined>>): CorsOptions {
  const raw = env[CORS_ALLOW_ORIGIN_ENV]?.trim();
  const allowOrigin = raw === undefined || raw === '' ? '*' : raw;
  if (!isAllowOrigin(allowOrigin)) {
    throw new Error(
      `${CORS_ALLOW_ORIGIN_ENV}: expected "*" or one origin such as https://app.example.com; got ${JSON.stringify(raw)}`,
    );
  }
  return Object.freeze({ allowOrigin });
}

/** The headers a backend adds to its own answers. */
export function corsHeaders(options: CorsOptions): Record<string, string> {
  // A single named origin varies by request origin for caches; `*` does not.
  return options.allowOrigin === '*'
    ? { 'Access-Control-Allow-Origin': '*' }
    : { 'Access-Control-Allow-Origin': options.allowOrigin, Vary: 'Origin' };
}

/** The proxy result with the CORS headers added (headers the backend set itself win). */
export function withCors<T extends { headers?: Record<string, string | number | boolean> }>(
  result: T,
  options: CorsOptions,
): T {
  return { ...result, headers: { ...corsHeaders(options), ...result.headers } };
}
