import type { APIGatewayTokenAuthorizerEvent } from 'aws-lambda';
import {
  createSigningKey,
  type EntraTokenOptions,
  entraAccessTokenClaims,
  type SigningKey,
  signJwt,
} from '../../infra/local/mint.js';
import type { DecisionRecord } from '../../lambda/authorizer/authorizer.js';
import { ENV_NAMES, loadConfig } from '../../lambda/authorizer/config.js';
import { createHinter } from '../../lambda/authorizer/hints.js';
import { EntraJwksCache, type KeyCacheOptions } from '../../lambda/authorizer/keys/key-cache.js';
import { createTenantKeyCache } from '../../lambda/authorizer/keys/tenant-keys.js';
import { createRouteAuthorizer } from '../../lambda/authorizer/permissions.js';
import { createTokenVerifier } from '../../lambda/authorizer/verifier.js';
import { createAuthorizer } from './token-authorizer.js';

export const TENANT = '72f988bf-86f1-41af-91ab-2d7cd011db47';
export const OTHER_TENANT = '0b5c6a5e-1111-4222-8333-444455556666';
export const CLIENT_ID = '6e74172b-be56-4843-9ff4-e66a39bb12e3';
export const APP_ID_URI = `api://${CLIENT_ID}`;
export const METHOD_ARN = 'arn:aws:execute-api:eu-west-1:123456789012:abc123def4/prod/GET/whoami';
export const STAGE_ARN = 'arn:aws:execute-api:eu-west-1:123456789012:abc123def4/prod/*';

export const PERSONAL_ACCOUNTS_ISSUER =
  'https://login.microsoftonline.com/9188040d-6c67-4c5b-b112-36a304b66dad/v2.0';

let cachedKeys:
  | { main: SigningKey; second: SigningKey; attacker: SigningKey; personal: SigningKey }
  | undefined;
/** RSA-2048 keys from node:crypto, made once per test file (key generation is the slow part). */
export function testKeys() {
  cachedKeys ??= {
    main: createSigningKey({ kid: 'main-key', issuer: 'https://login.microsoftonline.com/{tenantid}/v2.0' }),
    second: createSigningKey({ kid: 'second-key' }),
    attacker: createSigningKey({ kid: 'main-key' }),
    personal: createSigningKey({ kid: 'personal-key', issuer: PERSONAL_ACCOUNTS_ISSUER }),
  };
  return cachedKeys;
}

export function token(options: Partial<EntraTokenOptions> = {}, key: SigningKey = testKeys().main): string {
  return signJwt(
    { typ: 'JWT', alg: 'RS256', kid: key.kid },
    entraAccessTokenClaims({ tenantId: TENANT, audience: CLIENT_ID, ...options }),
    key.privateKey,
  );
}

/** A JWT header naming the main test key; `extra` overrides or adds parameters. */
export function header(extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { typ: 'JWT', alg: 'RS256', kid: 'main-key', ...extra };
}

/** Signs any header and payload (tests forge on purpose) with a test key. */
export function signed(
  h: Record<string, unknown>,
  p: Record<string, unknown>,
  key: SigningKey = testKeys().main,
): string {
  return signJwt(h, p, key.privateKey);
}

export const nowSeconds = (): number => Math.floor(Date.now() / 1000);

export function claims(options: Partial<EntraTokenOptions> = {}): Record<string, unknown> {
  return entraAccessTokenClaims({ tenantId: TENANT, audience: CLIENT_ID, ...options });
}

export function event(
  authorizationToken: string | undefined,
  methodArn = METHOD_ARN,
): APIGatewayTokenAuthorizerEvent {
  return { type: 'TOKEN', methodArn, authorizationToken } as APIGatewayTokenAuthorizerEvent;
}

/** The key set the tests' key server publishes: everything but the attacker's key. */
export function publishedKeySet() {
  const { main, second, personal } = testKeys();
  return { keys: [main.publicJwk, second.publicJwk, personal.publicJwk] };
}

export interface TestAuthorizer {
  readonly handler: ReturnType<typeof createAuthorizer>;
  readonly records: DecisionRecord[];
  readonly keys: EntraJwksCache;
  /** The per-tenant key sets, as the handler makes them (its fetch budget, not `cacheOptions.penaltyBox`). */
  readonly tenantKeys: EntraJwksCache;
}

/** The real authorizer pieces, configured through the real environment contract. */
export function buildAuthorizer(
  env: Record<string, string | undefined>,
  cacheOptions: KeyCacheOptions = {},
): TestAuthorizer {
  const config = loadConfig({
    [ENV_NAMES.tenantId]: TENANT,
    [ENV_NAMES.audiences]: `${CLIENT_ID},${APP_ID_URI}`,
    ...env,
  });
  const keys = new EntraJwksCache(cacheOptions);
  const { penaltyBox: _, ...tenantOptions } = cacheOptions;
  const tenantKeys = createTenantKeyCache(tenantOptions);
  const records: DecisionRecord[] = [];
  const handler = createAuthorizer({
    verifier: createTokenVerifier({ config, keys, tenantKeys }),
    routes: createRouteAuthorizer(config),
    record: (r) => records.push(r),
    hint: createHinter(config),
  });
  return { handler, records, keys, tenantKeys };
}
