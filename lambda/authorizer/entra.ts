import { type AuthorizerConfig, isGuid } from './config.js';
import { TokenRejectedError } from './errors.js';
import type { DecodedJwt, JsonObject } from './jwt.js';

/** Audiences of Microsoft Graph: a token for them was never meant for this API. */
export const GRAPH_AUDIENCES: ReadonlySet<string> = new Set([
  '00000003-0000-0000-c000-000000000000',
  'https://graph.microsoft.com',
  'https://graph.microsoft.com/',
]);

/** Header parameters that point at a key: honouring any of them lets the token choose its own key. */
export const KEY_CARRYING_HEADERS = ['jku', 'x5u', 'jwk', 'x5c'] as const;

export type TokenVersion = '1.0' | '2.0';

/** The claims this project reads, typed after the Entra rules have been checked. */
export interface EntraClaims {
  readonly iss: string;
  readonly tid: string;
  readonly aud: string;
  readonly exp: number;
  readonly ver: TokenVersion;
  readonly oid: string | undefined;
  readonly sub: string | undefined;
  readonly scopes: readonly string[];
  readonly roles: readonly string[];
  readonly appId: string | undefined;
  readonly appOnly: boolean;
  readonly name: string | undefined;
  readonly preferredUsername: string | undefined;
}

/** What the key lookup needs: the key id (kid, or x5t for legacy v1 tokens) and the issuer it must serve. */
export interface EntraToken {
  readonly keyId: string;
  readonly claims: EntraClaims;
}

export type EntraRules = Pick<
  AuthorizerConfig,
  'tenant' | 'audiences' | 'clockSkewSeconds' | 'authorityHost' | 'v1IssuerHost'
>;

export function v2Issuer(tid: string, authorityHost: string): string {
  return `https://${authorityHost}/${tid}/v2.0`;
}

export function v1Issuer(tid: string, v1IssuerHost: string): string {
  return `https://${v1IssuerHost}/${tid}/`;
}

export function isTenantAllowed(tid: string, tenant: AuthorizerConfig['tenant']): boolean {
  if (tenant.mode === 'single') return tid === tenant.tenantId;
  return tenant.allowedTenants === 'any' || tenant.allowedTenants.has(tid);
}

const reject = (reason: ConstructorParameters<typeof TokenRejectedError>[0], message: string): never => {
  throw new TokenRejectedError(reason, message);
};

function optionalString(payload: JsonObject, claim: string): string | undefined {
  const value = payload[claim];
  if (value === undefined) return undefined;
  if (typeof value !== 'string') reject('malformed', `claim ${claim} is ${typeof value}; expected a string`);
  return value as string;
}

function numericDate(payload: JsonObject, claim: string, required: boolean): number | undefined {
  const value = payload[claim];
  if (value === undefined && !required) return undefined;
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    reject(
      'malformed',
      `claim ${claim} is ${value === undefined ? 'missing' : typeof value}; expected a NumericDate`,
    );
  }
  return value as number;
}

function checkHeader(header: JsonObject): string {
  if (header.alg !== 'RS256') {
    reject('unsupported_alg', `alg is ${JSON.stringify(header.alg)}; expected "RS256"`);
  }
  for (const name of KEY_CARRYING_HEADERS) {
    if (name in header)
      reject('forbidden_header', `header carries "${name}"; keys come only from the key set`);
  }
  if ('crit' in header)
    reject('forbidden_header', 'header carries "crit" extensions this verifier does not implement');
  if ('nonce' in header) {
    reject('graph_token', 'header carries a nonce: a Microsoft Graph token, which only Graph can verify');
  }
  const { kid, x5t } = header;
  // Legacy v1 tokens name their key by certificate thumbprint only; Entra's kid equals that thumbprint.
  const keyId = kid !== undefined ? kid : x5t;
  if (typeof keyId !== 'string' || keyId === '' || keyId.length > 128) {
    reject('unknown_key', 'header has no usable kid');
  }
  return keyId as string;
}

function readScopes(payload: JsonObject): string[] {
  const scp = optionalString(payload, 'scp');
  return scp === undefined ? [] : scp.split(' ').filter((s) => s !== '');
}

