import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { PropsError } from '../construct/errors.js';
import {
  CONTEXT_KEYS,
  ContextError,
  checkContextKeys,
  readAllowOrigin,
  readApiKind,
  readAppContext,
} from './app-context.js';
import { SAMPLE_STACK_NAME, SampleApiStack } from './sample-api-stack.js';
import { SAMPLE_HTTP_STACK_NAME, SampleHttpApiStack } from './sample-http-api-stack.js';

const app = new App();
try {
  const context = (key: string) => app.node.tryGetContext(key);
  checkContextKeys(Object.keys(app.node.getAllContext()));
  const props = {
    entra: readAppContext(context),
    allowOrigin: readAllowOrigin(context),
    env: { account: process.env.CDK_DEFAULT_ACCOUNT, region: process.env.CDK_DEFAULT_REGION },
  };
  // -c apiKind=http: the same sample on an HTTP API and a WebSocket API, as a stack of its own.
  if (readApiKind(context) === 'http') new SampleHttpApiStack(app, SAMPLE_HTTP_STACK_NAME, props);
  else new SampleApiStack(app, SAMPLE_STACK_NAME, props);
} catch (err) {
  // A missing or malformed -c value is the deployer's mistake: one line, not a stack trace.
  if (err instanceof ContextError) fail(err.message);
  if (err instanceof PropsError) {
    const key = (CONTEXT_KEYS as readonly string[]).includes(err.prop) ? ` (context key ${err.prop})` : '';
    fail(`${err.message}${key}`);
  }
  throw err;
}
Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
app.synth();

function fail(line: string): never {
  console.error(line);
  process.exit(1);
}
