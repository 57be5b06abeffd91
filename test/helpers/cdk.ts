import { readFileSync } from 'node:fs';
import { App } from 'aws-cdk-lib';

/** The feature flags of cdk.json, so tests synthesize what `cdk synth` does. */
export function cdkJsonContext(): Record<string, unknown> {
  const cdkJson = JSON.parse(readFileSync(new URL('../../cdk.json', import.meta.url), 'utf8')) as {
    context: Record<string, unknown>;
  };
  return cdkJson.context;
}

/** An App like the CLI's, without bundling (the slow part) unless asked for. */
export function testApp(options: { bundle?: boolean; outdir?: string } = {}): App {
  return new App({
    context: { ...cdkJsonContext(), ...(options.bundle ? {} : { 'aws:cdk:bundling-stacks': [] }) },
    ...(options.outdir !== undefined ? { outdir: options.outdir } : {}),
  });
}
