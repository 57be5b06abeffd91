import { parseArgs } from 'node:util';
import { isGuid } from '../../lambda/authorizer/config.js';
import { TemplateError } from './api-template.js';
import { AssemblyError } from './assembly.js';
import { checkArgs, endQuietlyWhenStdoutCloses, parseOrExit, UsageError } from './cli-args.js';
import { commandNames } from './command-names.js';
import {
  LOCAL_APP_ROLE,
  LOCAL_CLIENT_ID,
  LOCAL_EXTERNAL_ID_HOST,
  LOCAL_SCOPE,
  LOCAL_USER_GRANT,
  localIssuerUrls,
} from './issuer.js';
import { type JwtRouteFlags, type JwtRouteToken, jwtRouteToken } from './jwt-route-token.js';
import { localPort, PortError, portPrefix } from './port.js';

const MAX_LIFETIME_SECONDS = 86_400;
endQuietlyWhenStdoutCloses();
const names = commandNames();
const COMMAND = names.token;
// The issuer of `start` knows the served template's scopes and roles (the sample's, or --app's).
const SCOPES_DEFAULT = names.sample
  ? `${LOCAL_SCOPE} for the sample, else the scopes your authorizer requires`
  : 'the scopes your authorizer requires';

const usage = `${COMMAND}${names.sample ? ' --' : ''} [--scopes a,b] [--roles x,y] [--app | --app-only] [--guest] [--groups id,id | --overage] [--v1 | --external-id] [--tenant G] [--audience A] [--expires-in <seconds>]
    [--route "GET /path" [--assembly <cdk.out>]]

Asks the local issuer of \`${names.start}\` (on PORT, default 3000) for an access token and prints it:
a summary of its claims, then the bare JWT as the last line. Its tenant and audience are those the served
authorizer declares unless --tenant or --audience say otherwise.
  --scopes a,b          delegated scopes (default ${SCOPES_DEFAULT})
  --roles x,y           app roles (default: none; with --app-only, ${names.sample ? `${LOCAL_APP_ROLE} for the sample, else ` : ''}every role your authorizer's routes name)
  --app-only, --app     app-only token (client credentials: roles, no scp)${names.sample ? '; GET /whoami answers it 403' : ''}
  --groups id,id        group object ids (GUIDs) for the groups claim
  --overage             group overage: no groups claim, _claim_names/_claim_sources instead (as Entra
                        writes it past 200 groups); a route that needs a group answers it 403
  --guest               a guest (B2B) user's token: idp names another tenant than the issuer
  --v1                  a v1.0 token (iss sts.windows.net, aud api://<client id>)
  --external-id         a Microsoft Entra External ID token (iss https://{tid}.ciamlogin.com/{tid}/v2.0);
                        an authorizer for a workforce tenant answers it 401: see the explain line it prints
  --tenant <guid>       another tenant than the authorizer's (its tokens are refused unless allowed)
  --audience <aud>      another audience than the authorizer's
  --route "GET /path"   a route API Gateway's own JWT authorizer guards: a token for its issuer's tenant and
                        version, its first audience and the route's scopes, read from the assembly
                        (--assembly <cdk.out>, and --stack, --api as for \`${names.start}\`)
  --port <N>            where \`${names.start}\` listens (default PORT, else 3000)
  --expires-in <s>      lifetime in seconds, -${MAX_LIFETIME_SECONDS} to ${MAX_LIFETIME_SECONDS} (default 3600);
                        an expired one: --expires-in -600`;

const options = {
  scopes: { type: 'string' },
  roles: { type: 'string' },
  app: { type: 'boolean', default: false },
  'app-only': { type: 'boolean', default: false },
  tenant: { type: 'string' },
  audience: { type: 'string' },
  port: { type: 'string' },
  route: { type: 'string' },
  assembly: { type: 'string' },
  stack: { type: 'string' },
  api: { type: 'string' },
  v1: { type: 'boolean', default: false },
  guest: { type: 'boolean', default: false },
  groups: { type: 'string' },
  overage: { type: 'boolean', default: false },
  'external-id': { type: 'boolean', default: false },
  'expires-in': { type: 'string' },
  help: { type: 'boolean', short: 'h', default: false },
} as const;

const nameList = (list: string, flag: string): string[] => {
  const items = list
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
  const bad = items.find((s) => !/^[\x21-\x7e]+$/.test(s));
  if (bad !== undefined) throw new UsageError(`${flag}: names are printable, without spaces; got "${bad}"`);
  return items;
};

