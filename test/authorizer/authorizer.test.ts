import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  type DecisionRecord,
  decideWith,
  type EventKind,
  tokenEventKind,
} from '../../lambda/authorizer/authorizer.js';
import { CHALLENGE_CONTEXT_KEY } from '../../lambda/authorizer/challenge-key.js';
import { ENV_NAMES, loadConfig } from '../../lambda/authorizer/config.js';
import { UNAUTHORIZED } from '../../lambda/authorizer/decision.js';
import { TokenRejectedError } from '../../lambda/authorizer/errors.js';
import { createRouteAuthorizer } from '../../lambda/authorizer/permissions.js';
import { createTokenVerifier } from '../../lambda/authorizer/verifier.js';
import { KeyServer } from '../helpers/key-server.js';
import {
  APP_ID_URI,
  buildAuthorizer,
  CLIENT_ID,
  claims,
  event,
  header,
  METHOD_ARN,
  nowSeconds as now,
  OTHER_TENANT,
  publishedKeySet,
  STAGE_ARN,
  signed,
  TENANT,
  testKeys,
  token,
} from '../helpers/setup.js';
import { createAuthorizer } from '../helpers/token-authorizer.js';

const server = KeyServer.forSuite(publishedKeySet);

const build = (env: Record<string, string> = {}) =>
  buildAuthorizer({ [ENV_NAMES.jwksUri]: server.url, ...env });
const b64 = (v: unknown) => Buffer.from(typeof v === 'string' ? v : JSON.stringify(v)).toString('base64url');

describe('a valid Entra access token', () => {
  it('is allowed on the whole stage with its claims in the context (v2, delegated)', async () => {
    const { handler, records } = build();
    const result = await handler(event(`Bearer ${token()}`));
    const c = claims();
    expect(result.principalId).toBe(c.oid);
    expect(result.policyDocument.Statement).toEqual([
      { Action: 'execute-api:Invoke', Effect: 'Allow', Resource: [STAGE_ARN] },
    ]);
    expect(result.context).toMatchObject({
      oid: c.oid,
      tid: TENANT,
      sub: c.sub,
      scp: 'access_as_user',
      roles: '',
      appId: c.azp,
      ver: '2.0',
      appOnly: false,
    });
    for (const value of Object.values(result.context ?? {})) {
      expect(['string', 'number', 'boolean']).toContain(typeof value);
    }
    expect(records.at(-1)).toMatchObject({
      decision: { outcome: 'allow', reason: 'allowed' },
      tid: TENANT,
      kid: 'main-key',
    });
  });

  it('is allowed as a v1 token whose audience is the App ID URI, with appid as appId', async () => {
    const { handler } = build();
    const result = await handler(event(`Bearer ${token({ version: '1.0', audience: APP_ID_URI })}`));
    expect(result.policyDocument.Statement[0]).toMatchObject({ Effect: 'Allow' });
    expect(result.context).toMatchObject({ ver: '1.0', appId: claims({ version: '1.0' }).appid });
  });

  it('is allowed as an app-only token with app roles and is marked appOnly', async () => {
    const { handler } = build();
    const result = await handler(event(`Bearer ${token({ appOnly: true, roles: ['Items.Admin'] })}`));
    expect(result.context).toMatchObject({ appOnly: true, scp: '', roles: 'Items.Admin' });
    expect(result.principalId).toBe(claims({ appOnly: true }).oid);
  });

  it('is allowed with a lower-case scheme', async () => {
    const { handler } = build();
    const result = await handler(event(`bearer ${token()}`));
    expect(result.policyDocument.Statement[0]).toMatchObject({ Effect: 'Allow' });
  });

  it('is allowed when it expired less than the clock skew ago', async () => {
    const { handler } = build({ [ENV_NAMES.clockSkewSeconds]: '300' });
    const t = signed(header(), { ...claims(), exp: now() - 200 });
    const result = await handler(event(`Bearer ${t}`));
    expect(result.policyDocument.Statement[0]).toMatchObject({ Effect: 'Allow' });
  });

  it('uses sub as principalId when there is no oid', async () => {
    const { handler } = build();
    const { oid: _oid, ...rest } = claims();
    const result = await handler(event(`Bearer ${signed(header(), rest)}`));
    expect(result.principalId).toBe(rest.sub);
  });
});

interface RejectCase {
  readonly name: string;
  readonly header: () => string | undefined;
  readonly reason: string;
}

const bearer = (t: string) => `Bearer ${t}`;
const valid = () => claims();

/**
 * An id token as Entra issues it for a client that shares its app registration with the API (aud = the
 * client id): the user's claims, a nonce, and no azp (v2) or appid (v1), which only access tokens carry.
 */
