import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { loadApiConfig } from '../../lambda/authorizer/api-kind.js';
import { extractBearerToken } from '../../lambda/authorizer/bearer.js';
import { ENV_NAMES, type EnvName, isGuid } from '../../lambda/authorizer/config.js';
import { TokenRejectedError } from '../../lambda/authorizer/errors.js';
import { decodeJwt, headerKeyId } from '../../lambda/authorizer/jwt.js';
import type { DecodedJwt } from '../../lambda/authorizer/jwt-model.js';
import { KeyFetcher } from '../../lambda/authorizer/keys/fetcher.js';
import { EntraJwksCache } from '../../lambda/authorizer/keys/key-cache.js';
import { createTenantKeyCache } from '../../lambda/authorizer/keys/tenant-keys.js';
import { isGraphAudience, microsoftApiOf } from '../../lambda/authorizer/microsoft-apis.js';
import { printable, printableJson } from '../../lambda/authorizer/safe-text.js';
import { fileParameterReader, TENANTS_FILE_ENV } from '../../lambda/authorizer/tenant-file.js';
import { parameterOrigin, parseTenantList, type TenantList } from '../../lambda/authorizer/tenant-list.js';
import { routePermissionsOf, SAMPLE_ROUTES } from '../sample/routes.js';
import { AssemblyError } from './assembly.js';
import { checkArgs, endQuietlyWhenStdoutCloses, parseOrExit, UsageError } from './cli-args.js';
import { commandNames } from './command-names.js';
import { type ExplainReport, explainToken, notAJwtReport, renderExplanation } from './explain.js';
import { selectHttpRoute } from './http-gateway.js';
import { LOCAL_TENANT_ID, localIssuerUrls, storedIssuerKeyId } from './issuer.js';
import { localPort, PortError, portPrefix } from './port.js';
import { servedAuthorizer } from './served-authorizer.js';

/** How long `explain` waits for a key set (connect, answer and a retry). */
const EXPLAIN_KEY_FETCH_BUDGET_MS = 10_000;

const names = commandNames();
const COMMAND = names.explain;
endQuietlyWhenStdoutCloses();
const usage = `${COMMAND}${names.sample ? ' --' : ''} [options] <token>      (or the token on stdin)

Explains what the authorizer would decide about an access token, check by check, with a hint. It reads the
same AZURE_* variables as the Lambda; flags override them, and both override the template's (below). Without a tenant or audience it assumes the
token's own (and says so), except an audience of Microsoft's own APIs (Graph, Azure Resource Manager, ...).
A token of the local issuer (\`npm run token\`) is checked against the key set of \`npm start\` on PORT
(default 3000) when it runs there. The token is only decoded and checked here, never sent anywhere: only the
key set (and, for a multi-tenant API, the token tenant's own) is fetched, to verify the signature.
  --tenant <guid|organizations|common>   AZURE_TENANT_ID
  --allowed-tenants <a,b|*>              AZURE_ALLOWED_TENANTS
  --tenants-parameter <name>             AZURE_ALLOWED_TENANTS_PARAMETER (the list's SSM parameter; its value
  --tenants-file <file>                  comes from this file or AZURE_ALLOWED_TENANTS_FILE, never from AWS)
  --tenants-refresh <seconds>            AZURE_TENANTS_REFRESH_SECONDS
  --audience <a,b>                       AZURE_AUDIENCES
  --scopes <a,b>   --roles <x,y>         AZURE_REQUIRED_SCOPES / AZURE_REQUIRED_ROLES
  --groups <id,id>                       AZURE_REQUIRED_GROUPS
  --routes <json>                        AZURE_ROUTE_PERMISSIONS
  --allowed-client-apps <a,b>            AZURE_ALLOWED_CLIENT_APPS
  --guest-users <allow|refuse>           AZURE_GUEST_USERS
  --jwks-uri <url>  --authority-host <h> AZURE_JWKS_URI / AZURE_AUTHORITY_HOST
  --v1-issuer-host <h>                   AZURE_V1_ISSUER_HOST
  --clock-skew <seconds>                 AZURE_CLOCK_SKEW_SECONDS
  --route "GET /items"                   the route to judge (default GET /; for a token of npm run token,
                                         the first route npm start serves); with AZURE_API_KIND=http (an
                                         HttpApi's authorizer) a route key: "GET /items/{id}", "$default";
                                         with AZURE_API_KIND=websocket always $connect, the token where
                                         AZURE_WEBSOCKET_TOKEN_SOURCE says (no authorizer cache there)
  --at <ISO time or epoch seconds>       judge as if it were then (default now)
  --json                                 the report as JSON
Outside this repository (npx entra-authorizer explain) the configuration is that of the authorizer
\`npx entra-authorizer start\` serves, read from your cdk.out's template, and the keys are those of its
issuer on PORT; AZURE_* variables exported in your shell and flags still override it (a note names each).
  --app <cdk.out>  --stack <name>  --api <logical id>  --port <N>   as for start
Exit status: 0 Allow, 1 any other decision, 2 a mistake in the command or the configuration.`;

