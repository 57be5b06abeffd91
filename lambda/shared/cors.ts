/**
 * CORS for a backend's own answer. With a Lambda proxy integration API Gateway adds no CORS headers to what
 * the backend returns ("your backend is responsible for returning the Access-Control-Allow-Origin ...
 * headers, because a proxy integration doesn't return an integration response"): a browser can read the
 * answer only if the backend sets them itself.
 */

/** The variable that carries the allowed origin: the stack sets it, backends read it once at cold start. */
export const CORS_ALLOW_ORIGIN_ENV = 'CORS_ALLOW_ORIGIN';

export interface CorsOptions {
  /** `*`, or one origin such as `https://app.example.com`. */
  readonly allowOrigin: string;
}

/**
 * `*` or a single origin exactly as a browser serializes it in the `Origin` header: `http` or `https`,
 * a lower-case host, a port only when it is not the scheme's default, no path, no trailing slash. Anything
 * else would never equal a browser's `Origin`, and so would silently block every call.
 */
export function isAllowOrigin(value: string): boolean {
  if (value === '*') return true;
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return false;
  }
  return (
    (url.protocol === 'https:' || url.protocol === 'http:') &&
    url.origin === value &&
    /^(?:[a-z0-9-]+\.)*[a-z0-9-]+$|^\[[0-9a-f:.]+\]$/.test(url.hostname)
  );
}

/** Reads the allowed origin from the environment once; a bad value fails the cold start naming the variable. */
export function readCorsOptions(env: Readonly<Record<string, string | undefined>>): CorsOptions {
  const raw = env[CORS_ALLOW_ORIGIN_ENV]?.trim();
  const allowOrigin = raw === undefined || raw === '' ? '*' : raw;
  if (!isAllowOrigin(allowOrigin)) {
    throw new Error(
      `${CORS_ALLOW_ORIGIN_ENV}: expected "*" or one origin such as https://app.example.com (lower case, no path); got ${JSON.stringify(raw)}`,
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

/**
 * The proxy result with the CORS headers added. A header the backend set itself wins, whatever the case
 * of its name (HTTP header names are case-insensitive).
 */
export function withCors<
  T extends { readonly statusCode: number; readonly headers?: Record<string, string | number | boolean> },
>(result: T, options: CorsOptions): T & { headers: Record<string, string | number | boolean> } {
  const own = new Set(Object.keys(result.headers ?? {}).map((name) => name.toLowerCase()));
  const added = Object.entries(corsHeaders(options)).filter(([name]) => !own.has(name.toLowerCase()));
  return { ...result, headers: { ...Object.fromEntries(added), ...result.headers } };
}
