import { describe, expect, it } from 'vitest';
import { ENV_NAMES } from '../../lambda/authorizer/config.js';
import { UNAUTHORIZED } from '../../lambda/authorizer/decision.js';
import { KeyServer } from '../helpers/key-server.js';
import {
  buildAuthorizer,
  claims,
  event,
  header,
  METHOD_ARN,
  publishedKeySet,
  STAGE_ARN,
  signed,
  TENANT,
  testKeys,
} from '../helpers/setup.js';

/*
 * The fields of an answer that API Gateway or a backend trusts, each pinned to its documented value: the
 * policy language version (IAM's current one, "2012-10-17"), the Effect and Resource, and appOnly.
 */

const server = KeyServer.forSuite(publishedKeySet);
const build = (env: Record<string, string> = {}) =>
  buildAuthorizer({ [ENV_NAMES.jwksUri]: server.url, ...env });

describe('the policy document', () => {
  it('carries IAM policy language version 2012-10-17 on an Allow and on a Deny', async () => {
    const allowed = await build().handler(event(`Bearer ${signed(header(), claims())}`));
    expect(allowed.policyDocument).toEqual({
      Version: '2012-10-17',
      Statement: [{ Action: 'execute-api:Invoke', Effect: 'Allow', Resource: [STAGE_ARN] }],
    });
    const denied = await build({ [ENV_NAMES.requiredScopes]: 'Items.Write' }).handler(
      event(`Bearer ${signed(header(), claims())}`),
    );
    expect(denied.policyDocument).toEqual({
      Version: '2012-10-17',
      Statement: [{ Action: 'execute-api:Invoke', Effect: 'Deny', Resource: [METHOD_ARN] }],
    });
  });
});

describe('appOnly in the context', () => {
  // Microsoft: idtyp (optional claim) says app or user; without it, "bool isAppOnlyToken = oid == sub"
  // (learn.microsoft.com/entra/identity-platform/scenario-protected-web-api-verification-scope-app-roles).
  // A user's token without scp (roles only) keeps its pairwise sub, so it is no app's.
  const cases: {
    name: string;
    scp?: string;
    roles?: string[];
    idtyp?: string;
    subIsOid?: true;
    noIds?: true;
    appOnly: boolean;
  }[] = [
    { name: 'roles, no scp, no idtyp, sub = oid', roles: ['Items.Read'], subIsOid: true, appOnly: true },
    { name: "roles, no scp, no idtyp, a user's sub", roles: ['Items.Read'], appOnly: false },
    { name: 'roles, no scp, idtyp app', roles: ['Items.Read'], idtyp: 'app', appOnly: true },
    { name: 'roles, no scp, idtyp user', roles: ['Items.Read'], idtyp: 'user', appOnly: false },
    { name: 'scp, no idtyp', scp: 'access_as_user', appOnly: false },
    { name: 'scp, no idtyp, sub = oid', scp: 'access_as_user', subIsOid: true, appOnly: false },
    { name: 'scp, idtyp user', scp: 'access_as_user', idtyp: 'user', appOnly: false },
    { name: 'scp, idtyp app', scp: 'access_as_user', idtyp: 'app', appOnly: true },
    {
      name: 'a blank scp, roles, no idtyp, sub = oid',
      scp: ' ',
      roles: ['Items.Read'],
      subIsOid: true,
      appOnly: true,
    },
    {
      name: 'roles, no scp, no idtyp, neither oid nor sub',
      roles: ['Items.Read'],
      noIds: true,
      appOnly: false,
    },
  ];

  it.each(cases)(
    'is $appOnly for a token with $name',
    async ({ scp, roles, idtyp, subIsOid, noIds, appOnly }) => {
      const { scp: _scp, oid, sub, ...base } = claims();
      const payload = {
        ...base,
        ...(!noIds && { oid, sub: subIsOid ? oid : sub }),
        ...(scp !== undefined && { scp }),
        ...(roles !== undefined && { roles }),
        ...(idtyp !== undefined && { idtyp }),
      };
      const result = await build().handler(event(`Bearer ${signed(header(), payload)}`));
      expect(result.policyDocument.Statement).toEqual([
        { Action: 'execute-api:Invoke', Effect: 'Allow', Resource: [STAGE_ARN] },
      ]);
      expect(result.context?.appOnly).toBe(appOnly);
    },
  );
});

