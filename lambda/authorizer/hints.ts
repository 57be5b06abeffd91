import {
  B2C_REFUSAL,
  cloudOfAuthority,
  cloudsOfV1Issuer,
  isB2cHost,
  isExternalIdHost,
  v2IssuersOf,
} from './clouds.js';
import type { PermissionRule } from './config.js';
import { type Denial, denialText } from './denials.js';
import { REASONS, type Reason } from './reasons.js';
import { clip, isoTime, preview, redactUrl } from './safe-text.js';
import { CONSUMERS_TENANT_ID } from './tenants.js';

/** What a hint may draw on: the unverified token (never logged itself), the configuration, the clock. */
export interface HintFacts {
  readonly header?: Readonly<Record<string, unknown>>;
  readonly payload?: Readonly<Record<string, unknown>>;
  readonly detail?: string;
  /** Why a valid token was refused (403), as the route rules found it. */
  readonly denial?: Denial | undefined;
  readonly nowSeconds: number;
  readonly config: {
    readonly tenant:
      | { readonly mode: 'single'; readonly tenantId: string }
      | { readonly mode: 'multi'; readonly allowedTenants: ReadonlySet<string> | 'any' };
    readonly audiences: readonly string[];
    readonly jwksUri: string;
    readonly authorityHost: string;
    /** Undefined for External ID, which has no v1 issuer; absent where the caller does not know it. */
    readonly v1IssuerHost?: string | undefined;
    readonly clockSkewSeconds: number;
    /** Where a multi-tenant list is read from at run time, if it is. */
    readonly tenantsParameter?: { readonly name: string };
  };
}

const GUID_IN = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/i;
const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);
/** An untrusted claim as a hint shows it: a string clipped, anything else previewed. */
const shown = (v: unknown, max = 100): string => (typeof v === 'string' ? clip(v, max) : preview(v, max));

/** "3 hours ago" / "in 5 minutes": for hints and `npm run explain`. */
export function relativeTime(seconds: number, nowSeconds: number): string {
  const delta = Math.round(seconds - nowSeconds);
  if (!Number.isFinite(delta)) return delta < 0 ? 'in the infinite past' : 'in the infinite future';
  const abs = Math.abs(delta);
  const units: [number, string][] = [
    [365 * 86400, 'year'],
    [30 * 86400, 'month'],
    [86400, 'day'],
    [3600, 'hour'],
    [60, 'minute'],
    [1, 'second'],
  ];
  const [size, unit] = units.find(([s]) => abs >= s) ?? [1, 'second'];
  const n = Math.floor(abs / size);
  const text = `${n} ${unit}${n === 1 ? '' : 's'}`;
  return delta < 0 ? `${text} ago` : delta > 0 ? `in ${text}` : 'now';
}

/** How a hint names a claim the signature has not verified (every 401 hint): never as a value to trust. */
const UNVERIFIED = "the token's unverified";

function audienceHint(facts: HintFacts): string {
  const aud = shown(facts.payload?.aud);
  const ver = shown(facts.payload?.ver ?? '?', 10);
  const configured = facts.config.audiences.join(', ');
  const base = `${UNVERIFIED} aud is ${aud} (ver ${ver}); configured audiences are ${configured}`;
  const guid = GUID_IN.exec(aud)?.[0]?.toLowerCase();
  const known = guid !== undefined && facts.config.audiences.some((a) => a.toLowerCase().includes(guid));
  // Only forms of an audience already configured are named: the client id there is the operator's own.
  if (known && aud.startsWith('api://'))
    return `${base}: a v1 token for this API carries api://<client id>: add api://${guid} or set accessTokenAcceptedVersion to 2 in the app manifest`;
  if (known && aud.startsWith('spn:'))
    return `${base}: add spn:${guid} (the legacy v1 form of the client id)`;
  if (known) return `${base}: add ${guid} (v2 tokens carry the client id as aud)`;
  return `${base}: the client asked for a token for another API; it must request your API's scope (e.g. ${facts.config.audiences[0]}/.default). If this is your API, add its App ID URI as its app registration shows it, not as this token claims it`;
}