function idToken(version: '1.0' | '2.0'): Record<string, unknown> {
  const {
    azp: _azp,
    azpacr: _azpacr,
    appid: _appid,
    appidacr: _appidacr,
    scp: _scp,
    ...rest
  } = claims({
    version,
    audience: CLIENT_ID,
  });
  return { ...rest, nonce: 'n0nce', aud: CLIENT_ID };
}

const rejectCases: RejectCase[] = [
  { name: 'no Authorization header', header: () => undefined, reason: 'missing_token' },
  { name: 'an empty header', header: () => '', reason: 'missing_token' },
  { name: 'the Basic scheme', header: () => `Basic ${b64('user:pass')}`, reason: 'malformed' },
  { name: 'two spaces after Bearer', header: () => `Bearer  ${token()}`, reason: 'malformed' },
  { name: 'two tokens', header: () => `Bearer ${token()} ${token()}`, reason: 'malformed' },
  { name: 'a token without scheme', header: () => token(), reason: 'malformed' },
  {
    name: 'two parts only',
    header: () => bearer(token().split('.').slice(0, 2).join('.')),
    reason: 'malformed',
  },
  {
    name: 'a stripped signature',
    header: () => bearer(`${token().split('.').slice(0, 2).join('.')}.`),
    reason: 'malformed',
  },
  { name: 'padding characters', header: () => bearer(`${token()}=`), reason: 'malformed' },
  {
    name: 'a header over 16 KiB',
    header: () => bearer(signed(header(), { ...valid(), pad: 'x'.repeat(17_000) })),
    reason: 'malformed',
  },
  {
    name: 'a header that is not JSON',
    header: () => bearer(`${b64('not json')}.${b64(valid())}.${b64('sig')}`),
    reason: 'malformed',
  },
  {
    name: 'a header that is a JSON array',
    header: () => bearer(`${b64([1])}.${b64(valid())}.${b64('sig')}`),
    reason: 'malformed',
  },
  {
    name: 'a payload that is null',
    header: () => bearer(signed(header(), null as never)),
    reason: 'malformed',
  },
  {
    name: 'a deeply nested header',
    header: () => bearer(`${b64(`${'['.repeat(5000)}${']'.repeat(5000)}`)}.${b64(valid())}.${b64('sig')}`),
    reason: 'malformed',
  },
  {
    name: 'a deeply nested claim signed by an attacker',
    header: () =>
      bearer(
        signed(
          header(),
          { ...valid(), deep: JSON.parse(`${'['.repeat(3000)}${']'.repeat(3000)}`) },
          testKeys().attacker,
        ),
      ),
    reason: 'bad_signature',
  },
  {
    name: 'alg none',
    header: () => bearer(`${b64({ alg: 'none', kid: 'main-key' })}.${b64(valid())}.${b64('x')}`),
    reason: 'unsupported_alg',
  },
  {
    name: 'HS256 with the public key as the secret',
    header: () => {
      const input = `${b64(header({ alg: 'HS256' }))}.${b64(valid())}`;
      const sig = createHmac('sha256', testKeys().main.publicJwk.n).update(input).digest('base64url');
      return bearer(`${input}.${sig}`);
    },
    reason: 'unsupported_alg',
  },
  {
    name: 'RS512',
    header: () => bearer(signed(header({ alg: 'RS512' }), valid())),
    reason: 'unsupported_alg',
  },
  {
    name: 'an attacker key under a known kid',
    header: () => bearer(token({}, testKeys().attacker)),
    reason: 'bad_signature',
  },
  {
    name: 'a tampered payload',
    header: () => {
      const [h, , s] = token().split('.');
      return bearer(`${h}.${b64({ ...valid(), roles: ['Admin'] })}.${s}`);
    },
    reason: 'bad_signature',
  },
  {
    name: 'a non-canonical signature (trailing bits set)',
    header: () => {
      const t = token();
      const last = t.at(-1) as string;
      const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
      return bearer(t.slice(0, -1) + alphabet[alphabet.indexOf(last) + 1]);
    },
    reason: 'malformed',
  },
  {
    name: 'an unknown kid',
    header: () => bearer(signed(header({ kid: 'no-such-key' }), valid())),
    reason: 'unknown_key',
  },
  {
    name: 'a path-traversal kid',
    header: () => bearer(signed(header({ kid: '../../etc/passwd' }), valid())),
    reason: 'unknown_key',
  },
  {
    name: 'no kid at all',
    header: () => bearer(signed({ typ: 'JWT', alg: 'RS256' }, valid())),
    reason: 'unknown_key',
  },
  {
    name: 'a jku header',
    header: () => bearer(signed(header({ jku: 'https://evil.example/keys' }), valid())),
    reason: 'forbidden_header',
  },
  {
    name: 'a jwk header',
    header: () => bearer(signed(header({ jwk: testKeys().attacker.publicJwk }), valid())),
    reason: 'forbidden_header',
  },
  {
    name: 'an x5u header',
    header: () => bearer(signed(header({ x5u: 'https://evil.example/cert' }), valid())),
    reason: 'forbidden_header',
  },
  {
    name: 'an x5c header',
    header: () => bearer(signed(header({ x5c: ['MIIB'] }), valid())),
    reason: 'forbidden_header',
  },
  {
    name: 'a Graph nonce header',
    header: () => bearer(signed(header({ nonce: 'abc' }), valid())),
    reason: 'graph_token',
  },
  {
    name: 'a Graph audience',
    header: () => bearer(token({ audience: '00000003-0000-0000-c000-000000000000' })),
    reason: 'graph_token',
  },
  {
    name: 'an expired token',
    header: () => bearer(signed(header(), { ...valid(), exp: now() - 301 })),
    reason: 'expired',
  },
  {
    name: 'a token not yet valid',
    header: () => bearer(signed(header(), { ...valid(), nbf: now() + 400 })),
    reason: 'not_yet_valid',
  },
  {
    name: 'a token without exp',
    header: () => bearer(signed(header(), { ...valid(), exp: undefined })),
    reason: 'malformed',
  },
  {
    name: 'exp as a string',
    header: () => bearer(signed(header(), { ...valid(), exp: String(now() + 600) })),
    reason: 'malformed',
  },
  {
    name: 'nbf as a string',
    header: () => bearer(signed(header(), { ...valid(), nbf: 'soon' })),
    reason: 'malformed',
  },
  {
    name: 'aud as a number',
    header: () => bearer(signed(header(), { ...valid(), aud: 42 })),
    reason: 'malformed',
  },
  {
    name: 'roles as a string',
    header: () => bearer(signed(header(), { ...valid(), roles: 'Admin' })),
    reason: 'malformed',
  },
  {
    name: 'scp as an array',
    header: () => bearer(signed(header(), { ...valid(), scp: ['a'] })),
    reason: 'malformed',
  },
  {
    name: 'the wrong audience',
    header: () => bearer(token({ audience: 'api://someone-else' })),
    reason: 'wrong_audience',
  },
  {
    name: 'another tenant',
    header: () => bearer(token({ tenantId: OTHER_TENANT })),
    reason: 'tenant_not_allowed',
  },
  {
    name: 'the issuer template itself',
    header: () =>
      bearer(signed(header(), { ...valid(), iss: 'https://login.microsoftonline.com/{tenantid}/v2.0' })),
    reason: 'wrong_issuer',
  },
  {
    name: 'an issuer of another tenant than tid',
    header: () =>
      bearer(signed(header(), { ...valid(), iss: `https://login.microsoftonline.com/${OTHER_TENANT}/v2.0` })),
    reason: 'wrong_issuer',
  },
  {
    name: 'an issuer on another host',
    header: () => bearer(signed(header(), { ...valid(), iss: `https://login.evil.example/${TENANT}/v2.0` })),
    reason: 'wrong_issuer',
  },
  {
    name: 'a tid that is not a GUID',
    header: () => bearer(signed(header(), { ...valid(), tid: 'contoso' })),
    reason: 'wrong_issuer',
  },
  {
    name: 'a v2 id token (no azp)',
    header: () => bearer(signed(header(), idToken('2.0'))),
    reason: 'not_an_access_token',
  },
  {
    name: "a v2 id token carrying the user's app roles",
    header: () => bearer(signed(header(), { ...idToken('2.0'), roles: ['Items.Admin'] })),
    reason: 'not_an_access_token',
  },
  {
    name: "a v1 id token carrying the user's app roles",
    header: () => bearer(signed(header(), { ...idToken('1.0'), roles: ['Items.Admin'] })),
    reason: 'not_an_access_token',
  },
  {
    name: 'a v1 token with azp instead of appid',
    header: () => {
      const { appid, ...rest } = claims({ version: '1.0', audience: APP_ID_URI });
      return bearer(signed(header(), { ...rest, azp: appid }));
    },
    reason: 'not_an_access_token',
  },
  {
    name: 'a v2 token with appid instead of azp',
    header: () => {
      const { azp, ...rest } = valid();
      return bearer(signed(header(), { ...rest, appid: azp }));
    },
    reason: 'not_an_access_token',
  },
  {
    name: 'an empty azp',
    header: () => bearer(signed(header(), { ...valid(), azp: '' })),
    reason: 'not_an_access_token',
  },
  {
    name: 'azp as a number',
    header: () => bearer(signed(header(), { ...valid(), azp: 42 })),
    reason: 'malformed',
  },
  {
    name: 'a key that signs only for personal accounts',
    header: () => bearer(token({}, testKeys().personal)),
    reason: 'key_issuer_mismatch',
  },
];

