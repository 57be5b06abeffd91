import { describe, expect, it } from 'vitest';
import { ENV_NAMES } from '../../lambda/authorizer/config.js';
import { createRouteKeyAuthorizer, parseRouteKeyPermissions } from '../../lambda/authorizer/route-keys.js';
import { KeyServer } from '../helpers/key-server.js';
import { APP_ID_URI, buildAuthorizer, event, publishedKeySet, token } from '../helpers/setup.js';

const server = KeyServer.forSuite(publishedKeySet);

const FRONTEND = 'f0f0f0f0-1111-4222-8333-444444444444';
const BACKOFFICE = 'bacc0ff1-1111-4222-8333-444444444444';
const STRANGER = '5ca1ab1e-1111-4222-8333-444444444444';
const PREFIX = 'arn:aws:execute-api:eu-west-1:123456789012:abc123def4/prod';

const build = (env: Record<string, string>) => buildAuthorizer({ [ENV_NAMES.jwksUri]: server.url, ...env });

/**
 * Entra names the calling application `azp` in v2 access tokens and `appid` in v1
 * (https://learn.microsoft.com/entra/identity-platform/access-token-claims-reference): every shape of token.
 */
const shapes = [
  { name: 'v2 delegated', version: '2.0', appOnly: false, claim: 'azp' },
  { name: 'v2 app-only', version: '2.0', appOnly: true, claim: 'azp' },
  { name: 'v1 delegated', version: '1.0', appOnly: false, claim: 'appid' },
  { name: 'v1 app-only', version: '1.0', appOnly: true, claim: 'appid' },
] as const;

const tokenOf = (shape: (typeof shapes)[number], clientId: string) =>
  token({
    version: shape.version,
    appOnly: shape.appOnly,
    clientId,
    roles: ['Items.Admin'],
    ...(shape.version === '1.0' ? { audience: APP_ID_URI } : {}),
  });

describe('AZURE_ALLOWED_CLIENT_APPS', () => {
  it.each(shapes)(
    'admits a $name token of an allowed client app (upper case in the variable)',
    async (shape) => {
      const { handler, records } = build({ [ENV_NAMES.allowedClientApps]: FRONTEND.toUpperCase() });
      const result = await handler(event(`Bearer ${tokenOf(shape, FRONTEND)}`));
      expect(records.at(-1)?.decision).toMatchObject({ outcome: 'allow', reason: 'allowed' });
      expect(result.policyDocument.Statement).toEqual([
        { Action: 'execute-api:Invoke', Effect: 'Allow', Resource: [`${PREFIX}/*`] },
      ]);
    },
  );

  it.each(shapes)(
    'refuses a $name token of another client app with a 403 of its own, naming the app as the token claim',
    async (shape) => {
      const { handler, records } = build({ [ENV_NAMES.allowedClientApps]: `${FRONTEND},${BACKOFFICE}` });
      const result = await handler(event(`Bearer ${tokenOf(shape, STRANGER)}`));
      const record = records.at(-1);
      expect(record?.decision).toMatchObject({ outcome: 'deny', reason: 'client_app_not_allowed' });
      expect(record?.appId).toBe(STRANGER);
      expect(result.policyDocument.Statement).toEqual([
        {
          Action: 'execute-api:Invoke',
          Effect: 'Deny',
          Resource: [`${PREFIX}/GET/whoami`],
        },
      ]);
      expect(record?.hint).toContain(
        `the calling app is ${STRANGER} (claim ${shape.claim}, ver ${shape.version})`,
      );
      expect(record?.hint).toContain(`add ${STRANGER} to AZURE_ALLOWED_CLIENT_APPS`);
    },
  );

  it('refuses a token from a client app whose id differs only by a character', async () => {
    const { handler, records } = build({ [ENV_NAMES.allowedClientApps]: FRONTEND });
    await handler(event(`Bearer ${token({ clientId: `${FRONTEND.slice(0, -1)}5` })}`));
    expect(records.at(-1)?.decision.reason).toBe('client_app_not_allowed');
  });
});

