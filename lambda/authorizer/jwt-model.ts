/** Types of a token not yet trusted: a leaf module, so errors and checks can name them without a circle. */
export type JsonObject = { readonly [key: string]: unknown };

/** A compact JWS split and parsed, not yet trusted. */
export interface DecodedJwt {
  readonly header: JsonObject;
  readonly payload: JsonObject;
  /** The encoded header and payload as sent, `<header>.<payload>`: what the signature signs (RFC 7515 §5.2). */
  readonly signingInput: string;
  readonly signatureB64: string;
}
