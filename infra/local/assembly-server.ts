import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ENV_NAMES, isGuid } from '../../lambda/authorizer/config.js';
import { TENANTS_FILE_ENV } from '../../lambda/authorizer/tenant-file.js';
import { parseTenantList } from '../../lambda/authorizer/tenant-list.js';
import { type ApiServer, startApiServer } from './api-server.js';
import { type ApiModel, type FunctionModel, readApiModel, unsupportedRuntime } from './api-template.js';
import {
  AssemblyError,
  type AssemblyStack,
  assetFolderOf,
  type GuardedApi,
  guardedApisOf,
  pickGuardedApi,
  readAssemblyStacks,
} from './assembly.js';
import type { LambdaHandler } from './gateway.js';
import { type HttpApiModel, readHttpApiModel } from './http-api-template.js';
import { LOCAL_SCOPE, LOCAL_TENANT_ID, loadOrCreateIssuerKey } from './issuer.js';
import { jwtIssuerSettings } from './jwt-route-token.js';
import { type FunctionRunner, startFunctionRunner } from './lambda-runner.js';
import { localEnvironment, readsTenantParameter } from './local-environment.js';
import { readServedWebSocketApis } from './websocket-api-template.js';

/**
 * `entra-authorizer start`: a user's synthesized CDK app served locally. The REST API an EntraTokenAuthorizer
 * guards, read from the cloud assembly's template; each Lambda function run from the asset folder `cdk synth`
 * staged, on a worker thread of its own; the local issuer minting tokens for the tenant and audience the
 * authorizer's template declares.
 */

interface AssemblyServerOptions {
  /** The cloud assembly folder (`cdk.out`). */
  readonly assemblyDir: string;
  readonly stack?: string | undefined;
  readonly api?: string | undefined;
  readonly port: number;
  /** Where the issuer key is kept. */
  readonly dataDir: string;
  /** Variables for values the template holds as references, in `sam local`'s shape (see readEnvFile). */
  readonly envFile?: EnvFile | undefined;
}

export interface AssemblyServer extends ApiServer {
  readonly stackName: string;
  /** What the guarded API is: with `websocket`, the stack has only WebSocket APIs to serve. */
  readonly kind: GuardedApi['kind'];
  /** The API's logical id (a RestApi, or an HTTP API's or WebSocket API's AWS::ApiGatewayV2::Api). */
  readonly restApiId: string;
  /** A REST API, or an HTTP API (`kind: 'http'`). */
  readonly api: ApiModel | HttpApiModel;
  /** What the person should know: methods answered 501, variables left unset, functions that failed init. */
  readonly notes: readonly string[];
  /** Whether a served function reads its allowed tenants from an SSM parameter, so from `--tenants-file`. */
  readonly readsTenantsFile: boolean;
  /** `--stack S --api A` when the assembly guards several APIs (what `explain` needs to pick this one), else ''. */
  readonly pickFlags: string;
}

/** `{ "Parameters": { all functions }, "<function logical id>": { that function } }`, as `sam local --env-vars`. */
type EnvFile = Readonly<Record<string, Readonly<Record<string, string>>>>;

/** Reads an --env file; a mistake in it is one line. */
export function readEnvFile(file: string): EnvFile {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new AssemblyError(`--env ${file}: ${(err as Error).message}`);
  }
  const isMap = (v: unknown): v is Record<string, unknown> =>
    typeof v === 'object' && v !== null && !Array.isArray(v);
  if (
    !isMap(parsed) ||
    !Object.values(parsed).every((m) => isMap(m) && Object.values(m).every((v) => typeof v === 'string'))
  ) {
    throw new AssemblyError(
      `--env ${file}: expected {"Parameters": {"NAME": "value"}, "<function logical id>": {"NAME": "value"}}`,
    );
  }
  return parsed as EnvFile;
}

