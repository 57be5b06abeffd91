import type { APIGatewayAuthorizerResult } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import { createSigningKey, signJwt } from '../../infra/local/mint.js';
import { guardedApp } from '../helpers/in-app.js';
import { KeyServer } from '../helpers/key-server.js';
import { CLIENT_ID, claims, OTHER_TENANT, TENANT } from '../helpers/setup.js';

// Each key of a v2 key set names the issuer it signs for; 21Vianet's two login hosts each name their own.
const partnerKey = createSigningKey({
  kid: 'partner-key',
  issuer: 'https://login.partner.microsoftonline.cn/{tenantid}/v2.0',
});
const chinaKey = createSigningKey({
  kid: 'china-key',
  issuer: 'https://login.chinacloudapi.cn/{tenantid}/v2.0',
});
const server = KeyServer.forSuite(() => ({ keys: [partnerKey.publicJwk, chinaKey.publicJwk] }));

const PARTNER_V2 = `https://login.partner.microsoftonline.cn/${TENANT}/v2.0`;
const CHINA_V2 = `https://login.chinacloudapi.cn/${TENANT}/v2.0`;
const GLOBAL_V2 = `https://login.microsoftonline.com/${TENANT}/v2.0`;

const tokenOf = (iss: string, key: typeof partnerKey, extra: Record<string, unknown> = {}) =>
  signJwt(
    { typ: 'JWT', alg: 'RS256', kid: key.kid },
    { ...claims({ scopes: ['Orders.Read'] }), iss, ...extra },
    key.privateKey,
  );

describe('Azure operated by 21Vianet: either login host, either v2 issuer host', () => {
  const app = (authorityHost: string) =>
    guardedApp(
      {
        tenantId: TENANT,
        clientId: CLIENT_ID,
        authorityHost,
        jwksUri: server.url,
        routePermissions: {
          'GET /orders': { scopes: ['Orders.Read'] },
          'DELETE /orders': { roles: ['Admin'] },
        },
      },
      ['GET /orders', 'DELETE /orders'],
    );

  it.each(['login.chinacloudapi.cn', 'login.partner.microsoftonline.cn'])(
    'configured with %s: a v2 token of either host, signed by either host key, is allowed, fresh and cached',
    async (authorityHost) => {
      const guarded = app(authorityHost);
      expect(guarded.env.AZURE_AUTHORITY_HOST).toBe(authorityHost);
      for (const iss of [PARTNER_V2, CHINA_V2]) {
        for (const key of [partnerKey, chinaKey]) {
          const record = await guarded.decide(tokenOf(iss, key), 'GET /orders');
          expect([iss, key.kid, record.decision.reason]).toEqual([iss, key.kid, 'allowed']);
          const { result: policy } = record.decision as { result: APIGatewayAuthorizerResult };
          expect(guarded.cachedAllows(policy, 'GET /orders')).toBe(true);
          // The cached policy is no wider than a fresh decision on the other route (403 there).
          expect((await guarded.decide(tokenOf(iss, key), 'DELETE /orders')).decision.outcome).toBe('deny');
          expect(guarded.cachedAllows(policy, 'DELETE /orders')).toBe(false);
        }
      }
    },
  );

  it("another cloud's v2 issuer and a made-up host under chinacloudapi.cn stay wrong_issuer", async () => {
    const guarded = app('login.chinacloudapi.cn');
    for (const iss of [GLOBAL_V2, `https://sts.chinacloudapi.cn/${TENANT}/v2.0`]) {
      const record = await guarded.decide(tokenOf(iss, chinaKey), 'GET /orders');
      expect(record.decision.reason).toBe('wrong_issuer');
      expect(record.decision.detail).toContain(`; expected ${PARTNER_V2} or ${CHINA_V2} or https://sts.`);
    }
  });

  it('explain passes the issuer rule and the key binding for the other host', async () => {
    const report = await app('login.partner.microsoftonline.cn').explain(
      tokenOf(CHINA_V2, partnerKey),
      'GET /orders',
    );
    expect(report.decision.reason).toBe('allowed');
    const outcome = (check: string) => report.checks.find((c) => c.check === check)?.outcome;
    expect(outcome('iss is the Entra issuer (v1 or v2) of the token tid')).toBe('pass');
    expect(outcome('the key signs for the token issuer')).toBe('pass');
  });
});

