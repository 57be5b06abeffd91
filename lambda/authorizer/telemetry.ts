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

/** Node's stdout and stderr, each made at its first line (see {@link lineWriter}). */
let stdoutLine: ((line: string) => void) | undefined;
let stderrLine: ((line: string) => void) | undefined;
function toStdout(line: string): void {
  stdoutLine ??= lineWriter(() => process.stdout);
  stdoutLine(line);
}
function toStderr(line: string): void {
  stderrLine ??= lineWriter(() => process.stderr);
  stderrLine(line);
}
/** Lambda sets `_X_AMZN_TRACE_ID` per invocation. */
function lambdaTraceHeader(): string | undefined {
  return process.env._X_AMZN_TRACE_ID;
}

/** What one line's standard keys are made of, besides those the configuration fixes. */
interface LineFacts {
  readonly level: LineLevel;
  readonly message: string;
  /** Milliseconds since the epoch. */
  readonly epochMs: number;
  readonly invocation?: InvocationContext;
  /** Whether this is the environment's first (on-demand) invocation; read only with an invocation. */
  readonly coldStart: boolean;
  /** The X-Ray trace header of the invocation. */
  readonly traceHeader?: string;
}

/**
 * The standard keys' members every line of one telemetry repeats, as JSON text, made at its first line: the
 * service, the sampling rate (written when above 0, as Powertools does), and the function's name, ARN and
 * memory, which are the same for every invocation of a function version.
 */
interface FixedMembers {
  /** `,"service":…` */
  readonly service: string;
  /** `,"sampling_rate":…`, or nothing. */
  readonly sampling: string;
  /** `,"function_arn":…,"function_memory_size":…,"function_name":…` of an invocation. */
  readonly functionOf: (invocation: InvocationContext) => string;
}

/** An object's JSON (`{"a":1,"b":2}`) as members to write after others (`,"a":1,"b":2`), nothing for `{}`. */
function trailingMembers(json: string): string {
  return json === '{}' ? '' : `,${json.slice(1, -1)}`;
}

/** `,"key":value` as JSON.stringify writes a member, or nothing for an undefined value, which it leaves out. */
function member(key: string, value: unknown): string {
  return value === undefined ? '' : `,"${key}":${JSON.stringify(value)}`;
}

function fixedMembers(config: TelemetryConfig): FixedMembers {
  let arn: string | undefined;
  let name: string | undefined;
  let memory: string | undefined;
  let functionMembers = '';
  return {
    service: member('service', config.serviceName),
    sampling: config.sampleRate > 0 ? member('sampling_rate', config.sampleRate) : '',
    functionOf: (invocation) => {
      if (
        invocation.invokedFunctionArn !== arn ||
        invocation.functionName !== name ||
        invocation.memoryLimitInMB !== memory
      ) {
        ({ invokedFunctionArn: arn, functionName: name, memoryLimitInMB: memory } = invocation);
        const size = Number(memory);
        functionMembers = trailingMembers(
          JSON.stringify({
            function_arn: arn,
            function_memory_size: Number.isFinite(size) ? size : undefined,
            function_name: name,
          }),
        );
      }
      return functionMembers;
    },
  };
}

/**
 * A line's standard keys, as JSON text left open for the line's own members (`{"level":…`), in the order
 * Powertools' formatter (`PowertoolsLogFormatter.formatAttributes`) writes them: level, message, timestamp,
 * service, cold_start, function_arn, function_memory_size, function_name, function_request_id,
 * sampling_rate, xray_trace_id, tenant_id; a key whose value is undefined is left out, as JSON.stringify would.
 */
function formatAttributes(facts: LineFacts, fixed: FixedMembers): string {
  const { invocation } = facts;
  const context =
    invocation === undefined
      ? ''
      : `,"cold_start":${facts.coldStart}${fixed.functionOf(invocation)}${member('function_request_id', invocation.awsRequestId)}`;
  return `{"level":"${facts.level}"${member('message', facts.message)},"timestamp":"${isoTimestamp(facts.epochMs)}"${fixed.service}${context}${fixed.sampling}${member('xray_trace_id', xrayRoot(facts.traceHeader))}${member('tenant_id', invocation?.tenantId)}`;
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

/**
 * A line: `open` (an object's JSON text left open, `{"a":1`), then the members of the object `json`, then
 * `extra` members (JSON text) if any, closed.
 */
export function closeLine(open: string, json: string, extra?: string): string {
  return `${open}${trailingMembers(json)}${extra === undefined ? '' : `,${extra}`}}`;
}

/**
 * A decision's own members, after the standard keys: its outcome, reason and detail, then every safe field
 * of the record (whatever fields it grows).
 */
function formatDecisionFields(record: DecisionRecord<unknown>): Record<string, unknown> {
  const { decision, error } = record;
  const fields: Record<string, unknown> = {
    outcome: decision.outcome,
    reason: decision.reason,
    detail: decision.detail,
  };
  Object.assign(fields, record);
  // It holds the policy, which no line carries.
  fields.decision = undefined;
  fields.error = error === undefined ? undefined : formatError(error);
  return fields;
}

/**
 * The line of a decision the level keeps out of the log, as Powertools Metrics writes it: the metric's
 * members first, then its dimensions.
 */
function formatMetricLine(service: string, decision: Decision<unknown>) {
  return { service, outcome: decision.outcome, reason: decision.reason };
}

/** A free-form line's own members: the fields but those whose keys the line already uses (an `error` is kept). */
function formatLogFields(fields: Fields): Record<string, unknown> {
  const own: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(fields))
    if (key === 'error' || !(RESERVED_KEYS as readonly string[]).includes(key)) own[key] = value;
  return own;
}

