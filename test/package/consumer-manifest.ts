import { cpSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { lockClosure, lockedVersion, type PackResult, ROOT, run } from './consumer-app.js';

/** What `npm pack` builds the package from. */
const PACKAGE_SOURCES = [
  'package.json',
  'package-lock.json',
  'README.md',
  'tsconfig.json',
  'tsconfig.build.json',
  'infra',
  'lambda',
  'scripts',
  'docs',
  'examples',
];

/**
 * `npm pack` of a copy of this repository's sources in `work` (its node_modules linked): the build writes the
 * copy's dist/, so another test file packing the repository itself at the same time does not race it.
 */
export async function packFromCopy(work: string): Promise<PackResult> {
  const copy = join(work, 'source');
  mkdirSync(copy);
  for (const entry of PACKAGE_SOURCES) cpSync(join(ROOT, entry), join(copy, entry), { recursive: true });
  symlinkSync(join(ROOT, 'node_modules'), join(copy, 'node_modules'), 'dir');
  const { stdout } = await run('npm', ['pack', '--json', '--pack-destination', work], { cwd: copy });
  return (JSON.parse(stdout) as PackResult[])[0] as PackResult;
}

/**
 * A user's app folder's package.json and package-lock.json: the tarball, and `tools` (aws-cdk-lib,
 * constructs, ...) at the exact versions this repository locked, so that `npm ci --prefer-offline` takes
 * them all from npm's cache without asking the registry for metadata.
 */
export function writeConsumerManifest(
  dir: string,
  options: { name: string; type: 'commonjs' | 'module'; packed: PackResult; tools: readonly string[] },
): void {
  const { name, type, packed, tools } = options;
  const spec = `file:../${packed.filename}`;
  const dependencies = {
    ...Object.fromEntries(tools.map((tool) => [tool, lockedVersion(tool)])),
    'entra-authorizer': spec,
  };
  const ours = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
    peerDependencies: Record<string, string>;
    engines: Record<string, string>;
    bin?: Record<string, string>;
  };
  const manifest = { name, version: '1.0.0', private: true, type, dependencies };
  const lock = {
    name,
    version: manifest.version,
    lockfileVersion: 3,
    requires: true,
    packages: {
      '': { name, version: manifest.version, dependencies },
      ...lockClosure(tools),
      'node_modules/entra-authorizer': {
        version: packed.version,
        resolved: spec,
        integrity: packed.integrity,
        engines: ours.engines,
        peerDependencies: ours.peerDependencies,
        ...(ours.bin !== undefined ? { bin: ours.bin } : {}),
      },
    },
  };
  writeFileSync(join(dir, 'package.json'), `${JSON.stringify(manifest, null, 2)}\n`);
  writeFileSync(join(dir, 'package-lock.json'), `${JSON.stringify(lock, null, 2)}\n`);
}
