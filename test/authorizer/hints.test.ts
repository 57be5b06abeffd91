import { describe, expect, it } from 'vitest';
import { ENV_NAMES } from '../../lambda/authorizer/config.js';
import type { Denial } from '../../lambda/authorizer/denials.js';
import { createHinter, type HintFacts, hintFromFacts, relativeTime } from '../../lambda/authorizer/hints.js';
import { REASONS, type Reason } from '../../lambda/authorizer/reasons.js';
import { hintConfig } from '../helpers/hint-config.js';
import { CLIENT_ID, TENANT } from '../helpers/setup.js';

/**
 * Each hint names the fix docs/troubleshooting.md gives for its reason, for the shape of token that points
 * at it; the fragments asserted are the table's words (a variable, a prop, a portal step), not hints.ts's.
 */
const OTHER = '0a0b0c0d-1111-4222-8333-444444444444';
const NOW = 1_700_000_000;

const config = hintConfig;
const hint = (
  reason: Reason,
  payload: Record<string, unknown> = {},
  more: Partial<Omit<HintFacts, 'payload'>> = {},
) => hintFromFacts(reason, { payload, nowSeconds: NOW, config: config(), ...more });
const v2 = (tid = TENANT) => `https://login.microsoftonline.com/${tid}/v2.0`;

describe('wrong_issuer', () => {
  it('names what is wrong with the issuer, never trusting it', () => {
    expect(hint('wrong_issuer', { iss: v2() })).toMatch(/^the token has no tid: personal Microsoft account/);
    expect(hint('wrong_issuer', { tid: TENANT })).toBe('the token has no iss claim');
    expect(hint('wrong_issuer', { tid: TENANT, iss: 'not a url' })).toMatch(
      /iss "?not a url"? is not a URL$/,
    );
    expect(hint('wrong_issuer', { tid: TENANT, iss: v2('{tenantid}') })).toBe(
      'iss is the {tenantid} template itself: no Entra token carries it, this one is forged',
    );
    expect(hint('wrong_issuer', { tid: TENANT, iss: v2(OTHER) })).toMatch(
      /iss names another tenant than its tid .*: forged or mis-minted$/,
    );
  });

  it('points at AZURE_AUTHORITY_HOST for another cloud, and at the accepted issuers otherwise', () => {
    const us = hint('wrong_issuer', { tid: TENANT, iss: `https://login.microsoftonline.us/${TENANT}/v2.0` });
    expect(us).toMatch(/set AZURE_AUTHORITY_HOST=login\.microsoftonline\.us/);
    const unknownHost = hint('wrong_issuer', {
      tid: TENANT,
      iss: `https://login.example.org/${TENANT}/v2.0`,
    });
    expect(unknownHost).toMatch(/iss host is .*login\.example\.org.*, not login\.microsoftonline\.com/);
    expect(unknownHost).toMatch(/AZURE_V1_ISSUER_HOST/);
    const ownCloud = hint('wrong_issuer', {
      tid: TENANT,
      iss: `https://login.microsoftonline.com/${TENANT}/v3`,
    });
    expect(ownCloud).toContain(`expected https://login.microsoftonline.com/<tid>/v2.0`);
    expect(ownCloud).toContain('or https://sts.windows.net/<tid>/');
    expect(ownCloud).toContain(`<tid> being its tid`);
    const unknownV1 = hintFromFacts('wrong_issuer', {
      payload: { tid: TENANT, iss: `https://login.microsoftonline.com/${TENANT}/v3` },
      nowSeconds: NOW,
      config: { ...config(), v1IssuerHost: undefined },
    });
    expect(unknownV1).toContain('or the v1 issuer,');
  });
});

describe('tenant_not_allowed', () => {
  it('single-tenant: names the configured tenant and how to admit another; multi-tenant: the list to add to', () => {
    expect(hint('tenant_not_allowed', { tid: OTHER })).toMatch(
      new RegExp(`single-tenant for ${TENANT}: to admit another tenant, set AZURE_TENANT_ID=organizations`),
    );
    const multi = config({ [ENV_NAMES.tenantId]: 'organizations', [ENV_NAMES.allowedTenants]: TENANT });
    const fixed = hintFromFacts('tenant_not_allowed', {
      payload: { tid: OTHER },
      nowSeconds: NOW,
      config: multi,
    });
    expect(fixed).toMatch(/is not on AZURE_ALLOWED_TENANTS/);
    const fromSsm = hintFromFacts('tenant_not_allowed', {
      payload: { tid: OTHER },
      nowSeconds: NOW,
      config: { ...multi, tenantsParameter: { name: '/saas/tenants' } },
    });
    expect(fromSsm).toMatch(/is not on the list in the SSM parameter \/saas\/tenants/);
  });
});

