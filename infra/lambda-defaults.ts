import { RemovalPolicy } from 'aws-cdk-lib';
import { PolicyStatement, Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { type BundlingOptions, OutputFormat } from 'aws-cdk-lib/aws-lambda-nodejs';
import { LogGroup, type RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { Construct } from 'constructs';

/**
 * How this project's Lambdas are bundled: the local esbuild (no Docker), ESM for Node.js 22, minified. Every
 * dependency ships ESM, so no `require` shim is needed (a test runs the bundle to keep that true).
 */
export const NODE22_BUNDLING: BundlingOptions = {
  format: OutputFormat.ESM,
  target: 'node22',
  minify: true,
  sourceMap: true,
  sourcesContent: false,
  mainFields: ['module', 'main'],
  forceDockerBundling: false,
};

/**
 * An explicit log group with retention (not `logRetention`'s custom resource) and a role that may write to
 * that group only, instead of the broad managed basic-execution policy.
 */
export function functionLogging(
  scope: Construct,
  id: string,
  props: { retention: RetentionDays; removalPolicy?: RemovalPolicy },
): { logGroup: LogGroup; role: Role } {
  const logGroup = new LogGroup(scope, `${id}Logs`, {
    retention: props.retention,
    removalPolicy: props.removalPolicy ?? RemovalPolicy.DESTROY,
  });
  const role = new Role(scope, `${id}Role`, { assumedBy: new ServicePrincipal('lambda.amazonaws.com') });
  role.addToPolicy(
    new PolicyStatement({
      actions: ['logs:CreateLogStream', 'logs:PutLogEvents'],
      // The log group ARN attribute already ends in :*, which covers its streams.
      resources: [logGroup.logGroupArn],
    }),
  );
  return { logGroup, role };
}
