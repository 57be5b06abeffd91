import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ENV_NAMES, loadConfig, parseRoutePermissions } from '../../lambda/authorizer/config.js';
import { ConfigError } from '../../lambda/authorizer/errors.js';

/*
 * The route table grammar of docs/configuration.md (AZURE_ROUTE_PERMISSIONS) and
 * docs/permissions-and-caching.md#route-permissions, on generated tables. The oracle below is written from
 * those pages alone, not from config.ts:
 * - the table is a JSON object; each key is "METHOD /path", one space apart and nothing after the path;
 *   the method is GET, POST, PUT, PATCH, DELETE, HEAD, OPTIONS, ANY or * (ANY and * are the same);
 * - a path starts with "/", has no "?" or "$", does not end in "/" (the root "/" aside), and is at most
 *   300 characters written as in the policy, each parameter as "*";
 * - a `{param}` (letters, digits, ".", "_", "-") is a whole segment, a greedy `{proxy+}` only the last;
 * - no `*` and no empty segment ("//", which no API Gateway resource has), but in the default key "* /*"
 *   (or "ANY /*");
 * - one key per method and resource (`{id}` and `{itemId}` name the same resource);
 * - a rule is an object with only scopes, roles and clientApps, each left out or a non-empty array:
 *   names without spaces, clientApps application (client) id GUIDs.
 * Accepted, the cold start reads each key as written (ANY as *, clientApps in lower case); refused, it fails
 * with a one-line ConfigError naming AZURE_ROUTE_PERMISSIONS.
 */

const TENANT = '72f988bf-86f1-41af-91ab-2d7cd011db47';
const base = { [ENV_NAMES.tenantId]: TENANT, [ENV_NAMES.audiences]: 'api://x' };

const METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS', 'ANY', '*'];
const MAX_PATH = 300;
const PARAM = /^\{[A-Za-z0-9._-]+\+?\}$/;
const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

type Key = { method: string; path: string; segments: string[] };

/** The key as the grammar reads it, or undefined when the grammar refuses it. */
function readKey(key: string): Key | undefined {
  const space = key.indexOf(' ');
  if (space < 0) return undefined;
  const method = key.slice(0, space);
  const path = key.slice(space + 1);
  if (!METHODS.includes(method) || !path.startsWith('/') || /\s/.test(path)) return undefined;
  if (path.includes('?') || path.includes('$')) return undefined;
  if (path !== '/' && path.endsWith('/')) return undefined;
  const segments = path === '/' ? [] : path.slice(1).split('/');
  const braced = segments.map((s) => s.includes('{') || s.includes('}'));
  if (segments.some((s, i) => braced[i] && !PARAM.test(s))) return undefined;
  if (segments.some((s, i) => i < segments.length - 1 && braced[i] && s.endsWith('+}'))) return undefined;
  const isDefault = path === '/*' && (method === '*' || method === 'ANY');
  if (!isDefault && (path.includes('*') || segments.includes(''))) return undefined;
  const written = segments.map((s, i) => (braced[i] ? '*' : s));
  if (`/${written.join('/')}`.length > MAX_PATH) return undefined;
  return { method: method === 'ANY' ? '*' : method, path, segments };
}

const isNames = (v: unknown) =>
  Array.isArray(v) && v.length > 0 && v.every((s) => typeof s === 'string' && s !== '' && !/\s/.test(s));
const isApps = (v: unknown) =>
  Array.isArray(v) && v.length > 0 && v.every((s) => typeof s === 'string' && GUID.test(s));
const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

function isRule(rule: unknown): boolean {
  if (!isObject(rule)) return false;
  if (Object.keys(rule).some((k) => !['scopes', 'roles', 'clientApps'].includes(k))) return false;
  return (
    (rule.scopes === undefined || isNames(rule.scopes)) &&
    (rule.roles === undefined || isNames(rule.roles)) &&
    (rule.clientApps === undefined || isApps(rule.clientApps))
  );
}