describe('a request that is not a genuine access token for this API', () => {
  it.each(rejectCases)('is 401 ($reason) for $name', async ({ header: make, reason }) => {
    const { handler, records } = build();
    await expect(handler(event(make()))).rejects.toThrow(new Error(UNAUTHORIZED));
    expect(records.at(-1)?.decision).toMatchObject({ outcome: 'unauthorized', reason });
  });

  it('never costs a key fetch when the issuer or tenant is wrong', async () => {
    const { handler } = build();
    const before = server.requests;
    for (const t of [
      token({ tenantId: OTHER_TENANT }),
      signed(header({ kid: 'x' }), { ...valid(), iss: 'https://evil/' }),
    ]) {
      await expect(handler(event(`Bearer ${t}`))).rejects.toThrow(UNAUTHORIZED);
    }
    expect(server.requests).toBe(before);
  });
});

describe('a valid token without the needed permission', () => {
  it('gets a Deny for the requested method (403) with principalId set', async () => {
    const { handler, records } = build({ [ENV_NAMES.requiredScopes]: 'Items.Read' });
    const result = await handler(event(`Bearer ${token()}`));
    expect(result.principalId).toBe(claims().oid);
    expect(result.policyDocument.Statement).toEqual([
      { Action: 'execute-api:Invoke', Effect: 'Deny', Resource: [METHOD_ARN] },
    ]);
    expect(records.at(-1)?.decision).toMatchObject({ outcome: 'deny', reason: 'insufficient_permission' });
  });

  it('is allowed by one required scope or one required role', async () => {
    const { handler } = build({
      [ENV_NAMES.requiredScopes]: 'Items.Read',
      [ENV_NAMES.requiredRoles]: 'Items.Admin',
    });
    for (const t of [token({ scopes: ['Items.Read'] }), token({ appOnly: true, roles: ['Items.Admin'] })]) {
      const result = await handler(event(`Bearer ${t}`));
      expect(result.policyDocument.Statement[0]).toMatchObject({ Effect: 'Allow', Resource: [STAGE_ARN] });
    }
  });
});