/** More than any Authorization header API Gateway passes on; the rest of a runaway pipe is not read. */
const MAX_INPUT_BYTES = 1024 * 1024;

const options = {
  tenant: { type: 'string' },
  'allowed-tenants': { type: 'string' },
  audience: { type: 'string' },
  scopes: { type: 'string' },
  roles: { type: 'string' },
  routes: { type: 'string' },
  'jwks-uri': { type: 'string' },
  'authority-host': { type: 'string' },
  'v1-issuer-host': { type: 'string' },
  'allowed-client-apps': { type: 'string' },
  'guest-users': { type: 'string' },
  groups: { type: 'string' },
  'clock-skew': { type: 'string' },
  'tenants-parameter': { type: 'string' },
  'tenants-refresh': { type: 'string' },
  'tenants-file': { type: 'string' },
  route: { type: 'string' },
  at: { type: 'string' },
  json: { type: 'boolean', default: false },
  app: { type: 'string' },
  stack: { type: 'string' },
  api: { type: 'string' },
  port: { type: 'string' },
  help: { type: 'boolean', short: 'h', default: false },
} as const;

function fail(line: string): never {
  // A configuration message may quote a value assumed from the token.
  console.error(`${COMMAND}: ${printable(line)}`);
  process.exit(2);
}

/** A message about the user's own cloud assembly, whose lines (the APIs to pick from) stay lines. */
function failListing(message: string): never {
  console.error(`${COMMAND}: ${message.split('\n').map(printable).join('\n')}`);
  process.exit(2);
}

const { values, positionals } = parseOrExit(COMMAND, usage, () => {
  const parsed = parseArgs({
    args: checkArgs(process.argv.slice(2), options, { positionals: true }),
    options,
    allowPositionals: true,
  });
  if (parsed.positionals.length > 1) {
    throw new UsageError(
      `expected one token; got ${parsed.positionals.length} arguments (a token has no spaces: quote the variable, "$TOKEN")`,
    );
  }
  if (parsed.values.route !== undefined && !/^([A-Za-z]+ \/\S*|\$default)$/.test(parsed.values.route)) {
    throw new UsageError(
      `--route: expected a method and a path, as in "GET /items" (or an HTTP API's route key, "GET /items/{id}", "$default"); got "${parsed.values.route}"`,
    );
  }
  return parsed;
});
if (values.help) {
  console.log(usage);
  process.exit(0);
}

const notes: string[] = [];
const input = positionals[0] ?? (process.stdin.isTTY ? '' : await readStdin());
const token = tokenFrom(input);
if (token === '') {
  console.error(`${COMMAND}: no token: give it as an argument or on stdin\n\n${usage}`);
  process.exit(2);
}
const bearer = /^bearer /i.test(token) ? token : `Bearer ${token}`;

// The token's shape comes first: something that is not a JWT is refused whatever the configuration says.
let jwt: DecodedJwt;
try {
  // The JWT's own message first ("three parts", "base64url"), then the header rule (size, characters).
  jwt = decodeJwt(bearer.slice(7));
  extractBearerToken(bearer);
} catch (err) {
  if (!(err instanceof TokenRejectedError)) throw err;
  notAJwt(err.message);
}

const audiences = audiencesOf(jwt.payload.aud);
const graphAudience = audiences.find(isGraphAudience);
if (graphAudience !== undefined || 'nonce' in jwt.header) {
  const which =
    graphAudience !== undefined
      ? `${microsoftApiOf(graphAudience)} (aud ${graphAudience})`
      : 'Microsoft Graph (it carries a nonce in its header)';
  notes.push(`this token is for ${which}, never for your API: request a token for your API's scope instead`);
}

/**
 * The flag that sets each variable the Lambda's configuration reads (typed over every one of them, so a new
 * variable without a flag fails the typecheck).
 */
