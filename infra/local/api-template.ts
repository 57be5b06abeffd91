import {
  type JwtAuthorizerModel,
  type JwtGuard,
  jwtGuardOf,
  readRestJwtAuthorizer,
} from './jwt-authorizer.js';
import {
  checkMapping,
  type MappingDeclarations,
  MappingExpressionError,
  type MappingPlace,
  type MappingSource,
  type MappingTarget,
} from './mapping-expression.js';
import { templateLogic } from './mapping-template.js';

/**
 * A synthesized CloudFormation template, read as API Gateway reads the REST API it describes: the resource
 * tree, its methods, the TOKEN authorizer, the MOCK and Lambda proxy integrations, the stage and the gateway
 * responses. Every mapping expression is checked on the way in, so a template CloudFormation would refuse
 * fails here too, naming the resource and the parameter. A method the local gateway cannot emulate is
 * answered 501 and named at start rather than served differently.
 */

export interface CfnResource {
  readonly Type: string;
  readonly Properties?: Readonly<Record<string, unknown>>;
  readonly Metadata?: Readonly<Record<string, unknown>>;
}

export interface CfnTemplate {
  readonly Resources: Readonly<Record<string, CfnResource>>;
}

export class TemplateError extends Error {
  override readonly name = 'TemplateError';
}

/**
 * The gateway response types and the status API Gateway gives each when it is not customized
 * ("Gateway response types for API Gateway"); DEFAULT_4XX and DEFAULT_5XX have none of their own.
 */
export const GATEWAY_RESPONSE_STATUS = {
  ACCESS_DENIED: 403,
  API_CONFIGURATION_ERROR: 500,
  AUTHORIZER_CONFIGURATION_ERROR: 500,
  AUTHORIZER_FAILURE: 500,
  BAD_REQUEST_PARAMETERS: 400,
  BAD_REQUEST_BODY: 400,
  DEFAULT_4XX: undefined,
  DEFAULT_5XX: undefined,
  EXPIRED_TOKEN: 403,
  INTEGRATION_FAILURE: 504,
  INTEGRATION_TIMEOUT: 504,
  INVALID_API_KEY: 403,
  INVALID_SIGNATURE: 403,
  MISSING_AUTHENTICATION_TOKEN: 403,
  QUOTA_EXCEEDED: 429,
  REQUEST_TOO_LARGE: 413,
  RESOURCE_NOT_FOUND: 404,
  THROTTLED: 429,
  UNAUTHORIZED: 401,
  UNSUPPORTED_MEDIA_TYPE: 415,
  WAF_FILTERED: 403,
} as const;

export type GatewayResponseType = keyof typeof GATEWAY_RESPONSE_STATUS;

export interface Mapping {
  /** The key as written, e.g. `gatewayresponse.header.WWW-Authenticate`. */
  readonly key: string;
  readonly target: MappingTarget;
  readonly source: MappingSource;
}

interface GatewayResponseModel {
  readonly logicalId: string;
  readonly type: GatewayResponseType;
  readonly statusCode: number | undefined;
  readonly parameters: readonly Mapping[];
  /** Content type -> body template (plain references substituted, no VTL logic). */
  readonly templates: Readonly<Record<string, string>>;
}

export interface TokenAuthorizerModel {
  readonly logicalId: string;
  readonly functionId: string;
  /** The request header that carries the token (from `method.request.header.<name>`). */
  readonly identityHeader: string;
  readonly validation: RegExp | undefined;
  readonly ttlSeconds: number;
}

interface IntegrationResponseModel {
  readonly statusCode: number;
  /** Matched against the integration's status code; the one without a pattern is the default. */
  readonly selectionPattern: RegExp | undefined;
  readonly parameters: readonly Mapping[];
  readonly templates: Readonly<Record<string, string>>;
}

export type IntegrationModel =
  | {
      readonly type: 'MOCK';
      readonly requestTemplates: Readonly<Record<string, string>>;
      readonly responses: readonly IntegrationResponseModel[];
    }
  | { readonly type: 'AWS_PROXY'; readonly functionId: string; readonly timeoutMillis: number }
  /** A method the local gateway cannot serve as AWS would: answered 501, and named at start. */
  | { readonly type: 'UNSUPPORTED'; readonly reason: string };

export interface MethodModel {
  readonly logicalId: string;
  readonly httpMethod: string;
  readonly authorizer: TokenAuthorizerModel | undefined;
  /** API Gateway's own JWT authorizer (`AuthorizationType: JWT`) and the method's scopes. */
  readonly jwt?: JwtGuard;
  /** Required request parameters the request validator checks (`method.request.header.X`, ...). */
  readonly requiredParameters: readonly string[];
  readonly integration: IntegrationModel;
}