describe('a valid access token with neither scopes nor roles', () => {
  const appOnlyWithoutRoles = () => token({ appOnly: true });

  it.each([
    ['no permission configured', {}],
    ['an empty route rule', { [ENV_NAMES.routePermissions]: JSON.stringify({ 'GET /whoami': {} }) }],
    ['a required role it lacks', { [ENV_NAMES.requiredRoles]: 'Items.Admin' }],
  ])('is a 403 (no_scope_or_role), not a 401, with %s', async (_, env) => {
    const { handler, records } = build(env);
    const result = await handler(event(`Bearer ${appOnlyWithoutRoles()}`));
    expect(result.principalId).toBe(claims({ appOnly: true }).oid);
    expect(result.policyDocument.Statement).toEqual([
      { Action: 'execute-api:Invoke', Effect: 'Deny', Resource: [METHOD_ARN] },
    ]);
    expect(records.at(-1)).toMatchObject({
      decision: { outcome: 'deny', reason: 'no_scope_or_role' },
      appId: claims({ appOnly: true }).azp,
      hint: expect.stringMatching(
        /^app-only token of app \S+ with no roles: .*Assign an app role of this API to app .*"Assignment required"/,
      ),
    });
  });

  it.each([
    ['a space', { scp: ' ' }],
    ['a tab and a no-break space', { scp: '\t\u00a0' }],
    ['blank roles beside it', { scp: ' ', roles: [' ', '\t'] }],
  ])('is a 403 as a delegated token whose scp is blank (%s) too', async (_, blank) => {
    const { handler, records } = build();
    const t = signed(header(), { ...claims(), ...blank, idtyp: 'user' });
    const result = await handler(event(`Bearer ${t}`));
    expect(result.policyDocument.Statement).toEqual([
      { Action: 'execute-api:Invoke', Effect: 'Deny', Resource: [METHOD_ARN] },
    ]);
    expect(records.at(-1)?.decision.reason).toBe('no_scope_or_role');
    expect(records.at(-1)?.hint).toMatch(/^a delegated token without scp/);
  });
});

