/**
 * Why `entra-authorizer start` runs each Lambda function on a worker thread rather than in a child process:
 * `node --import tsx test/bench/function-isolation.ts` (BENCH_ISOLATION_RUNS functions of each kind, 5 by
 * default). For each kind it starts a function (a handler module in a folder of its own, as `cdk synth`
 * stages one) until its module has loaded, then times invocations one after another, then measures what
 * the functions cost in memory: the worker threads by this process's RSS growth, the child processes by
 * their own RSS. The worker side is the runner the command uses (infra/local/lambda-runner.ts); the child
 * side the least a child process needs to do the same (fork, require the handler, answer over IPC).
 * Figures in docs/local.md.
 */
import { type ChildProcess, fork } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type FunctionRunner, startFunctionRunner } from '../../infra/local/lambda-runner.js';

const RUNS = Number(process.env.BENCH_ISOLATION_RUNS ?? 5);
const INVOCATIONS = 500;

const HANDLER = `let calls = 0;
exports.handler = async (event) => ({ statusCode: 200, body: JSON.stringify({ calls: ++calls, path: event.path }) });
`;

const CHILD = `const { handler } = require(process.argv[2]);
process.on('message', ({ id, event }) => handler(event).then((result) => process.send({ id, result })));
process.send({ ready: true, rss: process.memoryUsage().rss });
`;

const median = (values: readonly number[]) =>
  [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? NaN;
const ms = (since: bigint) => Number(process.hrtime.bigint() - since) / 1e6;
const event = { path: '/orders/42', httpMethod: 'GET' };

async function roundTrips(invoke: (e: unknown) => Promise<unknown>): Promise<number> {
  const times: number[] = [];
  for (let i = 0; i < INVOCATIONS; i++) {
    const t = process.hrtime.bigint();
    await invoke(event);
    times.push(ms(t));
  }
  return median(times);
}

async function workers(dir: string) {
  const runners: FunctionRunner[] = [];
  const starts: number[] = [];
  const trips: number[] = [];
  const rss0 = process.memoryUsage().rss;
  for (let i = 0; i < RUNS; i++) {
    const t = process.hrtime.bigint();
    const runner = startFunctionRunner({
      name: `Fn${i}`,
      dir,
      handler: 'index.handler',
      environment: {},
      timeoutSeconds: 3,
      memorySize: 128,
    });
    runners.push(runner);
    await runner.ready;
    starts.push(ms(t));
    trips.push(await roundTrips(runner.invoke));
  }
  const perFunction = (process.memoryUsage().rss - rss0) / RUNS;
  await Promise.all(runners.map((r) => r.stop()));
  return { start: median(starts), trip: median(trips), memory: perFunction };
}

async function children(dir: string) {
  const script = join(dir, 'child.cjs');
  writeFileSync(script, CHILD);
  const started: ChildProcess[] = [];
  const starts: number[] = [];
  const trips: number[] = [];
  const rss: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const t = process.hrtime.bigint();
    const child = fork(script, [join(dir, 'index.js')], { env: {}, execArgv: [], stdio: 'ignore' });
    started.push(child);
    const pending = new Map<number, (v: unknown) => void>();
    await new Promise<void>((ready) =>
      child.on('message', (m: { ready?: boolean; rss?: number; id?: number; result?: unknown }) => {
        if (m.ready === true) {
          rss.push(m.rss ?? NaN);
          ready();
        } else pending.get(m.id ?? -1)?.(m.result);
      }),
    );
    starts.push(ms(t));
    let id = 0;
    trips.push(
      await roundTrips(
        (e) =>
          new Promise((done) => {
            pending.set(++id, done);
            child.send({ id, event: e });
          }),
      ),
    );
  }
  for (const child of started) child.kill();
  return { start: median(starts), trip: median(trips), memory: median(rss) };
}

const dir = mkdtempSync(join(tmpdir(), 'entra-isolation-'));
try {
  writeFileSync(join(dir, 'index.js'), HANDLER);
  const mb = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(1)} MB`;
  for (const [kind, result] of [
    ['worker thread', await workers(dir)],
    ['child process', await children(dir)],
  ] as const) {
    console.log(
      `${kind.padEnd(14)} start to ready ${result.start.toFixed(0)} ms, round trip ${result.trip.toFixed(3)} ms (median of ${INVOCATIONS}), memory ${mb(result.memory)} per function (${RUNS} functions, Node.js ${process.version})`,
    );
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