export interface ResourceModel {
  /** '' for the root resource. */
  readonly pathPart: string;
  /** The resource path as API Gateway writes it (`/`, `/items/{id}`). */
  readonly path: string;
  readonly children: ResourceModel[];
  readonly methods: Map<string, MethodModel>;
}

export interface FunctionModel {
  readonly logicalId: string;
  readonly environment: Readonly<Record<string, string>>;
  /** Variables whose template value is a reference or a token rather than a string (given with --env). */
  readonly unresolvedEnvironment: readonly string[];
  readonly timeoutSeconds: number;
  /** `nodejs22.x`, `python3.12`, ...; undefined when the template leaves it out. */
  readonly runtime: string | undefined;
  /** `index.handler`: the module and the export Lambda calls. */
  readonly handler: string | undefined;
  /** The staged asset folder (cdk.out relative) `aws:asset:path` names, when the template carries it. */
  readonly assetPath: string | undefined;
  /** The Code's S3 key (`<hash>.zip`), which the assets manifest maps to its asset folder. */
  readonly s3Key: string | undefined;
  /** Inline code (`Code.ZipFile`, CDK's `Code.fromInline`), which Lambda writes to `index.js` for Node.js. */
  readonly inlineCode?: string | undefined;
}

/** The REST API integration timeout when the template sets none (29 s). */
const DEFAULT_INTEGRATION_TIMEOUT_MILLIS = 29_000;

/** Why a function cannot run locally, or undefined when it can (Node.js, or no runtime: an in-process handler). */
export function unsupportedRuntime(fn: FunctionModel): string | undefined {
  return fn.runtime === undefined || fn.runtime.startsWith('nodejs')
    ? undefined
    : `Lambda runtime ${fn.runtime} is not emulated locally (only Node.js)`;
}

export interface ApiModel {
  readonly restApiId: string;
  readonly stageName: string;
  readonly stageVariables: Readonly<Record<string, string>>;
  readonly root: ResourceModel;
  readonly gatewayResponses: ReadonlyMap<GatewayResponseType, GatewayResponseModel>;
  /** The Lambda functions the API invokes (authorizers and proxy integrations), by logical id. */
  readonly functions: ReadonlyMap<string, FunctionModel>;
  /** One line per method that is answered 501 here: `GET /items: <why>`. */
  readonly unsupported: readonly string[];
}

type Props = Readonly<Record<string, unknown>>;

export const isObject = (value: unknown): value is Props =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** The logical ids an intrinsic expression refers to (`Ref`, `Fn::GetAtt`), anywhere inside it. */
export function referencedIds(value: unknown): string[] {
  if (Array.isArray(value)) return value.flatMap(referencedIds);
  if (!isObject(value)) return [];
  const ids: string[] = [];
  for (const [key, inner] of Object.entries(value)) {
    if (key === 'Ref' && typeof inner === 'string') ids.push(inner);
    else if (key === 'Fn::GetAtt' && Array.isArray(inner) && typeof inner[0] === 'string') ids.push(inner[0]);
    else ids.push(...referencedIds(inner));
  }
  return ids;
}

/** The logical ids of the template's REST APIs. */
export function restApiIds(template: CfnTemplate): string[] {
  return Object.entries(template.Resources ?? {})
    .filter(([, r]) => r.Type === 'AWS::ApiGateway::RestApi')
    .map(([id]) => id);
}

/**
 * What every reader of one REST API shares: the template's resources, the API's logical id, the Lambda
 * functions found so far (by logical id) and the problems found so far, in the order they are met.
 */
interface ReadContext {
  readonly resources: Readonly<Record<string, CfnResource>>;
  readonly restApiId: string;
  readonly functions: Map<string, FunctionModel>;
  readonly problems: string[];
}

/** The resources of a type that belong to the API being read (their RestApiId refers to it). */
function apiResources(ctx: ReadContext, type: string): [string, CfnResource][] {
  return Object.entries(ctx.resources).filter(
    ([, r]) => r.Type === type && referencedIds(r.Properties?.RestApiId).includes(ctx.restApiId),
  );
}

const propsOf = (ctx: ReadContext, id: string): Props => ctx.resources[id]?.Properties ?? {};

/** How a problem names a resource: `Id (AWS::Type detail)`. */
const describe = (ctx: ReadContext, id: string, detail?: string) =>
  `${id} (${ctx.resources[id]?.Type}${detail === undefined ? '' : ` ${detail}`})`;

