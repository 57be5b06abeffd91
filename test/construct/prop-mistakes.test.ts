import { Duration, Fn, Lazy, Stack, Token } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { MockIntegration, RestApi } from 'aws-cdk-lib/aws-apigateway';
import { describe, expect, it } from 'vitest';
import type { EntraTokenAuthorizerProps } from '../../infra/construct/authorizer-props.js';
import { EntraHttpAuthorizer } from '../../infra/construct/entra-http-authorizer.js';
import { EntraTokenAuthorizer } from '../../infra/construct/entra-token-authorizer.js';
import { EntraWebSocketAuthorizer } from '../../infra/construct/entra-websocket-authorizer.js';
import { PropsError } from '../../infra/construct/errors.js';
import { readAppContext } from '../../infra/sample/app-context.js';
import { testApp } from '../helpers/cdk.js';

const TENANT = '72f988bf-86f1-41af-91ab-2d7cd011db47';
const CLIENT = '6e74172b-be56-4843-9ff4-e66a39bb12e3';
const GRAPH_APP = '00000003-0000-0000-c000-000000000000';
const ARM_APP = '797f4846-ba00-4fd7-ba43-dac1f8f63013';
const B2C =
  'Azure AD B2C, at b2clogin.com, is not supported, and B2C is closed to new customers: for customer sign-in use Microsoft Entra External ID, at <tenant>.ciamlogin.com';
const SCOPE_URI =
  'scope names as scp carries them ("Orders.Read"): scp holds the scope name only, never the App ID URI before it';
const CHARS = '1 to 120 letters, digits or ASCII punctuation other than " and \\, not starting with "."';
const SCOPE_CHARS = `scope names Entra can write in scp: ${CHARS}`;
const ROLE_CHARS = `role names Entra can write in roles: ${CHARS}`;
const NAMES = 'a non-empty list of names without spaces or commas';
const LIST = "a list of strings, such as ['Items.Read']";
const TENANTS =
  'a list of tenant GUIDs, or the SSM parameter that holds them (a StringParameter or StringListParameter) or its name';
const RETENTION = 'a RetentionDays, such as RetentionDays.ONE_MONTH (a retention CloudWatch Logs accepts)';
const REMOVAL = 'a RemovalPolicy, such as RemovalPolicy.RETAIN';
const ROUTE_NAMES =
  'a non-empty array of names without spaces (leave it out for none; {} admits any valid token with a scope or a role)';
const ROUTE_APPS =
  'a non-empty array of application (client) id GUIDs, the azp claim of v2 tokens and appid of v1 (leave it out for any client)';
const ROUTE_KEY =
  '"METHOD /path", such as "GET /items/{id}" or "ANY /{proxy+}", with a method of GET, POST, PUT, PATCH, DELETE, HEAD, OPTIONS, ANY or *';

/** What `make` throws, or undefined: each case below checks the error a mistake fails the synth with. */
function thrown(make: () => unknown): unknown {
  try {
    make();
  } catch (err) {
    return err;
  }
  return undefined;
}

/** What an EntraTokenAuthorizer of these props (beside a valid tenant and client) throws. */
const tokenAuthorizerThrown = (props: Partial<EntraTokenAuthorizerProps>) =>
  thrown(
    () =>
      new EntraTokenAuthorizer(new Stack(testApp(), 'S'), 'Entra', {
        tenantId: TENANT,
        clientId: CLIENT,
        ...props,
      }),
  );

/**
 * Every prop mistake and the exact line the synth fails with: it names the prop (or the part of it), says
 * what it must be, and shows what it got, once.
 */
