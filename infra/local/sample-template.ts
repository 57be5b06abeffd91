import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { App, type CfnElement, type Stack } from 'aws-cdk-lib';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import { AUTHORIZER_ENTRY } from '../construct/authorizer-function.js';
import type { RouteDefinition } from '../sample/routes.js';
import { SAMPLE_STACK_NAME, SampleApiStack, type SampleApiStackProps } from '../sample/sample-api-stack.js';
import {
  SAMPLE_HTTP_STACK_NAME,
  SampleHttpApiStack,
  type SampleHttpApiStackProps,
} from '../sample/sample-http-api-stack.js';
import type { CfnTemplate } from './api-template.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
/** The authorizer's composition root: what its bundle is built from. */
const AUTHORIZER_SOURCE = resolve(ROOT, AUTHORIZER_ENTRY);

interface SynthesizedSample {
  /** What `cdk deploy` would send to CloudFormation for these props. */
  readonly template: CfnTemplate;
  /** Each Lambda function of the template (logical id) -> the source module of its handler. */
  readonly sources: ReadonlyMap<string, string>;
}

/** The feature flags of cdk.json, so the local synth (and the tests') is the one `cdk synth` makes. */
export function cdkJsonContext(): Record<string, unknown> {
  return (JSON.parse(readFileSync(resolve(ROOT, 'cdk.json'), 'utf8')) as { context: Record<string, unknown> })
    .context;
}

function logicalIdOf(stack: Stack, fn: IFunction): string {
  return stack.getLogicalId(fn.node.defaultChild as CfnElement);
}

interface SampleParts {
  readonly stack: Stack;
  /** The authorizer functions: each runs the authorizer's composition root. */
  readonly authorizers: readonly IFunction[];
  readonly backends: ReadonlyMap<RouteDefinition, IFunction>;
}

/**
 * Synthesizes a sample stack in this process, as `cdk synth` does but without bundling the Lambdas (the
 * slow part; the local run imports their sources) and without CDK's built-in template validation (the
 * deploy path keeps it), so `npm start` starts in about a second.
 */
function synthesizeWith(build: (app: App) => SampleParts): SynthesizedSample {
  const outdir = mkdtempSync(join(tmpdir(), 'entra-local-synth-'));
  try {
    const app = new App({
      outdir,
      builtinCloudFormationValidation: false,
      context: { ...cdkJsonContext(), 'aws:cdk:bundling-stacks': [] },
    });
    const { stack, authorizers, backends } = build(app);
    const template = app.synth().getStackByName(stack.stackName).template as CfnTemplate;
    const sources = new Map<string, string>([
      ...authorizers.map((fn) => [logicalIdOf(stack, fn), AUTHORIZER_SOURCE] as [string, string]),
      ...[...backends].map(
        ([route, fn]) => [logicalIdOf(stack, fn), resolve(ROOT, route.entry)] as [string, string],
      ),
    ]);
    return { template, sources };
  } finally {
    rmSync(outdir, { recursive: true, force: true });
  }
}

/** The REST sample (`SampleApiStack`). */
export function synthesizeSample(props: SampleApiStackProps): SynthesizedSample {
  return synthesizeWith((app) => {
    const stack = new SampleApiStack(app, SAMPLE_STACK_NAME, props);
    return { stack, authorizers: [stack.entraAuthorizer.function], backends: stack.backends };
  });
}

/** The HTTP API variant (`-c apiKind=http`): its HTTP API and WebSocket API. */
export function synthesizeHttpSample(props: SampleHttpApiStackProps): SynthesizedSample {
  return synthesizeWith((app) => {
    const stack = new SampleHttpApiStack(app, SAMPLE_HTTP_STACK_NAME, props);
    return {
      stack,
      authorizers: [stack.httpAuthorizer.function, stack.webSocketAuthorizer.function],
      backends: stack.backends,
    };
  });
}
