import { describe, expect, it } from 'vitest';
import { runScript } from '../helpers/run-script.js';

describe('npm start --api-kind', () => {
  it('is one line and exit 2 for a kind it does not know, or beside --app (an assembly declares its own)', async () => {
    const unknown = await runScript('infra/local/start.ts', ['--api-kind', 'websocket']);
    expect([unknown.code, unknown.stderr.trim()]).toEqual([
      2,
      'npm start: --api-kind must be rest or http; got "websocket"',
    ]);
    const withApp = await runScript('infra/local/start.ts', ['--api-kind', 'http', '--app', 'cdk.out']);
    expect(withApp.code).toBe(2);
    expect(withApp.stderr.trim().split('\n')).toHaveLength(1);
    expect(withApp.stderr).toMatch(/^npm start: --api-kind picks the sample in this repository/);
  });
});

describe('npm start --tenants-file', () => {
  it('is one line and exit 2 on the sample, whose tenant list is fixed (no parameter for the file to stand in for)', async () => {
    const run = await runScript('infra/local/start.ts', ['--tenants-file', 'package.json']);
    expect(run.code).toBe(2);
    expect(run.stderr.trim().split('\n')).toHaveLength(1);
    expect(run.stderr).toMatch(
      /^npm start: --tenants-file stands in for an allowedTenants SSM parameter, and the sample has none/,
    );
  });
});
