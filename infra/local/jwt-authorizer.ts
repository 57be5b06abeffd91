import { createRemoteJWKSet, decodeJwt, errors, type JWTPayload, jwtVerify } from 'jose';

/**
 * API Gateway's own JWT authorizers, read from a synthesized template and checked locally: an HTTP API's
 * `AWS::ApiGatewayV2::Authorizer` of `AuthorizerType: JWT` (`JwtConfiguration.Issuer`/`Audience`), and a
 * REST API's `AWS::ApiGateway::Authorizer` of `Type: JWT` (`JwtConfiguration.Issuers`, each with its
 * `Audiences` and `AdditionalClaims`, and `DefaultAlgorithms`), with the scopes a route or method requires
 * (`AuthorizationScopes`). Signatures are checked with jose against the local issuer's key set on
 * 127.0.0.1, which stands in for every issuer the template names: tokens carry Entra's real `iss`, so the
 * issuer rule is the template's own, compared exactly.
 */

/** An additional claim rule of a REST JWT authorizer's issuer (`Format: SINGLE_STRING`, the only format). */
interface AdditionalClaimRule {
  readonly name: string;
  /** Empty: any string value will do. */
  readonly expectedValues: readonly string[];
  readonly required: boolean;
}

/** One trusted issuer: its `iss`, exactly, the audiences it may issue for, and its additional claims. */
export interface JwtIssuerRule {
  readonly issuer: string;
  readonly audiences: readonly string[];
  readonly additionalClaims: readonly AdditionalClaimRule[];
}

export interface JwtAuthorizerModel {
  readonly logicalId: string;
  /** Which API kind's rules apply: an HTTP API also takes `client_id` for the audience and checks `iat`. */
  readonly apiKind: 'http' | 'rest';
  /** The request header carrying the token (with or without `Bearer `). */
  readonly identityHeader: string;
  readonly issuers: readonly JwtIssuerRule[];
  readonly algorithms: readonly string[];
}

/** A route or method guarded by a JWT authorizer, and the scopes it requires (none: any valid token). */
export interface JwtGuard {
  readonly authorizer: JwtAuthorizerModel;
  readonly scopes: readonly string[];
}

/** The JWT authorizers a reader found, and why the others are not emulated, by logical id. */
interface JwtAuthorizers {
  readonly jwt: ReadonlyMap<string, JwtAuthorizerModel>;
  readonly unsupported: ReadonlyMap<string, string>;
}

type Props = Readonly<Record<string, unknown>>;

const isObject = (value: unknown): value is Props =>
  typeof value === 'object' && value !== null && !Array.isArray(value);
const strings = (value: unknown): string[] =>
  Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : [];

/** "Currently, only RSA-based algorithms are supported" (HTTP API JWT authorizers). */
const HTTP_API_ALGORITHMS = ['RS256', 'RS384', 'RS512'] as const;
/** `JwtConfigurationInput.defaultAlgorithms`' valid values (REST API JWT authorizers). */
const REST_API_ALGORITHMS = new Set(['RS256', 'RS384', 'RS512', 'ES256', 'ES384', 'ES512']);
/** Claims an additional claim rule cannot name (`JwtAdditionalClaim.claimName`). */
const RESERVED_CLAIMS = new Set(['iss', 'aud', 'exp', 'nbf', 'iat', 'scope', 'scp']);

/** An HTTP API's JWT authorizer: a problem for what API Gateway refuses, else the model or why it is not emulated. */
export function readHttpJwtAuthorizer(
  id: string,
  owner: string,
  p: Props,
  problem: (line: string) => void,
): JwtAuthorizerModel | string {
  const config = isObject(p.JwtConfiguration) ? p.JwtConfiguration : {};
  const issuer = config.Issuer;
  const audiences = strings(config.Audience);
  if (typeof issuer !== 'string' || issuer === '') problem(`${owner}: JwtConfiguration.Issuer is required`);
  if (audiences.length === 0) problem(`${owner}: JwtConfiguration.Audience needs at least one audience`);
  const sources = strings(p.IdentitySource);
  const header =
    sources.length === 1 ? /^\$request\.header\.([A-Za-z0-9._-]+)$/.exec(sources[0] as string) : null;
  if (header === null) {
    return `the JWT authorizer ${id}'s IdentitySource ${JSON.stringify(p.IdentitySource)} is not emulated locally (only one $request.header.<name>)`;
  }
  return {
    logicalId: id,
    apiKind: 'http',
    identityHeader: header[1] as string,
    issuers: [{ issuer: String(issuer), audiences, additionalClaims: [] }],
    algorithms: HTTP_API_ALGORITHMS,
  };
}

