import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CONTEXT_KEYS } from '../../infra/sample/app-context.js';
import { API_ENV } from '../../lambda/authorizer/api-kind.js';
import { CLOUDS } from '../../lambda/authorizer/clouds.js';
import {
  DEFAULTS,
  ENV_NAMES,
  TENANTS_REFRESH_BOUNDS,
  UNLISTED_METHODS_ENV,
} from '../../lambda/authorizer/config.js';
import { REASONS } from '../../lambda/authorizer/reasons.js';
import { LOG_LIMITS } from '../../lambda/authorizer/safe-text.js';
import { TELEMETRY_DEFAULTS, TELEMETRY_ENV_NAMES } from '../../lambda/authorizer/telemetry-config.js';
import { TENANTS_FILE_ENV } from '../../lambda/authorizer/tenant-file.js';
import { CORS_ALLOW_ORIGIN_ENV } from '../../lambda/shared/cors.js';

/**
 * The manual's cheap-to-check facts against the code that holds them: the variables the Lambda reads, their
 * defaults and ranges, the sample's context keys, the reason codes, the log field caps, the cloud table and
 * the local commands' flags. One of them added, renamed or changed in the code fails here until the page
 * says so (docs/performance.md's measured figures are the bench's to check, not this file's).
 */

const ROOT = new URL('../../', import.meta.url).pathname;
const page = (name: string) => readFileSync(join(ROOT, name), 'utf8');
const manual = [
  'README.md',
  ...readdirSync(join(ROOT, 'docs'))
    .filter((f) => f.endsWith('.md'))
    .map((f) => `docs/${f}`),
];

/** The first table column's backquoted names (`| \`AZURE_X\` ... |`) of a page's tables. */
function tableVariables(markdown: string): Set<string> {
  const names = new Set<string>();
  for (const [, cell] of markdown.matchAll(/^\| *([^|]+?) *\|/gm))
    for (const [, name] of (cell as string).matchAll(/`([A-Z][A-Z0-9_]+)`/g)) names.add(name as string);
  return names;
}

/** A table's rows as cells, keyed by the backquoted names of the first cell. */
function tableRows(markdown: string): Map<string, string[]> {
  const rows = new Map<string, string[]>();
  for (const [line] of markdown.matchAll(/^\|.*\|$/gm)) {
    const cells = (line as string)
      .split('|')
      .slice(1, -1)
      .map((cell) => cell.trim());
    for (const [, name] of (cells[0] ?? '').matchAll(/`([A-Z][A-Z0-9_]+)`/g)) rows.set(name as string, cells);
  }
  return rows;
}

/** Every variable the authorizer Lambda reads, by name. */
const LAMBDA_VARIABLES = [
  ...Object.values(ENV_NAMES),
  ...Object.values(API_ENV),
  UNLISTED_METHODS_ENV,
  TENANTS_FILE_ENV,
];
const TELEMETRY_VARIABLES = Object.values(TELEMETRY_ENV_NAMES).filter(
  // Set by Lambda on every function, for the cold_start key: not a setting.
  (name) => name !== TELEMETRY_ENV_NAMES.initializationType,
);

