import { Duration, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { HttpApi, HttpMethod, HttpRoute, HttpRouteKey } from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import { Code, Function as LambdaFunction, Runtime } from 'aws-cdk-lib/aws-lambda';
import type { APIGatewayRequestAuthorizerEventV2 } from 'aws-lambda';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  EntraHttpAuthorizer,
  type EntraHttpAuthorizerProps,
} from '../../infra/construct/entra-http-authorizer.js';
import { createApiAuthorizer } from '../../lambda/authorizer/api-authorizer.js';
import { API_ENV, loadApiConfig } from '../../lambda/authorizer/api-kind.js';
import { ENV_NAMES } from '../../lambda/authorizer/config.js';
import type { TokenVerifier } from '../../lambda/authorizer/verifier.js';
import { testApp } from '../helpers/cdk.js';
import { grantee } from '../helpers/policy-oracle.js';
import { CLIENT_ID, TENANT } from '../helpers/setup.js';

type Rule = { readonly scopes?: readonly string[]; readonly roles?: readonly string[] };
interface Grants {
  readonly scopes: readonly string[];
  readonly roles: readonly string[];
}

/**
 * The decision a route deserves, written from docs/permissions-and-caching.md's rules and not from the production code: a
 * token needs a scope or a role; then one of the required scopes or roles, if any; then, with route
 * permissions, the rule of exactly its route key (an empty rule admits), and an unlisted route is refused.
 */
function deserves(grants: Grants, required: Rule, table: Record<string, Rule> | undefined, routeKey: string) {
  const holds = (rule: Rule) =>
    (rule.scopes ?? []).some((s) => grants.scopes.includes(s)) ||
    (rule.roles ?? []).some((r) => grants.roles.includes(r));
  const empty = (rule: Rule) => (rule.scopes ?? []).length === 0 && (rule.roles ?? []).length === 0;
  if (grants.scopes.length === 0 && grants.roles.length === 0) return false;
  if (!empty(required) && !holds(required)) return false;
  if (table === undefined) return true;
  const rule = Object.hasOwn(table, routeKey) ? table[routeKey] : undefined;
  return rule !== undefined && (empty(rule) || holds(rule));
}

/** The authorizer's cache TTL and identity sources, read from the template as CloudFormation gets it. */
function synthesizedAuthorizer(props: Partial<EntraHttpAuthorizerProps>): { ttl: number; source: string[] } {
  const stack = new Stack(testApp(), 'S');
  const entra = new EntraHttpAuthorizer(stack, 'Entra', { tenantId: TENANT, clientId: CLIENT_ID, ...props });
  const backend = new LambdaFunction(stack, 'Backend', {
    runtime: Runtime.NODEJS_22_X,
    handler: 'index.handler',
    code: Code.fromInline('exports.handler = async () => ({})'),
  });
  const httpApi = new HttpApi(stack, 'Api');
  new HttpRoute(stack, 'Route', {
    httpApi,
    routeKey: HttpRouteKey.with('/items/{id}', HttpMethod.GET),
    integration: new HttpLambdaIntegration('Integration', backend),
    authorizer: entra,
  });
  const authorizers = Object.values(
    Template.fromStack(stack).findResources('AWS::ApiGatewayV2::Authorizer'),
  ) as { Properties: { IdentitySource: string[]; AuthorizerResultTtlInSeconds: number } }[];
  expect(authorizers).toHaveLength(1);
  const properties = authorizers[0]?.Properties;
  return { ttl: properties?.AuthorizerResultTtlInSeconds ?? -1, source: properties?.IdentitySource ?? [] };
}

/** The identity sources of an authorizer that caches (the default TTL). */
function cachingIdentitySource(props: Partial<EntraHttpAuthorizerProps>): string[] {
  const { ttl, source } = synthesizedAuthorizer(props);
  expect(ttl).toBeGreaterThan(0);
  return source;
}

interface Request {
  readonly token: number;
  readonly routeKey: string;
}

/**
 * An HTTP API in front of the real authorizer, caching as its developer guide says: "API Gateway uses the
 * authorizer's identity sources as the cache key", and a simple response "fully allows or denies all API
 * requests that match the cached identity source values". Within one TTL, so nothing expires.
 */
