import { dirname, join } from 'node:path';
import { RemovalPolicy } from 'aws-cdk-lib';
import { PolicyStatement, Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { type BundlingOptions, OutputFormat } from 'aws-cdk-lib/aws-lambda-nodejs';
import { LogGroup, type RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { Construct } from 'constructs';

/**
 * How this project's Lambdas are bundled: the local esbuild (no Docker), CommonJS for Node.js 22, minified,
 * with a source map beside the bundle. CommonJS because it is the cheapest cold start the bench measured on
 * Node.js 22: an ES module's `import` of `node:http` builds the builtin's ESM facade, whose export
 * enumeration loads undici (several times the load of the builtins themselves, for nothing the authorizer
 * uses), while `require` does not; Lambda `require`s an `index.js` whose folder has no `"type": "module"`.
 * The AWS SDK is left to the runtime whatever the app's feature flags say (none of our Lambdas imports it).
 *
 * The one description of a bundle: NodejsFunction takes it as is when bundling from source, and
 * {@link esbuildOptions} turns it into the esbuild call that builds the bundle the package ships.
 */
export const NODE22_BUNDLING: BundlingOptions = {
  format: OutputFormat.CJS,
  target: 'node22',
  minify: true,
  sourceMap: true,
  sourcesContent: false,
  mainFields: ['module', 'main'],
  externalModules: ['@aws-sdk/*', '@smithy/*'],
  forceDockerBundling: false,
};

/** The file a bundle is written to and the Lambda loads: NodejsFunction's naming (`index.mjs` for ESM, else `index.js`). */
export function bundleFileName(bundling: BundlingOptions): 'index.mjs' | 'index.js' {
  return bundling.format === OutputFormat.ESM ? 'index.mjs' : 'index.js';
}

/**
 * esbuild's build options, written structurally so that the package's type declarations do not need esbuild
 * (a consumer does not install it).
 */
interface EsbuildOptions {
  readonly entryPoints: string[];
  readonly outfile: string;
  readonly bundle: true;
  readonly platform: 'node';
  readonly format: 'esm' | 'cjs';
  readonly target: string;
  readonly minify: boolean;
  readonly sourcemap: boolean;
  readonly sourcesContent: boolean;
  readonly mainFields: string[] | undefined;
  readonly external: string[];
}

/** The keys of BundlingOptions that {@link esbuildOptions} translates; `forceDockerBundling` means nothing to esbuild. */
const TRANSLATED = new Set([
  'format',
  'target',
  'minify',
  'sourceMap',
  'sourcesContent',
  'mainFields',
  'externalModules',
  'forceDockerBundling',
]);

/**
 * The esbuild call NodejsFunction makes for `bundling` (the flags of aws-cdk-lib's `Bundling`), to build the
 * same bundle of `entry` into `outdir` without a stack. Any option it cannot translate fails here, so the two
 * ways of bundling cannot silently part (a test also compares their output byte for byte).
 */
export function esbuildOptions(bundling: BundlingOptions, entry: string, outdir: string): EsbuildOptions {
  const untranslated = Object.keys(bundling).filter((key) => !TRANSLATED.has(key));
  if (untranslated.length > 0) {
    throw new Error(`esbuildOptions: no translation for bundling option(s) ${untranslated.join(', ')}`);
  }
  if (bundling.target === undefined || bundling.format === undefined) {
    throw new Error('esbuildOptions: bundling must set target and format (NodejsFunction would derive them)');
  }
  return {
    entryPoints: [entry],
    outfile: join(outdir, bundleFileName(bundling)),
    bundle: true,
    platform: 'node',
    format: bundling.format === OutputFormat.ESM ? 'esm' : 'cjs',
    target: bundling.target,
    minify: bundling.minify ?? false,
    sourcemap: bundling.sourceMap ?? false,
    sourcesContent: bundling.sourcesContent ?? true,
    mainFields: bundling.mainFields,
    external: [...(bundling.externalModules ?? [])],
  };
}

/**
 * A bundle with lazily loaded modules: modules of the Lambda that only some deployments run (say, the
 * reader of an SSM parameter) stay out of `index.js`, so that a deployment that never runs one pays neither
 * its bytes nor its load. Each, named by its file beside the entry without extension (`tenant-parameter`):
 * - is external to `index.js` under the specifier `./<name>.js`, which the code loads it by (lazy-module.ts:
 *   a `require` of the file beside `index.js` in the bundle, `import()` of the TypeScript module from source);
 * - is bundled on its own, with the same options, into `<name>.js` (and its map) beside `index.js`.
 * It shares no module state with `index.js` (what both use is bundled into each, so an error class is two
 * classes): it returns data, and `index.js` makes its own errors of what it throws.
 */
export function withLazyModules(bundling: BundlingOptions, lazy: readonly string[]): BundlingOptions {
  return {
    ...bundling,
    externalModules: [...(bundling.externalModules ?? []), ...lazy.map((name) => `./${name}.js`)],
  };
}

/** The esbuild calls that build `entry` and its lazy modules into `outdir`: `index.js` first, then each `<name>.js`. */
export function lazyEsbuildOptions(
  bundling: BundlingOptions,
  entry: string,
  lazy: readonly string[],
  outdir: string,
): EsbuildOptions[] {
  const options = withLazyModules(bundling, lazy);
  return [
    esbuildOptions(options, entry, outdir),
    ...lazy.map((name) => ({
      ...esbuildOptions(options, join(dirname(entry), `${name}.ts`), outdir),
      outfile: join(outdir, `${name}.js`),
    })),
  ];
}

/**
 * The same for NodejsFunction (`entry` relative to its project root): its own esbuild call builds `index.js`
 * with the lazy modules external, then one command after bundling builds each of them with the project's
 * esbuild (`node -e`, the options as base64 JSON, which no shell quoting can garble), in the project root as
 * NodejsFunction's own call runs, so both ways give the same files byte for byte.
 */
export function nodejsLazyBundling(
  bundling: BundlingOptions,
  entry: string,
  lazy: readonly string[],
): BundlingOptions {
  if (lazy.length === 0) return bundling;
  return {
    ...withLazyModules(bundling, lazy),
    commandHooks: {
      beforeBundling: () => [],
      beforeInstall: () => [],
      afterBundling: (inputDir, outputDir) =>
        lazyEsbuildOptions(bundling, join(inputDir, entry), lazy, outputDir)
          .slice(1)
          .map((options) => {
            const json = Buffer.from(JSON.stringify({ ...options, absWorkingDir: inputDir })).toString(
              'base64',
            );
            return `node -e "require('esbuild').buildSync(JSON.parse(Buffer.from('${json}','base64').toString()))"`;
          }),
    },
  };
}

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
