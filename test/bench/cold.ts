/**
 * The cold half of `npm run bench`: the authorizer bundled exactly as it ships (NODE22_BUNDLING), loaded in
 * fresh processes by a given Node.js binary, side by side with the floor of its module load: a module that
 * loads the same Node builtins the CommonJS way. Each iteration runs every variant once, so drift on a shared
 * machine falls on all of them alike; ratios are taken within an iteration.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { isBuiltin } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { OutputFormat } from 'aws-cdk-lib/aws-lambda-nodejs';
import { build, type Metafile } from 'esbuild';
import { AUTHORIZER_ENTRY, AUTHORIZER_LAZY_MODULES } from '../../infra/construct/authorizer-function.js';
import {
  bundleFileName,
  esbuildOptions,
  lazyEsbuildOptions,
  NODE22_BUNDLING,
  withLazyModules,
} from '../../infra/construct/lambda-defaults.js';
import { createSigningKey, mintEntraAccessToken } from '../../infra/local/mint.js';
import { synthesizeSample } from '../../infra/local/sample-template.js';
import { ENV_NAMES } from '../../lambda/authorizer/config.js';
import { KeyServer } from '../helpers/key-server.js';
import { BENCH_CLIENT, BENCH_METHOD_ARN, BENCH_TENANT, PRODUCTION_ENV } from './shared.js';

/** A Node.js binary to measure with. */
export interface Runtime {
  readonly label: string;
  readonly node: string;
}

/**
 * Loads a module as Lambda's Node.js runtime does (aws-lambda-nodejs-runtime-interface-client, UserFunction):
 * `import()` for `.mjs`, `require` for a `.js` or `.cjs` whose folder has no `"type": "module"`. Then, by
 * mode: nothing more (`load`); a first decision on the waiting event, which joins the key fetch the module
 * started (`allow`); or a first decision on an event that fails the way our own failures do, logging an ERROR
 * line with the error's stack (`error`). The naive peer, which fetches keys over https only, is handed the
 * key set (BENCH_JWKS) before its first decision instead. It reports on fd 3.
 */
const RUNNER = `import { writeSync } from 'node:fs';
import { createRequire } from 'node:module';
const [file, mode, token] = process.argv.slice(2);
const cpu = () => { const u = process.cpuUsage(); return (u.user + u.system) / 1000; };
const c0 = cpu();
const t0 = performance.now();
const mod = file.endsWith('.mjs') ? await import(file) : createRequire(import.meta.url)(file);
const loaded = performance.now();
const report = { moduleLoadMs: loaded - t0, moduleLoadCpuMs: cpu() - c0 };
if (mode !== 'load') {
  const { handler, ready = Promise.resolve(), verifier } = mod;
  verifier?.cacheJwks(JSON.parse(process.env.BENCH_JWKS));
  let keysSettled = NaN;
  ready.then(() => { keysSettled = performance.now() - loaded; });
  const event = mode === 'allow'
    ? { type: 'TOKEN', methodArn: ${JSON.stringify(BENCH_METHOD_ARN)}, authorizationToken: 'Bearer ' + token }
    : { type: 'REQUEST', methodArn: ${JSON.stringify(BENCH_METHOD_ARN)} };
  const context = {
    awsRequestId: 'c0ld-5tart', functionName: 'f', functionVersion: '1', memoryLimitInMB: '512',
    invokedFunctionArn: 'arn:aws:lambda:eu-west-1:123456789012:function:f:1', getRemainingTimeInMillis: () => 5000,
  };
  const started = performance.now();
  const effect = await handler(event, context).then((a) => a.policyDocument.Statement[0].Effect, (e) => 'threw ' + e.message);
  const decided = performance.now();
  report.cpuToFirstDecisionMs = cpu();
  if (mode === 'allow' && effect !== 'Allow') throw new Error('cold start: expected an Allow, got ' + effect);
  if (mode === 'error' && !effect.startsWith('threw')) throw new Error('cold start: expected a failure, got ' + effect);
  await ready;
  Object.assign(report, { firstDecisionMs: decided - started, keysSettledMs: keysSettled, processStartToFirstDecisionMs: decided });
}
writeSync(3, JSON.stringify(report));
`;

/** A child's exit code, once its stdio has closed. */
export function exited(child: ChildProcess): Promise<number | null> {
  return new Promise((done, fail) => {
    child.on('error', fail);
    child.on('close', done);
  });
}