function readMappings(
  ctx: ReadContext,
  owner: string,
  property: string,
  place: MappingPlace,
  map: unknown,
  declared: MappingDeclarations = {},
): Mapping[] {
  if (map === undefined) return [];
  if (!isObject(map)) {
    ctx.problems.push(`${owner}: ${property} is not a map of mapping expressions`);
    return [];
  }
  const out: Mapping[] = [];
  for (const [key, value] of Object.entries(map)) {
    try {
      out.push({ key, ...checkMapping(place, key, value, declared) });
    } catch (err) {
      if (!(err instanceof MappingExpressionError)) throw err;
      ctx.problems.push(`${owner}: ${property}[${JSON.stringify(key)}]: ${err.message}`);
    }
  }
  return out;
}

function readTemplates(
  ctx: ReadContext,
  owner: string,
  property: string,
  value: unknown,
): Record<string, string> {
  if (value === undefined) return {};
  if (!isObject(value) || Object.values(value).some((v) => typeof v !== 'string')) {
    ctx.problems.push(`${owner}: ${property} is not a map of content types to template strings`);
    return {};
  }
  return value as Record<string, string>;
}

function readRegex(ctx: ReadContext, owner: string, property: string, source: unknown): RegExp | undefined {
  if (source === undefined || source === '') return undefined;
  try {
    // API Gateway matches the whole value, as Java's String.matches does.
    return new RegExp(`^(?:${String(source)})$`);
  } catch {
    ctx.problems.push(`${owner}: ${property} ${JSON.stringify(source)} is not a regular expression`);
    return undefined;
  }
}

/** A Lambda function as the local runner needs it: environment, timeout, runtime, handler and code. */
function readFunctionModel(resources: CfnTemplate['Resources'], id: string): FunctionModel {
  const p: Props = resources[id]?.Properties ?? {};
  const variables = isObject(p.Environment) ? (p.Environment.Variables ?? {}) : {};
  const environment: Record<string, string> = {};
  const unresolvedEnvironment: string[] = [];
  for (const [name, v] of Object.entries(isObject(variables) ? variables : {})) {
    if (typeof v === 'string') environment[name] = v;
    else unresolvedEnvironment.push(name);
  }
  const code = isObject(p.Code) ? p.Code : {};
  const assetPath = resources[id]?.Metadata?.['aws:asset:path'];
  return {
    logicalId: id,
    environment,
    unresolvedEnvironment,
    timeoutSeconds: typeof p.Timeout === 'number' ? p.Timeout : 3,
    runtime: typeof p.Runtime === 'string' ? p.Runtime : undefined,
    handler: typeof p.Handler === 'string' ? p.Handler : undefined,
    assetPath: typeof assetPath === 'string' ? assetPath : undefined,
    s3Key: typeof code.S3Key === 'string' ? code.S3Key : undefined,
    ...(typeof code.ZipFile === 'string' ? { inlineCode: code.ZipFile } : {}),
  };
}

/**
 * The one Lambda function an ARN expression names, reached through versions and aliases; recorded in
 * `functions`. Returns its logical id ('' with a problem when it names none or several).
 */
function resolveLambdaFunction(
  resources: CfnTemplate['Resources'],
  functions: Map<string, FunctionModel>,
  problems: string[],
  ref: { owner: string; property: string; value: unknown },
): string {
  const found = new Set<string>();
  const visit = (id: string, depth: number) => {
    const type = resources[id]?.Type;
    if (type === 'AWS::Lambda::Function') found.add(id);
    else if ((type === 'AWS::Lambda::Version' || type === 'AWS::Lambda::Alias') && depth < 3)
      for (const inner of referencedIds(resources[id]?.Properties?.FunctionName)) visit(inner, depth + 1);
  };
  for (const id of referencedIds(ref.value)) visit(id, 0);
  if (found.size !== 1) {
    problems.push(`${ref.owner}: ${ref.property} does not name exactly one Lambda function of this template`);
    return '';
  }
  const id = [...found][0] as string;
  if (!functions.has(id)) functions.set(id, readFunctionModel(resources, id));
  return id;
}

function readFunction(ctx: ReadContext, owner: string, property: string, value: unknown): string {
  return resolveLambdaFunction(ctx.resources, ctx.functions, ctx.problems, { owner, property, value });
}

/**
 * The Lambda functions a template's API invokes (for readers of other API kinds): `functionOf` names the one
 * function an expression (an authorizer or integration URI) refers to, or adds a problem.
 */
export function lambdaFunctionResolver(
  resources: CfnTemplate['Resources'],
  problems: string[],
): {
  readonly functions: Map<string, FunctionModel>;
  readonly functionOf: (owner: string, property: string, value: unknown) => string;
} {
  const functions = new Map<string, FunctionModel>();
  const functionOf = (owner: string, property: string, value: unknown) =>
    resolveLambdaFunction(resources, functions, problems, { owner, property, value });
  return { functions, functionOf };
}

