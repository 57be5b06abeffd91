import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nearest } from '../../infra/construct/nearest.js';
import { checkArgs, UsageError } from '../../infra/local/cli-args.js';
import { createLocalIssuer, LOCAL_APP_ROLE, LOCAL_TENANT_ID } from '../../infra/local/issuer.js';
import { createSigningKey, entraAccessTokenClaims, signJwt } from '../../infra/local/mint.js';
import { DEFAULT_PORT, localPort, PortError, portPrefix } from '../../infra/local/port.js';
import { graphAudienceSet, isGraphAudience, microsoftApiOf } from '../../lambda/authorizer/microsoft-apis.js';
import { KeyServer } from '../helpers/key-server.js';

// Every command here runs as a person runs it: through npm, with pipes where a person would pipe.

const ROOT = new URL('../../', import.meta.url).pathname;
const TENANT = '00000000-0000-4000-8000-0000000000aa';
const API = '00000000-0000-4000-8000-0000000000bb';
const JWT = /^[\w-]+\.[\w-]+\.[\w-]+$/;
const STACK_FRAME = /^\s+at /m;
const HAVE_CURL = spawnSync('curl', ['--version']).status === 0;

/** The environment of a fresh terminal: none of the AZURE_* or PORT settings of whoever runs the tests. */
function terminalEnv(extra: Record<string, string> = {}): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (v !== undefined && !k.startsWith('AZURE_') && k !== 'PORT') env[k] = v;
  }
  return { ...env, ...extra };
}

