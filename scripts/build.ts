/**
 * npm run build: the package a user's CDK app installs.
 *
 *   dist/esm/        infra/ (the construct) and lambda/shared/ (the backend helpers) as ES modules, with .d.ts
 *   dist/cjs/        the same as CommonJS (its package.json says so), with the same .d.ts
 *   dist/authorizer/ the authorizer Lambda, bundled once as NodejsFunction would bundle it (NODE22_BUNDLING):
 *                    index.js and its lazily loaded modules beside it
 *   dist/cli/        the command line (`npx entra-authorizer start|token|explain`), bundled but for our modules
 *                    dist/esm holds, which it imports from there; its worker and ws
 *
 * `prepack` runs it before `npm pack`; `prepare` runs it for an install from git (with `--prepare`, it does
 * nothing under `npm pack` or `npm publish`, whose prepack has just built).
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { copyFile, mkdir, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { build, type Plugin, transform } from 'esbuild';
import { AUTHORIZER_ENTRY, AUTHORIZER_LAZY_MODULES } from '../infra/construct/authorizer-function.js';
import { lazyEsbuildOptions, NODE22_BUNDLING } from '../infra/construct/lambda-defaults.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const DIST = join(ROOT, 'dist');
const ESM = join(DIST, 'esm');
const CJS = join(DIST, 'cjs');
const AUTHORIZER = join(DIST, 'authorizer');
const CLI = join(DIST, 'cli');

/** What `import.meta.url` becomes in the CommonJS build, defined from `__filename` at the top of the module. */
const IMPORT_META_URL = '__entraImportMetaUrl';

async function files(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries.filter((e) => e.isFile()).map((e) => join(e.parentPath, e.name));
}

/** tsc: the ES modules and the type declarations (tsconfig.build.json). */
async function compile(): Promise<void> {
  const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
  await promisify(execFile)(process.execPath, [tsc, '-p', join(ROOT, 'tsconfig.build.json')], { cwd: ROOT });
}

/**
 * The CommonJS build: each ES module of dist/esm converted on its own (esbuild, no bundling), declarations
 * copied. `import.meta.url`, the only `import.meta` the code may use, is defined from `__filename`.
 */
async function commonjs(): Promise<void> {
  for (const file of await files(ESM)) {
    const target = join(CJS, relative(ESM, file));
    await mkdir(dirname(target), { recursive: true });
    if (!file.endsWith('.js')) {
      await copyFile(file, target);
      continue;
    }
    const source = await readFile(file, 'utf8');
    const usesImportMeta = source.includes('import.meta');
    const result = await transform(source, {
      sourcefile: relative(ROOT, file),
      loader: 'js',
      format: 'cjs',
      platform: 'node',
      target: 'node20',
      logLevel: 'silent',
      ...(usesImportMeta
        ? {
            define: { 'import.meta.url': IMPORT_META_URL },
            banner: `const ${IMPORT_META_URL} = require('node:url').pathToFileURL(__filename).href;`,
          }
        : {}),
    });
    if (result.warnings.length > 0 || result.code.includes('import.meta')) {
      throw new Error(
        `${relative(ROOT, file)}: cannot be CommonJS: ${result.warnings.map((w) => w.text).join('; ') || 'import.meta beyond import.meta.url'}`,
      );
    }
    await writeFile(target, result.code);
  }
  await writeFile(join(CJS, 'package.json'), `${JSON.stringify({ type: 'commonjs' }, null, 2)}\n`);
}

/**
 * The authorizer Lambda, bundled with exactly the options NodejsFunction gets from NODE22_BUNDLING: index.js
 * and, beside it, each lazily loaded module (AUTHORIZER_LAZY_MODULES).
 */
async function bundleAuthorizer(): Promise<void> {
  await Promise.all(
    lazyEsbuildOptions(
      NODE22_BUNDLING,
      join(ROOT, AUTHORIZER_ENTRY),
      AUTHORIZER_LAZY_MODULES,
      AUTHORIZER,
    ).map((options) => build({ ...options, absWorkingDir: ROOT, logLevel: 'warning' })),
  );
}

