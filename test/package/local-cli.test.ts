import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type PackResult, run, userEnv } from './consumer-app.js';
import { packFromCopy, writeConsumerManifest } from './consumer-manifest.js';

/**
 * Your own API, locally, as a user gets it: a fresh CommonJS CDK app installs the tarball (with aws-cdk-lib,
 * constructs, the CDK CLI and esbuild, nothing of this repository), declares its own RestApi and its own
 * NodejsFunction backend, runs `cdk synth`, then `npx entra-authorizer start` in the background, and calls
 * its routes with tokens from `npx entra-authorizer token`.
 */

const TENANT = '3d3b8c1e-6a5f-4b8e-9c2d-1f0e2d3c4b5a';
/** A client app other than the one the local issuer's tokens name. */
const OTHER_APP = '11111111-2222-4333-8444-555555555555';
const CLIENT = '8a7b6c5d-4e3f-4a1b-9c8d-7e6f5a4b3c2d';
const ROUTES = {
  'GET /orders': { scopes: ['Orders.Read'] },
  'POST /orders': { roles: ['Orders.Write'] },
  'GET /orders/{id}': { scopes: ['Orders.Read'] },
};

/** The user's app: their API with three routes (a scope, a role, a path parameter) and their backend. */
const APP = `const { App, Stack } = require('aws-cdk-lib');
const { LambdaIntegration, RestApi } = require('aws-cdk-lib/aws-apigateway');
const { Runtime } = require('aws-cdk-lib/aws-lambda');
const { NodejsFunction } = require('aws-cdk-lib/aws-lambda-nodejs');
const { EntraTokenAuthorizer } = require('entra-authorizer');

const app = new App();
const stack = new Stack(app, 'OrdersStack');
const entra = new EntraTokenAuthorizer(stack, 'Entra', {
  tenantId: '${TENANT}',
  clientId: '${CLIENT}',
  routePermissions: ${JSON.stringify(ROUTES)},
});
const api = new RestApi(stack, 'OrdersApi', { defaultMethodOptions: { authorizer: entra.authorizer } });
entra.addGatewayResponses(api);
const backend = new NodejsFunction(stack, 'Orders', { entry: 'backend.js', runtime: Runtime.NODEJS_22_X });
const orders = api.root.addResource('orders');
orders.addMethod('GET', new LambdaIntegration(backend));
orders.addMethod('POST', new LambdaIntegration(backend));
orders.addResource('{id}').addMethod('GET', new LambdaIntegration(backend));

// With -c failures=yes, a second stack of what fails or cannot be emulated locally.
if (app.node.tryGetContext('failures') === 'yes') {
  const { Duration } = require('aws-cdk-lib');
  const { HttpIntegration } = require('aws-cdk-lib/aws-apigateway');
  const { Code, Function } = require('aws-cdk-lib/aws-lambda');
  const failures = new Stack(app, 'FailuresStack');
  const guard = new EntraTokenAuthorizer(failures, 'Entra', {
    tenantId: '${TENANT}',
    clientId: '${CLIENT}',
    requiredScopes: ['Orders.Read'],
  });
  const failing = new RestApi(failures, 'FailuresApi', { defaultMethodOptions: { authorizer: guard.authorizer } });
  const fn = new NodejsFunction(failures, 'Failing', { entry: 'backend.js', runtime: Runtime.NODEJS_22_X });
  failing.root.addResource('broken').addMethod('GET', new LambdaIntegration(fn));
  failing.root.addResource('malformed').addMethod('GET', new LambdaIntegration(fn));
  failing.root.addResource('slow').addMethod('GET', new LambdaIntegration(fn, { timeout: Duration.seconds(1) }));
  const report = new Function(failures, 'Report', {
    runtime: Runtime.PYTHON_3_12,
    handler: 'index.handler',
    code: Code.fromInline('def handler(event, context):\\n    return {"statusCode": 200}'),
  });
  failing.root.addResource('report').addMethod('GET', new LambdaIntegration(report));
  failing.root.addResource('legacy').addMethod('GET', new HttpIntegration('https://example.com/legacy'));
  const { MockIntegration } = require('aws-cdk-lib/aws-apigateway');
  const mock = (body) =>
    new MockIntegration({
      requestTemplates: { 'application/json': '{"statusCode": 200}' },
      integrationResponses: [{ statusCode: '200', responseTemplates: { 'application/json': body } }],
    });
  const count = failing.root.addResource('count');
  count.addMethod('GET', mock('{"orders": 42, "caller": "$context.authorizer.principalId", "id": "$input.params(\\'id\\')"}'), {
    methodResponses: [{ statusCode: '200' }],
  });
  failing.root.addResource('stats').addMethod('GET', mock('#if($context.stage == "prod"){"live": true}#else{"live": false}#end'), {
    methodResponses: [{ statusCode: '200' }],
  });
}
`;

