import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { bundleFileName, NODE22_BUNDLING } from '../../infra/construct/lambda-defaults.js';
import { createSigningKey, mintEntraAccessToken } from '../../infra/local/mint.js';
import { SampleApiStack } from '../../infra/sample/sample-api-stack.js';
import { ENV_NAMES } from '../../lambda/authorizer/config.js';
import { testApp } from '../helpers/cdk.js';
import { KeyServer } from '../helpers/key-server.js';

const TENANT = '72f988bf-86f1-41af-91ab-2d7cd011db47';
const CLIENT = '6e74172b-be56-4843-9ff4-e66a39bb12e3';

describe('the sample stack, synthesized with bundling', () => {
  it('bundles the authorizer for real with the local esbuild into a small file that runs', async () => {
    const outdir = mkdtempSync(join(tmpdir(), 'bundle-'));
    const app = testApp({ bundle: true, outdir });
    new SampleApiStack(app, 'Sample', { entra: { tenantId: TENANT, clientId: CLIENT } });
    app.synth();
    const bundles = readdirSync(outdir)
      .filter((d) => d.startsWith('asset.'))
      .map((d) => join(outdir, d, bundleFileName(NODE22_BUNDLING)))
      .filter((f) => statSync(f, { throwIfNoEntry: false }) !== undefined);
    const authorizer = bundles.find((f) => readFileSync(f, 'utf8').includes('AZURE_TENANT_ID')) as string;
    expect(authorizer).toBeDefined();
    // index.js and the decision code beside it, decide.js: what every cold start loads before it decides.
    const decide = join(dirname(authorizer), 'decide.js');
    expect(statSync(authorizer).size + statSync(decide).size).toBeLessThan(100 * 1024);

    // The bundle alone, in a fresh Node process, decides on a real token with keys from 127.0.0.1.
    const key = createSigningKey({ kid: 'bundle-key' });
    const server = await KeyServer.start();
    server.jwks = { keys: [key.publicJwk] };
    try {
      const t = mintEntraAccessToken(key, { tenantId: TENANT, audience: CLIENT });
      const script = `const { handler } = await import(${JSON.stringify(authorizer)});
const r = await handler({ type: 'TOKEN', authorizationToken: process.env.AUTH, methodArn: 'arn:aws:execute-api:eu-west-1:123456789012:abc/prod/GET/whoami' });
console.log(JSON.stringify(r));`;
      const { stdout } = await promisify(execFile)(process.execPath, ['--input-type=module', '-e', script], {
        env: {
          PATH: process.env.PATH,
          AUTH: `Bearer ${t}`,
          [ENV_NAMES.tenantId]: TENANT,
          [ENV_NAMES.audiences]: CLIENT,
          [ENV_NAMES.jwksUri]: server.url,
          POWERTOOLS_LOG_LEVEL: 'SILENT',
          POWERTOOLS_METRICS_DISABLED: 'true',
        },
      });
      expect(JSON.parse(stdout)).toMatchObject({
        policyDocument: { Statement: [{ Effect: 'Allow' }] },
        context: { tid: TENANT },
      });
    } finally {
      await server.stop();
    }
  });
});
