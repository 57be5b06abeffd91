import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  type FunctionSpec,
  FunctionTimeoutError,
  startFunctionRunner,
} from '../../infra/local/lambda-runner.js';

// A function whose module state shows whether its environment is fresh: `count` restarts at 1 in a new one.
const HANDLER = `
let count = 0;
exports.handler = async (event) => {
  count++;
  if (event.hang) await new Promise(() => {});
  if (event.exit) process.exit(3);
  if (event.fail) throw new TypeError('bad input');
  return {
    count,
    region: process.env.AWS_REGION,
    own: process.env.OWN,
    name: process.env.AWS_LAMBDA_FUNCTION_NAME,
    init: process.env.AWS_LAMBDA_INITIALIZATION_TYPE,
  };
};
`;

const dir = mkdtempSync(join(tmpdir(), 'entra-authorizer-runner-'));
writeFileSync(join(dir, 'index.js'), HANDLER);
writeFileSync(join(dir, 'broken.js'), 'throw new Error("init failed here");');
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const spec = (handler: string): FunctionSpec => ({
  name: 'Fn',
  dir,
  handler,
  environment: { OWN: 'mine' },
  timeoutSeconds: 1,
  memorySize: 128,
});

describe('a function runner', () => {
  it('keeps module state between invocations, and replaces the environment after a timeout or a crash', async () => {
    const runner = startFunctionRunner(spec('index.handler'));
    try {
      await runner.ready;
      // An on-demand environment, as Lambda says in AWS_LAMBDA_INITIALIZATION_TYPE (the first line is a cold start).
      expect(await runner.invoke({})).toMatchObject({ count: 1, own: 'mine', name: 'Fn', init: 'on-demand' });
      expect(await runner.invoke({})).toMatchObject({ count: 2 });
      await expect(runner.invoke({ hang: true })).rejects.toThrow(FunctionTimeoutError);
      expect(await runner.invoke({})).toMatchObject({ count: 1 });
      await expect(runner.invoke({ exit: true })).rejects.toThrow("the function's runtime exited (code 3)");
      expect(await runner.invoke({})).toMatchObject({ count: 1 });
    } finally {
      await runner.stop();
    }
  });

  it("rejects with the function's own error: its name, message and the stack where it threw", async () => {
    const runner = startFunctionRunner(spec('index.handler'));
    try {
      const err = (await runner.invoke({ fail: true }).catch((e: unknown) => e)) as Error;
      expect([err.name, err.message]).toEqual(['TypeError', 'bad input']);
      expect(err.stack).toMatch(/^TypeError: bad input\n\s+at exports\.handler \(.*index\.js:\d+:\d+\)/);
    } finally {
      await runner.stop();
    }
  });

  it('reports an init error through ready, and fails what is waiting when stopped', async () => {
    const broken = startFunctionRunner(spec('broken.handler'));
    await expect(broken.ready).rejects.toThrow('init failed here');
    await broken.stop();
    const runner = startFunctionRunner(spec('index.handler'));
    await runner.ready;
    const waiting = runner.invoke({ hang: true });
    // Past the invocation's own awaits (microtasks), so it is posted and waiting for an answer.
    await new Promise((done) => setImmediate(done));
    const outcome = expect(waiting).rejects.toThrow('stopped');
    await runner.stop();
    await outcome;
  });
});

describe("a function's asset inside an app whose package.json says type module", () => {
  // cdk.out of an ES module app: Lambda sees no package.json above /var/task, so the asset's .js files are
  // CommonJS, including those the handler requires after its init (the authorizer's decide.js, hints.js).
  const app = mkdtempSync(join(tmpdir(), 'entra-authorizer-esm-app-'));
  const asset = join(app, 'cdk.out', 'asset.0123');
  afterAll(() => rmSync(app, { recursive: true, force: true }));

  it('loads the handler and the files it requires later as CommonJS, as Lambda does', async () => {
    writeFileSync(join(app, 'package.json'), JSON.stringify({ type: 'module' }));
    mkdirSync(asset, { recursive: true });
    writeFileSync(join(asset, 'index.js'), "exports.handler = async () => require('./later.js').answer;");
    writeFileSync(join(asset, 'later.js'), "module.exports = { answer: 'from a sibling, after the init' };");
    const runner = startFunctionRunner({ ...spec('index.handler'), dir: asset });
    try {
      expect(await runner.invoke({})).toBe('from a sibling, after the init');
    } finally {
      await runner.stop();
    }
  });
});