/** The user's backend: reads the caller with entra-authorizer/identity and says what it saw. */
const BACKEND = `const { readIdentity } = require('entra-authorizer/identity');
exports.handler = async (event) => {
  if (event.resource === '/broken') throw new Error('boom');
  if (event.resource === '/malformed') return { statusCode: 'abc' };
  // Past the 1 s integration timeout of GET /slow, within the function's own 3 s.
  if (event.resource === '/slow') await new Promise((done) => setTimeout(done, 2000));
  const caller = readIdentity(event.requestContext.authorizer);
  return {
    statusCode: 200,
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      route: event.httpMethod + ' ' + event.resource,
      id: event.pathParameters ? event.pathParameters.id : null,
      tid: caller.tid,
      scopes: caller.scopes,
      roles: caller.roles,
      appOnly: caller.appOnly,
    }),
  };
};
`;

let work: string;
let app: string;
const servers: ChildProcess[] = [];
let base: string;
let port: number;
let banner = '';
let output: () => string;

/** A user's shell in the app folder, with npm's and npx's own lookups only. */
const env = () => ({ ...userEnv(), CDK_DISABLE_CLI_TELEMETRY: 'true' });
const npx = (args: readonly string[]) => run('npx', ['--no-install', ...args], { cwd: app, env: env() });

function createApp(packed: PackResult): void {
  app = join(work, 'orders');
  mkdirSync(app);
  const tools = ['aws-cdk-lib', 'constructs', 'aws-cdk', 'esbuild'];
  writeConsumerManifest(app, { name: 'orders-app', type: 'commonjs', packed, tools });
  writeFileSync(join(app, 'cdk.json'), JSON.stringify({ app: 'node app.js', versionReporting: false }));
  writeFileSync(join(app, 'app.js'), APP);
  writeFileSync(join(app, 'backend.js'), BACKEND);
}

/**
 * `npx entra-authorizer start --port 0 ...` in the background; resolves with its banner once it listens, and
 * `output()`: all it has printed so far, stdout and stderr.
 */
function startServer(
  ...args: string[]
): Promise<{ process: ChildProcess; banner: string; output: () => string }> {
  const started = spawn('npx', ['--no-install', 'entra-authorizer', 'start', '--port', '0', ...args], {
    cwd: app,
    // The decision lines on, as a user's shell has them (the test runner silences them).
    env: { ...env(), XDG_CACHE_HOME: join(work, 'cache'), POWERTOOLS_LOG_LEVEL: 'INFO' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  servers.push(started);
  let out = '';
  let err = '';
  return new Promise((done, fail) => {
    started.stdout?.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      if (out.includes('Ctrl-C stops it')) done({ process: started, banner: out, output: () => out + err });
    });
    started.stderr?.on('data', (chunk: Buffer) => {
      err += chunk.toString();
    });
    started.once('exit', (code) => fail(new Error(`start exited ${code}:\n${out}\n${err}`)));
  });
}

/** The URL a banner names. */
const urlOf = (text: string) =>
  /entra-authorizer local API on (http:\/\/127\.0\.0\.1:\d+)/.exec(text)?.[1] as string;

/** A command of the package that a person gets wrong: its exit code and what it printed. */
async function mistake(args: readonly string[], cwd = app) {
  try {
    await promisify(execFile)('npx', ['--no-install', 'entra-authorizer', ...args], {
      cwd,
      env: { ...env(), XDG_CACHE_HOME: join(work, 'cache') },
    });
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    return { code: e.code, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  }
  throw new Error(`entra-authorizer ${args.join(' ')} succeeded`);
}

/** `npx entra-authorizer token ...`: the JWT on its last line. */
async function token(...args: string[]): Promise<string> {
  const { stdout } = await npx(['entra-authorizer', 'token', '--port', String(port), ...args]);
  return stdout.trim().split('\n').at(-1) as string;
}

const call = (path: string, jwt?: string, method = 'GET') =>
  fetch(`${base}${path}`, { method, headers: jwt === undefined ? {} : { Authorization: `Bearer ${jwt}` } });

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'entra-local-cli-'));
  createApp(await packFromCopy(work));
  await run('npm', ['ci', '--prefer-offline', '--no-audit', '--no-fund'], { cwd: app, env: env() });
  await npx(['cdk', 'synth', '--quiet', '--no-notices']);
  // The same app with a second stack, of what fails or cannot be emulated: two guarded APIs to pick from.
  await npx(['cdk', 'synth', '--quiet', '--no-notices', '-c', 'failures=yes', '-o', 'failures.out']);
  ({ banner, output } = await startServer());
  base = urlOf(banner);
  port = Number(new URL(base).port);
}, 300_000);

