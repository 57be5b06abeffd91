import { execFile, spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { SampleApiStack } from '../../infra/sample/sample-api-stack.js';
import { SampleHttpApiStack } from '../../infra/sample/sample-http-api-stack.js';
import { testApp } from '../helpers/cdk.js';

const TENANT = '72f988bf-86f1-41af-91ab-2d7cd011db47';
const CLIENT = '6e74172b-be56-4843-9ff4-e66a39bb12e3';

const cfnLint = spawnSync('cfn-lint', ['--version'], { encoding: 'utf8' });
if (cfnLint.status !== 0) console.warn('cfn-lint tests skipped: no cfn-lint on PATH (pip install cfn-lint)');

describe.skipIf(cfnLint.status !== 0)('cfn-lint on the synthesized sample templates', () => {
  // W3005 (a DependsOn beside a GetAtt of the same role) is how CDK orders a function after its role's
  // policy; redundant, not wrong.
  it.each([
    [
      'REST',
      (app: ReturnType<typeof testApp>) =>
        new SampleApiStack(app, 'Sample', { entra: { tenantId: TENANT, clientId: CLIENT } }),
    ],
    [
      'HTTP API and WebSocket',
      (app: ReturnType<typeof testApp>) =>
        new SampleHttpApiStack(app, 'SampleHttp', { entra: { tenantId: TENANT, clientId: CLIENT } }),
    ],
  ])('finds nothing in the %s template', async (_, make) => {
    const outdir = mkdtempSync(join(tmpdir(), 'cfn-lint-'));
    const app = testApp({ outdir });
    const stack = make(app);
    app.synth();
    const file = join(outdir, `${stack.stackName}.template.json`);
    const { stdout } = await promisify(execFile)('cfn-lint', ['--ignore-checks', 'W3005', '--', file]).catch(
      (err: { stdout: string }) => ({ stdout: err.stdout }),
    );
    expect(stdout).toBe('');
  });
});
