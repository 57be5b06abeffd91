import { afterEach, describe, expect, it, vi } from 'vitest';
import { ENV_NAMES } from '../../lambda/authorizer/config.js';
import { UNAUTHORIZED } from '../../lambda/authorizer/decision.js';
import { decodeJwt } from '../../lambda/authorizer/jwt.js';
import { EntraJwksCache } from '../../lambda/authorizer/keys/key-cache.js';
import { verifiesRs256 } from '../../lambda/authorizer/verifier.js';
import {
  atFixture,
  ENTRA_FIXTURES,
  fixtureAuthorizer,
  fixturePair,
  fixturePairs,
  fixtureToken,
  HAVE_ENTRA_FIXTURES,
} from '../helpers/entra-fixtures.js';
import { KeyServer } from '../helpers/key-server.js';
import { event, header, publishedKeySet, signed } from '../helpers/setup.js';

if (!HAVE_ENTRA_FIXTURES) {
  console.warn(`real Entra ID fixtures not found at ${ENTRA_FIXTURES}: this suite is skipped`);
}

describe.skipIf(!HAVE_ENTRA_FIXTURES)('real Entra ID tokens (fixed clock)', () => {
  const server = KeyServer.forSuite();
  afterEach(() => {
    vi.useRealTimers();
  });

  /** Fixes the clock (aws-jwt-verify reads Date.now too) and serves the token's key set from 127.0.0.1. */
  function setUp(
    tokenFile: string,
    env: Record<string, string>,
    options: { jwks?: string; at?: number } = {},
  ) {
    return fixtureAuthorizer(tokenFile, server, env, options);
  }

  it('allows the v1 access token for its tenant and audience', async () => {
    const { handler, token, pair } = setUp('passport.v1-access-token.2016-06-30.txt', {});
    const result = await handler(event(`Bearer ${token}`));
    expect(result.policyDocument.Statement[0]).toMatchObject({ Effect: 'Allow' });
    expect(result.principalId).toBe('7912fe7b-b5ab-425b-bb1f-0e83b99fca7f');
    expect(result.context).toMatchObject({
      tid: pair.tid,
      ver: '1.0',
      scp: 'user_impersonation',
      appOnly: false,
    });
  });

  it('refuses the same v1 access token once it has expired beyond the skew', async () => {
    const pair = fixturePair('passport.v1-access-token.2016-06-30.txt');
    const { handler, token, records } = setUp(pair.token.split('/')[1] as string, {}, { at: pair.exp + 301 });
    await expect(handler(event(`Bearer ${token}`))).rejects.toThrow(UNAUTHORIZED);
    expect(records.at(-1)?.decision.reason).toBe('expired');
  });

  it('refuses the v1 access token for another tenant or audience', async () => {
    const a = setUp('passport.v1-access-token.2016-06-30.txt', {
      [ENV_NAMES.tenantId]: '30aa0e58-719c-44f0-b5bb-e131f1f68ab3',
    });
    await expect(a.handler(event(`Bearer ${a.token}`))).rejects.toThrow(UNAUTHORIZED);
    expect(a.records.at(-1)?.decision.reason).toBe('tenant_not_allowed');
    const b = setUp('passport.v1-access-token.2016-06-30.txt', {
      [ENV_NAMES.audiences]: '6514a8ca-d9e4-4155-b292-65258398f3aa',
    });
    await expect(b.handler(event(`Bearer ${b.token}`))).rejects.toThrow(UNAUTHORIZED);
    expect(b.records.at(-1)?.decision.reason).toBe('wrong_audience');
  });

  it('refuses a real signature whose signing key is published for another issuer', async () => {
    // The 2016 tenant key set carries the same key, bound to tenant 30aa0e58's issuer.
    const { handler, token, records } = setUp(
      'passport.v1-access-token.2016-06-30.txt',
      {},
      {
        jwks: 'jwks/tenant-30aa0e58-v2.discovery-keys.2016-08-02.jose4j.json',
      },
    );
    await expect(handler(event(`Bearer ${token}`))).rejects.toThrow(UNAUTHORIZED);
    expect(records.at(-1)?.decision.reason).toBe('key_issuer_mismatch');
  });

  it('refuses the v1 access token with one signature character altered', async () => {
    const { handler, token, records } = setUp('passport.v1-access-token.2016-06-30.txt', {});
    const at = token.lastIndexOf('.') + 20;
    const altered = token.slice(0, at) + (token[at] === 'A' ? 'B' : 'A') + token.slice(at + 1);
    await expect(handler(event(`Bearer ${altered}`))).rejects.toThrow(UNAUTHORIZED);
    expect(records.at(-1)?.decision.reason).toBe('bad_signature');
  });

  it('refuses the real Azure AD Graph access token as a Graph token, before any key is used', async () => {
    // Its audience (https://graph.windows.net) cannot even be configured: no API may accept Graph's tokens.
    const { handler, token, records } = setUp(
      'identitymodel.v1-access-token-aadgraph-overclaims.2014-07-21.txt',
      {
        [ENV_NAMES.audiences]: 'api://some-api',
      },
    );
    const before = server.requests;
    await expect(handler(event(`Bearer ${token}`))).rejects.toThrow(UNAUTHORIZED);
    expect(records.at(-1)?.decision.reason).toBe('graph_token');
    expect(server.requests).toBe(before);
  });

  it('finds the key of a legacy v1 token that names it by x5t only, and its signature verifies', async () => {
    const pair = fixturePair('identitymodel.v1-access-token-aadgraph-overclaims.2014-07-21.txt');
    const token = atFixture(pair, server);
    const jwt = decodeJwt(token);
    expect(jwt.header.kid).toBeUndefined();
    const keys = new EntraJwksCache();
    const key = await keys.getJwk(server.url, jwt);
    expect(key.kid).toBe(jwt.header.x5t);
    expect(verifiesRs256(jwt, key)).toBe(true);
  });

  it('refuses the tampered id token before any key is used (its altered last character is not canonical base64url)', async () => {
    const { handler, token, records } = setUp('passport.v1-id-token.wrong-signature.txt', {});
    const before = server.requests;
    await expect(handler(event(`Bearer ${token}`))).rejects.toThrow(UNAUTHORIZED);
    expect(records.at(-1)?.decision.reason).toBe('malformed');
    expect(server.requests).toBe(before);
  });

  /**
   * A real token's claims, changed and signed again with the test key (kid main-key), judged as of the
   * token's own time against the test key set: the shapes of Entra's token kinds, beyond the few kinds the
   * public fixtures hold.
   */
  function reshaped(tokenFile: string, change: (claims: Record<string, unknown>) => Record<string, unknown>) {
    const setup = setUp(tokenFile, {});
    server.jwks = publishedKeySet();
    const claims = JSON.parse(Buffer.from(setup.token.split('.')[1] as string, 'base64url').toString('utf8'));
    return { ...setup, token: signed(header(), change(claims)) };
  }

  it.each([
    ['passport.v1-id-token.2016-08-16.txt'],
    ['jose4j.v2-id-token.2016-08-02.txt'],
    ['dfinity-ii.v2-id-token-org.2025-09-02.txt'],
  ])("refuses the id token %s with the user's app roles added as not an access token", async (file) => {
    const { handler, token, records } = reshaped(file, (c) => ({ ...c, roles: ['Items.Admin'] }));
    await expect(handler(event(`Bearer ${token}`))).rejects.toThrow(UNAUTHORIZED);
    expect(records.at(-1)?.decision.reason).toBe('not_an_access_token');
  });

  it('denies (403) the v1 access token of an app acting as itself without roles, and allows it with a role', async () => {
    const appOnly = (c: Record<string, unknown>) => {
      const { scp: _scp, name: _name, upn: _upn, unique_name: _unique, ...rest } = c;
      return { ...rest, sub: c.oid, idtyp: 'app' };
    };
    const bare = reshaped('passport.v1-access-token.2016-06-30.txt', appOnly);
    const denied = await bare.handler(event(`Bearer ${bare.token}`));
    expect(denied.policyDocument.Statement[0]).toMatchObject({ Effect: 'Deny' });
    expect(bare.records.at(-1)).toMatchObject({
      decision: { reason: 'no_scope_or_role' },
      appId: 'bebfad57-efd7-419b-b74b-4b9dab7bd470',
    });
    const withRole = reshaped('passport.v1-access-token.2016-06-30.txt', (c) => ({
      ...appOnly(c),
      roles: ['Items.Reader'],
    }));
    const allowed = await withRole.handler(event(`Bearer ${withRole.token}`));
    expect(allowed.policyDocument.Statement[0]).toMatchObject({ Effect: 'Allow' });
    expect(allowed.context).toMatchObject({ appOnly: true, roles: 'Items.Reader', scp: '' });
  });

  it("judges Entra's own overage claims (the real Azure AD Graph token's _claim_names) as groups_overage where a group is required", async () => {
    const graphToken = fixtureToken(
      fixturePair('identitymodel.v1-access-token-aadgraph-overclaims.2014-07-21.txt'),
    );
    const real = JSON.parse(Buffer.from(graphToken.split('.')[1] as string, 'base64url').toString('utf8'));
    expect(real.groups).toBeUndefined();
    const GROUP = 'aaaaaaaa-1111-4222-8333-444444444444';
    const setup = setUp('passport.v1-access-token.2016-06-30.txt', { [ENV_NAMES.requiredGroups]: GROUP });
    server.jwks = publishedKeySet();
    const claims = JSON.parse(Buffer.from(setup.token.split('.')[1] as string, 'base64url').toString('utf8'));
    const overage = { ...claims, _claim_names: real._claim_names, _claim_sources: real._claim_sources };
    const denied = await setup.handler(event(`Bearer ${signed(header(), overage)}`));
    expect(denied.policyDocument.Statement[0]).toMatchObject({ Effect: 'Deny' });
    expect(setup.records.at(-1)?.decision.reason).toBe('groups_overage');
    await setup.handler(event(`Bearer ${signed(header(), { ...claims, groups: [GROUP] })}`));
    expect(setup.records.at(-1)?.decision.reason).toBe('allowed');
  });

  const idTokens = fixturePairs().filter(
    (p) => p.token_kind.startsWith('id_token') && p.expect_signature_valid,
  );
  it.each(idTokens.map((p) => [p.token, p] as const))(
    'refuses the id token %s as not an access token',
    async (_, p) => {
      const { handler, token, records } = setUp(p.token.split('/')[1] as string, {});
      await expect(handler(event(`Bearer ${token}`))).rejects.toThrow(UNAUTHORIZED);
      expect(records.at(-1)?.decision.reason).toBe('not_an_access_token');
    },
  );
});
