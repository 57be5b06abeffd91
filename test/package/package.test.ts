import {
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  writeFileSync,
} from 'node:fs';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { delimiter, join, posix } from 'node:path';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AUTHORIZER_LAZY_MODULES } from '../../infra/construct/authorizer-function.js';
import { BEARER_HEADER_PATTERN } from '../../lambda/authorizer/bearer.js';
import { ENV_NAMES } from '../../lambda/authorizer/config.js';
import * as identitySource from '../../lambda/shared/index.js';
import { lockClosure, lockedVersion, type PackResult, ROOT, run, userEnv } from './consumer-app.js';

/**
 * What a user does: pack this repository, install the tarball into fresh CDK apps of their own (one
 * CommonJS, one ESM) next to aws-cdk-lib and constructs only, guard their own API with the construct, and
 * read the caller in a backend with `entra-authorizer/identity`.
 */

const TENANT = '72f988bf-86f1-41af-91ab-2d7cd011db47';
const CLIENT = '6e74172b-be56-4843-9ff4-e66a39bb12e3';
const ROUTES = { 'GET /items': { scopes: ['Items.Read'] }, 'DELETE /items/{id}': { roles: ['Items.Admin'] } };

const FORMATS = ['commonjs', 'module'] as const;
type Format = (typeof FORMATS)[number];

const IMPORTS: Record<Format, string> = {
  commonjs: `const { App, Stack } = require('aws-cdk-lib');
const { LambdaIntegration, RestApi } = require('aws-cdk-lib/aws-apigateway');
const { Code, Function: LambdaFunction, Runtime } = require('aws-cdk-lib/aws-lambda');
const { NodejsFunction } = require('aws-cdk-lib/aws-lambda-nodejs');
const { EntraTokenAuthorizer } = require('entra-authorizer');
const entraAuthorizer = require('entra-authorizer');`,
  module: `import { App, Stack } from 'aws-cdk-lib';
import { LambdaIntegration, RestApi } from 'aws-cdk-lib/aws-apigateway';
import { Code, Function as LambdaFunction, Runtime } from 'aws-cdk-lib/aws-lambda';
import { NodejsFunction } from 'aws-cdk-lib/aws-lambda-nodejs';
import { EntraTokenAuthorizer } from 'entra-authorizer';
import * as entraAuthorizer from 'entra-authorizer';`,
};

/** The user's app: their API, their backend, their two methods, guarded by the construct. */
const APP_BODY = `
const app = new App();
const stack = new Stack(app, 'ItemsStack');
const entra = new EntraTokenAuthorizer(stack, 'Entra', {
  tenantId: '${TENANT}',
  clientId: '${CLIENT}',
  routePermissions: ${JSON.stringify(ROUTES)},
});
const api = new RestApi(stack, 'ItemsApi', { defaultMethodOptions: { authorizer: entra.authorizer } });
entra.addGatewayResponses(api);
const backend = new LambdaFunction(stack, 'Items', {
  runtime: Runtime.NODEJS_22_X,
  handler: 'index.handler',
  code: Code.fromInline('exports.handler = async () => ({ statusCode: 200, body: "[]" });'),
});
const items = api.root.addResource('items');
items.addMethod('GET', new LambdaIntegration(backend));
items.addResource('{id}').addMethod('DELETE', new LambdaIntegration(backend));
app.synth();
console.log(JSON.stringify({
  exports: Object.keys(entraAuthorizer).filter((k) => k !== 'default' && k !== '__esModule').sort(),
  prebuilt: entra.function instanceof LambdaFunction && !(entra.function instanceof NodejsFunction),
}));
`;

const IDENTITY_INPUT = {
  principalId: 'oid-1',
  oid: 'oid-1',
  tid: TENANT,
  sub: 'sub-1',
  scp: 'Items.Read Items.Write',
  roles: '',
  appId: 'app-1',
  ver: '2.0',
  appOnly: 'false',
  exp: '1700000000',
};

/** A backend's use of `entra-authorizer/identity`, with `id` the loaded module. */
const IDENTITY_BODY = `
const caller = id.readIdentity(${JSON.stringify(IDENTITY_INPUT)});
let missing = 'not thrown';
try { id.readIdentity(undefined); } catch (err) { missing = err instanceof id.MissingIdentityError ? err.name : String(err); }
console.log(JSON.stringify({
  exports: Object.keys(id).filter((k) => k !== 'default' && k !== '__esModule').sort(),
  caller,
  write: id.hasScopeOrRole(caller, 'Items.Write'),
  admin: id.hasScopeOrRole(caller, 'Items.Admin'),
  missing,
}));
`;

