import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const root = join(import.meta.dirname, '..', '..');
const json = (path: string) => JSON.parse(readFileSync(join(root, path), 'utf8'));

/**
 * House rule: the aws-jwt-verify range package.json supports starts at the version the `aws-jwt-verify-lowest`
 * project of vitest.config.ts runs the key and verifier suites against, so the lowest version a range admits
 * is always tested.
 */
describe('the aws-jwt-verify range', () => {
  const { devDependencies } = json('package.json');
  const range: string = devDependencies['aws-jwt-verify'];
  const alias: string = devDependencies['aws-jwt-verify-lowest'];

  it('is a caret range whose lowest version is the exact version the lowest project installs', () => {
    const lowest = /^\^(\d+\.\d+\.\d+)$/.exec(range)?.[1];
    expect(lowest, `aws-jwt-verify's range ${range} is not ^x.y.z`).toBeDefined();
    expect(alias).toBe(`npm:aws-jwt-verify@${lowest}`);
    expect(json('node_modules/aws-jwt-verify-lowest/package.json').version).toBe(lowest);
  });
});
