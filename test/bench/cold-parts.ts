/**
 * Where the module load's excess over its floor goes, under the deployed Node.js: `node --import tsx
 * test/bench/cold-parts.ts` (BENCH_COLD_RUNS iterations, 20 by default). Besides the floor and the shipped
 * bundle (NODE22_BUNDLING), it loads the same bundle compiled but not run (its text inside a block that never
 * executes, after the floor's requires), the same sources unminified, the naive peer (bare-peer.ts: what
 * aws-jwt-verify alone costs), the shipped bundle with the floor's requires put first (the builtins'
 * order), the shipped bundle with the variables the sample's template gives it (a route table), and the shipped bundle followed by decide.js (what the first decision loads besides), each in a
 * fresh process, every variant once per iteration.
 * Figures are CPU time (all threads) of the `require`: the least over the runs, and the median over
 * iterations of the ratio to the floor and to the peer of the same iteration. It also lists what takes the bundle's bytes
 * (esbuild's metafile). For docs/performance.md; `npm run bench` keeps the headline.
 */
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { AUTHORIZER_ENTRY, AUTHORIZER_LAZY_MODULES } from '../../infra/construct/authorizer-function.js';
import {
  bundleFileName,
  esbuildOptions,
  NODE22_BUNDLING,
  withLazyModules,
} from '../../infra/construct/lambda-defaults.js';
import { ENV_NAMES } from '../../lambda/authorizer/config.js';
import { ensureDeployedNode } from '../../scripts/node22.js';
import { BARE_PEER_ENTRY, buildColdBundle, exited, sampleAuthorizerEnv } from './cold.js';
import { BENCH_CLIENT, BENCH_TENANT, PRODUCTION_ENV } from './shared.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const RUNS = Number(process.env.BENCH_COLD_RUNS ?? 20);

const RUNNER = `const { writeSync } = require('node:fs');
const cpu = () => { const u = process.cpuUsage(); return (u.user + u.system) / 1000; };
const c0 = cpu();
require(process.argv[2]);
writeSync(3, String(cpu() - c0));
process.exit(0);
`;

async function bundle(dir: string, minify: boolean, entry = AUTHORIZER_ENTRY) {
  const built = await build({
    ...esbuildOptions(
      withLazyModules({ ...NODE22_BUNDLING, minify }, AUTHORIZER_LAZY_MODULES),
      join(ROOT, entry),
      dir,
    ),
    absWorkingDir: ROOT,
    metafile: true,
    logLevel: 'silent',
  });
  const file = join(dir, bundleFileName(NODE22_BUNDLING));
  const output = Object.entries(built.metafile.outputs).find(([f]) => !f.endsWith('.map'))?.[1];
  if (output === undefined) throw new Error('cold-parts: esbuild wrote no bundle');
  return { file, output };
}

async function cpuOfRequire(node: string, runner: string, file: string, env: NodeJS.ProcessEnv) {
  const child = spawn(node, [runner, file], { env, stdio: ['ignore', 'ignore', 'pipe', 'pipe'] });
  let report = '';
  let err = '';
  child.stderr?.on('data', (c) => {
    err += c;
  });
  child.stdio[3]?.on('data', (c) => {
    report += c;
  });
  const code = await exited(child);
  if (code !== 0) throw new Error(`cold-parts: ${file} exited with ${code}: ${err.slice(-2000)}`);
  return Number(report);
}

/** The one variant loaded with other variables: those the sample's synthesized template gives its authorizer. */
const SAMPLE_CONFIG =
  'the shipped bundle, with the sample’s configuration (its route table; its template’s variables)';