/** What the cold start must read from the table, or undefined when the grammar refuses it. */
function expectedRoutes(table: unknown): unknown[] | undefined {
  if (!isObject(table)) return undefined;
  const entries = Object.entries(table);
  const keys = entries.map(([key]) => readKey(key));
  if (keys.some((k) => k === undefined) || !entries.every(([, rule]) => isRule(rule))) return undefined;
  const read = keys as Key[];
  const resource = (k: Key) =>
    `${k.method} ${k.segments.map((s) => (PARAM.test(s) ? (s.endsWith('+}') ? '{+}' : '{}') : s)).join('/')}`;
  const resources = read.map(resource);
  if (new Set(resources).size !== resources.length) return undefined;
  return entries.map(([route, rule], i) => {
    const { scopes, roles, clientApps } = rule as Record<string, string[] | undefined>;
    return {
      route,
      method: read[i]?.method,
      path: read[i]?.path,
      scopes: scopes ?? [],
      roles: roles ?? [],
      ...(clientApps === undefined ? {} : { clientApps: clientApps.map((a) => a.toLowerCase()) }),
    };
  });
}

// Generators: mostly what the grammar allows, with each mistake it names now and then.
const rarely = <T>(usual: fc.Arbitrary<T>, odds: number, mistake: fc.Arbitrary<T>) =>
  fc.oneof({ weight: odds, arbitrary: usual }, { weight: 1, arbitrary: mistake });
const literal = fc.constantFrom('items', 'orders', 'a', 'v1', 'x.y', 'a-b', 'a_b', '~u', '%20');
const name = fc.stringMatching(/^[A-Za-z0-9._-]{1,6}$/);
const param = name.map((n) => `{${n}}`);
const greedy = name.map((n) => `{${n}+}`);
const glob = fc.constantFrom('*', 'a*', '*b', '**');
const badSegment = fc.oneof(
  fc.constantFrom('a{id}', '{id}b', '{}', '{+}', '{a+b}', '{id', 'id}', '{{id}}', '{a}{b}', '{é}', '{p+}'),
  fc.constantFrom('?', 'a?b', '$', '$' + '{aws:username}', 'a b', 'a\tb'), // a policy variable, ${...}
  fc.integer({ min: MAX_PATH - 6, max: MAX_PATH + 2 }).map((n) => 'x'.repeat(n)),
  greedy,
);
/** Segments of one form (a table's keys share it), now and then one of the other form or a mistake. */
const FORMS = {
  routes: { segment: fc.oneof({ weight: 2, arbitrary: literal }, param), last: greedy },
  globs: {
    segment: fc.oneof({ weight: 6, arbitrary: literal }, { weight: 3, arbitrary: glob }, fc.constant('')),
    last: glob,
  },
} as const;
const method = fc.oneof(
  { weight: 30, arbitrary: fc.constantFrom('GET', 'GET', 'GET', 'ANY', 'ANY', '*', ...METHODS) },
  { weight: 1, arbitrary: fc.constantFrom('TRACE', 'CONNECT', 'FETCH', 'GETS', '', 'GET,POST', '*GET') },
);
const key = ({ segment, last }: (typeof FORMS)[keyof typeof FORMS]) =>
  fc
    .tuple(
      method,
      rarely(fc.constant(' '), 60, fc.constantFrom('', '  ', '\t')),
      fc.array(
        fc.oneof({ weight: 40, arbitrary: segment }, FORMS.routes.segment, FORMS.globs.segment, {
          weight: 4,
          arbitrary: badSegment,
        }),
        { maxLength: 3 },
      ),
      fc.oneof(
        { weight: 3, arbitrary: fc.constant([]) },
        last.map((l) => [l]),
      ),
      rarely(fc.constant(''), 40, fc.constantFrom('/', ' extra', ' ', '\t')),
    )
    .map(([m, gap, segments, end, tail]) => `${m}${gap}/${[...segments, ...end].join('/')}${tail}`);

