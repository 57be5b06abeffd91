import { describe, expect, it } from 'vitest';
import { parseRoutePermissions } from '../../lambda/authorizer/config.js';
import { BadEventError } from '../../lambda/authorizer/errors.js';
import { createRouteAuthorizer, matchesPolicyPath } from '../../lambda/authorizer/permissions.js';
import {
  parseMethodArn,
  requestResource,
  routeResources,
  stageResource,
} from '../../lambda/authorizer/policy.js';

/** An IAM policy variable, `${aws:username}` once written into a policy. */
const POLICY_VARIABLE = ['$', '{aws:username}'].join('');

describe('parseMethodArn', () => {
  it('splits an execute-api method ARN, including other partitions and the root path', () => {
    const arn = 'arn:aws-us-gov:execute-api:us-gov-west-1:123456789012:a1b2c3/v1/GET/';
    expect(parseMethodArn(arn)).toEqual({
      partition: 'aws-us-gov',
      region: 'us-gov-west-1',
      accountId: '123456789012',
      apiId: 'a1b2c3',
      stage: 'v1',
      method: 'GET',
      path: '/',
      arn,
    });
  });

  // What each emulator puts where AWS puts ids, from their sources: serverless-offline
  // (src/events/http/createAuthScheme.js), SAM CLI (LocalApigwService._create_method_arn), LocalStack
  // (default account 000000000000, API ids random or set with the _custom_id_ tag).
  const emulators: [string, string, Partial<ReturnType<typeof parseMethodArn>>][] = [
    [
      'serverless-offline',
      'arn:aws:execute-api:us-east-1:random-account-id:random-api-id/dev/GET/items/42',
      { accountId: 'random-account-id', apiId: 'random-api-id', stage: 'dev', path: '/items/42' },
    ],
    [
      'serverless-offline without a region',
      'arn:aws:execute-api:undefined:random-account-id:random-api-id/undefined/POST/items',
      { region: 'undefined', stage: 'undefined', method: 'POST', path: '/items' },
    ],
    [
      'serverless-offline at the stage root (no path at all)',
      'arn:aws:execute-api:eu-west-1:random-account-id:random-api-id/dev/GET',
      { method: 'GET', path: '/' },
    ],
    [
      'SAM CLI',
      'arn:aws:execute-api:us-east-1:123456789012:1234567890/Prod/GET/whoami',
      { accountId: '123456789012', apiId: '1234567890', stage: 'Prod', path: '/whoami' },
    ],
    [
      'SAM CLI without a stage name',
      'arn:aws:execute-api:us-east-1:123456789012:1234567890/None/DELETE/items/1',
      { stage: 'None', method: 'DELETE' },
    ],
    [
      'LocalStack',
      'arn:aws:execute-api:us-east-1:000000000000:a1b2c3d4e5/local/GET/whoami',
      { accountId: '000000000000', apiId: 'a1b2c3d4e5', stage: 'local' },
    ],
    [
      'LocalStack with a custom API id',
      'arn:aws:execute-api:eu-central-1:000000000000:my-api_v2/dev_stage/PATCH/items/a:b',
      { apiId: 'my-api_v2', stage: 'dev_stage', path: '/items/a:b' },
    ],
  ];
  it.each(emulators)('accepts the method ARN %s sends and echoes its prefix as given', (_, arn, parts) => {
    const parsed = parseMethodArn(arn);
    expect(parsed).toMatchObject({ ...parts, arn });
    const prefix = arn.slice(0, arn.indexOf('/', arn.indexOf('/') + 1));
    expect(stageResource(parsed)).toBe(`${prefix}/*`);
    expect(routeResources(parsed, { method: 'GET', path: '/items' })).toEqual([`${prefix}/GET/items`]);
    expect(requestResource(parsed)).toBe(arn);
  });

  it.each([
    '',
    'arn:aws:lambda:eu-west-1:123456789012:function:x',
    'arn:aws:execute-api:eu-west-1:123456789012:abc/prod',
    'arn:aws:execute-api:eu-west-1::abc/prod/GET/x',
    'arn:aws:execute-api:eu-west-1:123456789012:/prod/GET/x',
    'arn:aws:execute-api:eu-west-1:123456789012:abc//GET/x',
    'arn:aws:execute-api:eu-west-1:123456789012:abc/prod//x',
    'arn:aws:execute-api:eu:west:123456789012:abc/prod/GET/x',
    'arn:aws:execute-api:eu-west-1:123/456:abc/prod/GET/x',
    'arn:aws:execute-api:eu-west-1:123456789012:*/prod/GET/x',
    'arn:aws:execute-api:eu-west-1:123456789012:abc/*/GET/x',
    'arn:aws:execute-api:eu-west-1:123456789012:abc/pr?d/GET/x',
    `arn:aws:execute-api:eu-west-1:123456789012:abc/${POLICY_VARIABLE}/GET/x`,
    'arn:aws:execute-api:eu-west-1:123456789012:abc/prod/*/x',
  ])('refuses %j as our failure (500)', (arn) => {
    expect(() => parseMethodArn(arn)).toThrow(BadEventError);
  });

  it.each([undefined, null, 42, {}])('refuses a methodArn of %j', (arn) => {
    expect(() => parseMethodArn(arn)).toThrow(BadEventError);
  });

  it('scopes a stage-wide Allow to this API and stage only, and lists every method for a route with *', () => {
    const arn = parseMethodArn('arn:aws:execute-api:eu-west-1:123456789012:abc/prod/GET/items/1');
    expect(stageResource(arn)).toBe('arn:aws:execute-api:eu-west-1:123456789012:abc/prod/*');
    expect(routeResources(arn, { method: '*', path: '/items/*' })).toEqual(
      // API Gateway's REST methods (ANY arrives as the request's own): one resource each.
      ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS'].map(
        (m) => `arn:aws:execute-api:eu-west-1:123456789012:abc/prod/${m}/items/*`,
      ),
    );
  });

  it('names no request resource for a path IAM would read as a pattern', () => {
    const base = 'arn:aws:execute-api:eu-west-1:123456789012:abc/prod/GET';
    expect(requestResource(parseMethodArn(`${base}/items/1`))).toBe(`${base}/items/1`);
    for (const path of ['/items/*', '/a?b', '/$x', `/${POLICY_VARIABLE}`])
      expect(requestResource(parseMethodArn(`${base}${path}`))).toBeUndefined();
  });
});

