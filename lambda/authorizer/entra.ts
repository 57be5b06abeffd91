import { isEntraIssuerHost, v2IssuersOf } from './clouds.js';
import { type AuthorizerConfig, isGuid } from './config.js';
import { TokenRejectedError } from './errors.js';
import { headerKeyId } from './jwt.js';
import type { DecodedJwt, JsonObject } from './jwt-model.js';
import { isGraphAudience } from './microsoft-apis.js';
import type { RejectionReason } from './reasons.js';
import { preview } from './safe-text.js';
import { CONSUMERS_TENANT_ID } from './tenants.js';

/** Header parameters that point at a key: honouring any of them lets the token choose its own key. */
const KEY_CARRYING_HEADERS = ['jku', 'x5u', 'jwk', 'x5c'] as const;

type TokenVersion = '1.0' | '2.0';

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
  /** Group object ids from `groups` (lower-case); empty when the token has none or they did not fit. */
  readonly groups: readonly string[];
  /**
   * Group overage: the user's groups did not fit in the token, so Entra left `groups` out and points to
   * Microsoft Graph instead (`_claim_names.groups`, or `hasgroups` in v1 implicit-flow tokens).
   */
  readonly groupsOverage: boolean;
  readonly appId: string | undefined;
  readonly appOnly: boolean;
  /** A guest (B2B) user of the tenant, by what Entra documents (see `isGuest`). */
  readonly guest: boolean;
  readonly name: string | undefined;
  readonly preferredUsername: string | undefined;
}

/** What the key lookup needs: the key id (kid, or x5t for legacy v1 tokens) and the verified-to-be claims. */
interface EntraToken {
  readonly keyId: string;
  readonly claims: EntraClaims;
}

export type EntraRules = Pick<
  AuthorizerConfig,
  'tenant' | 'audiences' | 'clockSkewSeconds' | 'authorityHost' | 'v1IssuerHost'
>;

function v1Issuer(tid: string, v1IssuerHost: string): string {
  return `https://${v1IssuerHost}/${tid}/`;
}

/** The tenant rule: the single tenant, or one on the multi-tenant API's list (or any, when it accepts all). */
export function isTenantAllowed(tid: string, tenant: AuthorizerConfig['tenant']): boolean {
  if (tenant.mode === 'single') return tid === tenant.tenantId;
  if (tenant.tenantId === 'organizations' && tid === CONSUMERS_TENANT_ID) return false;
  return tenant.allowedTenants === 'any' || tenant.allowedTenants.has(tid);
}

const reject = (reason: RejectionReason, message: string): never => {
  throw new TokenRejectedError(reason, message);
};

/** A rule that cannot be judged because a rule it builds on failed (only `explain` shows these). */
class RuleSkipped extends Error {
  override readonly name = 'RuleSkipped';
}

function optionalString(payload: JsonObject, claim: string): string | undefined {
  const value = payload[claim];
  if (value === undefined) return undefined;
  if (typeof value !== 'string') reject('malformed', `claim ${claim} is ${typeof value}; expected a string`);
  return value as string;
}

/** The NumericDates a JavaScript date can hold (±8.64e15 ms); no genuine token comes near either end. */
const MAX_NUMERIC_DATE = 8.64e12;

function numericDate(payload: JsonObject, claim: string, required: boolean): number | undefined {
  const value = payload[claim];
  if (value === undefined && !required) return undefined;
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    reject(
      'malformed',
      `claim ${claim} is ${value === undefined ? 'missing' : typeof value}; expected a NumericDate`,
    );
  }
  // Past this, the token is forged, and date arithmetic downstream (aws-jwt-verify's messages) would throw.
  if (Math.abs(value as number) > MAX_NUMERIC_DATE) {
    reject('malformed', `claim ${claim} is ${value}; no date lies that far from 1970`);
  }
  return value as number;
}

/** What the rules learn about a token as they go; later rules build on earlier ones. */
interface Findings {
  keyId?: string;
  tid?: string;
  version?: TokenVersion;
  aud?: string;
  exp?: number;
  appId?: string;
  scopes?: string[];
  roles?: string[];
  groups?: string[];
}

