import { TokenRejectedError } from './errors.js';
import type { DecodedJwt, JsonObject } from './jwt-model.js';

const MAX_KEY_ID_LENGTH = 128;

/**
 * The key a token names: `kid`, or for legacy v1 tokens that carry only a certificate thumbprint, `x5t`
 * (Entra's kid equals that thumbprint). Undefined when neither is a usable string.
 */
export function headerKeyId(header: Readonly<Record<string, unknown>>): string | undefined {
  const id = header.kid !== undefined ? header.kid : header.x5t;
  return typeof id === 'string' && id !== '' && id.length <= MAX_KEY_ID_LENGTH ? id : undefined;
}

const BASE64URL_VALUE = (() => {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
  const table = new Int8Array(128).fill(-1);
  for (let i = 0; i < alphabet.length; i++) table[alphabet.charCodeAt(i)] = i;
  return table;
})();

/**
 * Base64url has one spelling per byte string only if unused trailing bits are zero and no padding is
 * written. Node's decoder is lenient, so without this check `...AB` and `...AC` could carry the same
 * signature and a mutated token would still verify.
 */
export function isCanonicalBase64Url(segment: string): boolean {
  const rest = segment.length % 4;
  if (rest === 1) return false;
  if (rest === 0) return true;
  const last = BASE64URL_VALUE[segment.charCodeAt(segment.length - 1)] ?? -1;
  if (last < 0) return false;
  return (last & (rest === 2 ? 0b1111 : 0b11)) === 0;
}

function parseSegment(segment: string, part: 'header' | 'payload'): JsonObject {
  let parsed: unknown;
  try {
    // JSON.parse never writes through __proto__ keys (they become own properties), so no reviver is needed
    // for reading; aws-jwt-verify re-parses with its own guard before any claim is trusted.
    parsed = JSON.parse(Buffer.from(segment, 'base64url').toString('utf8'));
  } catch {
    throw new TokenRejectedError('malformed', `JWT ${part} is not base64url-encoded JSON`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new TokenRejectedError('malformed', `JWT ${part} is not a JSON object`);
  }
  return parsed as JsonObject;
}

/** Splits and parses a compact JWS (already shape-checked by the bearer rule) without verifying it. */
export function decodeJwt(token: string): DecodedJwt {
  const first = token.indexOf('.');
  const second = token.indexOf('.', first + 1);
  if (
    first <= 0 ||
    second <= first + 1 ||
    token.indexOf('.', second + 1) !== -1 ||
    second === token.length - 1
  ) {
    throw new TokenRejectedError('malformed', 'JWT does not have exactly three non-empty parts');
  }
  const headerB64 = token.slice(0, first);
  const payloadB64 = token.slice(first + 1, second);
  const signatureB64 = token.slice(second + 1);
  if (
    !isCanonicalBase64Url(headerB64) ||
    !isCanonicalBase64Url(payloadB64) ||
    !isCanonicalBase64Url(signatureB64)
  ) {
    throw new TokenRejectedError('malformed', 'JWT part is not canonical base64url');
  }
  return {
    header: parseSegment(headerB64, 'header'),
    payload: parseSegment(payloadB64, 'payload'),
    signingInput: token.slice(0, second),
    signatureB64,
  };
}