const dir = mkdtempSync(join(tmpdir(), 'entra-cold-parts-'));
// The bench's floor: each builtin once, by its `node:` name, in sorted order (`crypto, http, https, stream`).
// The order counts: loaded in the bundle's order, the same four cost more.
const cold = await buildColdBundle(ROOT);
try {
  const node = ensureDeployedNode();
  const version = execFileSync(node, ['-p', 'process.version'], { encoding: 'utf8' }).trim();
  const shipped = await bundle(join(dir, 'shipped'), true);
  const unminified = await bundle(join(dir, 'unminified'), false);
  const bare = await bundle(join(dir, 'bare'), true, BARE_PEER_ENTRY);
  const floorSource = readFileSync(join(cold.dir, 'builtins.cjs'), 'utf8');
  const code = readFileSync(shipped.file, 'utf8')
    .replace(/^"use strict";/, '')
    .replace(/\n\/\/# sourceMappingURL=.*\n?$/, '');
  const variants = {
    'floor: `require` of the bundle’s builtins': join(dir, 'floor.cjs'),
    'floor + the bundle compiled, not run': join(dir, 'compiled.cjs'),
    'the shipped bundle (minified)': shipped.file,
    [SAMPLE_CONFIG]: shipped.file,
    'the same sources unminified': unminified.file,
    [`the naive peer: a bare aws-jwt-verify handler, bundled the same way (${bare.output.bytes} bytes)`]:
      bare.file,
    'the shipped bundle, its builtins required first in the floor’s order': join(dir, 'ordered.js'),
    'the shipped bundle, then the decision code beside it (decide.js: what the first decision loads)': join(
      dir,
      'with-decide.cjs',
    ),
  };
  writeFileSync(
    variants[
      'the shipped bundle, then the decision code beside it (decide.js: what the first decision loads)'
    ],
    `require(${JSON.stringify(cold.file)});\nrequire(${JSON.stringify(join(cold.dir, 'decide.js'))});\n`,
  );
  writeFileSync(
    variants['the shipped bundle, its builtins required first in the floor’s order'],
    `"use strict";${floorSource}${code}`,
  );
  writeFileSync(variants['floor: `require` of the bundle’s builtins'], floorSource);
  writeFileSync(
    variants['floor + the bundle compiled, not run'],
    `${floorSource}if (process.env.COLD_PARTS_NEVER_SET) {\n${code}\n}\n`,
  );
  const runner = join(dir, 'runner.cjs');
  writeFileSync(runner, RUNNER);
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    ...PRODUCTION_ENV,
    [ENV_NAMES.tenantId]: BENCH_TENANT,
    [ENV_NAMES.audiences]: BENCH_CLIENT,
    [ENV_NAMES.requiredScopes]: 'access_as_user',
  };
  const sampleEnv = sampleAuthorizerEnv({ PATH: process.env.PATH });
  const names = Object.keys(variants);
  const cpu: number[][] = Object.values(variants).map(() => []);
  const ratio: number[][] = Object.values(variants).map(() => []);
  const toPeer: number[][] = Object.values(variants).map(() => []);
  const peerAt = Object.keys(variants).findIndex((name) => name.startsWith('the naive peer'));
  const files = Object.values(variants);
  for (let i = 0; i < RUNS; i++) {
    // Each iteration starts at another variant: the first process after a pause measured slower here.
    const row: number[] = [];
    for (let k = 0; k < files.length; k++) {
      const j = (i + k) % files.length;
      row[j] = await cpuOfRequire(
        node,
        runner,
        files[j] as string,
        names[j] === SAMPLE_CONFIG ? sampleEnv : env,
      );
    }
    row.forEach((v, j) => {
      cpu[j]?.push(v);
      ratio[j]?.push(v / (row[0] as number));
      toPeer[j]?.push(v / (row[peerAt] as number));
    });
  }
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1] as number;
  const byBytes = Object.entries(shipped.output.inputs).sort(
    (a, b) => b[1].bytesInOutput - a[1].bytesInOutput,
  );
  console.log(
    `bundle ${shipped.output.bytes} bytes (unminified ${unminified.output.bytes}); largest inputs:`,
  );
  for (const [input, { bytesInOutput }] of byBytes.slice(0, 12)) console.log(`  ${bytesInOutput} ${input}`);
  console.log(
    `\n| Node.js ${version}, ${RUNS} runs | CPU, least | x floor (least) | x floor (median of iterations) | x peer (least) | x peer (median of iterations) |`,
  );
  console.log('|---|---|---|---|---|---|');
  const peerLeast = Math.min(...(cpu[peerAt] as number[]));
  const floorLeast = Math.min(...(cpu[0] as number[]));
  Object.keys(variants).forEach((name, j) => {
    const least = Math.min(...(cpu[j] as number[]));
    console.log(
      `| ${name} | ${least.toFixed(1)} ms | ${(least / floorLeast).toFixed(2)} | ${median(ratio[j] as number[]).toFixed(2)} | ${(least / peerLeast).toFixed(2)} | ${median(toPeer[j] as number[]).toFixed(2)} |`,
    );
  });
} finally {
  rmSync(dir, { recursive: true, force: true });
  cold.remove();
}
