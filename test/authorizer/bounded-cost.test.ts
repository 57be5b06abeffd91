import { afterEach, describe, expect, it, vi } from 'vitest';
import { ENV_NAMES, loadConfig, UNLISTED_METHODS_ENV } from '../../lambda/authorizer/config.js';
import { isGraphAudience } from '../../lambda/authorizer/microsoft-apis.js';
import { createRouteAuthorizer } from '../../lambda/authorizer/permissions.js';
import { coldStartHandler } from '../helpers/cold-start.js';
import { KeyServer } from '../helpers/key-server.js';
import {
  CLIENT_ID,
  claims,
  event,
  header,
  publishedKeySet,
  signed,
  TENANT,
  testKeys,
} from '../helpers/setup.js';

const METHOD_ARN = 'arn:aws:execute-api:eu-west-1:123456789012:abc123def4/prod/GET/whoami';
const milliseconds = (run: () => void) => {
  const started = performance.now();
  run();
  return performance.now() - started;
};

describe('route matching', () => {
  const table = {
    [`GET /${Array.from({ length: 40 }, () => '{p}').join('/')}`]: {},
    'GET /{proxy+}': {},
    '* /items/{id}/{proxy+}': {},
    'POST /items/{a}/{b}/{c}/{d}/{e}/{f}/{g}/{h}/{i}/{j}/end': {},
  };
  const authorize = createRouteAuthorizer(
    loadConfig({
      [ENV_NAMES.tenantId]: TENANT,
      [ENV_NAMES.audiences]: CLIENT_ID,
      [ENV_NAMES.routePermissions]: JSON.stringify(table),
      [UNLISTED_METHODS_ENV]: '[]',
    }),
  );
  const paths = [
    `/${'a'.repeat(8000)}`,
    `/${'/'.repeat(8000)}`,
    `/${'a/'.repeat(4000)}`,
    `/items/${'/'.repeat(8000)}en`,
  ];

  it('is linear in the path, whatever the table (8 KB paths, generous bound)', () => {
    for (const path of paths) {
      const elapsed = milliseconds(() => {
        for (let i = 0; i < 50; i++) {
          for (const method of ['GET', 'POST']) authorize({ scopes: ['s'], roles: [] }, { method, path });
        }
      });
      expect(elapsed).toBeLessThan(500);
    }
    expect(
      authorize({ scopes: ['s'], roles: [] }, { method: 'GET', path: `/items/1/${'a/'.repeat(4000)}b` })
        .allowed,
    ).toBe(true);
  });
});

describe('the audience rule', () => {
  it('names a wrong audience in linear time, whatever the aud (16 KB of slashes, generous bound)', () => {
    for (const aud of [`${'/'.repeat(11_400)}x`, `https://graph.microsoft.com${'/'.repeat(11_400)}`]) {
      let result: boolean | undefined;
      // A regular expression took 100 ms for one such aud, a forged token that needs no key.
      const elapsed = milliseconds(() => {
        for (let i = 0; i < 20; i++) result = isGraphAudience(aud);
      });
      expect(elapsed).toBeLessThan(200);
      expect(result).toBe(aud.startsWith('https://graph.microsoft.com'));
    }
  });
});

