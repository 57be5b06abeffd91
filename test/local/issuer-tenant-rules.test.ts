import { mkdtempSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { explainToken } from '../../infra/local/explain.js';
import {
  createLocalIssuer,
  LOCAL_CLIENT_ID,
  LOCAL_TENANT_ID,
  loadOrCreateIssuerKey,
  localIssuerUrls,
} from '../../infra/local/issuer.js';
import { ENV_NAMES, loadConfig } from '../../lambda/authorizer/config.js';
import { EntraJwksCache } from '../../lambda/authorizer/keys/key-cache.js';
import { createTenantKeyCache, tenantKeysUriOf } from '../../lambda/authorizer/keys/tenant-keys.js';
import { localToken } from '../helpers/local-token.js';

const READERS = 'aaaaaaaa-1111-4222-8333-444444444444';
let server: Server;
let urls: ReturnType<typeof localIssuerUrls>;
let base: string;

beforeAll(async () => {
  const key = await loadOrCreateIssuerKey(mkdtempSync(join(tmpdir(), 'entra-tenant-rules-')));
  let handle: ReturnType<typeof createLocalIssuer> | undefined;
  server = createServer((req, res) => {
    void handle?.(req, res).then((answered) => answered || res.writeHead(404).end());
  });
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  handle = createLocalIssuer({ key, baseUrl: base });
  urls = localIssuerUrls(base);
});
afterAll(() => new Promise<void>((done) => server.close(() => done())));

/** explain on a token of the local issuer, for a route, under these variables. */
async function explain(token: string, env: Record<string, string>, path = '/reports') {
  const config = loadConfig({
    [ENV_NAMES.tenantId]: LOCAL_TENANT_ID,
    [ENV_NAMES.audiences]: LOCAL_CLIENT_ID,
    [ENV_NAMES.jwksUri]: urls.jwksUri,
    ...env,
  });
  return explainToken(token, { config, keys: new EntraJwksCache(), route: { method: 'GET', path } });
}

// The form fields are those `npx entra-authorizer token --groups/--overage/--guest` sends.
describe('tokens of the local issuer (token --groups, --overage, --guest), judged by explain', () => {
  const routes = JSON.stringify({ 'GET /reports': { groups: [READERS] }, 'GET /orders': {} });

  it('--groups: a member of the route group is allowed; --overage is groups_overage on it, allowed elsewhere', async () => {
    const env = { [ENV_NAMES.routePermissions]: routes };
    const member = await localToken(urls.tokenEndpoint, { groups: READERS });
    expect((await explain(member, env)).decision.reason).toBe('allowed');
    const overage = await localToken(urls.tokenEndpoint, { groups_overage: '1' });
    const report = await explain(overage, env);
    expect(report.payload?.groups).toBeUndefined();
    expect(report.payload?._claim_names).toEqual({ groups: 'src1' });
    expect(report.decision).toMatchObject({ status: 403, reason: 'groups_overage' });
    expect((await explain(overage, env, '/orders')).decision.reason).toBe('allowed');
  });

  it('--guest: allowed by default, a 403 guest_not_allowed where guests are refused', async () => {
    const guest = await localToken(urls.tokenEndpoint, { guest: '1' });
    expect((await explain(guest, {}, '/')).decision.reason).toBe('allowed');
    const refused = await explain(guest, { [ENV_NAMES.guestUsers]: 'refuse' }, '/');
    expect(refused.decision).toMatchObject({ status: 403, reason: 'guest_not_allowed' });
    const member = await localToken(urls.tokenEndpoint);
    expect((await explain(member, { [ENV_NAMES.guestUsers]: 'refuse' }, '/')).decision.reason).toBe(
      'allowed',
    );
  });
});

describe('keys per tenant against the local issuer', () => {
  it("serves a multi-tenant API's shared set and each tenant's own where Entra does; a kid in neither is a 401", async () => {
    const shared = localIssuerUrls(base, 'organizations').jwksUri;
    const config = loadConfig({
      [ENV_NAMES.tenantId]: 'organizations',
      [ENV_NAMES.allowedTenants]: LOCAL_TENANT_ID,
      [ENV_NAMES.audiences]: LOCAL_CLIENT_ID,
      [ENV_NAMES.jwksUri]: shared,
    });
    const tenantKeys = createTenantKeyCache();
    const token = await localToken(urls.tokenEndpoint);
    const report = await explainToken(token, { config, keys: new EntraJwksCache(), tenantKeys });
    expect(report.decision.reason).toBe('allowed');
    // The tenant's own set is the local issuer's key URL for that tenant, and it answers.
    const own = tenantKeysUriOf(shared)?.(LOCAL_TENANT_ID) as string;
    expect(own).toBe(urls.jwksUri);
    const kid = report.header?.kid as string;
    await tenantKeys.getJwks(own);
    expect(tenantKeys.findFreshJwk(own, kid)?.kid).toBe(kid);
    // A made-up kid of an allowed tenant: the shared set and the tenant's own are read, neither holds it.
    const [h, p, sig] = token.split('.') as [string, string, string];
    const header = JSON.parse(Buffer.from(h, 'base64url').toString());
    const forged = `${Buffer.from(JSON.stringify({ ...header, kid: 'made-up' })).toString('base64url')}.${p}.${sig}`;
    const refused = await explainToken(forged, {
      config,
      keys: new EntraJwksCache(),
      tenantKeys: createTenantKeyCache(),
    });
    expect(refused.decision).toMatchObject({ status: 401, reason: 'unknown_key' });
    expect(refused.decision.detail).toContain(
      `is in neither the shared key set nor tenant ${LOCAL_TENANT_ID}'s`,
    );
  });
});