/** A TypeScript consumer; each `@ts-expect-error` fails the check if the shipped types were `any`. */
const TS_CONSUMER = `import { App, Duration, Stack } from 'aws-cdk-lib';
import { RestApi } from 'aws-cdk-lib/aws-apigateway';
import type { Function as LambdaFunction } from 'aws-cdk-lib/aws-lambda';
import { EntraTokenAuthorizer, type EntraTokenAuthorizerProps } from 'entra-authorizer';
import {
  type CallerIdentity,
  hasScopeOrRole,
  MissingIdentityError,
  readCorsOptions,
  readIdentity,
  withCors,
} from 'entra-authorizer/identity';

const props: EntraTokenAuthorizerProps = { tenantId: 't', clientId: 'c', resultsCacheTtl: Duration.minutes(1) };
const stack = new Stack(new App(), 'S');
const entra = new EntraTokenAuthorizer(stack, 'E', props);
const fn: LambdaFunction = entra.function;
entra.addGatewayResponses(new RestApi(stack, 'Api'));
// @ts-expect-error tenantId is required
new EntraTokenAuthorizer(stack, 'Bad', { clientId: 'c' });
const caller: CallerIdentity = readIdentity({ tid: 't' });
const allowed: boolean = hasScopeOrRole(caller, 'Items.Read');
// @ts-expect-error scopes are strings
const wrong: number[] = caller.scopes;
const error: Error = new MissingIdentityError('x');
// docs/cors.md's backend, as written there (a Lambda project has @types/node; this one only needs env).
declare const process: { env: Record<string, string | undefined> };
const cors = readCorsOptions(process.env);
const handler = async () => withCors({ statusCode: 200, body: '{}' }, cors);
// @ts-expect-error a proxy result has a status code
withCors({ body: '{}' }, cors);
`;

const TSC = join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');

let work: string;
let packed: PackResult;
let started: number;
const appDir = (format: Format) => join(work, format);
const seconds = () => ((Date.now() - started) / 1000).toFixed(1);

/**
 * Started together once both apps are installed (a CDK synth and tsc are each bound to one core); each test
 * awaits its own. Marked as handled here, so a failure is reported by the test that awaits it.
 */
let synths: Record<Format, Promise<string>>;
let typecheck: Promise<unknown>;
const handled = <T>(promise: Promise<T>): Promise<T> => {
  promise.catch(() => undefined);
  return promise;
};

/** A fresh app folder: package.json, a lock of the exact aws-cdk-lib and constructs this repository uses, the app. */
function createApp(format: Format): void {
  const dir = appDir(format);
  mkdirSync(dir);
  const spec = `file:../${packed.filename}`;
  const dependencies = {
    'aws-cdk-lib': lockedVersion('aws-cdk-lib'),
    constructs: lockedVersion('constructs'),
    'entra-authorizer': spec,
  };
  const manifest = {
    name: `consumer-${format}`,
    version: '1.0.0',
    private: true,
    type: format,
    dependencies,
  };
  const ours = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
    peerDependencies: Record<string, string>;
    engines: Record<string, string>;
  };
  const lock = {
    name: manifest.name,
    version: manifest.version,
    lockfileVersion: 3,
    requires: true,
    packages: {
      '': { name: manifest.name, version: manifest.version, dependencies },
      ...lockClosure(['aws-cdk-lib', 'constructs']),
      'node_modules/entra-authorizer': {
        version: packed.version,
        resolved: spec,
        integrity: packed.integrity,
        engines: ours.engines,
        peerDependencies: ours.peerDependencies,
      },
    },
  };
  writeFileSync(join(dir, 'package.json'), `${JSON.stringify(manifest, null, 2)}\n`);
  writeFileSync(join(dir, 'package-lock.json'), `${JSON.stringify(lock, null, 2)}\n`);
  writeFileSync(join(dir, 'app.js'), `${IMPORTS[format]}\n${APP_BODY}`);
}

