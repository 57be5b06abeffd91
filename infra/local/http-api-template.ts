import {
  v2ApiResources as apiResources,
  type CfnResource,
  type CfnTemplate,
  customAuthorizerOf,
  describeV2Resource as describe,
  type FunctionModel,
  isObject,
  lambdaFunctionResolver,
  readLambdaProxy,
  referencedIds,
  routeIntegrationOf,
  stageVariablesOf,
  TemplateError,
  throwTemplateProblems,
  type V2ReadContext,
} from './api-template.js';
import {
  type JwtAuthorizerModel,
  type JwtGuard,
  jwtGuardOf,
  readHttpJwtAuthorizer,
} from './jwt-authorizer.js';

/**
 * A synthesized template's HTTP API (API Gateway v2, `ProtocolType: HTTP`), read as API Gateway reads it:
 * its routes by route key, their REQUEST Lambda authorizer (identity sources, result TTL, simple or IAM
 * responses), their Lambda proxy integrations, the stage and the CORS configuration. Kept apart from the
 * REST reader: the two kinds share only the Lambda functions they invoke. What the local gateway cannot
 * emulate is a route answered 501 and named at start, never served differently.
 */

/** An identity source of an HTTP API REQUEST authorizer, as the API Gateway v2 grammar allows it. */
export type IdentitySource = {
  readonly from: 'header' | 'querystring' | 'stageVariables' | 'context';
  readonly name: string;
};

export interface HttpAuthorizerModel {
  readonly logicalId: string;
  readonly functionId: string;
  /** As written (`$request.header.Authorization`), and parsed. */
  readonly identitySource: readonly string[];
  readonly identitySources: readonly IdentitySource[];
  readonly ttlSeconds: number;
  /** `{ isAuthorized, context }` answers; else an IAM policy, as for REST. */
  readonly simpleResponses: boolean;
}

export type HttpIntegrationModel =
  | { readonly type: 'AWS_PROXY'; readonly functionId: string; readonly timeoutMillis: number }
  | { readonly type: 'UNSUPPORTED'; readonly reason: string };

export interface HttpRouteModel {
  readonly logicalId: string;
  /** `GET /items/{id}`, `ANY /{proxy+}`, `$default`. */
  readonly routeKey: string;
  readonly authorizer: HttpAuthorizerModel | undefined;
  /** API Gateway's own JWT authorizer (`AuthorizationType: JWT`) and the route's scopes. */
  readonly jwt?: JwtGuard;
  readonly integration: HttpIntegrationModel;
}

export interface HttpCorsModel {
  readonly allowOrigins: readonly string[];
  readonly allowHeaders: readonly string[];
  readonly allowMethods: readonly string[];
  readonly exposeHeaders: readonly string[];
  readonly maxAge: number | undefined;
  readonly allowCredentials: boolean;
}

export interface HttpApiModel {
  readonly kind: 'http';
  readonly apiId: string;
  /** `$default` serves at the root; another stage under `/<name>`. */
  readonly stageName: string;
  readonly stageVariables: Readonly<Record<string, string>>;
  readonly routes: readonly HttpRouteModel[];
  readonly cors: HttpCorsModel | undefined;
  readonly functions: ReadonlyMap<string, FunctionModel>;
  /** One line per route answered 501 here: `GET /items: <why>`. */
  readonly unsupported: readonly string[];
}

/** The HTTP API integration timeout when the template sets none (30 s, the most it may be). */
const DEFAULT_HTTP_INTEGRATION_TIMEOUT_MILLIS = 30_000;

const SEGMENT = /^(\{[A-Za-z0-9._-]+\}|[^{}\s/]+)$/;
const GREEDY_SEGMENT = /^\{[A-Za-z0-9._-]+\+\}$/;

