import type {
  APIGatewayAuthorizerResult,
  APIGatewayRequestAuthorizerEvent,
  APIGatewayRequestAuthorizerEventV2,
} from 'aws-lambda';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createApiAuthorizer } from '../../lambda/authorizer/api-authorizer.js';
import { API_ENV, loadApiConfig } from '../../lambda/authorizer/api-kind.js';
import type { DecisionRecord } from '../../lambda/authorizer/authorizer.js';
import { ENV_NAMES } from '../../lambda/authorizer/config.js';
import { UNAUTHORIZED } from '../../lambda/authorizer/decision.js';
import { ConfigError } from '../../lambda/authorizer/errors.js';
import { createHinter } from '../../lambda/authorizer/hints.js';
import { EntraJwksCache } from '../../lambda/authorizer/keys/key-cache.js';
import { isHttpRouteKey } from '../../lambda/authorizer/route-keys.js';
import { createTokenVerifier } from '../../lambda/authorizer/verifier.js';
import { answerBytes, WEBSOCKET_AUTHORIZER_RESULT_LIMIT } from '../../lambda/authorizer/websocket.js';
import { readIdentity } from '../../lambda/shared/identity.js';
import { coldStartHandler } from '../helpers/cold-start.js';
import { KeyServer } from '../helpers/key-server.js';
import { APP_ID_URI, CLIENT_ID, claims, event, publishedKeySet, TENANT, token } from '../helpers/setup.js';

const server = KeyServer.forSuite(publishedKeySet);
afterEach(() => {
  vi.unstubAllEnvs();
  vi.restoreAllMocks();
});

const baseEnv = () => ({
  [ENV_NAMES.tenantId]: TENANT,
  [ENV_NAMES.audiences]: `${CLIENT_ID},${APP_ID_URI}`,
  [ENV_NAMES.jwksUri]: server.url,
});

function build(env: Record<string, string>) {
  const config = loadApiConfig({ ...baseEnv(), ...env });
  const records: DecisionRecord<unknown>[] = [];
  const handler = createApiAuthorizer(config, {
    verifier: createTokenVerifier({ config, keys: new EntraJwksCache() }),
    hint: createHinter(config),
    record: (r) => records.push(r),
  });
  return { handler, records };
}

const WS_ARN = 'arn:aws:execute-api:eu-west-1:123456789012:abc123def4/prod/$connect';

function httpEvent(routeKey: string, authorization: string | undefined, path = '/items/42') {
  return {
    version: '2.0',
    type: 'REQUEST',
    routeArn: `arn:aws:execute-api:eu-west-1:123456789012:abc123def4/$default/${routeKey.replace(' ', '')}`,
    identitySource: authorization === undefined ? [] : [authorization, routeKey],
    routeKey,
    rawPath: path,
    rawQueryString: '',
    cookies: [],
    headers: authorization === undefined ? {} : { authorization },
    requestContext: { http: { method: routeKey.split(' ')[0], path } },
  } as unknown as APIGatewayRequestAuthorizerEventV2;
}

function wsEvent(at: {
  query?: Record<string, string[]>;
  protocol?: string;
}): APIGatewayRequestAuthorizerEvent {
  const query = at.query ?? {};
  return {
    type: 'REQUEST',
    methodArn: WS_ARN,
    headers: at.protocol === undefined ? {} : { 'Sec-WebSocket-Protocol': at.protocol },
    queryStringParameters: Object.fromEntries(Object.entries(query).map(([k, v]) => [k, v.at(-1)])),
    multiValueQueryStringParameters: query,
    requestContext: { routeKey: '$connect', eventType: 'CONNECT' },
  } as unknown as APIGatewayRequestAuthorizerEvent;
}

const HTTP_ROUTES = JSON.stringify({
  'GET /items/{id}': { scopes: ['Items.Read'] },
  'DELETE /items/{id}': { roles: ['Items.Admin'] },
  'ANY /files/{proxy+}': {},
});

