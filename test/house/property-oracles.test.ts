import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';

/**
 * House rule: every fast-check property names its oracle, the source of its expected value, in a
 * `// Oracle: ` comment just above it or inside it, so a reader can see that the oracle is not the code under test.
 */
const LOOK_BACK = 12;
const ASSERT_CALL = /\bfc\.assert\(/;
const ORACLE = /\/\/ Oracle: \S/;

const repoRoot = join(import.meta.dirname, '..', '..');

/** Where a property's own body ends: the line on which the parentheses opened by its assert call balance again. */
function bodyEnd(lines: readonly string[], start: number): number {
  let depth = 0;
  for (let i = start; i < lines.length; i++) {
    const line = lines[i] ?? '';
    const from = i === start ? line.search(ASSERT_CALL) : 0;
    for (const ch of line.slice(from)) {
      if (ch === '(') depth++;
      else if (ch === ')') depth--;
    }
    if (depth <= 0) return i;
  }
  return lines.length - 1;
}

/** 1-based lines of the assert calls in `text` with no oracle comment in the LOOK_BACK lines above or in their body. */
function propertiesWithoutOracle(text: string): number[] {
  const lines = text.split('\n');
  const missing: number[] = [];
  lines.forEach((line, i) => {
    if (!ASSERT_CALL.test(line)) return;
    const window = lines.slice(Math.max(0, i - LOOK_BACK), bodyEnd(lines, i) + 1);
    if (!window.some((l) => ORACLE.test(l))) missing.push(i + 1);
  });
  return missing;
}

function testFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const path = join(dir, e.name);
    if (e.isDirectory()) return testFiles(path);
    return e.name.endsWith('.test.ts') ? [path] : [];
  });
}

const call = ['fc', 'assert('].join('.');

describe('the property-oracle check', () => {
  it('accepts an oracle comment above a property or inside its body, and names the line of one without', () => {
    const above = [
      '// Oracle: RFC 7519 §4.1.4',
      `${call}`,
      '  fc.property(fc.nat(), () => true),',
      ');',
    ].join('\n');
    expect(propertiesWithoutOracle(above)).toEqual([]);
    const inside = [
      `${call}`,
      '  // Oracle: a brute-force search',
      '  fc.property(fc.nat(), () => true),',
      ');',
    ].join('\n');
    expect(propertiesWithoutOracle(inside)).toEqual([]);
    const none = ['const x = 1;', `${call}`, '  fc.property(fc.nat(), () => true),', ');'].join('\n');
    expect(propertiesWithoutOracle(none)).toEqual([2]);
  });

  it('does not count an oracle comment too far above, after the body, or without a named source', () => {
    const far = [
      '// Oracle: far away',
      ...Array.from({ length: LOOK_BACK }, () => 'const y = 2;'),
      call,
      ');',
    ].join('\n');
    expect(propertiesWithoutOracle(far)).toEqual([LOOK_BACK + 2]);
    const after = [call, '  fc.property(fc.nat(), () => true),', ');', '// Oracle: too late'].join('\n');
    expect(propertiesWithoutOracle(after)).toEqual([1]);
    const empty = ['// Oracle: ', call, ');'].join('\n');
    expect(propertiesWithoutOracle(empty)).toEqual([2]);
  });
});

describe('every property test in the repository', () => {
  it('names its oracle in a "// Oracle: " comment within 12 lines above the property or inside it', () => {
    const files = testFiles(join(repoRoot, 'test')).filter((f) => readFileSync(f, 'utf8').includes(call));
    expect(files.length).toBeGreaterThan(20);
    const missing = files.flatMap((f) =>
      propertiesWithoutOracle(readFileSync(f, 'utf8')).map((line) => `${relative(repoRoot, f)}:${line}`),
    );
    expect(missing).toEqual([]);
  });
});
