import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { TENANTS_FILE_ENV } from '../../lambda/authorizer/tenant-file.js';
import { describeRule, SAMPLE_ROUTES } from '../sample/routes.js';
import type { ApiServer } from './api-server.js';
import { type ApiModel, TemplateError } from './api-template.js';
import { AssemblyError, newerSourceThan } from './assembly.js';
import { type AssemblyServer, readEnvFile, startAssemblyServer } from './assembly-server.js';
import { checkArgs, parseOrExit } from './cli-args.js';
import { commandNames } from './command-names.js';
import { httpRouteLines, jwtGuardLabel } from './http-start-lines.js';
import { LOCAL_APP_ROLE, LOCAL_SCOPE } from './issuer.js';
import { DEFAULT_PORT, freePortNear, localPort, PortError, portPrefix } from './port.js';
import { webSocketStartLines } from './websocket-start-lines.js';

// npm start: the sample API and a local Entra-shaped issuer on 127.0.0.1, no AWS account, no tenant.
// npx entra-authorizer start: the same for the user's own synthesized CDK app (cdk.out).

const names = commandNames();
const COMMAND = names.start;

const usage = `${COMMAND} [--app <cdk.out>] [--stack <name>] [--api <logical id>] [--port N] [--env FILE] [--tenants-file FILE]${names.sample ? ' [--api-kind rest|http]' : ''}

Serves the REST API an EntraTokenAuthorizer guards, or the HTTP API an EntraHttpAuthorizer guards, of your
synthesized CDK app on 127.0.0.1, with the WebSocket APIs of its stack (ws://.../<stage>; a stack of
WebSocket APIs an EntraWebSocketAuthorizer guards is served on its own), and a local Entra-shaped issuer
for \`${names.token}\`. Run \`cdk synth\` first. Its Lambda functions run from the asset folders cdk synth
staged, each on a worker thread of its own.
  --app <dir>        the cloud assembly (default cdk.out)
  --stack <name>     the stack, when the assembly has several guarded APIs
  --api <id>         the RestApi's or HttpApi's logical id, when a stack has several
  --port <N>         the port (default PORT, else ${DEFAULT_PORT}; 0 picks a free one)
  --env <file>       values for variables the template holds as references:
                     {"Parameters": {"NAME": "v"}, "<function logical id>": {"NAME": "v"}}
  --tenants-file <f> the value of the SSM parameter allowedTenants names (a JSON array of tenant GUIDs),
                     read again every tenantsRefresh (else AZURE_ALLOWED_TENANTS_FILE; never from AWS)${
                       names.sample
                         ? `
  --api-kind <kind>  without --app: the sample as a REST API (rest, the default) or as an HTTP API (http,
                     the stack of cdk deploy -c apiKind=http, with its WebSocket API)`
                         : ''
                     }`;

const options = {
  app: { type: 'string' },
  stack: { type: 'string' },
  api: { type: 'string' },
  port: { type: 'string' },
  env: { type: 'string' },
  'tenants-file': { type: 'string' },
  'api-kind': { type: 'string' },
  help: { type: 'boolean', short: 'h', default: false },
} as const;

function fail(line: string, code: number): never {
  console.error(`${COMMAND}: ${line}`);
  process.exit(code);
}

interface StartFlags {
  readonly app?: string;
  readonly stack?: string;
  readonly api?: string;
  readonly port?: string;
  readonly env?: string;
  readonly 'tenants-file'?: string;
  readonly 'api-kind'?: string;
  readonly help?: boolean;
}
const flags: StartFlags = parseOrExit(
  COMMAND,
  usage,
  () => parseArgs({ args: checkArgs(process.argv.slice(2), options), options }).values,
);
// In this repository, npm start serves the sample stack unless the flags name an assembly.
const serveSample =
  names.sample && flags.app === undefined && flags.stack === undefined && flags.api === undefined;
if (flags.help) {
  console.log(usage);
  process.exit(0);
}
const apiKind = flags['api-kind'];
if (apiKind !== undefined) {
  if (!serveSample) {
    fail(
      '--api-kind picks the sample in this repository; an assembly is served as its template declares (--api picks the API)',
      2,
    );
  }
  if (apiKind !== 'rest' && apiKind !== 'http') fail(`--api-kind must be rest or http; got "${apiKind}"`, 2);
}

const tenantsFile = flags['tenants-file'];
if (tenantsFile !== undefined && serveSample) {
  fail(
    '--tenants-file stands in for an allowedTenants SSM parameter, and the sample has none (its tenant list is fixed): give it with --app <cdk.out> of an app whose authorizer reads one',
    2,
  );
}
if (tenantsFile !== undefined) {
  if (!existsSync(tenantsFile)) fail(`--tenants-file: no file ${tenantsFile}`, 2);
  // The served functions take it from here (local-environment.ts), as from the shell.
  process.env[TENANTS_FILE_ENV] = resolve(tenantsFile);
}

