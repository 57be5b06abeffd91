import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { join } from 'node:path';
import { v2IssuerOf } from '../../lambda/authorizer/clouds.js';
import { isGuid } from '../../lambda/authorizer/config.js';
import { SAMPLE_SCOPE } from '../sample/routes.js';
import { selfSignedCertificate } from './certificate.js';
import {
  DEMO_CLIENT_ID,
  type EntraTokenOptions,
  mintEntraAccessToken,
  type SigningKey,
  signingKeyFrom,
} from './mint.js';

/** The local tenant and the demo API's client id: made-up GUIDs, recognisable in tokens and logs. */
export const LOCAL_TENANT_ID = '4c0ca1e5-5e1f-4a11-8e5d-10ca1e55ce5e';
export const LOCAL_CLIENT_ID = DEMO_CLIENT_ID;
export const LOCAL_SCOPE = SAMPLE_SCOPE;
/**
 * The app role `npm run token -- --app` asks for by default: a role the demo API does not require, so the
 * app-only token is valid and refused with a 403 at GET /whoami (which needs the scope above).
 */
export const LOCAL_APP_ROLE = 'Items.Read.All';
/** Where the issuer lives on the local server: `/login/{tenant}/...`, as `login.microsoftonline.com/{tenant}/...`. */
const ISSUER_PREFIX = '/login';
/**
 * The local External ID tenant lives under `/ciamlogin/{tenant}/...`, as an external tenant does on
 * `{tenant subdomain}.ciamlogin.com/{tenant}/...`; its tokens carry External ID's issuer
 * `https://{tid}.ciamlogin.com/{tid}/v2.0` (see lambda/authorizer/clouds.ts), and an authorizer configured
 * with this login host (and the local key URL) judges them as it judges a real external tenant's.
 */
const EXTERNAL_ID_PREFIX = '/ciamlogin';
export const LOCAL_EXTERNAL_ID_HOST = 'entraauthorizerlocal.ciamlogin.com';
/** The extension grant for a delegated (user) token; a real client would use the auth code flow. */
export const LOCAL_USER_GRANT = 'urn:entra-authorizer:local-user';

export interface IssuerKey extends SigningKey {
  readonly x5c: string;
}

/** The signing key, created on first start and kept in `dir` (ignored by git), so tokens survive restarts. */
export async function loadOrCreateIssuerKey(dir: string): Promise<IssuerKey> {
  const file = join(dir, 'issuer-key.json');
  let stored: { privateKeyPem: string; certificate: string };
  try {
    stored = JSON.parse(await readFile(file, 'utf8'));
  } catch {
    const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const certificate = selfSignedCertificate(
      privateKey,
      publicKey,
      'entra-authorizer local issuer',
    ).toString('base64');
    stored = { privateKeyPem: privateKey.export({ format: 'pem', type: 'pkcs8' }) as string, certificate };
    await mkdir(dir, { recursive: true });
    await writeFile(file, JSON.stringify(stored, null, 2), { mode: 0o600 });
  }
  const privateKey = createPrivateKey(stored.privateKeyPem);
  const kid = thumbprintOf(stored.certificate);
  return { ...signingKeyFrom(privateKey, createPublicKey(privateKey), { kid }), x5c: stored.certificate };
}

/** Entra's kid and x5t: the base64url SHA-1 thumbprint of the certificate. */
function thumbprintOf(certificate: string): string {
  return createHash('sha1').update(Buffer.from(certificate, 'base64')).digest('base64url');
}

/**
 * The kid of the key kept in `dir`, if there is one: how `npm run explain` knows a token of the local issuer
 * whatever tenant it was minted for (`npm run token -- --tenant <guid>`).
 */
