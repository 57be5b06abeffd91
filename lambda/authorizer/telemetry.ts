import type { DecisionRecord } from './authorizer.js';
import { clip, LOG_LIMITS } from './safe-text.js';
import { DECISION_METRIC, LOG_LEVELS, type LogLevel, type TelemetryConfig } from './telemetry-config.js';

/**
 * The authorizer's log lines and its `Decisions` metric, in the shape Powertools for AWS Lambda writes them
 * (same keys, same environment variables), at the cost of one `JSON.stringify` and one write per decision:
 * the decision line itself carries the CloudWatch embedded metric format (EMF) metadata, so one line is
 * both the log entry and the metric.
 */

type LineLevel = Exclude<LogLevel, 'SILENT'>;

/** The part of Lambda's context a line carries (Powertools' names). */
export interface InvocationContext {
  readonly awsRequestId: string;
  readonly functionName: string;
  readonly invokedFunctionArn: string;
  readonly memoryLimitInMB: string;
  readonly tenantId?: string;
}

export interface TelemetryDeps {
  /** Writes one line (newline included) at INFO and below; to stdout by default. */
  readonly out?: (line: string) => void;
  /** Writes one line at WARN and above; to stderr by default, as Powertools does. */
  readonly err?: (line: string) => void;
  /** Milliseconds since the epoch. */
  readonly now?: () => number;
  /** [0, 1): decides which invocations are sampled. */
  readonly random?: () => number;
  /** The X-Ray trace header of the current invocation (Lambda sets `_X_AMZN_TRACE_ID` per invocation). */
  readonly traceHeader?: () => string | undefined;
}

export type Fields = Readonly<Record<string, unknown>>;

export interface Telemetry {
  /** One line per decision: INFO (ERROR for our own failures), with the EMF metric when metrics are on. */
  decision(record: DecisionRecord<unknown>, invocation?: InvocationContext): void;
  debug(message: string, fields?: Fields): void;
  info(message: string, fields?: Fields): void;
  warn(message: string, fields?: Fields): void;
  error(message: string, fields?: Fields): void;
}

/** Keys every line may start with, and the metric's own members: a record field must not reuse them. */
export const RESERVED_KEYS = [
  'level',
  'message',
  'timestamp',
  'service',
  'cold_start',
  'function_arn',
  'function_memory_size',
  'function_name',
  'function_request_id',
  'sampling_rate',
  'xray_trace_id',
  'tenant_id',
  'error',
  '_aws',
  DECISION_METRIC.name,
] as const;
type ReservedKey = (typeof RESERVED_KEYS)[number];
// A DecisionRecord field named like a key above, or like the decision's own outcome, reason and detail,
// would appear twice in one JSON line: refuse it at compile time (if this fails to compile, a field of
// DecisionRecord needs another name).
const noReservedRecordField: [
  Extract<Exclude<keyof DecisionRecord, 'error'>, ReservedKey | 'outcome' | 'reason' | 'detail'>,
] extends [never]
  ? true
  : never = true;
void noReservedRecordField;

/** Powertools' error shape: name, location (first stack frame), message, stack, cause; capped as records are. */
export function formatError(error: unknown, depth = 0): unknown {
  if (!(error instanceof Error)) return clip(String(error), LOG_LIMITS.detail);
  const stack = clip(typeof error.stack === 'string' ? error.stack : '', LOG_LIMITS.stack);
  // The first frame, "at fn (file:line:col)" or "at file:line:col".
  const frame = /^\s*at (?:.*\()?([^()\s]+?):(\d+):\d+\)?$/m.exec(stack);
  return {
    name: error.name,
    location: frame ? `${frame[1]}:${frame[2]}` : '',
    message: clip(error.message, LOG_LIMITS.detail),
    stack,
    ...(error.cause !== undefined && depth < 3 ? { cause: formatError(error.cause, depth + 1) } : {}),
  };
}