describe('guest users: guestUsers refuse', () => {
  const key = createSigningKey({
    kid: 'global-key',
    issuer: 'https://login.microsoftonline.com/{tenantid}/v2.0',
  });
  const keys = KeyServer.forSuite(() => ({ keys: [key.publicJwk] }));
  const routes = {
    'GET /orders': { scopes: ['Orders.Read'] },
    'DELETE /orders': { scopes: ['Orders.Read'] },
  };
  const app = (guestUsers?: 'allow' | 'refuse') =>
    guardedApp(
      {
        tenantId: TENANT,
        clientId: CLIENT_ID,
        jwksUri: keys.url,
        routePermissions: routes,
        ...(guestUsers === undefined ? {} : { guestUsers }),
      },
      ['GET /orders', 'DELETE /orders'],
    );
  const userToken = (extra: Record<string, unknown>, options: Parameters<typeof claims>[0] = {}) =>
    signJwt(
      { typ: 'JWT', alg: 'RS256', kid: key.kid },
      { ...claims({ scopes: ['Orders.Read'], ...options }), ...extra },
      key.privateKey,
    );
  const HOME = '3c3c3c3c-1111-4222-8333-444455556666';
  const V1_ISS = `https://sts.windows.net/${TENANT}/`;
  // The signs Entra documents (docs/permissions-and-caching.md): acct decides; else idp other than iss
  // and naming no issuer of the token's own tenant.
  const guests: [string, Record<string, unknown>, Parameters<typeof claims>[0]?][] = [
    ['acct 1', { acct: 1 }],
    ['acct 1, idp the issuer', { acct: 1, idp: GLOBAL_V2 }],
    ['idp of another tenant (v2)', { idp: `https://sts.windows.net/${HOME}/` }],
    ['idp live.com (a personal account invited)', { idp: 'live.com' }],
    ['idp of another tenant (v1)', { idp: `https://sts.windows.net/${HOME}/` }, { version: '1.0' }],
    // A federated partner's IdP (SAML/WS-Fed B2B) names its own issuer URI, whatever its path says.
    ['idp of a partner IdP whose path names this tenant', { idp: `https://idp.partner.example/${TENANT}/` }],
  ];
  const members: [string, Record<string, unknown>, Parameters<typeof claims>[0]?][] = [
    ['no idp, no acct', { idp: undefined }],
    ['idp the issuer', { idp: GLOBAL_V2 }],
    ['idp the v1 issuer of its own tenant', { idp: V1_ISS }],
    ['acct 0, idp of another tenant', { acct: 0, idp: `https://sts.windows.net/${HOME}/` }],
    [
      'app-only, idp of another tenant',
      { idp: `https://sts.windows.net/${HOME}/` },
      { appOnly: true, roles: ['R'] },
    ],
  ];

  it('synth writes the variable; a typo fails the synth naming the prop', () => {
    expect(app('refuse').env.AZURE_GUEST_USERS).toBe('refuse');
    expect(app().env.AZURE_GUEST_USERS).toBeUndefined();
    expect(() => app('maybe' as 'allow')).toThrow(
      /EntraTokenAuthorizer: guestUsers must be one of "allow", "refuse"; got "maybe"/,
    );
  });

  it.each(guests)(
    'a guest (%s) is a 403 guest_not_allowed, fresh and in the cached policy',
    async (_, extra, options) => {
      const guarded = app('refuse');
      const record = await guarded.decide(userToken(extra, options), 'GET /orders');
      expect([record.decision.outcome, record.decision.reason]).toEqual(['deny', 'guest_not_allowed']);
      expect(record.hint).toMatch(
        /^the user is a guest \(B2B\) of the tenant \((its acct claim is 1|its idp .+ is not the issuer of tenant .+)\), and guests are refused/,
      );
      const { result } = record.decision as { result: APIGatewayAuthorizerResult };
      expect(guarded.cachedAllows(result, 'GET /orders')).toBe(false);
      expect(guarded.cachedAllows(result, 'DELETE /orders')).toBe(false);
      // The default admits the same token, judged by its scopes as a member's.
      expect((await app().decide(userToken(extra, options), 'GET /orders')).decision.reason).toBe('allowed');
    },
  );

  it.each(members)(
    'not a guest (%s): allowed, and the cached policy allows both routes',
    async (_, extra, options) => {
      const guarded = app('refuse');
      const token = userToken(extra, options);
      const record = await guarded.decide(token, 'GET /orders');
      if (options?.appOnly) {
        // An app-only token has no scp: the route refuses it for its scope, never as a guest.
        expect(record.decision.reason).toBe('insufficient_permission');
        return;
      }
      expect(record.decision.reason).toBe('allowed');
      const { result } = record.decision as { result: APIGatewayAuthorizerResult };
      expect(guarded.cachedAllows(result, 'DELETE /orders')).toBe(true);
    },
  );

  it('explain names the guest rule: a failing line of its own, the reason and the hint', async () => {
    const report = await app('refuse').explain(userToken({ acct: 1 }), 'GET /orders');
    expect(report.decision).toMatchObject({ status: 403, reason: 'guest_not_allowed' });
    expect(report.checks).toContainEqual({
      check: 'a member of the tenant, not a guest (AZURE_GUEST_USERS is refuse)',
      outcome: 'fail',
      detail: 'the user is a guest of the tenant, and guests are refused (AZURE_GUEST_USERS=refuse)',
    });
    expect(report.hint).toContain("set guestUsers to 'allow'");
    const member = await app('refuse').explain(userToken({}), 'GET /orders');
    expect(member.checks.find((c) => c.check.startsWith('a member of the tenant'))?.outcome).toBe('pass');
    const allowing = await app().explain(userToken({ acct: 1 }), 'GET /orders');
    expect(allowing.checks.some((c) => c.check.startsWith('a member of the tenant'))).toBe(false);
  });
});

