import { CLOUDS } from './clouds.js';

/**
 * Audiences of Microsoft's own APIs. A token for one of them was requested for Microsoft, not for the
 * caller's API (the classic: `az account get-access-token` without `--scope` gives an Azure Resource
 * Manager token): the configuration refuses them as audiences, and `npm run explain` never assumes one.
 */
const NAMED: ReadonlyArray<readonly [name: string, audiences: readonly string[]]> = [
  // Graph and Resource Manager in every cloud, from the one table of clouds (with its sources).
  ['Microsoft Graph', ['00000003-0000-0000-c000-000000000000', ...CLOUDS.flatMap((cloud) => cloud.graph)]],
  [
    'Azure AD Graph (retired)',
    ['00000002-0000-0000-c000-000000000000', ...CLOUDS.flatMap((cloud) => cloud.azureAdGraph)],
  ],
  [
    'Azure Resource Manager',
    ['797f4846-ba00-4fd7-ba43-dac1f8f63013', ...CLOUDS.flatMap((cloud) => cloud.resourceManager)],
  ],
  ['Azure Key Vault', ['cfa8b339-82a2-471a-a3c9-0fc0be7a4093', 'https://vault.azure.net']],
  ['Azure Storage', ['e406a681-f3d4-42a8-90b6-c2b029497af1', 'https://storage.azure.com']],
  ['Azure SQL Database', ['022907d3-0f1b-48f7-badc-1ba6abab6d66', 'https://database.windows.net']],
  ['Azure DevOps', ['499b84ac-1321-427f-aa17-267ca6975798']],
  [
    'Exchange Online',
    ['00000002-0000-0ff1-ce00-000000000000', 'https://outlook.office365.com', 'https://outlook.office.com'],
  ],
  ['SharePoint Online', ['00000003-0000-0ff1-ce00-000000000000']],
];

/**
 * Microsoft's first-party application ids follow two patterns: `0000000x-0000-0000-c000-000000000000` and
 * `0000000x-0000-0ff1-ce00-000000000000`, x a lower-case hex digit.
 */
const FIRST_PARTY_ID_TAILS = ['-0000-0000-c000-000000000000', '-0000-0ff1-ce00-000000000000'];

export function isFirstPartyId(value: string): boolean {
  // The tail fixes the length: 36 characters.
  return (
    value.startsWith('0000000') &&
    '0123456789abcdef'.includes(value.charAt(7)) &&
    FIRST_PARTY_ID_TAILS.includes(value.slice(8))
  );
}

/**
 * Hosts of Microsoft services. A customer's App ID URI is `api://...` or on a domain verified in its own
 * tenant (`*.onmicrosoft.com` included), never on these.
 */
const MICROSOFT_HOSTS = [
  'microsoft.com',
  'microsoftonline.com',
  'windows.net',
  'azure.com',
  'azure.net',
  'azure.us',
  'usgovcloudapi.net',
  'chinacloudapi.cn',
  'office.com',
  'office365.com',
  'sharepoint.com',
  'dynamics.com',
  'powerbi.com',
  'loganalytics.io',
  'visualstudio.com',
];

/** Lower case, without surrounding space or trailing slashes; a loop, as `/\/+$/` is quadratic on `///...x`. */
function normalise(aud: string): string {
  const value = aud.trim().toLowerCase();
  let end = value.length;
  while (end > 0 && value.charCodeAt(end - 1) === 0x2f) end--;
  return value.slice(0, end);
}

let graphAudiences: ReadonlySet<string> | undefined;

/**
 * Audiences of Microsoft Graph and the retired Azure AD Graph (normalised): never meant for this API. Made at
 * the first call: the configuration, in the Lambda's cold start, needs only `microsoftApiOf`.
 */
export function graphAudienceSet(): ReadonlySet<string> {
  graphAudiences ??= new Set(
    NAMED.filter(([name]) => name.includes('Graph')).flatMap(([, audiences]) => audiences),
  );
  return graphAudiences;
}

/** True for the audiences of Microsoft Graph and the retired Azure AD Graph, whatever the case or trailing slash. */
export function isGraphAudience(aud: string): boolean {
  return graphAudienceSet().has(normalise(aud));
}

/** Which Microsoft API an audience belongs to ("a Microsoft API" when only its shape says so), if any. */
export function microsoftApiOf(aud: string): string | undefined {
  const value = normalise(aud);
  for (const [name, audiences] of NAMED) {
    if (audiences.some((a) => value === a || value.startsWith(`${a}/`))) return name;
  }
  if (isFirstPartyId(value)) return 'a Microsoft API';
  // No URL without a scheme: a client id (the usual audience) is not parsed, and its failed parse not paid
  // for at every cold start.
  if (!value.includes(':')) return undefined;
  let host: string;
  try {
    host = new URL(value).hostname;
  } catch {
    return undefined;
  }
  return MICROSOFT_HOSTS.some((h) => host === h || host.endsWith(`.${h}`)) ? 'a Microsoft API' : undefined;
}