function issuerHint(facts: HintFacts): string {
  const iss = str(facts.payload?.iss);
  const tid = str(facts.payload?.tid);
  if (tid === undefined) {
    return `the token has no tid: personal Microsoft account (consumers) or non-Entra tokens are not accepted; ${UNVERIFIED} iss is ${shown(iss)}`;
  }
  if (iss === undefined) return 'the token has no iss claim';
  let host: string | undefined;
  try {
    host = new URL(iss).host;
  } catch {
    return `${UNVERIFIED} iss ${shown(iss)} is not a URL`;
  }
  if (iss.includes('{tenantid}'))
    return 'iss is the {tenantid} template itself: no Entra token carries it, this one is forged';
  if (isB2cHost(host)) return `${UNVERIFIED} iss ${shown(iss)}: ${B2C_REFUSAL}`;
  if (isExternalIdHost(host)) {
    if (!iss.endsWith('/v2.0'))
      return `${UNVERIFIED} iss ${shown(iss)} is a v1 issuer of an External ID tenant: External ID documents only v2 issuers; set "accessTokenAcceptedVersion": 2 in the API's app manifest`;
    if (!isExternalIdHost(facts.config.authorityHost))
      return `${UNVERIFIED} iss ${shown(iss)} is an External ID tenant's: set AZURE_AUTHORITY_HOST to that tenant's <subdomain>.ciamlogin.com (and AZURE_TENANT_ID to its tenant ID as its admins give it, not as this token claims it)`;
  }
  if (!iss.toLowerCase().includes(tid.toLowerCase()))
    return `${UNVERIFIED} iss names another tenant than its tid ${shown(tid)}: forged or mis-minted`;
  // The clouds whose issuer this host is (sts.windows.net is two clouds' v1 issuer host).
  const authority = cloudOfAuthority(host);
  const owners = authority !== undefined ? [authority] : cloudsOfV1Issuer(host);
  const configured = cloudOfAuthority(facts.config.authorityHost);
  const owner = owners[0];
  if (owner !== undefined && !owners.some((c) => c === configured)) {
    // The host to set comes from Microsoft's documented list of clouds, not from the token.
    return `${UNVERIFIED} iss host ${shown(host)} is ${owner.name}'s: if your API is registered in ${owner.name}, set AZURE_AUTHORITY_HOST=${owner.authorityHosts[0]} (its v1 issuer host follows)`;
  }
  if (owner === undefined && host !== facts.config.authorityHost) {
    return `${UNVERIFIED} iss host is ${shown(host)}, not ${facts.config.authorityHost}: if your API is in a sovereign cloud, set AZURE_AUTHORITY_HOST to that cloud's login host as its documentation or discovery document gives it, not as this token claims it (and AZURE_V1_ISSUER_HOST for its v1 tokens)`;
  }
  // The issuers the configuration accepts, as the rules derive them (an External ID tenant has no v1 one).
  const { authorityHost, v1IssuerHost } = facts.config;
  const v1 = isExternalIdHost(authorityHost)
    ? ''
    : ` or ${v1IssuerHost === undefined ? 'the v1 issuer' : `https://${v1IssuerHost}/<tid>/`}`;
  return `${UNVERIFIED} iss is ${shown(iss)}; expected ${v2IssuersOf('<tid>', authorityHost).join(' or ')}${v1}, <tid> being its tid ${shown(tid)}`;
}

function hostOf(uri: string): string {
  try {
    return new URL(uri).host;
  } catch {
    return 'the key host';
  }
}

const payloadOf = (facts: HintFacts) => facts.payload ?? {};
const headerOf = (facts: HintFacts) => facts.header ?? {};
const exampleScope = (facts: HintFacts) => `${facts.config.audiences[0]}/.default`;

function malformedHint(facts: HintFacts): string {
  // The claim rules name the claim; anything else is the header or the JWT's encoding.
  return facts.detail?.startsWith('claim ')
    ? `${clip(facts.detail, 200)}: Entra ID never issues such a token; it is forged or corrupted`
    : REASONS.malformed.hint;
}

function graphTokenHint(facts: HintFacts): string {
  const aud = shown(str(payloadOf(facts).aud) ?? '?');
  const why = `${'nonce' in headerOf(facts) ? 'nonce header, ' : ''}${UNVERIFIED} aud ${aud}`;
  return `this is a Microsoft Graph token (${why}): request a token for your API's scope (e.g. ${exampleScope(facts)}) instead`;
}

function tenantHint(facts: HintFacts): string {
  const tid = shown(str(payloadOf(facts).tid));
  if (tid === CONSUMERS_TENANT_ID && facts.config.tenant.mode === 'multi') {
    return 'a personal Microsoft account token: "organizations" admits work and school accounts only; use AZURE_TENANT_ID=common (the construct prop tenantId, -c tenantId) to admit personal accounts too';
  }
  return facts.config.tenant.mode === 'single'
    ? `${UNVERIFIED} tid is ${tid}; the API is single-tenant for ${facts.config.tenant.tenantId}: to admit another tenant, set AZURE_TENANT_ID=organizations and AZURE_ALLOWED_TENANTS=${facts.config.tenant.tenantId},<that tenant's ID, as its admins give it, not as a token claims it> (the construct props tenantId and allowedTenants, -c tenantId -c allowedTenants)`
    : `${UNVERIFIED} tid ${tid} is not on ${facts.config.tenantsParameter === undefined ? 'AZURE_ALLOWED_TENANTS (the construct prop allowedTenants, -c allowedTenants)' : `the list in the SSM parameter ${facts.config.tenantsParameter.name}`}: if a tenant should call, add its tenant ID as its admins give it, not as a token claims it`;
}

