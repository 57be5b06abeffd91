import { afterEach, describe, expect, it, vi } from 'vitest';
import { ENV_NAMES, loadConfig } from '../../lambda/authorizer/config.js';
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
  // Each of these took seconds with a regular expression (a 200-character path: 18 s for the first).
  const table = {
    'GET /*a*a*a*a*a*a*b': {},
    'GET /*/*/*/*/*/*/x': {},
    '* /*a*/*a*/*a*/*a*/*b': {},
    'POST /items/*/*/*/*/*/*/*/*/*/*/end': {},
  };
  const authorize = createRouteAuthorizer(
    loadConfig({
      [ENV_NAMES.tenantId]: TENANT,
      [ENV_NAMES.audiences]: CLIENT_ID,
      [ENV_NAMES.routePermissions]: JSON.stringify(table),
    }),
  );
  const paths = [
    `/${'a'.repeat(8000)}`,
    `/${'/'.repeat(8000)}`,
    `/${'a/'.repeat(4000)}`,
    `/items/${'/'.repeat(8000)}en`,
  ];

  it('is linear in the path, however many * a pattern has (8 KB paths, generous bound)', () => {
    for (const path of paths) {
      const elapsed = milliseconds(() => {
        for (let i = 0; i < 50; i++) {
          for (const method of ['GET', 'POST']) authorize({ scopes: ['s'], roles: [] }, { method, path });
        }
      });
      // 100 decisions over the whole table; a backtracking matcher takes far longer than this for one.
      expect(elapsed).toBeLessThan(500);
    }
    expect(
      authorize({ scopes: ['s'], roles: [] }, { method: 'GET', path: `/${'a'.repeat(8000)}b` }).allowed,
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
  // Thirteen {param} routes that each fix a different segment: a request may leave any subset of them
  // matching, so the requests the table tells apart number 2^13: the exploration's budget must bound them.
  const depth = 13;
  const table: Record<string, unknown> = {
    [`GET /${Array.from({ length: depth }, (_, j) => `{q${j}}`).join('/')}`]: { scopes: ['Reader'] },
  };
  for (let i = 0; i < depth; i++) {
    const segments = Array.from({ length: depth }, (_, j) => (j === i ? `x${i}` : `{p${j}}`));
    table[`GET /${segments.join('/')}`] = { roles: [`Role${i}`] };
  }
  const path = (fixed?: number) =>
    `/${Array.from({ length: depth }, (_, j) => (j === fixed ? `x${j}` : 'v')).join('/')}`;

  it('stops at its step budget, then denies every route a pattern may reach (generous bound)', () => {
    let authorize: ReturnType<typeof createRouteAuthorizer> | undefined;
    const elapsed = milliseconds(() => {
      authorize = createRouteAuthorizer(
        loadConfig({
          [ENV_NAMES.tenantId]: TENANT,
          [ENV_NAMES.audiences]: CLIENT_ID,
          [ENV_NAMES.routePermissions]: JSON.stringify(table),
        }),
      );
    });
    // About a second on a loaded machine; unbounded, this table takes far longer than the bound.
    expect(elapsed).toBeLessThan(30_000);
    const reader = { scopes: ['Reader'], roles: [], appId: 'a' };
    const granted = (authorize as NonNullable<typeof authorize>)(reader, { method: 'GET', path: path() });
    expect(granted.allowed).toBe(true);
    if (granted.allowed !== true || granted.routes === 'stage') throw new Error('expected a route Allow');
    // Every route the reader may not call is denied by its own resource, which the Allow also covers.
    expect(granted.denied.map((d) => `${d.method} ${d.path}`).sort()).toEqual(
      Array.from({ length: depth }, (_, i) => `GET ${path(i).replaceAll('v', '*')}`).sort(),
    );
    for (let i = 0; i < depth; i++) {
      expect(
        (authorize as NonNullable<typeof authorize>)(reader, { method: 'GET', path: path(i) }),
      ).toMatchObject({
        allowed: false,
      });
    }
  });
});
