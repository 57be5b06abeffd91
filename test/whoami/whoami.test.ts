import type { APIGatewayProxyEvent } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import { buildContext } from '../../lambda/authorizer/context.js';
import { hasScopeOrRole, MissingIdentityError, readIdentity } from '../../lambda/shared/identity.js';
import { handler } from '../../lambda/whoami/handler.js';

const claims = {
  iss: 'https://login.microsoftonline.com/t/v2.0',
  tid: '72f988bf-86f1-41af-91ab-2d7cd011db47',
  aud: 'api://x',
  exp: 1_900_000_000,
  ver: '2.0' as const,
  oid: 'o-1',
  sub: 's-1',
  scopes: ['a', 'b'],
  roles: ['R'],
  appId: 'app',
  appOnly: false,
  guest: false,
  groups: [],
  groupsOverage: false,
  name: 'Alice',
  preferredUsername: 'alice@contoso.example',
};

describe('readIdentity', () => {
  it('turns the authorizer context back into typed claims', () => {
    const identity = readIdentity({ ...buildContext(claims), principalId: 'o-1' });
    expect(identity).toEqual({
      principalId: 'o-1',
      oid: 'o-1',
      tid: claims.tid,
      sub: 's-1',
      scopes: ['a', 'b'],
      roles: ['R'],
      appId: 'app',
      version: '2.0',
      appOnly: false,
      expiresAt: 1_900_000_000,
      name: 'Alice',
      preferredUsername: 'alice@contoso.example',
      claimsTruncated: false,
    });
    expect(hasScopeOrRole(identity, 'R')).toBe(true);
    expect(hasScopeOrRole(identity, 'c')).toBe(false);
  });

  it('reads numbers and booleans that API Gateway passed as strings', () => {
    const context = Object.fromEntries(
      Object.entries(buildContext({ ...claims, appOnly: true })).map(([k, v]) => [k, String(v)]),
    );
    expect(readIdentity(context)).toMatchObject({
      appOnly: true,
      expiresAt: 1_900_000_000,
      scopes: ['a', 'b'],
    });
  });

  it('reads the whole event of each kind as its requestContext.authorizer', () => {
    const context = buildContext(claims);
    const expected = readIdentity(context);
    expect(readIdentity({ requestContext: { authorizer: context } })).toEqual(expected);
    expect(readIdentity({ requestContext: { authorizer: { lambda: context } } })).toEqual(expected);
    expect(() => readIdentity({ requestContext: {} })).toThrow(MissingIdentityError);
  });

  it("reads an HTTP API's context, which API Gateway puts under lambda, as it reads a REST API's", () => {
    const context = buildContext(claims);
    expect(readIdentity({ lambda: context })).toEqual({ ...readIdentity(context), principalId: 'o-1' });
    expect(() => readIdentity({ lambda: { principalId: 'x' } })).toThrow(MissingIdentityError);
    expect(() => readIdentity({ lambda: 'not an object' })).toThrow(MissingIdentityError);
  });

  it('refuses a request that did not pass the authorizer', () => {
    expect(() => readIdentity(undefined)).toThrow(MissingIdentityError);
    expect(() => readIdentity({ principalId: 'x' })).toThrow(MissingIdentityError);
  });
});

describe('GET /whoami', () => {
  it('answers JSON with the caller identity', async () => {
    const event = {
      requestContext: { authorizer: { ...buildContext(claims), principalId: 'o-1' } },
    } as unknown as APIGatewayProxyEvent;
    const response = await handler(event);
    expect(response.statusCode).toBe(200);
    expect(response.headers?.['content-type']).toBe('application/json');
    // A proxy integration adds nothing: the backend's own answer carries CORS (the default origin *).
    expect(response.headers?.['Access-Control-Allow-Origin']).toBe('*');
    expect(JSON.parse(response.body)).toMatchObject({ oid: 'o-1', scopes: ['a', 'b'], tid: claims.tid });
  });

  it('answers 500 when deployed without the authorizer', async () => {
    const response = await handler({ requestContext: {} } as unknown as APIGatewayProxyEvent);
    expect(response.statusCode).toBe(500);
  });
});