describe('route permissions', () => {
  const routes = JSON.stringify({
    'GET /whoami': {},
    'GET /items': { scopes: ['Items.Read'] },
    'DELETE /items/{proxy+}': { roles: ['Items.Admin'] },
  });
  const base = 'arn:aws:execute-api:eu-west-1:123456789012:abc123def4/prod';

  it('list exactly the routes the caller may call', async () => {
    const { handler } = build({ [ENV_NAMES.routePermissions]: routes });
    const result = await handler(event(`Bearer ${token({ scopes: ['Items.Read'] })}`, `${base}/GET/items`));
    expect(result.policyDocument.Statement).toEqual([
      {
        Action: 'execute-api:Invoke',
        Effect: 'Allow',
        Resource: [`${base}/GET/whoami`, `${base}/GET/items`],
      },
      // API Gateway serves /items/ from the resource /items: no path ending in / reaches a route by alias.
      { Action: 'execute-api:Invoke', Effect: 'Deny', Resource: [`${base}/*/*/`] },
    ]);
  });

  it('give a 403 for a route the caller may not call, while keeping the cached answer right for the others', async () => {
    const { handler, records } = build({ [ENV_NAMES.routePermissions]: routes });
    const result = await handler(
      event(`Bearer ${token({ scopes: ['Items.Read'] })}`, `${base}/DELETE/items/42`),
    );
    expect(result.policyDocument.Statement).toEqual([
      {
        Action: 'execute-api:Invoke',
        Effect: 'Allow',
        Resource: [`${base}/GET/whoami`, `${base}/GET/items`],
      },
      { Action: 'execute-api:Invoke', Effect: 'Deny', Resource: [`${base}/DELETE/items/42`, `${base}/*/*/`] },
    ]);
    expect(records.at(-1)?.decision).toMatchObject({ outcome: 'deny', reason: 'insufficient_permission' });
  });

  it('match wildcards across path segments and grant app roles', async () => {
    const { handler } = build({ [ENV_NAMES.routePermissions]: routes });
    const result = await handler(
      event(`Bearer ${token({ appOnly: true, roles: ['Items.Admin'] })}`, `${base}/DELETE/items/42/x`),
    );
    expect(result.policyDocument.Statement[0]).toMatchObject({
      Effect: 'Allow',
      Resource: [`${base}/GET/whoami`, `${base}/DELETE/items/*`],
    });
  });

  it('list a route declared with method * once per method, so its policy covers that path only', async () => {
    const { handler, records } = build({
      [ENV_NAMES.routePermissions]: JSON.stringify({
        '* /items': {},
        '* /items/{proxy+}': {},
        'GET /admin/items': { roles: ['Admin'] },
      }),
    });
    const result = await handler(event(`Bearer ${token()}`, `${base}/GET/items`));
    const allowed = result.policyDocument.Statement[0] as { Resource: string[] };
    expect(allowed.Resource).toHaveLength(14);
    expect(allowed.Resource).toContain(`${base}/DELETE/items/*`);
    expect(allowed.Resource.every((r) => !r.startsWith(`${base}/*`))).toBe(true);
    for (const request of ['GET/admin/items', 'DELETE/admin/items/9']) {
      await handler(event(`Bearer ${token()}`, `${base}/${request}`));
      expect(records.at(-1)?.decision.reason).toBe('insufficient_permission');
    }
  });

  it('deny by name a request whose path holds no wildcard, and the whole stage when nothing is granted', async () => {
    const { handler } = build({
      [ENV_NAMES.routePermissions]: JSON.stringify({ 'GET /items/{proxy+}': {} }),
    });
    const starred = await handler(event(`Bearer ${token()}`, `${base}/POST/items/*`));
    expect(starred.policyDocument.Statement).toEqual([
      { Action: 'execute-api:Invoke', Effect: 'Allow', Resource: [`${base}/GET/items/*`] },
      { Action: 'execute-api:Invoke', Effect: 'Deny', Resource: [`${base}/*/*/`] },
    ]);
    const none = build({ [ENV_NAMES.routePermissions]: JSON.stringify({ 'GET /items': { roles: ['x'] } }) });
    const nothing = await none.handler(event(`Bearer ${token()}`, `${base}/GET/a?b`));
    expect(nothing.policyDocument.Statement).toEqual([
      { Action: 'execute-api:Invoke', Effect: 'Deny', Resource: [`${base}/*`] },
    ]);
  });

  it('refuse a path ending in /, which API Gateway serves from the resource without it, fresh and cached', async () => {
    const { handler, records } = build({
      [ENV_NAMES.routePermissions]: JSON.stringify({
        'GET /items': { roles: ['Items.Admin'] },
        'GET /items/{proxy+}': {},
      }),
    });
    const reader = `Bearer ${token({ scopes: ['Items.Read'] })}`;
    // Without the rule, the policy's `GET/items/*` (its * matching nothing) would admit /items/, served by GET /items.
    await handler(event(reader, `${base}/GET/items/`));
    expect(records.at(-1)?.decision).toMatchObject({ outcome: 'deny', reason: 'insufficient_permission' });
    expect(records.at(-1)?.decision.detail).toMatch(/ends in "\/"/);
    const cached = await handler(event(reader, `${base}/GET/items/42`));
    expect(cached.policyDocument.Statement).toContainEqual({
      Action: 'execute-api:Invoke',
      Effect: 'Deny',
      Resource: [`${base}/*/*/`],
    });
    // The root keeps its one slash and is not caught by the deny.
    const root = build({ [ENV_NAMES.routePermissions]: JSON.stringify({ 'GET /': {} }) });
    const atRoot = await root.handler(event(reader, `${base}/GET/`));
    expect(atRoot.policyDocument.Statement[0]).toMatchObject({ Effect: 'Allow', Resource: [`${base}/GET/`] });
  });

  it('deny a route that is not declared at all', async () => {
    const { handler } = build({
      [ENV_NAMES.routePermissions]: JSON.stringify({ 'GET /items': { scopes: ['Items.Read'] } }),
    });
    const result = await handler(event(`Bearer ${token()}`, `${base}/GET/secret`));
    expect(result.policyDocument.Statement).toEqual([
      { Action: 'execute-api:Invoke', Effect: 'Deny', Resource: [`${base}/GET/secret`] },
    ]);
  });
});