/** Runs the user's app (`node app.js`, as `cdk synth` would) and returns what it printed. */
async function synth(format: Format): Promise<string> {
  const dir = appDir(format);
  const { stdout } = await run(process.execPath, ['app.js'], {
    cwd: dir,
    env: { ...userEnv(), CDK_OUTDIR: join(dir, 'cdk.out') },
  });
  return stdout;
}

/** tsc on a TypeScript consumer: under nodenext both the import (.mts) and require (.cts) types, and node10. */
async function typecheckConsumer(): Promise<void> {
  // Inside the CommonJS app, so that the packages resolve from its node_modules, as in the user's project.
  const ts = join(appDir('commonjs'), 'typescript');
  mkdirSync(ts);
  writeFileSync(join(ts, 'consumer.mts'), `${TS_CONSUMER}export { allowed, error, fn, handler, wrong };\n`);
  writeFileSync(join(ts, 'consumer.cts'), `${TS_CONSUMER}export = { allowed, error, fn, handler, wrong };\n`);
  writeFileSync(join(ts, 'node10.ts'), `${TS_CONSUMER}export { allowed, error, fn, handler, wrong };\n`);
  const options = { target: 'es2022', strict: true, noEmit: true, skipLibCheck: true, types: [] };
  writeFileSync(
    join(ts, 'tsconfig.json'),
    JSON.stringify({
      compilerOptions: { ...options, module: 'nodenext' },
      files: ['consumer.mts', 'consumer.cts'],
    }),
  );
  writeFileSync(
    join(ts, 'tsconfig.node10.json'),
    JSON.stringify({
      compilerOptions: { ...options, module: 'commonjs', moduleResolution: 'node10' },
      files: ['node10.ts'],
    }),
  );
  await Promise.all(
    ['tsconfig.json', 'tsconfig.node10.json'].map((config) =>
      run(process.execPath, [TSC, '-p', config], { cwd: ts }),
    ),
  );
}

beforeAll(async () => {
  started = Date.now();
  work = mkdtempSync(join(tmpdir(), 'entra-package-'));
  // npm pack runs prepack, that is, the build.
  const { stdout } = await run('npm', ['pack', '--json', '--pack-destination', work], { cwd: ROOT });
  [packed] = JSON.parse(stdout) as [PackResult];
  console.log(`package test: packed (build included) in ${seconds()} s`);
  for (const format of FORMATS) createApp(format);
  // From npm's cache when it holds the tarballs (the lock names them exactly, so no metadata is needed).
  await Promise.all(
    FORMATS.map((format) =>
      run('npm', ['ci', '--prefer-offline', '--no-audit', '--no-fund'], { cwd: appDir(format) }),
    ),
  );
  console.log(`package test: installed into both apps at ${seconds()} s`);
  synths = { commonjs: handled(synth('commonjs')), module: handled(synth('module')) };
  typecheck = handled(typecheckConsumer());
}, 180_000);

afterAll(async () => {
  await Promise.allSettled([...Object.values(synths ?? {}), typecheck]);
  console.log(`package test: ${seconds()} s in all`);
  // Two node_modules of some 190 MB each: slow to delete on a busy disk.
  if (work !== undefined) await rm(work, { recursive: true, force: true });
}, 120_000);

