import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { ContextError, readAppContext } from './app-context.js';
import { SAMPLE_STACK_NAME, SampleApiStack } from './sample-api-stack.js';

const app = new App();
let entra: ReturnType<typeof readAppContext>;
try {
  entra = readAppContext((key) => app.node.tryGetContext(key));
} catch (err) {
  // A missing or malformed -c value is the deployer's mistake: one line, not a stack trace.
  if (!(err instanceof ContextError)) throw err;
  console.error(err.message);
  process.exit(1);
}
new SampleApiStack(app, SAMPLE_STACK_NAME, {
  entra,
  // -c allowOrigin=https://app.example.com: the one origin browser scripts may call from (default *).
  allowOrigin: app.node.tryGetContext('allowOrigin'),
  env: { account: process.env.CDK_DEFAULT_ACCOUNT, region: process.env.CDK_DEFAULT_REGION },
});
Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
app.synth();