export async function storedIssuerKeyId(dir: string): Promise<string | undefined> {
  try {
    const stored = JSON.parse(await readFile(join(dir, 'issuer-key.json'), 'utf8')) as {
      certificate?: unknown;
    };
    return typeof stored.certificate === 'string' ? thumbprintOf(stored.certificate) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The local issuer's addresses on a server at `baseUrl` (`http://127.0.0.1:3000`), as Entra's are on
 * login.microsoftonline.com: what the server, `npm run token` and `npm run explain` all call.
 */
export function localIssuerUrls(baseUrl: string, tenantId: string = LOCAL_TENANT_ID) {
  const base = `${baseUrl}${ISSUER_PREFIX}/${tenantId}`;
  const externalId = `${baseUrl}${EXTERNAL_ID_PREFIX}/${tenantId}`;
  return {
    base,
    /** The v2 issuer's discovery root (append `/.well-known/openid-configuration`). */
    issuer: `${base}/v2.0`,
    jwksUri: `${base}/discovery/v2.0/keys`,
    tokenEndpoint: `${base}/oauth2/v2.0/token`,
    /** The same tenant as an External ID (external) tenant: v2 tokens only. */
    externalId: {
      base: externalId,
      issuer: `${externalId}/v2.0`,
      jwksUri: `${externalId}/discovery/v2.0/keys`,
      tokenEndpoint: `${externalId}/oauth2/v2.0/token`,
    },
  } as const;
}

export interface LocalIssuerOptions {
  readonly key: IssuerKey;
  /** e.g. http://127.0.0.1:3000 */
  readonly baseUrl: string;
  readonly tenantId?: string;
  readonly clientId?: string;
  /** The audience of its tokens (both versions); by default the client id (v2) or api://<client id> (v1). */
  readonly audience?: string;
  /** The scopes of a delegated token that asks for none. @default [LOCAL_SCOPE] */
  readonly defaultScopes?: readonly string[];
  /** The roles of an app-only token that asks for none. @default none */
  readonly defaultRoles?: readonly string[];
  /** Also issue for any other tenant GUID in the path (`token --tenant G`). @default false */
  readonly anyTenant?: boolean;
}

const json = (res: ServerResponse, status: number, body: unknown) => {
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' });
  res.end(JSON.stringify(body));
};

async function readForm(req: IncomingMessage): Promise<URLSearchParams> {
  let body = '';
  for await (const chunk of req) {
    body += chunk;
    if (body.length > 16 * 1024) break;
  }
  return new URLSearchParams(body);
}

/** Scopes as a client asks for them (`api://<id>/access_as_user`) -> names in `scp`. */
function scopeNames(scope: string, clientId: string, audience?: string): string[] {
  const prefixes = [
    `api://${clientId}/`,
    `${clientId}/`,
    ...(audience !== undefined ? [`${audience}/`] : []),
  ];
  return scope
    .split(' ')
    .filter((s) => s !== '')
    .map((s) =>
      prefixes.reduce((name, prefix) => (name.startsWith(prefix) ? name.slice(prefix.length) : name), s),
    )
    .filter((s) => s !== '.default' && !['openid', 'profile', 'offline_access', 'email'].includes(s));
}

/** What the issuer's endpoints read: its options with their defaults, and its addresses. */
interface IssuerContext {
  readonly options: LocalIssuerOptions;
  readonly tenantId: string;
  readonly clientId: string;
  readonly urls: ReturnType<typeof localIssuerUrls>;
}

/** The signing key in Entra's key-set format; the v2 set's keys carry an `issuer` template. */
function issuerJwk(key: IssuerKey, withIssuer: boolean) {
  return {
    kty: 'RSA',
    use: 'sig',
    kid: key.kid,
    x5t: key.kid,
    n: key.publicJwk.n,
    e: key.publicJwk.e,
    x5c: [key.x5c],
    ...(withIssuer ? { issuer: 'https://login.microsoftonline.com/{tenantid}/v2.0' } : {}),
  };
}

/** The v1 or v2 OpenID configuration, of the workforce tenant or of the same tenant as External ID. */
function discoveryDocument(ctx: IssuerContext, version: '1.0' | '2.0', externalId: boolean) {
  const { tenantId } = ctx;
  const base = externalId ? ctx.urls.externalId.base : ctx.urls.base;
  return {
    issuer: externalId
      ? v2IssuerOf(tenantId, LOCAL_EXTERNAL_ID_HOST)
      : version === '2.0'
        ? `https://login.microsoftonline.com/${tenantId}/v2.0`
        : `https://sts.windows.net/${tenantId}/`,
    jwks_uri: version === '2.0' ? `${base}/discovery/v2.0/keys` : `${base}/discovery/keys`,
    token_endpoint: version === '2.0' ? `${base}/oauth2/v2.0/token` : `${base}/oauth2/token`,
    authorization_endpoint: `${base}/oauth2${version === '2.0' ? '/v2.0' : ''}/authorize`,
    response_types_supported: ['code', 'id_token', 'code id_token', 'id_token token'],
    subject_types_supported: ['pairwise'],
    id_token_signing_alg_values_supported: ['RS256'],
    token_endpoint_auth_methods_supported: ['client_secret_post', 'private_key_jwt', 'client_secret_basic'],
    scopes_supported: ['openid', 'profile', 'email', 'offline_access'],
    claims_supported: [
      'sub',
      'iss',
      'aud',
      'exp',
      'iat',
      'nbf',
      'tid',
      'oid',
      'ver',
      'scp',
      'roles',
      'azp',
      'appid',
    ],
    tenant_region_scope: 'EU',
    cloud_instance_name: externalId ? 'ciamlogin.com' : 'microsoftonline.com',
  };
}

/** An issuer endpoint's answer: its status and JSON body. */
interface IssuerAnswer {
  readonly status: number;
  readonly body: unknown;
}

const tokenRequestError = (error: string, description: string): IssuerAnswer => ({
  status: 400,
  body: { error, error_description: description },
});

/**
 * The token endpoint's answer to a form: a v1 or v2, delegated or app-only access token, or Entra's error
 * for a grant, version or lifetime it does not issue.
 */
function answerTokenRequest(
  ctx: IssuerContext,
  form: URLSearchParams,
  defaultVersion: '1.0' | '2.0',
  tokenTenant: string,
  externalId: boolean,
): IssuerAnswer {
  const { options, clientId } = ctx;
  const grant = form.get('grant_type');
  if (grant !== 'client_credentials' && grant !== LOCAL_USER_GRANT) {
    return tokenRequestError(
      'unsupported_grant_type',
      `grant_type must be client_credentials or ${LOCAL_USER_GRANT}`,
    );
  }
  const version =
    form.get('token_version') === '1' ? '1.0' : form.get('token_version') === '2' ? '2.0' : defaultVersion;
  if (externalId && version !== '2.0') {
    return tokenRequestError(
      'invalid_request',
      'External ID documents only v2 access tokens: token_version must be 2',
    );
  }
  const expiresIn = Number(form.get('expires_in') ?? 3600);
  if (!Number.isInteger(expiresIn) || expiresIn < -86_400 || expiresIn > 86_400) {
    return tokenRequestError('invalid_request', 'expires_in must be whole seconds within a day');
  }
  const appOnly = grant === 'client_credentials';
  const audience = form.get('audience') ?? options.audience;
  const scopes =
    form.get('scope') === null && !appOnly && options.defaultScopes !== undefined
      ? [...options.defaultScopes]
      : scopeNames(
          form.get('scope') ?? (appOnly ? '' : `api://${clientId}/${LOCAL_SCOPE}`),
          clientId,
          audience,
        );
  const tokenOptions: EntraTokenOptions = {
    tenantId: tokenTenant,
    // Entra puts the client id in v2 tokens and the App ID URI in v1 tokens.
    audience: audience ?? (version === '2.0' ? clientId : `api://${clientId}`),
    version,
    appOnly,
    scopes,
    roles:
      form.get('roles') === null && appOnly
        ? [...(options.defaultRoles ?? [])]
        : (form.get('roles') ?? '').split(',').filter((r) => r !== ''),
    clientId: form.get('client_id') ?? 'c11e0700-0000-4000-8000-0000000c11e0',
    expiresInSeconds: expiresIn,
    guest: !appOnly && form.get('guest') === '1',
    groups: (form.get('groups') ?? '').split(',').filter((g) => g !== ''),
    groupsOverage: form.get('groups_overage') === '1',
    ...(externalId ? { authorityHost: LOCAL_EXTERNAL_ID_HOST } : {}),
  };
  return {
    status: 200,
    body: {
      token_type: 'Bearer',
      expires_in: expiresIn,
      ext_expires_in: expiresIn,
      access_token: mintEntraAccessToken(options.key, tokenOptions),
    },
  };
}

/** An issuer path split: `/login/{tenant}/{endpoint}` or `/ciamlogin/...`; undefined for any other path. */
function issuerPath(path: string) {
  const prefix = [ISSUER_PREFIX, EXTERNAL_ID_PREFIX].find((p) => path.startsWith(`${p}/`));
  if (prefix === undefined) return undefined;
  const rest = path.slice(prefix.length + 1);
  const slash = rest.indexOf('/');
  return {
    externalId: prefix === EXTERNAL_ID_PREFIX,
    tenant: slash === -1 ? rest : rest.slice(0, slash),
    endpoint: slash === -1 ? '' : rest.slice(slash),
  };
}

/** The answer of an issuer endpoint (`GET /discovery/keys`, ...) for a tenant it serves. */
async function answerEndpoint(
  ctx: IssuerContext,
  req: IncomingMessage,
  route: string,
  tokenTenant: string,
  externalId: boolean,
): Promise<IssuerAnswer> {
  switch (route) {
    case 'GET /v2.0/.well-known/openid-configuration':
      return { status: 200, body: discoveryDocument(ctx, '2.0', externalId) };
    case 'GET /.well-known/openid-configuration':
      return { status: 200, body: discoveryDocument(ctx, '1.0', externalId) };
    case 'GET /discovery/v2.0/keys':
      // Microsoft documents no issuer field for External ID key sets: the local one names none.
      return { status: 200, body: { keys: [issuerJwk(ctx.options.key, !externalId)] } };
    case 'GET /discovery/keys':
      return { status: 200, body: { keys: [issuerJwk(ctx.options.key, false)] } };
    case 'POST /oauth2/v2.0/token':
      return answerTokenRequest(ctx, await readForm(req), '2.0', tokenTenant, externalId);
    case 'POST /oauth2/token':
      return answerTokenRequest(ctx, await readForm(req), '1.0', tokenTenant, externalId);
    default:
      return { status: 404, body: { error: 'not_found', error_description: `no issuer endpoint ${route}` } };
  }
}

/**
 * An Entra-shaped issuer: v1 and v2 discovery documents, key sets in Entra's format (kid, x5t, n, e, x5c;
 * `issuer` templates in the v2 set), and a token endpoint for v1 or v2, delegated or app-only access tokens.
 * Tokens carry Entra's real issuers, so the authorizer checks them exactly as it checks Entra's.
 */
export function createLocalIssuer(options: LocalIssuerOptions) {
  const tenantId = options.tenantId ?? LOCAL_TENANT_ID;
  const ctx: IssuerContext = {
    options,
    tenantId,
    clientId: options.clientId ?? LOCAL_CLIENT_ID,
    urls: localIssuerUrls(options.baseUrl, tenantId),
  };

  /** Answers the issuer's paths; returns false for anything else. */
  return async function handle(req: IncomingMessage, res: ServerResponse): Promise<boolean> {
    const path = issuerPath(new URL(req.url ?? '/', 'http://local').pathname);
    if (path === undefined) return false;
    const { tenant, endpoint, externalId } = path;
    const otherTenant = options.anyTenant === true && isGuid(tenant);
    if (tenant !== tenantId && tenant !== 'common' && tenant !== 'organizations' && !otherTenant) {
      json(res, 400, {
        error: 'invalid_tenant',
        error_description: `AADSTS90002: Tenant '${tenant}' not found.`,
      });
      return true;
    }
    const route = `${req.method} ${endpoint}`;
    const answer = await answerEndpoint(ctx, req, route, otherTenant ? tenant : tenantId, externalId);
    json(res, answer.status, answer.body);
    return true;
  };
}
