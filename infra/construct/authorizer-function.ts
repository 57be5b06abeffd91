import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Code, type FunctionProps, Function as LambdaFunction } from 'aws-cdk-lib/aws-lambda';
import { NodejsFunction } from 'aws-cdk-lib/aws-lambda-nodejs';
import type { Construct } from 'constructs';
import { bundleFileName, NODE22_BUNDLING, nodejsLazyBundling } from './lambda-defaults.js';

/**
 * Where the authorizer Lambda's code comes from, decided by where this module lives:
 * - compiled, as installed from the package (`dist/esm/infra/` or `dist/cjs/infra/`): the bundle the package
 *   build made (`dist/authorizer/`), deployed as it is, so the user's app needs neither esbuild nor Docker;
 * - TypeScript source (`infra/`, this repository's own stack and tests): bundled from source by
 *   NodejsFunction with the same bundling options.
 */
type AuthorizerCode =
  | { readonly kind: 'bundle'; readonly dir: string; readonly handler: string }
  | {
      readonly kind: 'source';
      readonly entry: string;
      readonly projectRoot: string;
      readonly depsLockFilePath: string;
    };

/** The authorizer's composition root, relative to the project root: what every bundle of it is built from. */
export const AUTHORIZER_ENTRY = 'lambda/authorizer/handler.ts';

/**
 * The authorizer's lazily loaded modules (see `withLazyModules`), each `<name>.js` beside `index.js`: the
 * decision code (key caches, verifier, route rules, policy), loaded while the cold start's key fetch waits,
 * with the writer of the log lines and metric; the reader of a tenant list in an SSM parameter, loaded only
 * where `allowedTenants` names one; the operator hints, loaded at the first refusal.
 */
export const AUTHORIZER_LAZY_MODULES: readonly string[] = [
  'decide',
  'telemetry',
  'tenant-parameter',
  'hints',
];

/** The handler module's export; NodejsFunction names the Lambda handler `index.<export>`, so does the bundle. */
const HANDLER_EXPORT = 'handler';

/**
 * The authorizer's code as seen from the module at `moduleUrl`. `import.meta.url` works in both module systems
 * here: the CommonJS build defines it from `__filename`.
 */
export function locateAuthorizerCode(moduleUrl: string): AuthorizerCode {
  const modulePath = fileURLToPath(moduleUrl);
  const moduleDir = dirname(modulePath);
  if (/\.[mc]?ts$/.test(modulePath)) {
    const projectRoot = join(moduleDir, '..', '..');
    return {
      kind: 'source',
      entry: join(projectRoot, AUTHORIZER_ENTRY),
      projectRoot,
      depsLockFilePath: join(projectRoot, 'package-lock.json'),
    };
  }
  // <package>/dist/<esm|cjs>/infra/construct/<module>.js -> <package>/dist/authorizer/
  const dir = join(moduleDir, '..', '..', '..', 'authorizer');
  const file = bundleFileName(NODE22_BUNDLING);
  if (!existsSync(join(dir, file))) {
    throw new Error(
      `EntraTokenAuthorizer: the packaged authorizer bundle ${join(dir, file)} is missing; reinstall ` +
        'entra-authorizer (installed from git, its "prepare" script builds the bundle: allow it to run)',
    );
  }
  return { kind: 'bundle', dir, handler: `${file.replace(/\.m?js$/, '')}.${HANDLER_EXPORT}` };
}

/**
 * The authorizer Lambda with `props` (all but its code): the packaged bundle as an asset, or, from source,
 * a NodejsFunction. Either way the same files, built with {@link NODE22_BUNDLING} and its lazy modules.
 */
export function authorizerFunction(
  scope: Construct,
  id: string,
  props: Omit<FunctionProps, 'code' | 'handler'>,
): LambdaFunction {
  const code = locateAuthorizerCode(import.meta.url);
  if (code.kind === 'bundle') {
    return new LambdaFunction(scope, id, { ...props, code: Code.fromAsset(code.dir), handler: code.handler });
  }
  return new NodejsFunction(scope, id, {
    ...props,
    entry: code.entry,
    handler: HANDLER_EXPORT,
    projectRoot: code.projectRoot,
    depsLockFilePath: code.depsLockFilePath,
    bundling: nodejsLazyBundling(NODE22_BUNDLING, AUTHORIZER_ENTRY, AUTHORIZER_LAZY_MODULES),
  });
}
