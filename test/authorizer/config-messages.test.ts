import { describe, expect, it } from 'vitest';
import { ENV_NAMES, loadConfig, parseRoutePermissions } from '../../lambda/authorizer/config.js';
import { ConfigError } from '../../lambda/authorizer/errors.js';
import { readTelemetryConfig, TELEMETRY_ENV_NAMES } from '../../lambda/authorizer/telemetry-config.js';

const TENANT = '72f988bf-86f1-41af-91ab-2d7cd011db47';
const base = { [ENV_NAMES.tenantId]: TENANT, [ENV_NAMES.audiences]: 'api://x' };
const B2C =
  'Azure AD B2C, at b2clogin.com, is not supported, and B2C is closed to new customers: for customer sign-in use Microsoft Entra External ID, at <tenant>.ciamlogin.com';
const ROUTE_NAMES =
  'a non-empty array of names without spaces (leave it out for none; {} admits any valid token with a scope or a role)';

const ROUTE_TABLE = 'an object keyed by "METHOD /path", such as {"GET /items": {"scopes": ["Items.Read"]}}';
const ROUTE_KEY =
  '"METHOD /path", such as "GET /items/{id}" or "ANY /{proxy+}", with a method of GET, POST, PUT, PATCH, DELETE, HEAD, OPTIONS, ANY or *';
const ROUTE_RULE = 'an object such as {"scopes": ["Items.Read"]}, or {}';
const ROUTE_APPS =
  'a non-empty array of application (client) id GUIDs, the azp claim of v2 tokens and appid of v1 (leave it out for any client)';
const APP = '11111111-2222-4333-8444-555555555555';
const GROUPS = "group object id GUIDs (the groups claim carries object ids, never a group's name)";

const CHARS = '1 to 120 letters, digits or ASCII punctuation other than " and \\, not starting with "."';

