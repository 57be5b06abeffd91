import { parseArgs } from 'node:util';
import { checkArgs, endQuietlyWhenStdoutCloses, parseOrExit, UsageError } from '../../scripts/cli-args.js';
import {
  LOCAL_APP_ROLE,
  LOCAL_CLIENT_ID,
  LOCAL_EXTERNAL_ID_HOST,
  LOCAL_SCOPE,
  LOCAL_TENANT_ID,
  LOCAL_USER_GRANT,
  localIssuerUrls,
} from './issuer.js';
import { localPort, PortError, portPrefix } from './port.js';

const MAX_LIFETIME_SECONDS = 86_400;
endQuietlyWhenStdoutCloses();

const usage = `npm run token -- [--scopes a,b] [--roles x,y] [--app] [--v1 | --external-id] [--expires-in <seconds>]

Asks the local issuer of \`npm start\` (on PORT, default 3000) for an access token and prints it:
a summary of its claims, then the bare JWT as the last line.
  --scopes a,b          delegated scopes (default ${LOCAL_SCOPE})
  --roles x,y           app roles (default: none; with --app, ${LOCAL_APP_ROLE})
  --app                 app-only token (client credentials: roles, no scp); GET /whoami answers it 403
  --v1                  a v1.0 token (iss sts.windows.net, aud api://<client id>)
  --external-id         a Microsoft Entra External ID token (iss https://{tid}.ciamlogin.com/{tid}/v2.0);
                        npm start judges workforce tokens, so it answers it 401: see npm run explain
  --expires-in <s>      lifetime in seconds, -${MAX_LIFETIME_SECONDS} to ${MAX_LIFETIME_SECONDS} (default 3600);
                        an expired one: --expires-in -600`;

const options = {
  scopes: { type: 'string' },
  roles: { type: 'string' },
  app: { type: 'boolean', default: false },
  v1: { type: 'boolean', default: false },
  'external-id': { type: 'boolean', default: false },
  'expires-in': { type: 'string' },
  help: { type: 'boolean', short: 'h', default: false },
} as const;

const names = (list: string, flag: string): string[] => {
  const items = list
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
  const bad = items.find((s) => !/^[\x21-\x7e]+$/.test(s));
  if (bad !== undefined) throw new UsageError(`${flag}: names are printable, without spaces; got "${bad}"`);
  return items;
};

const request = parseOrExit('npm run token', usage, () => {
  const { values } = parseArgs({ args: checkArgs(process.argv.slice(2), options), options });
  if (values.help) return undefined;
  const expiresIn = values['expires-in'] ?? '3600';
  if (!/^-?\d+$/.test(expiresIn) || Math.abs(Number(expiresIn)) > MAX_LIFETIME_SECONDS) {
    throw new UsageError(
      `--expires-in: expected whole seconds from -${MAX_LIFETIME_SECONDS} to ${MAX_LIFETIME_SECONDS}; got "${expiresIn}"`,
    );
  }
  if (values.v1 && values['external-id']) {
    throw new UsageError('--v1 and --external-id: External ID documents only v2 access tokens');
  }
  if (values.app && values.scopes !== undefined) {
    throw new UsageError('--scopes is for delegated tokens: an app-only token (--app) carries --roles');
  }
  const scopes = names(values.scopes ?? LOCAL_SCOPE, '--scopes');
  if (!values.app && scopes.length === 0) throw new UsageError('--scopes: give at least one scope');
  const roles = names(values.roles ?? (values.app ? LOCAL_APP_ROLE : ''), '--roles');
  return { app: values.app, v1: values.v1, externalId: values['external-id'], expiresIn, scopes, roles };
});
if (request === undefined) {
  console.log(usage);
  process.exit(0);
}

let port: number;
try {
  port = localPort();
} catch (err) {
  if (!(err instanceof PortError)) throw err;
  console.error(`npm run token: ${err.message}`);
  process.exit(2);
}
if (port === 0) {
  console.error(
    'npm run token: PORT=0 lets `npm start` pick a free port; give the port it printed, as in PORT=<port> npm run -s token',
  );
  process.exit(2);
}

const form = new URLSearchParams({
  grant_type: request.app ? 'client_credentials' : LOCAL_USER_GRANT,
  scope: request.app
    ? `api://${LOCAL_CLIENT_ID}/.default`
    : request.scopes.map((s) => `api://${LOCAL_CLIENT_ID}/${s}`).join(' '),
  token_version: request.v1 ? '1' : '2',
  expires_in: request.expiresIn,
  ...(request.roles.length > 0 ? { roles: request.roles.join(',') } : {}),
});
const urls = localIssuerUrls(`http://127.0.0.1:${port}`);
const endpoint = request.externalId ? urls.externalId.tokenEndpoint : urls.tokenEndpoint;
function noIssuer(what: string): never {
  console.error(
    `npm run token: ${what} on 127.0.0.1:${port}: run \`${portPrefix(port)}npm start\` first (npm run token reads the same PORT).`,
  );
  process.exit(1);
}
let response: Response;
try {
  response = await fetch(endpoint, { method: 'POST', body: form, signal: AbortSignal.timeout(10_000) });
} catch {
  noIssuer('no local issuer');
}
let answer: { access_token?: unknown; error_description?: unknown };
try {
  answer = (await response.json()) as typeof answer;
} catch {
  noIssuer(`something other than the local issuer answers (HTTP ${response.status})`);
}
if (!response.ok || typeof answer.access_token !== 'string') {
  console.error(`npm run token: the local issuer refused: ${answer.error_description ?? response.status}`);
  process.exit(1);
}
const token = answer.access_token;
const claims = JSON.parse(Buffer.from(token.split('.')[1] as string, 'base64url').toString('utf8'));
const summary = ['ver', 'aud', 'tid', 'oid', 'scp', 'roles', 'idtyp', 'exp']
  .filter((k) => claims[k] !== undefined)
  .map((k) => `${k}=${k === 'exp' ? new Date(claims[k] * 1000).toISOString() : JSON.stringify(claims[k])}`);
if (request.app) {
  const roles = request.roles.length > 0 ? `roles ${request.roles.join(', ')}` : 'no roles';
  console.log(
    `# app-only token (client credentials): ${roles}, no scp. GET /whoami needs the scope ${LOCAL_SCOPE}, so it answers 403`,
  );
}
if (request.externalId) {
  console.log(
    `# External ID token (iss ${claims.iss}): npm start judges workforce tokens and answers it 401. Judge it with: npm run -s explain -- --tenant ${LOCAL_TENANT_ID} --authority-host ${LOCAL_EXTERNAL_ID_HOST} --jwks-uri ${urls.externalId.jwksUri} "$TOKEN"`,
  );
}
console.log(`# ${summary.join(' ')}`);
console.log(token);
