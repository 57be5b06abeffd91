import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ensureDeployedNode } from './node22.js';

/**
 * `npm run mutation`: Stryker over the authorizer's security-critical modules, under the Lambda runtime's
 * Node.js, then a check of its JSON report against test/mutation/accepted-survivors.txt. Fails on any
 * surviving (or uncovered) mutant not listed there, and below the 90% break threshold of the config.
 * `npm run mutation -- --check-only` repeats that check on the last report (after editing the list).
 */

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const CONFIG = 'test/mutation/stryker.config.json';
const ACCEPTED = 'test/mutation/accepted-survivors.txt';
const REPORT = 'reports/mutation/mutation.json';
const TEMP_DIR = '.stryker-tmp';

interface Position {
  readonly line: number;
  readonly column: number;
}
interface ReportMutant {
  readonly id: string;
  readonly mutatorName: string;
  readonly replacement?: string;
  readonly status: string;
  readonly location: { readonly start: Position; readonly end: Position };
}
interface Report {
  readonly files: Record<string, { readonly source: string; readonly mutants: readonly ReportMutant[] }>;
}

export interface Survivor {
  readonly file: string;
  readonly mutator: string;
  readonly key: string;
  readonly line: number;
  readonly original: string;
  readonly replacement: string;
  readonly status: string;
}

const oneLine = (text: string): string => text.replace(/\s+/g, ' ').trim();

/** Offsets of a 1-based line and column (Stryker's report convention) in the source. */
function offsetOf(lines: readonly string[], { line, column }: Position): number {
  let offset = 0;
  for (let i = 0; i < line - 1; i++) offset += (lines[i] as string).length + 1;
  return offset + column - 1;
}

/**
 * A key that survives unrelated edits: the mutator, the text of the line the mutant starts on, the
 * mutated code and its replacement, but not the line number. Mutants it cannot tell apart are the same
 * change to the same line of code.
 */
export function mutantKey(mutator: string, lineText: string, original: string, replacement: string): string {
  return createHash('sha256')
    .update([mutator, oneLine(lineText), oneLine(original), oneLine(replacement)].join('\0'))
    .digest('hex')
    .slice(0, 12);
}

export function survivorsOf(report: Report): Survivor[] {
  const survivors: Survivor[] = [];
  for (const [file, { source, mutants }] of Object.entries(report.files)) {
    const lines = source.split('\n');
    for (const m of mutants) {
      if (m.status !== 'Survived' && m.status !== 'NoCoverage') continue;
      const original = source.slice(offsetOf(lines, m.location.start), offsetOf(lines, m.location.end));
      const replacement = m.replacement ?? '';
      const lineText = lines[m.location.start.line - 1] ?? '';
      survivors.push({
        file,
        mutator: m.mutatorName,
        key: mutantKey(m.mutatorName, lineText, original, replacement),
        line: m.location.start.line,
        original,
        replacement,
        status: m.status,
      });
    }
  }
  return survivors;
}

/** `file mutator key reason...`, one accepted survivor per line; `#` starts a comment. */
export function parseAccepted(text: string): Map<string, string> {
  const accepted = new Map<string, string>();
  for (const [i, raw] of text.split('\n').entries()) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const match = /^(\S+)\s+(\S+)\s+([0-9a-f]{12})\s+(\S.*)$/.exec(line);
    if (match === null) throw new Error(`${ACCEPTED}:${i + 1}: expected "file mutator key reason"`);
    accepted.set(`${match[1]} ${match[2]} ${match[3]}`, match[4] as string);
  }
  return accepted;
}

export interface FileScore {
  readonly file: string;
  readonly killed: number;
  readonly survived: number;
  readonly score: number;
}

/** Stryker's mutation score: killed or timed out, of all mutants that ran or had no test. */
export function scores(report: Report): FileScore[] {
  return Object.entries(report.files)
    .map(([file, { mutants }]) => {
      const killed = mutants.filter((m) => m.status === 'Killed' || m.status === 'Timeout').length;
      const survived = mutants.filter((m) => m.status === 'Survived' || m.status === 'NoCoverage').length;
      return { file, killed, survived, score: killed + survived === 0 ? 1 : killed / (killed + survived) };
    })
    .sort((a, b) => a.file.localeCompare(b.file));
}