const MISTAKES: [string, Partial<EntraTokenAuthorizerProps>, string][] = [
  [
    'a tenant that is not a GUID',
    { tenantId: 'contoso' },
    'tenantId must be a tenant GUID, "organizations" or "common"; got "contoso"',
  ],
  [
    'no tenant',
    { tenantId: undefined },
    'tenantId must be a tenant GUID, "organizations" or "common"; got nothing',
  ],
  [
    'multi-tenant without allowedTenants',
    { tenantId: 'common' },
    `allowedTenants must be tenant GUIDs, or ['*'] for any tenant, because tenantId is "common"; got nothing`,
  ],
  [
    'multi-tenant with allowedTenants []',
    { tenantId: 'organizations', allowedTenants: [] },
    `allowedTenants must be tenant GUIDs, or ['*'] for any tenant, because tenantId is "organizations"; got []`,
  ],
  [
    'allowedTenants on a single tenant',
    { allowedTenants: [TENANT] },
    `allowedTenants must be unset for the single tenant ${TENANT}: it applies only when tenantId is "organizations" or "common"; got ["${TENANT}"]`,
  ],
  [
    'allowedTenants mixing * and GUIDs',
    { tenantId: 'common', allowedTenants: ['*', TENANT] },
    `allowedTenants must be tenant GUIDs, or exactly ['*']; got ["*","${TENANT}"]`,
  ],
  [
    'allowedTenants with a domain name',
    { tenantId: 'organizations', allowedTenants: ['contoso'] },
    `allowedTenants must be tenant GUIDs, or exactly ['*']; got ["contoso"]`,
  ],
  [
    'a client id that is not a GUID',
    { clientId: 'my-api' },
    'clientId must be the application (client) id GUID; got "my-api"',
  ],
  [
    "Microsoft Graph's application id as clientId",
    { clientId: GRAPH_APP },
    `clientId must be your API's application (client) id; ${GRAPH_APP} is the application id of Microsoft Graph, whose tokens are never for your API; got "${GRAPH_APP}"`,
  ],
  [
    "Azure Resource Manager's application id as clientId",
    { clientId: ARM_APP },
    `clientId must be your API's application (client) id; ${ARM_APP} is the application id of Azure Resource Manager, whose tokens are never for your API; got "${ARM_APP}"`,
  ],
  [
    'neither clientId nor audiences',
    { clientId: undefined },
    "clientId or audiences must be given: your API's client id, or the audiences its tokens carry; got nothing",
  ],
  [
    'audiences []',
    { clientId: undefined, audiences: [] },
    `audiences must be ${NAMES} (leave it out for only the audiences of clientId); got []`,
  ],
  [
    'an audience with a space',
    { audiences: ['api://a b'] },
    `audiences must be ${NAMES} (leave it out for only the audiences of clientId); got ["api://a b"]`,
  ],
  ...(
    [
      ['https://graph.microsoft.com', 'Microsoft Graph'],
      ['https://graph.microsoft.us', 'Microsoft Graph'],
      ['https://dod-graph.microsoft.us', 'Microsoft Graph'],
      ['https://microsoftgraph.chinacloudapi.cn', 'Microsoft Graph'],
      ['https://graph.chinacloudapi.cn', 'Azure AD Graph (retired)'],
      ['https://management.azure.com/', 'Azure Resource Manager'],
      ['https://management.usgovcloudapi.net/', 'Azure Resource Manager'],
      ['https://management.chinacloudapi.cn', 'Azure Resource Manager'],
    ] as const
  ).map(([audience, api]): [string, Partial<EntraTokenAuthorizerProps>, string] => [
    `the audience of ${api} ${audience}`,
    { audiences: [audience] },
    `audiences must be your API's client id or App ID URI; ${audience} is the audience of ${api}, whose tokens are never for your API; got ["${audience}"]`,
  ]),
  [
    'requiredScopes []',
    { requiredScopes: [] },
    `requiredScopes must be ${NAMES} (leave it out for no required scope); got []`,
  ],
  ['a scope with a space', { requiredScopes: ['a b'] }, `requiredScopes must be ${SCOPE_CHARS}; got ["a b"]`],
  [
    'a role with a comma',
    { requiredRoles: ['a,b'] },
    `requiredRoles must be ${NAMES} (leave it out for no required role); got ["a,b"]`,
  ],
  [
    'allowedClientApps []',
    { allowedClientApps: [] },
    `allowedClientApps must be ${NAMES} (leave it out for any client app); got []`,
  ],
  [
    'a client app by name',
    { allowedClientApps: ['frontend'] },
    'allowedClientApps must be application (client) id GUIDs: the azp claim of v2 tokens, appid of v1; got ["frontend"]',
  ],
  [
    'a client app id with a space in it',
    { allowedClientApps: ['bacc0ff1-1111-4222-8333 444444444444'] },
    'allowedClientApps must be application (client) id GUIDs: the azp claim of v2 tokens, appid of v1; got ["bacc0ff1-1111-4222-8333 444444444444"]',
  ],
  [
    'route permissions as an array',
    { routePermissions: [] as never },
    'routePermissions must be an object keyed by "METHOD /path", such as {"GET /items": {"scopes": ["Items.Read"]}}; got []',
  ],
  [
    'a route key without a method',
    { routePermissions: { '/items': {} } },
    `routePermissions keys must be ${ROUTE_KEY}; got "/items"`,
  ],
  [
    'a route key with an unknown method',
    { routePermissions: { 'FETCH /items': {} } },
    `routePermissions keys must be ${ROUTE_KEY}; got "FETCH /items"`,
  ],
  [
    'a route key with a query',
    { routePermissions: { 'GET /items?id=1': {} } },
    'routePermissions keys must be paths without "?" (the IAM policy would read it as "any one character", and method ARNs carry no query string); got "GET /items?id=1"',
  ],
  [
    'a route key with $',
    { routePermissions: { 'GET /a$b': {} } },
    `routePermissions keys must be paths without "$" (the IAM policy would read "\${...}" as a policy variable); got "GET /a$b"`,
  ],
  [
    'a route key ending in /',
    { routePermissions: { 'GET /items/': {} } },
    'routePermissions keys must be paths without a trailing "/" ("GET /items", not "GET /items/"); got "GET /items/"',
  ],
  [
    'a route key with a {param} that is not a whole segment',
    { routePermissions: { 'GET /items/x{id}': {} } },
    'routePermissions keys must be path parameters as whole segments, "{id}" or a last "{proxy+}" (letters, digits, ".", "_", "-"); got "GET /items/x{id}"',
  ],
  [
    'a key with a * glob, which decides no one method',
    { routePermissions: { 'GET /items/{id}': {}, 'GET /orders/*': {} } },
    'routePermissions keys must be resource paths as declared on the API, with {param} and {proxy+} segments: a key decides exactly the method it names, never one its path would match as a pattern (the one key with a *, "* /*", is the default rule of the methods no other key names); got "GET /orders/*"',
  ],
  [
    'a rule that is a string',
    { routePermissions: { 'GET /items': 'Items.Read' as never } },
    'routePermissions["GET /items"] must be an object such as {"scopes": ["Items.Read"]}, or {}; got "Items.Read"',
  ],
  [
    'a rule with a misspelt field',
    { routePermissions: { 'GET /items': { scope: ['a'] } as never } },
    'routePermissions["GET /items"] must be an object with only "scopes", "roles", "clientApps" and "groups"; got {"scope":["a"]}',
  ],
  [
    'route scopes as a string',
    { routePermissions: { 'GET /items': { scopes: 'a' as never } } },
    `routePermissions["GET /items"].scopes must be ${ROUTE_NAMES}; got "a"`,
  ],
  [
    'route scopes []',
    { routePermissions: { 'GET /items': { scopes: [] } } },
    `routePermissions["GET /items"].scopes must be ${ROUTE_NAMES}; got []`,
  ],
  [
    'route roles as a string',
    { routePermissions: { 'GET /orders': { roles: 'Admin' as never } } },
    `routePermissions["GET /orders"].roles must be ${ROUTE_NAMES}; got "Admin"`,
  ],
  [
    'route clientApps by name',
    { routePermissions: { 'DELETE /items/{id}': { clientApps: ['backoffice'] } } },
    `routePermissions["DELETE /items/{id}"].clientApps must be ${ROUTE_APPS}; got ["backoffice"]`,
  ],
  [
    'route clientApps []',
    { routePermissions: { 'DELETE /items/{id}': { clientApps: [] } } },
    `routePermissions["DELETE /items/{id}"].clientApps must be ${ROUTE_APPS}; got []`,
  ],
  [
    'a plain http key URL',
    { jwksUri: 'http://keys.example/k' },
    'jwksUri must be an https URL (plain http only for 127.0.0.1, ::1 or localhost); got "http://keys.example/k"',
  ],
  ['a key URL that is not a URL', { jwksUri: 'keys' }, 'jwksUri must be an absolute https URL; got "keys"'],
  [
    "a B2C tenant's key URL",
    { jwksUri: 'https://contoso.b2clogin.com/contoso.onmicrosoft.com/discovery/v2.0/keys' },
    `jwksUri must be the key URL of a Microsoft Entra tenant (${B2C}); got "https://contoso.b2clogin.com/contoso.onmicrosoft.com/discovery/v2.0/keys"`,
  ],
  [
    'an authority host with a path',
    { authorityHost: 'login.example/evil' },
    'authorityHost must be a host name such as login.microsoftonline.us; got "login.example/evil"',
  ],
  [
    'a B2C login host',
    { authorityHost: 'contoso.b2clogin.com' },
    `authorityHost must be a Microsoft Entra login host (${B2C}); got "contoso.b2clogin.com"`,
  ],
  [
    'an undocumented login host without its v1 issuer host',
    { authorityHost: 'login.example.org' },
    'v1IssuerHost must be the host of the v1 issuer (https://{host}/{tid}/) of the cloud whose login host is login.example.org, a host Microsoft does not document (it does login.microsoftonline.com, login.microsoftonline.us, login.partner.microsoftonline.cn, login.chinacloudapi.cn, and <tenant>.ciamlogin.com for External ID); https://login.example.org/{tenant}/.well-known/openid-configuration names it; got nothing',
  ],
  [
    "21Vianet's login host with the global v1 issuer host",
    { authorityHost: 'login.chinacloudapi.cn', v1IssuerHost: 'sts.windows.net' },
    'v1IssuerHost must be sts.chinacloudapi.cn (the v1 issuer host of Azure operated by 21Vianet, whose login host login.chinacloudapi.cn is in authorityHost), or unset; sts.windows.net belongs to the global Azure cloud and Azure Government: set authorityHost to the login host of one of them instead; got "sts.windows.net"',
  ],
  [
    "the global login host with 21Vianet's v1 issuer host",
    { v1IssuerHost: 'sts.chinacloudapi.cn' },
    'v1IssuerHost must be sts.windows.net (the v1 issuer host of the global Azure cloud, whose login host login.microsoftonline.com is in authorityHost), or unset; sts.chinacloudapi.cn belongs to Azure operated by 21Vianet: set authorityHost to that cloud\'s login host instead; got "sts.chinacloudapi.cn"',
  ],
  [
    'an External ID login host with a v1 issuer host',
    { authorityHost: 'contoso.ciamlogin.com', v1IssuerHost: 'sts.windows.net' },
    'v1IssuerHost must be unset, because authorityHost is the External ID host contoso.ciamlogin.com: External ID documents only v2 issuers, so an External ID API takes v2 tokens only; got "sts.windows.net"',
  ],
  [
    'an External ID login host for a multi-tenant API',
    { tenantId: 'organizations', allowedTenants: ['*'], authorityHost: 'contoso.ciamlogin.com' },
    'tenantId must be the External ID tenant\'s GUID, because authorityHost is contoso.ciamlogin.com: an External ID API serves its own tenant\'s customers; got "organizations"',
  ],
  [
    'a skew over ten minutes',
    { clockSkew: Duration.minutes(11) },
    'clockSkew must be a whole number of seconds from 0 to 600; got "660s"',
  ],
  [
    'a skew of a fraction of a second',
    { clockSkew: Duration.millis(1500) },
    'clockSkew must be a whole number of seconds from 0 to 600; got "1.5s"',
  ],
  [
    'a timeout over 10 s',
    { timeout: Duration.seconds(30) },
    'timeout must be whole seconds from 3 to 10; got "30s"',
  ],
  [
    'a timeout under 3 s',
    { timeout: Duration.seconds(1) },
    'timeout must be whole seconds from 3 to 10; got "1s"',
  ],
  [
    'a timeout with a fraction',
    { timeout: Duration.millis(3500) },
    'timeout must be whole seconds from 3 to 10; got "3.5s"',
  ],
  [
    'a cache TTL over an hour',
    { resultsCacheTtl: Duration.hours(2) },
    'resultsCacheTtl must be whole seconds, at most 1 hour; got "7200s"',
  ],
  [
    'a cache TTL with a fraction',
    { resultsCacheTtl: Duration.millis(1500) },
    'resultsCacheTtl must be whole seconds, at most 1 hour; got "1.5s"',
  ],
  [
    '64 MB of memory',
    { memorySize: 64 },
    'memorySize must be whole megabytes from 128 to 10240 (what Lambda accepts); got 64',
  ],
  [
    'a metrics namespace CloudWatch reserves',
    { metricsNamespace: 'AWS/Lambda' },
    'metricsNamespace must be a namespace that starts with neither ":" nor "AWS/"; got "AWS/Lambda"',
  ],
  [
    'unlistedMethods neither error nor deny',
    { unlistedMethods: 'warn' as never },
    `unlistedMethods must be 'error' or 'deny'; got "warn"`,
  ],
  [
    'a service name with a control character',
    { serviceName: 'orders\u0007' },
    'serviceName must be printable ASCII, 1 to 1024 characters; got "orders\\u0007"',
  ],
  [
    'a memory size of a fraction of a megabyte',
    { memorySize: 256.5 },
    'memorySize must be whole megabytes from 128 to 10240 (what Lambda accepts); got 256.5',
  ],
  [
    'a plain-http key URL with credentials (shown redacted)',
    { jwksUri: 'http://user:secret@keys.example/k' },
    'jwksUri must be an https URL (plain http only for 127.0.0.1, ::1 or localhost); got "http://***@keys.example/k"',
  ],
  [
    'a required scope written as its full URI',
    { requiredScopes: [`api://${CLIENT}/Orders.Read`] },
    `requiredScopes must be ${SCOPE_URI}; got ["api://${CLIENT}/Orders.Read"]`,
  ],
  [
    'a route scope written as its full URI',
    { routePermissions: { 'GET /orders': { scopes: [`api://${CLIENT}/Orders.Read`] } } },
    `routePermissions["GET /orders"].scopes must be ${SCOPE_URI}; got "api://${CLIENT}/Orders.Read"`,
  ],
  [
    'a required role with a character Entra never writes in roles',
    { requiredRoles: ['Orders"Admin'] },
    `requiredRoles must be ${ROLE_CHARS}; got ["Orders\\"Admin"]`,
  ],
  [
    'a route role starting with "."',
    { routePermissions: { 'GET /orders': { roles: ['.Admin'] } } },
    `routePermissions["GET /orders"].roles must be ${ROLE_CHARS}; got ".Admin"`,
  ],
  [
    'a route scope with a non-ASCII letter',
    { routePermissions: { 'GET /orders': { scopes: ['Bestellungen.Lesen.Ü'] } } },
    `routePermissions["GET /orders"].scopes must be ${SCOPE_CHARS}; got "Bestellungen.Lesen.Ü"`,
  ],
  // A JavaScript app has no type to stop a number where a Duration goes: the synth names the prop.
  [
    'a cache TTL given as a number of seconds',
    { resultsCacheTtl: 300 as never },
    'resultsCacheTtl must be a Duration from aws-cdk-lib, such as Duration.minutes(5); got 300',
  ],
  [
    'a clock skew given as a number of seconds',
    { clockSkew: 60 as never },
    'clockSkew must be a Duration from aws-cdk-lib, such as Duration.minutes(5); got 60',
  ],
  [
    'a timeout given as a number of seconds',
    { timeout: 5 as never },
    'timeout must be a Duration from aws-cdk-lib, such as Duration.minutes(5); got 5',
  ],
  [
    'a tenants refresh given as a string',
    { tenantId: 'organizations', allowedTenants: '/entra/tenants', tenantsRefresh: '60' as never },
    'tenantsRefresh must be a Duration from aws-cdk-lib, such as Duration.minutes(5); got "60"',
  ],
  // What a JavaScript app can pass where the prop is another kind: named, never a TypeError from inside.
  ['a tenant id as a number', { tenantId: 42 as never }, 'tenantId must be a string; got 42'],
  [
    'a Duration where a string goes, shown as written',
    { serviceName: Duration.minutes(5) as never },
    'serviceName must be a string; got Duration.minutes(5)',
  ],
  ['a client id of null', { clientId: null as never }, 'clientId must be a string; got null'],
  ['an authority host as a number', { authorityHost: 1 as never }, 'authorityHost must be a string; got 1'],
  [
    'a v1 issuer host as a list',
    { v1IssuerHost: ['sts.windows.net'] as never },
    'v1IssuerHost must be a string; got ["sts.windows.net"]',
  ],
  ['a log level as a number', { logLevel: 0 as never }, 'logLevel must be a string; got 0'],
  ['a service name as a number', { serviceName: 42 as never }, 'serviceName must be a string; got 42'],
  [
    'a metrics namespace as a list',
    { metricsNamespace: ['Orders'] as never },
    'metricsNamespace must be a string; got ["Orders"]',
  ],
  [
    'one required scope as a string, not a list',
    { requiredScopes: 'Items.Read' as never },
    `requiredScopes must be ${LIST}; got "Items.Read"`,
  ],
  ['required roles of null', { requiredRoles: null as never }, `requiredRoles must be ${LIST}; got null`],
  ['required groups as an object', { requiredGroups: {} as never }, `requiredGroups must be ${LIST}; got {}`],
  [
    'allowed client apps as a number',
    { allowedClientApps: 1 as never },
    `allowedClientApps must be ${LIST}; got 1`,
  ],
  [
    'a required scope that is a number',
    { requiredScopes: [1] as never },
    `requiredScopes must be ${LIST}; got [1]`,
  ],
  // A string spread into its characters, each an audience: refused, not spread.
  [
    'one audience as a string, not a list',
    { audiences: 'api://orders' as never },
    `audiences must be ${LIST}; got "api://orders"`,
  ],
  // Left blank, each would silently mean "none" or the default (and the alarms would watch another namespace).
  ['required scopes blank', { requiredScopes: '' as never }, `requiredScopes must be ${LIST}; got ""`],
  ['a blank service name', { serviceName: '' }, 'serviceName must be a non-blank string; got ""'],
  [
    'a blank metrics namespace',
    { metricsNamespace: ' ' },
    'metricsNamespace must be a non-blank string; got " "',
  ],
  ['a blank log level', { logLevel: '' as never }, 'logLevel must be a non-blank string; got ""'],
  // Written to the Lambda as "null", which its cold start refuses.
  ['guestUsers null', { guestUsers: null as never }, 'guestUsers must be a string; got null'],
  [
    'allowedTenants as a number',
    { tenantId: 'organizations', allowedTenants: 42 as never },
    `allowedTenants must be ${TENANTS}; got 42`,
  ],
  [
    'allowedTenants as an object that only looks like a parameter',
    { tenantId: 'organizations', allowedTenants: { parameterName: '/saas/tenants' } as never },
    `allowedTenants must be ${TENANTS}; got {"parameterName":"/saas/tenants"}`,
  ],
  [
    'allowedTenants null',
    { tenantId: 'organizations', allowedTenants: null as never },
    `allowedTenants must be ${TENANTS}; got null`,
  ],
  [
    'a log retention CloudWatch refuses',
    { logRetention: 42 as never },
    `logRetention must be ${RETENTION}; got 42`,
  ],
  [
    'a log retention as a string',
    { logRetention: 'ONE_MONTH' as never },
    `logRetention must be ${RETENTION}; got "ONE_MONTH"`,
  ],
  [
    'a removal policy CDK does not have',
    { logRemovalPolicy: 'delete' as never },
    `logRemovalPolicy must be ${REMOVAL}; got "delete"`,
  ],
  [
    'a removal policy of false',
    { logRemovalPolicy: false as never },
    `logRemovalPolicy must be ${REMOVAL}; got false`,
  ],
  ['a memory size as a string', { memorySize: '512' as never }, 'memorySize must be a number; got "512"'],
  [
    'a memory size of NaN',
    { memorySize: Number.NaN },
    'memorySize must be whole megabytes from 128 to 10240 (what Lambda accepts); got NaN',
  ],
  [
    'a clock skew of Infinity seconds',
    { clockSkew: Duration.seconds(Number.POSITIVE_INFINITY) },
    'clockSkew must be a whole number of seconds from 0 to 600; got "Infinitys"',
  ],
  [
    'guestUsers neither allow nor refuse',
    { guestUsers: 'deny' as never },
    'guestUsers must be one of "allow", "refuse"; got "deny"',
  ],
  [
    'a log level the Lambda does not know',
    { logLevel: 'VERBOSE' as never },
    'logLevel must be one of TRACE, DEBUG, INFO, WARN, ERROR, CRITICAL, SILENT; got "VERBOSE"',
  ],
];