interface RuleInput {
  readonly jwt: DecodedJwt;
  readonly rules: EntraRules;
  readonly nowSeconds: number;
  readonly found: Findings;
}

interface EntraRule {
  /** What the rule demands, as `npm run explain` lists it. */
  readonly name: string;
  /** Throws TokenRejectedError when broken, RuleSkipped when it cannot be judged. */
  readonly check: (input: RuleInput) => void;
}

const needs = <T>(value: T | undefined, what: string): T => {
  if (value === undefined) throw new RuleSkipped(`needs ${what}`);
  return value;
};

/** Every Entra rule that can be judged without a key, cheapest first. */
const ENTRA_RULES: readonly EntraRule[] = [
  {
    name: 'alg is RS256',
    check: ({ jwt }) => {
      if (jwt.header.alg !== 'RS256')
        reject('unsupported_alg', `alg is ${preview(jwt.header.alg)}; expected "RS256"`);
    },
  },
  {
    name: 'no key in the header (jku, x5u, jwk, x5c) and no crit',
    check: ({ jwt }) => {
      for (const name of KEY_CARRYING_HEADERS) {
        if (name in jwt.header)
          reject('forbidden_header', `header carries "${name}"; keys come only from the key set`);
      }
      if ('crit' in jwt.header)
        reject('forbidden_header', 'header carries "crit" extensions this verifier does not implement');
    },
  },
  {
    name: 'no nonce in the header (Microsoft Graph token)',
    check: ({ jwt }) => {
      if ('nonce' in jwt.header) {
        reject('graph_token', 'header carries a nonce: a Microsoft Graph token, which only Graph can verify');
      }
    },
  },
  {
    name: 'kid (or x5t) names a key',
    check: ({ jwt, found }) => {
      const keyId = headerKeyId(jwt.header);
      if (keyId === undefined) reject('unknown_key', 'header has no usable kid');
      found.keyId = keyId;
    },
  },
  {
    name: 'iss is the Entra issuer (v1 or v2) of the token tid',
    check: ({ jwt, rules, found }) => {
      const iss = optionalString(jwt.payload, 'iss');
      const tid = optionalString(jwt.payload, 'tid');
      if (tid === undefined || !isGuid(tid))
        reject('wrong_issuer', `tid is ${preview(tid)}; expected a tenant GUID`);
      const tenantId = tid as string;
      found.tid = tenantId;
      const v2 = v2IssuersOf(tenantId, rules.authorityHost);
      const v1 = rules.v1IssuerHost === undefined ? undefined : v1Issuer(tenantId, rules.v1IssuerHost);
      if (iss !== undefined && v2.includes(iss)) found.version = '2.0';
      else if (v1 !== undefined && iss === v1) found.version = '1.0';
      else
        reject(
          'wrong_issuer',
          `iss is ${preview(iss)}; expected ${[...v2, ...(v1 === undefined ? [] : [v1])].join(' or ')}`,
        );
    },
  },
  {
    name: 'tid is the configured tenant or on the allow-list',
    check: ({ rules, found }) => {
      const tid = needs(found.tid, 'a valid tid');
      if (!isTenantAllowed(tid, rules.tenant)) {
        reject(
          'tenant_not_allowed',
          rules.tenant.mode === 'single'
            ? `tid is ${tid}; expected ${rules.tenant.tenantId}`
            : tid === CONSUMERS_TENANT_ID && rules.tenant.tenantId === 'organizations'
              ? `tid ${tid} is the personal-account tenant, outside "organizations"`
              : `tid ${tid} is not on the allowed tenant list`,
        );
      }
    },
  },
  {
    name: 'aud is one of the configured audiences',
    check: ({ jwt, rules, found }) => {
      const aud = jwt.payload.aud;
      const audiences = typeof aud === 'string' ? [aud] : Array.isArray(aud) ? aud : undefined;
      if (audiences === undefined || audiences.length === 0 || audiences.some((a) => typeof a !== 'string')) {
        reject('malformed', 'claim aud is not a string or an array of strings');
      }
      const matched = (audiences as string[]).find((a) => rules.audiences.includes(a));
      if (matched === undefined) {
        const graph = (audiences as string[]).some(isGraphAudience);
        reject(
          graph ? 'graph_token' : 'wrong_audience',
          `aud is ${preview(aud)}; expected one of ${JSON.stringify(rules.audiences)}`,
        );
      }
      found.aud = matched;
    },
  },
  {
    name: 'exp is present and not past (with the clock skew)',
    check: ({ jwt, rules, nowSeconds, found }) => {
      const exp = numericDate(jwt.payload, 'exp', true) as number;
      numericDate(jwt.payload, 'iat', false);
      found.exp = exp;
      if (nowSeconds >= exp + rules.clockSkewSeconds) {
        reject(
          'expired',
          `exp ${exp} is past (now ${Math.floor(nowSeconds)}, skew ${rules.clockSkewSeconds}s)`,
        );
      }
    },
  },
  {
    name: 'nbf is not in the future (with the clock skew)',
    check: ({ jwt, rules, nowSeconds }) => {
      const nbf = numericDate(jwt.payload, 'nbf', false);
      if (nbf !== undefined && nowSeconds + rules.clockSkewSeconds < nbf) {
        reject(
          'not_yet_valid',
          `nbf ${nbf} is in the future (now ${Math.floor(nowSeconds)}, skew ${rules.clockSkewSeconds}s)`,
        );
      }
    },
  },
  {
    name: 'azp (v2) or appid (v1) present: an access token, not an id token',
    check: ({ jwt, found }) => {
      // Entra puts azp (v2) or appid (v1) into every access token and never into an id token; scp or roles
      // cannot tell them apart, since id tokens carry the user's app roles too.
      const version = needs(found.version, 'a valid iss');
      const claim = version === '2.0' ? 'azp' : 'appid';
      const client = optionalString(jwt.payload, claim);
      if (client === undefined || client === '') {
        reject(
          'not_an_access_token',
          `the token has no ${claim} (ver ${version}): an id token, not an access token`,
        );
      }
      found.appId = client;
    },
  },
  {
    name: 'scp a space-separated string and roles an array of strings, if present',
    check: ({ jwt, found }) => {
      const scp = optionalString(jwt.payload, 'scp');
      const roles = jwt.payload.roles;
      if (roles !== undefined && (!Array.isArray(roles) || roles.some((r) => typeof r !== 'string'))) {
        reject('malformed', 'claim roles is not an array of strings');
      }
      // A token with neither is an access token all the same; it is refused with a 403 (no_scope_or_role).
      // Blank names (a tab, a no-break space) grant nothing: they must not count as "has a scope or role".
      found.scopes = scp === undefined ? [] : scp.split(/\s+/).filter((s) => s !== '');
      found.roles = ((roles as string[] | undefined) ?? []).filter((r) => r.trim() !== '');
    },
  },
  {
    name: 'groups an array of strings, if present',
    check: ({ jwt, found }) => {
      const groups = jwt.payload.groups;
      if (groups !== undefined && (!Array.isArray(groups) || groups.some((g) => typeof g !== 'string'))) {
        reject('malformed', 'claim groups is not an array of strings');
      }
      found.groups = ((groups as string[] | undefined) ?? []).map((g) => g.toLowerCase());
    },
  },
];