describe('groups per route, with overage', () => {
  const key = createSigningKey({
    kid: 'groups-key',
    issuer: 'https://login.microsoftonline.com/{tenantid}/v2.0',
  });
  const keys = KeyServer.forSuite(() => ({ keys: [key.publicJwk] }));
  const READERS = 'aaaaaaaa-1111-4222-8333-444444444444';
  const ADMINS = 'bbbbbbbb-1111-4222-8333-444444444444';
  const routes = {
    'GET /orders': { scopes: ['Orders.Read'] },
    'GET /reports': { scopes: ['Orders.Read'], groups: [READERS.toUpperCase()] },
    'DELETE /orders': { groups: [ADMINS] },
  };
  const app = (extra: Record<string, unknown> = {}) =>
    guardedApp(
      { tenantId: TENANT, clientId: CLIENT_ID, jwksUri: keys.url, routePermissions: routes, ...extra },
      ['GET /orders', 'GET /reports', 'DELETE /orders'],
    );
  // As `npx entra-authorizer token --groups <id,...>` and `--overage` mint them.
  const tokenWith = (options: Parameters<typeof claims>[0]) =>
    signJwt(
      { typ: 'JWT', alg: 'RS256', kid: key.kid },
      claims({ scopes: ['Orders.Read'], ...options }),
      key.privateKey,
    );
  const policyOf = (record: { decision: unknown }) =>
    (record.decision as { result: APIGatewayAuthorizerResult }).result;

  it('a group member is allowed its group route; the cached policy allows exactly what fresh decisions do', async () => {
    const guarded = app();
    expect(JSON.parse(guarded.env.AZURE_ROUTE_PERMISSIONS ?? '{}')['GET /reports'].groups).toEqual([
      READERS.toUpperCase(),
    ]);
    const token = tokenWith({ groups: [READERS] });
    const record = await guarded.decide(token, 'GET /reports');
    expect(record.decision.reason).toBe('allowed');
    for (const [route, fresh] of [
      ['GET /orders', 'allowed'],
      ['GET /reports', 'allowed'],
      ['DELETE /orders', 'insufficient_permission'],
    ] as const) {
      expect((await guarded.decide(token, route)).decision.reason).toBe(fresh);
      expect(guarded.cachedAllows(policyOf(record), route)).toBe(fresh === 'allowed');
    }
    const denied = await guarded.decide(token, 'DELETE /orders');
    expect(denied.decision.detail).toBe(`DELETE /orders (route "DELETE /orders") requires group ${ADMINS}`);
    expect(denied.hint).toContain('add it to one of those groups (its groups claim lists 1;');
  });

  it('groups alone still need a scope or a role, and a scope without the group is refused', async () => {
    const guarded = app();
    const noGroup = await guarded.decide(tokenWith({}), 'GET /reports');
    expect([noGroup.decision.reason, noGroup.decision.detail]).toEqual([
      'insufficient_permission',
      `GET /reports (route "GET /reports") requires scope Orders.Read, and group ${READERS}`,
    ]);
    const admin = await guarded.decide(tokenWith({ scopes: ['Other'], groups: [ADMINS] }), 'DELETE /orders');
    expect(admin.decision.reason).toBe('allowed');
  });

  it('overage: a route that needs a group is a 403 groups_overage with its hint; the others stay allowed, fresh and cached', async () => {
    const guarded = app();
    const token = tokenWith({ groupsOverage: true });
    const record = await guarded.decide(token, 'GET /reports');
    expect([record.decision.outcome, record.decision.reason]).toEqual(['deny', 'groups_overage']);
    expect(record.decision.detail).toBe(
      `GET /reports (route "GET /reports") requires group ${READERS}, and the token's groups did not fit in it (group overage)`,
    );
    expect(record.hint).toContain('no Graph call is made');
    expect(guarded.cachedAllows(policyOf(record), 'GET /reports')).toBe(false);
    expect(guarded.cachedAllows(policyOf(record), 'GET /orders')).toBe(true);
    const orders = await guarded.decide(token, 'GET /orders');
    expect(orders.decision.reason).toBe('allowed');
    expect(guarded.cachedAllows(policyOf(orders), 'GET /reports')).toBe(false);
    // A route whose scope the token lacks is refused for the scope, not as overage.
    const lacking = await guarded.decide(
      tokenWith({ scopes: ['Other'], groupsOverage: true }),
      'GET /reports',
    );
    expect(lacking.decision.reason).toBe('insufficient_permission');
  });

  it('requiredGroups: every route needs one of them; an overage token is groups_overage everywhere', async () => {
    const guarded = app({ requiredGroups: [ADMINS] });
    expect(guarded.env.AZURE_REQUIRED_GROUPS).toBe(ADMINS);
    const member = await guarded.decide(tokenWith({ groups: [ADMINS, READERS] }), 'GET /reports');
    expect(member.decision.reason).toBe('allowed');
    const outsider = await guarded.decide(tokenWith({ groups: [READERS] }), 'GET /orders');
    expect([outsider.decision.reason, outsider.decision.detail]).toEqual([
      'insufficient_permission',
      `the API requires group ${ADMINS}`,
    ]);
    const overage = await guarded.decide(tokenWith({ groupsOverage: true }), 'GET /orders');
    expect(overage.decision.reason).toBe('groups_overage');
    expect(guarded.cachedAllows(policyOf(overage), 'GET /orders')).toBe(false);
  });

  it('a group that is not a GUID fails the synth, naming the prop', () => {
    expect(() => app({ requiredGroups: ['Readers'] })).toThrow(
      'EntraTokenAuthorizer: requiredGroups must be group object id GUIDs (the groups claim carries object ids, never a group\'s name); got ["Readers"]',
    );
    expect(() =>
      guardedApp(
        {
          tenantId: TENANT,
          clientId: CLIENT_ID,
          routePermissions: { 'GET /orders': { scopes: ['Orders.Read'], groups: ['Order readers'] } },
        },
        ['GET /orders'],
      ),
    ).toThrow(
      'EntraTokenAuthorizer: routePermissions["GET /orders"].groups must be group object id GUIDs (the groups claim carries object ids, never a group\'s name); got "Order readers"',
    );
  });

  it('explain names the overage: the decision, the failing permission line and the hint', async () => {
    const report = await app().explain(tokenWith({ groupsOverage: true }), 'GET /reports');
    expect(report.decision).toMatchObject({ status: 403, reason: 'groups_overage' });
    expect(report.checks.find((c) => c.check.startsWith('may call GET /reports'))).toMatchObject({
      outcome: 'fail',
      detail: expect.stringContaining('(group overage)'),
    });
    expect(report.hint).toContain("assign the groups to the API's enterprise application");
  });
});