function expiredHint(facts: HintFacts): string {
  const exp = payloadOf(facts).exp;
  return typeof exp !== 'number'
    ? REASONS.expired.hint
    : `the token expired at ${isoTime(exp)} (${relativeTime(exp, facts.nowSeconds)}, ${facts.config.clockSkewSeconds}s skew allowed): the client must get a new one`;
}

function notYetValidHint(facts: HintFacts): string {
  const nbf = payloadOf(facts).nbf;
  return typeof nbf !== 'number'
    ? REASONS.not_yet_valid.hint
    : `nbf is ${isoTime(nbf)} (${relativeTime(nbf, facts.nowSeconds)}), beyond the ${facts.config.clockSkewSeconds}s skew: check the clocks`;
}

function idTokenHint(facts: HintFacts): string {
  const p = payloadOf(facts);
  const claim = p.ver === '1.0' ? 'appid' : 'azp';
  const roles =
    Array.isArray(p.roles) && p.roles.length > 0 ? '; its roles do not make it an access token' : '';
  return `id token (ver ${shown(p.ver ?? '?', 10)}, no ${claim}${roles}): the client sent its id token; it must send the access token it requested for your API's scope (e.g. ${exampleScope(facts)})`;
}

function clientAppHint(facts: HintFacts): string {
  const p = payloadOf(facts);
  const v1 = p.ver === '1.0';
  const app = shown(str(v1 ? p.appid : p.azp) ?? '<none>', 60);
  const onRoute = facts.denial?.kind === 'route_client_app';
  const where = onRoute
    ? "that route's clientApps in the route permissions"
    : 'AZURE_ALLOWED_CLIENT_APPS (the construct prop allowedClientApps, -c allowedClientApps)';
  return `the calling app is ${app} (claim ${v1 ? 'appid' : 'azp'}, ver ${shown(p.ver ?? '?', 10)}), which may not call this ${onRoute ? 'route' : 'API'}: if it should, add ${app} to ${where}`;
}

function noScopeOrRoleHint(facts: HintFacts): string {
  const p = payloadOf(facts);
  const app = shown(str(p.azp) ?? str(p.appid) ?? '<client id>');
  if (p.idtyp !== undefined && p.idtyp !== 'app') {
    return `a delegated token without scp: the client app ${app} must request a scope of this API (e.g. ${facts.config.audiences[0]}/<scope>)`;
  }
  return `app-only token of app ${app} with no roles: any app in the tenant can get one unless assignment is required. Assign an app role of this API to app ${app} (its API permissions > Application permissions, then admin consent), or set "Assignment required" on this API's enterprise application`;
}

function guestHint(facts: HintFacts): string {
  const p = payloadOf(facts);
  const sign =
    p.acct === 1
      ? 'its acct claim is 1'
      : `its idp ${shown(str(p.idp) ?? '?')} is not the issuer of tenant ${shown(str(p.tid) ?? '?')}`;
  return `the user is a guest (B2B) of the tenant (${sign}), and guests are refused (AZURE_GUEST_USERS=refuse, the construct prop guestUsers): if guests may call this API, set guestUsers to 'allow' and grant them scopes or app roles as for members; otherwise nothing to fix`;
}

function unknownKeyHint(facts: HintFacts): string {
  const h = headerOf(facts);
  const kid = str(h.kid) ?? str(h.x5t);
  if (kid === undefined) return 'the header names no key (kid or x5t)';
  // Custom signing keys are the API's own app's: its client id, never the caller's azp/appid.
  const clientId = facts.config.audiences.map((a) => GUID_IN.exec(a)?.[0]).find((g) => g !== undefined);
  return `${UNVERIFIED} kid ${shown(kid, 60)} is not in the key set at ${redactUrl(facts.config.jwksUri)}: the token is from another cloud or tenant, or your API's app has custom signing keys (then set AZURE_JWKS_URI to the key URL with ?appid=${clientId?.toLowerCase() ?? "<your API's client id>"})`;
}

