import { parseArgs } from 'node:util';
import { ISSUER_PREFIX, LOCAL_CLIENT_ID, LOCAL_SCOPE, LOCAL_TENANT_ID, LOCAL_USER_GRANT } from './issuer.js';
import { localPort } from './server.js';

const usage = `npm run token -- [--scopes a,b] [--roles x,y] [--app] [--v1] [--expires-in <seconds>]

Asks the local issuer of \`npm start\` (on PORT, default 3000) for an access token and prints it:
a summary of its claims, then the bare JWT as the last line.
  --scopes a,b          delegated scopes (default ${LOCAL_SCOPE})
  --roles x,y           app roles
  --app                 app-only token (client credentials: no scp)
  --v1                  a v1.0 token (iss sts.windows.net, aud api://<client id>)
  --expires-in <s>      lifetime in seconds (default 3600); an expired one: --expires-in=-600`;

const { values } = parseArgs({
  options: {
    scopes: { type: 'string' },
    roles: { type: 'string' },
    app: { type: 'boolean', default: false },
    v1: { type: 'boolean', default: false },
    'expires-in': { type: 'string' },
    help: { type: 'boolean', short: 'h', default: false },
  },
});
if (values.help) {
  console.log(usage);
  process.exit(0);
}

const port = localPort();
const form = new URLSearchParams({
  grant_type: values.app ? 'client_credentials' : LOCAL_USER_GRANT,
  scope: values.app
    ? `api://${LOCAL_CLIENT_ID}/.default`
    : (values.scopes ?? LOCAL_SCOPE)
        .split(',')
        .filter((s) => s !== '')
        .map((s) => `api://${LOCAL_CLIENT_ID}/${s.trim()}`)
        .join(' '),
  token_version: values.v1 ? '1' : '2',
  expires_in: values['expires-in'] ?? '3600',
  ...(values.roles !== undefined ? { roles: values.roles } : {}),
});
const endpoint = `http://127.0.0.1:${port}${ISSUER_PREFIX}/${LOCAL_TENANT_ID}/oauth2/v2.0/token`;
let response: Response;
try {
  response = await fetch(endpoint, { method: 'POST', body: form });
} catch {
  console.error(`No local issuer on 127.0.0.1:${port}: run \`npm start\` first (same PORT).`);
  process.exit(1);
}
const answer = (await response.json()) as { access_token?: string; error_description?: string };
if (!response.ok || answer.access_token === undefined) {
  console.error(`The local issuer refused: ${answer.error_description ?? response.status}`);
  process.exit(1);
}
const claims = JSON.parse(
  Buffer.from(answer.access_token.split('.')[1] as string, 'base64url').toString('utf8'),
);
const summary = ['ver', 'aud', 'tid', 'oid', 'scp', 'roles', 'idtyp', 'exp']
  .filter((k) => claims[k] !== undefined)
  .map((k) => `${k}=${k === 'exp' ? new Date(claims[k] * 1000).toISOString() : JSON.stringify(claims[k])}`);
console.log(`# ${summary.join(' ')}`);
console.log(answer.access_token);
