import {
  type CfnResource,
  type CfnTemplate,
  customAuthorizerOf,
  type FunctionModel,
  isObject,
  lambdaFunctionResolver,
  referencedIds,
  TemplateError,
  throwTemplateProblems,
  unsupportedRuntimes,
} from './api-template.js';

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
export const DEFAULT_HTTP_INTEGRATION_TIMEOUT_MILLIS = 30_000;

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

/**
 * Reads an HTTP API (the only one, or `apiId`) out of a template; throws TemplateError listing every problem
 * API Gateway would refuse.
 */
export function readHttpApiModel(template: CfnTemplate, options: { apiId?: string } = {}): HttpApiModel {
  const resources = template.Resources ?? {};
  const problems: string[] = [];
  const apis = httpApiIds(template);
  if (options.apiId !== undefined ? !apis.includes(options.apiId) : apis.length !== 1) {
    throw new TemplateError(
      options.apiId !== undefined
        ? `no HTTP API (AWS::ApiGatewayV2::Api) ${options.apiId} in the template; it has ${apis.join(', ') || 'none'}`
        : `expected one HTTP API (AWS::ApiGatewayV2::Api, ProtocolType HTTP) in the template; found ${apis.length}`,
    );
  }
  const apiId = options.apiId ?? (apis[0] as string);
  const ofType = (type: string) =>
    (Object.entries(resources) as [string, CfnResource][]).filter(
      ([, r]) => r.Type === type && referencedIds(r.Properties?.ApiId).includes(apiId),
    );
  const describe = (id: string, detail: string) => `${id} (${resources[id]?.Type} ${detail})`;
  const { functions, functionOf } = lambdaFunctionResolver(resources, problems);
  const apiProps = resources[apiId]?.Properties ?? {};
  if (apiProps.Body !== undefined || apiProps.BodyS3Location !== undefined) {
    problems.push(`${apiId}: an OpenAPI Body is not emulated locally (declare routes as resources)`);
  }

  // The stage: `$default` if there is one (CDK's HttpApi makes it), else the first.
  const stages = ofType('AWS::ApiGatewayV2::Stage').map(([, r]) => r.Properties ?? {});
  const stage = stages.find((s) => s.StageName === '$default') ?? stages[0] ?? {};
  const stageName = typeof stage.StageName === 'string' ? stage.StageName : '$default';
  const stageVariables: Record<string, string> = {};
  if (isObject(stage.StageVariables)) {
    for (const [k, v] of Object.entries(stage.StageVariables))
      if (typeof v === 'string') stageVariables[k] = v;
  }

  const authorizers = new Map<string, HttpAuthorizerModel>();
  const unsupportedAuthorizers = new Map<string, string>();
  for (const [id, r] of ofType('AWS::ApiGatewayV2::Authorizer')) {
    const p = r.Properties ?? {};
    const owner = describe(id, String(p.AuthorizerType));
    if (p.AuthorizerType !== 'REQUEST') {
      unsupportedAuthorizers.set(
        id,
        `the ${String(p.AuthorizerType)} authorizer ${id} is not emulated locally (only REQUEST)`,
      );
      continue;
    }
    if (p.AuthorizerPayloadFormatVersion !== '2.0') {
      unsupportedAuthorizers.set(
        id,
        `the authorizer ${id}'s payload format ${String(p.AuthorizerPayloadFormatVersion)} is not emulated locally (only 2.0)`,
      );
      continue;
    }
    const identitySource = strings(p.IdentitySource);
    const identitySources: IdentitySource[] = [];
    for (const source of identitySource) {
      const match = IDENTITY_SOURCE.exec(source);
      if (match === null) {
        problems.push(
          `${owner}: IdentitySource ${JSON.stringify(source)} is not an identity source expression`,
        );
        continue;
      }
      const from = (match[1] as string).replace('request.', '') as IdentitySource['from'];
      identitySources.push({ from, name: match[2] as string });
    }
    const ttl = p.AuthorizerResultTtlInSeconds ?? 0;
    if (typeof ttl !== 'number' || !Number.isInteger(ttl) || ttl < 0 || ttl > 3600) {
      problems.push(`${owner}: AuthorizerResultTtlInSeconds must be whole seconds from 0 to 3600`);
    } else if (ttl > 0 && identitySource.length === 0) {
      // API Gateway caches per identity-source values: caching needs at least one.
      problems.push(`${owner}: AuthorizerResultTtlInSeconds ${ttl} needs an IdentitySource`);
    }
    authorizers.set(id, {
      logicalId: id,
      functionId: functionOf(owner, 'AuthorizerUri', p.AuthorizerUri),
      identitySource,
      identitySources,
      ttlSeconds: typeof ttl === 'number' ? ttl : 0,
      simpleResponses: p.EnableSimpleResponses === true,
    });
  }

  const integrations = new Map<string, HttpIntegrationModel>();
  for (const [id, r] of ofType('AWS::ApiGatewayV2::Integration')) {
    const p = r.Properties ?? {};
    const owner = describe(id, String(p.IntegrationType));
    if (p.IntegrationType !== 'AWS_PROXY' || typeof p.IntegrationSubtype === 'string') {
      integrations.set(id, {
        type: 'UNSUPPORTED',
        reason: `IntegrationType ${String(p.IntegrationSubtype ?? p.IntegrationType)} is not emulated locally`,
      });
      continue;
    }
    if (p.PayloadFormatVersion !== '2.0') {
      integrations.set(id, {
        type: 'UNSUPPORTED',
        reason: `PayloadFormatVersion ${String(p.PayloadFormatVersion)} is not emulated locally (only 2.0)`,
      });
      continue;
    }
    const timeout = p.TimeoutInMillis ?? DEFAULT_HTTP_INTEGRATION_TIMEOUT_MILLIS;
    if (typeof timeout !== 'number' || timeout < 50 || timeout > DEFAULT_HTTP_INTEGRATION_TIMEOUT_MILLIS) {
      problems.push(`${owner}: TimeoutInMillis must be from 50 to 30000`);
    }
    integrations.set(id, {
      type: 'AWS_PROXY',
      functionId: functionOf(owner, 'IntegrationUri', p.IntegrationUri),
      timeoutMillis: typeof timeout === 'number' ? timeout : DEFAULT_HTTP_INTEGRATION_TIMEOUT_MILLIS,
    });
  }

  const routes: HttpRouteModel[] = [];
  const unsupported: string[] = [];
  for (const [id, r] of ofType('AWS::ApiGatewayV2::Route')) {
    const p = r.Properties ?? {};
    const routeKey = String(p.RouteKey);
    const owner = describe(id, routeKey);
    if (!isRouteKey(routeKey)) {
      problems.push(`${owner}: RouteKey is not $default nor "<METHOD> /<path>"`);
      continue;
    }
    if (routes.some((other) => other.routeKey === routeKey)) {
      problems.push(`${owner}: a second route ${routeKey}`);
      continue;
    }
    const notEmulated: string[] = [];
    const authorizer = customAuthorizerOf(p, authorizers, unsupportedAuthorizers, notEmulated, () =>
      problems.push(`${owner}: AuthorizerId names no Lambda authorizer of this API`),
    );
    const integrationId = referencedIds(p.Target)[0];
    let integration = integrationId === undefined ? undefined : integrations.get(integrationId);
    if (integration === undefined) {
      problems.push(`${owner}: Target is not integrations/<an integration of this API>`);
      continue;
    }
    notEmulated.push(
      ...unsupportedRuntimes(functions, [
        authorizer?.functionId,
        integration.type === 'AWS_PROXY' ? integration.functionId : undefined,
      ]),
    );
    if (integration.type === 'UNSUPPORTED') notEmulated.unshift(integration.reason);
    if (notEmulated.length > 0) {
      integration = { type: 'UNSUPPORTED', reason: notEmulated.join('; ') };
      unsupported.push(`${routeKey}: ${integration.reason}`);
    }
    routes.push({ logicalId: id, routeKey, authorizer, integration });
  }

  let cors: HttpCorsModel | undefined;
  if (isObject(apiProps.CorsConfiguration)) {
    const c = apiProps.CorsConfiguration;
    cors = {
      allowOrigins: strings(c.AllowOrigins),
      allowHeaders: strings(c.AllowHeaders),
      allowMethods: strings(c.AllowMethods),
      exposeHeaders: strings(c.ExposeHeaders),
      maxAge: typeof c.MaxAge === 'number' ? c.MaxAge : undefined,
      allowCredentials: c.AllowCredentials === true,
    };
  }

  throwTemplateProblems(problems);
  return { kind: 'http', apiId, stageName, stageVariables, routes, cors, functions, unsupported };
}