/** A line's JSON: JSON.stringify, or {@link safeStringify} when that throws (a bigint, a cycle). */
function serializeLine(line: object): string {
  try {
    return JSON.stringify(line);
  } catch {
    return safeStringify(line);
  }
}

/** What one telemetry keeps: its configuration and outputs, and what its first lines made. */
interface Writer {
  readonly config: TelemetryConfig;
  readonly out: (line: string) => void;
  readonly err: (line: string) => void;
  readonly now: () => number;
  readonly random: () => number;
  readonly traceHeader: () => string | undefined;
  /** cold_start is true on the lines of the environment's first invocation only. */
  firstRequestId: string | undefined;
  fixed: FixedMembers | undefined;
  metric: ((epochMs: number) => string) | undefined;
}

function writeDecision(writer: Writer, record: DecisionRecord<unknown>, invocation?: InvocationContext) {
  const { config } = writer;
  const level: LineLevel = record.decision.outcome === 'error' ? 'ERROR' : 'INFO';
  const sampled = config.sampleRate > 0 && writer.random() < config.sampleRate;
  const logged = LOG_LEVELS[level] >= LOG_LEVELS[sampled ? config.sampledLogLevel : config.logLevel];
  const { metricsNamespace } = config;
  if (!logged && metricsNamespace === undefined) return;
  const epochMs = Math.floor(writer.now());
  let metric: string | undefined;
  if (metricsNamespace !== undefined) {
    writer.metric ??= decisionMetricMembers(metricsNamespace);
    metric = writer.metric(epochMs);
  }
  if (logged) {
    const head = attributes(writer, level, 'authorizer decision', epochMs, invocation);
    write(writer, level, closeLine(head, serializeLine(formatDecisionFields(record)), metric));
  } else if (metric !== undefined) {
    // The level keeps the decision out of the log, but the metric must still reach CloudWatch.
    const dimensions = serializeLine(formatMetricLine(config.serviceName, record.decision));
    write(writer, level, closeLine(`{${metric}`, dimensions));
  }
}

function writeLog(writer: Writer, level: LineLevel, message: string, fields: Fields = {}) {
  if (LOG_LEVELS[level] < LOG_LEVELS[writer.config.logLevel]) return;
  const head = attributes(writer, level, message, Math.floor(writer.now()));
  // Free-form fields may hold an Error, which JSON.stringify would write as {}.
  write(writer, level, closeLine(head, safeStringify(formatLogFields(fields))));
}

function attributes(
  writer: Writer,
  level: LineLevel,
  message: string,
  epochMs: number,
  invocation?: InvocationContext,
): string {
  const { config } = writer;
  if (invocation !== undefined) writer.firstRequestId ??= invocation.awsRequestId;
  const facts: LineFacts = {
    level,
    message,
    epochMs,
    invocation,
    coldStart: config.coldStartOnFirstInvocation && invocation?.awsRequestId === writer.firstRequestId,
    traceHeader: writer.traceHeader(),
  };
  writer.fixed ??= fixedMembers(config);
  return formatAttributes(facts, writer.fixed);
}

function write(writer: Writer, level: LineLevel, json: string) {
  const text = writer.config.pretty ? JSON.stringify(JSON.parse(json), null, 4) : json;
  (LOG_LEVELS[level] >= LOG_LEVELS.WARN ? writer.err : writer.out)(`${text}\n`);
}

/**
 * The one writer of the authorizer's log lines and metric: builds each line, serializes it, writes it. Made
 * at cold start, it does no more there than keep its configuration: what a line needs is made at the first.
 */
export function createTelemetry(config: TelemetryConfig, deps: TelemetryDeps = {}): Telemetry {
  const writer: Writer = {
    config,
    out: deps.out ?? toStdout,
    err: deps.err ?? toStderr,
    now: deps.now ?? Date.now,
    random: deps.random ?? Math.random,
    traceHeader: deps.traceHeader ?? lambdaTraceHeader,
    firstRequestId: undefined,
    fixed: undefined,
    metric: undefined,
  };
  return {
    decision: (record, invocation) => writeDecision(writer, record, invocation),
    debug: (message, fields) => writeLog(writer, 'DEBUG', message, fields),
    info: (message, fields) => writeLog(writer, 'INFO', message, fields),
    warn: (message, fields) => writeLog(writer, 'WARN', message, fields),
    error: (message, fields) => writeLog(writer, 'ERROR', message, fields),
  };
}
