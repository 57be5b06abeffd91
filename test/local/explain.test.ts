import { execFile } from 'node:child_process';
import { createSign } from 'node:crypto';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { explainToken } from '../../infra/local/explain.js';
import { createSigningKey, GUEST_HOME_TENANT } from '../../infra/local/mint.js';
import { API_ENV, loadApiConfig } from '../../lambda/authorizer/api-kind.js';
import { ENV_NAMES, loadConfig } from '../../lambda/authorizer/config.js';
import { EntraJwksCache } from '../../lambda/authorizer/keys/key-cache.js';
import { REASONS, type Reason } from '../../lambda/authorizer/reasons.js';
import { atFixture, fixtureAuthorizer, fixturePair, skipWithoutFixtures } from '../helpers/entra-fixtures.js';
import { KeyServer } from '../helpers/key-server.js';
import {
  APP_ID_URI,
  buildAuthorizer,
  CLIENT_ID,
  claims,
  event,
  header,
  nowSeconds as now,
  OTHER_TENANT,
  publishedKeySet,
  signed,
  TENANT,
  testKeys,
  token,
} from '../helpers/setup.js';

/** `explain-cli.ts --json <args>` run from the repository's root, its report parsed. */
async function explainJson(args: readonly string[]) {
  const { stdout } = await promisify(execFile)(
    process.execPath,
    ['--import', 'tsx', 'infra/local/explain-cli.ts', '--json', ...args],
    { cwd: new URL('../../', import.meta.url).pathname },
  );
  return JSON.parse(stdout);
}

const server = KeyServer.forSuite();
afterEach(() => {
  vi.useRealTimers();
  server.mode = 'ok';
});

interface HintCase {
  readonly name: string;
  readonly env?: Record<string, string>;
  readonly token: () => string;
  readonly reason: Reason;
  readonly hint: RegExp;
}

