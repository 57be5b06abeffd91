import type { AuthorizerConfig } from '../../lambda/authorizer/config.js';
import type { EntraClaims } from '../../lambda/authorizer/entra.js';

/*
 * An oracle for the Entra token rules, written from docs/token-rules.md's "What a token must be (else 401)" table and its
 * context section, never from entra.ts: what a header and payload earn under a configuration, before any
 * key is looked up. Property tests compare the authorizer with it.
 */

type Json = Readonly<Record<string, unknown>>;

/** Personal Microsoft accounts: in `common`, never in `organizations` (Microsoft identity platform docs). */
export const CONSUMERS = '9188040d-6c67-4c5b-b112-36a304b66dad';
/** Microsoft Graph's audiences, as Microsoft documents them; the retired Azure AD Graph's likewise. */
export const GRAPH_AUDIENCES = [
  'https://graph.microsoft.com',
  '00000003-0000-0000-c000-000000000000',
  'https://graph.windows.net',
];

const DATE_RANGE = 8.64e12;
const LOWER_GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

export type EntraVerdict = { reason: string } | { claims: Partial<EntraClaims> & { keyId: string } };

const isString = (v: unknown): v is string => typeof v === 'string';
const isDate = (v: unknown): v is number =>
  typeof v === 'number' && Number.isFinite(v) && Math.abs(v) <= DATE_RANGE;

/** docs/token-rules.md's table, rule by rule, in its order; each returns the reason when the token breaks it. */
export function entraVerdict(config: AuthorizerConfig, h: Json, c: Json, now: number): EntraVerdict {
  const skew = config.clockSkewSeconds;
  if (h.alg !== 'RS256') return { reason: 'unsupported_alg' };
  if (['jku', 'x5u', 'jwk', 'x5c', 'crit'].some((k) => k in h)) return { reason: 'forbidden_header' };
  if ('nonce' in h) return { reason: 'graph_token' };
  // kid, or for legacy tokens without one, x5t: a non-empty string of at most 128 characters.
  const keyId = 'kid' in h ? h.kid : h.x5t;
  if (!isString(keyId) || keyId === '' || keyId.length > 128) return { reason: 'unknown_key' };
  // Claims read as strings must be strings when present: anything else is malformed, not a mismatch.
  if ((c.iss !== undefined && !isString(c.iss)) || (c.tid !== undefined && !isString(c.tid)))
    return { reason: 'malformed' };
  if (!isString(c.tid) || !LOWER_GUID.test(c.tid)) return { reason: 'wrong_issuer' };
  const v2 = `https://${config.authorityHost}/${c.tid}/v2.0`;
  const v1 = `https://${config.v1IssuerHost}/${c.tid}/`;
  if (c.iss !== v2 && c.iss !== v1) return { reason: 'wrong_issuer' };
  const ver = c.iss === v2 ? '2.0' : '1.0';
  const t = config.tenant;
  const tenantOk =
    t.mode === 'single'
      ? c.tid === t.tenantId
      : !(t.tenantId === 'organizations' && c.tid === CONSUMERS) &&
        (t.allowedTenants === 'any' || t.allowedTenants.has(c.tid));
  if (!tenantOk) return { reason: 'tenant_not_allowed' };
  const auds = isString(c.aud) ? [c.aud] : Array.isArray(c.aud) ? c.aud : [];
  if (auds.length === 0 || !auds.every(isString)) return { reason: 'malformed' };
  const aud = auds.find((a) => config.audiences.includes(a));
  if (aud === undefined) {
    const graph = auds.some((a) => GRAPH_AUDIENCES.includes(a.toLowerCase().replace(/\/$/, '')));
    return { reason: graph ? 'graph_token' : 'wrong_audience' };
  }
  if (!isDate(c.exp) || (c.iat !== undefined && !isDate(c.iat))) return { reason: 'malformed' };
  if (!(now < c.exp + skew)) return { reason: 'expired' };
  if (c.nbf !== undefined && !isDate(c.nbf)) return { reason: 'malformed' };
  if (c.nbf !== undefined && now + skew < c.nbf) return { reason: 'not_yet_valid' };
  const client = ver === '2.0' ? c.azp : c.appid;
  if (client !== undefined && !isString(client)) return { reason: 'malformed' };
  if (!isString(client) || client === '') return { reason: 'not_an_access_token' };
  if (c.scp !== undefined && !isString(c.scp)) return { reason: 'malformed' };
  if (c.roles !== undefined && !(Array.isArray(c.roles) && c.roles.every(isString)))
    return { reason: 'malformed' };
  if (c.groups !== undefined && !(Array.isArray(c.groups) && c.groups.every(isString)))
    return { reason: 'malformed' };
  // The context's claims: strings when present (the username falls back only while none was found).
  for (const claim of ['idtyp', 'oid', 'sub', 'name']) {
    if (c[claim] !== undefined && !isString(c[claim])) return { reason: 'malformed' };
  }
  let preferredUsername: string | undefined;
  for (const claim of ['preferred_username', 'upn', 'unique_name']) {
    if (preferredUsername !== undefined) break;
    if (c[claim] !== undefined && !isString(c[claim])) return { reason: 'malformed' };
    preferredUsername = c[claim] as string | undefined;
  }
  const scopes = isString(c.scp) ? c.scp.split(/\s+/).filter(Boolean) : [];
  const roles = ((c.roles as string[] | undefined) ?? []).filter((r) => r.trim() !== '');
  // App-only: idtyp when present; else Microsoft's "isAppOnlyToken = oid == sub"
  // (scenario-protected-web-api-verification-scope-app-roles), for a token without scp.
  const appOnly =
    c.idtyp !== undefined ? c.idtyp === 'app' : scopes.length === 0 && isString(c.oid) && c.oid === c.sub;
  return {
    claims: {
      keyId,
      iss: c.iss,
      tid: c.tid,
      aud,
      exp: c.exp,
      ver,
      oid: c.oid as string | undefined,
      sub: c.sub as string | undefined,
      scopes,
      roles,
      appId: client,
      appOnly,
      guest: guestOf(c, appOnly, config),
      groups: ((c.groups as string[] | undefined) ?? []).map((g) => g.toLowerCase()),
      // Overage: no groups, and _claim_names naming groups (or hasgroups: true), per docs/permissions-and-caching.md.
      groupsOverage:
        c.groups === undefined &&
        ((typeof c._claim_names === 'object' &&
          c._claim_names !== null &&
          Object.hasOwn(c._claim_names, 'groups')) ||
          c.hasgroups === true),
      name: c.name as string | undefined,
      preferredUsername,
    },
  };
}

