import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, isAbsolute, join, relative, resolve } from 'node:path';
import { ENV_NAMES } from '../../lambda/authorizer/config.js';
import { type CfnTemplate, type FunctionModel, restApiIds } from './api-template.js';
import { httpApiIds } from './http-api-template.js';
import { webSocketApiIds } from './websocket-api-template.js';

/**
 * A user's cloud assembly (`cdk.out` after `cdk synth`), read as the local server needs it: its stacks and
 * templates, the REST APIs an EntraTokenAuthorizer guards, and the asset folder each Lambda function's code
 * was staged in. Nothing here runs the app or needs aws-cdk-lib.
 */

/** A user mistake about the assembly: one line (or a short list of choices) for a person. */
export class AssemblyError extends Error {
  override readonly name = 'AssemblyError';
}

export interface AssemblyStack {
  /** The artifact id, which `--stack` names (`ItemsStack`, `Stage/ItemsStack` in a stage). */
  readonly name: string;
  readonly template: CfnTemplate;
  /** The folder of its (nested) assembly, against which asset paths are resolved. */
  readonly dir: string;
}

export interface GuardedApi {
  readonly stack: AssemblyStack;
  /**
   * A REST API (EntraTokenAuthorizer) or an HTTP API (EntraHttpAuthorizer); a WebSocket API
   * (EntraWebSocketAuthorizer) only where the stacks have no guarded REST or HTTP API.
   */
  readonly kind: 'rest' | 'http' | 'websocket';
  /** The API's logical id: its AWS::ApiGateway::RestApi, or for an HTTP API its AWS::ApiGatewayV2::Api. */
  readonly restApiId: string;
  /** The logical id of the Entra authorizer's Lambda function; undefined when only JWT authorizers guard it. */
  readonly authorizerFunctionId: string | undefined;
  /** Its environment as the template declares it (AZURE_TENANT_ID, AZURE_AUDIENCES, ...); else empty. */
  readonly authorizerEnvironment: Readonly<Record<string, string>>;
}

interface Manifest {
  readonly artifacts?: Readonly<
    Record<string, { readonly type?: string; readonly properties?: Readonly<Record<string, unknown>> }>
  >;
}

const SYNTH = 'run `cdk synth` in your CDK app first (or pass --app <path to its cdk.out>)';

/** The stacks of the assembly in `dir`, nested stage assemblies included. */
export function readAssemblyStacks(dir: string, prefix = ''): AssemblyStack[] {
  const manifestFile = join(dir, 'manifest.json');
  if (!existsSync(manifestFile)) {
    throw new AssemblyError(`no cloud assembly at ${dir} (no manifest.json): ${SYNTH}`);
  }
  const manifest = JSON.parse(readFileSync(manifestFile, 'utf8')) as Manifest;
  const stacks: AssemblyStack[] = [];
  for (const [id, artifact] of Object.entries(manifest.artifacts ?? {})) {
    const props = artifact.properties ?? {};
    if (artifact.type === 'aws:cloudformation:stack' && typeof props.templateFile === 'string') {
      const file = join(dir, props.templateFile);
      if (!existsSync(file)) throw new AssemblyError(`${file} is missing: ${SYNTH}`);
      stacks.push({ name: `${prefix}${id}`, template: JSON.parse(readFileSync(file, 'utf8')), dir });
    } else if (artifact.type === 'cdk:cloud-assembly' && typeof props.directoryName === 'string') {
      stacks.push(...readAssemblyStacks(join(dir, props.directoryName), `${prefix}${id}/`));
    }
  }
  return stacks;
}

/** The Lambda function a TOKEN authorizer invokes, through a version or an alias as CDK writes it. */
function authorizerFunctionOf(template: CfnTemplate, authorizer: Readonly<Record<string, unknown>>) {
  const text = JSON.stringify(authorizer.AuthorizerUri ?? '');
  const resources = template.Resources;
  for (const [id, r] of Object.entries(resources)) {
    if (!text.includes(`"${id}"`)) continue;
    if (r.Type === 'AWS::Lambda::Function') return id;
    const target = JSON.stringify(r.Properties?.FunctionName ?? '');
    const fn = Object.keys(resources).find(
      (other) => resources[other]?.Type === 'AWS::Lambda::Function' && target.includes(`"${other}"`),
    );
    if (fn !== undefined) return fn;
  }
  return undefined;
}