describe('the configuration of each kind', () => {
  it('is REST unless AZURE_API_KIND says otherwise, and names the variable for a kind it does not know', () => {
    expect(loadApiConfig(baseEnv()).api).toEqual({ kind: 'rest' });
    expect(() => loadApiConfig({ ...baseEnv(), [API_ENV.kind]: 'graphql' })).toThrow(
      new ConfigError(API_ENV.kind, 'graphql', 'one of rest, http, websocket'),
    );
  });

  it('reads HTTP API route permissions as route keys; REST reads {param} keys as resource paths, not $default', () => {
    const config = loadApiConfig({
      ...baseEnv(),
      [API_ENV.kind]: 'http',
      [ENV_NAMES.routePermissions]: HTTP_ROUTES,
    });
    expect(config.api).toMatchObject({ kind: 'http', routeKeys: [{ route: 'GET /items/{id}' }, {}, {}] });
    expect(config.routePermissions).toBeUndefined();
    expect(
      loadApiConfig({ ...baseEnv(), [ENV_NAMES.routePermissions]: HTTP_ROUTES }).routePermissions,
    ).toMatchObject([
      { method: 'GET', path: '/items/{id}' },
      { method: 'DELETE', path: '/items/{id}' },
      { method: '*', path: '/files/{proxy+}' },
    ]);
    const withDefault = JSON.stringify({ $default: {} });
    expect(() => loadApiConfig({ ...baseEnv(), [ENV_NAMES.routePermissions]: withDefault })).toThrow(
      ConfigError,
    );
    expect(
      loadApiConfig({ ...baseEnv(), [API_ENV.kind]: 'http', [ENV_NAMES.routePermissions]: withDefault }).api,
    ).toMatchObject({ kind: 'http', routeKeys: [{ route: '$default' }] });
  });

  it.each([
    ['GET /items/*', false],
    ['get /items', false],
    ['GET items', false],
    ['GET /items/{id}/', false],
    ['GET /{proxy+}/x', false],
    ['GET  /items', false],
    ['* /items', false],
    ['$default', true],
    ['ANY /{proxy+}', true],
    ['GET /', true],
    ['POST /items/{id}/tags/{tag}', true],
  ])('route key %j is %s', (key, valid) => {
    expect(isHttpRouteKey(key)).toBe(valid);
    const env = {
      ...baseEnv(),
      [API_ENV.kind]: 'http',
      [ENV_NAMES.routePermissions]: JSON.stringify({ [key]: {} }),
    };
    if (valid) expect(() => loadApiConfig(env)).not.toThrow();
    else expect(() => loadApiConfig(env)).toThrow(/^AZURE_ROUTE_PERMISSIONS: expected HTTP API route keys/);
  });

  it('refuses route permissions for a WebSocket API and a token source for any other kind, naming each variable', () => {
    expect(() =>
      loadApiConfig({
        ...baseEnv(),
        [API_ENV.kind]: 'websocket',
        [ENV_NAMES.routePermissions]: '{"GET /x":{}}',
      }),
    ).toThrow(/^AZURE_ROUTE_PERMISSIONS: expected nothing for a WebSocket API/);
    expect(() => loadApiConfig({ ...baseEnv(), [API_ENV.webSocketTokenSource]: 'query' })).toThrow(
      /^AZURE_WEBSOCKET_TOKEN_SOURCE: expected nothing/,
    );
    expect(() =>
      loadApiConfig({ ...baseEnv(), [API_ENV.kind]: 'websocket', [API_ENV.webSocketTokenSource]: 'cookie' }),
    ).toThrow(new ConfigError(API_ENV.webSocketTokenSource, 'cookie', 'one of query, protocol'));
  });
});