describe('route authorization', () => {
  const routes = parseRoutePermissions({
    'GET /items': { scopes: ['Items.Read'] },
    'GET /items/{proxy+}': { scopes: ['Items.Read'], roles: ['Items.Reader'] },
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
    expect(matchesPolicyPath('/a.b/*', '/a.b/c')).toBe(true);
    expect(matchesPolicyPath('/a.b/*', '/axb/c')).toBe(false);
  });

  it('never lets the text before a * and the text after it share characters', () => {
    // `/ab*b` needs "/ab", then anything, then "b": "/ab" has its "b" only once.
    expect(matchesPolicyPath('/ab*b', '/ab')).toBe(false);
    expect(matchesPolicyPath('/ab*b', '/abb')).toBe(true);
    expect(matchesPolicyPath('/a*a*a', '/aa')).toBe(false);
    expect(matchesPolicyPath('/a*a*a', '/aaa')).toBe(true);
  });

  describe('guests and groups (docs/permissions-and-caching.md)', () => {
    const READERS = '0b1e6e6c-2f4e-4b8a-9d55-3c1a1f0b2a11';
    const WRITERS = '5c7a0d3e-9b1f-4e2c-8a6d-4f2b3c1d0e22';
    const request = { method: 'GET', path: '/reports' };
    const member = { scopes: ['read'], roles: [] };

    it('refuses a guest only where guests are refused, before any route', () => {
      const table = { 'GET /reports': { scopes: ['read'] } };
      const refusing = createRouteAuthorizer({
        required: { scopes: [], roles: [] },
        routePermissions: parseRoutePermissions(table),
        unlistedMethods: [],
        guestUsers: 'refuse',
      });
      const allowing = createRouteAuthorizer({
        required: { scopes: [], roles: [] },
        routePermissions: parseRoutePermissions(table),
        unlistedMethods: [],
        guestUsers: 'allow',
      });
      expect(refusing({ ...member, guest: true }, request)).toMatchObject({
        allowed: false,
        reason: 'guest_not_allowed',
      });
      expect(refusing({ ...member, guest: false }, request).allowed).toBe(true);
      expect(refusing(member, request).allowed).toBe(true);
      expect(allowing({ ...member, guest: true }, request).allowed).toBe(true);
    });

    it("admits a caller in any one of a rule's groups, refuses one in none, and tells overage apart", () => {
      const gate = createRouteAuthorizer({
        required: { scopes: [], roles: [] },
        routePermissions: parseRoutePermissions({
          'GET /reports': { scopes: ['read'], groups: [READERS, WRITERS] },
        }),
        unlistedMethods: [],
      });
      expect(gate({ ...member, groups: [WRITERS] }, request).allowed).toBe(true);
      expect(gate({ ...member, groups: ['9f9f9f9f-0000-4000-8000-000000000000'] }, request)).toMatchObject({
        allowed: false,
        reason: 'insufficient_permission',
        denial: { kind: 'route_rule', route: 'GET /reports' },
      });
      expect(gate({ ...member, groupsOverage: true }, request)).toMatchObject({
        allowed: false,
        reason: 'groups_overage',
        denial: { kind: 'route_groups_overage', route: 'GET /reports', needs: [READERS, WRITERS] },
      });
      // Overage is the answer only when the group is all the rule lacks.
      expect(gate({ scopes: ['other'], roles: [], groupsOverage: true }, request)).toMatchObject({
        allowed: false,
        denial: { kind: 'route_rule' },
      });
    });

    it('holds the API-wide groups on every route, overage named with the groups it needs', () => {
      const gate = createRouteAuthorizer({
        required: { scopes: [], roles: [], groups: [READERS] },
        routePermissions: undefined,
      });
      expect(gate({ ...member, groups: [READERS] }, request)).toEqual({ allowed: true, routes: 'stage' });
      expect(gate({ ...member, groupsOverage: true }, request)).toMatchObject({
        allowed: false,
        reason: 'groups_overage',
        denial: { kind: 'api_groups_overage', needs: [READERS] },
      });
      expect(gate({ ...member, groups: [WRITERS] }, request)).toMatchObject({
        allowed: false,
        denial: { kind: 'api_rule', needs: { groups: [READERS] } },
      });
    });
  });

  it('refuses a guarded method no key names as unlisted, and a request no route serves as no_route', () => {
    const gate = createRouteAuthorizer({
      required: { scopes: [], roles: [] },
      routePermissions: parseRoutePermissions({ 'GET /items/{id}': { scopes: ['read'] } }),
      unlistedMethods: parseRoutePermissions({ 'GET /items/secret': {} }),
    });
    const reader = { scopes: ['read'], roles: [] };
    expect(gate(reader, { method: 'GET', path: '/items/secret' })).toMatchObject({
      allowed: false,
      denial: { kind: 'unlisted', route: 'GET /items/secret' },
    });
    expect(gate(reader, { method: 'POST', path: '/items/1' })).toMatchObject({
      allowed: false,
      denial: { kind: 'no_route' },
    });
  });
});