/** Where the command line's chunks import ws from: `dist/cli/ws.mjs`, which bundleWs builds. */
const WS_APART: Plugin = {
  name: 'ws-apart',
  setup(b) {
    b.onResolve({ filter: /^ws$/ }, () => ({ path: './ws.mjs', external: true }));
  },
};

/**
 * ws, the WebSocket server of `start`, bundled apart and minified: a dependency's code, whose names no stack
 * trace of ours needs, at 50 KB rather than 130 KB. It is CommonJS: its `require` of Node's modules needs a
 * real `require` in an ES module.
 */
async function bundleWs(): Promise<void> {
  await build({
    stdin: {
      contents: "export * from 'ws'; export { default } from 'ws';",
      resolveDir: ROOT,
      sourcefile: 'ws.mjs',
    },
    outfile: join(CLI, 'ws.mjs'),
    bundle: true,
    minify: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    banner: {
      js: "import { createRequire } from 'node:module'; const require = createRequire(import.meta.url);",
    },
    absWorkingDir: ROOT,
    logLevel: 'warning',
  });
}

/**
 * The modules of ours that dist/esm holds compiled (the constructs' code, some of it the authorizer's), which the
 * command line imports from there rather than bundling a second copy: one copy of each module in the package.
 */
const COMPILED_APART: Plugin = {
  name: 'compiled-apart',
  setup(b) {
    b.onResolve({ filter: /^\.\.?\/.*\.js$/ }, ({ path, resolveDir, kind }) => {
      if (kind === 'entry-point') return undefined;
      const compiled = join(ESM, relative(ROOT, join(resolveDir, path)));
      if (!existsSync(compiled)) return undefined;
      return { path: relative(CLI, compiled).split(sep).join('/'), external: true };
    });
  },
};

/**
 * The command line (`npx entra-authorizer`), bundled with what it needs (aws-jwt-verify included; ws beside
 * it; our modules dist/esm holds imported from there) so that it runs with the package's peers only, and the
 * worker script each served Lambda function runs on. It runs after `compile`, whose output it imports.
 */
async function bundleCli(): Promise<void> {
  await build({
    entryPoints: { 'entra-authorizer': join(ROOT, 'infra/local/cli.ts') },
    outdir: CLI,
    outExtension: { '.js': '.mjs' },
    bundle: true,
    splitting: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    external: ['aws-cdk-lib', 'constructs'],
    plugins: [WS_APART, COMPILED_APART],
    absWorkingDir: ROOT,
    logLevel: 'warning',
  });
  await copyFile(join(ROOT, 'infra/local/lambda-worker.cjs'), join(CLI, 'lambda-worker.cjs'));
}

async function main(): Promise<void> {
  if (process.argv.includes('--prepare') && ['pack', 'publish'].includes(process.env.npm_command ?? '')) {
    console.error('build: skipped in prepare, prepack has built the package');
    return;
  }
  const started = Date.now();
  await rm(DIST, { recursive: true, force: true });
  await Promise.all([compile().then(bundleCli), bundleAuthorizer(), bundleWs()]);
  await commonjs();
  const sizes = await Promise.all(
    [ESM, CJS, AUTHORIZER, CLI].map(async (dir) => {
      const list = await files(dir);
      const bytes = (await Promise.all(list.map((f) => stat(f)))).reduce((sum, s) => sum + s.size, 0);
      return `${relative(ROOT, dir)} ${list.length} files ${(bytes / 1024).toFixed(0)} KB`;
    }),
  );
  // stderr, so that the JSON of `npm pack --json` (prepack runs this) stays parseable.
  console.error(`build: ${sizes.join(', ')} in ${((Date.now() - started) / 1000).toFixed(1)} s`);
}

main().catch((err: unknown) => {
  const e = err as { stdout?: string; message?: string };
  // tsc reports its errors on stdout.
  console.error(e.stdout || e.message || err);
  process.exit(1);
});