afterAll(async () => {
  for (const server of servers) server.kill('SIGTERM');
  if (work !== undefined) await rm(work, { recursive: true, force: true });
}, 120_000);

describe('npx entra-authorizer start, in a CDK app of its own after cdk synth', () => {
  it('serves the stack and its API, and lists its methods', () => {
    expect(banner).toMatch(
      /entra-authorizer local API on http:\/\/127\.0\.0\.1:\d+: OrdersStack, REST API OrdersApi\w+/,
    );
    for (const line of ['GET    ', 'POST   '])
      expect(banner).toContain(`${line}${base}/orders   (authorizer `);
    expect(banner).toContain(`GET    ${base}/orders/{id}   (authorizer `);
    expect(banner).not.toContain('not as in AWS');
  });

  it("answers a token of the authorizer's own tenant and audience 200, the backend reading the caller", async () => {
    // No flags: the tenant, the audience and the scopes the template's authorizer declares.
    const res = await call('/orders', await token());
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({
      route: 'GET /orders',
      id: null,
      tid: TENANT,
      scopes: ['Orders.Read'],
      roles: [],
      appOnly: false,
    });
  });

  it('passes the path parameter to the backend', async () => {
    const res = await call('/orders/42', await token('--scopes', 'Orders.Read'));
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ route: 'GET /orders/{id}', id: '42', scopes: ['Orders.Read'] });
  });

  it('answers a route that needs a role: 403 to a token without it, 200 to an app-only token with it', async () => {
    const denied = await call('/orders', await token('--scopes', 'Orders.Read'), 'POST');
    expect(denied.status).toBe(403);
    const allowed = await call('/orders', await token('--app-only', '--roles', 'Orders.Write'), 'POST');
    expect(allowed.status).toBe(200);
    expect(await allowed.json()).toMatchObject({
      route: 'POST /orders',
      roles: ['Orders.Write'],
      appOnly: true,
    });
  });

  it("mints an app-only token with the route table's roles by default, and says so on stderr", async () => {
    const { stdout, stderr } = await npx(['entra-authorizer', 'token', '--port', String(port), '--app-only']);
    expect(stderr.trim()).toBe(
      "npx entra-authorizer token: minted an app-only token with roles Orders.Write (every one of your authorizer's route and required roles; --roles picks others)",
    );
    const res = await call('/orders', stdout.trim().split('\n').at(-1), 'POST');
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ roles: ['Orders.Write'], appOnly: true });
  });

  it('answers 401 without a token, and for a token of another tenant or audience', async () => {
    expect((await call('/orders')).status).toBe(401);
    const otherTenant = await token('--tenant', '11111111-2222-4333-8444-555555555555');
    expect((await call('/orders', otherTenant)).status).toBe(401);
    expect((await call('/orders', await token('--audience', 'api://someone-else'))).status).toBe(401);
  });

  it('answers a path the API does not declare 403 Missing Authentication Token', async () => {
    const res = await call('/customers', await token());
    expect(res.status).toBe(403);
    expect(await res.json()).toEqual({ message: 'Missing Authentication Token' });
  });

  it("explains a token with the served authorizer's configuration", async () => {
    const jwt = await token('--scopes', 'Orders.Read');
    const allowed = await npx([
      'entra-authorizer',
      'explain',
      '--port',
      String(port),
      '--route',
      'GET /orders',
      jwt,
    ]);
    expect(allowed.stdout).toMatch(/Decision\n {2}Allow \(200\)/);
    // The hint names what the token may call, not "this route".
    expect(allowed.stdout).toContain(
      'Hint\n  the token is valid and may call GET /orders; the cached policy also admits GET /orders/*\n',
    );
    await expect(
      npx(['entra-authorizer', 'explain', '--port', String(port), '--route', 'POST /orders', jwt]),
    ).rejects.toThrow(/Deny \(403\)/);
  });

  it("explains a route the API does not declare as API Gateway's own 403, not as a grant to ask for", async () => {
    const { code, stdout } = await mistake([
      'explain',
      '--port',
      String(port),
      '--route',
      'GET /order',
      await token(),
    ]);
    expect(code).toBe(1);
    expect(stdout).toContain(
      'Hint\n  API Gateway answers GET /order itself with 403 {"message":"Missing Authentication Token"}, before any authorizer: the API declares no such method (it has GET /orders, POST /orders, GET /orders/{id}); check the method and the path\n',
    );
  });

  it('explains with AZURE_* variables exported in the shell over the template, and says so', async () => {
    const jwt = await token();
    const shell = { ...env(), XDG_CACHE_HOME: join(work, 'cache'), AZURE_ALLOWED_CLIENT_APPS: OTHER_APP };
    const judged = await promisify(execFile)(
      'npx',
      ['--no-install', 'entra-authorizer', 'explain', '--port', String(port), '--route', 'GET /orders', jwt],
      { cwd: app, env: shell },
    ).catch((err: { code?: number; stdout?: string }) => err);
    expect((judged as { code?: number }).code).toBe(1);
    const out = (judged as { stdout: string }).stdout;
    expect(out).toContain(
      `note: AZURE_ALLOWED_CLIENT_APPS=${OTHER_APP} from your environment, where the template has none: unset it to judge as npx entra-authorizer start does`,
    );
    expect(out).toMatch(/Decision\n {2}Deny \(403\)/);
  });

  it('says cold_start on the first decision of the authorizer only, as Lambda would', () => {
    const decisions = output()
      .split('\n')
      .filter((line) => line.includes('"authorizer decision"'))
      .map((line) => JSON.parse(line) as { cold_start?: boolean });
    expect(decisions.length).toBeGreaterThan(2);
    expect(decisions.map((d) => d.cold_start)).toEqual([true, ...Array(decisions.length - 1).fill(false)]);
  });
});