/** Every variable mistake and the exact line the cold start fails with, naming the variable. */
const MISTAKES: [string, Record<string, string | undefined>, string][] = [
  [
    'a required scope written as its full URI',
    { [ENV_NAMES.requiredScopes]: 'Orders.Write,api://x/Orders.Read' },
    'AZURE_REQUIRED_SCOPES: expected scope names as scp carries them ("Orders.Read"): scp holds the scope name only, never the App ID URI before it; got "Orders.Write,api://x/Orders.Read"',
  ],
  [
    'a required scope written as its full URI, the scheme in capitals',
    { [ENV_NAMES.requiredScopes]: 'API://x/Orders.Read' },
    'AZURE_REQUIRED_SCOPES: expected scope names as scp carries them ("Orders.Read"): scp holds the scope name only, never the App ID URI before it; got "API://x/Orders.Read"',
  ],
  [
    'a required scope written as its full URI, with a scope of another name',
    { [ENV_NAMES.requiredScopes]: 'api://x/Files.ReadWrite' },
    'AZURE_REQUIRED_SCOPES: expected scope names as scp carries them ("Files.ReadWrite"): scp holds the scope name only, never the App ID URI before it; got "api://x/Files.ReadWrite"',
  ],
  [
    'a required scope written as an App ID URI alone',
    { [ENV_NAMES.requiredScopes]: 'api://x/' },
    'AZURE_REQUIRED_SCOPES: expected scope names as scp carries them ("Orders.Read"): scp holds the scope name only, never the App ID URI before it; got "api://x/"',
  ],
  [
    'a required scope starting with "."',
    { [ENV_NAMES.requiredScopes]: '.Orders' },
    `AZURE_REQUIRED_SCOPES: expected scope names Entra can write in scp: ${CHARS}; got ".Orders"`,
  ],
  [
    'a required role with a backslash',
    { [ENV_NAMES.requiredRoles]: 'Orders\\Admin' },
    `AZURE_REQUIRED_ROLES: expected role names Entra can write in roles: ${CHARS}; got "Orders\\\\Admin"`,
  ],
  [
    'a route scope written as its full URI',
    { [ENV_NAMES.routePermissions]: '{"GET /a": {"scopes": ["https://contoso.example/api/Orders.Read"]}}' },
    'AZURE_ROUTE_PERMISSIONS: expected ["GET /a"].scopes to be scope names as scp carries them ("Orders.Read"): scp holds the scope name only, never the App ID URI before it; got "https://contoso.example/api/Orders.Read"',
  ],
  [
    'unlisted methods that are no JSON array',
    { AZURE_UNLISTED_METHODS: 'GET /items/secret' },
    'AZURE_UNLISTED_METHODS: expected a JSON array of route keys such as ["GET /items/secret"] (the construct writes it); got "GET /items/secret"',
  ],
  [
    'a key URL without its scheme, written with spaces around it',
    { [ENV_NAMES.jwksUri]: ' keys.example/keys ' },
    'AZURE_JWKS_URI: expected an absolute https URL; got "keys.example/keys"',
  ],
  [
    'a route role Entra cannot write',
    { [ENV_NAMES.routePermissions]: '{"GET /a": {"roles": [".Admin"]}}' },
    `AZURE_ROUTE_PERMISSIONS: expected ["GET /a"].roles to be role names Entra can write in roles: ${CHARS}; got ".Admin"`,
  ],
  [
    'a route group by its name',
    { [ENV_NAMES.routePermissions]: '{"GET /a": {"groups": ["Admins"]}}' },
    `AZURE_ROUTE_PERMISSIONS: expected ["GET /a"].groups to be ${GROUPS}; got "Admins"`,
  ],
  [
    'an empty route group list',
    { [ENV_NAMES.routePermissions]: '{"GET /a": {"groups": []}}' },
    `AZURE_ROUTE_PERMISSIONS: expected ["GET /a"].groups to be a non-empty array of ${GROUPS} (leave it out for no group); got []`,
  ],
  [
    'a route group list holding a number',
    { [ENV_NAMES.routePermissions]: `{"GET /a": {"groups": ["${APP}", 1]}}` },
    `AZURE_ROUTE_PERMISSIONS: expected ["GET /a"].groups to be a non-empty array of ${GROUPS} (leave it out for no group); got ["${APP}",1]`,
  ],
  [
    'unlisted methods as an object',
    { AZURE_UNLISTED_METHODS: '{"GET /a": {}}' },
    `AZURE_UNLISTED_METHODS: expected a JSON array of route keys such as ["GET /items/secret"] (the construct writes it); got "{\\"GET /a\\": {}}"`,
  ],
  [
    'unlisted methods holding a number',
    { AZURE_UNLISTED_METHODS: '[1]' },
    'AZURE_UNLISTED_METHODS: expected a JSON array of route keys such as ["GET /items/secret"] (the construct writes it); got "[1]"',
  ],
  [
    'unlisted methods holding a key that is no route key',
    { AZURE_UNLISTED_METHODS: '["GET items"]' },
    'AZURE_UNLISTED_METHODS: expected a JSON array of route keys such as ["GET /items/secret"] (the construct writes it); got "GET items"',
  ],
  [
    'unlisted methods holding the default key',
    { AZURE_UNLISTED_METHODS: '["* /*"]' },
    'AZURE_UNLISTED_METHODS: expected a JSON array of route keys such as ["GET /items/secret"] (the construct writes it); got "* /*"',
  ],
  [
    'guest users neither allow nor refuse',
    { [ENV_NAMES.guestUsers]: 'Refuse' },
    'AZURE_GUEST_USERS: expected one of "allow", "refuse"; got "Refuse"',
  ],
  [
    'no tenant',
    { [ENV_NAMES.tenantId]: undefined },
    'AZURE_TENANT_ID: expected a tenant GUID, "organizations" or "common"; got nothing',
  ],
  [
    'a tenant domain',
    { [ENV_NAMES.tenantId]: 'contoso.onmicrosoft.com' },
    'AZURE_TENANT_ID: expected a tenant GUID, "organizations" or "common"; got "contoso.onmicrosoft.com"',
  ],
  [
    'multi-tenant without an allow-list',
    { [ENV_NAMES.tenantId]: 'common' },
    'AZURE_ALLOWED_TENANTS: expected tenant GUIDs, or "*" for any tenant, because AZURE_TENANT_ID is "common"; got nothing',
  ],
  [
    'an allow-list with a name',
    { [ENV_NAMES.tenantId]: 'organizations', [ENV_NAMES.allowedTenants]: 'contoso' },
    'AZURE_ALLOWED_TENANTS: expected tenant GUIDs, or exactly "*"; got "contoso"',
  ],
  [
    'an allow-list on a single tenant',
    { [ENV_NAMES.allowedTenants]: TENANT },
    `AZURE_ALLOWED_TENANTS: expected unset for the single tenant ${TENANT}: it applies only when AZURE_TENANT_ID is "organizations" or "common"; got "${TENANT}"`,
  ],
  [
    'no audience variable',
    { [ENV_NAMES.audiences]: undefined },
    'AZURE_AUDIENCES: expected at least one audience (client id or App ID URI); got nothing',
  ],
  [
    'a required group by its name',
    { [ENV_NAMES.requiredGroups]: 'Admins' },
    `AZURE_REQUIRED_GROUPS: expected group object id GUIDs (the groups claim carries object ids, never a group's name); got "Admins"`,
  ],
  [
    'no audience',
    { [ENV_NAMES.audiences]: ' , ' },
    'AZURE_AUDIENCES: expected at least one audience (client id or App ID URI); got " , "',
  ],
  [
    "Azure Government's Microsoft Graph as an audience",
    { [ENV_NAMES.audiences]: 'api://x,https://graph.microsoft.us' },
    'AZURE_AUDIENCES: expected your API\'s client id or App ID URI; https://graph.microsoft.us is the audience of Microsoft Graph, whose tokens are never for your API; got "api://x,https://graph.microsoft.us"',
  ],
  [
    'a client app by name',
    { [ENV_NAMES.allowedClientApps]: 'frontend' },
    'AZURE_ALLOWED_CLIENT_APPS: expected application (client) id GUIDs: the azp claim of v2 tokens, appid of v1; got "frontend"',
  ],
  [
    'route permissions that are not JSON',
    { [ENV_NAMES.routePermissions]: '{GET /x}' },
    'AZURE_ROUTE_PERMISSIONS: expected a JSON object such as {"GET /items/{id}": {"scopes": ["Items.Read"]}}; got "{GET /x}"',
  ],
  [
    'route permissions that are an array',
    { [ENV_NAMES.routePermissions]: '[]' },
    `AZURE_ROUTE_PERMISSIONS: expected ${ROUTE_TABLE}; got []`,
  ],
  [
    'a route key without a method',
    { [ENV_NAMES.routePermissions]: '{"/items": {}}' },
    `AZURE_ROUTE_PERMISSIONS: expected keys to be ${ROUTE_KEY}; got "/items"`,
  ],
  [
    'a route key with a word before its method',
    { [ENV_NAMES.routePermissions]: '{"then GET /items": {}}' },
    `AZURE_ROUTE_PERMISSIONS: expected keys to be ${ROUTE_KEY}; got "then GET /items"`,
  ],
  [
    'route roles as a string',
    { [ENV_NAMES.routePermissions]: '{"GET /orders": {"roles": "Admin"}}' },
    `AZURE_ROUTE_PERMISSIONS: expected ["GET /orders"].roles to be ${ROUTE_NAMES}; got "Admin"`,
  ],
  [
    'route scopes []',
    { [ENV_NAMES.routePermissions]: '{"GET /orders": {"scopes": []}}' },
    `AZURE_ROUTE_PERMISSIONS: expected ["GET /orders"].scopes to be ${ROUTE_NAMES}; got []`,
  ],
  [
    'route clientApps by name',
    { [ENV_NAMES.routePermissions]: '{"DELETE /items/{id}": {"clientApps": ["backoffice"]}}' },
    'AZURE_ROUTE_PERMISSIONS: expected ["DELETE /items/{id}"].clientApps to be a non-empty array of application (client) id GUIDs, the azp claim of v2 tokens and appid of v1 (leave it out for any client); got ["backoffice"]',
  ],
  [
    'a misspelt route field',
    { [ENV_NAMES.routePermissions]: '{"GET /items": {"scope": ["a"]}}' },
    'AZURE_ROUTE_PERMISSIONS: expected ["GET /items"] to be an object with only "scopes", "roles", "clientApps" and "groups"; got {"scope":["a"]}',
  ],
  [
    'route permissions that are a JSON string',
    { [ENV_NAMES.routePermissions]: '"GET /items"' },
    `AZURE_ROUTE_PERMISSIONS: expected ${ROUTE_TABLE}; got "GET /items"`,
  ],
  [
    'route permissions that are null',
    { [ENV_NAMES.routePermissions]: 'null' },
    `AZURE_ROUTE_PERMISSIONS: expected ${ROUTE_TABLE}; got null`,
  ],
  [
    'route permissions that are a number',
    { [ENV_NAMES.routePermissions]: '5' },
    `AZURE_ROUTE_PERMISSIONS: expected ${ROUTE_TABLE}; got 5`,
  ],
  [
    'a route key with text after its path',
    { [ENV_NAMES.routePermissions]: '{"GET /items extra": {}}' },
    `AZURE_ROUTE_PERMISSIONS: expected keys to be ${ROUTE_KEY}; got "GET /items extra"`,
  ],
  [
    'a route key with a trailing slash',
    { [ENV_NAMES.routePermissions]: '{"GET /items/": {}}' },
    'AZURE_ROUTE_PERMISSIONS: expected keys to be paths without a trailing "/" ("GET /items", not "GET /items/"); got "GET /items/"',
  ],
  [
    'two route keys for one resource',
    { [ENV_NAMES.routePermissions]: '{"GET /items/{id}": {}, "GET /items/{itemId}": {"roles": ["Admin"]}}' },
    'AZURE_ROUTE_PERMISSIONS: expected keys to be one key per method and resource ("GET /items/{id}" names the same one); got "GET /items/{itemId}"',
  ],
  [
    'ANY and * keys for one resource',
    { [ENV_NAMES.routePermissions]: '{"ANY /items": {}, "* /items": {}}' },
    'AZURE_ROUTE_PERMISSIONS: expected keys to be one key per method and resource ("ANY /items" names the same one); got "* /items"',
  ],
  [
    'a {param} route and a glob in one table',
    { [ENV_NAMES.routePermissions]: '{"GET /items/{id}": {}, "DELETE /items/*": {}}' },
    'AZURE_ROUTE_PERMISSIONS: expected keys to be resource paths as declared on the API, with {param} and {proxy+} segments: a key decides exactly the method it names, never one its path would match as a pattern (the one key with a *, "* /*", is the default rule of the methods no other key names); got "DELETE /items/*"',
  ],
  [
    'a {param} route and a path with an empty segment in one table',
    { [ENV_NAMES.routePermissions]: '{"GET /items/{id}": {}, "GET /items//parts": {}}' },
    'AZURE_ROUTE_PERMISSIONS: expected keys to be paths without an empty segment ("//"), as API Gateway declares them; got "GET /items//parts"',
  ],
  [
    'a path parameter inside a segment',
    { [ENV_NAMES.routePermissions]: '{"GET /items/a{id}": {}}' },
    'AZURE_ROUTE_PERMISSIONS: expected keys to be path parameters as whole segments, "{id}" or a last "{proxy+}" (letters, digits, ".", "_", "-"); got "GET /items/a{id}"',
  ],
  [
    'a greedy parameter before the last segment',
    { [ENV_NAMES.routePermissions]: '{"GET /{proxy+}/x": {}}' },
    'AZURE_ROUTE_PERMISSIONS: expected keys to be paths with a greedy "{proxy+}" only as the last segment; got "GET /{proxy+}/x"',
  ],
  [
    'a path parameter and a * in one key',
    { [ENV_NAMES.routePermissions]: '{"GET /items/{id}/*": {}}' },
    'AZURE_ROUTE_PERMISSIONS: expected keys to be resource paths as declared on the API, with {param} and {proxy+} segments: a key decides exactly the method it names, never one its path would match as a pattern (the one key with a *, "* /*", is the default rule of the methods no other key names); got "GET /items/{id}/*"',
  ],
  [
    'a path parameter and an empty segment in one key',
    { [ENV_NAMES.routePermissions]: '{"GET /items//{id}": {}}' },
    'AZURE_ROUTE_PERMISSIONS: expected keys to be paths without an empty segment ("//"), as API Gateway declares them; got "GET /items//{id}"',
  ],
  [
    'a route rule that is null',
    { [ENV_NAMES.routePermissions]: '{"GET /items": null}' },
    `AZURE_ROUTE_PERMISSIONS: expected ["GET /items"] to be ${ROUTE_RULE}; got null`,
  ],
  [
    'a route rule that is an array',
    { [ENV_NAMES.routePermissions]: '{"GET /items": []}' },
    `AZURE_ROUTE_PERMISSIONS: expected ["GET /items"] to be ${ROUTE_RULE}; got []`,
  ],
  [
    'a route rule that is a scope name',
    { [ENV_NAMES.routePermissions]: '{"GET /items": "Items.Read"}' },
    `AZURE_ROUTE_PERMISSIONS: expected ["GET /items"] to be ${ROUTE_RULE}; got "Items.Read"`,
  ],
  [
    'a route rule that is an empty string',
    { [ENV_NAMES.routePermissions]: '{"GET /items": ""}' },
    `AZURE_ROUTE_PERMISSIONS: expected ["GET /items"] to be ${ROUTE_RULE}; got ""`,
  ],
  [
    'a route rule that is a number',
    { [ENV_NAMES.routePermissions]: '{"GET /items": 0}' },
    `AZURE_ROUTE_PERMISSIONS: expected ["GET /items"] to be ${ROUTE_RULE}; got 0`,
  ],
  [
    'an empty scope name',
    { [ENV_NAMES.routePermissions]: '{"GET /items": {"scopes": ["Items.Read", ""]}}' },
    `AZURE_ROUTE_PERMISSIONS: expected ["GET /items"].scopes to be ${ROUTE_NAMES}; got ["Items.Read",""]`,
  ],
  [
    'a whitespace-only role name',
    { [ENV_NAMES.routePermissions]: '{"GET /items": {"roles": ["  "]}}' },
    `AZURE_ROUTE_PERMISSIONS: expected ["GET /items"].roles to be ${ROUTE_NAMES}; got ["  "]`,
  ],
  [
    'a scope name with a space',
    { [ENV_NAMES.routePermissions]: '{"GET /items": {"scopes": ["Items Read"]}}' },
    `AZURE_ROUTE_PERMISSIONS: expected ["GET /items"].scopes to be ${ROUTE_NAMES}; got ["Items Read"]`,
  ],
  [
    'a role name that is a number',
    { [ENV_NAMES.routePermissions]: '{"GET /items": {"roles": [5]}}' },
    `AZURE_ROUTE_PERMISSIONS: expected ["GET /items"].roles to be ${ROUTE_NAMES}; got [5]`,
  ],
  [
    'a scope name that is null',
    { [ENV_NAMES.routePermissions]: '{"GET /items": {"scopes": [null]}}' },
    `AZURE_ROUTE_PERMISSIONS: expected ["GET /items"].scopes to be ${ROUTE_NAMES}; got [null]`,
  ],
  [
    'route clientApps []',
    { [ENV_NAMES.routePermissions]: '{"GET /items": {"clientApps": []}}' },
    `AZURE_ROUTE_PERMISSIONS: expected ["GET /items"].clientApps to be ${ROUTE_APPS}; got []`,
  ],
  [
    'route clientApps as a string',
    { [ENV_NAMES.routePermissions]: `{"GET /items": {"clientApps": "${APP}"}}` },
    `AZURE_ROUTE_PERMISSIONS: expected ["GET /items"].clientApps to be ${ROUTE_APPS}; got "${APP}"`,
  ],
  [
    'route clientApps with a number',
    { [ENV_NAMES.routePermissions]: `{"GET /items": {"clientApps": ["${APP}", 5]}}` },
    `AZURE_ROUTE_PERMISSIONS: expected ["GET /items"].clientApps to be ${ROUTE_APPS}; got ["${APP}",5]`,
  ],
  [
    'route clientApps with one GUID and one name',
    { [ENV_NAMES.routePermissions]: `{"GET /items": {"clientApps": ["${APP}", "backoffice"]}}` },
    `AZURE_ROUTE_PERMISSIONS: expected ["GET /items"].clientApps to be ${ROUTE_APPS}; got ["${APP}","backoffice"]`,
  ],
  [
    'a plain http key URL',
    { [ENV_NAMES.jwksUri]: 'http://keys.example/keys' },
    'AZURE_JWKS_URI: expected an https URL (plain http only for 127.0.0.1, ::1 or localhost); got "http://keys.example/keys"',
  ],
  [
    "a B2C tenant's key URL",
    { [ENV_NAMES.jwksUri]: 'https://contoso.b2clogin.com/x/discovery/v2.0/keys' },
    `AZURE_JWKS_URI: expected the key URL of a Microsoft Entra tenant (${B2C}); got "https://contoso.b2clogin.com/x/discovery/v2.0/keys"`,
  ],
  [
    'a skew over ten minutes',
    { [ENV_NAMES.clockSkewSeconds]: '601' },
    'AZURE_CLOCK_SKEW_SECONDS: expected a whole number of seconds from 0 to 600; got "601"',
  ],
  [
    'an authority host with a path',
    { [ENV_NAMES.authorityHost]: 'login.example/evil' },
    'AZURE_AUTHORITY_HOST: expected a host name such as login.microsoftonline.us; got "login.example/evil"',
  ],
  [
    'a B2C login host',
    { [ENV_NAMES.authorityHost]: 'contoso.b2clogin.com' },
    `AZURE_AUTHORITY_HOST: expected a Microsoft Entra login host (${B2C}); got "contoso.b2clogin.com"`,
  ],
  [
    'an undocumented login host without its v1 issuer host',
    { [ENV_NAMES.authorityHost]: 'login.example.org' },
    'AZURE_V1_ISSUER_HOST: expected the host of the v1 issuer (https://{host}/{tid}/) of the cloud whose login host is login.example.org, a host Microsoft does not document (it does login.microsoftonline.com, login.microsoftonline.us, login.partner.microsoftonline.cn, login.chinacloudapi.cn, and <tenant>.ciamlogin.com for External ID); https://login.example.org/{tenant}/.well-known/openid-configuration names it; got nothing',
  ],
  [
    "21Vianet's login host with the global v1 issuer host",
    { [ENV_NAMES.authorityHost]: 'login.chinacloudapi.cn', [ENV_NAMES.v1IssuerHost]: 'sts.windows.net' },
    'AZURE_V1_ISSUER_HOST: expected sts.chinacloudapi.cn (the v1 issuer host of Azure operated by 21Vianet, whose login host login.chinacloudapi.cn is in AZURE_AUTHORITY_HOST), or unset; sts.windows.net belongs to the global Azure cloud and Azure Government: set AZURE_AUTHORITY_HOST to the login host of one of them instead; got "sts.windows.net"',
  ],
  [
    "the global login host with 21Vianet's v1 issuer host",
    { [ENV_NAMES.v1IssuerHost]: 'sts.chinacloudapi.cn' },
    'AZURE_V1_ISSUER_HOST: expected sts.windows.net (the v1 issuer host of the global Azure cloud, whose login host login.microsoftonline.com is in AZURE_AUTHORITY_HOST), or unset; sts.chinacloudapi.cn belongs to Azure operated by 21Vianet: set AZURE_AUTHORITY_HOST to that cloud\'s login host instead; got "sts.chinacloudapi.cn"',
  ],
  [
    'a v1 issuer host no documented cloud has, with a documented login host',
    { [ENV_NAMES.v1IssuerHost]: 'sts.example.org' },
    'AZURE_V1_ISSUER_HOST: expected sts.windows.net (the v1 issuer host of the global Azure cloud, whose login host login.microsoftonline.com is in AZURE_AUTHORITY_HOST), or unset; got "sts.example.org"',
  ],
  [
    'an External ID login host for a multi-tenant API',
    {
      [ENV_NAMES.authorityHost]: 'contoso.ciamlogin.com',
      [ENV_NAMES.tenantId]: 'common',
      [ENV_NAMES.allowedTenants]: '*',
    },
    'AZURE_TENANT_ID: expected the External ID tenant\'s GUID, because AZURE_AUTHORITY_HOST is contoso.ciamlogin.com: an External ID API serves its own tenant\'s customers; got "common"',
  ],
  [
    'an External ID login host with a v1 issuer host',
    { [ENV_NAMES.authorityHost]: 'contoso.ciamlogin.com', [ENV_NAMES.v1IssuerHost]: 'sts.windows.net' },
    'AZURE_V1_ISSUER_HOST: expected unset, because AZURE_AUTHORITY_HOST is the External ID host contoso.ciamlogin.com: External ID documents only v2 issuers, so an External ID API takes v2 tokens only; got "sts.windows.net"',
  ],
];