function scoreTable(rows: readonly FileScore[]): string {
  const killed = rows.reduce((n, r) => n + r.killed, 0);
  const survived = rows.reduce((n, r) => n + r.survived, 0);
  const pct = (x: number) => `${(x * 100).toFixed(1)}%`;
  return [
    '| file | killed | survived | score |',
    '|---|---|---|---|',
    ...rows.map(
      (r) =>
        `| \`${r.file.replace('lambda/authorizer/', '')}\` | ${r.killed} | ${r.survived} | ${pct(r.score)} |`,
    ),
    `| all | ${killed} | ${survived} | ${pct(killed / (killed + survived))} |`,
  ].join('\n');
}

function excerpt(text: string): string {
  const flat = oneLine(text);
  return flat.length > 70 ? `${flat.slice(0, 67)}...` : flat;
}

function runStryker(): number {
  const node = ensureDeployedNode();
  // Tests read ../shared relative to the checkout; each sandbox sits two levels below TEMP_DIR's parent,
  // so a link beside the sandboxes lets them find it.
  const shared = resolve(ROOT, '../shared');
  mkdirSync(join(ROOT, TEMP_DIR), { recursive: true });
  const link = join(ROOT, TEMP_DIR, 'shared');
  rmSync(link, { force: true });
  if (existsSync(shared)) symlinkSync(shared, link);
  const stryker = join(ROOT, 'node_modules/@stryker-mutator/core/bin/stryker.js');
  const started = Date.now();
  const run = spawnSync(node, [stryker, 'run', CONFIG, ...process.argv.slice(2)], {
    cwd: ROOT,
    stdio: 'inherit',
  });
  console.log(`stryker took ${Math.round((Date.now() - started) / 1000)} s under ${node}`);
  return run.status ?? 1;
}

/** `--check-only` judges the last report against the list again without running Stryker. */
function main(): number {
  const strykerStatus = process.argv.includes('--check-only') ? 0 : runStryker();
  const reportPath = join(ROOT, REPORT);
  if (!existsSync(reportPath)) {
    console.error(`mutation: no report at ${REPORT} (stryker exited ${strykerStatus})`);
    return 1;
  }
  const report = JSON.parse(readFileSync(reportPath, 'utf8')) as Report;
  const accepted = parseAccepted(readFileSync(join(ROOT, ACCEPTED), 'utf8'));
  const survivors = survivorsOf(report);
  const unlisted = survivors.filter((s) => !accepted.has(`${s.file} ${s.mutator} ${s.key}`));
  const seen = new Set(survivors.map((s) => `${s.file} ${s.mutator} ${s.key}`));
  // A run scoped with --mutate reports only its files: entries for the others are not stale.
  const stale = [...accepted.keys()].filter(
    (k) => !seen.has(k) && (k.split(' ')[0] as string) in report.files,
  );

  const rows = scores(report);
  console.log(`\n${scoreTable(rows)}\n`);
  console.log(`${survivors.length - unlisted.length} survivors accepted in ${ACCEPTED}`);
  for (const k of stale) console.log(`no longer surviving (remove from ${ACCEPTED}): ${k}`);
  if (unlisted.length > 0) {
    console.error(`\n${unlisted.length} survivors not in ${ACCEPTED}: kill them with a test, or list them`);
    for (const s of unlisted) {
      console.error(`${s.file}:${s.line} ${s.status}: ${excerpt(s.original)}  ->  ${excerpt(s.replacement)}`);
      console.error(`  ${s.file} ${s.mutator} ${s.key} <why this mutant may survive>`);
    }
    return 1;
  }
  // The config's break threshold, applied to the whole report (also for --check-only).
  const breakAt =
    (JSON.parse(readFileSync(join(ROOT, CONFIG), 'utf8')) as { thresholds: { break: number } }).thresholds
      .break / 100;
  const killed = rows.reduce((n, r) => n + r.killed, 0);
  const total = killed + rows.reduce((n, r) => n + r.survived, 0);
  if (killed < breakAt * total) {
    console.error(`mutation score ${((killed / total) * 100).toFixed(1)}% is below ${breakAt * 100}%`);
    return 1;
  }
  return strykerStatus;
}

if (import.meta.url === `file://${process.argv[1]}`) process.exit(main());