/**
 * Every Entra rule that can be judged without a key, cheapest first: a forged token costs no fetch, no key
 * import and no cache entry. Throws TokenRejectedError (401) with the reason of the first broken rule.
 */
export function checkEntraToken(jwt: DecodedJwt, rules: EntraRules, nowSeconds: number): EntraToken {
  const found: Findings = {};
  const input: RuleInput = { jwt, rules, nowSeconds, found };
  for (const rule of ENTRA_RULES) rule.check(input);
  return { keyId: found.keyId as string, claims: readClaims(jwt.payload, found, rules) };
}

/** Each rule judged on its own, for `npm run explain`: passed, the rejection, or why it could not be judged. */
export function reportEntraRules(
  jwt: DecodedJwt,
  rules: EntraRules,
  nowSeconds: number,
): { rule: string; outcome: 'pass' | 'fail' | 'skipped'; reason?: RejectionReason; detail?: string }[] {
  const input: RuleInput = { jwt, rules, nowSeconds, found: {} };
  return ENTRA_RULES.map((rule) => {
    try {
      rule.check(input);
      return { rule: rule.name, outcome: 'pass' as const };
    } catch (err) {
      if (err instanceof TokenRejectedError) {
        return { rule: rule.name, outcome: 'fail' as const, reason: err.reason, detail: err.message };
      }
      return { rule: rule.name, outcome: 'skipped' as const, detail: (err as Error).message };
    }
  });
}