describe('every prop mistake fails the synth with its exact message', () => {
  it.each(MISTAKES)('%s', (_, props, message) => {
    const error = tokenAuthorizerThrown(props);
    expect(error).toBeInstanceOf(PropsError);
    expect((error as Error).message).toBe(`EntraTokenAuthorizer: ${message}`);
    // One "got", at the end: what the prop was given.
    expect((error as Error).message.match(/; got /g)).toHaveLength(1);
  });
});

describe('-c allowedClientApps', () => {
  const get = (values: Record<string, string>) => (key: string) =>
    ({ tenantId: TENANT, clientId: CLIENT, ...values })[key];
  const APP = 'bacc0ff1-1111-4222-8333-444444444444';

  it('reaches the construct and the Lambda as AZURE_ALLOWED_CLIENT_APPS', () => {
    const props = readAppContext(get({ allowedClientApps: ` ${APP.toUpperCase()} ,${CLIENT}` }));
    expect(props.allowedClientApps).toEqual([APP.toUpperCase(), CLIENT]);
    const entra = new EntraTokenAuthorizer(new Stack(testApp(), 'S'), 'Entra', props);
    expect(entra.environment.AZURE_ALLOWED_CLIENT_APPS).toBe(`${APP.toUpperCase()},${CLIENT}`);
  });

  it('is refused, naming the key, when it holds a name', () => {
    expect(() => readAppContext(get({ allowedClientApps: 'frontend' }))).toThrow(
      'context key allowedClientApps must be application (client) id GUIDs; got "frontend": pass it to cdk (synth, deploy or destroy) as: -c allowedClientApps=<client app GUID>,<client app GUID>',
    );
  });
});

