import type { Env } from './config.js';
import { ConfigError } from './errors.js';

/**
 * The telemetry's configuration: the POWERTOOLS_* variables (Powertools' names and meanings), read once at
 * cold start. Kept apart from the writer (telemetry.ts) so that the CDK construct can check its props against
 * the same reader at synth without its declarations pulling in the Lambda's types.
 */

/** Powertools' numeric log levels: a line is written when its level is at least the configured one. */
export const LOG_LEVELS = {
  TRACE: 6,
  DEBUG: 8,
  INFO: 12,
  WARN: 16,
  ERROR: 20,
  CRITICAL: 24,
  SILENT: 28,
} as const;

export type LogLevel = keyof typeof LOG_LEVELS;

export const TELEMETRY_ENV_NAMES = {
  serviceName: 'POWERTOOLS_SERVICE_NAME',
  logLevel: 'POWERTOOLS_LOG_LEVEL',
  /** Powertools' older alias, read when POWERTOOLS_LOG_LEVEL is unset. */
  logLevelAlias: 'LOG_LEVEL',
  /** Set by Lambda's advanced logging controls; lines below it would be dropped by Lambda anyway. */
  lambdaLogLevel: 'AWS_LAMBDA_LOG_LEVEL',
  sampleRate: 'POWERTOOLS_LOGGER_SAMPLE_RATE',
  metricsNamespace: 'POWERTOOLS_METRICS_NAMESPACE',
  metricsDisabled: 'POWERTOOLS_METRICS_DISABLED',
  dev: 'POWERTOOLS_DEV',
  initializationType: 'AWS_LAMBDA_INITIALIZATION_TYPE',
} as const;

export const TELEMETRY_DEFAULTS = {
  serviceName: 'entra-authorizer',
  metricsNamespace: 'EntraAuthorizer',
} as const;

/**
 * The metric every decision emits, with these dimensions (root members of the same line): written by
 * telemetry.ts, and read by the construct's `metricDecisions` and alarms, so the two cannot disagree.
 */
export const DECISION_METRIC = {
  name: 'Decisions',
  unit: 'Count',
  dimensions: ['service', 'outcome', 'reason'],
} as const;

export interface TelemetryConfig {
  readonly serviceName: string;
  /** The level below which no line is written (Lambda's own level applied). */
  readonly logLevel: LogLevel;
  /** Share of invocations, 0 to 1, that log at DEBUG whatever the level. */
  readonly sampleRate: number;
  /** The level of a sampled invocation: DEBUG, or Lambda's own level if that is higher. */
  readonly sampledLogLevel: LogLevel;
  /** The CloudWatch namespace of the metric, or undefined when metrics are disabled. */
  readonly metricsNamespace: string | undefined;
  /** The first invocation of this environment is a cold start (on-demand init, not provisioned). */
  readonly coldStartOnFirstInvocation: boolean;
  /** POWERTOOLS_DEV: indented lines for a terminal, and metrics off unless asked for. */
  readonly pretty: boolean;
}

const TRUE = new Set(['1', 'y', 'yes', 't', 'true', 'on']);
const FALSE = new Set(['0', 'n', 'no', 'f', 'false', 'off']);

function readBoolean(env: Env, name: string): boolean | undefined {
  const raw = env[name];
  if (raw === undefined || raw.trim() === '') return undefined;
  const value = raw.trim().toLowerCase();
  if (TRUE.has(value)) return true;
  if (FALSE.has(value)) return false;
  throw new ConfigError(name, raw, 'true or false (also 1/0, yes/no, on/off)');
}

function readLevel(env: Env, name: string): LogLevel | undefined {
  const raw = env[name];
  if (raw === undefined || raw.trim() === '') return undefined;
  const value = raw.trim().toUpperCase();
  if (name === TELEMETRY_ENV_NAMES.lambdaLogLevel && value === 'FATAL') return 'CRITICAL';
  if (Object.hasOwn(LOG_LEVELS, value)) return value as LogLevel;
  throw new ConfigError(name, raw, `one of ${Object.keys(LOG_LEVELS).join(', ')}`);
}

/** Whether every character is printable ASCII (a loop: a regular expression's compile would be the cold start's). */
function isPrintableAscii(value: string): boolean {
  for (let i = 0; i < value.length; i++) {
    const code = value.charCodeAt(i);
    if (code < 0x20 || code > 0x7e) return false;
  }
  return true;
}

/** CloudWatch's rules for a dimension value and a namespace: printable ASCII, not blank. */
function readName(env: Env, name: string, fallback: string, max: number, namespace: boolean): string {
  const raw = env[name];
  if (raw === undefined || raw.trim() === '') return fallback;
  const value = raw.trim();
  if (value.length > max || !isPrintableAscii(value))
    throw new ConfigError(name, raw, `printable ASCII, 1 to ${max} characters`);
  if (namespace && (value.startsWith(':') || value.startsWith('AWS/')))
    throw new ConfigError(name, raw, 'a namespace that starts with neither ":" nor "AWS/"');
  return value;
}

/** Reads the POWERTOOLS_* variables once, at cold start; a wrong value fails it with the variable's name. */
export function readTelemetryConfig(env: Env): TelemetryConfig {
  const pretty = readBoolean(env, TELEMETRY_ENV_NAMES.dev) ?? false;
  const configured =
    readLevel(env, TELEMETRY_ENV_NAMES.logLevel) ??
    readLevel(env, TELEMETRY_ENV_NAMES.logLevelAlias) ??
    'INFO';
  const lambda = readLevel(env, TELEMETRY_ENV_NAMES.lambdaLogLevel);
  const logLevel = lambda !== undefined && LOG_LEVELS[lambda] > LOG_LEVELS[configured] ? lambda : configured;
  const rawRate = env[TELEMETRY_ENV_NAMES.sampleRate];
  const sampleRate = rawRate === undefined || rawRate.trim() === '' ? 0 : Number(rawRate);
  if (!(sampleRate >= 0 && sampleRate <= 1))
    throw new ConfigError(TELEMETRY_ENV_NAMES.sampleRate, rawRate, 'a number from 0 to 1');
  const disabled = readBoolean(env, TELEMETRY_ENV_NAMES.metricsDisabled) ?? pretty;
  return Object.freeze({
    serviceName: readName(env, TELEMETRY_ENV_NAMES.serviceName, TELEMETRY_DEFAULTS.serviceName, 1024, false),
    logLevel,
    sampleRate,
    sampledLogLevel: lambda !== undefined && LOG_LEVELS[lambda] > LOG_LEVELS.DEBUG ? lambda : 'DEBUG',
    metricsNamespace: disabled
      ? undefined
      : readName(env, TELEMETRY_ENV_NAMES.metricsNamespace, TELEMETRY_DEFAULTS.metricsNamespace, 255, true),
    coldStartOnFirstInvocation: env[TELEMETRY_ENV_NAMES.initializationType] === 'on-demand',
    pretty,
  });
}