const list = (value: string | undefined) =>
  (value ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');

/**
 * The scopes (or roles) the authorizer's configuration asks for anywhere: a delegated token without --scopes
 * carries every scope, an app-only token without --roles every role.
 */
function requiredNames(env: Readonly<Record<string, string>>, kind: 'scopes' | 'roles'): string[] {
  const names = new Set(list(env[kind === 'scopes' ? ENV_NAMES.requiredScopes : ENV_NAMES.requiredRoles]));
  try {
    const routes = JSON.parse(env[ENV_NAMES.routePermissions] ?? '{}') as Record<
      string,
      Record<string, unknown> | undefined
    >;
    for (const rule of Object.values(routes)) {
      const given = rule?.[kind];
      for (const name of Array.isArray(given) ? given : []) if (typeof name === 'string') names.add(name);
    }
  } catch {
    // the authorizer itself refuses such a configuration at init, and says why
  }
  return [...names];
}

/** The tenants a --tenants-file lists now; a file the authorizer cannot read is its to report (tenants_unavailable). */
function fileTenants(file: string | undefined): string[] {
  if (file === undefined) return [];
  try {
    return [...parseTenantList({ value: readFileSync(file, 'utf8'), type: 'String', version: '' }).tenants];
  } catch {
    return [];
  }
}

/**
 * The local issuer's settings from the authorizer's template: its tenant (one it allows: a fixed one, else the
 * first of `tenantsFile`, which stands in for its tenant parameter), its client id or audience.
 */
export function issuerSettingsOf(env: Readonly<Record<string, string>>, tenantsFile?: string) {
  const tenant = env[ENV_NAMES.tenantId] ?? '';
  const allowed = [...list(env[ENV_NAMES.allowedTenants]), ...fileTenants(tenantsFile)];
  const tenantId = isGuid(tenant) ? tenant : (allowed.find(isGuid) ?? LOCAL_TENANT_ID);
  const audiences = list(env[ENV_NAMES.audiences]);
  const clientId = audiences.find(isGuid);
  const scopes = requiredNames(env, 'scopes');
  return {
    tenantId,
    ...(clientId !== undefined ? { clientId } : { audience: audiences[0] }),
    defaultScopes: scopes.length > 0 ? scopes : [LOCAL_SCOPE],
    defaultRoles: requiredNames(env, 'roles'),
    anyTenant: true,
  };
}

function memorySizeOf(stack: AssemblyStack, fn: FunctionModel): number {
  const size = stack.template.Resources[fn.logicalId]?.Properties?.MemorySize;
  return typeof size === 'number' ? size : 128;
}

/**
 * The function's code folder and handler, or an AssemblyError saying to synthesize again. Inline code lives
 * in the template, not in an asset: it is written where Lambda puts it, `index.js`, under the local run's
 * data folder.
 */
function codeOf(stack: AssemblyStack, fn: FunctionModel, dataDir: string): { dir: string; handler: string } {
  if (fn.handler === undefined) throw new AssemblyError(`the Lambda function ${fn.logicalId} has no Handler`);
  if (fn.inlineCode !== undefined) {
    const dir = join(dataDir, 'inline', fn.logicalId);
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'index.js'), fn.inlineCode);
    return { dir, handler: fn.handler };
  }
  const dir = assetFolderOf(stack, fn);
  if (dir === undefined || !existsSync(dir)) {
    throw new AssemblyError(
      `the code of the Lambda function ${fn.logicalId} is not in the cloud assembly${dir === undefined ? '' : ` (${dir})`}: run \`cdk synth\` again`,
    );
  }
  return { dir, handler: fn.handler };
}

function environmentOf(
  fn: FunctionModel,
  envFile: EnvFile | undefined,
  notes: string[],
): Record<string, string> {
  const given = { ...envFile?.Parameters, ...envFile?.[fn.logicalId] };
  // A tenant parameter left unset is read from --tenants-file instead (or start stops): startRunners says so.
  const unset = fn.unresolvedEnvironment.filter(
    (name) => !(name in given) && name !== ENV_NAMES.allowedTenantsParameter,
  );
  if (unset.length > 0) {
    notes.push(
      `${fn.logicalId}: ${unset.join(', ')} ${unset.length === 1 ? 'is a reference' : 'are references'} in the template, left unset (give values with --env FILE)`,
    );
  }
  const known = new Set([...Object.keys(fn.environment), ...fn.unresolvedEnvironment]);
  return Object.fromEntries(
    Object.entries({ ...fn.environment, ...given }).filter(([name]) => known.has(name)),
  );
}