const FLAG_OF_VARIABLE = {
  [ENV_NAMES.tenantId]: 'tenant',
  [ENV_NAMES.allowedTenants]: 'allowed-tenants',
  [ENV_NAMES.audiences]: 'audience',
  [ENV_NAMES.requiredScopes]: 'scopes',
  [ENV_NAMES.requiredRoles]: 'roles',
  [ENV_NAMES.routePermissions]: 'routes',
  [ENV_NAMES.jwksUri]: 'jwks-uri',
  [ENV_NAMES.clockSkewSeconds]: 'clock-skew',
  [ENV_NAMES.authorityHost]: 'authority-host',
  [ENV_NAMES.v1IssuerHost]: 'v1-issuer-host',
  [ENV_NAMES.allowedClientApps]: 'allowed-client-apps',
  [ENV_NAMES.allowedTenantsParameter]: 'tenants-parameter',
  [ENV_NAMES.tenantsRefreshSeconds]: 'tenants-refresh',
  [ENV_NAMES.guestUsers]: 'guest-users',
  [ENV_NAMES.requiredGroups]: 'groups',
} as const satisfies Record<EnvName, keyof typeof options>;

// Outside this repository: the served authorizer's own configuration, from the template, and its issuer's keys.
const served = names.sample && values.app === undefined ? undefined : servedOrExit();
let defaultRoute = served?.defaultRoute ?? 'GET /';
// Flags first, then the AZURE_* variables of the shell, then the served template's: as the help says.
const env: Record<string, string | undefined> = { ...served?.environment, ...process.env };
for (const variable of served === undefined ? [] : Object.keys(FLAG_OF_VARIABLE)) {
  const exported = process.env[variable];
  const template = served?.environment[variable];
  if (exported === undefined || exported === template || values[FLAG_OF_VARIABLE[variable as EnvName]])
    continue;
  notes.push(
    `${variable}=${exported} from your environment, where the template has ${template === undefined ? 'none' : template}: unset it to judge as ${names.start} does`,
  );
}
for (const [variable, flag] of Object.entries(FLAG_OF_VARIABLE)) {
  const given = values[flag];
  if (typeof given === 'string') env[variable] = given;
}
const isSet = (name: string) => (env[name] ?? '').trim() !== '';

const assumed: string[] = [];
const tid = typeof jwt.payload.tid === 'string' ? jwt.payload.tid : undefined;
// A token of the local issuer, whatever tenant it names (npm run token -- --tenant <guid>): signed by the key
// npm start keeps in .local/. It is judged as npm start judges it, in npm start's tenant.
const localToken =
  served === undefined &&
  (tid === LOCAL_TENANT_ID ||
    (headerKeyId(jwt.header) !== undefined &&
      headerKeyId(jwt.header) ===
        (await storedIssuerKeyId(fileURLToPath(new URL('../../.local', import.meta.url))))));
if (!isSet(ENV_NAMES.tenantId)) {
  if (localToken) {
    env[ENV_NAMES.tenantId] = LOCAL_TENANT_ID;
    assumed.push(`${ENV_NAMES.tenantId}=${LOCAL_TENANT_ID} (npm start's tenant)`);
  } else if (tid !== undefined && isGuid(tid)) {
    env[ENV_NAMES.tenantId] = tid;
    assumed.push(`${ENV_NAMES.tenantId}=${tid} (the token's own tenant)`);
  } else {
    // No tenant to take: judge it as a multi-tenant API open to every tenant would, which still needs one.
    env[ENV_NAMES.tenantId] = 'organizations';
    env[ENV_NAMES.allowedTenants] = '*';
    assumed.push(
      `${ENV_NAMES.tenantId}=organizations ${ENV_NAMES.allowedTenants}=* (the token has no tenant GUID)`,
    );
  }
}
if (!isSet(ENV_NAMES.audiences)) {
  const own = audiences.length === 1 ? audiences[0] : undefined;
  const api = own === undefined ? undefined : microsoftApiOf(own);
  if (own !== undefined && api === undefined) {
    env[ENV_NAMES.audiences] = own;
    assumed.push(`${ENV_NAMES.audiences}=${own} (the token's own audience)`);
  } else {
    // Nothing a token can carry: the audience check fails and says what the token was meant for.
    env[ENV_NAMES.audiences] = 'api://<your client id>';
    if (api !== undefined && !isGraphAudience(own as string)) {
      notes.push(
        `not assuming the token's own audience ${own}: it belongs to ${api}, not to your API${api === 'Azure Resource Manager' ? ' (what az account get-access-token gives without --scope)' : ''}. Ask for a token with --scope api://<your client id>/<scope>, or set ${ENV_NAMES.audiences}`,
      );
    }
  }
}

