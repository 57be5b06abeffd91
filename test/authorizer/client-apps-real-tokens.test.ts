import { afterEach, describe, expect, it, vi } from 'vitest';
import { ENV_NAMES } from '../../lambda/authorizer/config.js';
import { UNAUTHORIZED } from '../../lambda/authorizer/decision.js';
import { fixtureAuthorizer, fixturePair, skipWithoutFixtures } from '../helpers/entra-fixtures.js';
import { KeyServer } from '../helpers/key-server.js';
import { event } from '../helpers/setup.js';

/**
 * allowedClientApps judged on real Entra ID tokens (../shared/fixtures/entra, clock fixed at each token's
 * valid time). Microsoft names the calling application `appid` in v1 access tokens and `azp` in v2 ones
 * (https://learn.microsoft.com/entra/identity-platform/access-token-claims-reference); the passport v1 access
 * token carries `appid` and no `azp`, so it shows which claim a v1 caller is read from.
 */
const V1_ACCESS = 'passport.v1-access-token.2016-06-30.txt';
// The token's own appid, as its payload carries it (read from the fixture, not from the code under test).
const ITS_APP = 'bebfad57-efd7-419b-b74b-4b9dab7bd470';
const OTHER_APP = '5ca1ab1e-1111-4222-8333-444444444444';

const payloadOf = (token: string) =>
  JSON.parse(Buffer.from(token.split('.')[1] as string, 'base64url').toString('utf8')) as Record<
    string,
    unknown
  >;

describe.skipIf(skipWithoutFixtures('"allowedClientApps on real Entra ID tokens"'))(
  'allowedClientApps on real Entra ID tokens (fixed clock)',
  () => {
    const server = KeyServer.forSuite();
    afterEach(() => {
      vi.useRealTimers();
    });

    const setUp = (tokenFile: string, env: Record<string, string>) =>
      fixtureAuthorizer(tokenFile, server, env);

    it('the v1 access token names its client app in appid, and carries no azp', () => {
      const { token } = setUp(V1_ACCESS, {});
      expect(payloadOf(token)).toMatchObject({ ver: '1.0', appid: ITS_APP });
      expect(payloadOf(token)).not.toHaveProperty('azp');
    });

    it('admits the v1 access token when its appid is an allowed client app (any case)', async () => {
      const { handler, records, token } = setUp(V1_ACCESS, {
        [ENV_NAMES.allowedClientApps]: `${OTHER_APP},${ITS_APP.toUpperCase()}`,
      });
      const result = await handler(event(`Bearer ${token}`));
      expect(result.policyDocument.Statement[0]).toMatchObject({ Effect: 'Allow' });
      expect(records.at(-1)).toMatchObject({ decision: { outcome: 'allow' }, appId: ITS_APP });
    });

    it('denies (403, client_app_not_allowed) the v1 access token of an app not on the list, naming its appid', async () => {
      const { handler, records, token } = setUp(V1_ACCESS, {
        [ENV_NAMES.allowedClientApps]: OTHER_APP,
      });
      const result = await handler(event(`Bearer ${token}`));
      expect(result.policyDocument.Statement[0]).toMatchObject({ Effect: 'Deny' });
      const record = records.at(-1);
      expect(record?.decision).toMatchObject({ outcome: 'deny', reason: 'client_app_not_allowed' });
      expect(record?.hint).toContain(`${ITS_APP} (claim appid, ver 1.0)`);
      expect(record?.hint).toContain(`add ${ITS_APP} to AZURE_ALLOWED_CLIENT_APPS`);
    });

    it("keeps a route to its clientApps: the real token's app is refused there and admitted elsewhere", async () => {
      const routes = {
        'GET /whoami': {},
        'DELETE /items/{id}': { clientApps: [OTHER_APP] },
      };
      const { handler, records, token } = setUp(V1_ACCESS, {
        [ENV_NAMES.routePermissions]: JSON.stringify(routes),
      });
      const arn = (route: string) => `arn:aws:execute-api:eu-west-1:123456789012:abc123def4/prod/${route}`;
      await handler(event(`Bearer ${token}`, arn('DELETE/items/42')));
      expect(records.at(-1)?.decision.reason).toBe('client_app_not_allowed');
      expect(records.at(-1)?.hint).toContain(`${ITS_APP} (claim appid, ver 1.0)`);
      expect(records.at(-1)?.hint).toContain("that route's clientApps");
      await handler(event(`Bearer ${token}`, arn('GET/whoami')));
      expect(records.at(-1)?.decision.outcome).toBe('allow');
    });

    it.each([
      'jose4j.v2-id-token.2016-08-02.txt',
      'dfinity-ii.v2-id-token-org.2025-09-02.txt',
      'passport.v1-id-token.2016-08-16.txt',
    ])(
      'never takes the id token %s for a client app, even with its aud on the list: 401, not an access token',
      async (tokenFile) => {
        const pair = fixturePair(tokenFile);
        const { handler, records, token } = setUp(tokenFile, { [ENV_NAMES.allowedClientApps]: pair.aud });
        await expect(handler(event(`Bearer ${token}`))).rejects.toThrow(UNAUTHORIZED);
        expect(records.at(-1)?.decision.reason).toBe('not_an_access_token');
      },
    );
  },
);