/** `$default`, or a method (or ANY) and a path of literal and `{name}` segments, the last maybe `{name+}`. */
function isRouteKey(key: string): boolean {
  if (key === '$default') return true;
  const match = /^(ANY|GET|POST|PUT|PATCH|DELETE|HEAD|OPTIONS) (\/\S*)$/.exec(key);
  if (match === null) return false;
  if (match[2] === '/') return true;
  const segments = (match[2] as string).slice(1).split('/');
  return segments.every((s, i) => SEGMENT.test(s) || (i === segments.length - 1 && GREEDY_SEGMENT.test(s)));
}
const IDENTITY_SOURCE =
  /^\$(request\.header|request\.querystring|stageVariables|context)\.([A-Za-z0-9._-]+)$/;

/** The logical ids of the template's HTTP APIs. */
export function httpApiIds(template: CfnTemplate): string[] {
  return Object.entries(template.Resources ?? {})
    .filter(([, r]) => r.Type === 'AWS::ApiGatewayV2::Api' && r.Properties?.ProtocolType === 'HTTP')
    .map(([id]) => id);
}

const strings = (value: unknown): string[] =>
  Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : [];

type HttpReadContext = V2ReadContext;

/** The HTTP API to read: the given one, else the template's only one. */
function selectHttpApi(template: CfnTemplate, apiId: string | undefined): string {
  const apis = httpApiIds(template);
  if (apiId !== undefined ? !apis.includes(apiId) : apis.length !== 1) {
    throw new TemplateError(
      apiId !== undefined
        ? `no HTTP API (AWS::ApiGatewayV2::Api) ${apiId} in the template; it has ${apis.join(', ') || 'none'}`
        : `expected one HTTP API (AWS::ApiGatewayV2::Api, ProtocolType HTTP) in the template; found ${apis.length}`,
    );
  }
  return apiId ?? (apis[0] as string);
}

/** The stage: `$default` if there is one (CDK's HttpApi makes it), else the first; and its variables. */
function readHttpStage(ctx: HttpReadContext): Pick<HttpApiModel, 'stageName' | 'stageVariables'> {
  const stages = apiResources(ctx, 'AWS::ApiGatewayV2::Stage').map(([, r]) => r.Properties ?? {});
  const stage = stages.find((s) => s.StageName === '$default') ?? stages[0] ?? {};
  const stageName = typeof stage.StageName === 'string' ? stage.StageName : '$default';
  return { stageName, stageVariables: stageVariablesOf(stage) };
}

interface HttpAuthorizers {
  readonly request: ReadonlyMap<string, HttpAuthorizerModel>;
  readonly jwt: ReadonlyMap<string, JwtAuthorizerModel>;
  /** Authorizers of other types or payload formats, by logical id: why a route they guard is not emulated. */
  readonly unsupported: ReadonlyMap<string, string>;
}

/** Why the local gateway cannot emulate an authorizer (only REQUEST with payload format 2.0), or undefined. */
function unsupportedAuthorizer(id: string, p: Readonly<Record<string, unknown>>): string | undefined {
  if (p.AuthorizerType !== 'REQUEST') {
    return `the ${String(p.AuthorizerType)} authorizer ${id} is not emulated locally (only REQUEST)`;
  }
  if (p.AuthorizerPayloadFormatVersion !== '2.0') {
    return `the authorizer ${id}'s payload format ${String(p.AuthorizerPayloadFormatVersion)} is not emulated locally (only 2.0)`;
  }
  return undefined;
}

/** The identity source expressions parsed; one that is none is a problem. */
function readIdentitySources(
  ctx: HttpReadContext,
  owner: string,
  identitySource: readonly string[],
): IdentitySource[] {
  const identitySources: IdentitySource[] = [];
  for (const source of identitySource) {
    const match = IDENTITY_SOURCE.exec(source);
    if (match === null) {
      ctx.problems.push(
        `${owner}: IdentitySource ${JSON.stringify(source)} is not an identity source expression`,
      );
      continue;
    }
    const from = (match[1] as string).replace('request.', '') as IdentitySource['from'];
    identitySources.push({ from, name: match[2] as string });
  }
  return identitySources;
}