/** Runs `node <args>`; the script reports on fd 3; its stdout and stderr (log lines) are drained, the last 64 KB kept. */
async function node(
  bin: string,
  args: string[],
  env: NodeJS.ProcessEnv,
): Promise<{ wallMs: number; result: Record<string, number>; lines: string[] }> {
  const started = performance.now();
  const child = spawn(bin, args, { env, stdio: ['ignore', 'pipe', 'pipe', 'pipe'] });
  let out = '';
  for (const stream of [child.stdout, child.stderr]) {
    stream?.setEncoding('utf8');
    stream?.on('data', (c: string) => {
      out = (out + c).slice(-65_536);
    });
  }
  let result = '';
  child.stdio[3]?.on('data', (c) => {
    result += c;
  });
  const code = await exited(child);
  if (code !== 0) throw new Error(`bench: ${bin} ${args.join(' ')} exited with ${code}: ${out.slice(-2000)}`);
  return {
    wallMs: performance.now() - started,
    result: result === '' ? {} : JSON.parse(result),
    lines: out.trim().split('\n'),
  };
}

const lineWith = (lines: readonly string[], text: string) =>
  lines.findLast((line) => line.includes(text)) ?? '';
const sorted = (xs: readonly number[]) => [...xs].sort((a, b) => a - b);
const quantile = (xs: readonly number[], q: number) =>
  sorted(xs)[Math.min(xs.length - 1, Math.floor(q * xs.length))] as number;
const median = (xs: readonly number[]) => quantile(xs, 0.5);
const round2 = (x: number) => Math.round(x * 100) / 100;

export interface ColdReport {
  readonly runtime: string;
  readonly nodeVersion: string;
  readonly runs: number;
  /** Module load of the bundle (the production configuration: no source maps). */
  readonly moduleLoadMs: number;
  readonly moduleLoadSpreadMs: readonly [number, number];
  /** The floor: a module that `require`s the builtins the bundle uses, loaded the same way. */
  readonly builtinsRequiredMs: number;
  /** The same builtins `import`ed from an ES module: what an ESM bundle pays for them. */
  readonly builtinsImportedMs: number;
  /** The same sources bundled as an ES module, and its load / floor in the same iteration. */
  readonly esmModuleLoadMs: number;
  readonly esmModuleLoadToFloor: number;
  /** Median over iterations of (bundle load / floor load in the same iteration), wall clock. */
  readonly moduleLoadToFloor: number;
  readonly moduleLoadToFloorSpread: readonly [number, number];
  /**
   * The same with each load's process CPU time (all threads) instead of its wall time: on a shared machine a
   * load that is preempted stretches in wall time but not in CPU time.
   */
  readonly moduleLoadCpuMs: number;
  readonly builtinsRequiredCpuMs: number;
  readonly moduleLoadCpuToFloor: number;
  /** The naive peer (bare-peer.ts, bundled the same way) loaded the same way, and our load over its load. */
  readonly peerModuleLoadMs: number;
  readonly peerModuleLoadCpuMs: number;
  /** Median over iterations of (bundle load / peer load in the same iteration): wall clock; CPU time. */
  readonly moduleLoadToPeer: number;
  readonly moduleLoadToPeerSpread: readonly [number, number];
  readonly moduleLoadCpuToPeer: number;
  /**
   * The same load with the variables `cdk deploy` gives the sample's authorizer (its route table among them),
   * read from the synthesized template, and over the peer's load in the same iteration: wall; CPU.
   */
  readonly sampleConfigModuleLoadMs: number;
  readonly sampleConfigModuleLoadCpuMs: number;
  readonly sampleConfigModuleLoadToPeer: number;
  readonly sampleConfigModuleLoadCpuToPeer: number;
  readonly moduleLoadWithSourceMapsMs: number;
  readonly firstDecisionMs: number;
  readonly keysSettledMs: number;
  readonly processStartToFirstDecisionMs: number;
  /** Process CPU (user + system, all threads) from its start to the first decision: what a cold start bills. */
  readonly cpuToFirstDecisionMs: number;
  /** The same three for the naive peer, handed its key set as its load returns (it fetches over https only). */
  readonly peerFirstDecisionMs: number;
  readonly peerProcessStartToFirstDecisionMs: number;
  readonly peerCpuToFirstDecisionMs: number;
  /** A first decision that fails as our own failures do (ERROR line with the stack), without and with maps. */
  readonly loggedErrorMs: number;
  readonly loggedErrorWithSourceMapsMs: number;
  readonly errorLine: string;
  readonly errorLineWithSourceMaps: string;
  readonly wallSpawnToExitMs: number;
  readonly wallNodeEmptyMs: number;
  readonly decisionLine: string;
}

