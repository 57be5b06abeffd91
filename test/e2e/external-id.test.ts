import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createLocalIssuer,
  LOCAL_CLIENT_ID,
  LOCAL_EXTERNAL_ID_HOST,
  LOCAL_TENANT_ID,
  loadOrCreateIssuerKey,
  localIssuerUrls,
} from '../../infra/local/issuer.js';
import type { DecisionRecord } from '../../lambda/authorizer/authorizer.js';
import { ENV_NAMES, loadConfig } from '../../lambda/authorizer/config.js';
import { createHinter } from '../../lambda/authorizer/hints.js';
import { EntraJwksCache } from '../../lambda/authorizer/keys/key-cache.js';
import { createRouteAuthorizer } from '../../lambda/authorizer/permissions.js';
import { createTokenVerifier } from '../../lambda/authorizer/verifier.js';
import { localToken } from '../helpers/local-token.js';
import { runScript } from '../helpers/run-script.js';
import { tempDir } from '../helpers/temp-dir.js';
import { createAuthorizer } from '../helpers/token-authorizer.js';

// Microsoft Entra External ID: "This endpoint returns an issuer value https://{tenantid}.ciamlogin.com/{tenantid}/v2.0"
// (https://learn.microsoft.com/entra/identity-platform/security-tokens). Written here from that page.
const EXTERNAL_ID_ISSUER = `https://${LOCAL_TENANT_ID}.ciamlogin.com/${LOCAL_TENANT_ID}/v2.0`;
const METHOD_ARN = 'arn:aws:execute-api:eu-west-1:123456789012:abc123def4/prod/GET/whoami';

let server: Server;
let urls: ReturnType<typeof localIssuerUrls>;
let port: number;

beforeAll(async () => {
  const key = await loadOrCreateIssuerKey(tempDir('entra-external-id-'));
  let handle: ReturnType<typeof createLocalIssuer> | undefined;
  server = createServer((req, res) => {
    void handle?.(req, res).then((answered) => answered || res.writeHead(404).end());
  });
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  port = (server.address() as AddressInfo).port;
  const base = `http://127.0.0.1:${port}`;
  handle = createLocalIssuer({ key, baseUrl: base });
  urls = localIssuerUrls(base);
});
afterAll(() => new Promise<void>((done) => server.close(() => done())));

/** The real authorizer, configured through the environment contract. */
function authorizer(env: Record<string, string>) {
  const config = loadConfig({
    [ENV_NAMES.tenantId]: LOCAL_TENANT_ID,
    [ENV_NAMES.audiences]: LOCAL_CLIENT_ID,
    ...env,
  });
  const records: DecisionRecord[] = [];
  const handler = createAuthorizer({
    verifier: createTokenVerifier({ config, keys: new EntraJwksCache() }),
    routes: createRouteAuthorizer(config),
    hint: createHinter(config),
    record: (r) => records.push(r),
  });
  return async (token: string) => {
    await handler({ type: 'TOKEN', authorizationToken: `Bearer ${token}`, methodArn: METHOD_ARN }).catch(
      () => undefined,
    );
    return records.at(-1) as DecisionRecord;
  };
}

const externalIdConfig = () => ({
  [ENV_NAMES.authorityHost]: LOCAL_EXTERNAL_ID_HOST,
  [ENV_NAMES.jwksUri]: urls.externalId.jwksUri,
});

const payload = (jwt: string) =>
  JSON.parse(Buffer.from(jwt.split('.')[1] as string, 'base64url').toString()) as Record<string, unknown>;

describe('an External ID tenant, end to end against the local issuer', () => {
  it("publishes External ID's discovery document: its issuer shape and its own key URL", async () => {
    const res = await fetch(`${urls.externalId.issuer}/.well-known/openid-configuration`);
    const doc = (await res.json()) as { issuer: string; jwks_uri: string };
    expect(doc.issuer).toBe(EXTERNAL_ID_ISSUER);
    expect(doc.jwks_uri).toBe(urls.externalId.jwksUri);
  });

  it.each([
    ['delegated', {}],
    [
      'app-only',
      {
        grant_type: 'client_credentials',
        scope: `api://${LOCAL_CLIENT_ID}/.default`,
        roles: 'Items.Read.All',
      },
    ],
  ])('admits its %s tokens when configured with its ciamlogin.com login host', async (_, params) => {
    const token = await localToken(urls.externalId.tokenEndpoint, params);
    expect(payload(token)).toMatchObject({ iss: EXTERNAL_ID_ISSUER, ver: '2.0', tid: LOCAL_TENANT_ID });
    const record = await authorizer(externalIdConfig())(token);
    expect(record.decision).toMatchObject({ outcome: 'allow', reason: 'allowed' });
  });

  it('refuses its tokens in a workforce configuration, saying which login host to set', async () => {
    const token = await localToken(urls.externalId.tokenEndpoint);
    const record = await authorizer({ [ENV_NAMES.jwksUri]: urls.externalId.jwksUri })(token);
    expect(record.decision).toMatchObject({ outcome: 'unauthorized', reason: 'wrong_issuer' });
    expect(record.hint).toBe(
      `the token's unverified iss ${EXTERNAL_ID_ISSUER} is an External ID tenant's: set AZURE_AUTHORITY_HOST to that tenant's <subdomain>.ciamlogin.com (and AZURE_TENANT_ID to its tenant ID as its admins give it, not as this token claims it)`,
    );
  });

  it('refuses a workforce token (v2 and v1) of the same tenant in an External ID configuration', async () => {
    const judge = authorizer(externalIdConfig());
    for (const version of ['2', '1']) {
      const token = await localToken(urls.tokenEndpoint, { token_version: version });
      expect((await judge(token)).decision).toMatchObject({
        outcome: 'unauthorized',
        reason: 'wrong_issuer',
      });
    }
  });

  it('issues no v1 External ID token, as External ID documents none', async () => {
    await expect(localToken(urls.externalId.tokenEndpoint, { token_version: '1' })).rejects.toThrow(
      /answered 400: .*External ID documents only v2 access tokens/,
    );
  });

  it('npm run token -- --external-id prints one, with the command that judges it', async () => {
    const run = (args: string[]) => runScript('infra/local/token-cli.ts', args, { PORT: String(port) });
    const ok = await run(['--external-id']);
    expect(ok.code).toBe(0);
    const lines = ok.stdout.trim().split('\n');
    expect(payload(lines.at(-1) as string).iss).toBe(EXTERNAL_ID_ISSUER);
    expect(lines[0]).toContain(
      `--authority-host ${LOCAL_EXTERNAL_ID_HOST} --jwks-uri ${urls.externalId.jwksUri}`,
    );
    const both = await run(['--external-id', '--v1']);
    expect(both.code).toBe(2);
    expect(both.stderr.split('\n')[0]).toBe(
      'npm run token: --v1 and --external-id: External ID documents only v2 access tokens',
    );
  }, 30_000);
});
