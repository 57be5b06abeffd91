import { describe, expect, it } from 'vitest';
import { ENV_NAMES } from '../../lambda/authorizer/config.js';
import { KeyServer } from '../helpers/key-server.js';
import {
  buildAuthorizer,
  claims,
  event,
  header,
  publishedKeySet,
  signed,
  TENANT,
  testKeys,
} from '../helpers/setup.js';

const server = KeyServer.forSuite(publishedKeySet);

// Issuers as Microsoft states them for each cloud (v1 / v2 issuer hosts):
// https://learn.microsoft.com/answers/questions/1190472/what-are-the-token-issuers-for-the-sovereign-cloud
const CHINA_V1 = `https://sts.chinacloudapi.cn/${TENANT}/`;
const CHINA_V2 = `https://login.partner.microsoftonline.cn/${TENANT}/v2.0`;
const US_V1 = `https://sts.windows.net/${TENANT}/`;
const US_V2 = `https://login.microsoftonline.us/${TENANT}/v2.0`;

/** A token of another cloud: signed by a key that names no issuer, as v1 key sets publish them. */
function cloudToken(iss: string, version: '1.0' | '2.0', extra: Record<string, unknown> = {}): string {
  return signed(header({ kid: 'second-key' }), { ...claims({ version }), iss, ...extra }, testKeys().second);
}

const judge = async (env: Record<string, string>, token: string) => {
  const { handler, records } = buildAuthorizer({ [ENV_NAMES.jwksUri]: server.url, ...env });
  await handler(event(`Bearer ${token}`)).catch(() => undefined);
  return records.at(-1);
};

describe('sovereign clouds, from the authority host alone', () => {
  it.each(['login.chinacloudapi.cn', 'login.partner.microsoftonline.cn'])(
    'Azure operated by 21Vianet (%s): its v1 and v2 tokens are allowed, no v1IssuerHost needed',
    async (authority) => {
      const env = { [ENV_NAMES.authorityHost]: authority };
      expect((await judge(env, cloudToken(CHINA_V1, '1.0')))?.decision.outcome).toBe('allow');
      expect((await judge(env, cloudToken(CHINA_V2, '2.0')))?.decision.outcome).toBe('allow');
      // The global cloud's v1 issuer is not 21Vianet's.
      expect((await judge(env, cloudToken(US_V1, '1.0')))?.decision.reason).toBe('wrong_issuer');
    },
  );

  it('Azure Government: its v1 (sts.windows.net) and v2 tokens are allowed', async () => {
    const env = { [ENV_NAMES.authorityHost]: 'login.microsoftonline.us' };
    expect((await judge(env, cloudToken(US_V1, '1.0')))?.decision.outcome).toBe('allow');
    expect((await judge(env, cloudToken(US_V2, '2.0')))?.decision.outcome).toBe('allow');
    expect((await judge(env, cloudToken(CHINA_V2, '2.0')))?.decision.reason).toBe('wrong_issuer');
  });

  it.each([
    [
      CHINA_V1,
      '1.0',
      'sts.chinacloudapi.cn',
      'Azure operated by 21Vianet',
      'login.partner.microsoftonline.cn',
    ],
    [
      CHINA_V2,
      '2.0',
      'login.partner.microsoftonline.cn',
      'Azure operated by 21Vianet',
      'login.partner.microsoftonline.cn',
    ],
    [US_V2, '2.0', 'login.microsoftonline.us', 'Azure Government', 'login.microsoftonline.us'],
  ] as const)(
    'a token of %s judged in the global cloud: the hint names its cloud and login host',
    async (iss, version, host, cloud, authority) => {
      const record = await judge({}, cloudToken(iss, version));
      expect(record?.decision.reason).toBe('wrong_issuer');
      expect(record?.hint).toBe(
        `the token's unverified iss host ${host} is ${cloud}'s: if your API is registered in ${cloud}, set AZURE_AUTHORITY_HOST=${authority} (its v1 issuer host follows)`,
      );
    },
  );

  it("a token whose iss is 21Vianet's login host in v1 shape: the hint names every issuer the cloud documents", async () => {
    const record = await judge(
      { [ENV_NAMES.authorityHost]: 'login.chinacloudapi.cn' },
      cloudToken(`https://login.chinacloudapi.cn/${TENANT}/`, '1.0'),
    );
    expect(record?.decision.reason).toBe('wrong_issuer');
    expect(record?.hint).toContain(
      '; expected https://login.partner.microsoftonline.cn/<tid>/v2.0 or https://login.chinacloudapi.cn/<tid>/v2.0 or https://sts.chinacloudapi.cn/<tid>/,',
    );
  });

  it.each([
    'https://graph.microsoft.us',
    'https://dod-graph.microsoft.us',
    'https://microsoftgraph.chinacloudapi.cn',
  ])(
    'a token for Microsoft Graph of another cloud (%s) is a graph_token, whatever the cloud',
    async (aud) => {
      const record = await judge(
        { [ENV_NAMES.authorityHost]: 'login.microsoftonline.us' },
        cloudToken(US_V2, '2.0', { aud }),
      );
      expect(record?.decision.reason).toBe('graph_token');
    },
  );

  it('a B2C token is refused with the line that points to External ID', async () => {
    const record = await judge({}, cloudToken(`https://contoso.b2clogin.com/${TENANT}/v2.0/`, '2.0'));
    expect(record?.decision.reason).toBe('wrong_issuer');
    expect(record?.hint).toBe(
      `the token's unverified iss https://contoso.b2clogin.com/${TENANT}/v2.0/: Azure AD B2C, at b2clogin.com, is not supported, and B2C is closed to new customers: for customer sign-in use Microsoft Entra External ID, at <tenant>.ciamlogin.com`,
    );
  });
});