const goodName = fc.stringMatching(/^[A-Za-z][A-Za-z0-9._:-]{0,8}$/);
const badName = fc.constantFrom<unknown>('', ' ', '\t', '  ', 'Items Read', 'a\nb', 5, null, true, ['x'], {});
const names = rarely<unknown>(
  fc.array(goodName, { minLength: 1, maxLength: 3 }),
  40,
  fc.oneof(
    fc.array(fc.oneof(goodName, badName), { minLength: 1, maxLength: 3 }),
    fc.constantFrom<unknown>([], 'Items.Read', null, 5, {}),
  ),
);
const app = fc.uuid().chain((g) => fc.constantFrom(g, g.toUpperCase()));
const apps = rarely<unknown>(
  fc.array(app, { minLength: 1, maxLength: 3 }),
  30,
  fc.oneof(
    fc.array(fc.oneof(app, fc.constantFrom<unknown>('backoffice', '', 5, null, '{guid}')), {
      minLength: 1,
      maxLength: 3,
    }),
    fc.constantFrom<unknown>([], null, 0, {}),
    app,
  ),
);
const rule = rarely<unknown>(
  fc.record({ scopes: names, roles: names, clientApps: apps }, { requiredKeys: [] }),
  40,
  fc.oneof(
    fc.constantFrom<unknown>(null, [], ['Items.Read'], '', 'Items.Read', 0, 5, true, false),
    fc.record({ scopes: names, scope: names }),
  ),
);
/** A second key for a key's resource: its parameters renamed, or ANY written as * (and back). */
const twinOf = (route: string) =>
  name.map((n) =>
    route
      .replace(/^ANY /, '\0')
      .replace(/^\* /, 'ANY ')
      .replace('\0', '* ')
      .replace(/\{[^/{}+]*(\+?)\}/g, `{${n}$1}`),
  );
const table = fc
  .constantFrom(FORMS.routes, FORMS.globs)
  .chain((form) => fc.array(fc.tuple(key(form), rule), { minLength: 1, maxLength: 4 }))
  .chain((entries) =>
    rarely(
      fc.constant(entries),
      6,
      fc.tuple(twinOf(entries[0]?.[0] ?? ''), rule).map((twin) => [...entries, twin]),
    ),
  )
  .map((entries) => Object.fromEntries(entries));

function outcome(run: () => unknown): unknown {
  try {
    return run();
  } catch (err) {
    return err;
  }
}

const coldStart = (routes: unknown) =>
  outcome(
    () => loadConfig({ ...base, [ENV_NAMES.routePermissions]: JSON.stringify(routes) }).routePermissions,
  );

function expectRefused(routes: unknown): void {
  const error = coldStart(routes);
  expect(error).toBeInstanceOf(ConfigError);
  expect((error as ConfigError).variable).toBe(ENV_NAMES.routePermissions);
  expect((error as Error).message).toMatch(/^AZURE_ROUTE_PERMISSIONS: expected [^\n]+; got [^\n]+$/);
  // Without an errorOf of its own, a plain one-line Error (toThrow(regex) would also pass `throw undefined`).
  const plain = outcome(() => parseRoutePermissions(routes));
  expect(plain).toBeInstanceOf(Error);
  expect(plain).not.toBeInstanceOf(ConfigError);
  expect((plain as Error).message).toMatch(/^route permissions: expected [^\n]+$/);
}

describe('AZURE_ROUTE_PERMISSIONS takes exactly the route tables its grammar allows', () => {
  it('reads an allowed table key by key, and refuses any other with a ConfigError naming it', () => {
    let accepted = 0;
    // Oracle: expectedRoutes, the grammar of docs/configuration.md written out above, not config.ts.
    fc.assert(
      fc.property(table, (routes) => {
        const expected = expectedRoutes(routes);
        if (expected === undefined) {
          expectRefused(routes);
        } else {
          accepted++;
          expect(coldStart(routes)).toEqual(expected);
        }
      }),
      { numRuns: 1000 },
    );
    // Both sides of the grammar are exercised, not one.
    expect(accepted).toBeGreaterThan(200);
    expect(accepted).toBeLessThan(900);
  });

  it('refuses a table that is not a JSON object', () => {
    // Oracle: the docs' "a JSON object" (an array, string, number, boolean or null is none).
    fc.assert(
      fc.property(
        fc.oneof(
          fc.string(),
          fc.double({ noNaN: true, noDefaultInfinity: true }),
          fc.boolean(),
          fc.constant(null),
          fc.array(fc.jsonValue(), { maxLength: 3 }),
        ),
        (routes) => {
          expect(expectedRoutes(routes)).toBeUndefined();
          expectRefused(routes);
        },
      ),
    );
  });
});
