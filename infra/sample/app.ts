import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { addSampleStack, deployerMistake } from './sample-app.js';

const app = new App();
try {
  addSampleStack(app);
} catch (err) {
  // A missing or malformed -c value is the deployer's mistake: one line, not a stack trace.
  const line = deployerMistake(err);
  if (line === undefined) throw err;
  console.error(line);
  process.exit(1);
}
Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
app.synth();