describe('a multi-tenant API', () => {
  it('accepts a tenant on the allow-list and refuses one that is not', async () => {
    const { handler } = build({ [ENV_NAMES.tenantId]: 'organizations', [ENV_NAMES.allowedTenants]: TENANT });
    await expect(handler(event(`Bearer ${token()}`))).resolves.toMatchObject({ principalId: claims().oid });
    await expect(handler(event(`Bearer ${token({ tenantId: OTHER_TENANT })}`))).rejects.toThrow(UNAUTHORIZED);
  });

  it('keeps personal accounts out of "organizations", even with "*", and lets them into "common"', async () => {
    const consumers = '9188040d-6c67-4c5b-b112-36a304b66dad';
    const organizations = build({ [ENV_NAMES.tenantId]: 'organizations', [ENV_NAMES.allowedTenants]: '*' });
    await expect(organizations.handler(event(`Bearer ${token({ tenantId: consumers })}`))).rejects.toThrow(
      UNAUTHORIZED,
    );
    expect(organizations.records.at(-1)).toMatchObject({
      decision: { reason: 'tenant_not_allowed' },
      hint: expect.stringMatching(/^a personal Microsoft account token/),
    });
    const common = build({ [ENV_NAMES.tenantId]: 'common', [ENV_NAMES.allowedTenants]: '*' });
    await expect(common.handler(event(`Bearer ${token({ tenantId: consumers })}`))).resolves.toMatchObject({
      context: { tid: consumers },
    });
  });

  it('accepts any tenant only when "*" is configured, checking its issuer against its own tid', async () => {
    const { handler } = build({ [ENV_NAMES.tenantId]: 'common', [ENV_NAMES.allowedTenants]: '*' });
    const result = await handler(event(`Bearer ${token({ tenantId: OTHER_TENANT })}`));
    expect(result.context).toMatchObject({ tid: OTHER_TENANT });
    const mixed = signed(header(), { ...claims({ tenantId: OTHER_TENANT }), tid: TENANT });
    await expect(handler(event(`Bearer ${mixed}`))).rejects.toThrow(UNAUTHORIZED);
  });
});

describe('our own failure', () => {
  it('is a 500 (not Unauthorized, never Allow) when the keys cannot be obtained', async () => {
    const down = await KeyServer.start();
    down.mode = 'status-503';
    try {
      const { handler, records } = buildAuthorizer({ [ENV_NAMES.jwksUri]: down.url });
      const outcome = await handler(event(`Bearer ${token()}`)).then(
        () => 'returned',
        (err: Error) => err.message,
      );
      expect(outcome).not.toBe('returned');
      expect(outcome).not.toBe(UNAUTHORIZED);
      expect(records.at(-1)?.decision).toMatchObject({ outcome: 'error', reason: 'keys_unavailable' });
    } finally {
      await down.stop();
    }
  });

  it('is a 500, not a 401, when the verification itself breaks', async () => {
    const { keys } = build();
    const config = loadConfig({
      [ENV_NAMES.tenantId]: TENANT,
      [ENV_NAMES.audiences]: CLIENT_ID,
      [ENV_NAMES.jwksUri]: server.url,
    });
    const broken = Object.assign(Object.create(keys), {
      findFreshJwk: () => {
        throw new TypeError('a bug of ours');
      },
    });
    const records: DecisionRecord[] = [];
    const handler = createAuthorizer({
      verifier: createTokenVerifier({ config, keys: broken }),
      routes: createRouteAuthorizer(config),
      record: (r) => records.push(r),
    });
    await expect(handler(event(`Bearer ${token()}`))).rejects.toThrow(
      /Authorizer failure \(internal_error\)/,
    );
    expect(records.at(-1)?.decision).toMatchObject({
      outcome: 'error',
      reason: 'internal_error',
      detail: 'a bug of ours',
    });
  });

  it('is a 500 for an event that is not a TOKEN event', async () => {
    const { handler } = build();
    const bad = { ...event(`Bearer ${token()}`), type: 'REQUEST' } as never;
    await expect(handler(bad)).rejects.toThrow(/Authorizer failure/);
  });

  it('never logs the token', async () => {
    const { handler, records } = build();
    const t = token();
    await handler(event(`Bearer ${t}`));
    await handler(event(`Bearer ${t}x`)).catch(() => {});
    const logged = JSON.stringify(records);
    expect(logged).not.toContain(t.split('.')[2]);
    expect(logged).not.toContain(t.split('.')[1]);
  });
});

