/**
 * Powertools' numeric log levels, shared by the authorizer's telemetry and the construct's `logLevel` prop
 * (this module imports nothing, so the construct's declarations need nothing else): a line is written when
 * its level is at least the configured one.
 */
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