describe('EntraHttpAuthorizer: a route table mistake names the route, once', () => {
  const HTTP_KEY =
    'HTTP API route keys as declared on the API: "METHOD /path" with the method one of ANY, GET, POST, PUT, PATCH, DELETE, HEAD, OPTIONS (upper case), path parameters as {name} and a last {name+}, or "$default"';
  const HTTP_MISTAKES: [string, Record<string, unknown>, string][] = [
    [
      'a key without its closing brace',
      { 'GET /items/{id': {} },
      `routePermissions keys must be ${HTTP_KEY}; got "GET /items/{id"`,
    ],
    [
      'a rule with a misspelled field',
      { 'POST /items': { roles: ['Items.Write'], role: ['x'] } },
      'routePermissions["POST /items"] must be an object with only "scopes", "roles", "clientApps" and "groups"; got {"roles":["Items.Write"],"role":["x"]}',
    ],
    [
      'a scope with a space',
      { 'GET /items/{id}': { scopes: ['Items Read'] } },
      `routePermissions["GET /items/{id}"].scopes must be ${ROUTE_NAMES}; got ["Items Read"]`,
    ],
    [
      'not an object',
      [] as never,
      'routePermissions must be a JSON object keyed by HTTP API route keys ("GET /items/{id}", "$default"); got []',
    ],
  ];
  it.each(HTTP_MISTAKES)('%s', (_, routePermissions, message) => {
    const error = thrown(() => {
      new EntraHttpAuthorizer(new Stack(testApp(), 'S'), 'Entra', {
        tenantId: TENANT,
        clientId: CLIENT,
        routePermissions: routePermissions as never,
      });
    });
    expect(error).toBeInstanceOf(PropsError);
    expect((error as Error).message).toBe(`EntraHttpAuthorizer: ${message}`);
    expect((error as Error).message.match(/; got /g)).toHaveLength(1);
  });
});