function gateway(identitySource: readonly string[], env: Record<string, string>, grants: readonly Grants[]) {
  const config = loadApiConfig({
    [ENV_NAMES.tenantId]: TENANT,
    [ENV_NAMES.audiences]: CLIENT_ID,
    [API_ENV.kind]: 'http',
    ...env,
  });
  const verifier: TokenVerifier = {
    verify: async (jwt) => {
      const g = grants[Number(jwt.split('.')[1])] as Grants;
      const claims = grantee([...g.scopes], [...g.roles]);
      return {
        claims,
        keyId: 'k',
        jwt: { header: {}, payload: {}, signingInput: '', signatureB64: '' },
      };
    },
  };
  const authorizer = createApiAuthorizer(config, { verifier });
  const cache = new Map<string, boolean>();
  return async ({ token, routeKey }: Request): Promise<boolean> => {
    const authorization = `Bearer h.${token}.s`;
    const values = identitySource.map((source) => {
      if (source === '$request.header.Authorization') return authorization;
      if (source === '$context.routeKey') return routeKey;
      throw new Error(`this gateway does not know the identity source ${source}`);
    });
    const key = JSON.stringify(values);
    const hit = cache.get(key);
    if (hit !== undefined) return hit;
    const event = {
      version: '2.0',
      type: 'REQUEST',
      routeKey,
      rawPath: '/',
      headers: { authorization },
      requestContext: { http: { method: 'GET' } },
    } as unknown as APIGatewayRequestAuthorizerEventV2;
    const { isAuthorized } = await authorizer(event);
    cache.set(key, isAuthorized);
    return isAuthorized;
  };
}

const ROUTE_KEYS = ['GET /items', 'GET /items/{id}', 'DELETE /items/{id}', 'ANY /files/{proxy+}', '$default'];
const NAMES = { scopes: ['s1', 's2'], roles: ['r1', 'r2'] };
// A list in a rule is left out rather than empty (an empty one is refused: it would read as "none").
const rule = fc.record(
  { scopes: fc.subarray(NAMES.scopes, { minLength: 1 }), roles: fc.subarray(NAMES.roles, { minLength: 1 }) },
  { requiredKeys: [] },
);
const grants = fc.record({ scopes: fc.subarray(NAMES.scopes), roles: fc.subarray(NAMES.roles) });

const scenario = fc.record({
  table: fc.dictionary(fc.constantFrom(...ROUTE_KEYS.slice(0, 4)), rule, { minKeys: 1 }),
  required: fc.constantFrom<Rule>({}, { scopes: ['s1'] }, { roles: ['r2'] }),
  tokens: fc.array(grants, { minLength: 1, maxLength: 3 }),
  requests: fc.array(
    fc.record({ token: fc.nat(2), routeKey: fc.constantFrom(...ROUTE_KEYS, 'POST /items') }),
    {
      minLength: 2,
      maxLength: 12,
    },
  ),
});

function envOf(table: Record<string, Rule> | undefined, required: Rule): Record<string, string> {
  return {
    ...(table === undefined ? {} : { [ENV_NAMES.routePermissions]: JSON.stringify(table) }),
    ...(required.scopes ? { [ENV_NAMES.requiredScopes]: required.scopes.join(',') } : {}),
    ...(required.roles ? { [ENV_NAMES.requiredRoles]: required.roles.join(',') } : {}),
  };
}

/** Every answer the cached gateway gives, first or cached, is the one the request deserves. */
function neverWrong(identitySource: readonly string[], withTable: boolean) {
  return fc.asyncProperty(scenario, async ({ table, required, tokens, requests }) => {
    const routes = withTable ? table : undefined;
    const call = gateway(identitySource, envOf(routes, required), tokens);
    for (const request of requests) {
      const token = request.token % tokens.length;
      const answer = await call({ token, routeKey: request.routeKey });
      expect(answer).toBe(deserves(tokens[token] as Grants, required, routes, request.routeKey));
    }
  });
}

describe("an HTTP API's cached simple responses", () => {
  const perRoute = cachingIdentitySource({ routePermissions: { 'GET /items/{id}': {} } });
  const stageWide = cachingIdentitySource({});

  it('are keyed by the token and the route key when there are route permissions, by the token alone otherwise', () => {
    expect(perRoute).toEqual(['$request.header.Authorization', '$context.routeKey']);
    expect(stageWide).toEqual(['$request.header.Authorization']);
  });

  it('never carry an Allow (or a Deny) for one route over to another, with route permissions', async () => {
    // Oracle: deserves() above, written from docs/permissions-and-caching.md, and the synthesized identity sources
    await fc.assert(neverWrong(perRoute, true), { numRuns: 200 });
  });

  it('are right on every route without route permissions, where the decision is the same on every route', async () => {
    // Oracle: deserves() above, written from docs/permissions-and-caching.md, and the synthesized identity sources
    await fc.assert(neverWrong(stageWide, false), { numRuns: 100 });
  });

  it('would leak across routes if route permissions were cached by the token alone (the property can fail)', async () => {
    const result = await fc.check(neverWrong(stageWide, true), { numRuns: 200 });
    expect(result.failed).toBe(true);
  });

  it('are not cached at all when the TTL is 0, and then the header alone is the identity source', () => {
    const uncached = synthesizedAuthorizer({
      routePermissions: { 'GET /items/{id}': {} },
      resultsCacheTtl: Duration.seconds(0),
    });
    expect(uncached).toEqual({ ttl: 0, source: ['$request.header.Authorization'] });
  });
});