describe('clientApps in a route rule', () => {
  const routes = {
    'GET /items': { roles: ['Items.Admin'] },
    'DELETE /items/{id}': { roles: ['Items.Admin'], clientApps: [BACKOFFICE] },
  };
  const env = { [ENV_NAMES.routePermissions]: JSON.stringify(routes) };
  const arn = (method: string, path: string) => `${PREFIX}/${method}${path}`;

  it.each(shapes)(
    'keeps the admin route to the back-office app ($name), and the cached policy never lists it for another',
    async (shape) => {
      const { handler, records } = build(env);
      const stranger = tokenOf(shape, STRANGER);
      const refused = await handler(event(`Bearer ${stranger}`, arn('DELETE', '/items/42')));
      expect(records.at(-1)?.decision).toMatchObject({ outcome: 'deny', reason: 'client_app_not_allowed' });
      expect(records.at(-1)?.hint).toContain(`the calling app is ${STRANGER} (claim ${shape.claim}`);
      expect(records.at(-1)?.hint).toContain("to that route's clientApps in the route permissions");
      // The routes this client may call stay allowed; the admin route is in no Allow, and this request is denied.
      expect(refused.policyDocument.Statement).toEqual([
        { Action: 'execute-api:Invoke', Effect: 'Allow', Resource: [arn('GET', '/items')] },
        {
          Action: 'execute-api:Invoke',
          Effect: 'Deny',
          Resource: [arn('DELETE', '/items/42'), `${PREFIX}/*/*/`],
        },
      ]);
      const cachedForList = await handler(event(`Bearer ${stranger}`, arn('GET', '/items')));
      expect(records.at(-1)?.decision.outcome).toBe('allow');
      const listed = cachedForList.policyDocument.Statement.flatMap((s) => [
        (s as { Resource: string[] }).Resource,
      ]).flat();
      expect(listed.some((r) => r.includes('/DELETE/'))).toBe(false);

      const admin = await handler(event(`Bearer ${tokenOf(shape, BACKOFFICE)}`, arn('DELETE', '/items/42')));
      expect(records.at(-1)?.decision.outcome).toBe('allow');
      expect(admin.policyDocument.Statement[0]).toEqual({
        Action: 'execute-api:Invoke',
        Effect: 'Allow',
        Resource: [arn('GET', '/items'), arn('DELETE', '/items/*')],
      });
    },
  );

  it('says insufficient_permission, not client_app_not_allowed, when the client may call but lacks the role', async () => {
    const { handler, records } = build(env);
    await handler(
      event(
        `Bearer ${token({ clientId: BACKOFFICE, scopes: ['access_as_user'] })}`,
        arn('DELETE', '/items/1'),
      ),
    );
    expect(records.at(-1)?.decision.reason).toBe('insufficient_permission');
  });
});

describe('clientApps in an HTTP API route table', () => {
  const routes = createRouteKeyAuthorizer({
    required: { scopes: [], roles: [] },
    routeKeys: parseRouteKeyPermissions({
      'GET /items': { scopes: ['Items.Read'] },
      'DELETE /items/{id}': { roles: ['Items.Admin'], clientApps: [BACKOFFICE.toUpperCase()] },
    }),
  });

  it.each(shapes)('admits only the route clientApps on that route ($name)', (shape) => {
    const caller = (appId: string) =>
      shape.appOnly
        ? { scopes: [], roles: ['Items.Admin'], appId }
        : { scopes: ['Items.Read'], roles: ['Items.Admin'], appId };
    expect(routes(caller(BACKOFFICE), 'DELETE /items/{id}')).toEqual({
      allowed: true,
      detail: 'route DELETE /items/{id}',
    });
    expect(routes(caller(FRONTEND), 'DELETE /items/{id}')).toMatchObject({
      allowed: false,
      reason: 'client_app_not_allowed',
    });
    // A route without clientApps admits any client app that has its scope or role.
    expect(routes(caller(STRANGER), 'GET /items').allowed).toBe(!shape.appOnly);
  });
});

describe('groups in an HTTP API route table, and the API-wide required groups', () => {
  const READERS = 'aaaaaaaa-1111-4222-8333-444444444444';
  const routes = createRouteKeyAuthorizer({
    required: { scopes: [], roles: [] },
    routeKeys: parseRouteKeyPermissions({
      'GET /items': { scopes: ['Items.Read'] },
      'GET /reports': { scopes: ['Items.Read'], groups: [READERS] },
    }),
  });
  const reader = { scopes: ['Items.Read'], roles: [], appId: FRONTEND };

  it('a member of the group passes, a caller outside it is refused, an overage token is groups_overage', () => {
    expect(routes({ ...reader, groups: [READERS] }, 'GET /reports').allowed).toBe(true);
    expect(routes({ ...reader, groups: [] }, 'GET /reports')).toMatchObject({
      allowed: false,
      denial: { kind: 'route_rule', route: 'GET /reports' },
      reason: 'insufficient_permission',
      missing: `route GET /reports requires scope Items.Read, and group ${READERS}`,
    });
    expect(routes({ ...reader, groupsOverage: true }, 'GET /reports')).toMatchObject({
      allowed: false,
      denial: { kind: 'route_groups_overage', route: 'GET /reports', needs: [READERS] },
      reason: 'groups_overage',
      missing: `route GET /reports requires group ${READERS}, and the token's groups did not fit in it (group overage)`,
    });
    // A route that needs no group never looks at them.
    expect(routes({ ...reader, groupsOverage: true }, 'GET /items').allowed).toBe(true);
  });

  it('required groups hold on every route key, overage included', () => {
    const gated = createRouteKeyAuthorizer({
      required: { scopes: [], roles: [], groups: [READERS] },
      routeKeys: undefined,
    });
    expect(gated({ ...reader, groups: [READERS] }, '$default').allowed).toBe(true);
    expect(gated({ ...reader, groupsOverage: true }, '$default')).toMatchObject({ reason: 'groups_overage' });
    expect(gated(reader, '$default')).toMatchObject({ reason: 'insufficient_permission' });
  });
});