/**
 * The hosts Microsoft documents Entra tokens being issued from (national clouds: authentication-national-cloud,
 * and Microsoft's answer on the sovereign clouds' token issuers); External ID's are `*.ciamlogin.com`.
 */
const ENTRA_HOSTS = [
  'login.microsoftonline.com',
  'sts.windows.net',
  'login.microsoftonline.us',
  'login.partner.microsoftonline.cn',
  'login.chinacloudapi.cn',
  'sts.chinacloudapi.cn',
];

/**
 * A guest, as docs/permissions-and-caching.md quotes Entra: `acct` 1 a guest, 0 a member; without it, an `idp`
 * that is not `iss` and is no issuer URL of the token's own tenant on an Entra host (Microsoft's, or the
 * configured login host). An application is never a guest.
 */
function guestOf(c: Json, appOnly: boolean, config: AuthorizerConfig): boolean {
  if (appOnly) return false;
  if (c.acct === 1 || c.acct === 0) return c.acct === 1;
  if (!isString(c.idp) || c.idp === c.iss) return false;
  const match = /^https:\/\/([^/]+)\/([^/]*)/i.exec(c.idp);
  if (match === null) return true;
  const [, host = '', tenant = ''] = match;
  const entra =
    ENTRA_HOSTS.includes(host) ||
    host.endsWith('.ciamlogin.com') ||
    host === config.authorityHost ||
    host === config.v1IssuerHost;
  return !(entra && tenant.toLowerCase() === c.tid);
}
