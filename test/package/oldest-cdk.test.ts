import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Template } from 'aws-cdk-lib/assertions';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { lockedVersion, type PackResult, ROOT, run, userEnv } from './consumer-app.js';

/**
 * The oldest aws-cdk-lib the package declares (its peer range's floor), installed by npm beside the tarball
 * without --legacy-peer-deps: the range must admit it, and the construct must work on it, every method the
 * package adds to a user's app included. (package.test.ts does the same with the newest, this repository's.)
 */

const ours = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
  peerDependencies: Record<string, string>;
};
const OLDEST = /^\^(\d+\.\d+\.\d+)$/.exec(ours.peerDependencies['aws-cdk-lib'] ?? '')?.[1];

const APP = `const { App, Stack } = require('aws-cdk-lib');
const { LambdaIntegration, RestApi } = require('aws-cdk-lib/aws-apigateway');
const { Alarm } = require('aws-cdk-lib/aws-cloudwatch');
const { Code, Function: LambdaFunction, Runtime } = require('aws-cdk-lib/aws-lambda');
const { EntraTokenAuthorizer } = require('entra-authorizer');
const app = new App();
const stack = new Stack(app, 'ItemsStack');
const entra = new EntraTokenAuthorizer(stack, 'Entra', {
  tenantId: '72f988bf-86f1-41af-91ab-2d7cd011db47',
  clientId: '6e74172b-be56-4843-9ff4-e66a39bb12e3',
});
const api = new RestApi(stack, 'ItemsApi');
const backend = new LambdaFunction(stack, 'Items', {
  runtime: Runtime.NODEJS_22_X,
  handler: 'index.handler',
  code: Code.fromInline('exports.handler = async () => ({ statusCode: 200, body: "[]" });'),
});
const items = api.root.addResource('items');
entra.addMethod(items, 'GET', new LambdaIntegration(backend), { scopes: ['Items.Read'] });
entra.addMethod(items.addResource('{id}'), 'DELETE', new LambdaIntegration(backend), { roles: ['Items.Admin'] });
entra.addGatewayResponses(api);
entra.addAlarms();
new Alarm(stack, 'Expired', { metric: entra.metricDecisions({ reason: 'expired' }), threshold: 10, evaluationPeriods: 1 });
app.synth();
console.log(require('aws-cdk-lib/package.json').version);
`;

/** A JavaScript app's misspelling, which no compiler catches: without a check, no route rule at all. */
const MISSPELLED = `const { App, Stack } = require('aws-cdk-lib');
const { EntraTokenAuthorizer } = require('entra-authorizer');
new EntraTokenAuthorizer(new Stack(new App(), 'ItemsStack'), 'Entra', {
  tenantId: '72f988bf-86f1-41af-91ab-2d7cd011db47',
  clientId: '6e74172b-be56-4843-9ff4-e66a39bb12e3',
  routePermission: { 'GET /items': { scopes: ['Items.Read'] } },
});
`;

/**
 * Props of every kind as a JavaScript app writes them on the oldest aws-cdk-lib (its Duration, RetentionDays and
 * RemovalPolicy taken as that version has them), then one of another kind, which fails naming the prop.
 */
const KINDS = `const { App, Duration, RemovalPolicy, Stack } = require('aws-cdk-lib');
const { RetentionDays } = require('aws-cdk-lib/aws-logs');
const { EntraTokenAuthorizer } = require('entra-authorizer');
const props = {
  tenantId: '72f988bf-86f1-41af-91ab-2d7cd011db47',
  clientId: '6e74172b-be56-4843-9ff4-e66a39bb12e3',
  clockSkew: Duration.seconds(60),
  logRetention: RetentionDays.ONE_WEEK,
  logRemovalPolicy: RemovalPolicy.RETAIN,
  memorySize: 512,
};
new EntraTokenAuthorizer(new Stack(new App(), 'Good'), 'Entra', props);
new EntraTokenAuthorizer(new Stack(new App(), 'Bad'), 'Entra', { ...props, requiredScopes: 'Items.Read' });
`;