const request = parseOrExit(COMMAND, usage, () => {
  const { values } = parseArgs({ args: checkArgs(process.argv.slice(2), options), options });
  if (values.help) return undefined;
  const app = values.app || values['app-only'];
  if (values.tenant !== undefined && !isGuid(values.tenant)) {
    throw new UsageError(`--tenant: expected a tenant GUID; got "${values.tenant}"`);
  }
  const expiresIn = values['expires-in'] ?? '3600';
  if (!/^-?\d+$/.test(expiresIn) || Math.abs(Number(expiresIn)) > MAX_LIFETIME_SECONDS) {
    throw new UsageError(
      `--expires-in: expected whole seconds from -${MAX_LIFETIME_SECONDS} to ${MAX_LIFETIME_SECONDS}; got "${expiresIn}"`,
    );
  }
  if (values.v1 && values['external-id']) {
    throw new UsageError('--v1 and --external-id: External ID documents only v2 access tokens');
  }
  if (values.overage && values.groups !== undefined) {
    throw new UsageError('--groups and --overage: an overage token carries no groups claim');
  }
  const groups = nameList(values.groups ?? '', '--groups');
  const notGuid = groups.find((g) => !isGuid(g.toLowerCase()));
  if (notGuid !== undefined) {
    throw new UsageError(`--groups: expected group object id GUIDs; got "${notGuid}"`);
  }
  if (app && values.guest) {
    throw new UsageError('--guest is a user: an app-only token (--app-only) has no user to be a guest');
  }
  if (app && values.scopes !== undefined) {
    throw new UsageError('--scopes is for delegated tokens: an app-only token (--app-only) carries --roles');
  }
  const scopes = nameList(values.scopes ?? '', '--scopes');
  if (!app && values.scopes !== undefined && scopes.length === 0) {
    throw new UsageError('--scopes: give at least one scope');
  }
  const roles = nameList(values.roles ?? '', '--roles');
  if (values.route !== undefined && (values.tenant ?? values.audience ?? values.scopes) !== undefined) {
    throw new UsageError(
      '--route takes the tenant, audience and scopes from the route: leave out --tenant, --audience and --scopes',
    );
  }
  return {
    app,
    route:
      values.route === undefined
        ? undefined
        : { route: values.route, app: values.assembly, stack: values.stack, api: values.api },
    v1: values.v1,
    guest: values.guest,
    groups,
    overage: values.overage,
    externalId: values['external-id'],
    expiresIn,
    scopes,
    roles,
    tenant: values.tenant,
    audience: values.audience,
    port: values.port,
  };
});
if (request === undefined) {
  console.log(usage);
  process.exit(0);
}

let port: number;
try {
  port = localPort(request.port !== undefined ? { PORT: request.port } : process.env);
} catch (err) {
  if (!(err instanceof PortError)) throw err;
  console.error(`${COMMAND}: ${err.message}`);
  process.exit(2);
}
if (port === 0) {
  console.error(
    `${COMMAND}: PORT=0 lets \`${names.start}\` pick a free port; give the port it printed, as in PORT=<port> ${names.sample ? 'npm run -s token' : COMMAND}`,
  );
  process.exit(2);
}

// A route of API Gateway's own JWT authorizer names the tenant, token version, audience and scopes itself.
function readRoute(flags: JwtRouteFlags): JwtRouteToken {
  try {
    return jwtRouteToken(flags);
  } catch (err) {
    if (!(err instanceof AssemblyError || err instanceof TemplateError)) throw err;
    console.error(`${COMMAND}: ${err.message}`);
    process.exit(2);
  }
}
const route = request.route === undefined ? undefined : readRoute(request.route);
const wanted =
  route === undefined
    ? request
    : {
        ...request,
        tenant: route.tenant,
        audience: route.audience,
        v1: route.version === '1',
        externalId: route.externalId,
        scopes: request.app ? [] : [...route.scopes],
      };