describe('npm pack', () => {
  it('ships the compiled library, its declarations, the authorizer bundle and the manual, and nothing else', () => {
    const paths = packed.files.map((f) => f.path);
    for (const path of paths) {
      expect(path).toMatch(
        /^(package\.json|README\.md|LICENSE|dist\/(esm|cjs)\/.+\.(js|d\.ts)|dist\/cjs\/package\.json)$|^dist\/authorizer\/[\w-]+\.js(\.map)?$|^dist\/cli\/[\w-]+\.(mjs|cjs)$|^docs\/[\w-]+\.md$|^examples\/[\w/-]+\.ts$/,
      );
    }
    expect(paths).toEqual(
      expect.arrayContaining([
        'dist/authorizer/index.js',
        'dist/authorizer/index.js.map',
        ...AUTHORIZER_LAZY_MODULES.flatMap((name) => [
          `dist/authorizer/${name}.js`,
          `dist/authorizer/${name}.js.map`,
        ]),
        'dist/esm/infra/index.js',
        'dist/esm/infra/index.d.ts',
        'dist/cjs/infra/index.js',
        'dist/cjs/infra/index.d.ts',
        'dist/cjs/package.json',
        'dist/esm/lambda/shared/index.js',
        'dist/cjs/lambda/shared/index.d.ts',
      ]),
    );
    // The code under 1 MiB + 192 KiB (1,216,748 bytes, with the props' kind checks and four lazily loaded
    // modules beside index.js): the constructs twice (ESM and CommonJS), the Lambda's bundle and its lazily loaded modules with their maps,
    // the command line (importing our modules dist/esm holds rather than a copy) with ws (50 KB minified) for
    // WebSocket APIs; a dependency bundled by mistake (aws-cdk-lib, an SDK client) passes it many times over.
    // The manual beside it, under 250 KB.
    const manual = packed.files.filter((f) => /^(docs|examples)\//.test(f.path));
    const bytes = (files: readonly { size: number }[]) => files.reduce((sum, f) => sum + f.size, 0);
    expect(packed.unpackedSize - bytes(manual)).toBeLessThan(1024 * 1024 + 192 * 1024);
    expect(bytes(manual)).toBeLessThan(250 * 1024);
  });

  it('travels with its manual: every relative link of the README and docs/ names a file of the package', () => {
    const paths = new Set(packed.files.map((f) => f.path));
    const pages = [...paths].filter((p) => p === 'README.md' || /^docs\/.+\.md$/.test(p));
    expect(pages.length).toBeGreaterThan(5);
    const dangling: string[] = [];
    for (const page of pages) {
      const text = readFileSync(join(ROOT, page), 'utf8').replace(/^ *```[\s\S]*?^ *```$/gm, '');
      for (const [, target] of text.matchAll(/\]\(([^)\s#]+)(?:#[^)]*)?\)/g)) {
        if (/^[a-z][a-z+.-]*:/i.test(target as string)) continue;
        const file = posix.normalize(posix.join(posix.dirname(page), target as string));
        if (!paths.has(file)) dangling.push(`${page}: ${target}`);
      }
    }
    expect(dangling).toEqual([]);
    // The alarms' runbook is there too.
    expect(paths.has('docs/observability.md')).toBe(true);
  });

  it('declares aws-cdk-lib and constructs as peers and needs nothing else at run time', () => {
    const installed = JSON.parse(
      readFileSync(join(appDir('commonjs'), 'node_modules', 'entra-authorizer', 'package.json'), 'utf8'),
    ) as Record<string, unknown>;
    expect(installed.dependencies).toBeUndefined();
    expect(Object.keys(installed.peerDependencies as object).sort()).toEqual(['aws-cdk-lib', 'constructs']);
    // The shipped declarations name no module the user lacks (esbuild, @types/aws-lambda, ...).
    const declared = new Set<string>();
    const shipped = join(appDir('commonjs'), 'node_modules', 'entra-authorizer', 'dist');
    for (const entry of readdirSync(shipped, { recursive: true, encoding: 'utf8' })) {
      if (!entry.endsWith('.d.ts')) continue;
      const text = readFileSync(join(shipped, entry), 'utf8');
      for (const [, a, b] of text.matchAll(
        /(?:from |import\()['"]([^'"]+)['"]|<reference types="([^"]+)"/g,
      )) {
        const from = (a ?? b) as string;
        if (!from.startsWith('.')) declared.add(from.split('/')[0] as string);
      }
    }
    expect([...declared].sort()).toEqual(['aws-cdk-lib', 'constructs']);
  });
  it('ships one copy of our modules: the command line imports those dist/esm holds from there', () => {
    const dist = join(appDir('commonjs'), 'node_modules', 'entra-authorizer', 'dist');
    const chunks = readdirSync(join(dist, 'cli')).filter((f) => f.endsWith('.mjs') && f !== 'ws.mjs');
    const bundled: string[] = [];
    const imported: string[] = [];
    for (const chunk of chunks) {
      const text = readFileSync(join(dist, 'cli', chunk), 'utf8');
      // esbuild heads each module it bundles with a comment naming its source file.
      for (const [, source] of text.matchAll(/^\/\/ ((?:infra|lambda)\/\S+)\.ts$/gm))
        bundled.push(source as string);
      for (const [, path] of text.matchAll(/from "(\.\.\/esm\/[^"]+)"/g)) imported.push(path as string);
    }
    expect(bundled.length).toBeGreaterThan(20);
    expect(bundled.filter((source) => existsSync(join(dist, 'esm', `${source}.js`)))).toEqual([]);
    expect(imported.length).toBeGreaterThan(10);
    expect(imported.filter((path) => !existsSync(join(dist, 'cli', path)))).toEqual([]);
  });
});

describe.each(FORMATS)('a %s CDK app with the tarball installed', (format) => {
  it('has the package itself (no link), aws-cdk-lib and constructs, and no esbuild anywhere', async () => {
    const dir = appDir(format);
    expect(lstatSync(join(dir, 'node_modules', 'entra-authorizer')).isDirectory()).toBe(true);
    // Beside it only aws-cdk-lib, constructs and what they need, exactly as this repository has them.
    const expected = Object.keys(lockClosure(['aws-cdk-lib', 'constructs']))
      .map((path) => path.replace(/^node_modules\//, '').split('/')[0] as string)
      .concat('entra-authorizer');
    const installed = readdirSync(join(dir, 'node_modules')).filter((d) => !d.startsWith('.'));
    expect(installed.sort()).toEqual([...new Set(expected)].sort());
    await expect(run(process.execPath, ['-e', "require.resolve('esbuild')"], { cwd: dir })).rejects.toThrow(
      /Cannot find module 'esbuild'/,
    );
    const onPath = (userEnv().PATH ?? '').split(delimiter).filter((d) => existsSync(join(d, 'esbuild')));
    expect(onPath).toEqual([]);
  });

  it('guards its own API: the packaged bundle as the Lambda code, the authorizer on both methods', async () => {
    const dir = appDir(format);
    expect(JSON.parse(await synths[format])).toEqual({
      exports: [
        'EntraHttpAuthorizer',
        'EntraTokenAuthorizer',
        'EntraWebSocketAuthorizer',
        'GATEWAY_RESPONSES_WARNING',
        'PropsError',
      ],
      prebuilt: true,
    });
    const out = join(dir, 'cdk.out');
    const template = Template.fromJSON(
      JSON.parse(readFileSync(join(out, 'ItemsStack.template.json'), 'utf8')),
    );

    const functions = template.findResources('AWS::Lambda::Function', {
      Properties: { Description: 'Entra ID access token authorizer' },
    });
    expect(Object.keys(functions)).toHaveLength(1);
    const [functionId, fn] = Object.entries(functions)[0] as [
      string,
      { Properties: Record<string, unknown> },
    ];
    expect(fn.Properties).toMatchObject({
      Handler: 'index.handler',
      Runtime: 'nodejs22.x',
      Architectures: ['arm64'],
      MemorySize: 256,
      Timeout: 10,
      Environment: {
        Variables: {
          [ENV_NAMES.tenantId]: TENANT,
          [ENV_NAMES.audiences]: `${CLIENT},api://${CLIENT}`,
          [ENV_NAMES.routePermissions]: JSON.stringify(ROUTES),
          POWERTOOLS_SERVICE_NAME: 'entra-authorizer',
        },
      },
    });
    expect(fn.Properties.Environment).not.toHaveProperty('Variables.NODE_OPTIONS');

    // The Lambda's code is the asset staged from the installed package's bundle, byte for byte.
    const s3Key = (fn.Properties.Code as { S3Key: string }).S3Key;
    const hash = s3Key.replace(/\.zip$/, '');
    const assets = JSON.parse(readFileSync(join(out, 'ItemsStack.assets.json'), 'utf8')) as {
      files: Record<string, { source: { path: string; packaging: string } }>;
    };
    expect(assets.files[hash]?.source).toEqual({ path: `asset.${hash}`, packaging: 'zip' });
    const staged = join(out, `asset.${hash}`);
    const packagedBundle = join(dir, 'node_modules', 'entra-authorizer', 'dist', 'authorizer');
    const shipped = ['index.js', ...AUTHORIZER_LAZY_MODULES.map((name) => `${name}.js`)].flatMap((f) => [
      f,
      `${f}.map`,
    ]);
    expect(readdirSync(staged).sort()).toEqual(shipped.sort());
    for (const file of shipped) {
      expect(readFileSync(join(staged, file)).equals(readFileSync(join(packagedBundle, file)))).toBe(true);
      expect(
        readFileSync(join(staged, file)).equals(readFileSync(join(ROOT, 'dist', 'authorizer', file))),
      ).toBe(true);
    }

    // The TOKEN authorizer invokes a published version of that function, which API Gateway may invoke.
    const versions = Object.keys(
      template.findResources('AWS::Lambda::Version', { Properties: { FunctionName: { Ref: functionId } } }),
    );
    expect(versions).toHaveLength(1);
    const authorizers = template.findResources('AWS::ApiGateway::Authorizer', {
      Properties: {
        Type: 'TOKEN',
        IdentitySource: 'method.request.header.Authorization',
        IdentityValidationExpression: BEARER_HEADER_PATTERN,
        AuthorizerResultTtlInSeconds: 300,
      },
    });
    expect(Object.keys(authorizers)).toHaveLength(1);
    const [authorizerId, authorizer] = Object.entries(authorizers)[0] as [string, unknown];
    expect(JSON.stringify(authorizer)).toContain(versions[0]);
    template.hasResourceProperties('AWS::Lambda::Permission', {
      Action: 'lambda:InvokeFunction',
      Principal: 'apigateway.amazonaws.com',
      FunctionName: { Ref: versions[0] },
    });

    const methods = Object.values(template.findResources('AWS::ApiGateway::Method')) as {
      Properties: { HttpMethod: string; AuthorizationType: string; AuthorizerId: unknown };
    }[];
    expect(methods.map((m) => m.Properties.HttpMethod).sort()).toEqual(['DELETE', 'GET']);
    for (const method of methods) {
      expect(method.Properties).toMatchObject({
        AuthorizationType: 'CUSTOM',
        AuthorizerId: { Ref: authorizerId },
      });
    }

    // The 401's challenge is a literal; the 403's is the Deny's own, from the authorizer's context.
    for (const [type, status, challenge] of [
      ['UNAUTHORIZED', '401', Match.stringLikeRegexp("^'Bearer .*'$")],
      ['ACCESS_DENIED', '403', 'context.authorizer.wwwAuthenticate'],
    ] as const) {
      template.hasResourceProperties('AWS::ApiGateway::GatewayResponse', {
        ResponseType: type,
        StatusCode: status,
        ResponseParameters: Match.objectLike({
          'gatewayresponse.header.WWW-Authenticate': challenge,
          'gatewayresponse.header.Access-Control-Allow-Origin': Match.anyValue(),
        }),
      });
    }
    template.hasResourceProperties('AWS::ApiGateway::GatewayResponse', {
      ResponseType: 'AUTHORIZER_FAILURE',
      StatusCode: '500',
    });
  }, 120_000);

  it('reads the caller with entra-authorizer/identity from plain Node', async () => {
    const script =
      format === 'commonjs'
        ? `const id = require('entra-authorizer/identity');\n${IDENTITY_BODY}`
        : `import * as id from 'entra-authorizer/identity';\n${IDENTITY_BODY}`;
    const { stdout } = await run(process.execPath, [`--input-type=${format}`, '-e', script], {
      cwd: appDir(format),
    });
    const result = JSON.parse(stdout);
    expect(result.exports).toEqual(Object.keys(identitySource).sort());
    expect(result.exports).toEqual(
      expect.arrayContaining(['readIdentity', 'hasScopeOrRole', 'MissingIdentityError', 'withCors']),
    );
    expect(result.caller).toEqual(JSON.parse(JSON.stringify(identitySource.readIdentity(IDENTITY_INPUT))));
    expect(result.caller).toMatchObject({
      oid: 'oid-1',
      scopes: ['Items.Read', 'Items.Write'],
      roles: [],
      appOnly: false,
      expiresAt: 1700000000,
    });
    expect(result).toMatchObject({ write: true, admin: false, missing: 'MissingIdentityError' });
  });
});

describe('both module systems', () => {
  it('synthesize the same template', async () => {
    await Promise.all(Object.values(synths));
    const [cjs, esm] = FORMATS.map((format) =>
      readFileSync(join(appDir(format), 'cdk.out', 'ItemsStack.template.json'), 'utf8'),
    );
    expect(cjs).toBe(esm);
  }, 120_000);

  it('typecheck a TypeScript consumer against the shipped declarations (import, require, node10)', async () => {
    await expect(typecheck).resolves.toBeUndefined();
  }, 120_000);
});
