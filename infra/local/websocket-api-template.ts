import {
  v2ApiResources as apiResources,
  type CfnResource,
  type CfnTemplate,
  customAuthorizerOf,
  describeV2Resource as describe,
  type FunctionModel,
  lambdaFunctionResolver,
  readLambdaProxy,
  referencedIds,
  routeIntegrationOf,
  stageVariablesOf,
  TemplateError,
  throwTemplateProblems,
  type V2ReadContext,
} from './api-template.js';
import type { HttpIntegrationModel, IdentitySource } from './http-api-template.js';

/**
 * A synthesized template's WebSocket APIs (API Gateway v2, `ProtocolType: WEBSOCKET`), read as API Gateway
 * reads them: the route selection expression, the routes by route key (`$connect`, `$disconnect`,
 * `$default` and named ones), the REQUEST Lambda authorizer of `$connect` and its identity sources, the
 * Lambda proxy integrations, which routes answer the client (a RouteResponse), and the stage. What the local
 * server cannot emulate is a route named at start and refused, never served differently.
 */

/**
 * Where a WebSocket authorizer's identity source looks, as for an HTTP API (`route.request.header.X`,
 * `route.request.querystring.X`, `stageVariables.X`, `context.X`).
 */
export type WebSocketIdentitySource = IdentitySource;

export interface WebSocketAuthorizerModel {
  readonly logicalId: string;
  readonly functionId: string;
  /** As written (`route.request.querystring.access_token`), and parsed. */
  readonly identitySource: readonly string[];
  readonly identitySources: readonly WebSocketIdentitySource[];
}

/** A Lambda proxy and its timeout, or why the route is not emulated, as for an HTTP API. */
type WebSocketIntegrationModel = HttpIntegrationModel;

export interface WebSocketRouteModel {
  readonly logicalId: string;
  /** `$connect`, `$disconnect`, `$default`, or a value of the route selection expression. */
  readonly routeKey: string;
  /** Only `$connect` may have one. */
  readonly authorizer: WebSocketAuthorizerModel | undefined;
  readonly integration: WebSocketIntegrationModel;
  /** A two-way route: the integration's answer is sent back to the client (a RouteResponse declares it). */
  readonly returnsResponse: boolean;
}

/** `$request.body.action` or `${request.body.service}/${request.body.action}`: the JSON paths it reads. */
export type RouteSelection =
  | { readonly kind: 'path'; readonly path: readonly string[] }
  | { readonly kind: 'template'; readonly parts: readonly (string | readonly string[])[] };

export interface WebSocketApiModel {
  readonly kind: 'websocket';
  readonly apiId: string;
  /** The stage's name: its URL is `/<stage>`, and `@connections` is under it. */
  readonly stageName: string;
  readonly stageVariables: Readonly<Record<string, string>>;
  readonly routeSelectionExpression: string;
  readonly routeSelection: RouteSelection;
  readonly routes: readonly WebSocketRouteModel[];
  readonly functions: ReadonlyMap<string, FunctionModel>;
  /** One line per route refused here: `$default: <why>`. */
  readonly unsupported: readonly string[];
}

/** The WebSocket integration timeout when the template sets none (29 s, the most it may be). */
const DEFAULT_WEBSOCKET_INTEGRATION_TIMEOUT_MILLIS = 29_000;

/** The logical ids of the template's WebSocket APIs. */
export function webSocketApiIds(template: CfnTemplate): string[] {
  return Object.entries(template.Resources ?? {})
    .filter(([, r]) => r.Type === 'AWS::ApiGatewayV2::Api' && r.Properties?.ProtocolType === 'WEBSOCKET')
    .map(([id]) => id);
}

const IDENTITY_SOURCE = /^(route\.request\.header|route\.request\.querystring|stageVariables|context)\.(.+)$/;
const BODY_PATH = /^request\.body((?:\.[A-Za-z0-9_-]+)+)$/;

/** The JSON path of `request.body.a.b` (`['a', 'b']`), or undefined. */
function bodyPath(expression: string): string[] | undefined {
  const match = BODY_PATH.exec(expression);
  return match === null ? undefined : (match[1] as string).slice(1).split('.');
}

/**
 * A route selection expression as API Gateway evaluates it on a message: `$request.body.<path>`, or a
 * template of `${request.body.<path>}` parts and literal text. Undefined for anything else.
 */