describe('a CDK Token where the construct checks the value at synth fails naming the prop', () => {
  const TOKEN = 'a value known at synth, not a Token (the construct checks it when the app synthesizes)';
  const lazy = (value: string) => Lazy.string({ produce: () => value });
  const CASES: [string, Partial<EntraTokenAuthorizerProps>, string][] = [
    ['tenantId', { tenantId: lazy(TENANT) }, 'tenantId'],
    ['clientId', { clientId: Fn.ref('ClientId') }, 'clientId'],
    // Before, passed through unchecked: whatever the token resolved to reached the Lambda.
    ['a required scope', { requiredScopes: [lazy('Items.Read')] }, 'requiredScopes'],
    ['a list token', { audiences: Token.asList(Fn.split(',', Fn.ref('Audiences'))) }, 'audiences'],
    ['serviceName', { serviceName: Fn.ref('Service') }, 'serviceName'],
    ['a route rule', { routePermissions: { 'GET /items': { roles: [lazy('Admin')] } } }, 'routePermissions'],
    // Before, CDK's "Duration must be specified as 'Duration.seconds()' here ..." or a failed template.
    [
      'resultsCacheTtl',
      { resultsCacheTtl: Duration.minutes(Token.asNumber(Fn.ref('Ttl'))) },
      'resultsCacheTtl',
    ],
    ['clockSkew', { clockSkew: Duration.seconds(Token.asNumber(Fn.ref('Skew'))) }, 'clockSkew'],
    ['memorySize', { memorySize: Token.asNumber(Fn.ref('Memory')) }, 'memorySize'],
  ];
  it.each(CASES)('%s', (_, props, prop) => {
    const error = tokenAuthorizerThrown(props);
    expect(error).toBeInstanceOf(PropsError);
    expect((error as Error).message.startsWith(`EntraTokenAuthorizer: ${prop} must be ${TOKEN}; got `)).toBe(
      true,
    );
  });
});

