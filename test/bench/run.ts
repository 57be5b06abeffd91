/**
 * npm run bench: what one authorizer decision costs, against the physical floor and the peers, on the same
 * RSA-2048 Entra-shaped tokens (all distinct, so no result cache helps); then cold start, module load and
 * memory. Prints Markdown tables for the README and writes bench-results/bench.json.
 *
 * The headline is the decision as deployed (INFO decision line and the Decisions metric, written to a real
 * stdout pipe). Targets: that decision <= 1.5x floor (stretch 1.25x), bundle <= 100 KB, module load
 * <= 15 ms, heap growth < 5 MB.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import {
  closeSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build, type Metafile } from 'esbuild';
import { createSigningKey, mintEntraAccessToken } from '../../infra/local/mint.js';
import { ENV } from '../../lambda/authorizer/config.js';
import { KeyServer } from '../helpers/key-server.js';
import {
  BENCH_CLIENT,
  BENCH_METHOD_ARN,
  BENCH_TENANT,
  CANDIDATES,
  type CandidateName,
  FLOOR_LINE_BYTES,
  PRODUCTION_ENV,
  type WarmReport,
} from './shared.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const COLD_RUNS = Number(process.env.BENCH_COLD_RUNS ?? 15);
const NULL_SINK_ENV = { BENCH_CANDIDATES: 'floor,floor+line,silenced,production', BENCH_MEMORY: 'off' };
const log = (line: string) => process.stderr.write(`${line}\n`);

// --- warm decisions, in a child whose stdout is a pipe ------------------------------------------------

/** Drains a child's stdout, keeping its last line. */
function lastLineOf(child: ChildProcess): { value: string } {
  const last = { value: '' };
  let tail = '';
  child.stdout?.setEncoding('utf8');
  child.stdout?.on('data', (chunk: string) => {
    const parts = (tail + chunk).split('\n');
    tail = parts.pop() ?? '';
    const line = parts.at(-1);
    if (line !== undefined && line !== '') last.value = line;
  });
  return last;
}

function exited(child: ChildProcess): Promise<number | null> {
  return new Promise((done, fail) => {
    child.on('error', fail);
    child.on('close', done);
  });
}

/**
 * The warm child's stdout is a pipe(2) that `wc` reads: a native reader blocked on the pipe, as Lambda's
 * log collector is, rather than a JavaScript reader whose own work on each line would land on the timings.
 * The child reports on fd 3, a file.
 */
async function runWarm(
  sink: 'pipe' | 'null' = 'pipe',
): Promise<{ report: WarmReport; stdout: { bytes: number; lines: number } }> {
  const dir = mkdtempSync(join(tmpdir(), 'entra-bench-warm-'));
  const reportFile = join(dir, 'warm.json');
  const reportFd = openSync(reportFile, 'w');
  try {
    const child = spawn(
      'sh',
      [
        '-c',
        sink === 'pipe' ? '"$0" "$@" | wc -l -c' : '"$0" "$@" > /dev/null && echo 0 0',
        process.execPath,
        ...process.execArgv,
        fileURLToPath(new URL('./warm.ts', import.meta.url)),
      ],
      {
        cwd: ROOT,
        stdio: ['ignore', 'pipe', 'inherit', reportFd],
        // The second run: the logged decision and its floors only, lines to /dev/null (no reader to wake).
        env: sink === 'pipe' ? process.env : { ...process.env, ...NULL_SINK_ENV },
      },
    );
    let counted = '';
    child.stdout?.on('data', (c) => {
      counted += c;
    });
    const code = await exited(child);
    const [lines, bytes] = counted.trim().split(/\s+/).map(Number);
    const text = readFileSync(reportFile, 'utf8');
    if (code !== 0 || text === '' || !Number.isInteger(lines) || !Number.isInteger(bytes))
      throw new Error(
        `bench: the warm run (test/bench/warm.ts | wc) failed; wc said ${JSON.stringify(counted)}`,
      );
    return {
      report: JSON.parse(text) as WarmReport,
      stdout: { lines: lines as number, bytes: bytes as number },
    };
  } finally {
    closeSync(reportFd);
    rmSync(dir, { recursive: true, force: true });
  }
}

