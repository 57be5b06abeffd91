import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { readAppContext } from './app-context.js';
import { SAMPLE_STACK_NAME, SampleApiStack } from './sample-api-stack.js';

const app = new App();
const entra = readAppContext((key) => app.node.tryGetContext(key));
new SampleApiStack(app, SAMPLE_STACK_NAME, {
  entra,
  // -c allowOrigin=https://app.example.com: the one origin browser scripts may call from (default *).
  allowOrigin: app.node.tryGetContext('allowOrigin'),
  env: { account: process.env.CDK_DEFAULT_ACCOUNT, region: process.env.CDK_DEFAULT_REGION },
});
Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
app.synth();
