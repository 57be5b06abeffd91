/** `entra-authorizer/identity`: what a backend Lambda behind the authorizer needs (the caller, and CORS). */
export * from './cors.js';
export * from './identity.js';
