import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { functionLengths, measureFolders } from '../../scripts/function-lengths.js';

/** The house limit: a function one can hold in one's head. A table belongs in a module-level constant. */
const MAX_LINES = 80;

/**
 * Functions over the limit that a branch in flight is splitting, by `file name`. Each entry must still be
 * over the limit: once one is split, this test fails until its entry is removed, so the list only shrinks.
 */
const BEING_SPLIT: ReadonlySet<string> = new Set<string>([]);

const key = (f: { file: string; name: string }) => `${f.file} ${f.name}`;

describe('the function-length measure', () => {
  it('counts a function from its first line to its last, nested functions on their own and inside their parent', () => {
    // Oracle: the line count of the generated text, computed in the test from how it was built
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 120 }),
        fc.integer({ min: 0, max: 120 }),
        fc.integer({ min: 0, max: 20 }),
        (before, inner, after) => {
          const innerBody = Array.from({ length: inner }, (_, i) => `    const v${i} = ${i};`);
          const text = [
            '// header',
            'export function outer() {',
            ...Array.from({ length: before }, (_, i) => `  const a${i} = ${i};`),
            '  const inner = () => {',
            ...innerBody,
            '  };',
            ...Array.from({ length: after }, (_, i) => `  const b${i} = ${i};`),
            '  return inner;',
            '}',
          ].join('\n');
          const found = functionLengths('x.ts', text);
          expect(found).toEqual([
            { file: 'x.ts', name: 'outer', line: 2, lines: before + inner + after + 5 },
            { file: 'x.ts', name: 'outer/inner', line: before + 3, lines: inner + 2 },
          ]);
        },
      ),
      { numRuns: 100 },
    );
  });

  it('names methods, constructors, accessors and anonymous functions, and skips declarations without a body', () => {
    const text = [
      'declare function ambient(): void;',
      'export class C {',
      '  constructor() {}',
      '  get size() { return 1; }',
      '  run() { return [1].map(function (x) { return x; }); }',
      '}',
      'export const table = { build: () => 1 };',
    ].join('\n');
    expect(functionLengths('y.ts', text).map((f) => f.name)).toEqual([
      'constructor',
      'size',
      'run',
      'run/<function>',
      'build',
    ]);
  });
});

describe('lambda/ and infra/', () => {
  const measured = measureFolders(['lambda', 'infra']);

  it(`have no function longer than ${MAX_LINES} lines, apart from those being split`, () => {
    expect(measured.length).toBeGreaterThan(100);
    const long = measured.filter((f) => f.lines > MAX_LINES && !BEING_SPLIT.has(key(f)));
    expect(long.map((f) => `${key(f)} (${f.lines} lines, line ${f.line})`)).toEqual([]);
  });

  it('list only functions that still exist and are still too long (remove an entry once it is split)', () => {
    const stillLong = new Set(measured.filter((f) => f.lines > MAX_LINES).map(key));
    expect([...BEING_SPLIT].filter((k) => !stillLong.has(k))).toEqual([]);
  });
});