/** One REQUEST authorizer: its identity sources, result TTL, function and response kind. */
function readRequestAuthorizer(ctx: HttpReadContext, id: string, owner: string): HttpAuthorizerModel {
  const p = ctx.resources[id]?.Properties ?? {};
  const identitySource = strings(p.IdentitySource);
  const identitySources = readIdentitySources(ctx, owner, identitySource);
  const ttl = p.AuthorizerResultTtlInSeconds ?? 0;
  if (typeof ttl !== 'number' || !Number.isInteger(ttl) || ttl < 0 || ttl > 3600) {
    ctx.problems.push(`${owner}: AuthorizerResultTtlInSeconds must be whole seconds from 0 to 3600`);
  } else if (ttl > 0 && identitySource.length === 0) {
    // API Gateway caches per identity-source values: caching needs at least one.
    ctx.problems.push(`${owner}: AuthorizerResultTtlInSeconds ${ttl} needs an IdentitySource`);
  }
  return {
    logicalId: id,
    functionId: ctx.functionOf(owner, 'AuthorizerUri', p.AuthorizerUri),
    identitySource,
    identitySources,
    ttlSeconds: typeof ttl === 'number' ? ttl : 0,
    simpleResponses: p.EnableSimpleResponses === true,
  };
}

function readHttpAuthorizers(ctx: HttpReadContext): HttpAuthorizers {
  const request = new Map<string, HttpAuthorizerModel>();
  const jwt = new Map<string, JwtAuthorizerModel>();
  const unsupported = new Map<string, string>();
  for (const [id, r] of apiResources(ctx, 'AWS::ApiGatewayV2::Authorizer')) {
    const p = r.Properties ?? {};
    if (p.AuthorizerType === 'JWT') {
      const model = readHttpJwtAuthorizer(id, describe(ctx, id, 'JWT'), p, (line) => ctx.problems.push(line));
      if (typeof model === 'string') unsupported.set(id, model);
      else jwt.set(id, model);
      continue;
    }
    const reason = unsupportedAuthorizer(id, p);
    if (reason !== undefined) unsupported.set(id, reason);
    else request.set(id, readRequestAuthorizer(ctx, id, describe(ctx, id, String(p.AuthorizerType))));
  }
  return { request, jwt, unsupported };
}

/** One integration: a Lambda proxy with payload format 2.0 and its timeout, else UNSUPPORTED. */
function readHttpIntegration(ctx: HttpReadContext, id: string, r: CfnResource): HttpIntegrationModel {
  const p = r.Properties ?? {};
  const owner = describe(ctx, id, String(p.IntegrationType));
  if (p.IntegrationType !== 'AWS_PROXY' || typeof p.IntegrationSubtype === 'string') {
    return {
      type: 'UNSUPPORTED',
      reason: `IntegrationType ${String(p.IntegrationSubtype ?? p.IntegrationType)} is not emulated locally`,
    };
  }
  if (p.PayloadFormatVersion !== '2.0') {
    return {
      type: 'UNSUPPORTED',
      reason: `PayloadFormatVersion ${String(p.PayloadFormatVersion)} is not emulated locally (only 2.0)`,
    };
  }
  return readLambdaProxy(ctx, owner, p, DEFAULT_HTTP_INTEGRATION_TIMEOUT_MILLIS);
}

interface HttpApiParts {
  readonly authorizers: HttpAuthorizers;
  readonly integrations: ReadonlyMap<string, HttpIntegrationModel>;
  /** The routes read so far. */
  readonly routes: HttpRouteModel[];
  /** Where a route answered 501 locally is listed: `GET /items: <why>`. */
  readonly unsupported: string[];
}

