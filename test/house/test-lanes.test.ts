import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { PROCESS_FOLDERS, PROCESS_SUITES, UNIT_FOLDERS } from '../../vitest.config.js';

const ROOT = resolve(import.meta.dirname, '../..');
const TEST = join(ROOT, 'test');

function testFiles(): string[] {
  return readdirSync(TEST, { recursive: true, encoding: 'utf8' })
    .filter((file) => file.endsWith('.test.ts'))
    .map((file) => `test/${file}`);
}

/**
 * Whether a file starts a process: it imports node:child_process or esbuild (whose API runs esbuild's binary),
 * has a CDK app bundle (testApp's bundle option: NodejsFunction runs esbuild), or imports a module of the
 * repository that does.
 */
function startsProcess(file: string, seen = new Set<string>()): boolean {
  if (seen.has(file)) return false;
  seen.add(file);
  const text = readFileSync(join(ROOT, file), 'utf8');
  if (/from\s+'((node:)?child_process|esbuild)'/.test(text) || /\bbundle:\s*true\b/.test(text)) return true;
  const local = [...text.matchAll(/\bfrom\s+'(\.[^']+)'/g)].map((m) =>
    relative(ROOT, resolve(ROOT, dirname(file), (m[1] as string).replace(/\.js$/, '.ts'))),
  );
  return local.some((f) => f.startsWith('test/') && startsProcess(f, seen));
}

const inUnitLane = (file: string) =>
  UNIT_FOLDERS.some((folder) => file.startsWith(`test/${folder}/`)) &&
  !(PROCESS_SUITES as readonly string[]).includes(file);

describe('the test lanes', () => {
  it('keep every suite of npm run test:unit in process (no child process, directly or through a helper)', () => {
    const unit = testFiles().filter(inUnitLane);
    expect(unit.length).toBeGreaterThan(40);
    expect(unit.filter((file) => startsProcess(file))).toEqual([]);
  });

  it('leave no suite out of npm test: each one is in a folder of one lane', () => {
    const folders = [...UNIT_FOLDERS, ...PROCESS_FOLDERS];
    expect(
      testFiles().filter((file) => !folders.some((folder) => file.startsWith(`test/${folder}/`))),
    ).toEqual([]);
  });

  it('list in PROCESS_SUITES only suites of the unit folders that start a process', () => {
    for (const file of PROCESS_SUITES) {
      expect(
        UNIT_FOLDERS.some((folder) => file.startsWith(`test/${folder}/`)),
        file,
      ).toBe(true);
      expect(startsProcess(file), file).toBe(true);
    }
  });

  it('see a process started through a helper (the detector itself)', () => {
    expect(startsProcess('test/e2e/explain-flags.test.ts')).toBe(true);
    expect(startsProcess('test/authorizer/reasons.test.ts')).toBe(false);
    // A bundling synth runs esbuild; a synth without bundling (the unit lane's) runs nothing.
    expect(startsProcess('test/local/http-assembly.test.ts')).toBe(true);
    expect(startsProcess('test/local/local-http-api.test.ts')).toBe(false);
  });
});
