import type { App } from 'aws-cdk-lib';
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

/** The sample stack the app's context (`-c tenantId=...`) asks for, added to `app`. */
export function addSampleStack(app: App): void {
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
}

/**
 * The one line that tells the deployer what to change, for a missing or malformed `-c` value or a prop the
 * construct refuses (naming the context key that set it); undefined for anything else, which is a bug.
 */
export function deployerMistake(err: unknown): string | undefined {
  if (err instanceof ContextError) return err.message;
  if (err instanceof PropsError) {
    const key = (CONTEXT_KEYS as readonly string[]).includes(err.prop) ? ` (context key ${err.prop})` : '';
    return `${err.message}${key}`;
  }
  return undefined;
}