describe('mistakes found when the app synthesizes', () => {
  const synthError = (props: Partial<EntraTokenAuthorizerProps>): string => {
    const stack = new Stack(testApp(), 'S');
    const entra = new EntraTokenAuthorizer(stack, 'Entra', { tenantId: TENANT, clientId: CLIENT, ...props });
    const api = new RestApi(stack, 'Api', { defaultMethodOptions: { authorizer: entra.authorizer } });
    api.root.addResource('items').addMethod('GET', new MockIntegration());
    entra.addGatewayResponses(api);
    try {
      Template.fromStack(stack);
    } catch (err) {
      return (err as Error).message;
    }
    return '';
  };

  it('an empty route table refuses every method: the synth names the guarded method no key names', () => {
    // docs/configuration.md: under route permissions a guarded method no key names fails the synth.
    expect(synthError({ routePermissions: {} })).toContain(
      'EntraTokenAuthorizer: method GET /items is guarded by this authorizer but no routePermissions key names it',
    );
  });

  it.each([
    ['requiredScopes', Array.from({ length: 300 }, (_, i) => `Orders.Scope${i}`)],
    ['audiences', Array.from({ length: 200 }, (_, i) => `api://orders-api-${i}.example.com`)],
  ])('a list too long for the Lambda environment is named, not routePermissions: %s', (prop, list) => {
    expect(synthError({ [prop]: list })).toMatch(
      new RegExp(
        `EntraTokenAuthorizer: ${prop}: the Lambda's environment variables come to \\d+ bytes as JSON \\(${prop} take \\d+\\), over the 4096 bytes Lambda accepts`,
      ),
    );
  });
});