/** One Route, added to the routes; a route the gateway cannot emulate gets an UNSUPPORTED integration. */
function readHttpRoute(ctx: HttpReadContext, id: string, r: CfnResource, parts: HttpApiParts): void {
  const p = r.Properties ?? {};
  const routeKey = String(p.RouteKey);
  const owner = describe(ctx, id, routeKey);
  if (!isRouteKey(routeKey)) {
    ctx.problems.push(`${owner}: RouteKey is not $default nor "<METHOD> /<path>"`);
    return;
  }
  if (parts.routes.some((other) => other.routeKey === routeKey)) {
    ctx.problems.push(`${owner}: a second route ${routeKey}`);
    return;
  }
  const notEmulated: string[] = [];
  const { request, jwt: jwtAuthorizers, unsupported } = parts.authorizers;
  const jwt = jwtGuardOf(
    p,
    { jwt: jwtAuthorizers, unsupported },
    (v) => referencedIds(v)[0],
    notEmulated,
    () => ctx.problems.push(`${owner}: AuthorizerId names no JWT authorizer of this API`),
  );
  const authorizer =
    p.AuthorizationType === 'JWT'
      ? undefined
      : customAuthorizerOf(p, request, unsupported, notEmulated, () =>
          ctx.problems.push(`${owner}: AuthorizerId names no Lambda authorizer of this API`),
        );
  const integration = routeIntegrationOf(
    ctx,
    { owner, routeKey, target: p.Target },
    { authorizerFunctionId: authorizer?.functionId, notEmulated },
    parts.integrations,
    parts.unsupported,
  );
  if (integration === undefined) return;
  parts.routes.push({
    logicalId: id,
    routeKey,
    authorizer,
    ...(jwt !== undefined ? { jwt } : {}),
    integration,
  });
}

/** The API's CORS configuration, or undefined when it has none. */
function readCors(apiProps: Readonly<Record<string, unknown>>): HttpCorsModel | undefined {
  if (!isObject(apiProps.CorsConfiguration)) return undefined;
  const c = apiProps.CorsConfiguration;
  return {
    allowOrigins: strings(c.AllowOrigins),
    allowHeaders: strings(c.AllowHeaders),
    allowMethods: strings(c.AllowMethods),
    exposeHeaders: strings(c.ExposeHeaders),
    maxAge: typeof c.MaxAge === 'number' ? c.MaxAge : undefined,
    allowCredentials: c.AllowCredentials === true,
  };
}

/**
 * Reads an HTTP API (the only one, or `apiId`) out of a template; throws TemplateError listing every problem
 * API Gateway would refuse.
 */
export function readHttpApiModel(template: CfnTemplate, options: { apiId?: string } = {}): HttpApiModel {
  const resources = template.Resources ?? {};
  const apiId = selectHttpApi(template, options.apiId);
  const problems: string[] = [];
  const { functions, functionOf } = lambdaFunctionResolver(resources, problems);
  const ctx: HttpReadContext = { resources, apiId, functions, functionOf, problems };
  const apiProps = resources[apiId]?.Properties ?? {};
  if (apiProps.Body !== undefined || apiProps.BodyS3Location !== undefined) {
    problems.push(`${apiId}: an OpenAPI Body is not emulated locally (declare routes as resources)`);
  }
  // In this order, so the problems read in the order of the template's parts.
  const { stageName, stageVariables } = readHttpStage(ctx);
  const authorizers = readHttpAuthorizers(ctx);
  const integrations = new Map(
    apiResources(ctx, 'AWS::ApiGatewayV2::Integration').map(
      ([id, r]) => [id, readHttpIntegration(ctx, id, r)] as const,
    ),
  );
  const parts: HttpApiParts = { authorizers, integrations, routes: [], unsupported: [] };
  for (const [id, r] of apiResources(ctx, 'AWS::ApiGatewayV2::Route')) readHttpRoute(ctx, id, r, parts);
  const cors = readCors(apiProps);
  throwTemplateProblems(problems);
  const { routes, unsupported } = parts;
  return { kind: 'http', apiId, stageName, stageVariables, routes, cors, functions, unsupported };
}
