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
  ];

  it.each(cases)('is $appOnly for a token with $name', async ({ scp, roles, idtyp, subIsOid, appOnly }) => {
    const { scp: _scp, ...base } = claims();
    const payload = {
      ...base,
      ...(subIsOid && { sub: base.oid }),
      ...(scp !== undefined && { scp }),
      ...(roles !== undefined && { roles }),
      ...(idtyp !== undefined && { idtyp }),
    };
    const result = await build().handler(event(`Bearer ${signed(header(), payload)}`));
    expect(result.policyDocument.Statement).toEqual([
      { Action: 'execute-api:Invoke', Effect: 'Allow', Resource: [STAGE_ARN] },
    ]);
    expect(result.context?.appOnly).toBe(appOnly);
  });
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