const TELEMETRY_MISTAKES: [string, Record<string, string>, string][] = [
  [
    'an unknown log level',
    { [TELEMETRY_ENV_NAMES.logLevel]: 'VERBOSE' },
    'POWERTOOLS_LOG_LEVEL: expected one of TRACE, DEBUG, INFO, WARN, ERROR, CRITICAL, SILENT; got "VERBOSE"',
  ],
  [
    'a reserved namespace',
    { [TELEMETRY_ENV_NAMES.metricsNamespace]: 'AWS/x' },
    'POWERTOOLS_METRICS_NAMESPACE: expected a namespace that starts with neither ":" nor "AWS/"; got "AWS/x"',
  ],
  [
    'a sample rate over 1',
    { [TELEMETRY_ENV_NAMES.sampleRate]: '2' },
    'POWERTOOLS_LOGGER_SAMPLE_RATE: expected a number from 0 to 1; got "2"',
  ],
];

function thrown(run: () => unknown): unknown {
  try {
    run();
  } catch (err) {
    return err;
  }
  return undefined;
}

describe('every variable mistake fails the cold start with its exact message', () => {
  it.each(MISTAKES)('%s', (_, env, message) => {
    const error = thrown(() => loadConfig({ ...base, ...env }));
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as Error).message).toBe(message);
    expect((error as Error).message.match(/; got /g)).toHaveLength(1);
  });

  it.each(TELEMETRY_MISTAKES)('%s', (_, env, message) => {
    const error = thrown(() => readTelemetryConfig(env));
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as Error).message).toBe(message);
  });
});