const quantile = (sorted: readonly number[], q: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] as number;
const sorted = (xs: readonly number[]) => [...xs].sort((a, b) => a - b);
const median = (xs: readonly number[]) => quantile(sorted(xs), 0.5);
const round2 = (x: number) => Math.round(x * 100) / 100;

interface WarmRow {
  readonly name: CandidateName;
  readonly medianUs: number;
  readonly p99Us: number;
  /** Median over rounds of (this round's median / the floor's median in the same round). */
  readonly ratioToFloor: number;
  readonly ratioMin: number;
  readonly ratioMax: number;
  readonly roundRatios: readonly number[];
}

function warmRows(report: WarmReport): WarmRow[] {
  const floorRounds = (report.samples.floor ?? []).map(median);
  return (Object.keys(CANDIDATES) as CandidateName[]).map((name) => {
    const rounds = report.samples[name] ?? [];
    const all = sorted(rounds.flat());
    const ratios = rounds.map((r, i) => median(r) / (floorRounds[i] as number));
    return {
      name,
      medianUs: round2(quantile(all, 0.5)),
      p99Us: round2(quantile(all, 0.99)),
      ratioToFloor: round2(median(ratios)),
      ratioMin: round2(Math.min(...ratios)),
      ratioMax: round2(Math.max(...ratios)),
      roundRatios: ratios.map(round2),
    };
  });
}

// --- cold start and module load -----------------------------------------------------------------------

/** Runs `node <args>` with `env`; the script reports on fd 3, its stdout (the log lines) is drained. */
async function node(
  args: string[],
  env: NodeJS.ProcessEnv,
): Promise<{ wallMs: number; result: Record<string, number>; lastLine: string }> {
  const started = performance.now();
  const child = spawn(process.execPath, args, { env, stdio: ['ignore', 'pipe', 'inherit', 'pipe'] });
  const last = lastLineOf(child);
  let result = '';
  child.stdio[3]?.on('data', (c) => {
    result += c;
  });
  const code = await exited(child);
  if (code !== 0) throw new Error(`bench: node ${args.join(' ')} exited with ${code}`);
  return {
    wallMs: performance.now() - started,
    result: result === '' ? {} : JSON.parse(result),
    lastLine: last.value,
  };
}

/** Imports each module of `steps` in turn in a fresh process and reports the time each took, in ms. */
const STEPS_SCRIPT = `import { writeSync } from 'node:fs';
const steps = JSON.parse(process.argv[2]);
const out = {};
let last = performance.now();
for (const s of steps) { await import(s); const now = performance.now(); out[s] = now - last; last = now; }
writeSync(3, JSON.stringify(out));
`;

/**
 * A cold start as Lambda runs it: import the bundle, then hand it the waiting event at once. The first
 * decision joins the key fetch that the module started at init (from 127.0.0.1 here).
 */
const runnerScript = (token: string) => `import { writeSync } from 'node:fs';
const t0 = performance.now();
const { handler, ready } = await import('./index.mjs');
const loaded = performance.now();
let keysSettled = NaN;
ready.then(() => { keysSettled = performance.now() - loaded; });
const answer = await handler(${JSON.stringify({ type: 'TOKEN', methodArn: BENCH_METHOD_ARN, authorizationToken: `Bearer ${token}` })}, {
  awsRequestId: 'c0ld-5tart', functionName: 'f', functionVersion: '1', memoryLimitInMB: '512',
  invokedFunctionArn: 'arn:aws:lambda:eu-west-1:123456789012:function:f:1', getRemainingTimeInMillis: () => 5000,
});
const decided = performance.now();
if (answer.policyDocument.Statement[0].Effect !== 'Allow') throw new Error('cold start: expected an Allow');
await ready;
writeSync(3, JSON.stringify({ moduleLoadMs: loaded - t0, firstDecisionMs: decided - loaded, keysSettledMs: keysSettled, processStartToFirstDecisionMs: decided }));
`;

