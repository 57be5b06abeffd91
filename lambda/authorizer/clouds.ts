/**
 * Microsoft's clouds as this authorizer needs them, stated once: each cloud's login (authority) hosts, the
 * host of its v1 issuer `https://{host}/{tid}/`, and the audiences of its Microsoft Graph and Azure Resource
 * Manager (never an API's own audience). The configuration derives the v1 issuer host from the authority
 * host and refuses other pairings; the Microsoft-API audience guard takes Graph and ARM from here.
 *
 * Sources (Microsoft documentation):
 * - authority hosts: https://learn.microsoft.com/entra/identity-platform/authentication-national-cloud
 *   (login.microsoftonline.us, login.partner.microsoftonline.cn) and
 *   https://learn.microsoft.com/graph/deployments (login.chinacloudapi.cn for Azure operated by 21Vianet);
 * - issuer hosts: https://learn.microsoft.com/answers/questions/1190472/what-are-the-token-issuers-for-the-sovereign-cloud
 *   (Microsoft's answer: v1 sts.windows.net for the global cloud and Azure Government, sts.chinacloudapi.cn
 *   for 21Vianet; v2 login.microsoftonline.com, login.microsoftonline.us, login.partner.microsoftonline.cn).
 *   Microsoft Graph's federatedIdentityCredential reference names the other 21Vianet login host as that
 *   cloud's v2 issuer, `https://login.chinacloudapi.cn/{tenantid}/v2.0`
 *   (https://learn.microsoft.com/graph/api/resources/federatedidentitycredential, property `issuer`), so both
 *   hosts of that one cloud (one tenant id, one key set) are accepted as v2 issuer hosts, the first being the
 *   one tokens are minted with locally; a tenant's discovery document has the last word;
 * - Graph: https://learn.microsoft.com/graph/deployments (graph.microsoft.us, dod-graph.microsoft.us,
 *   microsoftgraph.chinacloudapi.cn); Azure AD Graph in 21Vianet (graph.chinacloudapi.cn):
 *   https://learn.microsoft.com/previous-versions/office/office-365-api/api/o365-china-endpoints;
 * - Azure Resource Manager: https://learn.microsoft.com/powershell/module/az.accounts/get-azenvironment
 *   (management.azure.com, management.usgovcloudapi.net, management.chinacloudapi.cn).
 */
export const CLOUDS = [
  {
    name: 'the global Azure cloud',
    authorityHosts: ['login.microsoftonline.com'],
    v2IssuerHosts: ['login.microsoftonline.com'],
    v1IssuerHost: 'sts.windows.net',
    graph: ['https://graph.microsoft.com'],
    azureAdGraph: ['https://graph.windows.net'],
    resourceManager: ['https://management.azure.com', 'https://management.core.windows.net'],
  },
  {
    name: 'Azure Government',
    authorityHosts: ['login.microsoftonline.us'],
    v2IssuerHosts: ['login.microsoftonline.us'],
    v1IssuerHost: 'sts.windows.net',
    graph: ['https://graph.microsoft.us', 'https://dod-graph.microsoft.us'],
    azureAdGraph: [],
    resourceManager: ['https://management.usgovcloudapi.net', 'https://management.core.usgovcloudapi.net'],
  },
  {
    name: 'Azure operated by 21Vianet',
    authorityHosts: ['login.partner.microsoftonline.cn', 'login.chinacloudapi.cn'],
    v2IssuerHosts: ['login.partner.microsoftonline.cn', 'login.chinacloudapi.cn'],
    v1IssuerHost: 'sts.chinacloudapi.cn',
    graph: ['https://microsoftgraph.chinacloudapi.cn'],
    azureAdGraph: ['https://graph.chinacloudapi.cn'],
    resourceManager: ['https://management.chinacloudapi.cn', 'https://management.core.chinacloudapi.cn'],
  },
] as const satisfies readonly {
  readonly name: string;
  readonly authorityHosts: readonly string[];
  /** Every host Microsoft documents for the cloud's v2 issuer; the first is the one its answer names. */
  readonly v2IssuerHosts: readonly [string, ...string[]];
  readonly v1IssuerHost: string;
  readonly graph: readonly string[];
  readonly azureAdGraph: readonly string[];
  readonly resourceManager: readonly string[];
}[];

