import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { API_ENV, loadApiConfig } from '../../lambda/authorizer/api-kind.js';
import { ENV_NAMES } from '../../lambda/authorizer/config.js';
import {
  createRouteKeyAuthorizer,
  isHttpRouteKey,
  parseRouteKeyPermissions,
} from '../../lambda/authorizer/route-keys.js';

/**
 * HTTP API route keys as docs/api-kinds.md and API Gateway write them: `$default`, or `METHOD /path` with
 * the method one of ANY, GET, POST, PUT, PATCH, DELETE, HEAD, OPTIONS in upper case, each path segment a
 * literal or a whole `{name}`, and the last one possibly a greedy `{name+}`.
 */
const METHODS = ['ANY', 'GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS'] as const;
const literal = fc.stringMatching(/^[A-Za-z0-9._~:@!$&'()+,;=%-]{1,8}$/);
const name = fc.stringMatching(/^[A-Za-z0-9._-]{1,8}$/);
const param = name.map((n) => `{${n}}`);
const greedy = name.map((n) => `{${n}+}`);
const segment = fc.oneof(literal, param);

/** A key built by the grammar above: valid by construction. */
const validKey = fc
  .tuple(
    fc.constantFrom(...METHODS),
    fc.array(segment, { maxLength: 4 }),
    fc.option(greedy, { nil: undefined }),
  )
  .map(([method, segments, last]) => {
    const all = last === undefined ? segments : [...segments, last];
    return { method, segments: all, key: `${method} /${all.join('/')}` };
  });

/** One way to break one segment of a valid key, each outside the grammar above. */
const breakSegment = fc.oneof(
  fc.tuple(literal, name).map(([x, n]) => `${x}{${n}}`),
  fc.tuple(literal, name).map(([x, n]) => `{${n}}${x}`),
  fc.tuple(literal, name).map(([x, n]) => `${x}{${n}+}`),
  fc.tuple(literal, name).map(([x, n]) => `{${n}+}${x}`),
  fc.tuple(literal, fc.constantFrom('*', '?', ' ', '{', '}', '\t')).map(([x, c]) => `${x}${c}`),
  fc.constant(''),
);

describe('isHttpRouteKey', () => {
  it('accepts every key the route key grammar writes', () => {
    // Oracle: the grammar of docs/api-kinds.md's route keys, written as generators (valid by construction)
    fc.assert(
      fc.property(validKey, ({ key }) => {
        expect(isHttpRouteKey(key)).toBe(true);
      }),
    );
    expect(isHttpRouteKey('$default')).toBe(true);
  });

  it('refuses a key with one segment broken, a greedy parameter not last, or a method not as written', () => {
    // Oracle: the grammar of docs/api-kinds.md's route keys; each change below leaves it
    fc.assert(
      fc.property(validKey, breakSegment, fc.nat(), greedy, ({ method, segments }, broken, at, g) => {
        // Inserted anywhere, the last place included (a lone empty segment would be the root, `/`).
        const i = at % (segments.length + 1);
        const withBroken = [...segments.slice(0, i), broken, ...segments.slice(i)];
        if (withBroken.length === 1 && broken === '') withBroken.push('x');
        expect(isHttpRouteKey(`${method} /${withBroken.join('/')}`)).toBe(false);
        // And last, where a greedy parameter may stand.
        const head = segments.filter((s) => !s.endsWith('+}'));
        if (broken !== '' || head.length > 0)
          expect(isHttpRouteKey(`${method} /${[...head, broken].join('/')}`)).toBe(false);
        expect(isHttpRouteKey(`${method} /${[g, ...segments, 'x'].join('/')}`)).toBe(false);
        const path = `/${segments.join('/')}`;
        expect(isHttpRouteKey(`${method.toLowerCase()} ${path}`)).toBe(false);
        expect(isHttpRouteKey(`${method}${path}`)).toBe(false);
        expect(isHttpRouteKey(` ${method} ${path}`)).toBe(false);
        expect(isHttpRouteKey(`${method} ${path.slice(1)}x`)).toBe(false);
      }),
    );
  });
});

describe('an HTTP API route table that is not one', () => {
  const KEY_RULE =
    'HTTP API route keys as declared on the API: "METHOD /path" with the method one of ANY, GET, POST, PUT, PATCH, DELETE, HEAD, OPTIONS (upper case), path parameters as {name} and a last {name+}, or "$default"';
  const OBJECT = 'a JSON object keyed by HTTP API route keys ("GET /items/{id}", "$default")';

  it.each([[[]], ['GET /items'], [null], [5], [true]])('%j is refused as a whole table', (table) => {
    expect(() => parseRouteKeyPermissions(table)).toThrow(new Error(`route permissions: expected ${OBJECT}`));
    const env = {
      [ENV_NAMES.tenantId]: '11111111-2222-4333-8444-555555555555',
      [ENV_NAMES.audiences]: 'api://orders',
      [API_ENV.kind]: 'http',
      [ENV_NAMES.routePermissions]: JSON.stringify(table),
    };
    expect(() => loadApiConfig(env)).toThrow(
      `${ENV_NAMES.routePermissions}: expected ${OBJECT}; got ${JSON.stringify(JSON.stringify(table))}`,
    );
  });

  it('names the key that is not a route key, and the rule that is not one', () => {
    expect(() => parseRouteKeyPermissions({ 'get /items': {} })).toThrow(
      new Error(`route permissions: expected ${KEY_RULE}; got key "get /items"`),
    );
    expect(() => parseRouteKeyPermissions({ 'GET /items': 5 })).toThrow(
      new Error(
        'route permissions: expected ["GET /items"] to be an object such as {"scopes": ["Items.Read"]}, or {}; got 5',
      ),
    );
  });
});

describe('the route key decision', () => {
  const required = { scopes: [], roles: [] };
  const reader = { scopes: ['Items.Read'], roles: [] };

  it('answers for the whole stage without a route table, for the route with one', () => {
    expect(createRouteKeyAuthorizer({ required, routeKeys: undefined })(reader, 'DELETE /x')).toEqual({
      allowed: true,
      detail: 'stage',
    });
    const routes = createRouteKeyAuthorizer({
      required,
      routeKeys: parseRouteKeyPermissions({ 'GET /items': { scopes: ['Items.Read'] } }),
    });
    expect(routes(reader, 'GET /items')).toEqual({ allowed: true, detail: 'route GET /items' });
  });

  it('refuses a route key the table does not name, naming it', () => {
    const routes = createRouteKeyAuthorizer({
      required,
      routeKeys: parseRouteKeyPermissions({ 'GET /items': { scopes: ['Items.Read'] } }),
    });
    expect(routes(reader, 'GET /other')).toEqual({
      allowed: false,
      reason: 'insufficient_permission',
      denial: { kind: 'no_route', request: 'route GET /other' },
      missing: 'route GET /other is not in the route permissions',
    });
  });
});