describe('the HTTP and WebSocket authorizers check the shared props as the REST one does', () => {
  const make = {
    EntraHttpAuthorizer: (stack: Stack, props: object) =>
      new EntraHttpAuthorizer(stack, 'Entra', props as never),
    EntraWebSocketAuthorizer: (stack: Stack, props: object) =>
      new EntraWebSocketAuthorizer(stack, 'Entra', props as never),
  };
  const CASES: [keyof typeof make, Record<string, unknown>, string][] = [
    // Before, taken and ignored by both.
    [
      'EntraHttpAuthorizer',
      { unlistedMethods: 'warn' },
      `unlistedMethods must be 'error' or 'deny'; got "warn"`,
    ],
    [
      'EntraHttpAuthorizer',
      { unlistedMethods: 'deny' },
      `unlistedMethods must be 'error' or left out: a guarded route that routePermissions does not name fails the synth ('deny' is for a RestApi's methods); got "deny"`,
    ],
    [
      'EntraWebSocketAuthorizer',
      { unlistedMethods: 'deny' },
      `unlistedMethods must be absent: it decides a RestApi's methods that no route key names, and a WebSocket API authorizes $connect only; got "deny"`,
    ],
    ['EntraWebSocketAuthorizer', { tokenSource: ['query'] }, 'tokenSource must be a string; got ["query"]'],
    // Taken (and ignored: no cache on $connect) from a props object shared with the other kinds, but a Duration.
    [
      'EntraWebSocketAuthorizer',
      { resultsCacheTtl: 300 },
      'resultsCacheTtl must be a Duration from aws-cdk-lib, such as Duration.minutes(5); got 300',
    ],
    ['EntraHttpAuthorizer', { requiredRoles: 'Admin' }, `requiredRoles must be ${LIST}; got "Admin"`],
    ['EntraWebSocketAuthorizer', { jwksUri: null }, 'jwksUri must be a string; got null'],
    [
      'EntraHttpAuthorizer',
      { timeout: 10 },
      'timeout must be a Duration from aws-cdk-lib, such as Duration.minutes(5); got 10',
    ],
  ];
  it.each(CASES)('%s %j', (construct, props, message) => {
    const error = thrown(() =>
      make[construct](new Stack(testApp(), 'S'), { tenantId: TENANT, clientId: CLIENT, ...props }),
    );
    expect(error).toBeInstanceOf(PropsError);
    expect((error as Error).message).toBe(`${construct}: ${message}`);
  });
});