describe('audiences', () => {
  it('accept exactly the configured values', async () => {
    const { handler } = build({ [ENV_NAMES.audiences]: CLIENT_ID });
    const accepted = await handler(event(`Bearer ${token({ audience: CLIENT_ID })}`));
    expect(accepted.policyDocument.Statement).toEqual([
      { Action: 'execute-api:Invoke', Effect: 'Allow', Resource: [STAGE_ARN] },
    ]);
    await expect(handler(event(`Bearer ${token({ audience: APP_ID_URI })}`))).rejects.toThrow(UNAUTHORIZED);
  });
});

describe('pluggable pieces that fail', () => {
  const rejecting = {
    verify: async () => {
      throw new TokenRejectedError('wrong_audience', 'aud is "x"');
    },
  };
  const routes = () => ({ allowed: true as const, routes: 'stage' as const });

  it("keeps the decision when the hinter throws, with the reason's own hint", async () => {
    const records: DecisionRecord[] = [];
    const handler = createAuthorizer({
      verifier: rejecting,
      routes,
      hint: () => {
        throw new RangeError('Invalid time value');
      },
      record: (r) => records.push(r),
    });
    await expect(handler(event('Bearer a.b.c'))).rejects.toThrow(UNAUTHORIZED);
    expect(records).toHaveLength(1);
    expect(records[0]).toMatchObject({
      decision: { outcome: 'unauthorized', reason: 'wrong_audience' },
      hint: 'aud is not in AZURE_AUDIENCES: v1 tokens carry api://<id>, v2 tokens the client id; list both',
    });
  });

  it("keeps the decision when a lazily loaded hinter rejects (its file missing), with the reason's own hint", async () => {
    const records: DecisionRecord[] = [];
    const handler = createAuthorizer({
      verifier: rejecting,
      routes,
      hint: () => Promise.reject(new Error("Cannot find module './hints.js'")),
      record: (r) => records.push(r),
    });
    await expect(handler(event('Bearer a.b.c'))).rejects.toThrow(new RegExp(`^${UNAUTHORIZED}$`));
    expect(records).toHaveLength(1);
    expect(records[0]).toMatchObject({
      decision: { outcome: 'unauthorized', reason: 'wrong_audience' },
      hint: 'aud is not in AZURE_AUDIENCES: v1 tokens carry api://<id>, v2 tokens the client id; list both',
    });
  });

  it('logs the hint a lazily loaded hinter resolves to', async () => {
    const records: DecisionRecord[] = [];
    const handler = createAuthorizer({
      verifier: rejecting,
      routes,
      hint: async (reason) => `made later for ${reason}`,
      record: (r) => records.push(r),
    });
    await expect(handler(event('Bearer a.b.c'))).rejects.toThrow(UNAUTHORIZED);
    expect(records[0]?.hint).toBe('made later for wrong_audience');
  });

  it('keeps the answer when the recorder throws', async () => {
    const handler = createAuthorizer({
      verifier: rejecting,
      routes,
      record: () => {
        throw new Error('EPIPE');
      },
    });
    await expect(handler(event('Bearer a.b.c'))).rejects.toThrow(new RegExp(`^${UNAUTHORIZED}$`));
  });
});