describe("the manual's facts", () => {
  it("list every variable the Lambda reads in configuration.md's Lambda variables table", () => {
    const listed = tableVariables(page('docs/configuration.md').split('## Lambda variables')[1] ?? '');
    expect(LAMBDA_VARIABLES.filter((name) => !listed.has(name))).toEqual([]);
  });

  it("list exactly the sample's context keys in configuration.md's table (apiKind in its text)", () => {
    const section = page('docs/configuration.md').split('## Context key')[1]?.split('\n## ')[0] ?? '';
    const rows = [...section.matchAll(/^\| *`([a-zA-Z]+)` *\|/gm)].map(([, key]) => key);
    expect(new Set([...rows, 'apiKind'])).toEqual(new Set(CONTEXT_KEYS));
    expect(section).toContain('`-c apiKind=http`');
  });

  it("give configuration.md's and observability.md's defaults and ranges as config.ts and telemetry-config.ts do", () => {
    const lambda = tableRows(page('docs/configuration.md').split('## Lambda variables')[1] ?? '');
    const defaultOf = (name: string) => lambda.get(name)?.at(-1);
    expect(defaultOf(ENV_NAMES.clockSkewSeconds)).toContain(`\`${DEFAULTS.clockSkewSeconds}\``);
    expect(defaultOf(ENV_NAMES.authorityHost)).toBe(`\`${DEFAULTS.authorityHost}\``);
    expect(defaultOf(ENV_NAMES.tenantsRefreshSeconds)).toBe(`\`${DEFAULTS.tenantsRefreshSeconds}\``);
    expect(defaultOf(ENV_NAMES.guestUsers)).toBe(`\`${DEFAULTS.guestUsers}\``);
    const { min, max } = TENANTS_REFRESH_BOUNDS;
    expect(lambda.get(ENV_NAMES.tenantsRefreshSeconds)?.[1]).toContain(`${min} to ${max}`);
    const telemetry = tableRows(page('docs/observability.md'));
    expect(telemetry.get(TELEMETRY_ENV_NAMES.serviceName)?.at(-1)).toBe(
      `\`${TELEMETRY_DEFAULTS.serviceName}\``,
    );
    expect(telemetry.get(TELEMETRY_ENV_NAMES.metricsNamespace)?.at(-1)).toBe(
      `\`${TELEMETRY_DEFAULTS.metricsNamespace}\``,
    );
  });

  it("give configuration.md's cloud table as clouds.ts holds it", () => {
    const section = page('docs/configuration.md').split('## Sovereign clouds')[1]?.split('\n## ')[0] ?? '';
    const rows = [...section.matchAll(/^\|.*\|$/gm)].map(([line]) => line as string);
    for (const cloud of CLOUDS) {
      const row = rows.filter((line) => line.split('|')[2]?.includes(`\`${cloud.authorityHosts[0]}\``));
      expect(row, cloud.name).toHaveLength(1);
      const hosts = [
        ...cloud.authorityHosts.map((host) => `\`${host}\``),
        ...cloud.v2IssuerHosts.map((host) => `\`https://${host}/{tid}/v2.0\``),
        `\`https://${cloud.v1IssuerHost}/{tid}/\``,
        ...[...cloud.graph, ...cloud.azureAdGraph, ...cloud.resourceManager].map(
          (audience) => `\`${audience.replace('https://', '')}\``,
        ),
      ];
      expect(
        hosts.filter((host) => !row[0]?.includes(host)),
        cloud.name,
      ).toEqual([]);
    }
  });

  it("name in local.md every flag of start and token (each command's parseArgs options)", () => {
    const local = page('docs/local.md');
    const unnamed = ['infra/local/start.ts', 'infra/local/token-cli.ts'].flatMap((file) => {
      const options = /^const options = \{\n([\s\S]*?)^\} as const;/m.exec(page(file))?.[1] ?? '';
      const flags = [...options.matchAll(/^ {2}'?([a-z0-9-]+)'?:/gm)].map(([, flag]) => flag as string);
      expect(flags.length, file).toBeGreaterThan(5);
      return flags
        .filter((flag) => flag !== 'help' && !new RegExp(`--${flag}(?![a-z-])`).test(local))
        .map((flag) => `${file}: --${flag}`);
    });
    expect(unnamed).toEqual([]);
  });

  it("list every telemetry variable in observability.md's table", () => {
    const listed = tableVariables(page('docs/observability.md'));
    expect(TELEMETRY_VARIABLES.filter((name) => !listed.has(name))).toEqual([]);
  });

  it('name no AZURE_, POWERTOOLS_ or CORS_ variable the code does not read', () => {
    // CORS_ALLOW_ORIGIN_ENV is the exported constant that names CORS_ALLOW_ORIGIN (docs/cors.md's snippet).
    const known = new Set<string>([
      ...LAMBDA_VARIABLES,
      ...TELEMETRY_VARIABLES,
      CORS_ALLOW_ORIGIN_ENV,
      'CORS_ALLOW_ORIGIN_ENV',
    ]);
    const unknown = manual.flatMap((name) =>
      [...page(name).matchAll(/\b((?:AZURE|POWERTOOLS|CORS)_[A-Z0-9_]+)\b/g)]
        .map(([, variable]) => variable as string)
        .filter((variable) => !known.has(variable))
        .map((variable) => `${name}: ${variable}`),
    );
    expect([...new Set(unknown)]).toEqual([]);
  });

  it("list exactly reasons.ts's codes in token-rules.md, and count each outcome's codes right", () => {
    const section = page('docs/token-rules.md').split('## Reason codes')[1]?.split('\n## ')[0] ?? '';
    const listed = section.split('The codes:')[1]?.split('(defined')[0] ?? '';
    const codes = [...listed.matchAll(/`([a-z_]+)`/g)].map(([, code]) => code);
    expect(new Set(codes)).toEqual(new Set(Object.keys(REASONS)));
    expect(codes).toHaveLength(Object.keys(REASONS).length);
    const unauthorized = Object.values(REASONS).filter((r) => r.outcome === 'unauthorized').length;
    expect(page('docs/observability.md')).toContain(`(${unauthorized} for \`unauthorized\`)`);
  });

  it('name as reason codes only codes of reasons.ts', () => {
    // A backquoted code in a troubleshooting row's first cell, or given as a reason in parentheses.
    const rows = [...page('docs/troubleshooting.md').matchAll(/^\| `([a-z_]+)`/gm)].map(([, code]) => code);
    expect(rows.length).toBeGreaterThan(15);
    expect(rows.filter((code) => !Object.hasOwn(REASONS, code as string))).toEqual([]);
  });

  it("state observability.md's log field caps as safe-text.ts's LOG_LIMITS", () => {
    const { detail, hint, path, field } = LOG_LIMITS;
    expect(page('docs/observability.md')).toContain(
      `\`detail\` ${detail} characters, \`hint\` ${hint}, \`path\` ${path}, the others ${field}`,
    );
  });
});
