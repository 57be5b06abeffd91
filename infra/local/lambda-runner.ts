import { randomUUID } from 'node:crypto';
import { Worker } from 'node:worker_threads';
import type { LambdaHandler } from './gateway.js';

/**
 * Each Lambda function of a served assembly runs on a worker thread of its own: its own process.env (the
 * template's variables and the documented overrides, nothing of the shell's) and its own module state,
 * apart from the server and the other functions. Worker threads rather than child processes, as measured by
 * test/bench/function-isolation.ts (figures in docs/local.md): starting one costs about the same (tens of
 * milliseconds either way, with the load of the machine deciding which is ahead), an invocation's round trip
 * is a little shorter, and a worker takes about a quarter of a child process's memory.
 */

/** The worker's script, plain CommonJS beside this module (in the package: beside the CLI bundle). */
const WORKER_SCRIPT = new URL('./lambda-worker.cjs', import.meta.url);

export interface FunctionSpec {
  /** The function's logical id, its name locally. */
  readonly name: string;
  /** The asset folder its code was staged in. */
  readonly dir: string;
  /** `index.handler`, from the template. */
  readonly handler: string;
  readonly environment: Readonly<Record<string, string>>;
  readonly timeoutSeconds: number;
  readonly memorySize: number;
}

export interface FunctionRunner {
  readonly invoke: LambdaHandler;
  /** Settles once the handler module has loaded (the init phase); rejects with its error. */
  readonly ready: Promise<void>;
  stop(): Promise<void>;
}

/** What Lambda reports for a function that runs past its own timeout. */
export class FunctionTimeoutError extends Error {
  override readonly name = 'FunctionTimeoutError';
}

interface Pending {
  readonly resolve: (value: unknown) => void;
  readonly reject: (err: Error) => void;
}

type WorkerMessage =
  | { readonly ready: true }
  | { readonly ready: false; readonly error: PostedError }
  | { readonly id: string; readonly ok: true; readonly result: unknown }
  | { readonly id: string; readonly ok: false; readonly error: PostedError };

interface PostedError {
  readonly name: string;
  readonly message: string;
  readonly stack?: string;
}

/** The function's error as its worker posted it: its own stack, where the function threw. */
function errorFrom({ name, message, stack }: PostedError): Error {
  const err = new Error(message);
  err.name = name;
  err.stack = stack ?? `${name}: ${message}`;
  return err;
}

/** The variables Lambda sets in every Node.js function's environment, before the function's own. */
function lambdaEnvironment(spec: FunctionSpec): Record<string, string> {
  const region = process.env.AWS_REGION ?? 'us-east-1';
  return {
    ...(process.env.PATH !== undefined ? { PATH: process.env.PATH } : {}),
    AWS_REGION: region,
    AWS_DEFAULT_REGION: region,
    AWS_LAMBDA_FUNCTION_NAME: spec.name,
    AWS_LAMBDA_FUNCTION_VERSION: '$LATEST',
    AWS_LAMBDA_FUNCTION_MEMORY_SIZE: String(spec.memorySize),
    AWS_EXECUTION_ENV: 'AWS_Lambda_nodejs',
    // Each environment starts on demand, so its first invocation is a cold start (Powertools' cold_start).
    AWS_LAMBDA_INITIALIZATION_TYPE: 'on-demand',
    LAMBDA_TASK_ROOT: spec.dir,
    _HANDLER: spec.handler,
  };
}

/**
 * A runner's mutable part: its current worker (undefined once lost), that worker's init, and the
 * invocations awaiting an answer.
 */
interface RunnerState {
  worker: Worker | undefined;
  ready: Promise<void>;
  readonly pending: Map<string, Pending>;
}

function rejectPending(state: RunnerState, err: Error): void {
  for (const p of state.pending.values()) p.reject(err);
  state.pending.clear();
}

/** The worker thread for a function: Lambda's environment and the function's own, nothing of the shell's. */
function createWorker(spec: FunctionSpec): Worker {
  return new Worker(WORKER_SCRIPT, {
    workerData: {
      dir: spec.dir,
      handler: spec.handler,
      functionName: spec.name,
      timeoutSeconds: spec.timeoutSeconds,
      memorySize: spec.memorySize,
    },
    env: { ...lambdaEnvironment(spec), ...spec.environment },
    execArgv: [],
    resourceLimits: { maxOldGenerationSizeMb: Math.max(64, spec.memorySize) },
  });
}

/** Settles the invocation an answer belongs to. */
function settle(pending: Map<string, Pending>, message: Extract<WorkerMessage, { id: string }>): void {
  const p = pending.get(message.id);
  pending.delete(message.id);
  if (message.ok) p?.resolve(message.result);
  else p?.reject(errorFrom(message.error));
}

/**
 * Starts a worker as the runner's current one; settles once its handler module has loaded. A worker that
 * errs or exits is dropped, failing its init and whatever awaits an answer from it.
 */
function startWorker(spec: FunctionSpec, state: RunnerState): Promise<void> {
  const current = createWorker(spec);
  state.worker = current;
  return new Promise<void>((done, fail) => {
    current.on('message', (message: WorkerMessage) => {
      if ('ready' in message) {
        if (message.ready) done();
        else fail(errorFrom(message.error));
        return;
      }
      settle(state.pending, message);
    });
    const lost = (err: Error) => {
      if (state.worker === current) state.worker = undefined;
      fail(err);
      rejectPending(state, err);
    };
    current.on('error', lost);
    current.on('exit', (code) => lost(new Error(`the function's runtime exited (code ${code})`)));
  });
}

function restart(spec: FunctionSpec, state: RunnerState): Promise<void> {
  state.ready = startWorker(spec, state);
  // A failed init is reported to whoever awaits it; an invocation retries with a fresh environment.
  state.ready.catch(() => undefined);
  return state.ready;
}

/** One invocation on a worker; past the function's timeout it fails and the worker is dropped. */
function invokeOn(spec: FunctionSpec, state: RunnerState, current: Worker, event: unknown): Promise<unknown> {
  const id = randomUUID();
  return new Promise<unknown>((resolve, reject) => {
    const timer = setTimeout(() => {
      state.pending.delete(id);
      reject(new FunctionTimeoutError(`Task timed out after ${spec.timeoutSeconds.toFixed(2)} seconds`));
      // The environment is lost with the timed-out invocation; the next one starts afresh.
      if (state.worker === current) state.worker = undefined;
      void current.terminate();
    }, spec.timeoutSeconds * 1000);
    state.pending.set(id, {
      resolve: (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      reject: (err) => {
        clearTimeout(timer);
        reject(err);
      },
    });
    current.postMessage({ id, event });
  });
}

/**
 * A function's execution environment: started at once (so init errors show at start), restarted after a
 * timeout or a crash, as Lambda replaces an environment that timed out.
 */
export function startFunctionRunner(spec: FunctionSpec): FunctionRunner {
  const state: RunnerState = { worker: undefined, ready: Promise.resolve(), pending: new Map() };
  restart(spec, state);

  const invoke: LambdaHandler = async (event) => {
    if (state.worker === undefined) await restart(spec, state);
    await state.ready;
    return invokeOn(spec, state, state.worker as Worker, event);
  };

  return {
    invoke,
    get ready() {
      return state.ready;
    },
    stop: async () => {
      const current = state.worker;
      state.worker = undefined;
      rejectPending(state, new Error('stopped'));
      await current?.terminate();
    },
  };
}