function readRoles(payload: JsonObject): string[] {
  const roles = payload.roles;
  if (roles === undefined) return [];
  if (!Array.isArray(roles) || roles.some((r) => typeof r !== 'string')) {
    return reject('malformed', 'claim roles is not an array of strings');
  }
  return roles as string[];
}

/**
 * Every Entra rule that can be judged without a key, cheapest first: a forged token costs no fetch, no key
 * import and no cache entry. Throws TokenRejectedError (401) with the reason.
 */
export function checkEntraToken(jwt: DecodedJwt, rules: EntraRules, nowSeconds: number): EntraToken {
  const keyId = checkHeader(jwt.header);
  const { payload } = jwt;

  const iss = optionalString(payload, 'iss');
  const tid = optionalString(payload, 'tid');
  if (tid === undefined || !isGuid(tid)) {
    reject('wrong_issuer', `tid is ${JSON.stringify(tid)}; expected a tenant GUID`);
  }
  const tenantId = tid as string;
  const version: TokenVersion | undefined =
    iss === v2Issuer(tenantId, rules.authorityHost)
      ? '2.0'
      : iss === v1Issuer(tenantId, rules.v1IssuerHost)
        ? '1.0'
        : undefined;
  if (version === undefined) {
    reject(
      'wrong_issuer',
      `iss is ${JSON.stringify(iss)}; expected ${v2Issuer(tenantId, rules.authorityHost)} or ${v1Issuer(tenantId, rules.v1IssuerHost)}`,
    );
  }
  if (!isTenantAllowed(tenantId, rules.tenant)) {
    reject(
      'tenant_not_allowed',
      rules.tenant.mode === 'single'
        ? `tid is ${tenantId}; expected ${rules.tenant.tenantId}`
        : `tid ${tenantId} is not on the allowed tenant list`,
    );
  }

  const aud = payload.aud;
  const audiences = typeof aud === 'string' ? [aud] : Array.isArray(aud) ? aud : undefined;
  if (audiences === undefined || audiences.length === 0 || audiences.some((a) => typeof a !== 'string')) {
    reject('malformed', 'claim aud is not a string or an array of strings');
  }
  const matched = (audiences as string[]).find((a) => rules.audiences.includes(a));
  if (matched === undefined) {
    const graph = (audiences as string[]).some((a) => GRAPH_AUDIENCES.has(a));
    reject(
      graph ? 'graph_token' : 'wrong_audience',
      `aud is ${JSON.stringify(aud)}; expected one of ${JSON.stringify(rules.audiences)}`,
    );
  }

  const exp = numericDate(payload, 'exp', true) as number;
  const nbf = numericDate(payload, 'nbf', false);
  numericDate(payload, 'iat', false);
  if (nowSeconds >= exp + rules.clockSkewSeconds) {
    reject('expired', `exp ${exp} is past (now ${Math.floor(nowSeconds)}, skew ${rules.clockSkewSeconds}s)`);
  }
  if (nbf !== undefined && nowSeconds + rules.clockSkewSeconds < nbf) {
    reject(
      'not_yet_valid',
      `nbf ${nbf} is in the future (now ${Math.floor(nowSeconds)}, skew ${rules.clockSkewSeconds}s)`,
    );
  }

  const scopes = readScopes(payload);
  const roles = readRoles(payload);
  if (scopes.length === 0 && roles.length === 0) {
    reject('not_an_access_token', 'the token has neither scp nor roles: an id token, not an access token');
  }

  const idtyp = optionalString(payload, 'idtyp');
  const oid = optionalString(payload, 'oid');
  const sub = optionalString(payload, 'sub');
  const appId =
    optionalString(payload, version === '1.0' ? 'appid' : 'azp') ?? optionalString(payload, 'appid');
  return {
    keyId,
    claims: {
      iss: iss as string,
      tid: tenantId,
      aud: matched as string,
      exp,
      ver: version as TokenVersion,
      oid,
      sub,
      scopes,
      roles,
      appId,
      // idtyp is the optional claim Microsoft recommends; without it, a token with no delegated scope is
      // an application acting as itself.
      appOnly: idtyp !== undefined ? idtyp === 'app' : scopes.length === 0,
      name: optionalString(payload, 'name'),
      preferredUsername:
        optionalString(payload, 'preferred_username') ??
        optionalString(payload, 'upn') ??
        optionalString(payload, 'unique_name'),
    },
  };
}