const form = new URLSearchParams({
  grant_type: wanted.app ? 'client_credentials' : LOCAL_USER_GRANT,
  // Without scopes (or roles), the issuer of `start` gives those the served authorizer requires: the same
  // request whatever app it serves, so a token command fits every banner that prints it.
  ...(wanted.app || wanted.scopes.length > 0
    ? { scope: wanted.app ? '.default' : wanted.scopes.join(' ') }
    : {}),
  token_version: wanted.v1 ? '1' : '2',
  expires_in: wanted.expiresIn,
  ...(wanted.roles.length > 0 ? { roles: wanted.roles.join(',') } : {}),
  ...(wanted.audience !== undefined ? { audience: wanted.audience } : {}),
  ...(wanted.guest ? { guest: '1' } : {}),
  ...(wanted.groups.length > 0 ? { groups: wanted.groups.join(',') } : {}),
  ...(wanted.overage ? { groups_overage: '1' } : {}),
});
// The served authorizer's own tenant, unless --tenant (or --route) names another: the issuer knows it.
const tenantPath = wanted.tenant ?? 'organizations';
const urls = localIssuerUrls(`http://127.0.0.1:${port}`, tenantPath);
const endpoint = wanted.externalId ? urls.externalId.tokenEndpoint : urls.tokenEndpoint;
function noIssuer(what: string): never {
  console.error(
    `${COMMAND}: ${what} on 127.0.0.1:${port}: run \`${portPrefix(port)}${names.start}\` first (${COMMAND} reads the same PORT).`,
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
  console.error(`${COMMAND}: the local issuer refused: ${answer.error_description ?? response.status}`);
  process.exit(1);
}
const token = answer.access_token;
const claims = JSON.parse(Buffer.from(token.split('.')[1] as string, 'base64url').toString('utf8'));
// The token is for whatever app the server on PORT serves: the sample (npm start), whose client id its
// tokens name, or an assembly (--app, or the package's start), for which the defaults are said on stderr.
const forSample = names.sample && [LOCAL_CLIENT_ID, `api://${LOCAL_CLIENT_ID}`].includes(claims.aud);
const listed = (claim: unknown): string[] =>
  typeof claim === 'string' ? claim.split(' ') : Array.isArray(claim) ? claim : [];
const summary = ['ver', 'aud', 'tid', 'oid', 'scp', 'roles', 'idtyp', 'exp']
  .filter((k) => claims[k] !== undefined)
  .map((k) => `${k}=${k === 'exp' ? new Date(claims[k] * 1000).toISOString() : JSON.stringify(claims[k])}`);
if (request.app && forSample) {
  const roles = listed(claims.roles).length > 0 ? `roles ${listed(claims.roles).join(', ')}` : 'no roles';
  console.log(
    `# app-only token (client credentials): ${roles}, no scp. GET /whoami needs the scope ${LOCAL_SCOPE}, so it answers 403`,
  );
}
if (request.externalId) {
  console.log(
    `# External ID token (iss ${claims.iss}): ${names.start} judges workforce tokens and answers it 401. Judge it with: ${names.run('explain', `--tenant ${claims.tid} --authority-host ${LOCAL_EXTERNAL_ID_HOST} --jwks-uri ${localIssuerUrls(`http://127.0.0.1:${port}`, claims.tid).externalId.jwksUri} "$TOKEN"`)}`,
  );
}
if (!forSample) {
  // What the defaults gave, on stderr, so `$(... | tail -n 1)` still takes the bare token.
  // A JWT route's token carries that route's scopes, not the defaults of the Entra authorizer.
  const byDefault = (given: readonly string[]) => given.length === 0 && route === undefined;
  const which = request.app
    ? `an app-only token with ${describeNames('roles', listed(claims.roles), byDefault(request.roles), '--roles')}`
    : `a delegated token with ${describeNames('scopes', listed(claims.scp), byDefault(request.scopes), '--scopes')}`;
  console.error(`${COMMAND}: minted ${which}`);
}
console.log(`# ${summary.join(' ')}`);
console.log(token);

/** `roles A, B (every role your authorizer's routes name; --roles picks others)`, or what was given. */
function describeNames(
  kind: 'scopes' | 'roles',
  minted: readonly string[],
  byDefault: boolean,
  flag: string,
) {
  const what = minted.length > 0 ? `${kind} ${minted.join(', ')}` : `no ${kind}`;
  if (!byDefault) return what;
  const why =
    minted.length > 0
      ? `every one of your authorizer's ${kind === 'scopes' ? 'required scopes' : 'route and required roles'}`
      : `your authorizer names no ${kind === 'scopes' ? 'scope' : 'role'}`;
  return `${what} (${why}; ${flag} picks others)`;
}