describe('keys per tenant in a multi-tenant app', () => {
  const template = 'https://login.microsoftonline.com/{tenantid}/v2.0';
  const sharedKey = createSigningKey({ kid: 'shared-key', issuer: template });
  const ownKey = createSigningKey({ kid: 'own-key', issuer: template });
  const keys = KeyServer.forSuite(() => ({ keys: [sharedKey.publicJwk] }));
  keys.tenantSets.set(TENANT, { keys: [sharedKey.publicJwk, ownKey.publicJwk] });
  keys.tenantSets.set(OTHER_TENANT, { keys: [sharedKey.publicJwk, ownKey.publicJwk] });
  const app = () =>
    guardedApp(
      {
        tenantId: 'organizations',
        allowedTenants: [TENANT],
        clientId: CLIENT_ID,
        jwksUri: keys.urlOf('organizations'),
        routePermissions: {
          'GET /orders': { scopes: ['Orders.Read'] },
          'DELETE /orders': { roles: ['Admin'] },
        },
      },
      ['GET /orders', 'DELETE /orders'],
    );
  const tokenFor = (tenantId: string, key: typeof ownKey) =>
    signJwt(
      { typ: 'JWT', alg: 'RS256', kid: key.kid },
      claims({ tenantId, scopes: ['Orders.Read'] }),
      key.privateKey,
    );
  const tenantPath = (tenant: string) => new URL(keys.urlOf(tenant)).pathname;

  it("a kid only in the token tenant's own set: allowed fresh, the cached policy no wider, explain names the set", async () => {
    const guarded = app();
    const record = await guarded.decide(tokenFor(TENANT, ownKey), 'GET /orders');
    expect(record.decision.reason).toBe('allowed');
    expect(keys.paths).toContain(tenantPath(TENANT));
    const { result: policy } = record.decision as { result: APIGatewayAuthorizerResult };
    expect(guarded.cachedAllows(policy, 'GET /orders')).toBe(true);
    expect(guarded.cachedAllows(policy, 'DELETE /orders')).toBe(false);
    const report = await guarded.explain(tokenFor(TENANT, ownKey), 'GET /orders');
    expect(report.decision).toMatchObject({ status: 200, reason: 'allowed' });
    expect(report.signature.status).toBe('verified');
    expect(report.signature.detail).toContain(`from ${keys.urlOf(TENANT)}`);
  });

  it('a tenant not on the list is a 401 tenant_not_allowed, fresh and in explain, and its set is never fetched', async () => {
    const guarded = app();
    expect((await guarded.decide(tokenFor(OTHER_TENANT, ownKey), 'GET /orders')).decision.reason).toBe(
      'tenant_not_allowed',
    );
    const report = await guarded.explain(tokenFor(OTHER_TENANT, ownKey), 'GET /orders');
    expect(report.decision).toMatchObject({ status: 401, reason: 'tenant_not_allowed' });
    expect(report.signature.status).toBe('not_checked');
    expect(keys.paths).not.toContain(tenantPath(OTHER_TENANT));
  });
});