describe('the decision record', () => {
  const base = 'arn:aws:execute-api:eu-west-1:123456789012:abc123def4/prod';
  const routes = JSON.stringify({ 'GET /whoami': {}, 'GET /items': { scopes: ['Items.Read'] } });

  it('says where the request went, and for an Allow the whole stage or how many routes, with no error', async () => {
    const stage = build();
    await stage.handler(event(`Bearer ${token()}`, `${base}/GET/items`));
    const [allowed] = stage.records;
    expect(allowed).toMatchObject({
      decision: { outcome: 'allow', reason: 'allowed', detail: 'stage' },
      method: 'GET',
      path: '/items',
    });
    expect(allowed !== undefined && 'error' in allowed).toBe(false);
    const routed = build({ [ENV_NAMES.routePermissions]: routes });
    await routed.handler(event(`Bearer ${token({ scopes: ['Items.Read'] })}`, `${base}/GET/items`));
    await routed.handler(event(`Bearer ${token({ scopes: ['Other'] })}`, `${base}/GET/whoami`));
    expect(routed.records.map((r) => [r.decision.reason, r.decision.detail])).toEqual([
      ['allowed', '2 routes'],
      ['allowed', '1 route'],
    ]);
  });

  it('carries no error for a 401 or a 403, only for our own failure', async () => {
    const { handler, records } = build({ [ENV_NAMES.routePermissions]: routes });
    await handler(event(`Bearer ${token({ scopes: ['Other'] })}`, `${base}/GET/items`));
    await handler(event(`Bearer ${token()}x`, `${base}/GET/items`)).catch(() => undefined);
    expect(records.map((r) => r.decision.outcome)).toEqual(['deny', 'unauthorized']);
    expect(records.filter((r) => 'error' in r)).toEqual([]);
  });

  it('asks no hint of an Allow, so the hint text loads only at the first refusal', async () => {
    const asked: string[] = [];
    const records: DecisionRecord[] = [];
    const handler = createAuthorizer({
      verifier: {
        verify: async () =>
          ({ claims: { tid: TENANT, scopes: ['x'], roles: [] }, keyId: 'k1', jwt: {} }) as never,
      },
      routes: () => ({ allowed: true as const, routes: 'stage' as const }),
      hint: (reason) => {
        asked.push(reason);
        return 'a hint';
      },
      record: (r) => records.push(r),
    });
    await handler(event('Bearer a.b.c'));
    expect(asked).toEqual([]);
    expect(records).toHaveLength(1);
    expect(records[0] !== undefined && 'hint' in records[0]).toBe(false);
  });

  it('has no hint for a refusal when no hinter is given', async () => {
    const records: DecisionRecord[] = [];
    const handler = createAuthorizer({
      verifier: {
        verify: async () => {
          throw new TokenRejectedError('expired', 'exp is past');
        },
      },
      routes: () => ({ allowed: true as const, routes: 'stage' as const }),
      record: (r) => records.push(r),
    });
    await expect(handler(event('Bearer a.b.c'))).rejects.toThrow(UNAUTHORIZED);
    expect(records).toHaveLength(1);
    expect(records[0]?.hint).toBeUndefined();
  });

  it('is a 500 naming the event type for an event that is no TOKEN event, or none at all', async () => {
    const kind = tokenEventKind(() => ({ allowed: true, routes: 'stage' }));
    const deps = { verifier: { verify: () => Promise.reject(new Error('not reached')) } };
    for (const [input, type] of [
      [{ type: 'REQUEST' }, '"REQUEST"'],
      [null, '"undefined"'],
      [undefined, '"undefined"'],
    ] as const) {
      const record = await decideWith(kind, input as never, deps);
      expect(record.decision).toEqual({
        outcome: 'error',
        reason: 'internal_error',
        detail: `event type is ${type}; expected "TOKEN"`,
      });
    }
  });

  it('writes the REST 403 challenge into the context, where the gateway response reads it', async () => {
    const { keys } = build();
    const config = loadConfig({
      [ENV_NAMES.tenantId]: TENANT,
      [ENV_NAMES.audiences]: CLIENT_ID,
      [ENV_NAMES.jwksUri]: server.url,
    });
    const kind = tokenEventKind(createRouteAuthorizer(config), () => 'Bearer error="insufficient_scope"');
    const record = await decideWith(kind, event(`Bearer ${token({ audience: CLIENT_ID })}`), {
      verifier: createTokenVerifier({ config, keys }),
    });
    const result = record.decision.outcome === 'allow' ? record.decision.result : undefined;
    expect(result?.context?.[CHALLENGE_CONTEXT_KEY]).toBe('Bearer error="insufficient_scope"');
  });

  it('is a 500 with the error, never an answer, when a kind breaks after the token is verified', async () => {
    const verified = {
      claims: { tid: TENANT, oid: 'the-oid', appId: CLIENT_ID, scopes: [], roles: [] },
      keyId: 'k1',
      jwt: { header: {}, payload: {} },
    };
    const verifier = { verify: async () => verified as never };
    const failing: EventKind<null, null, never> = {
      read: () => ({ where: { method: 'GET', path: '/x' }, target: null, token: () => 't' }),
      authorize: () => {
        throw new TypeError('a bug of ours');
      },
    };
    const record = await decideWith(failing, null, { verifier });
    expect(record).toMatchObject({
      decision: { outcome: 'error', reason: 'internal_error', detail: 'a bug of ours' },
      method: 'GET',
      path: '/x',
      tid: TENANT,
      oid: 'the-oid',
      kid: 'k1',
    });
    expect(record.error).toBeInstanceOf(Error);
    expect((record.error as Error).message).toBe('a bug of ours');
    // A kind whose request has no place at all breaks outside every step: still one 500 record.
    const placeless = { ...failing, read: () => ({ target: null, token: () => 't' }) } as never;
    const broken = await decideWith(placeless, null, { verifier });
    expect(broken.decision).toMatchObject({ outcome: 'error', reason: 'internal_error' });
    expect(broken.error).toBeInstanceOf(Error);
  });
});