interface ColdReport {
  readonly bundleBytes: number;
  readonly bundleBytesByPackage: Record<string, number>;
  readonly moduleLoadMs: number;
  readonly moduleLoadSpreadMs: readonly [number, number];
  readonly moduleLoadWithSourceMapsMs: number;
  /** Fresh process: each Node built-in the bundle imports, in turn; then an empty ESM file; then the bundle. */
  readonly breakdownMs: Record<string, number>;
  readonly firstDecisionMs: number;
  /** When the key fetch started at init had settled, from the end of the import. */
  readonly keysSettledMs: number;
  readonly processStartToFirstDecisionMs: number;
  readonly wallSpawnToExitMs: number;
  readonly wallNodeEmptyMs: number;
  /** The first decision's line, from a cold start. */
  readonly decisionLine: string;
}

function packageOf(input: string): string {
  const m = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(input);
  return m ? (m[1] as string) : 'entra-authorizer (ours)';
}

async function runCold(): Promise<ColdReport> {
  log('bundling the authorizer and measuring cold starts...');
  const dir = mkdtempSync(join(tmpdir(), 'entra-bench-'));
  const key = createSigningKey({
    kid: 'cold-key',
    issuer: 'https://login.microsoftonline.com/{tenantid}/v2.0',
  });
  const server = await KeyServer.start();
  server.jwks = { keys: [key.publicJwk] };
  const env = {
    ...process.env,
    ...PRODUCTION_ENV,
    [ENV.tenantId]: BENCH_TENANT,
    [ENV.audiences]: BENCH_CLIENT,
    [ENV.requiredScopes]: 'access_as_user',
    [ENV.jwksUri]: server.url,
  };
  try {
    // As the construct bundles it (infra/lambda-defaults.ts): minified ESM for Node.js 22, with a source map.
    const built = await build({
      entryPoints: [resolve(ROOT, 'lambda/authorizer/handler.ts')],
      bundle: true,
      minify: true,
      platform: 'node',
      target: 'node22',
      format: 'esm',
      mainFields: ['module', 'main'],
      sourcemap: true,
      sourcesContent: false,
      outfile: join(dir, 'index.mjs'),
      metafile: true,
      logLevel: 'silent',
    });
    const output = Object.entries(built.metafile.outputs).find(([file]) => file.endsWith('.mjs'))?.[1] as
      | Metafile['outputs'][string]
      | undefined;
    if (output === undefined) throw new Error('bench: esbuild wrote no .mjs');
    const bundleBytesByPackage: Record<string, number> = {};
    for (const [input, { bytesInOutput }] of Object.entries(output.inputs))
      bundleBytesByPackage[packageOf(input)] = (bundleBytesByPackage[packageOf(input)] ?? 0) + bytesInOutput;
    const builtins = [
      ...new Set(
        output.imports
          .filter((i) => i.external)
          .map((i) => (i.path.startsWith('node:') ? i.path : `node:${i.path}`)),
      ),
    ];
    writeFileSync(join(dir, 'steps.mjs'), STEPS_SCRIPT);
    writeFileSync(
      join(dir, 'runner.mjs'),
      runnerScript(mintEntraAccessToken(key, { tenantId: BENCH_TENANT, audience: BENCH_CLIENT })),
    );
    writeFileSync(join(dir, 'empty.mjs'), 'export {};\n');
    const bundle = join(dir, 'index.mjs');
    const steps = [...builtins, join(dir, 'empty.mjs'), bundle];

    const runs: Record<string, number>[] = [];
    const withMaps: number[] = [];
    const breakdowns: Record<string, number>[] = [];
    const bare: number[] = [];
    const walls: number[] = [];
    let decisionLine = '';
    for (let i = 0; i < COLD_RUNS; i++) {
      bare.push((await node(['-e', '0'], env)).wallMs);
      const run = await node([join(dir, 'runner.mjs')], env);
      walls.push(run.wallMs);
      decisionLine = run.lastLine;
      runs.push(run.result);
      const mapped = await node(['--enable-source-maps', join(dir, 'runner.mjs')], env);
      withMaps.push(mapped.result.moduleLoadMs as number);
      breakdowns.push((await node([join(dir, 'steps.mjs'), JSON.stringify(steps)], env)).result);
    }
    const of = (key: string) => runs.map((r) => r[key] as number);
    const label = (step: string) =>
      step === bundle ? 'bundle evaluation' : step.endsWith('empty.mjs') ? 'ESM loader, first file' : step;
    const breakdownMs: Record<string, number> = {};
    for (const step of steps)
      breakdownMs[label(step)] = round2(median(breakdowns.map((b) => b[step] as number)));
    const loads = of('moduleLoadMs');
    return {
      bundleBytes: statSync(bundle).size,
      bundleBytesByPackage,
      moduleLoadMs: round2(median(loads)),
      moduleLoadSpreadMs: [round2(quantile(sorted(loads), 0.1)), round2(quantile(sorted(loads), 0.9))],
      moduleLoadWithSourceMapsMs: round2(median(withMaps)),
      breakdownMs,
      firstDecisionMs: round2(median(of('firstDecisionMs'))),
      keysSettledMs: round2(median(of('keysSettledMs'))),
      processStartToFirstDecisionMs: round2(median(of('processStartToFirstDecisionMs'))),
      wallSpawnToExitMs: round2(median(walls)),
      wallNodeEmptyMs: round2(median(bare)),
      decisionLine,
    };
  } finally {
    await server.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

// --- run and report -----------------------------------------------------------------------------------

const { report: warm, stdout } = await runWarm();
const rows = warmRows(warm);
const { report: nullWarm } = await runWarm('null');
const nullRows = warmRows(nullWarm).filter((r) => nullWarm.samples[r.name] !== undefined);
const cold = await runCold();

const memory = warm.memory as NonNullable<WarmReport['memory']>;
const byName = (name: CandidateName) => rows.find((r) => r.name === name) as WarmRow;
const production = byName('production');
const silenced = byName('silenced');
const mb = (bytes: number) => round2(bytes / 2 ** 20);
/** The warm child's stdout, less the floor+line candidate's lines: what the production decisions wrote. */
function productionStdout() {
  const decisions = warm.calls.production ?? 0;
  const floorLines = warm.calls['floor+line'] ?? 0;
  const lines = stdout.lines - floorLines;
  return {
    decisions,
    lines,
    linesPerDecision: round2(lines / decisions),
    bytesPerLine: Math.round((stdout.bytes - floorLines * FLOOR_LINE_BYTES) / Math.max(1, lines)),
  };
}
const report = {
  date: new Date().toISOString(),
  machine: { cpu: cpus()[0]?.model, cores: cpus().length, node: process.version },
  tokens: warm.tokens,
  rounds: warm.rounds,
  warm: rows,
  warmToDevNull: nullRows,
  productionStdout: productionStdout(),
  cold,
  memory: {
    gcExposed: memory.gcExposed,
    heapBeforeMB: mb(memory.heapBeforeBytes),
    growthAfter100kDecisionsMB: mb(memory.growthAfter100kDecisionsBytes),
    growthAfter20kForgedMB: mb(memory.growthAfter20kForgedBytes),
    forgedRefused: memory.forgedRefused,
  },
  targets: {
    productionDecisionAtMost1_5xFloor: production.ratioToFloor <= 1.5,
    productionDecisionAtMost1_25xFloor: production.ratioToFloor <= 1.25,
    bundleAtMost100KB: cold.bundleBytes <= 100 * 1024,
    moduleLoadAtMost15ms: cold.moduleLoadMs <= 15,
    heapGrowthUnder5MB:
      memory.growthAfter20kForgedBytes < 5 * 2 ** 20 && memory.growthAfter100kDecisionsBytes < 5 * 2 ** 20,
  },
};
mkdirSync(resolve(ROOT, 'bench-results'), { recursive: true });
writeFileSync(resolve(ROOT, 'bench-results/bench.json'), `${JSON.stringify(report, null, 2)}\n`);

const sum = (entries: [string, number][]) => entries.reduce((total, [, t]) => total + t, 0);
const us = (x: number) => `${Math.round(x)} µs`;
const ms = (x: number) => `${x.toFixed(1)} ms`;
const spread = (r: WarmRow) => `${r.ratioMin.toFixed(2)}–${r.ratioMax.toFixed(2)}`;
const lines: string[] = [];
lines.push(
  `Measured on ${report.date.slice(0, 10)} (${report.machine.cores}-core ${report.machine.cpu}, Node.js ${process.version.slice(1)}); ${warm.tokens} distinct tokens x ${warm.rounds} rounds per candidate, interleaved:`,
  '',
  '| warm decision | median | p99 | x floor (median of rounds) | spread over rounds |',
  '|---|---|---|---|---|',
);
for (const r of [production, silenced, ...rows.filter((r) => r !== production && r !== silenced)]) {
  const bold = r === production ? (s: string) => `**${s}**` : (s: string) => s;
  lines.push(
    `| ${CANDIDATES[r.name]} | ${bold(us(r.medianUs))} | ${us(r.p99Us)} | ${bold(r.ratioToFloor.toFixed(2))} | ${spread(r)} |`,
  );
}
lines.push(
  '',
  `The same decisions in a second run whose stdout is /dev/null (a write, but no reader to wake): ${nullRows
    .map((r) => `${r.name} ${r.ratioToFloor.toFixed(2)} (${spread(r)})`)
    .join(', ')}.`,
  '',
  `As deployed, the decisions wrote ${report.productionStdout.lines} lines for ${report.productionStdout.decisions} decisions (${report.productionStdout.linesPerDecision} per decision, ${report.productionStdout.bytesPerLine} bytes each).`,
  '',
  '| cold start | measured |',
  '|---|---|',
  `| bundled authorizer (esbuild, minified ESM) | ${round2(cold.bundleBytes / 1024)} KB: ${Object.entries(
    cold.bundleBytesByPackage,
  )
    .sort((a, b) => b[1] - a[1])
    .map(([p, b]) => `${p} ${round2(b / 1024)} KB`)
    .join(', ')} |`,
  `| module load (import of the bundle, fresh process) | ${ms(cold.moduleLoadMs)} (p10–p90 ${ms(cold.moduleLoadSpreadMs[0])}–${ms(cold.moduleLoadSpreadMs[1])}) |`,
  `| module load with \`--enable-source-maps\` (the construct's NODE_OPTIONS) | ${ms(cold.moduleLoadWithSourceMapsMs)} |`,
  `| first decision, handed over as soon as the import resolves (it joins the key fetch the module started, from 127.0.0.1) | ${ms(cold.firstDecisionMs)}; the keys were in ${ms(cold.keysSettledMs)} after the import |`,
  `| process start to first decision | ${ms(cold.processStartToFirstDecisionMs)}; wall clock ${ms(cold.wallSpawnToExitMs)} against ${ms(cold.wallNodeEmptyMs)} for \`node -e 0\` |`,
  '',
  '| module load, step by step in a fresh process | ms |',
  '|---|---|',
  ...Object.entries(cold.breakdownMs).map(
    ([step, t]) => `| ${step.startsWith('node:') ? `\`${step}\`` : step} | ${t.toFixed(2)} |`,
  ),
  `| of which Node's own modules | ${sum(Object.entries(cold.breakdownMs).filter(([s]) => s.startsWith('node:'))).toFixed(2)} |`,
  `| sum of the steps | ${sum(Object.entries(cold.breakdownMs)).toFixed(2)} |`,
  '',
  '| memory | heap growth |',
  '|---|---|',
  `| 100,000 decisions | ${report.memory.growthAfter100kDecisionsMB} MB |`,
  `| then 20,000 forged tokens (real kid, random issuers and tenants, \`AZURE_ALLOWED_TENANTS=*\`) | ${report.memory.growthAfter20kForgedMB} MB |`,
);
console.log(`\n${lines.join('\n')}\n`);
console.log('targets', report.targets);
console.log('per-round ratios to the floor', Object.fromEntries(rows.map((r) => [r.name, r.roundRatios])));
console.log(`a cold start's decision line: ${cold.decisionLine}`);
console.log('\nwritten to bench-results/bench.json');
