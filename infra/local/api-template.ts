import {
  checkMapping,
  type MappingDeclarations,
  MappingExpressionError,
  type MappingPlace,
  type MappingSource,
  type MappingTarget,
} from './mapping-expression.js';

/**
 * A synthesized CloudFormation template, read as API Gateway reads the REST API it describes: the resource
 * tree, its methods, the TOKEN authorizer, the MOCK and Lambda proxy integrations, the stage and the gateway
 * responses. Every mapping expression is checked on the way in, so a template CloudFormation would refuse
 * fails here too, naming the resource and the parameter. What the local gateway cannot emulate is refused
 * rather than served differently.
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

export interface GatewayResponseModel {
  readonly logicalId: string;
  readonly type: GatewayResponseType;
  readonly statusCode: number | undefined;
  readonly parameters: readonly Mapping[];
  /** Content type -> body template (simple variable substitution, not VTL). */
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

export interface IntegrationResponseModel {
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
}

/** The REST API integration timeout when the template sets none (29 s). */
export const DEFAULT_INTEGRATION_TIMEOUT_MILLIS = 29_000;

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
export function unsupportedRuntimes(
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

/** Every problem of a template at once, so one run names them all. */
export function throwTemplateProblems(problems: readonly string[]): void {
  if (problems.length === 0) return;
  throw new TemplateError(
    `API Gateway would refuse or cannot be emulated with this template:\n${problems.map((p) => `  - ${p}`).join('\n')}`,
  );
}

/**
 * The Lambda functions a template's API invokes, reached through versions and aliases: `functionOf` names the
 * one function an expression (an authorizer or integration URI) refers to, or adds a problem.
 */
export function lambdaFunctionResolver(
  resources: CfnTemplate['Resources'],
  problems: string[],
): {
  readonly functions: Map<string, FunctionModel>;
  readonly functionOf: (owner: string, property: string, value: unknown) => string;
} {
  const props = (id: string): Props => resources[id]?.Properties ?? {};
  const functions = new Map<string, FunctionModel>();
  const functionOf = (owner: string, property: string, value: unknown): string => {
    const found = new Set<string>();
    const visit = (id: string, depth: number) => {
      const type = resources[id]?.Type;
      if (type === 'AWS::Lambda::Function') found.add(id);
      else if ((type === 'AWS::Lambda::Version' || type === 'AWS::Lambda::Alias') && depth < 3)
        for (const inner of referencedIds(props(id).FunctionName)) visit(inner, depth + 1);
    };
    for (const id of referencedIds(value)) visit(id, 0);
    if (found.size !== 1) {
      problems.push(`${owner}: ${property} does not name exactly one Lambda function of this template`);
      return '';
    }
    const id = [...found][0] as string;
    if (!functions.has(id)) {
      const p = props(id);
      const variables = isObject(p.Environment) ? (p.Environment.Variables ?? {}) : {};
      const environment: Record<string, string> = {};
      const unresolvedEnvironment: string[] = [];
      for (const [name, v] of Object.entries(isObject(variables) ? variables : {})) {
        if (typeof v === 'string') environment[name] = v;
        else unresolvedEnvironment.push(name);
      }
      const code = isObject(p.Code) ? p.Code : {};
      const assetPath = resources[id]?.Metadata?.['aws:asset:path'];
      functions.set(id, {
        logicalId: id,
        environment,
        unresolvedEnvironment,
        timeoutSeconds: typeof p.Timeout === 'number' ? p.Timeout : 3,
        runtime: typeof p.Runtime === 'string' ? p.Runtime : undefined,
        handler: typeof p.Handler === 'string' ? p.Handler : undefined,
        assetPath: typeof assetPath === 'string' ? assetPath : undefined,
        s3Key: typeof code.S3Key === 'string' ? code.S3Key : undefined,
      });
    }
    return id;
  };
  return { functions, functionOf };
}

/**
 * Reads a REST API (the only one, or `restApiId`) out of a template; throws TemplateError listing every
 * problem API Gateway would refuse. What only the local gateway cannot do is modelled as an UNSUPPORTED
 * method instead, listed in `unsupported`.
 */
export function readApiModel(template: CfnTemplate, options: { restApiId?: string } = {}): ApiModel {
  const resources = template.Resources ?? {};
  const problems: string[] = [];
  const ofType = (type: string) =>
    Object.entries(resources).filter(([, r]) => r.Type === type) as [string, CfnResource][];
  const props = (id: string): Props => resources[id]?.Properties ?? {};
  const describe = (id: string, detail?: string) =>
    `${id} (${resources[id]?.Type}${detail === undefined ? '' : ` ${detail}`})`;

  const apis = restApiIds(template);
  if (options.restApiId !== undefined ? !apis.includes(options.restApiId) : apis.length !== 1) {
    throw new TemplateError(
      options.restApiId !== undefined
        ? `no AWS::ApiGateway::RestApi ${options.restApiId} in the template; it has ${apis.join(', ') || 'none'}`
        : `expected one AWS::ApiGateway::RestApi in the template; found ${apis.length}`,
    );
  }
  const restApiId = options.restApiId ?? (apis[0] as string);
  const unsupported: string[] = [];
  const belongs = ([, r]: [string, CfnResource]) =>
    referencedIds(r.Properties?.RestApiId).includes(restApiId);

  const mappings = (
    owner: string,
    property: string,
    place: MappingPlace,
    map: unknown,
    declared: MappingDeclarations = {},
  ): Mapping[] => {
    if (map === undefined) return [];
    if (!isObject(map)) {
      problems.push(`${owner}: ${property} is not a map of mapping expressions`);
      return [];
    }
    const out: Mapping[] = [];
    for (const [key, value] of Object.entries(map)) {
      try {
        out.push({ key, ...checkMapping(place, key, value, declared) });
      } catch (err) {
        if (!(err instanceof MappingExpressionError)) throw err;
        problems.push(`${owner}: ${property}[${JSON.stringify(key)}]: ${err.message}`);
      }
    }
    return out;
  };
  const templates = (owner: string, property: string, value: unknown): Record<string, string> => {
    if (value === undefined) return {};
    if (!isObject(value) || Object.values(value).some((v) => typeof v !== 'string')) {
      problems.push(`${owner}: ${property} is not a map of content types to template strings`);
      return {};
    }
    return value as Record<string, string>;
  };
  const regex = (owner: string, property: string, source: unknown): RegExp | undefined => {
    if (source === undefined || source === '') return undefined;
    try {
      // API Gateway matches the whole value, as Java's String.matches does.
      return new RegExp(`^(?:${String(source)})$`);
    } catch {
      problems.push(`${owner}: ${property} ${JSON.stringify(source)} is not a regular expression`);
      return undefined;
    }
  };

  const { functions, functionOf } = lambdaFunctionResolver(resources, problems);

  // The stage: its name and variables.
  const stages = ofType('AWS::ApiGateway::Stage').filter(belongs);
  const stage = stages[0];
  if (stages.length > 1) problems.push(`expected at most one AWS::ApiGateway::Stage; found ${stages.length}`);
  const stageProps = stage?.[1].Properties ?? {};
  const stageName =
    typeof stageProps.StageName === 'string'
      ? stageProps.StageName
      : (ofType('AWS::ApiGateway::Deployment')
          .filter(belongs)
          .map(([, r]) => r.Properties?.StageName)
          .find((n): n is string => typeof n === 'string') ?? 'local');
  const stageVariables: Record<string, string> = {};
  if (isObject(stageProps.Variables)) {
    for (const [k, v] of Object.entries(stageProps.Variables))
      if (typeof v === 'string') stageVariables[k] = v;
  }

  // Authorizers.
  const authorizers = new Map<string, TokenAuthorizerModel>();
  const unsupportedAuthorizers = new Map<string, string>();
  for (const [id, r] of ofType('AWS::ApiGateway::Authorizer').filter(belongs)) {
    const p = r.Properties ?? {};
    const owner = describe(id, String(p.Type));
    if (p.Type !== 'TOKEN') {
      unsupportedAuthorizers.set(
        id,
        `the ${String(p.Type)} authorizer ${id} is not emulated locally (only TOKEN)`,
      );
      continue;
    }
    const header = /^method\.request\.header\.([A-Za-z0-9._$-]+)$/.exec(String(p.IdentitySource));
    if (header === null) {
      problems.push(
        `${owner}: IdentitySource ${JSON.stringify(p.IdentitySource)} is not method.request.header.<name>`,
      );
      continue;
    }
    const ttl = p.AuthorizerResultTtlInSeconds ?? 300;
    if (typeof ttl !== 'number' || !Number.isInteger(ttl) || ttl < 0 || ttl > 3600) {
      problems.push(`${owner}: AuthorizerResultTtlInSeconds must be whole seconds from 0 to 3600`);
    }
    authorizers.set(id, {
      logicalId: id,
      functionId: functionOf(owner, 'AuthorizerUri', p.AuthorizerUri),
      identityHeader: header[1] as string,
      validation: regex(owner, 'IdentityValidationExpression', p.IdentityValidationExpression),
      ttlSeconds: typeof ttl === 'number' ? ttl : 300,
    });
  }

  const validators = new Map(
    ofType('AWS::ApiGateway::RequestValidator')
      .filter(belongs)
      .map(([id, r]) => [id, r.Properties?.ValidateRequestParameters === true] as const),
  );

  // The resource tree.
  const root: ResourceModel = { pathPart: '', path: '/', children: [], methods: new Map() };
  const nodes = new Map<string, ResourceModel>();
  const resourceEntries = ofType('AWS::ApiGateway::Resource').filter(belongs);
  const isRoot = (parent: unknown) =>
    isObject(parent) &&
    Array.isArray(parent['Fn::GetAtt']) &&
    parent['Fn::GetAtt'][0] === restApiId &&
    parent['Fn::GetAtt'][1] === 'RootResourceId';
  const nodeOf = (ref: unknown, seen: Set<string> = new Set()): ResourceModel | undefined => {
    if (isRoot(ref)) return root;
    const id = isObject(ref) && typeof ref.Ref === 'string' ? ref.Ref : undefined;
    if (id === undefined || resources[id]?.Type !== 'AWS::ApiGateway::Resource' || seen.has(id))
      return undefined;
    const existing = nodes.get(id);
    if (existing !== undefined) return existing;
    seen.add(id);
    const p = props(id);
    const parent = nodeOf(p.ParentId, seen);
    const part = p.PathPart;
    if (
      parent === undefined ||
      typeof part !== 'string' ||
      !/^(\{[A-Za-z0-9._-]+\+?\}|[A-Za-z0-9._:~@!$&'()*+,;=-]+)$/.test(part)
    ) {
      problems.push(`${describe(id)}: ParentId or PathPart does not make a resource path`);
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
  for (const [id] of resourceEntries) nodeOf({ Ref: id });

  for (const [id, r] of ofType('AWS::ApiGateway::Method').filter(belongs)) {
    const p = r.Properties ?? {};
    const httpMethod = String(p.HttpMethod);
    const node = nodeOf(p.ResourceId);
    const owner = describe(id, `${httpMethod} ${node?.path ?? '?'}`);
    if (node === undefined) {
      problems.push(`${owner}: ResourceId is not a resource of this API`);
      continue;
    }
    const notEmulated: string[] = [];
    if (p.ApiKeyRequired === true) notEmulated.push('API keys and usage plans are not emulated locally');
    const authorizer = customAuthorizerOf(p, authorizers, unsupportedAuthorizers, notEmulated, () =>
      problems.push(`${owner}: AuthorizerId names no TOKEN authorizer of this API`),
    );
    const requestParameters = new Set(isObject(p.RequestParameters) ? Object.keys(p.RequestParameters) : []);
    const required = isObject(p.RequestParameters)
      ? Object.entries(p.RequestParameters)
          .filter(([, v]) => v === true)
          .map(([k]) => k)
      : [];
    const validatorId = referencedIds(p.RequestValidatorId)[0];
    const validates = validatorId !== undefined && validators.get(validatorId) === true;

    const integration = isObject(p.Integration) ? p.Integration : {};
    mappings(owner, 'Integration.RequestParameters', 'integrationRequest', integration.RequestParameters, {
      methodRequestParameters: requestParameters,
    });
    const methodResponses = new Map<string, Set<string>>();
    for (const response of Array.isArray(p.MethodResponses) ? p.MethodResponses : []) {
      if (!isObject(response)) continue;
      methodResponses.set(
        String(response.StatusCode),
        new Set(isObject(response.ResponseParameters) ? Object.keys(response.ResponseParameters) : []),
      );
    }
    let model: IntegrationModel | undefined;
    if (integration.Type === 'MOCK') {
      const responses: IntegrationResponseModel[] = [];
      for (const [i, response] of (Array.isArray(integration.IntegrationResponses)
        ? integration.IntegrationResponses
        : []
      ).entries()) {
        if (!isObject(response)) continue;
        const status = String(response.StatusCode);
        const where = `Integration.IntegrationResponses[${i}]`;
        if (!methodResponses.has(status)) {
          problems.push(`${owner}: ${where}.StatusCode ${status} has no method response`);
        }
        const responseTemplates = templates(owner, `${where}.ResponseTemplates`, response.ResponseTemplates);
        if (Object.values(responseTemplates).some((t) => /[$#]/.test(t))) {
          problems.push(
            `${owner}: ${where}.ResponseTemplates: VTL mapping templates are not emulated locally`,
          );
        }
        responses.push({
          statusCode: Number(status),
          selectionPattern: regex(owner, `${where}.SelectionPattern`, response.SelectionPattern),
          parameters: mappings(
            owner,
            `${where}.ResponseParameters`,
            'integrationResponse',
            response.ResponseParameters,
            {
              methodResponseParameters: methodResponses.get(status) ?? new Set(),
            },
          ),
          templates: responseTemplates,
        });
      }
      const requestTemplates = templates(owner, 'Integration.RequestTemplates', integration.RequestTemplates);
      // The one request template a MOCK integration needs: the status code it answers with.
      if (
        Object.values(requestTemplates).some((t) => !/^\s*\{\s*"?statusCode"?\s*:\s*\d{3}\s*\}\s*$/.test(t))
      ) {
        problems.push(
          `${owner}: Integration.RequestTemplates other than { statusCode: <code> } are not emulated locally`,
        );
      }
      model = { type: 'MOCK', requestTemplates, responses };
    } else if (integration.Type === 'AWS_PROXY') {
      model = {
        type: 'AWS_PROXY',
        functionId: functionOf(owner, 'Integration.Uri', integration.Uri),
        timeoutMillis:
          typeof integration.TimeoutInMillis === 'number'
            ? integration.TimeoutInMillis
            : DEFAULT_INTEGRATION_TIMEOUT_MILLIS,
      };
    } else {
      notEmulated.push(`Integration.Type ${String(integration.Type)} is not emulated locally`);
    }
    notEmulated.push(
      ...unsupportedRuntimes(functions, [
        authorizer?.functionId,
        model?.type === 'AWS_PROXY' ? model.functionId : undefined,
      ]),
    );
    if (notEmulated.length > 0) {
      model = { type: 'UNSUPPORTED', reason: notEmulated.join('; ') };
      unsupported.push(`${httpMethod} ${node.path}: ${model.reason}`);
    }
    if (node.methods.has(httpMethod))
      problems.push(`${owner}: a second ${httpMethod} method on ${node.path}`);
    if (model !== undefined) {
      node.methods.set(httpMethod, {
        logicalId: id,
        httpMethod,
        authorizer,
        requiredParameters: validates ? required : [],
        integration: model,
      });
    }
  }

  const gatewayResponses = new Map<GatewayResponseType, GatewayResponseModel>();
  for (const [id, r] of ofType('AWS::ApiGateway::GatewayResponse').filter(belongs)) {
    const p = r.Properties ?? {};
    const type = String(p.ResponseType);
    const owner = describe(id, type);
    if (!(type in GATEWAY_RESPONSE_STATUS)) {
      problems.push(`${owner}: ResponseType ${JSON.stringify(type)} is not a gateway response type`);
      continue;
    }
    if (p.StatusCode !== undefined && !/^[1-5]\d\d$/.test(String(p.StatusCode))) {
      problems.push(`${owner}: StatusCode ${JSON.stringify(p.StatusCode)} does not match [1-5]\\d\\d`);
    }
    if (gatewayResponses.has(type as GatewayResponseType))
      problems.push(`${owner}: a second ${type} response`);
    gatewayResponses.set(type as GatewayResponseType, {
      logicalId: id,
      type: type as GatewayResponseType,
      statusCode: p.StatusCode === undefined ? undefined : Number(p.StatusCode),
      parameters: mappings(owner, 'ResponseParameters', 'gatewayResponse', p.ResponseParameters),
      templates: templates(owner, 'ResponseTemplates', p.ResponseTemplates),
    });
  }

  throwTemplateProblems(problems);
  return { restApiId, stageName, stageVariables, root, gatewayResponses, functions, unsupported };
}
