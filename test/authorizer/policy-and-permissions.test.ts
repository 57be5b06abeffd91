import { describe, expect, it } from 'vitest';
import { parseRoutePermissions } from '../../lambda/authorizer/config.js';
import { BadEventError } from '../../lambda/authorizer/errors.js';
import { compileRoutePath, createRouteAuthorizer } from '../../lambda/authorizer/permissions.js';
import { parseMethodArn, routeResource, stageResource } from '../../lambda/authorizer/policy.js';

describe('parseMethodArn', () => {
  it('splits an execute-api method ARN, including other partitions and the root path', () => {
    expect(parseMethodArn('arn:aws-us-gov:execute-api:us-gov-west-1:123456789012:a1b2c3/v1/GET/')).toEqual({
      partition: 'aws-us-gov',
      region: 'us-gov-west-1',
      accountId: '123456789012',
      apiId: 'a1b2c3',
      stage: 'v1',
      method: 'GET',
      path: '/',
    });
  });

  it.each([
    '',
    'arn:aws:lambda:eu-west-1:123456789012:function:x',
    'arn:aws:execute-api:eu-west-1:123:a/b/GET/x',
  ])('refuses %j as our failure (500)', (arn) => {
    expect(() => parseMethodArn(arn)).toThrow(BadEventError);
  });

  it('scopes a stage-wide Allow to this API and stage only', () => {
    const arn = parseMethodArn('arn:aws:execute-api:eu-west-1:123456789012:abc/prod/GET/items/1');
    expect(stageResource(arn)).toBe('arn:aws:execute-api:eu-west-1:123456789012:abc/prod/*');
    expect(routeResource(arn, { method: '*', path: '/items/*' })).toBe(
      'arn:aws:execute-api:eu-west-1:123456789012:abc/prod/*/items/*',
    );
  });
});

describe('route authorization', () => {
  const routes = parseRoutePermissions({
    'GET /items': { scopes: ['Items.Read'] },
    'GET /items/*': { scopes: ['Items.Read'], roles: ['Items.Reader'] },
    '* /health': {},
  });
  const authorize = createRouteAuthorizer({ required: { scopes: [], roles: [] }, routePermissions: routes });

  const cases: [string, { scopes: string[]; roles: string[] }, string, string, boolean][] = [
    ['a scope grants its route', { scopes: ['Items.Read'], roles: [] }, 'GET', '/items', true],
    [
      'a role grants a route that lists it',
      { scopes: [], roles: ['Items.Reader'] },
      'GET',
      '/items/1/parts',
      true,
    ],
    [
      'a role does not grant a scope-only route',
      { scopes: [], roles: ['Items.Reader'] },
      'GET',
      '/items',
      false,
    ],
    ['an empty rule admits any valid token', { scopes: [], roles: ['x'] }, 'POST', '/health', true],
    ['the method must match', { scopes: ['Items.Read'], roles: [] }, 'POST', '/items', false],
    [
      'an exact path does not match a sub-path',
      { scopes: ['Items.Read'], roles: [] },
      'GET',
      '/items2',
      false,
    ],
    ['undeclared routes are refused', { scopes: ['Items.Read'], roles: [] }, 'GET', '/admin', false],
  ];
  it.each(cases)('%s', (_, grantee, method, path, allowed) => {
    expect(authorize(grantee, { method, path }).allowed).toBe(allowed);
  });

  it('requires one of the API-wide scopes or roles before any route', () => {
    const gate = createRouteAuthorizer({
      required: { scopes: ['api'], roles: ['Api.All'] },
      routePermissions: undefined,
    });
    expect(gate({ scopes: ['api'], roles: [] }, { method: 'GET', path: '/' })).toEqual({
      allowed: true,
      routes: 'stage',
    });
    expect(gate({ scopes: [], roles: ['Api.All'] }, { method: 'GET', path: '/' }).allowed).toBe(true);
    expect(gate({ scopes: ['other'], roles: [] }, { method: 'GET', path: '/' }).allowed).toBe(false);
  });

  it('treats regex characters in paths literally', () => {
    expect(compileRoutePath('/a.b/*').test('/a.b/c')).toBe(true);
    expect(compileRoutePath('/a.b/*').test('/axb/c')).toBe(false);
  });
});