export function parseRouteSelection(expression: string): RouteSelection | undefined {
  if (expression.startsWith('$request.')) {
    const path = bodyPath(expression.slice(1));
    return path === undefined ? undefined : { kind: 'path', path };
  }
  const parts: (string | string[])[] = [];
  let rest = expression;
  while (rest !== '') {
    const open = rest.indexOf('${');
    if (open === -1) {
      parts.push(rest);
      break;
    }
    if (open > 0) parts.push(rest.slice(0, open));
    const close = rest.indexOf('}', open);
    const path = close === -1 ? undefined : bodyPath(rest.slice(open + 2, close));
    if (path === undefined) return undefined;
    parts.push(path);
    rest = rest.slice(close + 1);
  }
  return parts.some((p) => Array.isArray(p)) ? { kind: 'template', parts } : undefined;
}

type WebSocketReadContext = V2ReadContext;

/** The stage (the first, as a WebSocket API has no `$default` stage) and its variables. */
function readWebSocketStage(
  ctx: WebSocketReadContext,
): Pick<WebSocketApiModel, 'stageName' | 'stageVariables'> {
  const stage = apiResources(ctx, 'AWS::ApiGatewayV2::Stage')[0]?.[1].Properties ?? {};
  if (typeof stage.StageName !== 'string') {
    ctx.problems.push(`${ctx.apiId}: no AWS::ApiGatewayV2::Stage, so the WebSocket API has no URL`);
  }
  const stageName = typeof stage.StageName === 'string' ? stage.StageName : '';
  return { stageName, stageVariables: stageVariablesOf(stage) };
}

/** One REQUEST authorizer: its identity sources and function; another type is not emulated. */
function readWebSocketAuthorizers(ctx: WebSocketReadContext) {
  const request = new Map<string, WebSocketAuthorizerModel>();
  const unsupported = new Map<string, string>();
  for (const [id, r] of apiResources(ctx, 'AWS::ApiGatewayV2::Authorizer')) {
    const p = r.Properties ?? {};
    if (p.AuthorizerType !== 'REQUEST') {
      unsupported.set(id, `the ${String(p.AuthorizerType)} authorizer ${id} is not emulated locally`);
      continue;
    }
    const owner = describe(ctx, id, 'REQUEST');
    const identitySource = Array.isArray(p.IdentitySource)
      ? p.IdentitySource.filter((s): s is string => typeof s === 'string')
      : [];
    const identitySources: WebSocketIdentitySource[] = [];
    for (const source of identitySource) {
      const match = IDENTITY_SOURCE.exec(source);
      if (match === null) {
        ctx.problems.push(`${owner}: IdentitySource ${JSON.stringify(source)} is not an identity source`);
        continue;
      }
      const from = (match[1] as string).replace('route.request.', '') as WebSocketIdentitySource['from'];
      identitySources.push({ from, name: match[2] as string });
    }
    const functionId = ctx.functionOf(owner, 'AuthorizerUri', p.AuthorizerUri);
    request.set(id, { logicalId: id, functionId, identitySource, identitySources });
  }
  return { request, unsupported };
}

/** One integration: a Lambda proxy and its timeout, else UNSUPPORTED. */
function readWebSocketIntegration(
  ctx: WebSocketReadContext,
  id: string,
  r: CfnResource,
): WebSocketIntegrationModel {
  const p = r.Properties ?? {};
  if (p.IntegrationType !== 'AWS_PROXY') {
    return {
      type: 'UNSUPPORTED',
      reason: `IntegrationType ${String(p.IntegrationType)} is not emulated locally (only AWS_PROXY to Lambda)`,
    };
  }
  return readLambdaProxy(
    ctx,
    describe(ctx, id, 'AWS_PROXY'),
    p,
    DEFAULT_WEBSOCKET_INTEGRATION_TIMEOUT_MILLIS,
  );
}

interface WebSocketApiParts {
  readonly authorizers: ReturnType<typeof readWebSocketAuthorizers>;
  readonly integrations: ReadonlyMap<string, WebSocketIntegrationModel>;
  /** The logical ids of the routes a RouteResponse names. */
  readonly answered: ReadonlySet<string>;
  readonly routes: WebSocketRouteModel[];
  readonly unsupported: string[];
}

/** One Route, added to the routes; one the server cannot emulate gets an UNSUPPORTED integration. */
function readWebSocketRoute(
  ctx: WebSocketReadContext,
  id: string,
  r: CfnResource,
  parts: WebSocketApiParts,
): void {
  const p = r.Properties ?? {};
  const routeKey = typeof p.RouteKey === 'string' ? p.RouteKey : '';
  const owner = describe(ctx, id, routeKey);
  if (routeKey === '' || parts.routes.some((other) => other.routeKey === routeKey)) {
    ctx.problems.push(`${owner}: ${routeKey === '' ? 'no RouteKey' : `a second route ${routeKey}`}`);
    return;
  }
  const notEmulated: string[] = [];
  const { request, unsupported } = parts.authorizers;
  const authorizer = customAuthorizerOf(p, request, unsupported, notEmulated, () =>
    ctx.problems.push(`${owner}: AuthorizerId names no Lambda authorizer of this API`),
  );
  if (authorizer !== undefined && routeKey !== '$connect') {
    ctx.problems.push(`${owner}: only $connect may have an authorizer`);
  }
  const integration = routeIntegrationOf(
    ctx,
    { owner, routeKey, target: p.Target },
    { authorizerFunctionId: authorizer?.functionId, notEmulated },
    parts.integrations,
    parts.unsupported,
  );
  if (integration === undefined) return;
  const returnsResponse = typeof p.RouteResponseSelectionExpression === 'string' && parts.answered.has(id);
  parts.routes.push({ logicalId: id, routeKey, authorizer, integration, returnsResponse });
}

