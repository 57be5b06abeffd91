import { describeRule, SAMPLE_ROUTES } from '../routes.js';
import { LOCAL_APP_ROLE, LOCAL_SCOPE } from './issuer.js';
import { DEFAULT_PORT, freePortNear, localPort, PortError, portPrefix } from './port.js';
import { type LocalServer, startLocalServer } from './server.js';

// npm start: the sample API and a local Entra-shaped issuer on 127.0.0.1, no AWS account, no tenant.

function fail(line: string, code: number): never {
  console.error(`npm start: ${line}`);
  process.exit(code);
}

let port: number;
try {
  port = localPort();
} catch (err) {
  if (!(err instanceof PortError)) throw err;
  fail(`${err.message}. Run, for example: PORT=${DEFAULT_PORT + 1} npm start`, 2);
}

let server: LocalServer;
try {
  server = await startLocalServer({ port });
} catch (err) {
  const code = (err as NodeJS.ErrnoException).code;
  if (code === 'EADDRINUSE') {
    const other = (await freePortNear(port)) ?? '<other>';
    fail(
      `port ${port} on 127.0.0.1 is already in use (another npm start?). Stop that, or run: PORT=${other} npm start`,
      1,
    );
  }
  if (code === 'EACCES') {
    fail(
      `not allowed to listen on port ${port} of 127.0.0.1 (ports below 1024 need privileges). Run, for example: PORT=${DEFAULT_PORT} npm start`,
      1,
    );
  }
  if (code === 'EADDRNOTAVAIL') fail(`cannot listen on 127.0.0.1:${port}: no loopback address 127.0.0.1`, 1);
  throw err;
}

// The curl lines call `npm run token`, which finds the issuer through the same PORT rule.
const env = portPrefix(server.port);
const lines = [
  `entra-authorizer local API on ${server.url}`,
  '',
  `  issuer (Entra-shaped)  ${server.issuerUrl}/.well-known/openid-configuration`,
  `  token endpoint         ${server.tokenEndpoint}`,
  ...SAMPLE_ROUTES.map(
    (r) => `  ${r.method.padEnd(6)} ${server.url}${r.path}   (needs ${describeRule(r.permission)})`,
  ),
  '',
  'Try it:',
  `  curl -i -H "Authorization: Bearer $(${env}npm run -s token | tail -n 1)" ${server.url}/whoami   # 200, your claims`,
  `  curl -i ${server.url}/whoami   # 401`,
  `  curl -i -H "Authorization: Bearer $(${env}npm run -s token -- --app | tail -n 1)" ${server.url}/whoami   # 403: app-only, roles ${LOCAL_APP_ROLE}, no scope ${LOCAL_SCOPE}`,
  `  ${env}npm run -s token | ${env}npm run -s explain   # why a token is accepted or refused`,
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