function readAdditionalClaims(owner: string, value: unknown, problem: (line: string) => void) {
  const rules: AdditionalClaimRule[] = [];
  for (const [i, c] of (Array.isArray(value) ? value : []).entries()) {
    const where = `${owner}.AdditionalClaims[${i}]`;
    const name = isObject(c) ? c.ClaimName : undefined;
    if (!isObject(c) || typeof name !== 'string' || name === '' || RESERVED_CLAIMS.has(name)) {
      problem(`${where}: ClaimName must be a claim other than ${[...RESERVED_CLAIMS].join(', ')}`);
      continue;
    }
    if (c.Format !== 'SINGLE_STRING') problem(`${where}: Format must be SINGLE_STRING`);
    if (rules.some((r) => r.name === name)) problem(`${where}: a second rule for the claim ${name}`);
    rules.push({ name, expectedValues: strings(c.ExpectedValues), required: c.Required === true });
  }
  return rules;
}

/** A REST API's JWT authorizer (`Type: JWT`), read from the documented template shape. */
export function readRestJwtAuthorizer(
  id: string,
  owner: string,
  p: Props,
  problem: (line: string) => void,
): JwtAuthorizerModel {
  const config = isObject(p.JwtConfiguration) ? p.JwtConfiguration : {};
  const algorithms = strings(config.DefaultAlgorithms);
  if (algorithms.length === 0 || algorithms.some((a) => !REST_API_ALGORITHMS.has(a))) {
    problem(
      `${owner}: JwtConfiguration.DefaultAlgorithms must name some of ${[...REST_API_ALGORITHMS].join(', ')}`,
    );
  }
  const issuers: JwtIssuerRule[] = [];
  for (const [i, entry] of (Array.isArray(config.Issuers) ? config.Issuers : []).entries()) {
    const where = `${owner}: JwtConfiguration.Issuers[${i}]`;
    const issuer = isObject(entry) ? entry.Issuer : undefined;
    if (!isObject(entry) || typeof issuer !== 'string' || !/^https:\/\/[^/?#@]+(\/[^?#]*)?$/.test(issuer)) {
      problem(`${where}.Issuer must be an absolute https URL without user information, query or fragment`);
      continue;
    }
    if (issuers.some((r) => r.issuer === issuer)) problem(`${where}.Issuer ${issuer} is listed twice`);
    const audiences = strings(entry.Audiences);
    if (audiences.length === 0 || audiences.includes(''))
      problem(`${where}.Audiences needs audiences, none empty`);
    issuers.push({
      issuer,
      audiences,
      additionalClaims: readAdditionalClaims(where, entry.AdditionalClaims, problem),
    });
  }
  if (issuers.length === 0) problem(`${owner}: JwtConfiguration.Issuers needs at least one issuer`);
  const source = p.IdentitySource ?? 'method.request.header.Authorization';
  const header = /^method\.request\.header\.([A-Za-z0-9._$-]+)$/.exec(String(source));
  if (header === null)
    problem(`${owner}: IdentitySource ${JSON.stringify(source)} is not method.request.header.<name>`);
  return {
    logicalId: id,
    apiKind: 'rest',
    identityHeader: header?.[1] ?? 'Authorization',
    issuers,
    algorithms,
  };
}

/**
 * The JWT guard of a route or method (`AuthorizationType: JWT`, its `AuthorizerId` and
 * `AuthorizationScopes`), undefined for any other authorization type. An authorizer that is not emulated
 * goes to `notEmulated`; one the API does not have is `missing`.
 */
export function jwtGuardOf(
  p: Props,
  authorizers: JwtAuthorizers,
  referenced: (value: unknown) => string | undefined,
  notEmulated: string[],
  missing: () => void,
): JwtGuard | undefined {
  if (p.AuthorizationType !== 'JWT') return undefined;
  const id = referenced(p.AuthorizerId) ?? '';
  const authorizer = authorizers.jwt.get(id);
  const unsupported = authorizers.unsupported.get(id);
  if (unsupported !== undefined) notEmulated.push(unsupported);
  else if (authorizer === undefined) missing();
  return authorizer === undefined ? undefined : { authorizer, scopes: strings(p.AuthorizationScopes) };
}

/** What a JWT authorizer decides about a request: the claims it passes on, or a 401 or 403 and why. */
type JwtDecision =
  | { readonly kind: 'allow'; readonly claims: JWTPayload; readonly scopes: readonly string[] }
  | { readonly kind: 'unauthorized'; readonly reason: string }
  | { readonly kind: 'forbidden'; readonly reason: string };

/** The token's scopes: `scope` or `scp`, space-separated (or, from some issuers, an array). */
function tokenScopes(claims: JWTPayload): string[] {
  const value = claims.scope ?? claims.scp;
  if (Array.isArray(value)) return value.filter((s): s is string => typeof s === 'string');
  return typeof value === 'string' ? value.split(' ').filter((s) => s !== '') : [];
}

/** The header's token: the value itself, or after `Bearer ` (HTTP APIs document both). */
function tokenOf(header: string | undefined): string | undefined {
  if (header === undefined) return undefined;
  const token = header.replace(/^Bearer\s+/i, '').trim();
  return token === '' ? undefined : token;
}

/** Why the claims fail the issuer's audience rule, or undefined. */
function audienceProblem(authorizer: JwtAuthorizerModel, rule: JwtIssuerRule, claims: JWTPayload) {
  // HTTP APIs: "API Gateway validates client_id only if aud is not present".
  const carried =
    claims.aud !== undefined
      ? [claims.aud].flat()
      : authorizer.apiKind === 'http' && typeof claims.client_id === 'string'
        ? [claims.client_id]
        : [];
  return carried.some((a) => rule.audiences.includes(a))
    ? undefined
    : 'the token does not have a valid audience';
}

/** Why the claims fail an additional claim rule (one string, exactly one of the expected values), or undefined. */
function additionalClaimProblem(rule: JwtIssuerRule, claims: JWTPayload): string | undefined {
  for (const c of rule.additionalClaims) {
    const value = claims[c.name];
    if (value === undefined) {
      if (c.required) return `the token has no ${c.name} claim`;
      continue;
    }
    if (typeof value !== 'string') return `the ${c.name} claim is not a single string`;
    if (c.expectedValues.length > 0 && !c.expectedValues.includes(value)) {
      return `the ${c.name} claim has none of the expected values`;
    }
  }
  return undefined;
}

/** jose's failure in API Gateway's words (the HTTP API's www-authenticate error_description). */
function verificationProblem(err: unknown): string {
  if (err instanceof errors.JWTExpired) return 'the token has expired';
  if (err instanceof errors.JWTClaimValidationFailed) return `the token's ${err.claim} claim is not valid`;
  if (err instanceof errors.JWKSNoMatchingKey) return 'the token has no key of the issuer';
  if (err instanceof errors.JOSEAlgNotAllowed) return "the token's algorithm is not allowed";
  return 'the token is not a valid signed JWT';
}

/**
 * A checker of JWT guards against the key set at `jwksUri` (the local issuer's): a 401 without a token,
 * for an issuer not exactly one of the authorizer's, a bad signature or algorithm, an expired or not yet
 * valid token, an audience or additional claim that fails its issuer's rule; a 403 for a valid token that
 * carries none of the route's scopes.
 */
export function createJwtChecker(jwksUri: string, now: () => number = Date.now) {
  const keys = createRemoteJWKSet(new URL(jwksUri));
  return async function check(guard: JwtGuard, header: string | undefined): Promise<JwtDecision> {
    const { authorizer } = guard;
    const unauthorized = (reason: string): JwtDecision => ({ kind: 'unauthorized', reason });
    const token = tokenOf(header);
    if (token === undefined) return unauthorized('no token');
    let issuer: unknown;
    try {
      issuer = decodeJwt(token).iss;
    } catch {
      return unauthorized('the token is not a JWT');
    }
    const rule = authorizer.issuers.find((r) => r.issuer === issuer);
    if (rule === undefined) return unauthorized('the token does not have a valid issuer');
    let claims: JWTPayload;
    try {
      ({ payload: claims } = await jwtVerify(token, keys, {
        issuer: rule.issuer,
        algorithms: [...authorizer.algorithms],
        currentDate: new Date(now()),
      }));
    } catch (err) {
      return unauthorized(verificationProblem(err));
    }
    // HTTP APIs: iat "must be before the current time".
    if (authorizer.apiKind === 'http' && typeof claims.iat === 'number' && claims.iat * 1000 > now()) {
      return unauthorized('the token was issued in the future');
    }
    const problem = audienceProblem(authorizer, rule, claims) ?? additionalClaimProblem(rule, claims);
    if (problem !== undefined) return unauthorized(problem);
    const scopes = tokenScopes(claims);
    if (guard.scopes.length > 0 && !guard.scopes.some((s) => scopes.includes(s))) {
      return { kind: 'forbidden', reason: 'the token does not have a required scope' };
    }
    return { kind: 'allow', claims, scopes };
  };
}

export type JwtChecker = ReturnType<typeof createJwtChecker>;

/**
 * A claim as a REST API's parameter mappings, mapping templates and access logs read it
 * (`$context.authorizer.claims.<name>`): JSON text, non-ASCII characters written as `\uXXXX`.
 */
export function restClaimText(value: unknown): string {
  return JSON.stringify(value).replace(
    /[\u0080-\uffff]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).toUpperCase().padStart(4, '0')}`,
  );
}

/**
 * The claims as an HTTP API's payload 2.0 puts them in `requestContext.authorizer.jwt.claims`: the
 * documented example shows string values only; numbers and booleans become their text, arrays and objects
 * their JSON (how API Gateway writes those is not documented).
 */
export function httpClaims(claims: JWTPayload): Record<string, string> {
  return Object.fromEntries(
    Object.entries(claims).map(([k, v]) => [
      k,
      typeof v === 'string' ? v : typeof v === 'object' ? JSON.stringify(v) : String(v),
    ]),
  );
}
