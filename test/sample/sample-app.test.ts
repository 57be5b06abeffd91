import { App } from 'aws-cdk-lib';
import { describe, expect, it } from 'vitest';
import { addSampleStack, deployerMistake } from '../../infra/sample/sample-app.js';

const TENANT = '00000000-0000-4000-8000-0000000000aa';
const API = '00000000-0000-4000-8000-0000000000bb';

/** The line `cdk synth -c ...` prints for the app's context (infra/sample/app.ts prints it, exit 1). */
function mistakeOf(context: Record<string, string>): string | undefined {
  try {
    addSampleStack(new App({ context: { tenantId: TENANT, clientId: API, ...context } }));
  } catch (err) {
    return deployerMistake(err);
  }
  throw new Error(`the sample stack accepted ${JSON.stringify(context)}`);
}

// The process (exit 1, the line alone on stderr, no stack trace) is test/e2e/commands.test.ts's.
describe('cdk synth of the sample app: a value the stack or the construct refuses', () => {
  it('is one line naming the context key: a misspelt key', () => {
    expect(mistakeOf({ requiredScope: 'Items.Read' })).toMatch(
      /^context key requiredScope is not one of this app's keys \(did you mean requiredScopes\?\): pass it to cdk \(synth, deploy or destroy\) as: -c requiredScopes=\.\.\.$/,
    );
  });

  it('is one line naming the context key: an origin the stack refuses', () => {
    expect(mistakeOf({ allowOrigin: 'https://App.example.com/' })).toMatch(
      /^context key allowOrigin must be "\*" or one origin [^\n]*got "https:\/\/App\.example\.com\/"[^\n]*$/,
    );
  });

  it('is one line naming the prop and the context key that set it: a prop the construct refuses', () => {
    expect(mistakeOf({ allowedTenants: 'foo' })).toMatch(
      /^EntraTokenAuthorizer: allowedTenants must be unset for the single tenant [0-9a-f-]{36}: it applies only when tenantId is "organizations" or "common"; got \["foo"\] \(context key allowedTenants\)$/,
    );
  });

  it('is no line for an error that is not the deployer’s (a bug keeps its stack trace)', () => {
    expect(deployerMistake(new TypeError('x is undefined'))).toBeUndefined();
  });
});
