import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { Stack } from 'aws-cdk-lib';
import { RestApi } from 'aws-cdk-lib/aws-apigateway';
import { build } from 'esbuild';
import { describe, expect, it } from 'vitest';
import { AUTHORIZER_ENTRY, AUTHORIZER_LAZY_MODULES } from '../../infra/construct/authorizer-function.js';
import { EntraTokenAuthorizer } from '../../infra/construct/entra-token-authorizer.js';
import {
  bundleFileName,
  lazyEsbuildOptions,
  NODE22_BUNDLING,
} from '../../infra/construct/lambda-defaults.js';
import { testApp } from '../helpers/cdk.js';

const TENANT = '72f988bf-86f1-41af-91ab-2d7cd011db47';
const CLIENT = '6e74172b-be56-4843-9ff4-e66a39bb12e3';
const ROOT = join(import.meta.dirname, '..', '..');
const BUNDLE = bundleFileName(NODE22_BUNDLING);

// In the process lane: NodejsFunction and esbuild's build each run esbuild, a process of its own.
describe('NODE22_BUNDLING in esbuild terms', () => {
  it('builds byte for byte the bundle NodejsFunction makes from source, its lazy modules beside it', async () => {
    const outdir = mkdtempSync(join(tmpdir(), 'cdk-bundle-'));
    const app = testApp({ bundle: true, outdir });
    const stack = new Stack(app, 'S');
    const entra = new EntraTokenAuthorizer(stack, 'Entra', { tenantId: TENANT, clientId: CLIENT });
    new RestApi(stack, 'Api').root.addMethod('GET', undefined, { authorizer: entra.authorizer });
    app.synth();
    const [asset] = readdirSync(outdir)
      .filter((d) => d.startsWith('asset.'))
      .map((d) => join(outdir, d));
    expect(asset).toBeDefined();

    const prebuilt = mkdtempSync(join(tmpdir(), 'prebuilt-'));
    const builds = lazyEsbuildOptions(
      NODE22_BUNDLING,
      join(ROOT, AUTHORIZER_ENTRY),
      AUTHORIZER_LAZY_MODULES,
      prebuilt,
    );
    const [main] = await Promise.all(
      builds.map((options) => build({ ...options, absWorkingDir: ROOT, logLevel: 'silent', metafile: true })),
    );

    const files = [BUNDLE, ...AUTHORIZER_LAZY_MODULES.map((name) => `${name}.js`)];
    expect(readdirSync(prebuilt).sort()).toEqual(files.flatMap((f) => [f, `${f}.map`]).sort());
    expect(readdirSync(prebuilt).sort()).toEqual(readdirSync(asset as string).sort());
    for (const file of files) {
      expect(readFileSync(join(prebuilt, file)).equals(readFileSync(join(asset as string, file)))).toBe(true);
      // The maps differ only in where their sources are, relative to two different output folders.
      const map = (dir: string) => {
        const { sources: _sources, ...rest } = JSON.parse(readFileSync(join(dir, `${file}.map`), 'utf8'));
        return rest;
      };
      expect(map(prebuilt)).toEqual(map(asset as string));
    }
    // index.js leaves each lazy module out, loading it only by a call (require or import()) at run time.
    const output = main?.metafile?.outputs[join(relative(ROOT, prebuilt), BUNDLE)];
    expect(Object.keys(output?.inputs ?? {})).toContain('lambda/authorizer/handler.ts');
    for (const name of AUTHORIZER_LAZY_MODULES) {
      expect(Object.keys(output?.inputs ?? {})).not.toContain(`lambda/authorizer/${name}.ts`);
      expect(
        output?.imports.filter((i) => i.path === `./${name}.js`).map((i) => [i.kind, i.external]),
      ).toEqual([
        ['require-call', true],
        ['dynamic-import', true],
      ]);
    }
    // Nothing that reads a tenant list from a parameter is in index.js: deployments without one do not load it.
    expect(
      Object.keys(output?.inputs ?? {}).filter((f) => /tenant-(source|parameter|file)\.ts$/.test(f)),
    ).toEqual([]);
  });
});
