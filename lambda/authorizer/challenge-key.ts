/**
 * The context key of a REST API decision's RFC 6750 403 challenge (see challenge.ts): the ACCESS_DENIED
 * gateway response maps its `WWW-Authenticate` from `context.authorizer.wwwAuthenticate`, the one part of a
 * Deny a gateway response can read (its headers are single mapping expressions, not templates). A module of
 * its own, so the construct takes the name without the Lambda's modules.
 */
export const CHALLENGE_CONTEXT_KEY = 'wwwAuthenticate';
