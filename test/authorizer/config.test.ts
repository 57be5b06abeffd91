import { describe, expect, it } from 'vitest';
import { DEFAULTS, ENV_NAMES, loadConfig } from '../../lambda/authorizer/config.js';
import { ConfigError } from '../../lambda/authorizer/errors.js';

const TENANT = '72f988bf-86f1-41af-91ab-2d7cd011db47';
const base = { [ENV_NAMES.tenantId]: TENANT, [ENV_NAMES.audiences]: 'api://x' };

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
      [ENV_NAMES.tenantId]: 'Organizations',
      [ENV_NAMES.allowedTenants]: ` ${TENANT.toUpperCase()} , ${TENANT}`,
      [ENV_NAMES.requiredScopes]: 'a, b,,a',
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
    expect(
      loadConfig({ ...base, [ENV_NAMES.tenantId]: 'common', [ENV_NAMES.allowedTenants]: '*' }).tenant,
    ).toMatchObject({
      allowedTenants: 'any',
    });
  });

  it('reads a tenant parameter and its refresh; its list is empty until the parameter is read', () => {
    const multi = { ...base, [ENV_NAMES.tenantId]: 'common' };
    const P = ENV_NAMES.allowedTenantsParameter;
    const R = ENV_NAMES.tenantsRefreshSeconds;
    const config = loadConfig({ ...multi, [P]: ' /saas/tenants ' });
    expect(config.tenant).toEqual({ mode: 'multi', tenantId: 'common', allowedTenants: new Set() });
    expect(config.tenantsParameter).toEqual({ name: '/saas/tenants', refreshSeconds: 300 });
    expect(Object.isFrozen(config.tenantsParameter)).toBe(true);
    expect(loadConfig({ ...multi, [P]: 'tenants', [R]: '30' }).tenantsParameter?.refreshSeconds).toBe(30);
    expect(loadConfig({ ...multi, [P]: 'tenants', [R]: '3600' }).tenantsParameter?.refreshSeconds).toBe(3600);
    expect(
      loadConfig({ ...multi, [P]: 'arn:aws:ssm:eu-west-1:123456789012:parameter/saas/tenants' })
        .tenantsParameter?.name,
    ).toBe('arn:aws:ssm:eu-west-1:123456789012:parameter/saas/tenants');
    expect(loadConfig({ ...multi, [ENV_NAMES.allowedTenants]: TENANT }).tenantsParameter).toBeUndefined();
    const refused: [Record<string, string>, string][] = [
      [
        { ...multi, [P]: 'tenants', [R]: '29' },
        `${R}: expected a whole number of seconds from 30 to 3600; got "29"`,
      ],
      [
        { ...multi, [P]: 'tenants', [R]: '3601' },
        `${R}: expected a whole number of seconds from 30 to 3600; got "3601"`,
      ],
      [
        { ...multi, [P]: 'tenants', [R]: '60s' },
        `${R}: expected a whole number of seconds from 30 to 3600; got "60s"`,
      ],
      [
        { ...multi, [ENV_NAMES.allowedTenants]: TENANT, [R]: '60' },
        `${R}: expected unset: it applies only when ${P} names the tenant list's parameter; got "60"`,
      ],
      [
        { ...multi, [P]: 'tenants', [ENV_NAMES.allowedTenants]: TENANT },
        `${ENV_NAMES.allowedTenants}: expected unset, because ${P} names the parameter that holds the list; got "${TENANT}"`,
      ],
      [
        { ...base, [P]: 'tenants' },
        `${P}: expected unset for the single tenant ${TENANT}: it applies only when ${ENV_NAMES.tenantId} is "organizations" or "common"; got "tenants"`,
      ],
      [
        { ...multi, [P]: 'my tenants' },
        `${P}: expected an SSM parameter name such as /saas/allowed-tenants (letters, digits, ".", "_", "-", "/"), or its ARN; got "my tenants"`,
      ],
      [
        { ...multi, [P]: '/saas//tenants' },
        `${P}: expected an SSM parameter name such as /saas/allowed-tenants (letters, digits, ".", "_", "-", "/"), or its ARN; got "/saas//tenants"`,
      ],
    ];
    for (const [env, message] of refused) {
      expect(() => loadConfig(env)).toThrow(ConfigError);
      expect(() => loadConfig(env)).toThrow(message);
    }
  });

  it('reads AZURE_UNLISTED_METHODS, the guarded methods no key names, as route keys; blank is unset', () => {
    const read = (value: string) => loadConfig({ ...base, AZURE_UNLISTED_METHODS: value }).unlistedMethods;
    expect(read(' ["GET /items/secret", "ANY /admin"] ')).toEqual([
      { route: 'GET /items/secret', method: 'GET', path: '/items/secret' },
      { route: 'ANY /admin', method: '*', path: '/admin' },
    ]);
    expect(read('  ')).toBeUndefined();
    expect(loadConfig(base).unlistedMethods).toBeUndefined();
  });

  it("takes a tenant parameter name as long as GetParameter's Name may be (2048 characters), and no longer", () => {
    // SSM API Reference, GetParameter: Name, "Length Constraints: Minimum length of 1. Maximum length of 2048."
    const P = ENV_NAMES.allowedTenantsParameter;
    const named = (length: number) => ({
      ...base,
      [ENV_NAMES.tenantId]: 'organizations',
      [P]: `/${'t'.repeat(length - 1)}`,
    });
    expect(loadConfig(named(2048)).tenantsParameter?.name).toHaveLength(2048);
    expect(() => loadConfig(named(2049))).toThrow(new RegExp(`^${P}: expected an SSM parameter name`));
  });

  it('builds the key URL and issuers of a sovereign cloud from its authority host', () => {
    const config = loadConfig({ ...base, [ENV_NAMES.authorityHost]: 'login.microsoftonline.us' });
    expect(config.jwksUri).toBe(`https://login.microsoftonline.us/${TENANT}/discovery/v2.0/keys`);
  });

  it('parses route permissions', () => {
    const config = loadConfig({
      ...base,
      [ENV_NAMES.routePermissions]:
        '{"GET /items": {"scopes": ["Items.Read"]}, "delete /items/{id}": {"roles": ["Admin"]}, "* /whoami": {}}',
    });
    expect(config.routePermissions).toEqual([
      { route: 'GET /items', method: 'GET', path: '/items', scopes: ['Items.Read'], roles: [] },
      { route: 'delete /items/{id}', method: 'DELETE', path: '/items/{id}', scopes: [], roles: ['Admin'] },
      { route: '* /whoami', method: '*', path: '/whoami', scopes: [], roles: [] },
    ]);
  });

  const bad: [string, Record<string, string | undefined>, string][] = [
    ['a missing tenant', { [ENV_NAMES.tenantId]: undefined }, ENV_NAMES.tenantId],
    ['a tenant that is not a GUID', { [ENV_NAMES.tenantId]: 'contoso.onmicrosoft.com' }, ENV_NAMES.tenantId],
    ['the consumers authority', { [ENV_NAMES.tenantId]: 'consumers' }, ENV_NAMES.tenantId],
    ['multi-tenant without an allow-list', { [ENV_NAMES.tenantId]: 'common' }, ENV_NAMES.allowedTenants],
    [
      'an allow-list with a non-GUID',
      { [ENV_NAMES.tenantId]: 'common', [ENV_NAMES.allowedTenants]: 'contoso' },
      ENV_NAMES.allowedTenants,
    ],
    [
      'an allow-list mixing * and GUIDs',
      { [ENV_NAMES.tenantId]: 'common', [ENV_NAMES.allowedTenants]: `*,${TENANT}` },
      ENV_NAMES.allowedTenants,
    ],
    ['an allow-list on a single tenant', { [ENV_NAMES.allowedTenants]: TENANT }, ENV_NAMES.allowedTenants],
    ['no audience', { [ENV_NAMES.audiences]: ' , ' }, ENV_NAMES.audiences],
    [
      'Microsoft Graph as an audience',
      { [ENV_NAMES.audiences]: 'api://x,https://graph.microsoft.com' },
      ENV_NAMES.audiences,
    ],
    [
      'Azure AD Graph as an audience',
      { [ENV_NAMES.audiences]: '00000002-0000-0000-c000-000000000000' },
      ENV_NAMES.audiences,
    ],
    [
      'Azure Resource Manager as an audience',
      { [ENV_NAMES.audiences]: 'https://management.azure.com/' },
      ENV_NAMES.audiences,
    ],
    ['a plain http key URL', { [ENV_NAMES.jwksUri]: 'http://keys.example/keys' }, ENV_NAMES.jwksUri],
    ['a key URL that is not a URL', { [ENV_NAMES.jwksUri]: 'keys' }, ENV_NAMES.jwksUri],
    ['a negative skew', { [ENV_NAMES.clockSkewSeconds]: '-1' }, ENV_NAMES.clockSkewSeconds],
    ['a skew over ten minutes', { [ENV_NAMES.clockSkewSeconds]: '601' }, ENV_NAMES.clockSkewSeconds],
    ['a fractional skew', { [ENV_NAMES.clockSkewSeconds]: '1.5' }, ENV_NAMES.clockSkewSeconds],
    [
      'route permissions that are not JSON',
      { [ENV_NAMES.routePermissions]: '{GET /x}' },
      ENV_NAMES.routePermissions,
    ],
    [
      'route permissions that are an array',
      { [ENV_NAMES.routePermissions]: '[]' },
      ENV_NAMES.routePermissions,
    ],
    [
      'a route key without a method',
      { [ENV_NAMES.routePermissions]: '{"/items": {}}' },
      ENV_NAMES.routePermissions,
    ],
    [
      'a route with an unknown method',
      { [ENV_NAMES.routePermissions]: '{"FETCH /items": {}}' },
      ENV_NAMES.routePermissions,
    ],
    [
      'a route with an unknown field',
      { [ENV_NAMES.routePermissions]: '{"GET /items": {"scope": ["a"]}}' },
      ENV_NAMES.routePermissions,
    ],
    [
      'a route key ending in /',
      { [ENV_NAMES.routePermissions]: '{"GET /items/": {}}' },
      ENV_NAMES.routePermissions,
    ],
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
          { [ENV_NAMES.routePermissions]: JSON.stringify({ [key]: {} }) },
          ENV_NAMES.routePermissions,
        ] as [string, Record<string, string | undefined>, string],
    ),
    [
      'a table mixing {param} resource paths and * globs',
      { [ENV_NAMES.routePermissions]: '{"GET /items/{id}": {}, "GET /legacy/*": {}}' },
      ENV_NAMES.routePermissions,
    ],
    [
      'two keys for one method and resource',
      { [ENV_NAMES.routePermissions]: '{"GET /items/{id}": {}, "get /items/{itemId}": {}}' },
      ENV_NAMES.routePermissions,
    ],
    [
      'a route with a scope string',
      { [ENV_NAMES.routePermissions]: '{"GET /items": {"scopes": "a"}}' },
      ENV_NAMES.routePermissions,
    ],
    [
      'an authority host with a path',
      { [ENV_NAMES.authorityHost]: 'login.example/evil' },
      ENV_NAMES.authorityHost,
    ],
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
    expect(loadConfig({ ...base, [ENV_NAMES.jwksUri]: 'http://127.0.0.1:3001/keys' }).jwksUri).toBe(
      'http://127.0.0.1:3001/keys',
    );
    expect(loadConfig({ ...base, [ENV_NAMES.jwksUri]: 'http://[::1]:3001/keys' }).jwksUri).toBe(
      'http://[::1]:3001/keys',
    );
  });

  it('counts all of 127.0.0.0/8 as loopback, whatever the width of each number', () => {
    for (const host of ['127.10.200.250', '127.255.255.254', '127.1.22.133']) {
      const uri = `http://${host}/keys`;
      expect(loadConfig({ ...base, [ENV_NAMES.jwksUri]: uri }).jwksUri).toBe(uri);
    }
  });
});