export interface ColdBundle {
  readonly dir: string;
  readonly file: string;
  /** The same sources bundled as an ES module (`index.mjs`), the format the bundle had before, for comparison. */
  readonly esmFile: string;
  /** The naive peer (bare-peer.ts), bundled the same way. */
  readonly peerFile: string;
  readonly peerBytes: number;
  /** index.js: what the module load reads. */
  readonly bytes: number;
  /** decide.js, the decision code beside it: what every cold start also loads, before its first decision. */
  readonly decideBytes: number;
  readonly mapBytes: number;
  readonly bytesByPackage: Record<string, number>;
  readonly builtins: readonly string[];
  readonly remove: () => void;
}

function packageOf(input: string): string {
  const m = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(input);
  return m ? (m[1] as string) : 'entra-authorizer (ours)';
}

/** The naive peer of the cold bench: what aws-jwt-verify alone costs at load. */
export const BARE_PEER_ENTRY = 'test/bench/bare-peer.ts';

/** The bundle as the package and the construct build it (its lazy modules beside it), in a folder of its own as Lambda sees it. */
export async function buildColdBundle(root: string): Promise<ColdBundle> {
  const dir = mkdtempSync(join(tmpdir(), 'entra-bench-'));
  const [main, ...lazy] = lazyEsbuildOptions(
    NODE22_BUNDLING,
    join(root, AUTHORIZER_ENTRY),
    AUTHORIZER_LAZY_MODULES,
    dir,
  );
  const [built] = await Promise.all([
    build({ ...main, absWorkingDir: root, metafile: true, logLevel: 'silent' }),
    ...lazy.map((options) => build({ ...options, absWorkingDir: root, logLevel: 'silent' })),
  ]);
  const file = join(dir, bundleFileName(NODE22_BUNDLING));
  const asEsm = { ...NODE22_BUNDLING, format: OutputFormat.ESM };
  const esmDir = join(dir, 'esm');
  await build({
    ...esbuildOptions(withLazyModules(asEsm, AUTHORIZER_LAZY_MODULES), join(root, AUTHORIZER_ENTRY), esmDir),
    absWorkingDir: root,
    logLevel: 'silent',
  });
  const esmFile = join(esmDir, bundleFileName(asEsm));
  const peerDir = join(dir, 'peer');
  await build({
    ...esbuildOptions(NODE22_BUNDLING, join(root, BARE_PEER_ENTRY), peerDir),
    absWorkingDir: root,
    logLevel: 'silent',
  });
  const peerFile = join(peerDir, bundleFileName(NODE22_BUNDLING));
  const output = Object.entries(built.metafile.outputs).find(([f]) => !f.endsWith('.map'))?.[1] as
    | Metafile['outputs'][string]
    | undefined;
  if (output === undefined) throw new Error('bench: esbuild wrote no bundle');
  const bytesByPackage: Record<string, number> = {};
  for (const [input, { bytesInOutput }] of Object.entries(output.inputs))
    bytesByPackage[packageOf(input)] = (bytesByPackage[packageOf(input)] ?? 0) + bytesInOutput;
  // Node's builtins only (the runtime's AWS SDK, external too, is loaded at its first use, not at load): the
  // bundle's imports and its `process.getBuiltinModule` calls (one of them, node:http, runs only at a
  // plain-HTTP fetch, but node:https loads it anyway).
  const called = [...readFileSync(file, 'utf8').matchAll(/getBuiltinModule\("([a-z:_/]+)"\)/g)].map(
    (m) => m[1] as string,
  );
  const builtins = [
    ...new Set(
      [...output.imports.filter((i) => i.external).map((i) => i.path), ...called]
        .filter((path) => isBuiltin(path))
        .map((path) => (path.startsWith('node:') ? path : `node:${path}`)),
    ),
  ].sort();
  writeFileSync(join(dir, 'runner.mjs'), RUNNER);
  writeFileSync(join(dir, 'builtins.cjs'), builtins.map((b) => `require(${JSON.stringify(b)});\n`).join(''));
  writeFileSync(join(dir, 'builtins.mjs'), builtins.map((b) => `import ${JSON.stringify(b)};\n`).join(''));
  return {
    dir,
    file,
    esmFile,
    peerFile,
    peerBytes: statSync(peerFile).size,
    bytes: statSync(file).size,
    decideBytes: statSync(join(dir, 'decide.js')).size,
    mapBytes: statSync(`${file}.map`, { throwIfNoEntry: false })?.size ?? 0,
    bytesByPackage,
    builtins,
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}

/**
 * The variables of the sample's authorizer as the synthesized template gives them (tenant and client are the
 * bench's), beside the inherited ones: the configuration a deployed sample's cold start reads.
 */
export function sampleAuthorizerEnv(inherited: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const { template } = synthesizeSample({ entra: { tenantId: BENCH_TENANT, clientId: BENCH_CLIENT } });
  const variables = Object.values(template.Resources ?? {})
    .filter((r) => r.Type === 'AWS::Lambda::Function')
    .map((r) => (r.Properties?.Environment as { Variables?: Record<string, string> } | undefined)?.Variables)
    .find((v) => v?.[ENV_NAMES.tenantId] !== undefined);
  if (variables === undefined) throw new Error("bench: the sample's template has no authorizer function");
  const ours = Object.keys(inherited).filter((k) => k.startsWith('AZURE_') || k.startsWith('POWERTOOLS_'));
  return {
    ...Object.fromEntries(Object.entries(inherited).filter(([k]) => !ours.includes(k))),
    ...variables,
  };
}

/** `runs` iterations of every variant under `runtime`, interleaved. */
export async function runCold(runtime: Runtime, bundle: ColdBundle, runs: number): Promise<ColdReport> {
  const key = createSigningKey({
    kid: 'cold-key',
    issuer: 'https://login.microsoftonline.com/{tenantid}/v2.0',
  });
  const token = mintEntraAccessToken(key, { tenantId: BENCH_TENANT, audience: BENCH_CLIENT });
  const server = await KeyServer.start();
  server.jwks = { keys: [key.publicJwk] };
  const { NODE_OPTIONS: _, ...inherited } = process.env;
  const env: NodeJS.ProcessEnv = {
    ...inherited,
    ...PRODUCTION_ENV,
    [ENV_NAMES.tenantId]: BENCH_TENANT,
    [ENV_NAMES.audiences]: BENCH_CLIENT,
    [ENV_NAMES.requiredScopes]: 'access_as_user',
    [ENV_NAMES.jwksUri]: server.url,
    BENCH_JWKS: JSON.stringify(server.jwks),
  };
  const sampleEnv = sampleAuthorizerEnv(inherited);
  const runner = join(bundle.dir, 'runner.mjs');
  const run = (flags: string[], file: string, mode: 'load' | 'allow' | 'error') =>
    node(runtime.node, [...flags, runner, file, mode, token], env);
  const maps = ['--enable-source-maps'];
  const samples: Record<string, number[]> = {};
  const add = (name: string, value: number | undefined) => {
    if (value === undefined || Number.isNaN(value)) throw new Error(`bench: no ${name} measured`);
    samples[name] = [...(samples[name] ?? []), value];
  };
  let decisionLine = '';
  let errorLine = '';
  let errorLineWithSourceMaps = '';
  try {
    for (let i = 0; i < runs; i++) {
      add('wallNodeEmptyMs', (await node(runtime.node, ['-e', '0'], env)).wallMs);
      const floor = await run([], join(bundle.dir, 'builtins.cjs'), 'load');
      const peer = await run([], bundle.peerFile, 'allow');
      const cold = await run([], bundle.file, 'allow');
      const sample = (await node(runtime.node, [runner, bundle.file, 'load'], sampleEnv)).result;
      add('sampleConfigModuleLoadMs', sample.moduleLoadMs);
      add('sampleConfigModuleLoadCpuMs', sample.moduleLoadCpuMs);
      add('sampleConfigPeerRatio', (sample.moduleLoadMs as number) / (peer.result.moduleLoadMs as number));
      add(
        'sampleConfigPeerCpuRatio',
        (sample.moduleLoadCpuMs as number) / (peer.result.moduleLoadCpuMs as number),
      );
      add('peerModuleLoadMs', peer.result.moduleLoadMs);
      add('peerModuleLoadCpuMs', peer.result.moduleLoadCpuMs);
      add('peerRatio', (cold.result.moduleLoadMs as number) / (peer.result.moduleLoadMs as number));
      add('peerCpuRatio', (cold.result.moduleLoadCpuMs as number) / (peer.result.moduleLoadCpuMs as number));
      add('builtinsRequiredMs', floor.result.moduleLoadMs);
      add('moduleLoadMs', cold.result.moduleLoadMs);
      add('ratio', (cold.result.moduleLoadMs as number) / (floor.result.moduleLoadMs as number));
      add('moduleLoadCpuMs', cold.result.moduleLoadCpuMs);
      add('builtinsRequiredCpuMs', floor.result.moduleLoadCpuMs);
      add('cpuRatio', (cold.result.moduleLoadCpuMs as number) / (floor.result.moduleLoadCpuMs as number));
      for (const k of [
        'firstDecisionMs',
        'keysSettledMs',
        'processStartToFirstDecisionMs',
        'cpuToFirstDecisionMs',
      ])
        add(k, cold.result[k]);
      add('peerFirstDecisionMs', peer.result.firstDecisionMs);
      add('peerProcessStartToFirstDecisionMs', peer.result.processStartToFirstDecisionMs);
      add('peerCpuToFirstDecisionMs', peer.result.cpuToFirstDecisionMs);
      add('wallSpawnToExitMs', cold.wallMs);
      decisionLine = lineWith(cold.lines, 'authorizer decision');
      add(
        'builtinsImportedMs',
        (await run([], join(bundle.dir, 'builtins.mjs'), 'load')).result.moduleLoadMs,
      );
      const esm = (await run([], bundle.esmFile, 'load')).result.moduleLoadMs as number;
      add('esmModuleLoadMs', esm);
      add('esmRatio', esm / (floor.result.moduleLoadMs as number));
      add('moduleLoadWithSourceMapsMs', (await run(maps, bundle.file, 'allow')).result.moduleLoadMs);
      const failed = await run([], bundle.file, 'error');
      add('loggedErrorMs', failed.result.firstDecisionMs);
      errorLine = lineWith(failed.lines, '"level":"ERROR"');
      const failedMapped = await run(maps, bundle.file, 'error');
      add('loggedErrorWithSourceMapsMs', failedMapped.result.firstDecisionMs);
      errorLineWithSourceMaps = lineWith(failedMapped.lines, '"level":"ERROR"');
    }
  } finally {
    await server.stop();
  }
  const m = (name: string) => round2(median(samples[name] as number[]));
  const spread = (name: string) =>
    [
      round2(quantile(samples[name] as number[], 0.1)),
      round2(quantile(samples[name] as number[], 0.9)),
    ] as const;
  const version = (await node(runtime.node, ['-p', 'process.version'], {})).lines.at(-1) ?? '';
  return {
    runtime: runtime.label,
    nodeVersion: version,
    runs,
    moduleLoadMs: m('moduleLoadMs'),
    moduleLoadSpreadMs: spread('moduleLoadMs'),
    builtinsRequiredMs: m('builtinsRequiredMs'),
    builtinsImportedMs: m('builtinsImportedMs'),
    esmModuleLoadMs: m('esmModuleLoadMs'),
    esmModuleLoadToFloor: m('esmRatio'),
    moduleLoadToFloor: m('ratio'),
    moduleLoadToFloorSpread: spread('ratio'),
    moduleLoadCpuMs: m('moduleLoadCpuMs'),
    builtinsRequiredCpuMs: m('builtinsRequiredCpuMs'),
    moduleLoadCpuToFloor: m('cpuRatio'),
    peerModuleLoadMs: m('peerModuleLoadMs'),
    peerModuleLoadCpuMs: m('peerModuleLoadCpuMs'),
    moduleLoadToPeer: m('peerRatio'),
    moduleLoadToPeerSpread: spread('peerRatio'),
    moduleLoadCpuToPeer: m('peerCpuRatio'),
    sampleConfigModuleLoadMs: m('sampleConfigModuleLoadMs'),
    sampleConfigModuleLoadCpuMs: m('sampleConfigModuleLoadCpuMs'),
    sampleConfigModuleLoadToPeer: m('sampleConfigPeerRatio'),
    sampleConfigModuleLoadCpuToPeer: m('sampleConfigPeerCpuRatio'),
    moduleLoadWithSourceMapsMs: m('moduleLoadWithSourceMapsMs'),
    firstDecisionMs: m('firstDecisionMs'),
    keysSettledMs: m('keysSettledMs'),
    processStartToFirstDecisionMs: m('processStartToFirstDecisionMs'),
    cpuToFirstDecisionMs: m('cpuToFirstDecisionMs'),
    peerFirstDecisionMs: m('peerFirstDecisionMs'),
    peerProcessStartToFirstDecisionMs: m('peerProcessStartToFirstDecisionMs'),
    peerCpuToFirstDecisionMs: m('peerCpuToFirstDecisionMs'),
    loggedErrorMs: m('loggedErrorMs'),
    loggedErrorWithSourceMapsMs: m('loggedErrorWithSourceMapsMs'),
    errorLine,
    errorLineWithSourceMaps,
    wallSpawnToExitMs: m('wallSpawnToExitMs'),
    wallNodeEmptyMs: m('wallNodeEmptyMs'),
    decisionLine,
  };
}

/** Whether a logged ERROR line's stack names our TypeScript sources (source maps applied) or only the bundle. */
export function stackNamesSources(line: string): boolean {
  return /lambda\/authorizer\/[a-z-]+\.ts:\d+/.test(line);
}