describe('an HTTP API authorizer (payload 2.0, simple responses)', () => {
  const http = () => build({ [API_ENV.kind]: 'http', [ENV_NAMES.routePermissions]: HTTP_ROUTES });

  it('allows a route the token is granted, with the claims as context the backend reads with readIdentity', async () => {
    const { handler, records } = http();
    const answer = await handler(httpEvent('GET /items/{id}', `Bearer ${token({ scopes: ['Items.Read'] })}`));
    expect(answer).toMatchObject({ isAuthorized: true, context: { tid: TENANT, scp: 'Items.Read' } });
    // What a backend behind an HTTP API gets: event.requestContext.authorizer.lambda.
    const caller = readIdentity({ lambda: answer.context } as unknown as Record<string, unknown>);
    expect(caller).toMatchObject({ tid: TENANT, scopes: ['Items.Read'], oid: claims().oid });
    expect(records.at(-1)).toMatchObject({
      decision: { outcome: 'allow', detail: 'route GET /items/{id}' },
      method: 'GET',
      path: '/items/42',
    });
  });

  it('answers isAuthorized false (403) for a valid token the route does not grant, or a route not in the table', async () => {
    const { handler, records } = http();
    const reader = `Bearer ${token({ scopes: ['Items.Read'] })}`;
    for (const routeKey of ['DELETE /items/{id}', 'GET /items/{id}/secret', 'GET /items', '$default']) {
      expect(await handler(httpEvent(routeKey, reader))).toEqual({ isAuthorized: false });
      expect(records.at(-1)?.decision).toMatchObject({ outcome: 'deny', reason: 'insufficient_permission' });
    }
    // The route key is matched as declared: `{proxy+}` is a name, not a pattern of the path.
    expect(await handler(httpEvent('ANY /files/{proxy+}', reader, '/files/a/b'))).toMatchObject({
      isAuthorized: true,
    });
    expect(await handler(httpEvent('ANY /files/{proxy}', reader))).toEqual({ isAuthorized: false });
  });

  it('denies a token with neither scopes nor roles on every route, with or without route permissions', async () => {
    for (const { handler } of [http(), build({ [API_ENV.kind]: 'http' })]) {
      await expect(
        handler(httpEvent('ANY /files/{proxy+}', `Bearer ${token({ appOnly: true, roles: [] })}`)),
      ).resolves.toEqual({ isAuthorized: false });
    }
  });

  it('throws exactly Unauthorized (401) for a bad or missing token, whatever the header case', async () => {
    const { handler, records } = http();
    const forged = `Bearer ${token({ audience: 'api://other' })}`;
    await expect(handler(httpEvent('GET /items/{id}', forged))).rejects.toThrow(new Error(UNAUTHORIZED));
    await expect(handler(httpEvent('GET /items/{id}', undefined))).rejects.toThrow(new Error(UNAUTHORIZED));
    expect(records.at(-1)?.decision).toMatchObject({ outcome: 'unauthorized', reason: 'missing_token' });
    const upper = {
      ...httpEvent('GET /items/{id}', undefined),
      headers: { Authorization: `Bearer ${token()}` },
    };
    await expect(handler(upper)).resolves.toEqual({ isAuthorized: false });
  });

  it('is a 500, never a decision, for an event of another kind', async () => {
    const { handler, records } = http();
    await expect(handler(event(`Bearer ${token({ scopes: ['Items.Read'] })}`))).rejects.toThrow(
      'Authorizer failure (internal_error)',
    );
    expect(String(records.at(-1)?.error)).toContain('not an HTTP API REQUEST event of payload format 2.0');
  });

  it('allows every route with one stage-wide decision when there are no route permissions', async () => {
    const { handler } = build({ [API_ENV.kind]: 'http', [ENV_NAMES.requiredScopes]: 'access_as_user' });
    const t = `Bearer ${token()}`;
    for (const routeKey of ['GET /a', '$default', 'DELETE /b/{id}'])
      expect(await handler(httpEvent(routeKey, t))).toMatchObject({ isAuthorized: true });
    expect(await handler(httpEvent('GET /a', `Bearer ${token({ scopes: ['other'] })}`))).toEqual({
      isAuthorized: false,
    });
  });
});

