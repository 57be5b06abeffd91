import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll } from 'vitest';

/**
 * Each test file's temporary files go in one folder of its own, removed when the file is done: CDK writes
 * an App without `outdir` to a fresh `cdk.outXXXX` in the temp folder, and nothing else would remove those
 * (thousands a run). TMPDIR is what `os.tmpdir()` reads, in this process and in the processes it starts.
 * A worker runs file after file, so the folder they all live in is remembered from the first.
 */
const root = process.env.ENTRA_TEST_TMP_ROOT ?? tmpdir();
process.env.ENTRA_TEST_TMP_ROOT = root;
const dir = mkdtempSync(join(root, 'entra-test-'));
process.env.TMPDIR = dir;
afterAll(() => {
  process.env.TMPDIR = root;
  rmSync(dir, { recursive: true, force: true });
});