describe('a guest where guests are refused', () => {
  it("is refused with a user token that carries app roles but no scp (no idtyp): that is no app's token", async () => {
    // Oracle: docs/permissions-and-caching.md (guests refused on every route, app-only tokens never a guest's;
    // a guest told by an idp that names another tenant) and Microsoft's app-only test, oid == sub when no idtyp.
    const { handler, records } = build({ [ENV_NAMES.guestUsers]: 'refuse' });
    const { scp: _scp, ...guest } = claims({ guest: true, roles: ['Items.Read'] });
    expect(guest.sub).not.toBe(guest.oid);
    const denied = await handler(event(`Bearer ${signed(header(), guest)}`));
    expect(denied.policyDocument.Statement).toEqual([
      { Action: 'execute-api:Invoke', Effect: 'Deny', Resource: [METHOD_ARN] },
    ]);
    expect(records.at(-1)?.decision.reason).toBe('guest_not_allowed');
    expect(denied.context?.appOnly).toBe(false);
  });
});

describe('a member or an application where guests are refused', () => {
  const sovereign = () => ({
    [ENV_NAMES.guestUsers]: 'refuse',
    [ENV_NAMES.authorityHost]: 'login.sovereign.example',
    [ENV_NAMES.v1IssuerHost]: 'sts.sovereign.example',
    [ENV_NAMES.jwksUri]: server.url,
  });
  const v2Iss = `https://login.sovereign.example/${TENANT}/v2.0`;
  const v1Iss = `https://sts.sovereign.example/${TENANT}/`;

  it.each([
    ['a v2 token whose idp is its tenant on the configured v1 issuer host', v2Iss, v1Iss],
    ['a v1 token whose idp is its tenant on the configured login host', v1Iss, v2Iss],
  ])('admits %s: a member of a cloud Microsoft does not list', async (_, iss, idp) => {
    // Oracle: docs/permissions-and-caching.md (idp an issuer URL of the token's own tid on an Entra host, the
    // configured login host among them, is a member's).
    const { handler, records } = buildAuthorizer(sovereign());
    const version = iss === v1Iss ? { ver: '1.0', appid: claims().azp } : {};
    const payload = { ...claims(), iss, idp, ...version };
    // The second test key names no issuer, as a key set of its own would publish it.
    const { second } = testKeys();
    const result = await handler(event(`Bearer ${signed(header({ kid: second.kid }), payload, second)}`));
    expect(records.at(-1)?.decision.reason).toBe('allowed');
    expect(result.context?.appOnly).toBe(false);
  });

  it("admits an application's token whose idp names another tenant: an application is never a guest", async () => {
    // Oracle: docs/permissions-and-caching.md ("app-only tokens are never a guest's").
    const { handler, records } = build({ [ENV_NAMES.guestUsers]: 'refuse' });
    const app = claims({ appOnly: true, roles: ['Items.Read'], guest: true });
    expect(app.idp).not.toBe(app.iss);
    const result = await handler(event(`Bearer ${signed(header(), app)}`));
    expect(records.at(-1)?.decision.reason).toBe('allowed');
    expect(result.context?.appOnly).toBe(true);
  });
});

describe('a multi-tenant API', () => {
  it.each(['contoso.onmicrosoft.com', TENANT.toUpperCase(), `${TENANT}x`, 'common'])(
    'refuses the non-GUID tid %s even with "*" and an issuer that matches it',
    async (tid) => {
      const { handler, records } = build({ [ENV_NAMES.tenantId]: 'common', [ENV_NAMES.allowedTenants]: '*' });
      const payload = { ...claims(), tid, iss: `https://login.microsoftonline.com/${tid}/v2.0` };
      await expect(handler(event(`Bearer ${signed(header(), payload)}`))).rejects.toThrow(
        new RegExp(`^${UNAUTHORIZED}$`),
      );
      expect(records.at(-1)?.decision.reason).toBe('wrong_issuer');
    },
  );
});