interface Finished {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

function finish(child: ChildProcess): Promise<Finished> {
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (c) => {
    stdout += c;
  });
  child.stderr?.on('data', (c) => {
    stderr += c;
  });
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** `npm <args>` in the repository, with `input` (a string, or a stream such as another child's stdout) on stdin. */
function npm(args: string[], env: Record<string, string> = {}, input?: string | Readable): Promise<Finished> {
  const child = spawn('npm', args, {
    cwd: ROOT,
    env: terminalEnv(env),
    stdio: [typeof input === 'object' ? input : input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
  });
  if (typeof input === 'string') child.stdin?.end(input);
  return finish(child);
}

/** A shell line, as typed at a prompt (pipes, `$(...)`, comments). */
const sh = (line: string, env: Record<string, string> = {}) =>
  finish(spawn('sh', ['-c', line], { cwd: ROOT, env: terminalEnv(env), stdio: ['ignore', 'pipe', 'pipe'] }));

const literally = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
const lastLine = (text: string) => text.trim().split('\n').at(-1) as string;
const claimsOf = (jwt: string) =>
  JSON.parse(Buffer.from(jwt.split('.')[1] as string, 'base64url').toString('utf8')) as Record<
    string,
    unknown
  >;

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  const { port } = server.address() as AddressInfo;
  await new Promise((done) => server.close(done));
  return port;
}

/** Alive and not a zombie: a process nobody reaps still answers kill(pid, 0). */
function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  const stat = `/proc/${pid}/stat`;
  return !existsSync(stat) || !/^\d+ \(.*\) [ZX]/.test(readFileSync(stat, 'utf8'));
}

async function until(condition: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
}

async function refused(url: string): Promise<boolean> {
  try {
    await fetch(url, { signal: AbortSignal.timeout(1000) });
    return false;
  } catch {
    return true;
  }
}

/**
 * README's Quick start, read from the README: the commands of its shell blocks, and the lines a newcomer
 * types in the other terminal while npm start runs (those that call curl or npm run).
 */
function quickStart(): { commands: string[]; lines: string[] } {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const section = /^## Quick start\n([\s\S]*?)^## /m.exec(readme)?.[1] ?? '';
  const typed = [...section.matchAll(/^```sh\n([\s\S]*?)^```$/gm)].flatMap(([, block]) =>
    (block as string).split('\n').filter((l) => l.trim() !== ''),
  );
  return {
    commands: typed.map((l) => l.replace(/ +#.*$/, '').trim()),
    lines: typed.filter((l) => /^(curl|npm run) /.test(l)),
  };
}

/** Exactly one line on stderr, and no stack trace anywhere. */
/** A cloud assembly folder of its own: concurrent synths in one folder wait on each other's lock. */
const synthOut = () => mkdtempSync(join(tmpdir(), 'synth-'));

function expectOneLine(run: Finished, line: RegExp) {
  expect(run.stdout + run.stderr).not.toMatch(STACK_FRAME);
  expect(run.stderr.trim().split('\n')[0]).toMatch(line);
}

describe('npm start, and the commands against it', () => {
  let start: ChildProcess;
  let out = '';
  let port = 0;
  let url = '';
  let serverPid = 0;

  beforeAll(async () => {
    // PORT=0: a free port, so the banner must carry PORT=<port> for its own lines to work.
    start = spawn('npm', ['start'], {
      cwd: ROOT,
      env: terminalEnv({ PORT: '0', POWERTOOLS_LOG_LEVEL: 'INFO' }),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    start.stdout?.on('data', (c) => {
      out += c;
    });
    start.stderr?.on('data', (c) => {
      out += c;
    });
    await until(() => /Ctrl-C stops it.*\n/.test(out) || start.exitCode !== null, 30_000);
    expect(out).toMatch(/Ctrl-C stops it/);
    url = /local API on (http:\/\/127\.0\.0\.1:\d+)/.exec(out)?.[1] as string;
    port = Number(new URL(url).port);
    serverPid = Number(/kill (\d+)\)/.exec(out)?.[1]);
  });
  afterAll(() => {
    if (start.exitCode === null) start.kill('SIGTERM');
  });

  it('prints the banner once the server is ready: after the first key fetch, naming the pid that stops it', () => {
    const fetched = out.indexOf('"message":"signing keys fetched"');
    expect(fetched).toBeGreaterThan(-1);
    expect(out.indexOf('entra-authorizer local API on')).toBeGreaterThan(fetched);
    expect(out).toContain(`Ctrl-C stops it (from another shell: kill ${serverPid}).`);
    expect(isRunning(serverPid)).toBe(true);
  });

  it.skipIf(!HAVE_CURL)(
    "runs its banner's lines as printed, on a port other than 3000, with the status each promises",
    async () => {
      const tryIt = out.split('\n').filter((l) => l.startsWith('  curl '));
      expect(tryIt).toHaveLength(3);
      for (const line of tryIt.filter((l) => l.includes('npm run'))) {
        expect(line).toContain(`$(PORT=${port} npm run -s token`);
      }
      const results = await Promise.all(tryIt.map((line) => sh(line)));
      for (const [i, line] of tryIt.entries()) {
        const promised = /# (\d{3})/.exec(line)?.[1];
        expect(promised, line).toBeDefined();
        expect(results[i]?.stdout.split('\r\n')[0], line).toMatch(new RegExp(`^HTTP/1\\.1 ${promised} `));
      }
      // The 200 shows the caller; the 403 is for the app-only token, which the line says carries a role.
      expect(results[0]?.stdout).toContain('"preferredUsername":"alice@contoso.example"');
      expect(tryIt[2]).toContain(`# 403: app-only, roles ${LOCAL_APP_ROLE}, no scope access_as_user`);
      expect(results[2]?.stdout).toMatch(/www-authenticate: Bearer .*error="insufficient_scope"/i);
    },
  );

  it.skipIf(!HAVE_CURL)(
    "runs README's Quick start lines as a newcomer does, with the status each promises (its port as the banner gives it)",
    async () => {
      const { commands, lines } = quickStart();
      // The server this suite started is the Quick start's own; its tests are the one other command.
      expect(commands).toContain('npm start');
      expect(commands).toContain('npm test');
      expect(lines.length).toBeGreaterThanOrEqual(3);
      // On any port but 3000, npm run token and explain need the PORT the banner's lines carry.
      const here = (line: string) =>
        line.replaceAll('http://127.0.0.1:3000', url).replaceAll('npm run ', `PORT=${port} npm run `);
      const results = await Promise.all(lines.map((line) => sh(here(line))));
      for (const [i, line] of lines.entries()) {
        const result = results[i] as Finished;
        const comment = line.slice(line.indexOf(' # ') + 3);
        expect(line, 'each line says what it shows').toContain(' # ');
        if (line.startsWith('curl ')) {
          const promised = /^(\d{3})/.exec(comment)?.[1];
          expect(promised, line).toBeDefined();
          expect(result.stdout.split('\r\n')[0], line).toMatch(new RegExp(`^HTTP/1\\.1 ${promised} `));
          if (comment.includes('WWW-Authenticate'))
            expect(result.stdout, line).toMatch(/^www-authenticate: Bearer /im);
        } else {
          expect(comment, line).toMatch(/^Allow \(200\)/);
          expect(result.stdout, line).toMatch(/Decision\n {2}Allow \(200\)/);
          expect(result.code, line).toBe(0);
        }
        expect(result.stdout + result.stderr, line).not.toMatch(STACK_FRAME);
      }
    },
  );

  it("pipes npm run token into npm run explain, which checks it against npm start's key set and says so", async () => {
    const line = out.split('\n').find((l) => l.includes('| PORT=')) as string;
    expect(line.trim()).toMatch(
      new RegExp(`^PORT=${port} npm run -s token \\| PORT=${port} npm run -s explain +# why a token`),
    );
    const env = `PORT=${port} `;
    const [run, app] = await Promise.all([
      sh(line),
      sh(`${env}npm run -s token -- --app | ${env}npm run -s explain`),
    ]);
    expect(run.stderr).toBe('');
    expect(run.stdout).toContain(
      `note: a token of the local issuer (tenant ${LOCAL_TENANT_ID}, from npm run token): checking it against the key set of npm start on port ${port}, ${url}/login/${LOCAL_TENANT_ID}/discovery/v2.0/keys`,
    );
    expect(run.stdout).toMatch(/Signature\n {2}verified: RS256 signature verified/);
    expect(run.stdout).toMatch(/Decision\n {2}Allow \(200\)/);
    expect(run.code).toBe(0);
    // Judged as npm start judges it: the app-only token is valid, and refused for want of the scope.
    expect(app.stdout).toContain(
      'note: assuming AZURE_ROUTE_PERMISSIONS={"GET /whoami":{"scopes":["access_as_user"]}} (the routes npm start serves)',
    );
    expect(app.stdout).toMatch(/Signature\n {2}verified: /);
    expect(app.stdout).toMatch(/Decision\n {2}Deny \(403\), reason insufficient_permission/);
    expect(app.code).toBe(1);
  });

  it("npm run token -- --tenant <guid>: a token of another tenant that explain, knowing the local key, judges in npm start's tenant (401)", async () => {
    const other = '0e0e0e0e-1111-4222-8333-444444444444';
    const env = `PORT=${port} `;
    const [viaServer, viaExplain] = await Promise.all([
      sh(`${env}npm run -s token -- --tenant ${other} | tail -n 1`).then((t) =>
        fetch(`${url}/whoami`, { headers: { authorization: `Bearer ${t.stdout.trim()}` } }),
      ),
      sh(`${env}npm run -s token -- --tenant ${other} | ${env}npm run -s explain`),
    ]);
    expect(viaServer.status).toBe(401);
    expect(viaExplain.stdout).toContain(
      `note: assuming AZURE_TENANT_ID=${LOCAL_TENANT_ID} (npm start's tenant)`,
    );
    expect(viaExplain.stdout).toMatch(/Signature\n {2}verified: RS256 signature verified/);
    expect(viaExplain.stdout).toMatch(/Decision\n {2}Unauthorized \(401\), reason tenant_not_allowed/);
    expect(viaExplain.code).toBe(1);
  });

  it('explains a token that arrives on stdin well after it started (a slow pipe)', async () => {
    const token = lastLine((await npm(['run', '-s', 'token'], { PORT: String(port) })).stdout);
    const writer = spawn(
      process.execPath,
      ['-e', 'setTimeout(() => process.stdout.write(process.argv[1] + "\\n"), 2000)', token],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    const run = await npm(['run', '-s', 'explain'], { PORT: String(port) }, writer.stdout as Readable);
    expect(run.stderr).toBe('');
    expect(run.stdout).toMatch(/Decision\n {2}Allow \(200\)/);
    expect(run.code).toBe(0);
  });

  it('--app: an app-only token whose summary states its roles, and GET /whoami answers it 403', async () => {
    const run = await npm(['run', '-s', 'token', '--', '--app'], { PORT: String(port) });
    expect(run.code).toBe(0);
    const lines = run.stdout.trim().split('\n');
    expect(lines[0]).toBe(
      `# app-only token (client credentials): roles ${LOCAL_APP_ROLE}, no scp. GET /whoami needs the scope access_as_user, so it answers 403`,
    );
    const token = lines.at(-1) as string;
    expect(token).toMatch(JWT);
    expect(claimsOf(token)).toMatchObject({ roles: [LOCAL_APP_ROLE], idtyp: 'app' });
    expect(claimsOf(token).scp).toBeUndefined();
    const res = await fetch(`${url}/whoami`, { headers: { authorization: `Bearer ${token}` } });
    expect(res.status).toBe(403);
    // A reader that stops after the summary closes the pipe early: no EPIPE trace.
    const head = await sh(`PORT=${port} npm run -s token -- --app | head -n 1`);
    expect(head.stdout).toBe(`${lines[0]}\n`);
    expect(head.stderr).toBe('');
  });

  it('--expires-in -600, with a space as with =, gives an expired token that is a 401', async () => {
    const [spaced, joined] = await Promise.all([
      npm(['run', '-s', 'token', '--', '--expires-in', '-600'], { PORT: String(port) }),
      npm(['run', '-s', 'token', '--', '--expires-in=-600'], { PORT: String(port) }),
    ]);
    for (const run of [spaced, joined]) {
      expect(run.stderr).toBe('');
      const token = lastLine(run.stdout);
      expect(claimsOf(token).exp).toBeLessThan(Date.now() / 1000 - 500);
      const res = await fetch(`${url}/whoami`, { headers: { authorization: `Bearer ${token}` } });
      expect(res.status).toBe(401);
    }
  });

  it('explains a local token against a saved key set served elsewhere, with --jwks-uri', async () => {
    const saved = await (await fetch(`${url}/login/${LOCAL_TENANT_ID}/discovery/v2.0/keys`)).text();
    const token = lastLine((await npm(['run', '-s', 'token'], { PORT: String(port) })).stdout);
    const files: Server = createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' }).end(saved);
    });
    await new Promise<void>((done) => files.listen(0, '127.0.0.1', done));
    const keysUrl = `http://127.0.0.1:${(files.address() as AddressInfo).port}/keys.json`;
    try {
      // PORT points where no npm start runs: the saved set is the only way to the keys.
      const run = await npm(['run', '-s', 'explain', '--', '--jwks-uri', keysUrl, token], {
        PORT: String(await freePort()),
      });
      expect(run.stdout).not.toContain('local issuer');
      expect(run.stdout).toContain(
        'note: assuming AZURE_ROUTE_PERMISSIONS={"GET /whoami":{"scopes":["access_as_user"]}} (the routes npm start serves)',
      );
      expect(run.stdout).toContain(
        `verified: RS256 signature verified with key ${claimsKid(token)} from ${keysUrl}`,
      );
      expect(run.code).toBe(0);
    } finally {
      await new Promise((done) => files.close(done));
    }
  });

  it('refuses a busy port with one line that names it and suggests another PORT', async () => {
    const run = await npm(['start'], { PORT: String(port) });
    expect(run.code).toBe(1);
    expectOneLine(
      run,
      new RegExp(
        `^npm start: port ${port} on 127\\.0\\.0\\.1 is already in use \\(another npm start\\?\\)\\. Stop that, or run: PORT=\\d+ npm start$`,
      ),
    );
    const other = Number(/PORT=(\d+) npm start$/.exec(run.stderr.trim())?.[1]);
    expect(other).not.toBe(port);
  });

  it('stops, releasing its port, when the npm process is killed (SIGTERM)', async () => {
    const exited = new Promise((done) => start.once('exit', done));
    start.kill('SIGTERM');
    await exited;
    await expect.poll(() => refused(`${url}/whoami`), { timeout: 10_000, interval: 200 }).toBe(true);
    await expect.poll(() => isRunning(serverPid), { timeout: 10_000, interval: 200 }).toBe(false);
  });
});

function claimsKid(jwt: string): string {
  return JSON.parse(Buffer.from(jwt.split('.')[0] as string, 'base64url').toString('utf8')).kid;
}

describe.concurrent('the commands, used wrongly', () => {
  it('npm start: a bad PORT is one line and exit 2', async () => {
    const run = await npm(['start'], { PORT: 'abc' });
    expect(run.code).toBe(2);
    expectOneLine(
      run,
      /^npm start: PORT must be a port number from 1 to 65535 \(or 0 for any free port\); got "abc"\. Run, for example: PORT=3001 npm start$/,
    );
  });

  it('cdk synth: a malformed -c value is one line naming the key, with a placeholder example, exit 1', async () => {
    const run = await finish(
      spawn(
        'npx',
        ['cdk', 'synth', '--quiet', '-o', synthOut(), '-c', 'tenantId=contoso', '-c', `clientId=${API}`],
        {
          cwd: ROOT,
          env: terminalEnv(),
          stdio: ['ignore', 'pipe', 'pipe'],
        },
      ),
    );
    expect(run.code).toBe(1);
    expectOneLine(
      run,
      /^context key tenantId must be a tenant GUID, "organizations" or "common"; got "contoso": pass it to cdk \(synth, deploy or destroy\) as: -c tenantId=00000000-0000-0000-0000-000000000000$/,
    );
    // cdk synth runs the app through tsx: about 30 s alone, several times that on a loaded machine.
  }, 180_000);

  it('npm run token: a misspelt flag prints the nearest flag and the usage, exit 2', async () => {
    const run = await npm(['run', '-s', 'token', '--', '--scope', 'x']);
    expect(run.code).toBe(2);
    expectOneLine(run, /^npm run token: unknown flag --scope \(did you mean --scopes\?\)$/);
    expect(run.stderr).toContain('npm run token -- [--scopes a,b]');
  });

  it('npm run token: a bad value is one line, exit 2', async () => {
    const run = await npm(['run', '-s', 'token', '--', '--expires-in', 'soon']);
    expect(run.code).toBe(2);
    expectOneLine(
      run,
      /^npm run token: --expires-in: expected whole seconds from -86400 to 86400; got "soon"$/,
    );
  });

  it('npm run token: a group that is not a GUID, or --groups with --overage, is one line, exit 2', async () => {
    const [name, both] = await Promise.all([
      npm(['run', '-s', 'token', '--', '--groups', 'Readers']),
      npm(['run', '-s', 'token', '--', '--groups', 'aaaaaaaa-1111-4222-8333-444444444444', '--overage']),
    ]);
    expect([name.code, both.code]).toEqual([2, 2]);
    expectOneLine(name, /^npm run token: --groups: expected group object id GUIDs; got "Readers"$/);
    expectOneLine(both, /^npm run token: --groups and --overage: an overage token carries no groups claim$/);
  });

  it('npm run token: without npm start on PORT, one line saying to start it with that PORT, exit 1', async () => {
    const free = await freePort();
    const run = await npm(['run', '-s', 'token'], { PORT: String(free) });
    expect(run.code).toBe(1);
    expectOneLine(
      run,
      new RegExp(
        `^npm run token: no local issuer on 127\\.0\\.0\\.1:${free}: run \`PORT=${free} npm start\` first`,
      ),
    );
  });

  it("npm run token: another app's issuer on PORT (npm start -- --app <cdk.out>) mints for that app, saying what on stderr", async () => {
    // The issuer of another app's start, for its own API's client id and required scope.
    const issuer = createLocalIssuer({
      key: { ...createSigningKey(), x5c: '' },
      baseUrl: 'http://127.0.0.1',
      clientId: '8a7b6c5d-4e3f-4a1b-9c8d-7e6f5a4b3c2d',
      defaultScopes: ['Orders.Read'],
      anyTenant: true,
    });
    const other = createServer((req, res) => {
      void issuer(req, res).then((answered) => answered || res.writeHead(404).end());
    });
    await new Promise<void>((done) => other.listen(0, '127.0.0.1', done));
    const busy = (other.address() as AddressInfo).port;
    try {
      const run = await npm(['run', '-s', 'token'], { PORT: String(busy) });
      expect(run.code).toBe(0);
      expect(claimsOf(lastLine(run.stdout))).toMatchObject({
        aud: '8a7b6c5d-4e3f-4a1b-9c8d-7e6f5a4b3c2d',
        scp: 'Orders.Read',
      });
      expect(run.stderr.trim()).toBe(
        "npm run token: minted a delegated token with scopes Orders.Read (every one of your authorizer's required scopes; --scopes picks others)",
      );
    } finally {
      await new Promise<void>((done) => other.close(() => done()));
    }
  });

  it('npm run explain: a misspelt flag prints the nearest flag, exit 2', async () => {
    const run = await npm(['run', '-s', 'explain', '--', '--tenant-id', TENANT, 'a.b.c']);
    expect(run.code).toBe(2);
    expectOneLine(run, /^npm run explain: unknown flag --tenant-id \(did you mean --tenant\?\)$/);
  });

  it('npm run explain: an --at that is no ISO time nor epoch seconds is one line, exit 2', async () => {
    const runs = await Promise.all(
      ['-5', '2016', 'foo 2020'].map((at) =>
        npm([
          'run',
          '-s',
          'explain',
          '--',
          '--tenant',
          TENANT,
          '--audience',
          'api://x',
          '--at',
          at,
          'eyJhbGciOiJSUzI1NiJ9.eyJ4IjoxfQ.c2ln',
        ]),
      ),
    );
    for (const run of runs) {
      expect(run.code).toBe(2);
      expectOneLine(run, /^npm run explain: --at: expected an ISO time such as .* or epoch seconds/);
    }
  });

  it('npm run explain: something that is not a JWT is reported as such, whatever AZURE_* says', async () => {
    const expected =
      /^Not a JWT: JWT does not have exactly three non-empty parts\. The authorizer answers 401 \(malformed\), whatever its configuration\./;
    const [bare, misconfigured] = await Promise.all([
      npm(['run', '-s', 'explain', '--', 'hello']),
      npm(['run', '-s', 'explain', '--', 'hello'], { AZURE_TENANT_ID: 'contoso', AZURE_AUDIENCES: '' }),
    ]);
    for (const run of [bare, misconfigured]) {
      expect(run.stdout).toMatch(expected);
      expect(run.stderr).toBe('');
      expect(run.code).toBe(1);
    }
  });

  it('npm run explain: a local token without npm start on PORT says how to get its keys (npm start or --jwks-uri)', async () => {
    const key = createSigningKey();
    const token = signJwt(
      { typ: 'JWT', alg: 'RS256', kid: key.kid },
      entraAccessTokenClaims({ tenantId: LOCAL_TENANT_ID, audience: API }),
      key.privateKey,
    );
    const free = await freePort();
    const [run, configured] = await Promise.all([
      npm(['run', '-s', 'explain'], { PORT: String(free) }, `${token}\n`),
      // An AZURE_TENANT_ID exported for your own API: the note says this is not npm start's judgement.
      npm(['run', '-s', 'explain'], { PORT: String(free), AZURE_TENANT_ID: TENANT }, `${token}\n`),
    ]);
    expect(run.stdout).not.toContain('not as npm start judges it');
    expect(configured.stdout).toContain(
      `note: a token of the local issuer (from npm run token), judged here with AZURE_TENANT_ID=${TENANT} from your environment or flags, not as npm start judges it`,
    );
    const missing = `a token of the local issuer (tenant ${LOCAL_TENANT_ID}, from npm run token), whose keys only npm start serves, and it is not running on port ${free}: start it with \`PORT=${free} npm start\` (npm run token and explain read the same PORT), or pass --jwks-uri <URL of a saved copy of its key set>`;
    expect(run.stdout).toContain(`note: ${missing}`);
    expect(run.stdout.trim()).toMatch(new RegExp(`Hint\\n {2}${literally(missing)}$`));
    expect(run.code).toBe(1);
  });
});

describe.concurrent("npm run explain and Microsoft's own API tokens", () => {
  const key = createSigningKey({ kid: 'graph-test-key' });
  const keys = KeyServer.forSuite(() => ({ keys: [key.publicJwk] }));
  /** A correctly signed token from a real-looking tenant, for `aud`, with extra header parameters. */
  const tokenFor = (aud: string, header: Record<string, unknown> = {}) =>
    signJwt(
      { typ: 'JWT', alg: 'RS256', kid: key.kid, ...header },
      entraAccessTokenClaims({ tenantId: TENANT, audience: aud, scopes: ['User.Read'] }),
      key.privateKey,
    );

  it('knows every Graph audience the authorizer knows, whatever its case or trailing slash', () => {
    for (const aud of graphAudienceSet()) {
      for (const variant of [aud, aud.toUpperCase(), `${aud.replace(/\/$/, '')}/`]) {
        expect(isGraphAudience(variant), variant).toBe(true);
        expect(microsoftApiOf(variant), variant).toMatch(/^(Microsoft Graph|Azure AD Graph \(retired\))$/);
      }
    }
    for (const own of [
      API,
      `api://${API}`,
      'https://contoso.onmicrosoft.com/api',
      'https://api.contoso.com',
    ]) {
      expect(microsoftApiOf(own), own).toBeUndefined();
    }
  });

  // Correctly signed, from a tenant the configuration (when there is one) accepts: only the kind of token is wrong.
  const configured = ['--audience', API, '--tenant', TENANT];
  const graphCases = [
    { name: 'Microsoft Graph', aud: 'https://graph.microsoft.com', header: { nonce: 'n0nce' }, flags: [] },
    { name: 'Microsoft Graph', aud: '00000003-0000-0000-c000-000000000000', header: {}, flags: configured },
    { name: 'Azure AD Graph (retired)', aud: 'https://graph.windows.net', header: {}, flags: configured },
    { name: 'Azure AD Graph (retired)', aud: '00000002-0000-0000-c000-000000000000', header: {}, flags: [] },
  ];
  for (const c of graphCases) {
    const how = c.flags.length > 0 ? 'configured for an API' : 'unconfigured';
    it(`names a token for ${c.name} (aud ${c.aud}), ${how}, and does not judge it Allow`, async () => {
      const run = await npm(
        ['run', '-s', 'explain', '--', '--jwks-uri', keys.url, ...c.flags],
        {},
        tokenFor(c.aud, c.header),
      );
      expect(run.stdout).toMatch(
        new RegExp(`^note: this token is for ${literally(c.name)} \\(aud ${literally(c.aud)}\\)`, 'm'),
      );
      expect(run.stdout).toMatch(/verified: RS256 signature verified/);
      expect(run.stdout).toMatch(/Decision\n {2}Unauthorized \(401\), reason graph_token/);
      expect(run.stdout).not.toContain('Allow');
      expect(run.stdout).not.toContain("(the token's own audience)");
      expect(run.code).toBe(1);
    });
  }

  it("waits for a key set past the Lambda's 2 s: someone runs explain by hand over whatever network", async () => {
    keys.mode = 'slow';
    try {
      const run = await npm(
        ['run', '-s', 'explain', '--', '--jwks-uri', keys.url, ...configured],
        {},
        tokenFor(API),
      );
      expect(run.stdout).toMatch(/verified: RS256 signature verified/);
    } finally {
      keys.mode = 'ok';
    }
  });

  it('refuses a Graph audience in the configuration with one line, exit 2', async () => {
    const token = tokenFor('https://graph.microsoft.com');
    const run = await npm(
      ['run', '-s', 'explain', '--', '--jwks-uri', keys.url],
      { AZURE_AUDIENCES: `${API},https://graph.microsoft.com` },
      token,
    );
    expect(run.code).toBe(2);
    expectOneLine(
      run,
      /^npm run explain: configuration: AZURE_AUDIENCES: expected your API's client id or App ID URI; https:\/\/graph\.microsoft\.com is the audience of Microsoft Graph, whose tokens are never for your API/,
    );
    expect(run.stdout).toBe('');
  });

  it('does not take an Azure Resource Manager audience (az without --scope) as the API, and reads az JSON', async () => {
    const token = tokenFor('https://management.core.windows.net/');
    const az = JSON.stringify({
      accessToken: token,
      expiresOn: '2030-01-01 00:00:00.000000',
      tokenType: 'Bearer',
    });
    const run = await npm(['run', '-s', 'explain', '--', '--jwks-uri', keys.url], {}, az);
    expect(run.stdout).toContain('note: read the accessToken field of the JSON given');
    expect(run.stdout).toContain(
      "note: not assuming the token's own audience https://management.core.windows.net/: it belongs to Azure Resource Manager, not to your API (what az account get-access-token gives without --scope)",
    );
    expect(run.stdout).toMatch(/Decision\n {2}Unauthorized \(401\), reason wrong_audience/);
    expect(run.code).toBe(1);
  });
});

describe('the pieces behind the commands (in process)', () => {
  it('reads PORT as a port number in digits, unset or empty meaning 3000', () => {
    expect(localPort({})).toBe(DEFAULT_PORT);
    expect(localPort({ PORT: '' })).toBe(DEFAULT_PORT);
    expect(localPort({ PORT: ' 4000 ' })).toBe(4000);
    expect(localPort({ PORT: '0' })).toBe(0);
    expect(localPort({ PORT: '65535' })).toBe(65535);
    for (const bad of ['abc', '65536', '70000', '-1', '3e3', '0x10', '1.5', '30 00']) {
      expect(() => localPort({ PORT: bad }), bad).toThrow(PortError);
    }
    expect(portPrefix(DEFAULT_PORT)).toBe('');
    expect(portPrefix(4000)).toBe('PORT=4000 ');
  });

  const options = {
    scopes: { type: 'string' },
    'expires-in': { type: 'string' },
    app: { type: 'boolean' },
    help: { type: 'boolean', short: 'h' },
  } as const;
  const mistake = (args: string[], positionals = false) => {
    try {
      checkArgs(args, options, { positionals });
    } catch (err) {
      expect(err).toBeInstanceOf(UsageError);
      return (err as Error).message;
    }
    throw new Error(`no UsageError for ${args.join(' ')}`);
  };

  it('names the nearest flag for a misspelt one, and none for a made-up one', () => {
    expect(mistake(['--scope', 'x'])).toBe('unknown flag --scope (did you mean --scopes?)');
    expect(mistake(['--expires', '5'])).toBe('unknown flag --expires (did you mean --expires-in?)');
    expect(mistake(['--expiresin=5'])).toBe('unknown flag --expiresin (did you mean --expires-in?)');
    expect(mistake(['-scopes', 'x'])).toBe('unknown flag -scopes (did you mean --scopes?)');
    expect(mistake(['--frobnicate'])).toBe('unknown flag --frobnicate');
  });

  it('names the closest of several flags a misspelt one begins, whatever their order', () => {
    for (const known of [
      ['routes', 'route'],
      ['route', 'routes'],
    ]) {
      expect(nearest('rout', known)).toBe('route');
      expect(nearest('routess', known)).toBe('routes');
    }
  });

  it('joins a negative number to its flag, and names the = form for other values that start with -', () => {
    expect(checkArgs(['--expires-in', '-600', '--app'], options)).toEqual(['--expires-in=-600', '--app']);
    expect(checkArgs(['--expires-in=-600', '-h'], options)).toEqual(['--expires-in=-600', '--help']);
    expect(mistake(['--scopes', '--app'])).toBe(
      '--scopes needs a value (one that starts with "-" is written --scopes=--app)',
    );
    expect(mistake(['--scopes'])).toBe('--scopes needs a value');
    expect(mistake(['--app=yes'])).toBe('--app takes no value; got --app=yes');
    expect(mistake(['stray'])).toBe('unexpected argument "stray": this command takes only flags');
    expect(checkArgs(['a.b.c', '--app'], options, { positionals: true })).toEqual(['a.b.c', '--app']);
  });
});