// A token of the local issuer: its keys are served by `npm start`, found by the same PORT rule as npm run token.
let localKeys: { url?: string; missing?: string } | undefined;
if (served !== undefined && !isSet(ENV_NAMES.jwksUri)) {
  localKeys = await findLocalKeySet(served.port, served.tenantPath);
  if (localKeys.url !== undefined) env[ENV_NAMES.jwksUri] = localKeys.url;
} else if (localToken) {
  const tenant = (env[ENV_NAMES.tenantId] ?? '').trim().toLowerCase();
  const audiences = (env[ENV_NAMES.audiences] ?? '').split(',').map((a) => a.trim());
  const mismatch = [
    ...(tenant !== LOCAL_TENANT_ID ? [`${ENV_NAMES.tenantId}=${env[ENV_NAMES.tenantId]}`] : []),
    ...(audiences.some((a) => audiencesOf(jwt.payload.aud).includes(a))
      ? []
      : [`${ENV_NAMES.audiences}=${env[ENV_NAMES.audiences]}`]),
  ];
  if (mismatch.length > 0) {
    notes.push(
      `a token of the local issuer (from npm run token), judged here with ${mismatch.join(' and ')} from your environment or flags, not as npm start judges it: unset them (or drop --tenant/--audience) to see npm start's decision`,
    );
  }
  if (!isSet(ENV_NAMES.jwksUri)) {
    localKeys = await findLocalKeySet();
    if (localKeys.url !== undefined) env[ENV_NAMES.jwksUri] = localKeys.url;
  }
  if (
    !isSet(ENV_NAMES.requiredScopes) &&
    !isSet(ENV_NAMES.requiredRoles) &&
    !isSet(ENV_NAMES.routePermissions)
  ) {
    // Judged as npm start judges it: the sample's route table, and its first route unless --route says.
    const routes = routePermissionsOf(SAMPLE_ROUTES);
    env[ENV_NAMES.routePermissions] = JSON.stringify(routes);
    assumed.push(
      `${ENV_NAMES.routePermissions}=${env[ENV_NAMES.routePermissions]} (the routes npm start serves)`,
    );
    defaultRoute = Object.keys(routes)[0] ?? defaultRoute;
  }
}

// A parameter the template names by reference (one the stack creates): its refresh is there, its name not.
if (isSet(ENV_NAMES.tenantsRefreshSeconds) && !isSet(ENV_NAMES.allowedTenantsParameter)) {
  env[ENV_NAMES.allowedTenantsParameter] = 'tenants-parameter';
}

let config: ReturnType<typeof loadApiConfig>;
try {
  // AZURE_API_KIND=http (an HttpApi's authorizer): route permissions and --route are route keys.
  config = loadApiConfig(env);
} catch (err) {
  fail(`configuration: ${(err as Error).message}`);
}

const tenantList = await tenantListOrExit();

let nowSeconds: number | undefined;
if (values.at !== undefined) {
  const at = parseInstant(values.at);
  if (at === undefined) {
    fail(
      `--at: expected an ISO time such as 2016-06-30T18:28:28Z or epoch seconds (10 digits); got "${values.at}"`,
    );
  }
  nowSeconds = at;
  // aws-jwt-verify reads the clock itself: judge everything as of --at.
  const offset = at * 1000 - Date.now();
  const realNow = Date.now.bind(Date);
  Date.now = () => realNow() + offset;
}

if (config.api.kind === 'websocket' && values.route !== undefined && values.route !== '$connect')
  notes.push(`--route ${values.route} not judged: a WebSocket API's authorizer decides $connect alone`);
const routeText = values.route ?? defaultRoute;
const [method, path] = routeText === '$default' ? ['GET', '/'] : routeText.split(' ');
const routeKey = httpRouteKeyOf(routeText);
// Someone waits at a terminal, over whatever network they have: more time for a key set than the Lambda's
// 2 s, which bounds a request's latency behind API Gateway.
const fetcher = new KeyFetcher({ budgetMs: EXPLAIN_KEY_FETCH_BUDGET_MS });
const explained = await explainToken(bearer, {
  config,
  keys: new EntraJwksCache({ fetcher }),
  tenantKeys: createTenantKeyCache({ fetcher }),
  route: { method: (method ?? 'GET').toUpperCase(), path: path ?? '/' },
  ...(routeKey !== undefined ? { routeKey } : {}),
  ...(nowSeconds !== undefined ? { now: () => Date.now() / 1000 } : {}),
  ...(tenantList !== undefined ? { tenantList } : {}),
});
const report: ExplainReport =
  localKeys?.missing !== undefined && explained.decision.reason === 'keys_unavailable'
    ? { ...explained, hint: localKeys.missing }
    : undeclared(explained);

