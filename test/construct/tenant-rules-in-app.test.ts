import type { APIGatewayAuthorizerResult } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import { createSigningKey, signJwt } from '../../infra/local/mint.js';
import { guardedApp } from '../helpers/in-app.js';
import { KeyServer } from '../helpers/key-server.js';
import { CLIENT_ID, claims, TENANT } from '../helpers/setup.js';

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