/**
 * The authorizer a method or route names (`AuthorizationType: CUSTOM` and its `AuthorizerId`): the one of
 * `authorizers`, or a reason it is not emulated pushed on `notEmulated`, or undefined when it names none
 * (`missing` is told). NONE is no authorizer; other types are not emulated.
 */
export function customAuthorizerOf<A>(
  p: Props,
  authorizers: ReadonlyMap<string, A>,
  unsupportedAuthorizers: ReadonlyMap<string, string>,
  notEmulated: string[],
  missing: () => void,
): A | undefined {
  const authorization = p.AuthorizationType ?? 'NONE';
  if (authorization === 'CUSTOM') {
    const authorizerId = referencedIds(p.AuthorizerId)[0] ?? '';
    const authorizer = authorizers.get(authorizerId);
    const unsupportedAuthorizer = unsupportedAuthorizers.get(authorizerId);
    if (unsupportedAuthorizer !== undefined) notEmulated.push(unsupportedAuthorizer);
    else if (authorizer === undefined) missing();
    return authorizer;
  }
  if (authorization !== 'NONE')
    notEmulated.push(`AuthorizationType ${String(authorization)} is not emulated locally`);
  return undefined;
}

/** The functions among `ids` whose runtime is not emulated, one line each. */
function unsupportedRuntimes(
  functions: ReadonlyMap<string, FunctionModel>,
  ids: readonly (string | undefined)[],
): string[] {
  const lines: string[] = [];
  for (const fnId of ids) {
    const fn = fnId === undefined ? undefined : functions.get(fnId);
    const runtime = fn === undefined ? undefined : unsupportedRuntime(fn);
    if (runtime !== undefined) lines.push(`${fn?.logicalId}: ${runtime}`);
  }
  return lines;
}

/**
 * What every reader of one API Gateway v2 API (an HTTP API, a WebSocket API) shares: the template's
 * resources, the API's logical id, the Lambda functions found so far (and how an expression names one) and
 * the problems found so far, in the order they are met.
 */
export interface V2ReadContext {
  readonly resources: Readonly<Record<string, CfnResource>>;
  readonly apiId: string;
  readonly functions: ReadonlyMap<string, FunctionModel>;
  readonly functionOf: (owner: string, property: string, value: unknown) => string;
  readonly problems: string[];
}

/** The resources of a type that belong to the v2 API being read (their ApiId refers to it). */
export function v2ApiResources(ctx: V2ReadContext, type: string): [string, CfnResource][] {
  return (Object.entries(ctx.resources) as [string, CfnResource][]).filter(
    ([, r]) => r.Type === type && referencedIds(r.Properties?.ApiId).includes(ctx.apiId),
  );
}

/** How a problem names a resource: `Id (AWS::Type detail)`. */
export const describeV2Resource = (ctx: V2ReadContext, id: string, detail: string) =>
  `${id} (${ctx.resources[id]?.Type} ${detail})`;

/** A v2 stage's `StageVariables`, the string ones. */
export function stageVariablesOf(stage: Props): Record<string, string> {
  const stageVariables: Record<string, string> = {};
  if (isObject(stage.StageVariables)) {
    for (const [k, v] of Object.entries(stage.StageVariables))
      if (typeof v === 'string') stageVariables[k] = v;
  }
  return stageVariables;
}

/** A v2 Lambda proxy integration's function and timeout (`TimeoutInMillis`, 50 ms up to `maxMillis`, the default). */
export function readLambdaProxy(
  ctx: V2ReadContext,
  owner: string,
  p: Props,
  maxMillis: number,
): { readonly type: 'AWS_PROXY'; readonly functionId: string; readonly timeoutMillis: number } {
  const timeout = p.TimeoutInMillis ?? maxMillis;
  if (typeof timeout !== 'number' || timeout < 50 || timeout > maxMillis) {
    ctx.problems.push(`${owner}: TimeoutInMillis must be from 50 to ${maxMillis}`);
  }
  return {
    type: 'AWS_PROXY',
    functionId: ctx.functionOf(owner, 'IntegrationUri', p.IntegrationUri),
    timeoutMillis: typeof timeout === 'number' ? timeout : maxMillis,
  };
}

/** An API Gateway v2 integration as the local readers keep it: a Lambda proxy, or why it is not emulated. */
type V2IntegrationModel =
  | { readonly type: 'AWS_PROXY'; readonly functionId: string }
  | { readonly type: 'UNSUPPORTED'; readonly reason: string };

/**
 * A v2 route's integration (its `Target`, `integrations/<id>`), made UNSUPPORTED with every reason the route
 * cannot be emulated (`notEmulated` so far, the integration's own, a function's runtime), which is listed in
 * `unsupported` as `<route key>: <why>`. Undefined when the Target names no integration of the API: a problem.
 */