let work: string;

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'entra-oldest-cdk-'));
  const { stdout } = await run('npm', ['pack', '--json', '--pack-destination', work], { cwd: ROOT });
  const [packed] = JSON.parse(stdout) as [PackResult];
  const dir = join(work, 'app');
  mkdirSync(dir);
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'oldest-cdk-app', private: true }));
  writeFileSync(join(dir, 'app.js'), APP);
  writeFileSync(join(dir, 'misspelled.js'), MISSPELLED);
  writeFileSync(join(dir, 'kinds.js'), KINDS);
  // Plain npm install: an ERESOLVE here means the peer range refuses the version it names as its floor.
  await run(
    'npm',
    [
      'install',
      '--prefer-offline',
      '--no-audit',
      '--no-fund',
      `aws-cdk-lib@${OLDEST}`,
      `constructs@${lockedVersion('constructs')}`,
      join(work, packed.filename),
    ],
    { cwd: dir },
  );
}, 300_000);

afterAll(async () => {
  if (work !== undefined) await rm(work, { recursive: true, force: true });
}, 120_000);

describe('the oldest aws-cdk-lib the package declares', () => {
  it('is an exact floor of the peer range', () => {
    expect(OLDEST).toMatch(/^2\.\d+\.\d+$/);
  });

  it('installs beside the tarball and synthesizes the construct with all it adds to an app', async () => {
    const dir = join(work, 'app');
    const { stdout } = await run(process.execPath, ['app.js'], {
      cwd: dir,
      env: { ...userEnv(), CDK_OUTDIR: join(dir, 'cdk.out') },
    });
    expect(stdout.trim()).toBe(OLDEST);
    const template = Template.fromJSON(
      JSON.parse(readFileSync(join(dir, 'cdk.out', 'ItemsStack.template.json'), 'utf8')),
    );
    template.hasResourceProperties('AWS::Lambda::Function', {
      Description: 'Entra ID access token authorizer',
      Runtime: 'nodejs22.x',
      Environment: {
        Variables: {
          AZURE_ROUTE_PERMISSIONS: JSON.stringify({
            'GET /items': { scopes: ['Items.Read'] },
            'DELETE /items/{id}': { roles: ['Items.Admin'] },
          }),
        },
      },
    });
    template.resourcePropertiesCountIs('AWS::ApiGateway::Method', { AuthorizationType: 'CUSTOM' }, 2);
    template.resourceCountIs('AWS::ApiGateway::GatewayResponse', 6);
    template.resourceCountIs('AWS::CloudWatch::Alarm', 4);
    template.resourceCountIs('AWS::ApiGateway::Deployment', 1);
  });

  it('fails the synth of a JavaScript app on a misspelled prop, naming it and the prop it meant', async () => {
    const dir = join(work, 'app');
    const failed = await run(process.execPath, ['misspelled.js'], { cwd: dir }).then(
      () => undefined,
      (err: Error) => err.message,
    );
    expect(failed).toContain(
      'EntraTokenAuthorizer: routePermission must be one of its props (did you mean routePermissions?); got {"GET /items":{"scopes":["Items.Read"]}}',
    );
  });

  it("takes each kind of prop from that version's aws-cdk-lib, and names a prop of another kind", async () => {
    const failed = await run(process.execPath, ['kinds.js'], { cwd: join(work, 'app') }).then(
      () => undefined,
      (err: Error) => err.message,
    );
    expect(failed).toContain(
      `EntraTokenAuthorizer: requiredScopes must be a list of strings, such as ['Items.Read']; got "Items.Read"`,
    );
    expect(failed).not.toMatch(/EntraTokenAuthorizer: (clockSkew|logRetention|logRemovalPolicy|memorySize)/);
  });
});