/** JSON.stringify that never throws: bigints become strings, repeated objects and functions are dropped. */
function safeStringify(value: object): string {
  const seen = new WeakSet<object>();
  return JSON.stringify(value, (_key, v: unknown) => {
    if (typeof v === 'bigint') return v.toString();
    if (v instanceof Error) return formatError(v);
    if (typeof v === 'object' && v !== null) {
      if (seen.has(v)) return undefined;
      seen.add(v);
    }
    return v;
  });
}

let isoSecond = Number.NaN;
let isoPrefix = '';
/** `Date#toISOString`, with the part up to the second made once per second (it is a third of a line's cost). */
export function isoTimestamp(epochMs: number): string {
  const second = Math.floor(epochMs / 1000);
  if (second !== isoSecond) {
    isoSecond = second;
    isoPrefix = new Date(second * 1000).toISOString().slice(0, -4);
  }
  const ms = epochMs - second * 1000;
  return `${isoPrefix}${ms < 10 ? '00' : ms < 100 ? '0' : ''}${ms}Z`;
}

const xrayRoot = (header: string | undefined) => {
  if (header === undefined) return undefined;
  const start = header.indexOf('Root=');
  if (start < 0) return undefined;
  const end = header.indexOf(';', start);
  return header.slice(start + 5, end < 0 ? undefined : end);
};

const IGNORES_ERRORS = Symbol.for('entra-authorizer.telemetry.ignores-write-errors');

/**
 * Writes lines to the stream `of` returns (stdout, stderr), resolved at the first line: Node creates
 * process.stdout lazily, and that half a millisecond need not be spent during the import. A failed write
 * (EPIPE once the reader is gone) is dropped, as Node's console drops it: losing a log line must not crash
 * the authorizer with an unhandled 'error' event.
 */
export function lineWriter(of: () => NodeJS.WritableStream): (line: string) => void {
  let stream: NodeJS.WritableStream | undefined;
  return (line) => {
    if (stream === undefined) {
      stream = of();
      const marked = stream as NodeJS.WritableStream & { [IGNORES_ERRORS]?: true };
      if (marked[IGNORES_ERRORS] !== true) {
        marked[IGNORES_ERRORS] = true;
        stream.on('error', () => {});
      }
    }
    stream.write(line);
  };
}