export function routeIntegrationOf<I extends V2IntegrationModel>(
  ctx: { readonly functions: ReadonlyMap<string, FunctionModel>; readonly problems: string[] },
  route: { readonly owner: string; readonly routeKey: string; readonly target: unknown },
  found: { readonly authorizerFunctionId: string | undefined; readonly notEmulated: string[] },
  integrations: ReadonlyMap<string, I>,
  unsupported: string[],
): I | Extract<V2IntegrationModel, { type: 'UNSUPPORTED' }> | undefined {
  const integrationId = referencedIds(route.target)[0];
  const integration = integrationId === undefined ? undefined : integrations.get(integrationId);
  if (integration === undefined) {
    ctx.problems.push(`${route.owner}: Target is not integrations/<an integration of this API>`);
    return undefined;
  }
  const notEmulated = [
    ...(integration.type === 'UNSUPPORTED' ? [integration.reason] : []),
    ...found.notEmulated,
    ...unsupportedRuntimes(ctx.functions, [
      found.authorizerFunctionId,
      integration.type === 'AWS_PROXY' ? integration.functionId : undefined,
    ]),
  ];
  if (notEmulated.length === 0) return integration;
  const reason = notEmulated.join('; ');
  unsupported.push(`${route.routeKey}: ${reason}`);
  return { type: 'UNSUPPORTED', reason };
}

/** Every problem of a template at once, so one run names them all. */
export function throwTemplateProblems(problems: readonly string[]): void {
  if (problems.length === 0) return;
  throw new TemplateError(
    `API Gateway would refuse or cannot be emulated with this template:\n${problems.map((p) => `  - ${p}`).join('\n')}`,
  );
}

/** The REST API to read: the given one, else the template's only one. */
function selectRestApi(template: CfnTemplate, restApiId: string | undefined): string {
  const apis = restApiIds(template);
  if (restApiId !== undefined ? !apis.includes(restApiId) : apis.length !== 1) {
    throw new TemplateError(
      restApiId !== undefined
        ? `no AWS::ApiGateway::RestApi ${restApiId} in the template; it has ${apis.join(', ') || 'none'}`
        : `expected one AWS::ApiGateway::RestApi in the template; found ${apis.length}`,
    );
  }
  return restApiId ?? (apis[0] as string);
}

/** The stage: its name (else the deployment's, else `local`) and its variables. */
function readStage(ctx: ReadContext): Pick<ApiModel, 'stageName' | 'stageVariables'> {
  const stages = apiResources(ctx, 'AWS::ApiGateway::Stage');
  const stage = stages[0];
  if (stages.length > 1)
    ctx.problems.push(`expected at most one AWS::ApiGateway::Stage; found ${stages.length}`);
  const stageProps = stage?.[1].Properties ?? {};
  const stageName =
    typeof stageProps.StageName === 'string'
      ? stageProps.StageName
      : (apiResources(ctx, 'AWS::ApiGateway::Deployment')
          .map(([, r]) => r.Properties?.StageName)
          .find((n): n is string => typeof n === 'string') ?? 'local');
  const stageVariables: Record<string, string> = {};
  if (isObject(stageProps.Variables)) {
    for (const [k, v] of Object.entries(stageProps.Variables))
      if (typeof v === 'string') stageVariables[k] = v;
  }
  return { stageName, stageVariables };
}

interface Authorizers {
  readonly token: ReadonlyMap<string, TokenAuthorizerModel>;
  readonly jwt: ReadonlyMap<string, JwtAuthorizerModel>;
  /** Authorizers of other types, by logical id: why a method they guard is not emulated. */
  readonly unsupported: ReadonlyMap<string, string>;
}

function readAuthorizers(ctx: ReadContext): Authorizers {
  const token = new Map<string, TokenAuthorizerModel>();
  const jwt = new Map<string, JwtAuthorizerModel>();
  const unsupported = new Map<string, string>();
  for (const [id, r] of apiResources(ctx, 'AWS::ApiGateway::Authorizer')) {
    const p = r.Properties ?? {};
    const owner = describe(ctx, id, String(p.Type));
    if (p.Type === 'JWT') {
      jwt.set(
        id,
        readRestJwtAuthorizer(id, owner, p, (line) => ctx.problems.push(line)),
      );
      continue;
    }
    if (p.Type !== 'TOKEN') {
      unsupported.set(id, `the ${String(p.Type)} authorizer ${id} is not emulated locally (only TOKEN)`);
      continue;
    }
    const header = /^method\.request\.header\.([A-Za-z0-9._$-]+)$/.exec(String(p.IdentitySource));
    if (header === null) {
      ctx.problems.push(
        `${owner}: IdentitySource ${JSON.stringify(p.IdentitySource)} is not method.request.header.<name>`,
      );
      continue;
    }
    const ttl = p.AuthorizerResultTtlInSeconds ?? 300;
    if (typeof ttl !== 'number' || !Number.isInteger(ttl) || ttl < 0 || ttl > 3600) {
      ctx.problems.push(`${owner}: AuthorizerResultTtlInSeconds must be whole seconds from 0 to 3600`);
    }
    token.set(id, {
      logicalId: id,
      functionId: readFunction(ctx, owner, 'AuthorizerUri', p.AuthorizerUri),
      identityHeader: header[1] as string,
      validation: readRegex(ctx, owner, 'IdentityValidationExpression', p.IdentityValidationExpression),
      ttlSeconds: typeof ttl === 'number' ? ttl : 300,
    });
  }
  return { token, jwt, unsupported };
}