/** What fixes a missing scope or role: consent for a user, an app role for an app acting as itself. */
function grantFix(appOnly: boolean, needs: PermissionRule | undefined, where: 'API' | 'route'): string {
  if (!appOnly) {
    // A rule of roles only admits no scope: consenting one would not help.
    if (needs !== undefined && needs.scopes.length === 0 && needs.roles.length > 0)
      return `assign the app role to the user (the API's enterprise application > Users and groups): the ${where} admits no scope`;
    return 'grant and consent the scope, or assign the app role to the user';
  }
  if (needs !== undefined && needs.roles.length === 0 && needs.scopes.length > 0) {
    return where === 'API'
      ? 'an app-only token never carries a scope, and the API admits no app role: call it with a user (delegated) token, or add an app role to AZURE_REQUIRED_ROLES (the construct prop requiredRoles)'
      : 'an app-only token never carries a scope, and this route admits no app role: call it with a user (delegated) token, or add an app role to its rule';
  }
  return `assign the app role the ${where} needs to the calling app (API permissions > Application permissions, then admin consent)`;
}

function permissionHint(facts: HintFacts): string {
  const p = payloadOf(facts);
  const scp = clip(str(p.scp) ?? '', 100);
  const roles = Array.isArray(p.roles)
    ? clip(p.roles.filter((r) => typeof r === 'string').join(' '), 100)
    : '';
  const denial = facts.denial;
  // The path, not the token, is the problem: no grant helps.
  if (denial?.kind === 'trailing_slash') {
    return `${clip(denial.request, 200)} ends in "/": route permissions refuse such paths whatever the token carries; call it without the trailing slash`;
  }
  if (denial?.kind === 'policy_deny') {
    return `${clip(denialText(denial), 300)}: grant this caller that route too, or declare the routes so that no {param} route has a route this caller may not call below it`;
  }
  if (denial?.kind === 'unlisted' || denial?.kind === 'no_route') {
    return `${clip(denialText(denial), 300)}: add a route key for it (its resource path as declared) or a "* /*" default for the methods no key names`;
  }
  // An app acting as itself has no scp to consent to: only an app role assigned to it can help.
  const appOnly =
    p.idtyp === 'app' ||
    (p.idtyp === undefined && str(p.scp) === undefined && str(p.oid) !== undefined && p.oid === p.sub);
  const needs = denial?.kind === 'api_rule' || denial?.kind === 'route_rule' ? denial.needs : undefined;
  const missing =
    denial === undefined ? facts.detail || 'a required scope or role is missing' : denialText(denial);
  const fix =
    (needs?.groups ?? []).length > 0
      ? `if the caller should pass, add it to one of those groups (its groups claim lists ${Array.isArray(p.groups) ? p.groups.length : 0}; groups appear only when the API's token configuration emits them, groupMembershipClaims)`
      : grantFix(appOnly, needs, denial?.kind === 'route_rule' ? 'route' : 'API');
  return `the token has scp "${scp}" and roles "${roles}"; ${clip(missing, 200)}: ${fix}`;
}

/** The hint of each reason that the facts can make more precise than the reason's own. */
const HINT_BUILDERS: Partial<Record<Reason, (facts: HintFacts) => string>> = {
  malformed: malformedHint,
  unsupported_alg: (facts) =>
    `alg is ${preview(headerOf(facts).alg, 40)}: Entra ID signs access tokens with RS256; anything else is forged or not from Entra`,
  graph_token: graphTokenHint,
  wrong_issuer: issuerHint,
  tenant_not_allowed: tenantHint,
  wrong_audience: audienceHint,
  expired: expiredHint,
  not_yet_valid: notYetValidHint,
  not_an_access_token: idTokenHint,
  client_app_not_allowed: clientAppHint,
  no_scope_or_role: noScopeOrRoleHint,
  guest_not_allowed: guestHint,
  unknown_key: unknownKeyHint,
  key_issuer_mismatch: (facts) =>
    `${facts.detail === undefined ? 'the signing key belongs to another issuer' : clip(facts.detail, 200)}: a key published for another issuer (for example personal accounts) cannot sign for this tenant`,
  insufficient_permission: permissionHint,
  keys_unavailable: (facts) =>
    `the key set at ${redactUrl(facts.config.jwksUri)} could not be fetched: check egress (NAT, proxy) to ${hostOf(facts.config.jwksUri)}`,
};

/**
 * The one-line hint for the operator: which configuration or client mistake this rejection points at, and
 * how to fix it. Built from the token's claims, never containing the token; every claim it shows is
 * clipped, and the key URL is shown without user-info or query.
 */
export function hintFromFacts(reason: Reason, facts: HintFacts): string {
  return HINT_BUILDERS[reason]?.(facts) ?? REASONS[reason].hint;
}

/**
 * The hint function the authorizer takes, bound to one configuration and a clock (seconds). The authorizer
 * guards and caps what it returns (see `decide`), as it does for any hinter it is given.
 */
export function createHinter(
  config: HintFacts['config'],
  now: () => number = () => Date.now() / 1000,
): (reason: Reason, facts: Pick<HintFacts, 'header' | 'payload' | 'detail' | 'denial'>) => string {
  return (reason, facts) => hintFromFacts(reason, { ...facts, config, nowSeconds: now() });
}
