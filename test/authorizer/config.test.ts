import { describe, expect, it } from 'vitest';
import { DEFAULTS, ENV, loadConfig } from '../../lambda/authorizer/config.js';
import { ConfigError } from '../../lambda/authorizer/errors.js';

const TENANT = '72f988bf-86f1-41af-91ab-2d7cd011db47';
const base = { [ENV.tenantId]: TENANT, [ENV.audiences]: 'api://x' };

describe('loadConfig', () => {
  it('reads a single-tenant configuration with its defaults and freezes it', () => {
    const config = loadConfig(base);
    expect(config).toMatchObject({
      tenant: { mode: 'single', tenantId: TENANT },
      audiences: ['api://x'],
      required: { scopes: [], roles: [] },
      routePermissions: undefined,
      jwksUri: `https://login.microsoftonline.com/${TENANT}/discovery/v2.0/keys`,
      clockSkewSeconds: DEFAULTS.clockSkewSeconds,
    });
    expect(Object.isFrozen(config)).toBe(true);
    expect(Object.isFrozen(config.audiences)).toBe(true);
  });

  it('reads lists with spaces and duplicates, and multi-tenant allow-lists', () => {
    const config = loadConfig({
      ...base,
      [ENV.tenantId]: 'Organizations',
      [ENV.allowedTenants]: ` ${TENANT.toUpperCase()} , ${TENANT}`,
      [ENV.requiredScopes]: 'a, b,,a',
    });
    expect(config.tenant).toEqual({
      mode: 'multi',
      tenantId: 'organizations',
      allowedTenants: new Set([TENANT]),
    });
    expect(config.required.scopes).toEqual(['a', 'b']);
    expect(config.jwksUri).toBe('https://login.microsoftonline.com/organizations/discovery/v2.0/keys');
  });

  it('takes "*" as any tenant only when written explicitly', () => {
    expect(loadConfig({ ...base, [ENV.tenantId]: 'common', [ENV.allowedTenants]: '*' }).tenant).toMatchObject(
      {
        allowedTenants: 'any',
      },
    );
  });

  it('builds the key URL and issuers of a sovereign cloud from its authority host', () => {
    const config = loadConfig({ ...base, [ENV.authorityHost]: 'login.microsoftonline.us' });
    expect(config.jwksUri).toBe(`https://login.microsoftonline.us/${TENANT}/discovery/v2.0/keys`);
  });

  it('parses route permissions', () => {
    const config = loadConfig({
      ...base,
      [ENV.routePermissions]:
        '{"GET /items": {"scopes": ["Items.Read"]}, "delete /items/*": {"roles": ["Admin"]}, "* /whoami": {}}',
    });
    expect(config.routePermissions).toEqual([
      { route: 'GET /items', method: 'GET', path: '/items', scopes: ['Items.Read'], roles: [] },
      { route: 'delete /items/*', method: 'DELETE', path: '/items/*', scopes: [], roles: ['Admin'] },
      { route: '* /whoami', method: '*', path: '/whoami', scopes: [], roles: [] },
    ]);
  });

  const bad: [string, Record<string, string | undefined>, string][] = [
    ['a missing tenant', { [ENV.tenantId]: undefined }, ENV.tenantId],
    ['a tenant that is not a GUID', { [ENV.tenantId]: 'contoso.onmicrosoft.com' }, ENV.tenantId],
    ['the consumers authority', { [ENV.tenantId]: 'consumers' }, ENV.tenantId],
    ['multi-tenant without an allow-list', { [ENV.tenantId]: 'common' }, ENV.allowedTenants],
    [
      'an allow-list with a non-GUID',
      { [ENV.tenantId]: 'common', [ENV.allowedTenants]: 'contoso' },
      ENV.allowedTenants,
    ],
    [
      'an allow-list mixing * and GUIDs',
      { [ENV.tenantId]: 'common', [ENV.allowedTenants]: `*,${TENANT}` },
      ENV.allowedTenants,
    ],
    ['an allow-list on a single tenant', { [ENV.allowedTenants]: TENANT }, ENV.allowedTenants],
    ['no audience', { [ENV.audiences]: ' , ' }, ENV.audiences],
    [
      'Microsoft Graph as an audience',
      { [ENV.audiences]: 'api://x,https://graph.microsoft.com' },
      ENV.audiences,
    ],
    [
      'Azure AD Graph as an audience',
      { [ENV.audiences]: '00000002-0000-0000-c000-000000000000' },
      ENV.audiences,
    ],
    [
      'Azure Resource Manager as an audience',
      { [ENV.audiences]: 'https://management.azure.com/' },
      ENV.audiences,
    ],
    ['a plain http key URL', { [ENV.jwksUri]: 'http://keys.example/keys' }, ENV.jwksUri],
    ['a key URL that is not a URL', { [ENV.jwksUri]: 'keys' }, ENV.jwksUri],
    ['a negative skew', { [ENV.clockSkewSeconds]: '-1' }, ENV.clockSkewSeconds],
    ['a skew over ten minutes', { [ENV.clockSkewSeconds]: '601' }, ENV.clockSkewSeconds],
    ['a fractional skew', { [ENV.clockSkewSeconds]: '1.5' }, ENV.clockSkewSeconds],
    ['route permissions that are not JSON', { [ENV.routePermissions]: '{GET /x}' }, ENV.routePermissions],
    ['route permissions that are an array', { [ENV.routePermissions]: '[]' }, ENV.routePermissions],
    ['a route key without a method', { [ENV.routePermissions]: '{"/items": {}}' }, ENV.routePermissions],
    [
      'a route with an unknown method',
      { [ENV.routePermissions]: '{"FETCH /items": {}}' },
      ENV.routePermissions,
    ],
    [
      'a route with an unknown field',
      { [ENV.routePermissions]: '{"GET /items": {"scope": ["a"]}}' },
      ENV.routePermissions,
    ],
    ['a route key ending in /', { [ENV.routePermissions]: '{"GET /items/": {}}' }, ENV.routePermissions],
    ...[
      'GET /items/x{id}',
      'GET /items/{}',
      'GET /{proxy+}/a',
      'GET /items/{id}/*',
      'GET /a//{id}',
      `GET /${'a'.repeat(300)}`,
      `GET /${'a'.repeat(298)}/{id}`,
    ].map(
      (key) =>
        [
          `a route ${key.slice(0, 40)} that is no resource path, or too long for a policy resource`,
          { [ENV.routePermissions]: JSON.stringify({ [key]: {} }) },
          ENV.routePermissions,
        ] as [string, Record<string, string | undefined>, string],
    ),
    [
      'a table mixing {param} resource paths and * globs',
      { [ENV.routePermissions]: '{"GET /items/{id}": {}, "GET /legacy/*": {}}' },
      ENV.routePermissions,
    ],
    [
      'two keys for one method and resource',
      { [ENV.routePermissions]: '{"GET /items/{id}": {}, "get /items/{itemId}": {}}' },
      ENV.routePermissions,
    ],
    [
      'a route with a scope string',
      { [ENV.routePermissions]: '{"GET /items": {"scopes": "a"}}' },
      ENV.routePermissions,
    ],
    ['an authority host with a path', { [ENV.authorityHost]: 'login.example/evil' }, ENV.authorityHost],
  ];

  it.each(bad)('fails at cold start for %s, naming %s', (_, env, variable) => {
    let error: unknown;
    try {
      loadConfig({ ...base, ...env });
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).variable).toBe(variable);
    expect((error as Error).message).toMatch(new RegExp(`^${variable}: expected .+; got `));
  });

  it('allows plain http for loopback key URLs only', () => {
    expect(loadConfig({ ...base, [ENV.jwksUri]: 'http://127.0.0.1:3001/keys' }).jwksUri).toBe(
      'http://127.0.0.1:3001/keys',
    );
    expect(loadConfig({ ...base, [ENV.jwksUri]: 'http://[::1]:3001/keys' }).jwksUri).toBe(
      'http://[::1]:3001/keys',
    );
  });
});