/** Whether each request validator checks request parameters, by logical id. */
function readValidators(ctx: ReadContext): ReadonlyMap<string, boolean> {
  return new Map(
    apiResources(ctx, 'AWS::ApiGateway::RequestValidator').map(
      ([id, r]) => [id, r.Properties?.ValidateRequestParameters === true] as const,
    ),
  );
}

interface ResourceTree {
  readonly root: ResourceModel;
  /** The node a ParentId or ResourceId refers to; a problem (each time asked) when it makes no path. */
  readonly nodeOf: (ref: unknown) => ResourceModel | undefined;
}

/** The resource tree: every Resource of the API placed under its parent, from the root. */
function readResourceTree(ctx: ReadContext): ResourceTree {
  const root: ResourceModel = { pathPart: '', path: '/', children: [], methods: new Map() };
  const nodes = new Map<string, ResourceModel>();
  const isRoot = (parent: unknown) =>
    isObject(parent) &&
    Array.isArray(parent['Fn::GetAtt']) &&
    parent['Fn::GetAtt'][0] === ctx.restApiId &&
    parent['Fn::GetAtt'][1] === 'RootResourceId';
  const nodeOf = (ref: unknown, seen: Set<string> = new Set()): ResourceModel | undefined => {
    if (isRoot(ref)) return root;
    const id = isObject(ref) && typeof ref.Ref === 'string' ? ref.Ref : undefined;
    if (id === undefined || ctx.resources[id]?.Type !== 'AWS::ApiGateway::Resource' || seen.has(id))
      return undefined;
    const existing = nodes.get(id);
    if (existing !== undefined) return existing;
    seen.add(id);
    const p = propsOf(ctx, id);
    const parent = nodeOf(p.ParentId, seen);
    const part = p.PathPart;
    if (
      parent === undefined ||
      typeof part !== 'string' ||
      !/^(\{[A-Za-z0-9._-]+\+?\}|[A-Za-z0-9._:~@!$&'()*+,;=-]+)$/.test(part)
    ) {
      ctx.problems.push(`${describe(ctx, id)}: ParentId or PathPart does not make a resource path`);
      return undefined;
    }
    const node: ResourceModel = {
      pathPart: part,
      path: `${parent.path === '/' ? '' : parent.path}/${part}`,
      children: [],
      methods: new Map(),
    };
    parent.children.push(node);
    nodes.set(id, node);
    return node;
  };
  for (const [id] of apiResources(ctx, 'AWS::ApiGateway::Resource')) nodeOf({ Ref: id });
  return { root, nodeOf: (ref) => nodeOf(ref) };
}

/** A method's TOKEN authorizer or JWT guard; what makes it not emulated goes to `notEmulated`. */
function readMethodAuthorizer(
  ctx: ReadContext,
  owner: string,
  p: Props,
  authorizers: Authorizers,
  notEmulated: string[],
): Pick<MethodModel, 'authorizer' | 'jwt'> {
  if (p.AuthorizationType === 'JWT') {
    const jwt = jwtGuardOf(
      p,
      authorizers,
      (v) => referencedIds(v)[0],
      notEmulated,
      () => ctx.problems.push(`${owner}: AuthorizerId names no JWT authorizer of this API`),
    );
    return { authorizer: undefined, ...(jwt !== undefined ? { jwt } : {}) };
  }
  const authorizer = customAuthorizerOf(p, authorizers.token, authorizers.unsupported, notEmulated, () =>
    ctx.problems.push(`${owner}: AuthorizerId names no TOKEN authorizer of this API`),
  );
  return { authorizer };
}

/** The response parameters each method response declares, by status code. */
function readMethodResponses(p: Props): Map<string, Set<string>> {
  const methodResponses = new Map<string, Set<string>>();
  for (const response of Array.isArray(p.MethodResponses) ? p.MethodResponses : []) {
    if (!isObject(response)) continue;
    methodResponses.set(
      String(response.StatusCode),
      new Set(isObject(response.ResponseParameters) ? Object.keys(response.ResponseParameters) : []),
    );
  }
  return methodResponses;
}

/**
 * A MOCK integration's responses and its one request template (the status code it answers with). A template
 * with Velocity logic makes the method one answered 501, pushed on `notEmulated`.
 */
function readMockIntegration(
  ctx: ReadContext,
  owner: string,
  integration: Props,
  methodResponses: ReadonlyMap<string, Set<string>>,
  notEmulated: string[],
): IntegrationModel {
  const responses: IntegrationResponseModel[] = [];
  for (const [i, response] of (Array.isArray(integration.IntegrationResponses)
    ? integration.IntegrationResponses
    : []
  ).entries()) {
    if (!isObject(response)) continue;
    const status = String(response.StatusCode);
    const where = `Integration.IntegrationResponses[${i}]`;
    if (!methodResponses.has(status)) {
      ctx.problems.push(`${owner}: ${where}.StatusCode ${status} has no method response`);
    }
    const responseTemplates = readTemplates(
      ctx,
      owner,
      `${where}.ResponseTemplates`,
      response.ResponseTemplates,
    );
    const logic = Object.values(responseTemplates)
      .map(templateLogic)
      .find((l) => l !== undefined);
    if (logic !== undefined) {
      notEmulated.push(`${where}.ResponseTemplates: VTL logic (${logic}) is not emulated locally`);
    }
    responses.push({
      statusCode: Number(status),
      selectionPattern: readRegex(ctx, owner, `${where}.SelectionPattern`, response.SelectionPattern),
      parameters: readMappings(
        ctx,
        owner,
        `${where}.ResponseParameters`,
        'integrationResponse',
        response.ResponseParameters,
        { methodResponseParameters: methodResponses.get(status) ?? new Set() },
      ),
      templates: responseTemplates,
    });
  }
  const requestTemplates = readTemplates(
    ctx,
    owner,
    'Integration.RequestTemplates',
    integration.RequestTemplates,
  );
  // The one request template a MOCK integration needs: the status code it answers with.
  if (Object.values(requestTemplates).some((t) => !/^\s*\{\s*"?statusCode"?\s*:\s*\d{3}\s*\}\s*$/.test(t))) {
    notEmulated.push(
      'Integration.RequestTemplates other than { statusCode: <code> } are not emulated locally',
    );
  }
  return { type: 'MOCK', requestTemplates, responses };
}

/** A method's integration: MOCK or Lambda proxy; any other type goes to `notEmulated`. */
function readIntegration(
  ctx: ReadContext,
  owner: string,
  p: Props,
  notEmulated: string[],
): IntegrationModel | undefined {
  const integration = isObject(p.Integration) ? p.Integration : {};
  const requestParameters = new Set(isObject(p.RequestParameters) ? Object.keys(p.RequestParameters) : []);
  readMappings(
    ctx,
    owner,
    'Integration.RequestParameters',
    'integrationRequest',
    integration.RequestParameters,
    {
      methodRequestParameters: requestParameters,
    },
  );
  const methodResponses = readMethodResponses(p);
  if (integration.Type === 'MOCK')
    return readMockIntegration(ctx, owner, integration, methodResponses, notEmulated);
  if (integration.Type === 'AWS_PROXY') {
    // A function of another stack (Fn::ImportValue), a parameter or a literal ARN has no code here to run.
    if (!referencedIds(integration.Uri).some((id) => ctx.resources[id] !== undefined)) {
      notEmulated.push(
        'Integration.Uri names a Lambda function outside this stack, which is not emulated locally',
      );
      return undefined;
    }
    return {
      type: 'AWS_PROXY',
      functionId: readFunction(ctx, owner, 'Integration.Uri', integration.Uri),
      timeoutMillis:
        typeof integration.TimeoutInMillis === 'number'
          ? integration.TimeoutInMillis
          : DEFAULT_INTEGRATION_TIMEOUT_MILLIS,
    };
  }
  const through = integration.ConnectionType === 'VPC_LINK' ? ' through a VPC link' : '';
  notEmulated.push(`Integration.Type ${String(integration.Type)}${through} is not emulated locally`);
  return undefined;
}

/** The required request parameters the method's request validator checks (none without one that does). */
function readRequiredParameters(p: Props, validators: ReadonlyMap<string, boolean>): string[] {
  const required = isObject(p.RequestParameters)
    ? Object.entries(p.RequestParameters)
        .filter(([, v]) => v === true)
        .map(([k]) => k)
    : [];
  const validatorId = referencedIds(p.RequestValidatorId)[0];
  return validatorId !== undefined && validators.get(validatorId) === true ? required : [];
}

/** The parts of the API a method refers to, read before the methods. */
interface ApiParts {
  readonly tree: ResourceTree;
  readonly authorizers: Authorizers;
  readonly validators: ReadonlyMap<string, boolean>;
  /** Where a method answered 501 locally is listed: `GET /items: <why>`. */
  readonly unsupported: string[];
}

/** One Method, placed on its resource; a method the gateway cannot emulate becomes UNSUPPORTED. */
function readMethod(ctx: ReadContext, id: string, r: CfnResource, parts: ApiParts): void {
  const p = r.Properties ?? {};
  const httpMethod = String(p.HttpMethod);
  const node = parts.tree.nodeOf(p.ResourceId);
  const owner = describe(ctx, id, `${httpMethod} ${node?.path ?? '?'}`);
  if (node === undefined) {
    ctx.problems.push(`${owner}: ResourceId is not a resource of this API`);
    return;
  }
  const notEmulated: string[] = [];
  if (p.ApiKeyRequired === true) notEmulated.push('API keys and usage plans are not emulated locally');
  const { authorizer, jwt } = readMethodAuthorizer(ctx, owner, p, parts.authorizers, notEmulated);
  const requiredParameters = readRequiredParameters(p, parts.validators);
  let model = readIntegration(ctx, owner, p, notEmulated);
  notEmulated.push(
    ...unsupportedRuntimes(ctx.functions, [
      authorizer?.functionId,
      model?.type === 'AWS_PROXY' ? model.functionId : undefined,
    ]),
  );
  if (notEmulated.length > 0) {
    model = { type: 'UNSUPPORTED', reason: notEmulated.join('; ') };
    parts.unsupported.push(`${httpMethod} ${node.path}: ${model.reason}`);
  }
  if (node.methods.has(httpMethod))
    ctx.problems.push(`${owner}: a second ${httpMethod} method on ${node.path}`);
  if (model !== undefined) {
    node.methods.set(httpMethod, {
      logicalId: id,
      httpMethod,
      authorizer,
      ...(jwt !== undefined ? { jwt } : {}),
      requiredParameters,
      integration: model,
    });
  }
}

function readGatewayResponses(ctx: ReadContext): Map<GatewayResponseType, GatewayResponseModel> {
  const gatewayResponses = new Map<GatewayResponseType, GatewayResponseModel>();
  for (const [id, r] of apiResources(ctx, 'AWS::ApiGateway::GatewayResponse')) {
    const p = r.Properties ?? {};
    const type = String(p.ResponseType);
    const owner = describe(ctx, id, type);
    if (!(type in GATEWAY_RESPONSE_STATUS)) {
      ctx.problems.push(`${owner}: ResponseType ${JSON.stringify(type)} is not a gateway response type`);
      continue;
    }
    if (p.StatusCode !== undefined && !/^[1-5]\d\d$/.test(String(p.StatusCode))) {
      ctx.problems.push(`${owner}: StatusCode ${JSON.stringify(p.StatusCode)} does not match [1-5]\\d\\d`);
    }
    if (gatewayResponses.has(type as GatewayResponseType))
      ctx.problems.push(`${owner}: a second ${type} response`);
    gatewayResponses.set(type as GatewayResponseType, {
      logicalId: id,
      type: type as GatewayResponseType,
      statusCode: p.StatusCode === undefined ? undefined : Number(p.StatusCode),
      parameters: readMappings(ctx, owner, 'ResponseParameters', 'gatewayResponse', p.ResponseParameters),
      templates: readTemplates(ctx, owner, 'ResponseTemplates', p.ResponseTemplates),
    });
  }
  return gatewayResponses;
}

/**
 * Reads a REST API (the only one, or `restApiId`) out of a template; throws TemplateError listing every
 * problem API Gateway would refuse. What only the local gateway cannot do is modelled as an UNSUPPORTED
 * method instead, listed in `unsupported`.
 */
export function readApiModel(template: CfnTemplate, options: { restApiId?: string } = {}): ApiModel {
  const ctx: ReadContext = {
    resources: template.Resources ?? {},
    restApiId: selectRestApi(template, options.restApiId),
    functions: new Map(),
    problems: [],
  };
  // In this order, so the problems read in the order of the template's parts.
  const { stageName, stageVariables } = readStage(ctx);
  const authorizers = readAuthorizers(ctx);
  const validators = readValidators(ctx);
  const tree = readResourceTree(ctx);
  const unsupported: string[] = [];
  for (const [id, r] of apiResources(ctx, 'AWS::ApiGateway::Method')) {
    readMethod(ctx, id, r, { tree, authorizers, validators, unsupported });
  }
  const gatewayResponses = readGatewayResponses(ctx);
  throwTemplateProblems(ctx.problems);
  const { restApiId, functions } = ctx;
  return { restApiId, stageName, stageVariables, root: tree.root, gatewayResponses, functions, unsupported };
}
