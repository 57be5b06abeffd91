import { App } from 'aws-cdk-lib';
import { cdkJsonContext } from '../../infra/local/sample-template.js';

/** An App like the CLI's, without bundling (the slow part) unless asked for. */
export function testApp(options: { bundle?: boolean; outdir?: string } = {}): App {
  return new App({
    context: { ...cdkJsonContext(), ...(options.bundle ? {} : { 'aws:cdk:bundling-stacks': [] }) },
    ...(options.outdir !== undefined ? { outdir: options.outdir } : {}),
  });
}