describe('what fails, or cannot be emulated, in a CDK app after cdk synth', () => {
  let failures: string;
  let failuresBanner: string;
  let failuresOutput: () => string;
  beforeAll(async () => {
    ({ banner: failuresBanner, output: failuresOutput } = await startServer(
      '--app',
      'failures.out',
      '--stack',
      'FailuresStack',
    ));
    failures = urlOf(failuresBanner);
  }, 240_000);

  it('names at start, one line per method, the Python function, the HTTP integration and the VTL logic', () => {
    const notes = failuresBanner.split('\n').filter((line) => line.includes('not as in AWS'));
    expect(notes).toHaveLength(3);
    expect(notes[0]).toMatch(
      /^ {2}not as in AWS: GET \/report: Report\w+: Lambda runtime python3\.12 is not emulated locally \(only Node\.js\): answered 501$/,
    );
    expect(notes[1]).toBe(
      '  not as in AWS: GET /legacy: Integration.Type HTTP_PROXY is not emulated locally: answered 501',
    );
    expect(notes[2]).toBe(
      '  not as in AWS: GET /stats: Integration.IntegrationResponses[0].ResponseTemplates: VTL logic (the directive #if) is not emulated locally: answered 501',
    );
  });

  it("serves a MOCK integration's response template, its $context and $input.params filled in", async () => {
    const jwt = await token();
    const res = await fetch(`${failures}/count?id=7`, { headers: { Authorization: `Bearer ${jwt}` } });
    expect(res.status).toBe(200);
    const oid = JSON.parse(Buffer.from(jwt.split('.')[1] as string, 'base64url').toString()).oid;
    expect(await res.json()).toEqual({ orders: 42, caller: oid, id: '7' });
  });

  it("prints a failing backend's error and stack on the server's output, with the route", async () => {
    expect(failuresOutput()).not.toContain('boom');
    const res = await fetch(`${failures}/broken`, { headers: { Authorization: `Bearer ${await token()}` } });
    expect(res.status).toBe(502);
    await expect
      .poll(failuresOutput)
      .toMatch(/GET \/broken: the Lambda function Failing\w+ failed: Error: boom\n\s+at /);
  });

  it('prints an explain line in its banner that judges as the server does, with the flags that pick the API', async () => {
    const line = failuresBanner.split('\n').find((l) => l.includes(' explain '));
    expect(line).toMatch(
      / explain --app failures\.out --stack FailuresStack --api FailuresApi\w+ --route "GET \/[a-z]+"/,
    );
    const { stdout } = await run('sh', ['-c', (line as string).replace(/#.*$/, '')], {
      cwd: app,
      env: env(),
    });
    expect(stdout).toMatch(/Decision\n {2}Allow \(200\)/);
  });

  it.each(['/report', '/legacy', '/stats'])(
    'answers GET %s 501, naming what is not emulated',
    async (path) => {
      const res = await fetch(`${failures}${path}`, {
        headers: { Authorization: `Bearer ${await token()}` },
      });
      expect(res.status).toBe(501);
      expect(((await res.json()) as { message: string }).message).toMatch(/^Not emulated locally: /);
    },
  );

  it.each([
    ['/broken', 502, 'Internal server error'],
    ['/malformed', 502, 'Internal server error'],
    ['/slow', 504, 'Endpoint request timed out'],
  ])('answers a backend of GET %s as API Gateway does: %i', async (path, status, message) => {
    const res = await fetch(`${failures}${path}`, { headers: { Authorization: `Bearer ${await token()}` } });
    expect(res.status).toBe(status);
    expect(await res.json()).toEqual({ message });
  });

  it("keeps the authorizer's 401 and 403 in front of a failing backend", async () => {
    expect((await fetch(`${failures}/broken`)).status).toBe(401);
    const app = await token('--app-only', '--roles', 'Orders.Write');
    expect((await fetch(`${failures}/broken`, { headers: { Authorization: `Bearer ${app}` } })).status).toBe(
      403,
    );
  });
});

describe("a newcomer's mistakes: one clear line (or the choices), a non-zero exit, no stack trace", () => {
  const noTrace = (text: string) => expect(text).not.toMatch(/^\s+at /m);

  it('start in a folder without cdk.out says to run cdk synth', async () => {
    const sub = join(app, 'src');
    mkdirSync(sub, { recursive: true });
    const { code, stderr } = await mistake(['start', '--port', '0'], sub);
    expect(code).toBe(1);
    expect(stderr.trim()).toBe(
      `npx entra-authorizer start: no cloud assembly at ${join(sub, 'cdk.out')} (no manifest.json): run \`cdk synth\` in your CDK app first (or pass --app <path to its cdk.out>)`,
    );
  });

  it('start and explain with several stacks list them and how to pick one', async () => {
    const choices = [
      '2 REST APIs are guarded by an EntraTokenAuthorizer; pick one:',
      expect.stringMatching(/^ {2}--stack OrdersStack --api OrdersApi\w+$/),
      expect.stringMatching(/^ {2}--stack FailuresStack --api FailuresApi\w+$/),
    ];
    const start = await mistake(['start', '--app', 'failures.out', '--port', '0']);
    expect(start.code).toBe(1);
    const [first, ...rest] = start.stderr.trim().split('\n');
    expect([first?.replace('npx entra-authorizer start: ', ''), ...rest]).toEqual(choices);
    const explain = await mistake(['explain', '--app', 'failures.out', await token()]);
    expect(explain.code).toBe(2);
    const [line, ...more] = explain.stderr.trim().split('\n');
    expect([line?.replace('npx entra-authorizer explain: ', ''), ...more]).toEqual(choices);
  });

  it('start on a busy port names it and another to use', async () => {
    const { code, stderr } = await mistake(['start', '--port', String(port)]);
    expect(code).toBe(1);
    expect(stderr.trim()).toMatch(
      new RegExp(
        `^npx entra-authorizer start: port ${port} on 127\\.0\\.0\\.1 is already in use \\(another npx entra-authorizer start\\?\\)\\. Stop that, or run: PORT=\\d+ npx entra-authorizer start$`,
      ),
    );
  });

  it.each([
    [
      ['start', '--prot', '3001'],
      2,
      'npx entra-authorizer start: unknown flag --prot (did you mean --port?)',
    ],
    [['start', '--port', 'abc'], 2, 'npx entra-authorizer start: PORT must be a port number'],
    [
      ['token', '--scope', 'x'],
      2,
      'npx entra-authorizer token: unknown flag --scope (did you mean --scopes?)',
    ],
    [
      ['explain', '--rout', 'GET /orders', 'x.y.z'],
      2,
      'npx entra-authorizer explain: unknown flag --rout (did you mean --route?)',
    ],
    [
      ['start', '--stack', 'Nope', '--port', '0'],
      1,
      'npx entra-authorizer start: no stack Nope in the cloud assembly; it has OrdersStack',
    ],
    [['frob'], 2, 'entra-authorizer: unknown command "frob"'],
  ])('%j exits %i: %s', async (args, status, first) => {
    const { code, stdout, stderr } = await mistake(args);
    expect(code).toBe(status);
    expect(stderr.split('\n')[0]).toContain(first);
    noTrace(stderr);
    noTrace(stdout);
  });

  it('token with no start on its port says to start it', async () => {
    const { code, stderr } = await mistake(['token', '--port', '1']);
    expect(code).toBe(1);
    expect(stderr.trim()).toBe(
      'npx entra-authorizer token: no local issuer on 127.0.0.1:1: run `PORT=1 npx entra-authorizer start` first (npx entra-authorizer token reads the same PORT).',
    );
  });
});