async function startRunners(
  stack: AssemblyStack,
  api: Pick<ApiModel, 'functions'>,
  options: AssemblyServerOptions,
  url: string,
  notes: string[],
  runners: FunctionRunner[],
): Promise<Map<string, LambdaHandler>> {
  const functions = new Map<string, LambdaHandler>();
  for (const fn of api.functions.values()) {
    // Its methods are answered 501 and listed already.
    if (unsupportedRuntime(fn) !== undefined) continue;
    const environment = localEnvironment(environmentOf(fn, options.envFile, notes), url);
    const tenantsFile = environment[TENANTS_FILE_ENV];
    if (tenantsFile !== undefined) {
      notes.push(
        `${fn.logicalId}: allowed tenants read from ${tenantsFile} (--tenants-file), not from the SSM parameter`,
      );
    }
    const runner = startFunctionRunner({
      name: fn.logicalId,
      ...codeOf(stack, fn, options.dataDir),
      environment,
      timeoutSeconds: fn.timeoutSeconds,
      memorySize: memorySizeOf(stack, fn),
    });
    runners.push(runner);
    functions.set(fn.logicalId, runner.invoke);
  }
  // Init runs at start, as Lambda's would on the first call; a failure is told now and met with 502s.
  await Promise.all(
    runners.map((runner, i) =>
      runner.ready.catch((err: Error) => {
        notes.push(
          `${[...functions.keys()][i]}: init failed (${err.name}: ${err.message}); its calls answer 502`,
        );
      }),
    ),
  );
  return functions;
}

/** For a stack whose guarded API is a WebSocket API: no HTTP route, so a plain request is a 404. */
function withoutHttpRoutes(apiId: string): HttpApiModel {
  return {
    kind: 'http',
    apiId,
    stageName: '$default',
    stageVariables: {},
    routes: [],
    cors: undefined,
    functions: new Map(),
    unsupported: [],
  };
}

export async function startAssemblyServer(options: AssemblyServerOptions): Promise<AssemblyServer> {
  const stacks = readAssemblyStacks(options.assemblyDir);
  const guarded: GuardedApi = pickGuardedApi(stacks, options);
  const { stack, restApiId } = guarded;
  const pickFlags =
    stacks.flatMap((s) => guardedApisOf(s)).length > 1 ? `--stack ${stack.name} --api ${restApiId}` : '';
  const api =
    guarded.kind === 'http'
      ? readHttpApiModel(stack.template, { apiId: restApiId })
      : guarded.kind === 'websocket'
        ? withoutHttpRoutes(restApiId)
        : readApiModel(stack.template, { restApiId });
  const webSockets = readServedWebSocketApis(stack.template);
  const notes: string[] = [...api.unsupported.map((line) => `${line}: answered 501`), ...webSockets.notes];
  // The stack's WebSocket APIs are served beside the API, their functions started with its own.
  const functions = new Map([...api.functions, ...webSockets.apis.flatMap((ws) => [...ws.functions])]);
  const runners: FunctionRunner[] = [];
  const key = await loadOrCreateIssuerKey(options.dataDir);
  try {
    const server = await startApiServer({
      port: options.port,
      api,
      issuer: {
        key,
        ...issuerSettingsOf(
          guarded.authorizerEnvironment,
          readsTenantParameter(guarded.authorizerEnvironment) ? process.env[TENANTS_FILE_ENV] : undefined,
        ),
        // Guarded by API Gateway's own JWT authorizers only: the tenant and audience their issuers name.
        ...(guarded.authorizerFunctionId === undefined ? jwtIssuerSettings(api) : {}),
      },
      functions: (url) => startRunners(stack, { functions }, options, url, notes, runners),
      webSocketApis: webSockets.apis,
    });
    return {
      ...server,
      stackName: stack.name,
      kind: guarded.kind,
      restApiId,
      api,
      notes,
      readsTenantsFile: [...functions.values()].some((fn) => readsTenantParameter(fn.environment)),
      pickFlags,
      stop: async () => {
        await Promise.all(runners.map((r) => r.stop()));
        await server.stop();
      },
    };
  } catch (err) {
    await Promise.all(runners.map((r) => r.stop()));
    throw err;
  }
}
