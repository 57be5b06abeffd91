import type { IncomingMessage } from 'node:http';
import { isLoopbackHost } from '../../lambda/authorizer/config.js';

/**
 * Is `host` (a `Host` header: `uri-host [":" port]`, RFC 9110 7.2) a name of this machine's loopback
 * interface: `localhost`, `127.x.x.x` or `[::1]`, any port? The local server listens on 127.0.0.1, but a
 * web page whose own host name its DNS later points at 127.0.0.1 (DNS rebinding) reaches it as the same
 * origin, and could read tokens from the issuer and the API's answers; its requests carry its own name.
 */
export function isLoopbackHostHeader(host: string | undefined): boolean {
  if (host === undefined) return false;
  const name = host.startsWith('[') ? host.slice(0, host.indexOf(']') + 1) : host.split(':', 1)[0];
  const port = host.slice(name?.length ?? 0);
  if (name === undefined || name === '' || !(port === '' || /^:\d{0,5}$/.test(port))) return false;
  return isLoopbackHost(name.toLowerCase());
}

/** The body of the 403 answering a request addressed to another host name. */
export const FOREIGN_HOST_BODY = JSON.stringify({
  message: 'this local server answers requests addressed to 127.0.0.1, localhost or [::1] only (Host header)',
});

/** Whether the request was addressed to a loopback name (see isLoopbackHostHeader). */
export const addressedToLoopback = (req: IncomingMessage): boolean => isLoopbackHostHeader(req.headers.host);