describe('parseRoutePermissions without an errorOf of its own', () => {
  // The cold start and the construct each pass their own; a caller that passes none still gets one line.
  it.each([
    ['a table that is null', null, `route permissions: expected ${ROUTE_TABLE}`],
    [
      'a key with a trailing slash',
      { 'GET /items/': {} },
      'route permissions: expected keys to be paths without a trailing "/" ("GET /items", not "GET /items/")',
    ],
    [
      'a rule that is an array',
      { 'GET /items': [] },
      `route permissions: expected ["GET /items"] to be ${ROUTE_RULE}`,
    ],
  ])('refuses %s with a plain Error', (_, table, message) => {
    const error = thrown(() => parseRoutePermissions(table));
    expect(error).toBeInstanceOf(Error);
    expect(error).not.toBeInstanceOf(ConfigError);
    expect((error as Error).message).toBe(message);
  });
});

describe('the clouds Microsoft documents hold together', () => {
  // From https://learn.microsoft.com/answers/questions/1190472 (Microsoft's answer on sovereign-cloud issuers)
  // and https://learn.microsoft.com/entra/identity-platform/authentication-national-cloud.
  it.each([
    ['login.microsoftonline.com', 'sts.windows.net'],
    ['login.microsoftonline.us', 'sts.windows.net'],
    ['login.partner.microsoftonline.cn', 'sts.chinacloudapi.cn'],
    ['login.chinacloudapi.cn', 'sts.chinacloudapi.cn'],
  ])('%s gives v1 tokens of %s, without AZURE_V1_ISSUER_HOST', (authority, v1) => {
    const config = loadConfig({ ...base, [ENV_NAMES.authorityHost]: authority });
    expect(config.v1IssuerHost).toBe(v1);
    expect(config.jwksUri).toBe(`https://${authority}/${TENANT}/discovery/v2.0/keys`);
    // Naming the same host again is accepted.
    expect(
      loadConfig({ ...base, [ENV_NAMES.authorityHost]: authority, [ENV_NAMES.v1IssuerHost]: v1 })
        .v1IssuerHost,
    ).toBe(v1);
  });

  it('takes a login host Microsoft does not document when its v1 issuer host is given too', () => {
    const config = loadConfig({
      ...base,
      [ENV_NAMES.authorityHost]: 'login.sovcloud.example',
      [ENV_NAMES.v1IssuerHost]: 'sts.sovcloud.example',
    });
    expect(config).toMatchObject({
      authorityHost: 'login.sovcloud.example',
      v1IssuerHost: 'sts.sovcloud.example',
    });
  });

  it('reads an External ID tenant: v2 issuer only, keys on its ciamlogin.com host', () => {
    const config = loadConfig({ ...base, [ENV_NAMES.authorityHost]: 'Contoso.ciamlogin.com' });
    expect(config).toMatchObject({
      authorityHost: 'contoso.ciamlogin.com',
      v1IssuerHost: undefined,
      jwksUri: `https://contoso.ciamlogin.com/${TENANT}/discovery/v2.0/keys`,
    });
  });
});