describe("the options of the construct's methods, as a JavaScript app can pass them", () => {
  const DURATION = 'must be a Duration from aws-cdk-lib, such as Duration.minutes(5)';
  const CASES: [string, (entra: EntraTokenAuthorizer, api: RestApi) => unknown, string][] = [
    // Before, each a TypeError from inside CDK or our code.
    [
      'addAlarms failureWindow: 60',
      (e) => e.addAlarms({ failureWindow: 60 as never }),
      `addAlarms: failureWindow ${DURATION}; got 60`,
    ],
    [
      "addAlarms unauthorizedWindow: '5m'",
      (e) => e.addAlarms({ unauthorizedWindow: '5m' as never }),
      `addAlarms: unauthorizedWindow ${DURATION}; got "5m"`,
    ],
    [
      'addAlarms action: a topic ARN',
      (e) => e.addAlarms({ action: 'arn:aws:sns:eu-west-1:123456789012:ops' as never }),
      'addAlarms: action must be an alarm action, such as new SnsAction(topic); got "arn:aws:sns:eu-west-1:123456789012:ops"',
    ],
    [
      'metricDecisions period: 300',
      (e) => e.metricDecisions({ period: 300 as never }),
      `metricDecisions: period ${DURATION}; got 300`,
    ],
    [
      'metricDecisions(null)',
      (e) => e.metricDecisions(null as never),
      'metricDecisions: options must be an object of its options; got null',
    ],
    [
      'addMethod with a method that is not a string',
      (e, api) => e.addMethod(api.root.addResource('items'), 5 as never, new MockIntegration(), {}),
      'addMethod: httpMethod must be a string; got 5',
    ],
    // Before, passed through unchecked to the Lambda.
    [
      'addMethod with a Token in its rule',
      (e, api) =>
        e.addMethod(api.root.addResource('items'), 'GET', new MockIntegration(), {
          roles: [Fn.ref('Role')],
        }),
      'addMethod: rule must be a value known at synth, not a Token',
    ],
  ];
  it.each(CASES)('%s', (_, call, message) => {
    const stack = new Stack(testApp(), 'S');
    const entra = new EntraTokenAuthorizer(stack, 'Entra', { tenantId: TENANT, clientId: CLIENT });
    const api = new RestApi(stack, 'Api', { defaultMethodOptions: { authorizer: entra.authorizer } });
    const error = thrown(() => call(entra, api));
    expect(error).toBeInstanceOf(PropsError);
    expect((error as Error).message.startsWith(message)).toBe(true);
  });
});

it('shows a long wrong value cut to a readable line, saying how long it was', () => {
  const list = Array.from({ length: 1000 }, (_, i) => i);
  const error = thrown(() => {
    new EntraTokenAuthorizer(new Stack(testApp(), 'S'), 'Entra', {
      tenantId: TENANT,
      clientId: CLIENT,
      requiredScopes: list as never,
    });
  });
  const shown = JSON.stringify(list);
  expect((error as Error).message).toBe(
    `EntraTokenAuthorizer: requiredScopes must be ${LIST}; got ${shown.slice(0, 400)}... (${shown.length} characters)`,
  );
});
