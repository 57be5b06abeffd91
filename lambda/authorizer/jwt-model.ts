/** Types of a token not yet trusted: a leaf module, so errors and checks can name them without a circle. */
export type JsonObject = { readonly [key: string]: unknown };

/** A compact JWS split and parsed, not yet trusted. */
export interface DecodedJwt {
  readonly header: JsonObject;
  readonly payload: JsonObject;
  readonly headerB64: string;
  readonly payloadB64: string;
  readonly signatureB64: string;
}
