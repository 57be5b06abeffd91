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

/**
 * External ID's issuer, as Microsoft documents it: "For external tenants, the document is publicly available
 * at: https://{tenantname}.ciamlogin.com/{tenantid}/v2.0/.well-known/openid-configuration. This endpoint
 * returns an issuer value https://{tenantid}.ciamlogin.com/{tenantid}/v2.0"
 * (https://learn.microsoft.com/entra/identity-platform/security-tokens). The login host carries the tenant's
 * name; the issuer's host carries its ID.
 */
const LOGIN_HOST = 'contoso.ciamlogin.com';
const DOCUMENTED = `https://${TENANT}.ciamlogin.com/${TENANT}/v2.0`;

const judge = async (iss: string, version: '1.0' | '2.0') => {
  const { handler, records } = buildAuthorizer({
    [ENV_NAMES.jwksUri]: server.url,
    [ENV_NAMES.authorityHost]: LOGIN_HOST,
  });
  // A key that names no issuer, as the local issuer publishes External ID keys: what issuer, if any, a real
  // external tenant's key set binds its keys to is not in the page cited above.
  const token = signed(header({ kid: 'second-key' }), { ...claims({ version }), iss }, testKeys().second);
  await handler(event(`Bearer ${token}`)).catch(() => undefined);
  return records.at(-1);
};

describe('External ID issuers, exactly as documented', () => {
  it('admits the documented issuer, on the tenant ID host', async () => {
    expect((await judge(DOCUMENTED, '2.0'))?.decision.outcome).toBe('allow');
  });

  it.each([
    ['on the login (tenant name) host', `https://${LOGIN_HOST}/${TENANT}/v2.0`],
    ['with a trailing slash', `${DOCUMENTED}/`],
    ['of the workforce cloud', `https://login.microsoftonline.com/${TENANT}/v2.0`],
  ])('refuses a v2 issuer %s', async (_, iss) => {
    expect((await judge(iss, '2.0'))?.decision.reason).toBe('wrong_issuer');
  });

  it('says which issuer it expected: the tenant ID host, and no v1 issuer', async () => {
    const record = await judge(`https://${LOGIN_HOST}/${TENANT}/v2.0`, '2.0');
    expect(record?.hint).toMatch(
      /; expected https:\/\/<tid>\.ciamlogin\.com\/<tid>\/v2\.0, <tid> being its tid /,
    );
  });

  it('refuses a v1-shaped External ID issuer, and the hint says to ask for v2 tokens', async () => {
    // Only the v2 issuer is documented. A v1 shape, https://{tid}.ciamlogin.com/{tid}/, has been reported
    // in the wild (a Microsoft community post on API Management with customer tenants), not in the docs.
    const record = await judge(`https://${TENANT}.ciamlogin.com/${TENANT}/`, '1.0');
    expect(record?.decision.reason).toBe('wrong_issuer');
    expect(record?.hint).toContain('is a v1 issuer of an External ID tenant');
    expect(record?.hint).toContain('"accessTokenAcceptedVersion": 2');
  });
});