/** The API guarded by the authorizer `p` describes, if its function has the authorizer's environment. */
function guardedBy(
  stack: AssemblyStack,
  kind: GuardedApi['kind'],
  restApiId: string,
  p: Readonly<Record<string, unknown>>,
): GuardedApi | undefined {
  const resources = stack.template.Resources ?? {};
  const fnId = authorizerFunctionOf(stack.template, p);
  const variables = (resources[fnId ?? '']?.Properties?.Environment as { Variables?: unknown } | undefined)
    ?.Variables as Record<string, unknown> | undefined;
  if (fnId === undefined || typeof variables?.[ENV_NAMES.tenantId] !== 'string') return undefined;
  const authorizerEnvironment = Object.fromEntries(
    Object.entries(variables).filter((e): e is [string, string] => typeof e[1] === 'string'),
  );
  return { stack, kind, restApiId, authorizerFunctionId: fnId, authorizerEnvironment };
}

/** Whether API Gateway's own JWT authorizer (REST `Type`, HTTP API `AuthorizerType`) belongs to the API. */
function hasJwtAuthorizer(stack: AssemblyStack, kind: GuardedApi['kind'], apiId: string): boolean {
  const [type, typeProperty, apiProperty] =
    kind === 'rest'
      ? ['AWS::ApiGateway::Authorizer', 'Type', 'RestApiId']
      : ['AWS::ApiGatewayV2::Authorizer', 'AuthorizerType', 'ApiId'];
  return Object.values(stack.template.Resources ?? {}).some(
    (r) =>
      r.Type === type &&
      r.Properties?.[typeProperty] === 'JWT' &&
      JSON.stringify(r.Properties?.[apiProperty] ?? '').includes(`"${apiId}"`),
  );
}

/**
 * The APIs of a stack that an authorizer with the authorizer's environment (AZURE_TENANT_ID) guards: REST
 * APIs through a TOKEN authorizer, HTTP APIs through a REQUEST Lambda authorizer, else those API Gateway's
 * own JWT authorizer guards; with `webSockets`, its WebSocket APIs through the REQUEST authorizer of
 * `$connect` instead.
 */
export function guardedApisOf(stack: AssemblyStack, webSockets = false): GuardedApi[] {
  const authorizers = Object.values(stack.template.Resources ?? {});
  const found: GuardedApi[] = [];
  const kinds = webSockets
    ? ([['websocket', webSocketApiIds, 'AWS::ApiGatewayV2::Authorizer', 'REQUEST', 'ApiId']] as const)
    : ([
        ['rest', restApiIds, 'AWS::ApiGateway::Authorizer', 'TOKEN', 'RestApiId'],
        ['http', httpApiIds, 'AWS::ApiGatewayV2::Authorizer', 'REQUEST', 'ApiId'],
      ] as const);
  for (const [kind, apiIds, type, authorizerType, apiProperty] of kinds) {
    for (const restApiId of apiIds(stack.template)) {
      for (const r of authorizers) {
        const p = r.Properties ?? {};
        if (r.Type !== type || p[kind === 'rest' ? 'Type' : 'AuthorizerType'] !== authorizerType) continue;
        if (!JSON.stringify(p[apiProperty] ?? '').includes(`"${restApiId}"`)) continue;
        const guarded = guardedBy(stack, kind, restApiId, p);
        if (guarded === undefined) continue;
        found.push(guarded);
        break;
      }
      // A WebSocket API has no JWT authorizer.
      if (kind === 'websocket' || found.some((g) => g.restApiId === restApiId)) continue;
      if (hasJwtAuthorizer(stack, kind, restApiId)) {
        found.push({ stack, kind, restApiId, authorizerFunctionId: undefined, authorizerEnvironment: {} });
      }
    }
  }
  return found;
}

interface ApiChoice {
  readonly stack?: string | undefined;
  readonly api?: string | undefined;
}

/** How to pick each API on the command line. */
function choices(apis: readonly GuardedApi[]): string {
  return apis.map((a) => `  --stack ${a.stack.name} --api ${a.restApiId}`).join('\n');
}