if (values.json) {
  console.log(printableJson(JSON.stringify({ assumed, notes, ...report }, null, 2)));
} else {
  console.log(renderExplanation(report, { assumed, notes }));
}
process.exit(report.decision.status === 200 ? 0 : 1);

/**
 * A parameter's tenant list, from the file standing in for it (explain never reads AWS); dropped entries
 * become notes. Undefined for a fixed list.
 */
async function tenantListOrExit(): Promise<TenantList | undefined> {
  const parameter = config.tenantsParameter;
  if (parameter === undefined) return undefined;
  const file = values['tenants-file'] ?? env[TENANTS_FILE_ENV];
  if (file === undefined || file.trim() === '') {
    fail(
      `the allowed tenants are in the SSM parameter ${parameter.name}, which explain never reads: give its value in a file with --tenants-file <file> (a JSON array of tenant GUIDs, or GUIDs separated by commas)`,
    );
  }
  try {
    const read = await fileParameterReader(file)();
    const { tenants, dropped } = parseTenantList(read);
    if (dropped.length > 0)
      notes.push(`${file}: dropped entries that are not tenant GUIDs: ${dropped.join(', ')}`);
    return { tenants, origin: parameterOrigin(parameter.name, read.version) };
  } catch (err) {
    fail(`--tenants-file: ${(err as Error).message}`);
  }
}

/**
 * For an HTTP API, the route key API Gateway would select for `--route` among those of the route
 * permissions: a request (`GET /items/42`) is judged as its route (`GET /items/{id}`), and said so.
 */
function httpRouteKeyOf(route: string): string | undefined {
  if (config.api.kind !== 'http') return undefined;
  const keys = config.api.routeKeys?.map((r) => r.route) ?? [];
  if (route === '$default' || keys.includes(route)) return route;
  const [verb = '', target = '/'] = route.split(' ');
  const routes = keys.map((key) => ({
    logicalId: key,
    routeKey: key,
    authorizer: undefined,
    integration: { type: 'UNSUPPORTED', reason: '' } as const,
  }));
  const selected = selectHttpRoute(routes, verb.toUpperCase(), target)?.route.routeKey;
  if (selected === undefined) return route;
  notes.push(`judged as the route ${selected}, which an HTTP API with these route keys selects for ${route}`);
  return selected;
}

/**
 * The report for a route the served API does not declare: API Gateway answers it itself before any
 * authorizer, whatever the token, so that answer is the hint rather than a grant to ask for.
 */
function undeclared(explained: ExplainReport): ExplainReport {
  const routes = served?.routes;
  const target =
    routeText === '$default' || config.api.kind === 'websocket'
      ? undefined
      : { method: method ?? 'GET', path: path ?? '/' };
  if (routes === undefined || target === undefined || routes.serves(target.method.toUpperCase(), target.path))
    return explained;
  const declared = routes.declared.slice(0, 10).join(', ');
  return {
    ...explained,
    hint: `API Gateway answers ${routeText} itself with ${routes.undeclaredAnswer}, before any authorizer: the API declares no such method (it has ${declared}${routes.declared.length > 10 ? ', ...' : ''}); check the method and the path`,
  };
}

async function readStdin(): Promise<string> {
  // A stream, not readFileSync(0): a pipe whose writer is still at work (az, npm run token) is not an error.
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of process.stdin) {
    chunks.push(chunk as Buffer);
    size += (chunk as Buffer).length;
    if (size > MAX_INPUT_BYTES) break;
  }
  return Buffer.concat(chunks).toString('utf8');
}

/**
 * The token in what was given: the bare JWT, `Bearer <jwt>`, the whole output of `npm run token` (its `#`
 * summary lines are skipped), or the JSON of `az account get-access-token` or of a token endpoint.
 */
function tokenFrom(text: string): string {
  const trimmed = text.trim();
  if (trimmed.startsWith('{')) {
    try {
      const json = JSON.parse(trimmed) as { accessToken?: unknown; access_token?: unknown };
      const found = json.accessToken ?? json.access_token;
      if (typeof found === 'string') {
        notes.push(
          `read the ${json.accessToken !== undefined ? 'accessToken' : 'access_token'} field of the JSON given`,
        );
        return found.trim();
      }
    } catch {
      // not JSON after all: judged as given below
    }
  }
  const lines = trimmed
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'));
  if (lines.length > 1) fail(`expected one token; got ${lines.length} lines`);
  return lines[0] ?? '';
}