/** The one writer of the authorizer's log lines and metric. */
export function createTelemetry(config: TelemetryConfig, deps: TelemetryDeps = {}): Telemetry {
  const out = deps.out ?? lineWriter(() => process.stdout);
  const err = deps.err ?? lineWriter(() => process.stderr);
  const now = deps.now ?? Date.now;
  const random = deps.random ?? Math.random;
  const traceHeader = deps.traceHeader ?? (() => process.env._X_AMZN_TRACE_ID);
  const threshold = LOG_LEVELS[config.logLevel];
  const sampledThreshold = Math.min(threshold, LOG_LEVELS[config.sampledLogLevel]);
  const service = JSON.stringify(config.serviceName);
  const sampling = config.sampleRate > 0 ? `,"sampling_rate":${config.sampleRate}` : '';
  const write = (level: LineLevel, line: string) => {
    const text = config.pretty ? JSON.stringify(JSON.parse(line), null, 4) : line;
    (LOG_LEVELS[level] >= LOG_LEVELS.WARN ? err : out)(`${text}\n`);
  };

  // The EMF metadata is the same on every line but for the timestamp: serialized once.
  const directives =
    config.metricsNamespace === undefined
      ? ''
      : JSON.stringify([
          {
            Namespace: config.metricsNamespace,
            Dimensions: [DECISION_METRIC.dimensions],
            Metrics: [{ Name: DECISION_METRIC.name, Unit: DECISION_METRIC.unit }],
          },
        ]);
  const metricMembers = (timestamp: number) =>
    `"${DECISION_METRIC.name}":1,"_aws":{"Timestamp":${timestamp},"CloudWatchMetrics":${directives}}`;

  // cold_start is true on the lines of the environment's first invocation only. The function's own keys are
  // the same on every invocation: serialized again only if they change.
  let firstRequestId: string | undefined;
  let functionArn: string | undefined;
  let functionName: string | undefined;
  let memorySize: string | undefined;
  let functionKeys = '';
  const invocationKeys = (invocation: InvocationContext | undefined) => {
    if (invocation === undefined) return '';
    const { awsRequestId, invokedFunctionArn, memoryLimitInMB } = invocation;
    if (
      invokedFunctionArn !== functionArn ||
      invocation.functionName !== functionName ||
      memoryLimitInMB !== memorySize
    ) {
      functionArn = invokedFunctionArn;
      functionName = invocation.functionName;
      memorySize = memoryLimitInMB;
      const memory = Number(memoryLimitInMB);
      functionKeys = `,"function_arn":${JSON.stringify(functionArn)}${Number.isFinite(memory) ? `,"function_memory_size":${memory}` : ''},"function_name":${JSON.stringify(functionName)}`;
    }
    firstRequestId ??= awsRequestId;
    const coldStart = config.coldStartOnFirstInvocation && awsRequestId === firstRequestId;
    return `,"cold_start":${coldStart}${functionKeys},"function_request_id":${JSON.stringify(awsRequestId)}`;
  };

  /** `{"level":..,"message":..,"timestamp":..,"service":..` and the invocation's keys, in Powertools' order. */
  const head = (level: LineLevel, message: string, timestamp: number, invocation?: InvocationContext) => {
    const trace = xrayRoot(traceHeader());
    const tenant =
      invocation?.tenantId === undefined ? '' : `,"tenant_id":${JSON.stringify(invocation.tenantId)}`;
    return `{"level":"${level}","message":${JSON.stringify(message)},"timestamp":"${isoTimestamp(timestamp)}","service":${service}${invocationKeys(invocation)}${sampling}${trace === undefined ? '' : `,"xray_trace_id":${JSON.stringify(trace)}`}${tenant}`;
  };

  const log = (level: LineLevel, message: string, fields?: Fields) => {
    if (LOG_LEVELS[level] < threshold) return;
    const text = fields === undefined ? '' : members(fields);
    write(level, `${head(level, message, Math.floor(now()))}${text === '' ? '' : `,${text}`}}`);
  };

  return {
    decision(record, invocation) {
      const { decision, error } = record;
      const level: LineLevel = decision.outcome === 'error' ? 'ERROR' : 'INFO';
      const sampled = config.sampleRate > 0 && random() < config.sampleRate;
      const logged = LOG_LEVELS[level] >= (sampled ? sampledThreshold : threshold);
      const metric = config.metricsNamespace !== undefined;
      if (!logged && !metric) return;
      const timestamp = Math.floor(now());
      if (!logged) {
        // The level keeps the decision out of the log, but the metric must still reach CloudWatch.
        const dimensions = `"service":${service},"outcome":${JSON.stringify(decision.outcome)},"reason":${JSON.stringify(decision.reason)}`;
        write(level, `{${metricMembers(timestamp)},${dimensions}}`);
        return;
      }
      // Every safe field of the record, whatever fields it grows; `decision` (it holds the policy) is not one.
      const fields = {
        outcome: decision.outcome,
        reason: decision.reason,
        detail: decision.detail,
        ...record,
        decision: undefined,
        error: error === undefined ? undefined : formatError(error),
      };
      write(
        level,
        `${head(level, 'authorizer decision', timestamp, invocation)},${decisionMembers(fields)}${metric ? `,${metricMembers(timestamp)}` : ''}}`,
      );
    },
    debug: (message, fields) => log('DEBUG', message, fields),
    info: (message, fields) => log('INFO', message, fields),
    warn: (message, fields) => log('WARN', message, fields),
    error: (message, fields) => log('ERROR', message, fields),
  };
}

/** The members of a decision's fields as JSON text without the braces (no key of theirs is reserved). */
function decisionMembers(fields: Fields): string {
  let text: string;
  try {
    text = JSON.stringify(fields);
  } catch {
    text = safeStringify(fields);
  }
  return text.slice(1, -1);
}

/** The members of free-form fields as JSON text without the braces; keys the line's head uses are dropped. */
function members(fields: Fields): string {
  const kept: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(fields))
    if (key === 'error' || !(RESERVED_KEYS as readonly string[]).includes(key)) kept[key] = value;
  return safeStringify(kept).slice(1, -1);
}
