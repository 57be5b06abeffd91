import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { ENV_NAMES } from '../../lambda/authorizer/config.js';
import { emfViolations } from '../helpers/emf.js';
import { KeyServer } from '../helpers/key-server.js';
import { finished } from '../helpers/run-script.js';
import { CLIENT_ID, event, publishedKeySet, TENANT, token } from '../helpers/setup.js';

const HANDLER = fileURLToPath(new URL('../../lambda/authorizer/handler.ts', import.meta.url));

// The handler module in process: test/authorizer/handler.test.ts.
describe('the Lambda handler module, in a process of its own', () => {
  const server = KeyServer.forSuite(publishedKeySet);
  const env = () => ({
    [ENV_NAMES.tenantId]: TENANT,
    [ENV_NAMES.audiences]: CLIENT_ID,
    [ENV_NAMES.jwksUri]: server.url,
    POWERTOOLS_LOG_LEVEL: 'INFO',
    POWERTOOLS_METRICS_DISABLED: 'false',
  });

  it('writes exactly one line per decision to a real stdout pipe, in a process of its own', async () => {
    const tokens = [token(), token({ audience: 'api://other' }), token(), 'not-a-jwt'];
    const script = `
      const { handler } = await import(${JSON.stringify(HANDLER)});
      const tokens = ${JSON.stringify(tokens)};
      for (const [i, t] of tokens.entries()) {
        await handler({ type: 'TOKEN', methodArn: ${JSON.stringify(event('').methodArn)}, authorizationToken: 'Bearer ' + t },
          { awsRequestId: 'r' + i, functionName: 'f', invokedFunctionArn: 'arn:aws:lambda:eu-west-1:1:function:f', memoryLimitInMB: '256' }).catch(() => {});
        await new Promise((done) => setImmediate(done));
      }`;
    const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
      env: { ...process.env, ...env() },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const { code, stdout, stderr } = await finished(child);
    expect(code, stderr).toBe(0);
    // Refusals and Allows are INFO lines: nothing of ours on stderr (Node may warn there, that is not ours).
    expect(stderr.split('\n').filter((l) => l.startsWith('{'))).toEqual([]);
    const lines = stdout.split('\n').filter((l) => l !== '');
    const decisions = lines.map((l) => JSON.parse(l)).filter((r) => r.message === 'authorizer decision');
    expect(lines).toHaveLength(tokens.length + 1);
    expect(decisions.map((d) => [d.function_request_id, d.reason])).toEqual([
      ['r0', 'allowed'],
      ['r1', 'wrong_audience'],
      ['r2', 'allowed'],
      ['r3', 'malformed'],
    ]);
    for (const line of lines.filter((l) => l.includes('"authorizer decision"')))
      expect(emfViolations(line)).toEqual([]);
  });
});
