import { Duration } from 'aws-cdk-lib';
import { describe, expect, it } from 'vitest';
import {
  authorizerEnvironment,
  authorizerSettings,
  type EntraTokenAuthorizerProps,
} from '../../infra/construct/authorizer-props.js';
import { PropsError } from '../../infra/construct/errors.js';
import {
  envSource,
  loadConfig,
  readRoutePermissions,
  SETTINGS,
  validateSettings,
} from '../../lambda/authorizer/config.js';
import { ConfigError } from '../../lambda/authorizer/errors.js';

const TENANT = '72f988bf-86f1-41af-91ab-2d7cd011db47';
const CLIENT = '6e74172b-be56-4843-9ff4-e66a39bb12e3';
const APP = '11111111-2222-4333-8444-555555555555';
const props = (extra: Partial<EntraTokenAuthorizerProps> = {}): EntraTokenAuthorizerProps => ({
  tenantId: TENANT,
  clientId: CLIENT,
  ...extra,
});

/** What the synth says a prop must be, from the PropsError's one line. */
function synthExpected(extra: Partial<EntraTokenAuthorizerProps>): string {
  try {
    authorizerEnvironment(props(extra));
  } catch (err) {
    expect(err).toBeInstanceOf(PropsError);
    return /^EntraTokenAuthorizer: \S+ must be (.*); got .*$/.exec((err as Error).message)?.[1] ?? '';
  }
  throw new Error(`the props were accepted: ${JSON.stringify(extra)}`);
}

/** What the cold start says a variable must be, with the variables named as the props that set them. */
function coldStartExpected(env: Record<string, string>): string {
  try {
    loadConfig({ AZURE_TENANT_ID: TENANT, AZURE_AUDIENCES: CLIENT, ...env });
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return Object.values(SETTINGS)
      .reduce((text, { variable, prop }) => text.replaceAll(variable, prop), (err as ConfigError).expected)
      .replaceAll('"*"', "['*']");
  }
  throw new Error(`the variables were accepted: ${JSON.stringify(env)}`);
}

describe('the props and the variables, checked by one validator', () => {
  it.each<[string, Partial<EntraTokenAuthorizerProps>, Record<string, string>]>([
    ['multi-tenant without an allow-list', { tenantId: 'common' }, { AZURE_TENANT_ID: 'common' }],
    [
      'an allow-list with a name',
      { tenantId: 'organizations', allowedTenants: ['contoso'] },
      { AZURE_TENANT_ID: 'organizations', AZURE_ALLOWED_TENANTS: 'contoso' },
    ],
    ['an allow-list on a single tenant', { allowedTenants: [TENANT] }, { AZURE_ALLOWED_TENANTS: TENANT }],
    [
      'an External ID host with a multi-tenant authority',
      { tenantId: 'organizations', allowedTenants: ['*'], authorityHost: 'contoso.ciamlogin.com' },
      {
        AZURE_TENANT_ID: 'organizations',
        AZURE_ALLOWED_TENANTS: '*',
        AZURE_AUTHORITY_HOST: 'contoso.ciamlogin.com',
      },
    ],
    ['a client app by name', { allowedClientApps: ['frontend'] }, { AZURE_ALLOWED_CLIENT_APPS: 'frontend' }],
    ['a skew over ten minutes', { clockSkew: Duration.seconds(660) }, { AZURE_CLOCK_SKEW_SECONDS: '660' }],
    [
      'a B2C login host',
      { authorityHost: 'contoso.b2clogin.com' },
      { AZURE_AUTHORITY_HOST: 'contoso.b2clogin.com' },
    ],
    [
      'a v1 issuer host of another cloud',
      { v1IssuerHost: 'sts.chinacloudapi.cn' },
      { AZURE_V1_ISSUER_HOST: 'sts.chinacloudapi.cn' },
    ],
    [
      'a key URL over plain http',
      { jwksUri: 'http://keys.example.com/k' },
      { AZURE_JWKS_URI: 'http://keys.example.com/k' },
    ],
    [
      "Microsoft Graph's audience",
      { audiences: ['https://graph.microsoft.com'] },
      { AZURE_AUDIENCES: 'https://graph.microsoft.com' },
    ],
  ])('say the same of %s, each naming its own side', (_, extra, env) => {
    expect(synthExpected(extra)).toBe(coldStartExpected(env));
  });

  it.each<[string, Partial<EntraTokenAuthorizerProps>]>([
    ['a single tenant', {}],
    [
      'a multi-tenant API in a sovereign cloud, with everything set',
      {
        tenantId: 'organizations',
        allowedTenants: [TENANT.toUpperCase()],
        audiences: ['api://items'],
        requiredScopes: ['Items.Read'],
        requiredRoles: ['Items.Admin'],
        allowedClientApps: [APP.toUpperCase()],
        routePermissions: { 'GET /items/{id}': { scopes: ['Items.Read'] }, 'DELETE /items/{id}': {} },
        clockSkew: Duration.seconds(30),
        authorityHost: 'login.microsoftonline.us',
        jwksUri: 'https://login.microsoftonline.us/organizations/discovery/v2.0/keys',
      },
    ],
  ])('give the cold start, for %s, the configuration the synth validated', (_, extra) => {
    const settings = authorizerSettings(props(extra));
    const source = envSource({});
    expect(loadConfig(authorizerEnvironment(props(extra)))).toEqual({
      ...validateSettings(settings, source),
      routePermissions: readRoutePermissions(settings.routePermissions, source),
    });
  });
});
