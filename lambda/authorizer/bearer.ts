import { TokenRejectedError } from './errors.js';

export const MAX_AUTHORIZATION_HEADER_LENGTH = 16 * 1024;

const SEGMENT = '[A-Za-z0-9_-]+';
/**
 * The same shape API Gateway's identity validation expression enforces (infra imports it), so a request the
 * gateway lets through is judged by the same rule here. The scheme is case-insensitive (RFC 7235), one space.
 */
export const BEARER_HEADER_PATTERN = `^[Bb][Ee][Aa][Rr][Ee][Rr] ${SEGMENT}\\.${SEGMENT}\\.${SEGMENT}$`;
const BEARER = new RegExp(BEARER_HEADER_PATTERN);
/** A bare compact JWT, as a WebSocket client sends it (query string or subprotocol), with the same rule. */
export const COMPACT_JWT = new RegExp(`^${SEGMENT}\\.${SEGMENT}\\.${SEGMENT}$`);

/** `Authorization` header -> compact JWT, or a 401 rejection. The header itself is never echoed. */
export function extractBearerToken(header: string | undefined): string {
  if (header === undefined || header === '') {
    throw new TokenRejectedError('missing_token', 'no Authorization header');
  }
  if (header.length > MAX_AUTHORIZATION_HEADER_LENGTH) {
    throw new TokenRejectedError(
      'malformed',
      `Authorization header is ${header.length} characters; at most ${MAX_AUTHORIZATION_HEADER_LENGTH} accepted`,
    );
  }
  if (!BEARER.test(header)) {
    throw new TokenRejectedError(
      'malformed',
      'Authorization header is not "Bearer <header>.<payload>.<signature>"',
    );
  }
  return header.slice(7);
}
