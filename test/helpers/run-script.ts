import { type ChildProcessByStdio, type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import type { Readable } from 'node:stream';

const ROOT = new URL('../../', import.meta.url).pathname;

export interface Finished {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * A TypeScript script of this repository run with tsx, as its npm script runs it, in an environment without
 * the AZURE_* and PORT settings of whoever runs the tests, plus `env`.
 */
export function runScript(
  script: string,
  args: string[],
  env: Record<string, string> = {},
): Promise<Finished> {
  const clean = Object.fromEntries(
    Object.entries(process.env).filter(([k]) => !k.startsWith('AZURE_') && k !== 'PORT'),
  );
  return finished(spawn('npx', ['tsx', script, ...args], { cwd: ROOT, env: { ...clean, ...env } }));
}

/** What a child process wrote and how it ended. */
export function finished(
  child: ChildProcessWithoutNullStreams | ChildProcessByStdio<null, Readable, Readable>,
): Promise<Finished> {
  return new Promise((resolve, reject) => {
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c) => {
      stdout += c;
    });
    child.stderr.on('data', (c) => {
      stderr += c;
    });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}