type Cloud = (typeof CLOUDS)[number];

/** The cloud whose login host this is, if Microsoft documents it. */
export function cloudOfAuthority(host: string): Cloud | undefined {
  return CLOUDS.find((cloud) => (cloud.authorityHosts as readonly string[]).includes(host));
}

/** A host Microsoft documents Entra issuers on (v1 or v2), in any of its clouds, or External ID's. */
export function isEntraIssuerHost(host: string): boolean {
  return (
    isExternalIdHost(host) ||
    CLOUDS.some(
      (cloud) => cloud.v1IssuerHost === host || (cloud.v2IssuerHosts as readonly string[]).includes(host),
    )
  );
}

/** The clouds whose v1 tokens come from this host. */
export function cloudsOfV1Issuer(host: string): Cloud[] {
  return CLOUDS.filter((cloud) => cloud.v1IssuerHost === host);
}

/**
 * Microsoft Entra External ID (external tenants). Their login host is `{tenant subdomain}.ciamlogin.com`, and
 * "for external tenants, the document is publicly available at
 * `https://{tenantname}.ciamlogin.com/{tenantid}/v2.0/.well-known/openid-configuration`. This endpoint returns
 * an issuer value `https://{tenantid}.ciamlogin.com/{tenantid}/v2.0`"
 * (https://learn.microsoft.com/entra/identity-platform/security-tokens, Token endpoints and issuers). Only that
 * v2 issuer is documented, so an External ID API accepts v2 tokens only; its keys are at the login host's
 * `/{tenantid}/discovery/v2.0/keys`, as for any Entra tenant.
 */
const EXTERNAL_ID_DOMAIN = 'ciamlogin.com';
/** Azure AD B2C's login hosts (`{tenant}.b2clogin.com`): B2C is out of scope, External ID replaces it. */
const B2C_DOMAIN = 'b2clogin.com';

const under = (host: string, domain: string) => host === domain || host.endsWith(`.${domain}`);

export function isExternalIdHost(host: string): boolean {
  return under(host, EXTERNAL_ID_DOMAIN);
}

export function isB2cHost(host: string): boolean {
  return under(host, B2C_DOMAIN);
}

/**
 * The v2 issuers of a tenant on a login host: `https://{v2 issuer host}/{tid}/v2.0` for each v2 issuer host
 * of a documented cloud (21Vianet has two), `https://{host}/{tid}/v2.0` for another host, or External ID's
 * own shape. The first is the one a local token is minted with.
 */
export function v2IssuersOf(tid: string, authorityHost: string): readonly [string, ...string[]] {
  if (isExternalIdHost(authorityHost)) return [`https://${tid}.${EXTERNAL_ID_DOMAIN}/${tid}/v2.0`];
  const hosts = cloudOfAuthority(authorityHost)?.v2IssuerHosts ?? [authorityHost];
  const [first, ...rest] = hosts.map((host) => `https://${host}/${tid}/v2.0`);
  return [first as string, ...rest];
}

/** The first v2 issuer of a tenant on a login host (see `v2IssuersOf`). */
export function v2IssuerOf(tid: string, authorityHost: string): string {
  return v2IssuersOf(tid, authorityHost)[0];
}

/** What B2C gets, at synth, at cold start and in a hint. */
export const B2C_REFUSAL =
  'Azure AD B2C, at b2clogin.com, is not supported, and B2C is closed to new customers: for customer sign-in use Microsoft Entra External ID, at <tenant>.ciamlogin.com';
