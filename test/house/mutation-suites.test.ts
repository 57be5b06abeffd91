import { readdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { LEFT_OUT_SUITES, MUTATION_SUITES } from '../mutation/vitest.config.js';

const ROOT = resolve(import.meta.dirname, '../..');

describe('npm run mutation runs every suite that judges the mutated modules', () => {
  it('lists each test/authorizer suite once, as run or as left out with a reason', () => {
    const suites = readdirSync(resolve(ROOT, 'test/authorizer'))
      .filter((file) => file.endsWith('.test.ts'))
      .map((file) => file.slice(0, -'.test.ts'.length))
      .sort();
    // Suites outside test/authorizer are named by their path below test/.
    const run: readonly string[] = MUTATION_SUITES.filter((name) => !name.includes('/'));
    const leftOut = Object.keys(LEFT_OUT_SUITES);
    expect(run.filter((name) => leftOut.includes(name))).toEqual([]);
    expect(new Set(run).size).toBe(run.length);
    expect([...run, ...leftOut].sort()).toEqual(suites);
  });
});
