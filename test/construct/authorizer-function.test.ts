import { mkdirSync, mkdtempSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Stack } from 'aws-cdk-lib';
import { NodejsFunction } from 'aws-cdk-lib/aws-lambda-nodejs';
import { describe, expect, it } from 'vitest';
import { locateAuthorizerCode } from '../../infra/construct/authorizer-function.js';
import { EntraTokenAuthorizer } from '../../infra/construct/entra-token-authorizer.js';
import { bundleFileName, esbuildOptions, NODE22_BUNDLING } from '../../infra/construct/lambda-defaults.js';
import { testApp } from '../helpers/cdk.js';

const TENANT = '72f988bf-86f1-41af-91ab-2d7cd011db47';
const CLIENT = '6e74172b-be56-4843-9ff4-e66a39bb12e3';
const ROOT = join(import.meta.dirname, '..', '..');
const BUNDLE = bundleFileName(NODE22_BUNDLING);

/** A package laid out as `npm pack` ships it, with or without the authorizer bundle. */
function packageLayout(withBundle: boolean): string {
  const root = mkdtempSync(join(tmpdir(), 'layout-'));
  for (const format of ['esm', 'cjs'])
    mkdirSync(join(root, 'dist', format, 'infra', 'construct'), { recursive: true });
  if (withBundle) {
    mkdirSync(join(root, 'dist', 'authorizer'));
    writeFileSync(join(root, 'dist', 'authorizer', BUNDLE), 'exports.handler = () => {};\n');
  }
  return root;
}

describe('where the authorizer code comes from', () => {
  it('is the source, bundled by NodejsFunction, when the construct runs as TypeScript', () => {
    const code = locateAuthorizerCode(
      pathToFileURL(join(ROOT, 'infra', 'construct', 'authorizer-function.ts')).href,
    );
    expect(code).toEqual({
      kind: 'source',
      entry: join(ROOT, 'lambda', 'authorizer', 'handler.ts'),
      projectRoot: ROOT,
      depsLockFilePath: join(ROOT, 'package-lock.json'),
    });
    if (code.kind === 'source') expect(statSync(code.entry).isFile()).toBe(true);
  });

  it.each(['esm', 'cjs'])('is the packaged bundle when the construct runs compiled (%s)', (format) => {
    const root = packageLayout(true);
    const url = pathToFileURL(
      join(root, 'dist', format, 'infra', 'construct', 'authorizer-function.js'),
    ).href;
    expect(locateAuthorizerCode(url)).toEqual({
      kind: 'bundle',
      dir: join(root, 'dist', 'authorizer'),
      handler: 'index.handler',
    });
  });

  it('fails with the path and a way out when the packaged bundle is missing', () => {
    const root = packageLayout(false);
    const url = pathToFileURL(join(root, 'dist', 'cjs', 'infra', 'construct', 'authorizer-function.js')).href;
    expect(() => locateAuthorizerCode(url)).toThrow(
      `the packaged authorizer bundle ${join(root, 'dist', 'authorizer', BUNDLE)} is missing; reinstall`,
    );
  });

  it('gives the construct, from source, a NodejsFunction whatever the working directory', () => {
    const cwd = process.cwd();
    process.chdir(tmpdir());
    try {
      const stack = new Stack(testApp(), 'S');
      const entra = new EntraTokenAuthorizer(stack, 'Entra', { tenantId: TENANT, clientId: CLIENT });
      expect(entra.function).toBeInstanceOf(NodejsFunction);
    } finally {
      process.chdir(cwd);
    }
  });
});

describe('NODE22_BUNDLING in esbuild terms', () => {
  it('refuses a bundling option it does not translate, naming it', () => {
    expect(() => esbuildOptions({ ...NODE22_BUNDLING, banner: '/* x */' }, 'entry.ts', 'out')).toThrow(
      'no translation for bundling option(s) banner',
    );
    expect(() => esbuildOptions({ minify: true }, 'entry.ts', 'out')).toThrow(/must set target and format/);
  });
});
