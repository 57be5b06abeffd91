import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { delimiter, join, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

/** The repository root. */
export const ROOT = fileURLToPath(new URL('../..', import.meta.url));

/** `npm pack --json`'s description of one tarball. */
export interface PackResult {
  readonly filename: string;
  readonly version: string;
  readonly integrity: string;
  readonly size: number;
  readonly unpackedSize: number;
  readonly files: readonly { readonly path: string; readonly size: number }[];
}

/**
 * The environment of a user's shell: none of the variables `npm test` sets for this project, and no
 * `node_modules/.bin` of this repository (or above it) on PATH, so nothing here (esbuild, tsx, cdk) leaks in.
 * Docker is made to fail, so an attempt to bundle would fail the synth rather than quietly work.
 */
export function userEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (/^npm_(package_|lifecycle_|command$|config_local_prefix$)/.test(key) || key === 'INIT_CWD') continue;
    env[key] = value;
  }
  env.PATH = (process.env.PATH ?? '')
    .split(delimiter)
    .filter((dir) => dir !== '' && !dir.split(sep).includes('node_modules'))
    .join(delimiter);
  env.CDK_DOCKER = 'false';
  return env;
}

/** Runs a command; a failure carries its output. */
export async function run(
  command: string,
  args: readonly string[],
  options: { cwd: string; env?: NodeJS.ProcessEnv },
): Promise<{ stdout: string; stderr: string }> {
  try {
    return await promisify(execFile)(command, [...args], {
      cwd: options.cwd,
      env: options.env ?? userEnv(),
      maxBuffer: 64 * 1024 * 1024,
    });
  } catch (err) {
    const e = err as Error & { stdout?: string; stderr?: string };
    throw new Error(
      `${command} ${args.join(' ')} failed in ${options.cwd}: ${e.message}\n${e.stdout}\n${e.stderr}`,
    );
  }
}

interface LockEntry {
  readonly version?: string;
  readonly dependencies?: Record<string, string>;
  readonly optionalDependencies?: Record<string, string>;
  readonly peerDependencies?: Record<string, string>;
  readonly peerDependenciesMeta?: Record<string, { optional?: boolean }>;
  readonly bundleDependencies?: readonly string[];
  readonly [key: string]: unknown;
}

/**
 * The lock entries of `names` and everything they depend on, taken from this repository's package-lock.json:
 * the exact packages (and integrity) this repository installed, so `npm ci` can take them from npm's cache
 * without asking the registry for any metadata.
 */
export function lockClosure(names: readonly string[]): Record<string, LockEntry> {
  const lock = JSON.parse(readFileSync(join(ROOT, 'package-lock.json'), 'utf8')) as {
    packages: Record<string, LockEntry>;
  };
  const all = lock.packages;
  const picked: Record<string, LockEntry> = {};
  // Node's lookup: <from>/node_modules/<name>, then each enclosing node_modules.
  const resolve = (from: string, name: string): string | undefined => {
    let dir = from;
    for (;;) {
      const candidate = `${dir === '' ? '' : `${dir}/`}node_modules/${name}`;
      if (all[candidate] !== undefined) return candidate;
      if (dir === '') return undefined;
      const up = dir.lastIndexOf('/node_modules/');
      dir = up < 0 ? '' : dir.slice(0, up);
    }
  };
  const add = (path: string): void => {
    if (picked[path] !== undefined) return;
    const { dev: _dev, devOptional: _devOptional, peer: _peer, ...entry } = all[path] as LockEntry;
    picked[path] = entry;
    // Bundled dependencies arrive inside their parent's tarball; their entries come along.
    for (const nested of Object.keys(all).filter((p) => p.startsWith(`${path}/node_modules/`))) add(nested);
    const optionalPeers = Object.entries(entry.peerDependenciesMeta ?? {})
      .filter(([, meta]) => meta.optional === true)
      .map(([name]) => name);
    const required = [...Object.keys(entry.dependencies ?? {}), ...Object.keys(entry.peerDependencies ?? {})];
    for (const name of required.filter((n) => !optionalPeers.includes(n))) {
      const found = resolve(path, name);
      if (found === undefined) throw new Error(`package-lock.json: ${name} (needed by ${path}) is missing`);
      add(found);
    }
    for (const name of Object.keys(entry.optionalDependencies ?? {})) {
      const found = resolve(path, name);
      if (found !== undefined) add(found);
    }
  };
  for (const name of names) add(`node_modules/${name}`);
  return picked;
}

/** The exact version this repository installed of a package. */
export function lockedVersion(name: string): string {
  const version = lockClosure([name])[`node_modules/${name}`]?.version;
  if (version === undefined) throw new Error(`package-lock.json: no version of ${name}`);
  return version;
}
