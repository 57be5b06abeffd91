import type { DecisionRecord } from './authorizer.js';
import type { Decision } from './decision.js';
import { loggableError } from './safe-text.js';
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

type Fields = Readonly<Record<string, unknown>>;

interface Telemetry {
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

/**
 * Powertools' error shape (name, location: the first stack frame, message, stack, cause) of the error as
 * `loggableError` caps it; a thrown value that is not an Error, as its capped text.
 */
function formatError(error: unknown): unknown {
  const safe = loggableError(error);
  return error instanceof Error ? errorShape(safe) : safe.message;
}

function errorShape(error: Error): Record<string, unknown> {
  const stack = error.stack ?? '';
  // The first frame, "at fn (file:line:col)" or "at file:line:col".
  const frame = /^\s*at (?:.*\()?([^()\s]+?):(\d+):\d+\)?$/m.exec(stack);
  return {
    name: error.name,
    location: frame ? `${frame[1]}:${frame[2]}` : '',
    message: error.message,
    stack,
    ...(error.cause instanceof Error ? { cause: errorShape(error.cause) } : {}),
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

/**
 * Powertools' standard keys, in the order its formatter (`PowertoolsLogFormatter.formatAttributes`) writes
 * them. A type, not an interface, so that it is a `Record<string, unknown>` a line's other members join.
 */
type LogAttributes = {
  readonly level: LineLevel;
  readonly message: string;
  readonly timestamp: string;
  readonly service: string;
  readonly cold_start?: boolean;
  readonly function_arn?: string;
  readonly function_memory_size?: number;
  readonly function_name?: string;
  readonly function_request_id?: string;
  readonly sampling_rate?: number;
  readonly xray_trace_id?: string;
  readonly tenant_id?: string;
};

/** What one line's standard keys are made of: the configuration's part and this line's. */
interface LineFacts {
  readonly level: LineLevel;
  readonly message: string;
  /** Milliseconds since the epoch. */
  readonly epochMs: number;
  readonly serviceName: string;
  /** Written when above 0, as Powertools does. */
  readonly sampleRate: number;
  readonly invocation?: InvocationContext;
  /** Whether this is the environment's first (on-demand) invocation; read only with an invocation. */
  readonly coldStart: boolean;
  /** The X-Ray trace header of the invocation. */
  readonly traceHeader?: string;
}

/** A line's standard keys; a key whose value is undefined is left out of the line by JSON.stringify. */
function formatAttributes(facts: LineFacts): LogAttributes {
  const { invocation } = facts;
  const memory = invocation === undefined ? Number.NaN : Number(invocation.memoryLimitInMB);
  return {
    level: facts.level,
    message: facts.message,
    timestamp: isoTimestamp(facts.epochMs),
    service: facts.serviceName,
    cold_start: invocation === undefined ? undefined : facts.coldStart,
    function_arn: invocation?.invokedFunctionArn,
    function_memory_size: Number.isFinite(memory) ? memory : undefined,
    function_name: invocation?.functionName,
    function_request_id: invocation?.awsRequestId,
    sampling_rate: facts.sampleRate > 0 ? facts.sampleRate : undefined,
    xray_trace_id: xrayRoot(facts.traceHeader),
    tenant_id: invocation?.tenantId,
  };
}

/**
 * The Decisions metric's EMF members (`"Decisions":1,"_aws":{...}`), as Powertools' `serializeMetrics` writes
 * them, as JSON text. Only the timestamp changes from line to line, so the directives (namespace, dimensions,
 * metric) are serialized once, here, rather than with every line.
 */
export function decisionMetricMembers(namespace: string): (epochMs: number) => string {
  const directives = JSON.stringify([
    {
      Namespace: namespace,
      Dimensions: [DECISION_METRIC.dimensions],
      Metrics: [{ Name: DECISION_METRIC.name, Unit: DECISION_METRIC.unit }],
    },
  ]);
  const head = `${JSON.stringify(DECISION_METRIC.name)}:1,"_aws":{"Timestamp":`;
  const tail = `,"CloudWatchMetrics":${directives}}`;
  return (epochMs) => `${head}${Number.isFinite(epochMs) ? epochMs : 'null'}${tail}`;
}

/** An object's JSON with `members` (JSON text) added after its own, or before them when `first`. */
export function withMembers(json: string, members: string, first = false): string {
  if (json === '{}') return `{${members}}`;
  return first ? `{${members},${json.slice(1)}` : `${json.slice(0, -1)},${members}}`;
}

/**
 * A decision's line: the standard keys, the decision's outcome, reason and detail, every safe field of the
 * record (whatever fields it grows), then the metric's members when metrics are on.
 */
function formatDecisionLine(facts: LineFacts, record: DecisionRecord<unknown>): Record<string, unknown> {
  const { decision, error } = record;
  // Members are added to the one fresh object rather than spread from several: spreading objects of a dozen
  // keys each into one literal falls off V8's fast path on Node.js 20 (tens of microseconds a line).
  const line: Record<string, unknown> = Object.assign(formatAttributes(facts), {
    outcome: decision.outcome,
    reason: decision.reason,
    detail: decision.detail,
  });
  Object.assign(line, record);
  // It holds the policy, which no line carries.
  line.decision = undefined;
  line.error = error === undefined ? undefined : formatError(error);
  return line;
}

/**
 * The line of a decision the level keeps out of the log, as Powertools Metrics writes it: the metric's
 * members (added first, by {@link withMembers}), then its dimensions.
 */
function formatMetricLine(service: string, decision: Decision<unknown>) {
  return { service, outcome: decision.outcome, reason: decision.reason };
}

/** A free-form line: the standard keys, then the fields but those whose keys the line already uses (an `error` is kept). */
function formatLogLine(facts: LineFacts, fields: Fields): Record<string, unknown> {
  const line: Record<string, unknown> = formatAttributes(facts);
  for (const [key, value] of Object.entries(fields))
    if (key === 'error' || !(RESERVED_KEYS as readonly string[]).includes(key)) line[key] = value;
  return line;
}

/** A line's JSON: JSON.stringify, or {@link safeStringify} when that throws (a bigint, a cycle). */
function serializeLine(line: object): string {
  try {
    return JSON.stringify(line);
  } catch {
    return safeStringify(line);
  }
}

/** The one writer of the authorizer's log lines and metric: builds each line, serializes it, writes it. */
export function createTelemetry(config: TelemetryConfig, deps: TelemetryDeps = {}): Telemetry {
  const out = deps.out ?? lineWriter(() => process.stdout);
  const err = deps.err ?? lineWriter(() => process.stderr);
  const now = deps.now ?? Date.now;
  const random = deps.random ?? Math.random;
  const traceHeader = deps.traceHeader ?? (() => process.env._X_AMZN_TRACE_ID);
  const threshold = LOG_LEVELS[config.logLevel];
  const sampledThreshold = Math.min(threshold, LOG_LEVELS[config.sampledLogLevel]);
  const metricMembers =
    config.metricsNamespace === undefined ? undefined : decisionMetricMembers(config.metricsNamespace);
  const write = (level: LineLevel, json: string) => {
    const text = config.pretty ? JSON.stringify(JSON.parse(json), null, 4) : json;
    (LOG_LEVELS[level] >= LOG_LEVELS.WARN ? err : out)(`${text}\n`);
  };

  // cold_start is true on the lines of the environment's first invocation only.
  let firstRequestId: string | undefined;
  const facts = (
    level: LineLevel,
    message: string,
    epochMs: number,
    invocation?: InvocationContext,
  ): LineFacts => {
    if (invocation !== undefined) firstRequestId ??= invocation.awsRequestId;
    return {
      level,
      message,
      epochMs,
      serviceName: config.serviceName,
      sampleRate: config.sampleRate,
      invocation,
      coldStart: config.coldStartOnFirstInvocation && invocation?.awsRequestId === firstRequestId,
      traceHeader: traceHeader(),
    };
  };

  const log = (level: LineLevel, message: string, fields?: Fields) => {
    if (LOG_LEVELS[level] < threshold) return;
    const line = formatLogLine(facts(level, message, Math.floor(now())), fields ?? {});
    // Free-form fields may hold an Error, which JSON.stringify would write as {}.
    write(level, safeStringify(line));
  };

  return {
    decision(record, invocation) {
      const level: LineLevel = record.decision.outcome === 'error' ? 'ERROR' : 'INFO';
      const sampled = config.sampleRate > 0 && random() < config.sampleRate;
      const logged = LOG_LEVELS[level] >= (sampled ? sampledThreshold : threshold);
      if (!logged && metricMembers === undefined) return;
      const epochMs = Math.floor(now());
      const metric = metricMembers?.(epochMs);
      if (logged) {
        const json = serializeLine(
          formatDecisionLine(facts(level, 'authorizer decision', epochMs, invocation), record),
        );
        write(level, metric === undefined ? json : withMembers(json, metric));
      } else if (metric !== undefined) {
        // The level keeps the decision out of the log, but the metric must still reach CloudWatch.
        write(
          level,
          withMembers(serializeLine(formatMetricLine(config.serviceName, record.decision)), metric, true),
        );
      }
    },
    debug: (message, fields) => log('DEBUG', message, fields),
    info: (message, fields) => log('INFO', message, fields),
    warn: (message, fields) => log('WARN', message, fields),
    error: (message, fields) => log('ERROR', message, fields),
  };
}