/**
 * Reads one WebSocket API out of a template; throws TemplateError listing every problem API Gateway would
 * refuse.
 */
export function readWebSocketApiModel(template: CfnTemplate, apiId: string): WebSocketApiModel {
  const resources = template.Resources ?? {};
  if (!webSocketApiIds(template).includes(apiId)) {
    throw new TemplateError(`no WebSocket API (AWS::ApiGatewayV2::Api) ${apiId} in the template`);
  }
  const problems: string[] = [];
  const { functions, functionOf } = lambdaFunctionResolver(resources, problems);
  const ctx: WebSocketReadContext = { resources, apiId, functions, functionOf, problems };
  const routeSelectionExpression = String(resources[apiId]?.Properties?.RouteSelectionExpression ?? '');
  const routeSelection = parseRouteSelection(routeSelectionExpression);
  if (routeSelection === undefined) {
    problems.push(
      `${apiId}: RouteSelectionExpression ${JSON.stringify(routeSelectionExpression)} is not emulated locally (only $request.body.<path> and \${request.body.<path>} templates)`,
    );
  }
  const { stageName, stageVariables } = readWebSocketStage(ctx);
  const integrations = new Map(
    apiResources(ctx, 'AWS::ApiGatewayV2::Integration').map(
      ([id, r]) => [id, readWebSocketIntegration(ctx, id, r)] as const,
    ),
  );
  const answered = new Set(
    apiResources(ctx, 'AWS::ApiGatewayV2::RouteResponse').flatMap(([, r]) =>
      referencedIds(r.Properties?.RouteId),
    ),
  );
  const authorizers = readWebSocketAuthorizers(ctx);
  const parts: WebSocketApiParts = { authorizers, integrations, answered, routes: [], unsupported: [] };
  for (const [id, r] of apiResources(ctx, 'AWS::ApiGatewayV2::Route')) readWebSocketRoute(ctx, id, r, parts);
  throwTemplateProblems(problems);
  return {
    kind: 'websocket',
    apiId,
    stageName,
    stageVariables,
    routeSelectionExpression,
    routeSelection: routeSelection as RouteSelection,
    routes: parts.routes,
    functions,
    unsupported: parts.unsupported,
  };
}

/** Where each API is served (`/<stage>`); a second API on a stage path already taken is not served. */
export function webSocketPaths(apis: readonly WebSocketApiModel[]): {
  readonly served: ReadonlyMap<string, WebSocketApiModel>;
  readonly notes: readonly string[];
} {
  const served = new Map<string, WebSocketApiModel>();
  const notes: string[] = [];
  for (const api of apis) {
    const path = `/${api.stageName}`;
    const taken = served.get(path);
    if (taken === undefined) served.set(path, api);
    else notes.push(`the WebSocket API ${api.apiId} is not served: its stage ${path} is ${taken.apiId}'s`);
  }
  return { served, notes };
}

/**
 * The WebSocket APIs of a template the local server serves, and what the person should know: routes refused
 * here, an API whose template cannot be served (the other APIs still are), a stage path taken twice.
 */
export function readServedWebSocketApis(template: CfnTemplate): {
  readonly apis: readonly WebSocketApiModel[];
  readonly notes: readonly string[];
} {
  const read: WebSocketApiModel[] = [];
  const notes: string[] = [];
  for (const id of webSocketApiIds(template)) {
    try {
      read.push(readWebSocketApiModel(template, id));
    } catch (err) {
      if (!(err instanceof TemplateError)) throw err;
      const problems = err.message.split('\n  - ').slice(1);
      notes.push(`the WebSocket API ${id} is not served: ${problems.join('; ') || err.message}`);
    }
  }
  const { served, notes: taken } = webSocketPaths(read);
  const apis = [...served.values()];
  for (const api of apis) {
    notes.push(...api.unsupported.map((line) => `WebSocket /${api.stageName} ${line}: refused`));
  }
  return { apis, notes: [...notes, ...taken] };
}