let port: number;
try {
  port = localPort(flags.port !== undefined ? { PORT: flags.port } : process.env);
} catch (err) {
  if (!(err instanceof PortError)) throw err;
  fail(`${err.message}. Run, for example: PORT=${DEFAULT_PORT + 1} ${COMMAND}`, 2);
}

/** The sample stack in this process (npm start), or the user's cloud assembly on worker threads. */
async function openServer(): Promise<ApiServer | AssemblyServer> {
  if (serveSample) {
    // Through a computed URL: the package's bundle leaves the sample (and aws-cdk-lib) out, as it has no sample.
    const sampleServer = new URL('./server.js', import.meta.url).href;
    const { startLocalServer } = (await import(sampleServer)) as typeof import('./server.js');
    return startLocalServer({ port, apiKind: apiKind === 'http' ? 'http' : 'rest' });
  }
  const assemblyDir = resolve(flags.app ?? 'cdk.out');
  const inputs = [flags.env, process.env[TENANTS_FILE_ENV]].filter((f) => f !== undefined);
  const stale = newerSourceThan(assemblyDir, inputs);
  if (stale !== undefined) {
    console.error(
      `${COMMAND}: ${stale} changed after the last synth: run \`cdk synth\` to serve the app as it is now`,
    );
  }
  return startAssemblyServer({
    assemblyDir,
    stack: flags.stack,
    api: flags.api,
    port,
    // Outside the user's project, so no key lands in their repository; kept, so tokens survive restarts.
    dataDir: join(
      process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'),
      'entra-authorizer',
      'local-issuer',
    ),
    envFile: flags.env === undefined ? undefined : readEnvFile(flags.env),
  });
}

let server: ApiServer | AssemblyServer;
try {
  server = await openServer();
} catch (err) {
  if (err instanceof AssemblyError || err instanceof TemplateError) fail(err.message, 1);
  const code = (err as NodeJS.ErrnoException).code;
  if (code === 'EADDRINUSE') {
    const other = (await freePortNear(port)) ?? '<other>';
    fail(
      `port ${port} on 127.0.0.1 is already in use (another ${COMMAND}?). Stop that, or run: PORT=${other} ${COMMAND}`,
      1,
    );
  }
  if (code === 'EACCES') {
    fail(
      `not allowed to listen on port ${port} of 127.0.0.1 (ports below 1024 need privileges). Run, for example: PORT=${DEFAULT_PORT} ${COMMAND}`,
      1,
    );
  }
  if (code === 'EADDRNOTAVAIL') fail(`cannot listen on 127.0.0.1:${port}: no loopback address 127.0.0.1`, 1);
  throw err;
}

if (tenantsFile !== undefined && 'readsTenantsFile' in server && !server.readsTenantsFile) {
  await server.stop();
  fail(
    `--tenants-file stands in for an allowedTenants SSM parameter, and no function of ${server.stackName} reads one: leave it out, or synthesize the app whose authorizer does`,
    2,
  );
}

// The curl lines call `npm run token`, which finds the issuer through the same PORT rule.
const env = portPrefix(server.port);
function sampleLines(s: ApiServer): string[] {
  const http = apiKind === 'http';
  const ws = webSocketStartLines(s.url, s.webSocketApis, (flags) => `${env}${names.run('token', flags)}`);
  return [
    `entra-authorizer local ${http ? 'HTTP API (the sample of -c apiKind=http, and its WebSocket API)' : 'API'} on ${s.url}`,
    '',
    `  issuer (Entra-shaped)  ${s.issuerUrl}/.well-known/openid-configuration`,
    `  token endpoint         ${s.tokenEndpoint}`,
    ...SAMPLE_ROUTES.map(
      (r) => `  ${r.method.padEnd(6)} ${s.url}${r.path}   (needs ${describeRule(r.permission)})`,
    ),
    ...ws.lines,
    '',
    'Try it:',
    `  curl -i -H "Authorization: Bearer $(${env}npm run -s token | tail -n 1)" ${s.url}/whoami   # 200, your claims`,
    `  curl -i ${s.url}/whoami   # 401`,
    `  curl -i -H "Authorization: Bearer $(${env}npm run -s token -- --app | tail -n 1)" ${s.url}/whoami   # 403: app-only, roles ${LOCAL_APP_ROLE}, no scope ${LOCAL_SCOPE}`,
    `  ${env}npm run -s token | ${env}npm run -s explain   # why a token is accepted or refused`,
    ...ws.tryIt,
  ];
}