const cases: HintCase[] = [
  {
    name: 'a group overage token (as npm run token -- --overage mints one) where a group is required',
    env: { [ENV_NAMES.requiredGroups]: 'aaaaaaaa-1111-4222-8333-444444444444' },
    token: () => token({ groupsOverage: true }),
    reason: 'groups_overage',
    hint: /^the route needs a group, and the user's groups did not fit in the token \(group overage: _claim_names instead of groups\); no Graph call is made/,
  },
  {
    name: 'a guest user (as npm run token -- --guest mints one) where guests are refused',
    env: { [ENV_NAMES.guestUsers]: 'refuse' },
    token: () => token({ guest: true }),
    reason: 'guest_not_allowed',
    hint: new RegExp(
      `^the user is a guest \\(B2B\\) of the tenant \\(its idp https://sts\\.windows\\.net/${GUEST_HOME_TENANT}/ is not the issuer of tenant ${TENANT}\\), and guests are refused`,
    ),
  },
  {
    name: 'a v1 token with the App ID URI against a client-id audience',
    env: { [ENV_NAMES.audiences]: CLIENT_ID },
    token: () => token({ version: '1.0', audience: APP_ID_URI }),
    reason: 'wrong_audience',
    hint: new RegExp(
      `^the token's unverified aud is api://${CLIENT_ID} \\(ver 1\\.0\\); configured audiences are ${CLIENT_ID}: a v1 token for this API carries api://<client id>: add api://${CLIENT_ID} or set accessTokenAcceptedVersion to 2`,
    ),
  },
  {
    name: 'a v2 token with the client id against an App ID URI audience',
    env: { [ENV_NAMES.audiences]: APP_ID_URI },
    token: () => token({ audience: CLIENT_ID }),
    reason: 'wrong_audience',
    hint: new RegExp(`add ${CLIENT_ID} \\(v2 tokens carry the client id as aud\\)`),
  },
  {
    name: 'a token for another API',
    token: () => token({ audience: 'api://payroll' }),
    reason: 'wrong_audience',
    hint: /^the token's unverified aud is api:\/\/payroll .*another API; it must request your API's scope.*not as this token claims it$/,
  },
  {
    name: 'a Graph token (nonce header)',
    token: () =>
      signed(header({ nonce: 'n0nce' }), claims({ audience: '00000003-0000-0000-c000-000000000000' })),
    reason: 'graph_token',
    hint: /^this is a Microsoft Graph token \(nonce header, the token's unverified aud 00000003-0000-0000-c000-000000000000\): request a token for your API's scope/,
  },
  {
    name: 'a Graph token (Graph audience)',
    token: () => token({ audience: 'https://graph.microsoft.com' }),
    reason: 'graph_token',
    hint: /^this is a Microsoft Graph token \(the token's unverified aud https:\/\/graph\.microsoft\.com\)/,
  },
  {
    name: 'an id token with app roles',
    token: () => signed(header(), { ...claims(), azp: undefined, scp: undefined, roles: ['Admin'] }),
    reason: 'not_an_access_token',
    hint: /^id token \(ver 2\.0, no azp; its roles do not make it an access token\): the client sent its id token/,
  },
  {
    name: 'an app-only token without roles',
    token: () => token({ appOnly: true }),
    reason: 'no_scope_or_role',
    hint: /^app-only token of app 11111111-2222-4333-8444-555555555555 with no roles: .*Assign an app role/,
  },
  {
    name: 'another tenant on a single-tenant API',
    token: () => token({ tenantId: OTHER_TENANT }),
    reason: 'tenant_not_allowed',
    hint: new RegExp(
      `^the token's unverified tid is ${OTHER_TENANT}; the API is single-tenant for ${TENANT}: to admit another tenant, set AZURE_TENANT_ID=organizations and AZURE_ALLOWED_TENANTS=${TENANT},<that tenant's ID, as its admins give it, not as a token claims it> \\(the construct props tenantId and allowedTenants, -c tenantId -c allowedTenants\\)$`,
    ),
  },
  {
    name: 'a tenant missing from the allow-list',
    env: { [ENV_NAMES.tenantId]: 'organizations', [ENV_NAMES.allowedTenants]: TENANT },
    token: () => token({ tenantId: OTHER_TENANT }),
    reason: 'tenant_not_allowed',
    hint: new RegExp(
      `^the token's unverified tid ${OTHER_TENANT} is not on AZURE_ALLOWED_TENANTS \\(the construct prop allowedTenants, -c allowedTenants\\): if a tenant should call, add its tenant ID as its admins give it, not as a token claims it$`,
    ),
  },
  {
    name: 'a sovereign-cloud token on a public-cloud configuration',
    token: () => token({ authorityHost: 'login.microsoftonline.us' }),
    reason: 'wrong_issuer',
    // A documented cloud: the host to set is Microsoft's, from the clouds table, not the token's.
    hint: /^the token's unverified iss host login\.microsoftonline\.us is Azure Government's: if your API is registered in Azure Government, set AZURE_AUTHORITY_HOST=login\.microsoftonline\.us \(its v1 issuer host follows\)$/,
  },
  {
    name: 'the issuer template',
    token: () => signed(header(), { ...claims(), iss: 'https://login.microsoftonline.com/{tenantid}/v2.0' }),
    reason: 'wrong_issuer',
    hint: /template itself/,
  },
  {
    name: 'a token without tid',
    token: () => signed(header(), { ...claims(), tid: undefined }),
    reason: 'wrong_issuer',
    hint: /has no tid: personal Microsoft account/,
  },
  {
    name: 'an expired token',
    token: () => signed(header(), { ...claims(), exp: now() - 7200 }),
    reason: 'expired',
    hint: /^the token expired at \d{4}-.* \(2 hours ago, 300s skew allowed\): the client must get a new one/,
  },
  {
    name: 'a token from the future',
    token: () => signed(header(), { ...claims(), nbf: now() + 3600 }),
    reason: 'not_yet_valid',
    hint: /^nbf is .* \(in (59 minutes|1 hour)\), beyond the 300s skew/,
  },
  {
    name: 'an unknown kid',
    token: () => signed(header({ kid: 'no-such-key' }), claims()),
    reason: 'unknown_key',
    hint: new RegExp(
      `^the token's unverified kid no-such-key is not in the key set at http://127\\.0\\.0\\.1:\\d+/.*\\?appid=${CLIENT_ID}\\)$`,
    ),
  },
  {
    name: 'a personal-account key',
    token: () => token({}, testKeys().personal),
    reason: 'key_issuer_mismatch',
    hint: /9188040d-6c67-4c5b-b112-36a304b66dad.*personal accounts/,
  },
  {
    name: 'a missing scope',
    env: { [ENV_NAMES.requiredScopes]: 'Items.Read' },
    token: () => token(),
    reason: 'insufficient_permission',
    hint: /^the token has scp "access_as_user" and roles ""; the API requires scope Items\.Read: grant and consent/,
  },
  {
    name: 'a client app not on the allowed list',
    env: { [ENV_NAMES.allowedClientApps]: '0a0a0a0a-1111-4222-8333-444444444444' },
    token: () => token({ clientId: '5ca1ab1e-1111-4222-8333-444444444444' }),
    reason: 'client_app_not_allowed',
    hint: /^the calling app is 5ca1ab1e-1111-4222-8333-444444444444 \(claim azp, ver 2\.0\), which may not call this API: if it should, add 5ca1ab1e-1111-4222-8333-444444444444 to AZURE_ALLOWED_CLIENT_APPS/,
  },
  {
    name: 'HS256',
    token: () => signed(header({ alg: 'HS256' }), claims()),
    reason: 'unsupported_alg',
    hint: /^alg is "HS256": Entra ID signs access tokens with RS256/,
  },
  {
    name: 'a forged signature',
    token: () => token({}, testKeys().attacker),
    reason: 'bad_signature',
    hint: /^the signature does not verify/,
  },
  {
    name: 'a jku header',
    token: () => signed(header({ jku: 'https://x' }), claims()),
    reason: 'forbidden_header',
    hint: /never from jku/,
  },
  { name: 'junk', token: () => 'a.b', reason: 'malformed', hint: /^the header is not "Bearer <jwt>"/ },
];

describe('every rejection carries a reason and a hint for the operator', () => {
  it.each(cases)('$reason: $name', async ({ env, token: make, reason, hint }) => {
    server.jwks = publishedKeySet();
    const { handler, records } = buildAuthorizer({ [ENV_NAMES.jwksUri]: server.url, ...env });
    const t = make();
    await handler(event(`Bearer ${t}`)).catch(() => {});
    const record = records.at(-1);
    expect(record?.decision.reason).toBe(reason);
    expect(record?.hint).toMatch(hint);
    const signature = t.split('.')[2];
    if (signature) expect(record?.hint).not.toContain(signature);
  });

  it('for a missing token and for unreachable keys too', async () => {
    server.mode = 'status-503';
    const { handler, records } = buildAuthorizer({ [ENV_NAMES.jwksUri]: server.url });
    await handler(event(undefined)).catch(() => {});
    expect(records.at(-1)?.hint).toBe('send the header "Authorization: Bearer <access token>"');
    await handler(event(`Bearer ${token()}`)).catch(() => {});
    expect(records.at(-1)?.hint).toMatch(
      /^the key set at http:\/\/127\.0\.0\.1:\d+\/\S+ could not be fetched: check egress/,
    );
  });

  it('covers every reason a token can be refused for', () => {
    // tenants_unavailable's hint: test/authorizer/tenant-list-holder.test.ts.
    const covered = new Set<string>([
      ...cases.map((c) => c.reason),
      'missing_token',
      'keys_unavailable',
      'tenants_unavailable',
    ]);
    const all = Object.keys(REASONS).filter((r) => r !== 'allowed' && r !== 'internal_error');
    expect([...covered].sort()).toEqual(all.sort());
  });
});

const NO_FIXTURES = skipWithoutFixtures('"hints on real Entra ID tokens"');
describe.skipIf(NO_FIXTURES)('hints on real Entra ID tokens', () => {
  function judge(tokenFile: string, env: Record<string, string>) {
    return fixtureAuthorizer(tokenFile, server, env);
  }

  async function explainFixture(tokenFile: string) {
    const pair = fixturePair(tokenFile);
    const token = atFixture(pair, server);
    const config = loadConfig({
      [ENV_NAMES.tenantId]: pair.tid,
      [ENV_NAMES.audiences]: pair.aud,
      [ENV_NAMES.jwksUri]: server.url,
    });
    return explainToken(token, { config, keys: new EntraJwksCache() });
  }

  it('names the legacy spn: audience of the v1 access token', async () => {
    const {
      handler,
      records,
      token: t,
    } = judge('passport.v1-access-token.2016-06-30.txt', {
      [ENV_NAMES.audiences]: '6514a8ca-d9e4-4155-b292-65258398f3aa',
    });
    await handler(event(`Bearer ${t}`)).catch(() => {});
    expect(records.at(-1)?.hint).toBe(
      "the token's unverified aud is spn:6514a8ca-d9e4-4155-b292-65258398f3aa (ver 1.0); configured audiences are 6514a8ca-d9e4-4155-b292-65258398f3aa: add spn:6514a8ca-d9e4-4155-b292-65258398f3aa (the legacy v1 form of the client id)",
    );
  });

  it('calls the id tokens id tokens', async () => {
    for (const file of [
      'passport.v1-id-token.2016-08-16.txt',
      'jose4j.v2-id-token.2016-08-02.txt',
      'dfinity-ii.v2-id-token-org.2025-09-02.txt',
    ]) {
      const { handler, records, token: t } = judge(file, {});
      await handler(event(`Bearer ${t}`)).catch(() => {});
      expect(records.at(-1)?.hint).toMatch(
        /^id token \(ver (1|2)\.0, no (appid|azp)\): the client sent its id token/,
      );
    }
  });

  it('recognises the Azure AD Graph token when the API expects its own audience', async () => {
    const {
      handler,
      records,
      token: t,
    } = judge('identitymodel.v1-access-token-aadgraph-overclaims.2014-07-21.txt', {
      [ENV_NAMES.audiences]: 'api://my-api',
    });
    await handler(event(`Bearer ${t}`)).catch(() => {});
    expect(records.at(-1)?.decision.reason).toBe('graph_token');
    expect(records.at(-1)?.hint).toMatch(
      /^this is a Microsoft Graph token \(the token's unverified aud https:\/\/graph\.windows\.net\): request a token for your API's scope \(e\.g\. api:\/\/my-api\/\.default\)/,
    );
  });

  it('explains the v1 access token check by check, with the signature verified', async () => {
    const report = await explainFixture('passport.v1-access-token.2016-06-30.txt');
    expect(report.checks.filter((c) => c.outcome !== 'pass')).toEqual([]);
    expect(report.signature).toMatchObject({ status: 'verified' });
    expect(report.decision).toMatchObject({ status: 200, outcome: 'allow', reason: 'allowed' });
    expect(report.times.find((t) => t.claim === 'exp')).toMatchObject({
      iso: '2016-06-30T19:32:28.000Z',
      relative: 'in 1 hour',
    });
  });

  it('explains an id token: signature verified, but not an access token', async () => {
    const report = await explainFixture('jose4j.v2-id-token.2016-08-02.txt');
    expect(report.checks.filter((c) => c.outcome === 'fail').map((c) => c.check)).toEqual([
      'azp (v2) or appid (v1) present: an access token, not an id token',
    ]);
    expect(report.signature.status).toBe('verified');
    expect(report.decision).toMatchObject({ status: 401, reason: 'not_an_access_token' });
    expect(report.hint).toMatch(/^id token/);
  });
});

describe('explainToken', () => {
  const config = () =>
    loadConfig({
      [ENV_NAMES.tenantId]: TENANT,
      [ENV_NAMES.audiences]: CLIENT_ID,
      [ENV_NAMES.jwksUri]: server.url,
      [ENV_NAMES.requiredScopes]: 'Items.Read',
    });

  it('lists every failed rule, not only the first', async () => {
    server.jwks = publishedKeySet();
    const t = signed(header({ kid: 'main-key' }), {
      ...claims({ audience: 'api://other' }),
      exp: now() - 4000,
    });
    const report = await explainToken(t, { config: config(), keys: new EntraJwksCache() });
    expect(report.checks.filter((c) => c.outcome === 'fail').map((c) => c.check)).toEqual([
      'aud is one of the configured audiences',
      'exp is present and not past (with the clock skew)',
    ]);
    expect(report.signature.status).toBe('verified');
    expect(report.decision.reason).toBe('wrong_audience');
  });

  it('says when the signature is forged, and judges the route', async () => {
    server.jwks = publishedKeySet();
    const forged = await explainToken(token({ scopes: ['Items.Read'] }, testKeys().attacker), {
      config: config(),
      keys: new EntraJwksCache(),
    });
    expect(forged.signature.status).toBe('invalid');
    expect(forged.decision.status).toBe(401);
    const denied = await explainToken(token(), {
      config: config(),
      keys: new EntraJwksCache(),
      route: { method: 'GET', path: '/items' },
    });
    expect(denied.decision).toMatchObject({ status: 403, reason: 'insufficient_permission' });
    expect(denied.checks.at(-1)).toMatchObject({
      outcome: 'fail',
      check: 'may call GET /items (allowed client apps, required scopes or roles, route permissions)',
    });
  });

  it('shows the key URL without credentials, and a report that prints whatever the token holds', async () => {
    server.jwks = publishedKeySet();
    const withSecret = loadConfig({
      [ENV_NAMES.tenantId]: TENANT,
      [ENV_NAMES.audiences]: CLIENT_ID,
      [ENV_NAMES.jwksUri]: server.url.replace('http://', 'http://keyuser:s3cr3t@').concat('?code=t0ps3cret'),
    });
    // A claim nested 6,000 levels deep (JSON.stringify overflows the stack on it), written as text.
    const payload = JSON.stringify({ ...claims(), nbf: 1e300 }).replace(
      /}$/,
      `,"deep":${'['.repeat(6000)}${']'.repeat(6000)}}`,
    );
    const input = `${Buffer.from(JSON.stringify(header())).toString('base64url')}.${Buffer.from(payload).toString('base64url')}`;
    const signature = createSign('RSA-SHA256')
      .update(input)
      .sign(testKeys().main.privateKey)
      .toString('base64url');
    const report = await explainToken(`${input}.${signature}`, {
      config: withSecret,
      keys: new EntraJwksCache(),
    });
    expect(report.signature.detail).toMatch(
      /^RS256 signature verified with key main-key from http:\/\/\*\*\*@127\.0\.0\.1:\d+\/\S+\?\*\*\*$/,
    );
    expect(report.times.find((t) => t.claim === 'nbf')?.iso).toBe('1e+300 (not a representable date)');
    const printed = JSON.stringify(report);
    expect(printed).toContain('[nested deeper than 16 levels]');
    expect(printed).not.toMatch(/keyuser|s3cr3t|t0ps3cret/);
  });

  it('says so when it cannot reach the key set', async () => {
    server.mode = 'status-503';
    const report = await explainToken(token(), { config: config(), keys: new EntraJwksCache() });
    expect(report.signature).toMatchObject({
      status: 'not_checked',
      detail: expect.stringMatching(/could not be fetched.*status 503/),
    });
  });
});

describe('explainToken for an HTTP API (AZURE_API_KIND=http)', () => {
  const routes = { 'GET /items/{id}': { scopes: ['Items.Read'] }, $default: { roles: ['Items.Admin'] } };
  const config = () =>
    loadApiConfig({
      [API_ENV.kind]: 'http',
      [ENV_NAMES.tenantId]: TENANT,
      [ENV_NAMES.audiences]: CLIENT_ID,
      [ENV_NAMES.jwksUri]: server.url,
      [ENV_NAMES.routePermissions]: JSON.stringify(routes),
    });

  it('judges route keys exactly, $default included, as the HTTP API authorizer does', async () => {
    server.jwks = publishedKeySet();
    const judge = async (routeKey: string, scopes: string[]) =>
      (
        await explainToken(token({ scopes }), {
          config: config(),
          keys: new EntraJwksCache(),
          route: { method: 'GET', path: '/' },
          routeKey,
        })
      ).decision;
    expect(await judge('GET /items/{id}', ['Items.Read'])).toMatchObject({
      status: 200,
      detail: 'route GET /items/{id}',
    });
    expect(await judge('GET /items/{id}', ['Other'])).toMatchObject({ status: 403 });
    expect(await judge('$default', ['Items.Read'])).toMatchObject({
      status: 403,
      detail: 'route $default requires role Items.Admin',
    });
    // Not a route key of the table: an HTTP API never sends it, so it is refused rather than pattern-matched.
    expect(await judge('GET /items/42', ['Items.Read'])).toMatchObject({ status: 403 });
  });

  it('npm run explain --route takes a route key, or a request it maps to the route an HTTP API selects', async () => {
    server.jwks = publishedKeySet();
    const run = promisify(execFile);
    const explain = async (route: string) => {
      const child = run(
        process.execPath,
        [
          '--import',
          'tsx',
          'infra/local/explain-cli.ts',
          '--route',
          route,
          token({ scopes: ['Items.Read'] }),
        ],
        {
          cwd: new URL('../../', import.meta.url).pathname,
          env: {
            ...process.env,
            [API_ENV.kind]: 'http',
            [ENV_NAMES.tenantId]: TENANT,
            [ENV_NAMES.audiences]: CLIENT_ID,
            [ENV_NAMES.jwksUri]: server.url,
            [ENV_NAMES.routePermissions]: JSON.stringify(routes),
          },
        },
      );
      return child.then(
        ({ stdout }) => ({ stdout, code: 0 }),
        (err: { stdout: string; code: number }) => err,
      );
    };
    const byKey = await explain('GET /items/{id}');
    expect(byKey.code).toBe(0);
    expect(byKey.stdout).toMatch(/Decision\n {2}Allow \(200\), reason allowed: route GET \/items\/\{id\}/);
    const byPath = await explain('GET /items/42');
    expect(byPath.code).toBe(0);
    expect(byPath.stdout).toContain(
      'judged as the route GET /items/{id}, which an HTTP API with these route keys selects for GET /items/42',
    );
    const byDefault = await explain('$default');
    expect(byDefault.code).toBe(1);
    expect(byDefault.stdout).toMatch(
      /Deny \(403\), reason insufficient_permission: route \$default requires role Items.Admin/,
    );
  });
});

describe('explainToken for a WebSocket API (AZURE_API_KIND=websocket)', () => {
  const config = (tokenSource: 'query' | 'protocol') =>
    loadApiConfig({
      [API_ENV.kind]: 'websocket',
      [API_ENV.webSocketTokenSource]: tokenSource,
      [ENV_NAMES.tenantId]: TENANT,
      [ENV_NAMES.audiences]: CLIENT_ID,
      [ENV_NAMES.jwksUri]: server.url,
      [ENV_NAMES.requiredScopes]: 'Live.Read',
    });

  it.each([
    ['query', 'the access_token query parameter'],
    ['protocol', 'Sec-WebSocket-Protocol, after "access_token"'],
  ] as const)(
    'judges $connect with the token in its source (%s), and says no answer is cached',
    async (source, where) => {
      server.jwks = publishedKeySet();
      const judge = (scopes: string[]) =>
        explainToken(token({ scopes }), {
          config: config(source),
          keys: new EntraJwksCache(),
          route: { method: 'PUT', path: '/items' },
        });
      const allowed = await judge(['Live.Read']);
      expect(allowed.decision).toMatchObject({ status: 200, reason: 'allowed', detail: '$connect' });
      expect(allowed.checks.at(-1)).toMatchObject({
        outcome: 'pass',
        check: `may call $connect (token in ${where}) (allowed client apps, required scopes or roles, route permissions)`,
      });
      expect(allowed.hint).toBe(
        `the token is valid and may call $connect (token in ${where}); API Gateway caches no WebSocket authorizer answer, so every connection is judged afresh`,
      );
      const denied = await judge(['Other']);
      expect(denied.decision).toMatchObject({ status: 403, reason: 'insufficient_permission' });
      expect(JSON.stringify(denied)).not.toMatch(/PUT|\/items|cached policy/);
    },
  );
});

describe('npm run explain', () => {
  it('reads the token from stdin and the configuration from AZURE_* variables, and prints the checks, decision and hint', async () => {
    server.jwks = publishedKeySet();
    const run = promisify(execFile);
    const t = token({ audience: 'api://someone-else' });
    const child = run(process.execPath, ['--import', 'tsx', 'infra/local/explain-cli.ts'], {
      cwd: new URL('../../', import.meta.url).pathname,
      env: {
        ...process.env,
        [ENV_NAMES.tenantId]: TENANT,
        [ENV_NAMES.audiences]: CLIENT_ID,
        [ENV_NAMES.jwksUri]: server.url,
      },
    });
    child.child.stdin?.end(t);
    const { stdout, code } = await child.then(
      ({ stdout }) => ({ stdout, code: 0 }),
      (err: { stdout: string; code: number }) => err,
    );
    expect(code).toBe(1);
    expect(stdout).toContain('✗ aud is one of the configured audiences');
    expect(stdout).toContain('verified: RS256 signature verified with key main-key');
    expect(stdout).toMatch(/Decision\n {2}Unauthorized \(401\), reason wrong_audience/);
    expect(stdout).toMatch(/Hint\n {2}the token's unverified aud is api:\/\/someone-else/);
    expect(stdout).toMatch(/ exp +\d+ {2}\d{4}-\d\d-\d\dT.*\(in (59 minutes|1 hour)\)/);
  });

  it('prints JSON with --json and judges as of --at', async () => {
    server.jwks = publishedKeySet();
    const t = token({ nowSeconds: 1_700_000_000, expiresInSeconds: 3600 });
    const report = await explainJson([
      '--at',
      '2023-11-14T22:30:00Z',
      '--tenant',
      TENANT,
      '--audience',
      CLIENT_ID,
      '--jwks-uri',
      server.url,
      t,
    ]);
    expect(report.decision).toMatchObject({ status: 200, reason: 'allowed' });
    expect(report.signature.status).toBe('verified');
  });

  it("verifies a multi-tenant token whose kid is only in its tenant's own set, and names that set", async () => {
    const own = createSigningKey({ kid: 'tenant-own-key' });
    server.jwks = publishedKeySet();
    server.tenantSets.set(TENANT, { keys: [...publishedKeySet().keys, own.publicJwk] });
    try {
      const report = await explainJson([
        '--tenant',
        'organizations',
        '--allowed-tenants',
        TENANT,
        '--audience',
        CLIENT_ID,
        '--jwks-uri',
        server.urlOf('organizations'),
        token({}, own),
      ]);
      expect(report.decision).toMatchObject({ status: 200, reason: 'allowed' });
      expect(report.signature).toEqual({
        status: 'verified',
        detail: `RS256 signature verified with key tenant-own-key from ${server.urlOf(TENANT)}`,
      });
    } finally {
      server.tenantSets.clear();
    }
  });
});