/**
 * Group overage, as Entra marks it: `_claim_names` names `groups` (its value then lies at the Graph endpoint
 * of `_claim_sources`), or an implicit-flow token carries `hasgroups: true`. Either way `groups` is left
 * out: past 200 groups in a JWT (https://learn.microsoft.com/troubleshoot/entra/entra-id/app-integration/get-signed-in-users-groups-in-access-token).
 */
function groupsOverage(payload: JsonObject): boolean {
  const names = payload._claim_names;
  const named = typeof names === 'object' && names !== null && !Array.isArray(names) && 'groups' in names;
  return payload.groups === undefined && (named || payload.hasgroups === true);
}

/**
 * Is an identity provider URL an issuer of this tenant (`https://sts.windows.net/{tid}/`, `.../{tid}/v2.0`):
 * the tenant in its path, on an Entra host (Microsoft's, or the configured login host)? A federated
 * partner's IdP names its own issuer URI, whose path may say anything.
 */
function namesTenant(idp: string, tid: string, rules: EntraRules): boolean {
  try {
    const { host, pathname } = new URL(idp);
    const entraHost = isEntraIssuerHost(host) || host === rules.authorityHost || host === rules.v1IssuerHost;
    return entraHost && pathname.split('/')[1]?.toLowerCase() === tid;
  } catch {
    return false;
  }
}

/**
 * A guest (B2B) user, by the two signs Entra documents. The optional claim `acct` is 1 for a guest and 0
 * for a member (optional claims reference), and decides when present. Without it, `idp` "is identical to
 * the value of the Issuer claim unless the user account isn't in the same tenant as the issuer, such as
 * guests" (access token claims reference): an `idp` other than `iss` that names no issuer of the token's
 * own tenant (`live.com`, another tenant's STS) is a guest's. An application acting as itself is no user.
 */
function isGuest(payload: JsonObject, tid: string, appOnly: boolean, rules: EntraRules): boolean {
  if (appOnly) return false;
  if (payload.acct === 1) return true;
  if (payload.acct === 0) return false;
  const idp = payload.idp;
  return typeof idp === 'string' && idp !== payload.iss && !namesTenant(idp, tid, rules);
}

function readClaims(payload: JsonObject, found: Findings, rules: EntraRules): EntraClaims {
  const version = found.version as TokenVersion;
  const scopes = found.scopes as string[];
  const idtyp = optionalString(payload, 'idtyp');
  const oid = optionalString(payload, 'oid');
  const sub = optionalString(payload, 'sub');
  // idtyp is the optional claim Microsoft recommends; without it, Microsoft's test is `oid == sub` (an app's
  // token is about the app itself). A user's token without scp (app roles only) keeps its pairwise sub: no
  // app's, so the guest rule still applies to it.
  const appOnly =
    idtyp !== undefined ? idtyp === 'app' : scopes.length === 0 && oid !== undefined && oid === sub;
  return {
    iss: payload.iss as string,
    tid: found.tid as string,
    aud: found.aud as string,
    exp: found.exp as number,
    ver: version,
    oid,
    sub,
    scopes,
    roles: found.roles as string[],
    groups: found.groups as string[],
    groupsOverage: groupsOverage(payload),
    appId: found.appId,
    appOnly,
    guest: isGuest(payload, found.tid as string, appOnly, rules),
    name: optionalString(payload, 'name'),
    preferredUsername:
      optionalString(payload, 'preferred_username') ??
      optionalString(payload, 'upn') ??
      optionalString(payload, 'unique_name'),
  };
}