/** The flags `explain` needs to judge as this server does: the assembly it was given, the API it picked. */
function explainFlags(s: AssemblyServer): string {
  const app = flags.app === undefined ? '' : `--app ${shellWord(flags.app)} `;
  return `${app}${s.pickFlags === '' ? '' : `${s.pickFlags} `}`;
}

/** A word as a POSIX shell reads it back: quoted unless it is plain. */
function shellWord(word: string): string {
  return /^[\w@%+=:,./-]+$/.test(word) ? word : `'${word.replaceAll("'", "'\\''")}'`;
}

function assemblyLines(s: AssemblyServer): string[] {
  const methods: string[] = [];
  // The "Try it" lines name a method the API has (the first guarded GET, else the first guarded one), with
  // its path parameters filled in, rather than a root the API may not declare.
  let example: { verb: string; path: string } | undefined;
  const visit = (node: ApiModel['root']) => {
    for (const [verb, m] of node.methods) {
      const guard =
        m.jwt !== undefined
          ? jwtGuardLabel(m.jwt, `${verb} ${node.path}`)
          : m.authorizer !== undefined
            ? `authorizer ${m.authorizer.logicalId}`
            : 'no authorizer';
      if (m.integration.type === 'UNSUPPORTED') continue;
      methods.push(`  ${verb.padEnd(6)} ${s.url}${node.path}   (${guard})`);
      if (m.authorizer !== undefined && (example === undefined || (example.verb !== 'GET' && verb === 'GET')))
        example = {
          verb: verb === 'ANY' ? 'GET' : verb,
          path: node.path.replace(/\{[^}]+\+\}/g, 'x').replace(/\{[^}]+\}/g, '1'),
        };
    }
    for (const child of node.children) visit(child);
  };
  if ('kind' in s.api) {
    const http = httpRouteLines(s.url, s.api);
    methods.push(...http.methods);
    example = http.example;
  } else visit(s.api.root);
  const token = `${env}${names.run('token', '')}`;
  const ws = webSocketStartLines(s.url, s.webSocketApis, (flags) => `${env}${names.run('token', flags)}`);
  const { verb, path } = example ?? { verb: 'GET', path: '/' };
  const method = verb === 'GET' ? '' : ` -X ${verb}`;
  const kind = { rest: 'REST', http: 'HTTP', websocket: 'WebSocket' }[s.kind];
  // A stack of WebSocket APIs only: its lines are the WebSocket ones, and explain judges its $connect.
  const httpTries =
    s.kind === 'websocket'
      ? [
          `  ${token} | ${env}${names.run('explain', explainFlags(s).trimEnd())}   # why a token is accepted or refused at $connect`,
        ]
      : [
          `  curl -i${method} -H "Authorization: Bearer $(${token} | tail -n 1)" ${s.url}${path}   # with your authorizer's tenant, audience and required scopes`,
          `  ${token} | ${env}${names.run('explain', `${explainFlags(s)}--route "${verb} ${path}"`)}   # why a token is accepted or refused`,
        ];
  return [
    `entra-authorizer local API on ${s.url}: ${s.stackName}, ${kind} API ${s.restApiId}`,
    '',
    `  issuer (Entra-shaped)  ${s.issuerUrl}/.well-known/openid-configuration`,
    `  token endpoint         ${s.tokenEndpoint}`,
    ...methods,
    ...ws.lines,
    ...s.notes.map((n) => `  not as in AWS: ${n}`),
    '',
    'Try it:',
    ...httpTries,
    ...ws.tryIt,
  ];
}

const lines = [
  ...('notes' in server ? assemblyLines(server) : sampleLines(server)),
  '',
  `Ctrl-C stops it (from another shell: kill ${process.pid}).`,
];
console.log(lines.join('\n'));

let stopping = false;
const stop = async (why: string) => {
  if (stopping) return;
  stopping = true;
  console.log(`\n${why}: stopping`);
  await server.stop();
  process.exit(0);
};
process.on('SIGINT', () => void stop('SIGINT'));
process.on('SIGTERM', () => void stop('SIGTERM'));

// npm runs a script through a shell and forwards SIGTERM only to that shell, which dies without passing it
// on: `kill <pid of npm>` would leave this server orphaned and holding the port. So when npm started us,
// the parent's exit stops the server too.
if (process.env.npm_lifecycle_event !== undefined) {
  const parent = process.ppid;
  setInterval(() => {
    if (process.ppid !== parent) void stop('npm exited');
  }, 250).unref();
}