describe('the log lines of the real handler module, whatever the input', () => {
  const server = KeyServer.forSuite(publishedKeySet);
  afterEach(() => {
    vi.useRealTimers();
    vi.unstubAllEnvs();
    vi.restoreAllMocks();
  });
  const secretUri = () =>
    server.url.replace('http://', 'http://keyuser:s3cr3t-pass@').concat('?code=t0ps3cret');
  const env = (jwksUri: string) => ({
    [ENV_NAMES.tenantId]: TENANT,
    [ENV_NAMES.audiences]: CLIENT_ID,
    [ENV_NAMES.jwksUri]: jwksUri,
    POWERTOOLS_LOG_LEVEL: 'INFO',
    POWERTOOLS_METRICS_DISABLED: 'false',
  });

  const long = 'x'.repeat(11_000);
  const requests: [string, string, string][] = [
    ['a 15 KB token with a huge aud', `Bearer ${signed(header(), { ...claims(), aud: long })}`, METHOD_ARN],
    [
      'a huge aud array',
      `Bearer ${signed(header(), { ...claims(), aud: Array(1500).fill('api://x') })}`,
      METHOD_ARN,
    ],
    ['a huge kid', `Bearer ${signed(header({ kid: long }), claims())}`, METHOD_ARN],
    ['a huge iss', `Bearer ${signed(header(), { ...claims(), iss: `https://${long}/` })}`, METHOD_ARN],
    [
      'a valid token with a huge oid and azp',
      `Bearer ${signed(header(), { ...claims(), oid: long.slice(0, 5000), azp: long.slice(0, 5000) })}`,
      METHOD_ARN,
    ],
    [
      'a valid token on a huge path',
      `Bearer ${signed(header(), claims())}`,
      `${METHOD_ARN}/${'y'.repeat(9000)}`,
    ],
    [
      'an unknown kid (a refetch)',
      `Bearer ${signed(header({ kid: 'k'.repeat(128) }), claims())}`,
      METHOD_ARN,
    ],
    ['an app-only token without roles', `Bearer ${signed(header(), claims({ appOnly: true }))}`, METHOD_ARN],
  ];

  it('keeps every log line under 4 KiB and the key URL credentials out of it', async () => {
    // Each key fetch (the cold start's, the unknown kid's refetch) has a 2 s budget of wall time: a worker
    // stalled that long on a loaded machine turns the refetch's 401 into a 500 (keys_unavailable). This test
    // judges log lines, not time, so the budget's timer is fake and never fires; key-fetcher.test.ts holds it.
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    const { handler, lines, restore } = await coldStartHandler(env(secretUri()));
    const answers: string[] = [];
    for (const [, authorization, methodArn] of requests) {
      answers.push(
        await handler(event(authorization, methodArn)).then(
          (r) => r.policyDocument.Statement.map((s) => s.Effect).join('+'),
          (err: Error) => err.message,
        ),
      );
    }
    restore();
    expect(answers).toEqual([
      'Unauthorized',
      'Unauthorized',
      'Unauthorized',
      'Unauthorized',
      'Allow',
      'Allow',
      'Unauthorized',
      'Deny',
    ]);
    const all = lines
      .join('')
      .split('\n')
      .filter((l) => l !== '');
    const longest = Math.max(...all.map((l) => l.length));
    expect(longest).toBeLessThan(4096);
    const text = all.join('\n');
    expect(text).not.toContain('s3cr3t');
    expect(text).not.toContain('keyuser');
    expect(text).not.toContain('t0ps3cret');
    expect(text).toContain('http://***@127.0.0.1:');
  });

  it('redacts the key URL in failed fetches, their errors and the keys_unavailable hint', async () => {
    const down = await KeyServer.start();
    down.mode = 'status-503';
    const uri = down.url.replace('http://', 'http://keyuser:s3cr3t-pass@').concat('?code=t0ps3cret');
    try {
      const { handler, lines, restore } = await coldStartHandler(env(uri));
      await handler(event(`Bearer ${signed(header(), claims())}`)).catch(() => {});
      await handler(event(`Bearer ${signed(header({ kid: 'other' }), claims(), testKeys().second)}`)).catch(
        () => {},
      );
      restore();
      const text = lines.join('');
      expect(text).toContain('signing key fetch failed');
      expect(text).toMatch(
        /"hint":"the key set at http:\/\/\*\*\*@127\.0\.0\.1:\d+\/tenant\/discovery\/v2\.0\/keys\?\*\*\* could not be fetched/,
      );
      expect(text).not.toContain('s3cr3t');
      expect(text).not.toContain('keyuser');
      expect(text).not.toContain('t0ps3cret');
    } finally {
      await down.stop();
    }
  });
});

describe('building the route table', () => {
  const build = (table: Record<string, unknown>) =>
    createRouteAuthorizer(
      loadConfig({
        [ENV_NAMES.tenantId]: TENANT,
        [ENV_NAMES.audiences]: CLIENT_ID,
        [ENV_NAMES.routePermissions]: JSON.stringify(table),
        [UNLISTED_METHODS_ENV]: '[]',
      }),
    );
  const params = (n: number) => Array.from({ length: n }, () => '{p}').join('/');

  it('plans two GET keys of 150 {p} segments each, and keeps the cached policy of one off the other', () => {
    // Each took 17-29 s of cold start with the exploration of every request the table tells apart.
    const authorize = build({
      [`GET /${params(150)}`]: { roles: ['Reader'] },
      [`GET /${params(149)}/x`]: { roles: ['Writer'] },
    });
    const reader = { scopes: [], roles: ['Reader'], appId: 'a' };
    const path = (last: string) => `/${Array.from({ length: 149 }, () => 'v').join('/')}/${last}`;
    const granted = authorize(reader, { method: 'GET', path: path('v') });
    if (granted.allowed !== true || granted.routes === 'stage') throw new Error('expected a route Allow');
    // The Allow GET/*/.../* also admits the path the second key serves: it is denied by that key's own path.
    expect(granted.denied).toEqual([{ method: 'GET', path: `/${Array(149).fill('*').join('/')}/x` }]);
    expect(authorize(reader, { method: 'GET', path: path('x') })).toMatchObject({ allowed: false });
  });

  it('refuses at cold start a table past what can be planned in time, naming the key', () => {
    const table: Record<string, unknown> = {};
    for (let i = 0; i < 16; i++) {
      table[`GET /${Array.from({ length: 140 }, (_, j) => (j === i ? 'x' : '{p}')).join('/')}`] = {};
    }
    expect(() => build(table)).toThrow(
      /AZURE_ROUTE_PERMISSIONS: expected a table whose cached-policy Denies can be planned at cold start .*got "GET \/x\/\{p\}/,
    );
  });

  it('counts the planning work as pairs of path positions compared, per route sharing a method', () => {
    const table: Record<string, unknown> = { 'GET /lit': {}, 'POST /other': {} };
    for (let i = 0; i < 16; i++) {
      table[`GET /${Array.from({ length: 140 }, (_, j) => (j === i ? 'x' : '{p}')).join('/')}`] = {};
    }
    // A path of n segments has 2n + 1 positions; each ordered pair of routes sharing a method is compared
    // twice (what the Allow reaches, what outranks it), three times when a {param} may take more segments.
    // POST /other shares no method with the rest.
    const long = 2 * 140 + 1;
    const lit = 2 * 1 + 1;
    const perLong = 15 * long * long * 3 + long * lit * 3;
    const perLit = 16 * lit * long * 2;
    expect(() => build(table)).toThrow(`it takes ${16 * perLong + perLit}, this key ${perLong})`);
  });
});