describe('a WebSocket $connect authorizer', () => {
  it('allows the connect route for a token in ?access_token=, with an IAM policy for that route only', async () => {
    const { handler } = build({ [API_ENV.kind]: 'websocket' });
    const answer = await handler(wsEvent({ query: { access_token: [token()] } }));
    expect(answer.principalId).toBe(claims().oid);
    expect(answer.policyDocument.Statement).toEqual([
      { Action: 'execute-api:Invoke', Effect: 'Allow', Resource: [WS_ARN] },
    ]);
    expect(readIdentity(answer.context)).toMatchObject({ tid: TENANT, claimsTruncated: false });
  });

  it('reads the token after "access_token" in Sec-WebSocket-Protocol when so configured, and only there', async () => {
    const { handler } = build({ [API_ENV.kind]: 'websocket', [API_ENV.webSocketTokenSource]: 'protocol' });
    const t = token();
    const allowed = await handler(wsEvent({ protocol: `graphql-ws, access_token, ${t}` }));
    expect(allowed.policyDocument.Statement[0]).toMatchObject({ Effect: 'Allow' });
    for (const protocol of [
      undefined,
      'graphql-ws',
      'access_token',
      `access_token, ${t}, access_token, ${t}`,
    ])
      await expect(handler(wsEvent({ protocol }))).rejects.toThrow(new Error(UNAUTHORIZED));
    await expect(handler(wsEvent({ query: { access_token: [t] } }))).rejects.toThrow(new Error(UNAUTHORIZED));
  });

  it('throws Unauthorized for a missing, repeated or forged query token, and denies the route for a valid token without the scope', async () => {
    const { handler, records } = build({
      [API_ENV.kind]: 'websocket',
      [ENV_NAMES.requiredScopes]: 'Chat.Join',
    });
    await expect(handler(wsEvent({}))).rejects.toThrow(new Error(UNAUTHORIZED));
    await expect(handler(wsEvent({ query: { access_token: [token(), token()] } }))).rejects.toThrow(
      new Error(UNAUTHORIZED),
    );
    await expect(handler(wsEvent({ query: { access_token: ['not-a-jwt'] } }))).rejects.toThrow(
      new Error(UNAUTHORIZED),
    );
    const denied: APIGatewayAuthorizerResult = await handler(wsEvent({ query: { access_token: [token()] } }));
    expect(denied.policyDocument.Statement).toEqual([
      { Action: 'execute-api:Invoke', Effect: 'Deny', Resource: [WS_ARN] },
    ]);
    expect(records.at(-1)).toMatchObject({
      decision: { outcome: 'deny', reason: 'insufficient_permission' },
      method: 'CONNECT',
      path: '$connect',
    });
  });

  it('is a 500 for a method ARN of another route or with a wildcard, and for a TOKEN event', async () => {
    const { handler } = build({ [API_ENV.kind]: 'websocket' });
    const t = token();
    for (const methodArn of [
      WS_ARN.replace('$connect', '$default'),
      WS_ARN.replace('/prod/', '/*/'),
      `${WS_ARN}/x`,
    ]) {
      await expect(handler({ ...wsEvent({ query: { access_token: [t] } }), methodArn })).rejects.toThrow(
        'Authorizer failure (internal_error)',
      );
    }
    await expect(handler(event(`Bearer ${t}`, WS_ARN))).rejects.toThrow(
      'Authorizer failure (internal_error)',
    );
  });

  it('keeps a worst-case token within the 8 KB answer limit: claims dropped from the end, never a 500', async () => {
    const { handler } = build({ [API_ENV.kind]: 'websocket', [ENV_NAMES.requiredRoles]: 'Role.0000' });
    const roles = Array.from({ length: 560 }, (_, i) => `Role.${String(i).padStart(4, '0')}`);
    const scopes = Array.from({ length: 120 }, (_, i) => `Scope.${i}.ReadWrite.All`);
    const t = token({
      roles,
      scopes,
      user: {
        oid: claims().oid as string,
        name: 'N'.repeat(600),
        username: `${'u'.repeat(300)}@contoso.example`,
      },
    });
    // Near the 16 KiB the authorizer accepts: a longer one is a 401 before any claim is read.
    expect(t.length).toBeGreaterThan(14_000);
    expect(t.length).toBeLessThanOrEqual(16_384);
    const longArn = WS_ARN.replace('abc123def4', 'a'.repeat(1400)); // the method ARN's 1600-byte quota
    const answer = await handler({ ...wsEvent({ query: { access_token: [t] } }), methodArn: longArn });
    expect(answerBytes(answer)).toBeLessThanOrEqual(WEBSOCKET_AUTHORIZER_RESULT_LIMIT);
    expect(answer.policyDocument.Statement).toEqual([
      { Action: 'execute-api:Invoke', Effect: 'Allow', Resource: [longArn] },
    ]);
    const caller = readIdentity(answer.context);
    expect(caller.claimsTruncated).toBe(true);
    expect(caller.name).toBeUndefined();
    // Whatever is kept is the start of the token's own lists: nothing added, nothing reordered.
    expect(caller.roles).toEqual(roles.slice(0, caller.roles.length));
    expect(caller.scopes).toEqual(scopes.slice(0, caller.scopes.length));
    expect(caller.roles.length).toBeGreaterThan(0);
    // An ordinary token is answered whole.
    const small = await handler(wsEvent({ query: { access_token: [token({ roles: ['Role.0000'] })] } }));
    expect(readIdentity(small.context)).toMatchObject({ claimsTruncated: false, name: 'Alice Example' });
  });

  it('never writes the token to its log, from the query string or the subprotocol (the real handler module)', async () => {
    for (const source of ['query', 'protocol'] as const) {
      const { handler, out, err, restore } = await coldStartHandler({
        ...baseEnv(),
        [API_ENV.kind]: 'websocket',
        [API_ENV.webSocketTokenSource]: source,
        [ENV_NAMES.requiredRoles]: 'Chat.Admin',
        POWERTOOLS_LOG_LEVEL: 'DEBUG',
      });
      const tokens = [token(), token({ audience: 'api://other' }), token({ roles: ['Chat.Admin'] })];
      for (const t of tokens) {
        const e =
          source === 'query'
            ? wsEvent({ query: { access_token: [t] } })
            : wsEvent({ protocol: `access_token, ${t}` });
        await handler(e).catch(() => undefined);
      }
      restore();
      const written = [...out, ...err].join('');
      expect(written.match(/"message":"authorizer decision"/g)).toHaveLength(3);
      for (const t of tokens) {
        for (const part of t.split('.')) expect(written).not.toContain(part);
      }
    }
  });
});