describe('wrong_audience', () => {
  it('says what to add for a form of a configured audience, and otherwise what the client must request', () => {
    expect(hint('wrong_audience', { aud: `api://${CLIENT_ID}`, ver: '1.0' })).toContain(
      `add api://${CLIENT_ID} or set accessTokenAcceptedVersion to 2`,
    );
    expect(hint('wrong_audience', { aud: `spn:${CLIENT_ID}`, ver: '1.0' })).toContain(`add spn:${CLIENT_ID}`);
    const upper = hintFromFacts('wrong_audience', {
      payload: { aud: CLIENT_ID, ver: '2.0' },
      nowSeconds: NOW,
      config: { ...config(), audiences: [`api://${CLIENT_ID.toUpperCase()}`] },
    });
    expect(upper).toContain(`add ${CLIENT_ID} (v2 tokens carry the client id as aud)`);
    expect(hint('wrong_audience', { aud: 'api://another', ver: '2.0' })).toContain(
      `the client asked for a token for another API; it must request your API's scope (e.g. ${CLIENT_ID}/.default)`,
    );
  });
});

describe('the other 401 hints', () => {
  it('name the id token, the missing key, the foreign key, the Graph token and the claim', () => {
    expect(hint('not_an_access_token', { ver: '2.0' })).toMatch(/^id token \(ver "?2\.0"?, no azp\)/);
    expect(hint('not_an_access_token', { ver: '1.0', roles: ['r'] })).toMatch(
      /^id token \(ver "?1\.0"?, no appid; its roles do not make it an access token\)/,
    );
    expect(hint('not_an_access_token', { ver: '1.0', roles: [] })).toMatch(/no appid\)/);
    expect(hintFromFacts('unknown_key', { header: {}, nowSeconds: NOW, config: config() })).toBe(
      'the header names no key (kid or x5t)',
    );
    expect(hint('unknown_key', {}, { header: { x5t: 'thumb' } })).toContain(
      'kid thumb is not in the key set',
    );
    expect(hint('key_issuer_mismatch')).toMatch(/^the signing key belongs to another issuer: /);
    expect(hint('key_issuer_mismatch', {}, { detail: 'key k1 is for issuer x' })).toMatch(
      /^key k1 is for issuer x: a key published for another issuer/,
    );
    expect(
      hint('graph_token', { aud: '00000003-0000-0000-c000-000000000000' }, { header: { nonce: 'n' } }),
    ).toMatch(/\(nonce header, the token's unverified aud/);
    expect(
      hint('graph_token', { aud: '00000003-0000-0000-c000-000000000000' }, { header: {} }),
    ).not.toContain('nonce');
    expect(hint('malformed', {}, { detail: 'claim exp is not a number' })).toBe(
      'claim exp is not a number: Entra ID never issues such a token; it is forged or corrupted',
    );
    expect(hint('malformed', {}, { detail: 'not three parts' })).toBe(REASONS.malformed.hint);
  });

  it('give the times of an expired or early token, relative to now', () => {
    expect(hint('expired', { exp: NOW - 7200 })).toMatch(/expired at .* \(2 hours ago, \d+s skew allowed\)/);
    expect(hint('expired', { exp: 'soon' })).toBe(REASONS.expired.hint);
    expect(hint('not_yet_valid', { nbf: NOW + 90 })).toMatch(
      /^nbf is .* \(in 1 minute\), beyond the \d+s skew/,
    );
    expect(hint('not_yet_valid', {})).toBe(REASONS.not_yet_valid.hint);
  });
});

describe('relativeTime', () => {
  it('says how long ago or from now, in the largest whole unit', () => {
    expect(relativeTime(NOW, NOW)).toBe('now');
    expect(relativeTime(NOW - 1, NOW)).toBe('1 second ago');
    expect(relativeTime(NOW + 59, NOW)).toBe('in 59 seconds');
    expect(relativeTime(NOW + 60, NOW)).toBe('in 1 minute');
    expect(relativeTime(NOW - 3600, NOW)).toBe('1 hour ago');
    expect(relativeTime(NOW - 86400 * 2, NOW)).toBe('2 days ago');
    expect(relativeTime(NOW + 86400 * 30, NOW)).toBe('in 1 month');
    expect(relativeTime(NOW - 86400 * 365 * 3, NOW)).toBe('3 years ago');
    expect(relativeTime(-Infinity, NOW)).toBe('in the infinite past');
    expect(relativeTime(Infinity, NOW)).toBe('in the infinite future');
  });
});

describe('403 hints', () => {
  const apiRule = (needs: Denial & { kind: 'api_rule' }) => needs;

  it('client_app_not_allowed names the app, its claim and where to add it', () => {
    expect(hint('client_app_not_allowed', { ver: '1.0', appid: OTHER })).toContain(
      `the calling app is ${OTHER} (claim appid`,
    );
    const v2Route = hint(
      'client_app_not_allowed',
      { ver: '2.0', azp: OTHER },
      { denial: { kind: 'route_client_app', request: 'GET /x', route: 'GET /x' } as Denial },
    );
    expect(v2Route).toContain('(claim azp');
    expect(v2Route).toContain('which may not call this route: if it should, add');
    expect(v2Route).toContain("that route's clientApps in the route permissions");
    expect(hint('client_app_not_allowed', { ver: '2.0' })).toContain('AZURE_ALLOWED_CLIENT_APPS');
  });

  it('no_scope_or_role tells a delegated token from an app-only one', () => {
    expect(hint('no_scope_or_role', { idtyp: 'user', azp: OTHER })).toMatch(/^a delegated token without scp/);
    expect(hint('no_scope_or_role', { idtyp: 'app', appid: OTHER })).toMatch(
      /^app-only token of app "?0a0b0c0d.*Assignment required/,
    );
  });

  it('guest_not_allowed says which sign told', () => {
    expect(hint('guest_not_allowed', { acct: 1 })).toContain('its acct claim is 1');
    expect(hint('guest_not_allowed', { idp: 'https://sts.windows.net/x/', tid: TENANT })).toMatch(
      /its idp .*sts\.windows\.net.* is not the issuer of tenant/,
    );
  });

  it('insufficient_permission names the path, the route or the grant that would help', () => {
    const request = 'GET /items/';
    expect(
      hint('insufficient_permission', {}, { denial: { kind: 'trailing_slash', request } as Denial }),
    ).toContain('ends in "/": route permissions refuse such paths');
    const noRoute = hint(
      'insufficient_permission',
      {},
      {
        denial: { kind: 'no_route', request: 'route GET /x' } as Denial,
      },
    );
    expect(noRoute).toContain('add a route key for it');
    const policy = hint(
      'insufficient_permission',
      {},
      {
        denial: {
          kind: 'policy_deny',
          request: 'GET /a/b',
          route: 'GET /a/{id}',
          deny: { method: 'GET', path: '/a/b', because: { kind: 'refused_route', route: 'GET /a/b' } },
        } as Denial,
      },
    );
    expect(policy).toContain('grant this caller that route too');
    const user = hint(
      'insufficient_permission',
      { scp: 'Other', idtyp: 'user' },
      {
        denial: apiRule({ kind: 'api_rule', needs: { scopes: ['Items.Read'], roles: [] } } as never),
      },
    );
    expect(user).toMatch(/^the token has scp "Other" and roles ""; .*: grant and consent the scope/);
    const roleOnly = hint(
      'insufficient_permission',
      { scp: 'Other', idtyp: 'user' },
      {
        denial: {
          kind: 'route_rule',
          request: 'GET /a',
          route: 'GET /a',
          needs: { scopes: [], roles: ['Admin'] },
        } as never,
      },
    );
    expect(roleOnly).toContain(
      "assign the app role to the user (the API's enterprise application > Users and groups): the route admits no scope",
    );
    const appScopes = hint(
      'insufficient_permission',
      { roles: ['x', 7], idtyp: 'app' },
      {
        denial: {
          kind: 'route_rule',
          request: 'GET /a',
          route: 'GET /a',
          needs: { scopes: ['S'], roles: [] },
        } as never,
      },
    );
    expect(appScopes).toContain('roles "x"');
    expect(appScopes).toContain('this route admits no app role');
    const appRole = hint(
      'insufficient_permission',
      { roles: [], oid: OTHER, sub: OTHER },
      {
        denial: { kind: 'api_rule', needs: { scopes: [], roles: ['R'] } } as never,
      },
    );
    expect(appRole).toContain('assign the app role the API needs to the calling app');
    const groups = hint(
      'insufficient_permission',
      { scp: 's', groups: ['g1', 'g2'] },
      {
        denial: { kind: 'api_rule', needs: { scopes: [], roles: [], groups: ['g9'] } } as never,
      },
    );
    expect(groups).toContain('its groups claim lists 2;');
    expect(hint('insufficient_permission', { scp: 's' }, { detail: '' })).toContain(
      'a required scope or role is missing',
    );
  });

  it('keys_unavailable names the host to reach, without user-info or query', () => {
    const keysHint = hintFromFacts('keys_unavailable', {
      nowSeconds: NOW,
      config: { ...config(), jwksUri: 'https://u:p@keys.example/k?sig=1' },
    });
    expect(keysHint).toBe(
      'the key set at https://***@keys.example/k?*** could not be fetched: check egress (NAT, proxy) to keys.example',
    );
  });
});

describe('the cases each hint tells apart', () => {
  it('shows a claim that is no string as a preview, and every configured audience', () => {
    const two = { ...config(), audiences: ['api://orders', `api://${CLIENT_ID}`] };
    const list = hintFromFacts('wrong_audience', {
      payload: { aud: ['a', 'b'] },
      nowSeconds: NOW,
      config: two,
    });
    expect(list).toContain(
      `aud is ["a","b"] (ver ?); configured audiences are api://orders, api://${CLIENT_ID}`,
    );
    const v1 = hintFromFacts('wrong_audience', {
      payload: { aud: `api://${CLIENT_ID}`, ver: '1.0' },
      nowSeconds: NOW,
      config: two,
    });
    expect(v1).toContain(`add api://${CLIENT_ID} or set accessTokenAcceptedVersion to 2`);
  });

  it('tells an External ID issuer, a shared v1 issuer host and a personal account apart', () => {
    expect(
      hint('wrong_issuer', { tid: TENANT, iss: `https://${TENANT}.ciamlogin.com/${TENANT}/v2.0` }),
    ).toContain("is an External ID tenant's: set AZURE_AUTHORITY_HOST");
    // sts.windows.net is the v1 issuer host of two clouds, the configured one among them.
    const shared = hint('wrong_issuer', { tid: TENANT, iss: `https://sts.windows.net/${OTHER}/x` });
    expect(shared).toContain('names another tenant');
    const ownV1 = hint('wrong_issuer', { tid: TENANT, iss: `https://sts.windows.net/${TENANT}/x` });
    expect(ownV1).toContain('expected https://login.microsoftonline.com/<tid>/v2.0');
    const consumers = '9188040d-6c67-4c5b-b112-36a304b66dad';
    expect(hint('tenant_not_allowed', { tid: consumers })).toContain('the API is single-tenant');
  });

  it('fills in what the token does not say', () => {
    expect(hint('graph_token', {})).toContain('aud ?)');
    expect(hint('not_an_access_token', {})).toMatch(/^id token \(ver \?, no azp\)/);
    expect(hint('client_app_not_allowed', {})).toMatch(/^the calling app is <none> \(claim azp, ver \?\)/);
    expect(hint('no_scope_or_role', {})).toMatch(/^app-only token of app <client id> with no roles/);
    expect(hint('guest_not_allowed', {})).toContain('its idp ? is not the issuer of tenant ?');
    expect(hint('insufficient_permission', { idtyp: 'app' })).toContain(
      'assign the app role the API needs to the calling app',
    );
    const user = hint(
      'insufficient_permission',
      { scp: 'Other', idtyp: 'user' },
      { denial: { kind: 'api_rule', needs: { scopes: ['Items.Read'], roles: [] } } as never },
    );
    expect(user).toContain('Items.Read');
    const roles = hint(
      'insufficient_permission',
      { roles: ['x', 'y', 7], idtyp: 'app' },
      { denial: { kind: 'api_rule', needs: { scopes: ['S'], roles: [] } } as never },
    );
    expect(roles).toContain('the token has scp "" and roles "x y"');
    const unlisted = hint(
      'insufficient_permission',
      {},
      { denial: { kind: 'unlisted', request: 'PATCH /a', route: 'GET /a' } as Denial },
    );
    expect(unlisted).toContain('add a route key for it');
  });
});

describe('who a 403 hint speaks to', () => {
  it("takes a token as an app's by idtyp, or without it by no scp and an oid equal to its sub", () => {
    const needsScope = { kind: 'api_rule', needs: { scopes: ['S'], roles: [] } } as never;
    const APP = 'an app-only token never carries a scope';
    const USER = 'grant and consent the scope';
    for (const [payload, fix] of [
      [{ idtyp: 'app' }, APP],
      [{ oid: OTHER, sub: OTHER }, APP],
      [{ idtyp: 'user', oid: OTHER, sub: OTHER }, USER],
      [{ scp: 'Other', oid: OTHER, sub: OTHER }, USER],
      [{ oid: OTHER, sub: TENANT }, USER],
      [{}, USER],
    ] as const) {
      expect([payload, hint('insufficient_permission', payload, { denial: needsScope })]).toEqual([
        payload,
        expect.stringContaining(fix),
      ]);
    }
  });

  it('takes a claim that is no string for an absent one', () => {
    expect(hint('wrong_issuer', { tid: 42, iss: v2() })).toMatch(/^the token has no tid/);
    expect(hint('client_app_not_allowed', { azp: 42 })).toMatch(/^the calling app is <none>/);
    expect(hint('unknown_key', {}, { header: { kid: 7 } })).toBe('the header names no key (kid or x5t)');
  });

  it("names the API's own client id for custom keys, whichever audience carries it", () => {
    const cfg = { ...config(), audiences: ['api://orders', `api://${CLIENT_ID.toUpperCase()}`] };
    expect(hintFromFacts('unknown_key', { header: { kid: 'k' }, nowSeconds: NOW, config: cfg })).toContain(
      `?appid=${CLIENT_ID})`,
    );
    // An audience without a client id is never taken for a form of one the token names.
    const odd = { ...config(), audiences: ['api://undefined-api'] };
    expect(
      hintFromFacts('wrong_audience', { payload: { aud: 'api://x' }, nowSeconds: NOW, config: odd }),
    ).toContain('the client asked for a token for another API');
  });
});

describe('a hint from whatever facts the authorizer has', () => {
  it('is a line of text for every reason, with no token, header, detail or denial at all', () => {
    // Oracle: a fixed invariant (a hint never throws: a token that did not decode still gets its reason's advice)
    for (const reason of Object.keys(REASONS) as Reason[]) {
      for (const cfg of [config(), { ...config(), audiences: ['api://orders'], jwksUri: 'not a url' }]) {
        const text = hintFromFacts(reason, { nowSeconds: NOW, config: cfg });
        expect(typeof text).toBe('string');
        expect(text.length).toBeGreaterThan(0);
      }
    }
    expect(
      hintFromFacts('unknown_key', {
        header: { kid: 'k' },
        nowSeconds: NOW,
        config: { ...config(), audiences: ['api://orders'] },
      }),
    ).toContain("?appid=<your API's client id>");
    expect(
      hintFromFacts('keys_unavailable', { nowSeconds: NOW, config: { ...config(), jwksUri: 'not a url' } }),
    ).toMatch(/to the key host$/);
  });
});

describe('createHinter', () => {
  it('binds the configuration and reads the clock at each hint', () => {
    let now = NOW;
    const hinter = createHinter(config(), () => now);
    expect(hinter('expired', { payload: { exp: NOW - 60 } })).toContain('(1 minute ago');
    now += 3600;
    expect(hinter('expired', { payload: { exp: NOW - 60 } })).toContain('(1 hour ago');
    expect(hinter('allowed', {})).toBe(REASONS.allowed.hint);
  });
});