function audiencesOf(aud: unknown): string[] {
  if (typeof aud === 'string') return [aud];
  return Array.isArray(aud) ? aud.filter((a): a is string => typeof a === 'string') : [];
}

function notAJwt(detail: string): never {
  const report = notAJwtReport(detail);
  if (values.json) {
    console.log(printableJson(JSON.stringify({ assumed: [], notes, ...report }, null, 2)));
  } else {
    const { hint } = report;
    console.log(
      printable(
        `Not a JWT: ${detail}. The authorizer answers 401 (malformed), whatever its configuration. Hint: ${hint}`,
      ),
    );
  }
  process.exit(1);
}

function servedOrExit() {
  try {
    return servedAuthorizer({ app: values.app, stack: values.stack, api: values.api, port: values.port });
  } catch (err) {
    if (err instanceof AssemblyError) failListing(err.message);
    if (err instanceof PortError) fail(err.message);
    throw err;
  }
}

async function findLocalKeySet(
  servedPort?: number,
  servedTenant?: string,
): Promise<{ url?: string; missing?: string }> {
  if (servedPort !== undefined && servedTenant !== undefined) {
    return servedKeySet(servedPort, servedTenant);
  }
  const tenant = `tenant ${LOCAL_TENANT_ID}, from npm run token`;
  let port: number;
  try {
    port = localPort();
  } catch (err) {
    if (!(err instanceof PortError)) throw err;
    return {
      missing: noteMissing(
        `a token of the local issuer (${tenant}), but ${err.message}: pass --jwks-uri <key set URL>`,
      ),
    };
  }
  if (port === 0) {
    return {
      missing: noteMissing(
        `a token of the local issuer (${tenant}); with PORT=0 its npm start could be anywhere: give its PORT, or pass --jwks-uri <key set URL>`,
      ),
    };
  }
  const url = localIssuerUrls(`http://127.0.0.1:${port}`).jwksUri;
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(2000) });
    const body = (await res.json()) as { keys?: unknown };
    if (res.ok && Array.isArray(body.keys)) {
      notes.push(
        `a token of the local issuer (${tenant}): checking it against the key set of npm start on port ${port}, ${url}`,
      );
      return { url };
    }
  } catch {
    // nothing, or something else, answers there
  }
  return {
    // Pointing at the local URL anyway keeps a local token's key fetch away from the real login host.
    url,
    missing: noteMissing(
      `a token of the local issuer (${tenant}), whose keys only npm start serves, and it is not running on port ${port}: start it with \`${portPrefix(port)}npm start\` (npm run token and explain read the same PORT), or pass --jwks-uri <URL of a saved copy of its key set>`,
    ),
  };
}

/** The key set of `entra-authorizer start` on `port`: the local issuer's, for the served authorizer's tenant. */
async function servedKeySet(port: number, tenant: string): Promise<{ url?: string; missing?: string }> {
  const url = localIssuerUrls(`http://127.0.0.1:${port}`, tenant).jwksUri;
  if (await answersKeySet(url)) {
    notes.push(`checking the signature against the key set of ${names.start} on port ${port}, ${url}`);
    return { url };
  }
  return {
    url,
    missing: noteMissing(
      `the keys of the local issuer are served only by ${names.start}, and it is not running on port ${port}: start it (with PORT=${port}), or pass --jwks-uri <key set URL>`,
    ),
  };
}

async function answersKeySet(url: string): Promise<boolean> {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(2000) });
    const body = (await res.json()) as { keys?: unknown };
    return res.ok && Array.isArray(body.keys);
  } catch {
    return false;
  }
}

function noteMissing(line: string): string {
  notes.push(line);
  return line;
}

/**
 * An ISO 8601 date or date-time, or epoch seconds from 2001 on (10 digits or more): `Date.parse` alone
 * would take `-5` or `foo 2020` for some date, and a year such as `2016` is surely not meant as seconds.
 */
function parseInstant(text: string): number | undefined {
  if (/^\d{10,}(\.\d+)?$/.test(text)) return Number(text);
  const iso = /^\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?)?$/i;
  if (!iso.test(text)) return undefined;
  const ms = Date.parse(text);
  return Number.isFinite(ms) ? ms / 1000 : undefined;
}