/** The one guarded REST API the flags pick; several or none is an AssemblyError that lists the choices. */
export function pickGuardedApi(stacks: readonly AssemblyStack[], choice: ApiChoice): GuardedApi {
  const named = choice.stack === undefined ? stacks : stacks.filter((s) => s.name === choice.stack);
  if (named.length === 0) {
    throw new AssemblyError(
      `no stack ${choice.stack} in the cloud assembly; it has ${stacks.map((s) => s.name).join(', ') || 'none'}`,
    );
  }
  const restOrHttp = named.flatMap((stack) => guardedApisOf(stack));
  // A WebSocket API is served beside its stack's REST or HTTP API; on its own only when there is none.
  const all = restOrHttp.length > 0 ? restOrHttp : named.flatMap((stack) => guardedApisOf(stack, true));
  const apis = choice.api === undefined ? all : all.filter((a) => a.restApiId === choice.api);
  if (apis.length === 1) return apis[0] as GuardedApi;
  if (all.length === 0) {
    const where = choice.stack === undefined ? 'the cloud assembly' : `the stack ${choice.stack}`;
    throw new AssemblyError(
      `no REST API in ${where} is guarded by an EntraTokenAuthorizer or a JWT authorizer, nor an HTTP API by an EntraHttpAuthorizer or a JWT authorizer, nor a WebSocket API by an EntraWebSocketAuthorizer`,
    );
  }
  if (apis.length === 0) {
    throw new AssemblyError(`no guarded API ${choice.api}; pick one of:\n${choices(all)}`);
  }
  const what = apis.every((a) => a.kind === 'rest')
    ? 'REST APIs are guarded by an EntraTokenAuthorizer'
    : 'APIs are guarded by an Entra authorizer';
  throw new AssemblyError(`${apis.length} ${what}; pick one:\n${choices(apis)}`);
}

/** The folder a function's code was staged in: its `aws:asset:path`, else the asset manifest's entry for its S3 key. */
export function assetFolderOf(stack: AssemblyStack, fn: FunctionModel): string | undefined {
  if (fn.assetPath !== undefined) return resolve(stack.dir, fn.assetPath);
  if (fn.s3Key === undefined) return undefined;
  for (const file of readdirSync(stack.dir).filter((f) => f.endsWith('.assets.json'))) {
    const manifest = JSON.parse(readFileSync(join(stack.dir, file), 'utf8')) as {
      files?: Record<
        string,
        { source?: { path?: string }; destinations?: Record<string, { objectKey?: string }> }
      >;
    };
    for (const asset of Object.values(manifest.files ?? {})) {
      const keys = Object.values(asset.destinations ?? {}).map((d) => d.objectKey);
      if (keys.includes(fn.s3Key) && asset.source?.path !== undefined) {
        return isAbsolute(asset.source.path) ? asset.source.path : join(stack.dir, asset.source.path);
      }
    }
  }
  return undefined;
}

const SOURCE_FILE = /\.(ts|mts|cts|js|mjs|cjs|json)$/;
const SKIPPED_FOLDER = /^(node_modules|cdk\.out|\..*)$/;

/** A cloud assembly of another synth (`cdk synth -o <dir>`): `cdk synth` writes a `cdk.out` file into each. */
const isCloudAssembly = (dir: string) =>
  existsSync(join(dir, 'manifest.json')) && existsSync(join(dir, 'cdk.out'));

/**
 * A source file of the app beside `cdk.out` changed after the last synth, if any: the assembly would serve
 * an older app. Looks a few folders deep at most, skipping node_modules, dot folders, the cloud
 * assemblies of other synths (`cdk synth -o`), whose files are output, not source, and the local run's own
 * `inputs` (its --tenants-file and --env files, edited between runs).
 */
export function newerSourceThan(assemblyDir: string, inputs: readonly string[] = []): string | undefined {
  const skipped = new Set([resolve(assemblyDir), ...inputs.map((input) => resolve(input))]);
  const manifest = join(assemblyDir, 'manifest.json');
  if (!existsSync(manifest)) return undefined;
  const synthesized = statSync(manifest).mtimeMs;
  const app = dirname(resolve(assemblyDir));
  const visit = (dir: string, depth: number): string | undefined => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (skipped.has(resolve(path))) continue;
      if (entry.isDirectory()) {
        if (depth >= 4 || SKIPPED_FOLDER.test(entry.name) || isCloudAssembly(path)) continue;
        const found = visit(path, depth + 1);
        if (found !== undefined) return found;
      } else if (entry.isFile() && SOURCE_FILE.test(entry.name) && statSync(path).mtimeMs > synthesized) {
        return relative(app, path);
      }
    }
    return undefined;
  };
  return visit(app, 0);
}
