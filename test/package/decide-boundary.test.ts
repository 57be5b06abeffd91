import { execFile } from 'node:child_process';
import { copyFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { build } from 'esbuild';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { AUTHORIZER_ENTRY, AUTHORIZER_LAZY_MODULES } from '../../infra/construct/authorizer-function.js';
import {
  bundleFileName,
  lazyEsbuildOptions,
  NODE22_BUNDLING,
} from '../../infra/construct/lambda-defaults.js';
import { createSigningKey } from '../../infra/local/mint.js';
import { ENV_NAMES, UNLISTED_METHODS_ENV } from '../../lambda/authorizer/config.js';
import { DEPLOYED_NODE_MAJOR, ensureDeployedNode } from '../../scripts/node22.js';
import { coldStartHandler } from '../helpers/cold-start.js';
import { KeyServer } from '../helpers/key-server.js';
import { CLIENT_ID, event, OTHER_TENANT, publishedKeySet, TENANT, token } from '../helpers/setup.js';

/**
 * index.js (configuration, telemetry, the cold start's key fetch) and decide.js (key caches, verifier, route
 * rules) are bundled apart, each with its own copy of what it imports, so an error class thrown on one side
 * and told apart by `instanceof` on the other would silently become another answer. Each failure class is
 * decided here by the shipped bundle on Node.js 22 and by the source (what vitest, `npm start` and `explain`
 * load), and both must give the documented status and reason.
 */

const ROOT = join(import.meta.dirname, '..', '..');
const FILE = bundleFileName(NODE22_BUNDLING);

/**
 * Decides EVENTS as Lambda's runtime would (`require` of index.js) and prints the answers once `ready` has
 * settled: in turn, or with CONCURRENT all at once, in the tick of the `require` (before its setImmediate ran).
 */
const RUNNER = `const { handler, ready } = require(process.env.BUNDLE);
const answerOf = (event) => handler(event).then((r) => r.policyDocument.Statement[0].Effect, (e) => 'threw ' + e.message);
(async () => {
  const events = JSON.parse(process.env.EVENTS);
  const answers = process.env.CONCURRENT === 'true' ? await Promise.all(events.map(answerOf)) : [];
  if (process.env.CONCURRENT !== 'true') for (const event of events) answers.push(await answerOf(event));
  await ready;
  console.log(JSON.stringify({ answers }));
})();`;

/** API Gateway's status for an authorizer's answer: a policy's effect, 401 for Unauthorized, else 500. */
function statusOf(answer: string): number {
  if (answer === 'Allow') return 200;
  if (answer === 'Deny') return 403;
  return answer === 'threw Unauthorized' ? 401 : 500;
}

/**
 * The status of each answer with the reason of its decision line, in order; and the HTTP status each failed
 * key fetch logged.
 */
function verdicts(answers: string[], output: string) {
  const lines = output
    .split('\n')
    .filter((line) => line.startsWith('{"level"'))
    .map(
      (line) => JSON.parse(line) as { message: string; reason?: string; status?: number; detail?: string },
    );
  const decisionLines = lines.filter((l) => l.message === 'authorizer decision');
  const reasons = decisionLines.map((l) => l.reason);
  return {
    decisions: answers.map((answer, i) => ({ status: statusOf(answer), reason: reasons[i] })),
    fetchFailures: lines.filter((l) => l.message === 'signing key fetch failed').map((l) => l.status),
    decisionLines,
    output,
  };
}

const key = createSigningKey({ kid: 'main-key' });
const server = KeyServer.forSuite(publishedKeySet);
let node: string;
let dir: string;

beforeAll(async () => {
  node = ensureDeployedNode();
  dir = mkdtempSync(join(tmpdir(), 'decide-boundary-'));
  await Promise.all(
    lazyEsbuildOptions(NODE22_BUNDLING, join(ROOT, AUTHORIZER_ENTRY), AUTHORIZER_LAZY_MODULES, dir).map(
      (options) => build({ ...options, absWorkingDir: ROOT, logLevel: 'silent' }),
    ),
  );
}, 180_000);

afterAll(() => {
  if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
});

afterEach(() => {
  vi.unstubAllEnvs();
  vi.restoreAllMocks();
});

/** A copy of the shipped folder (index.js and its lazily loaded files) without the file `missing`. */
function bundleWithout(missing: string): string {
  const copy = mkdtempSync(join(tmpdir(), 'decide-boundary-'));
  for (const file of [FILE, ...AUTHORIZER_LAZY_MODULES.map((name) => `${name}.js`)]) {
    if (file !== missing) copyFileSync(join(dir, file), join(copy, file));
  }
  return copy;
}

/** The shipped bundle in `bundleDir`, on Node.js 22, deciding `events` in one cold-started process. */
async function shipped(
  bundleDir: string,
  env: Record<string, string>,
  events: unknown[],
  concurrent = false,
) {
  const { stdout, stderr } = await promisify(execFile)(node, ['-e', RUNNER], {
    cwd: bundleDir,
    env: {
      PATH: process.env.PATH,
      BUNDLE: join(bundleDir, FILE),
      EVENTS: JSON.stringify(events),
      CONCURRENT: String(concurrent),
      POWERTOOLS_LOG_LEVEL: 'INFO',
      POWERTOOLS_METRICS_DISABLED: 'true',
      ...env,
    },
  });
  const last = stdout
    .trim()
    .split('\n')
    .findLast((line) => line.startsWith('{"answers":'));
  return verdicts((JSON.parse(last as string) as { answers: string[] }).answers, stdout + stderr);
}

/** The source's handler (handler.ts and decide.ts as vitest imports them), deciding the same events. */
async function source(env: Record<string, string>, events: unknown[]) {
  const cold = await coldStartHandler({ POWERTOOLS_LOG_LEVEL: 'INFO', ...env });
  const answers: string[] = [];
  for (const e of events) {
    answers.push(
      await (
        cold.handler as (e: unknown) => Promise<{ policyDocument: { Statement: { Effect: string }[] } }>
      )(e).then(
        (r) => r.policyDocument.Statement[0]?.Effect ?? 'none',
        (err: Error) => `threw ${err.message}`,
      ),
    );
  }
  cold.restore();
  return verdicts(answers, cold.lines.join(''));
}

describe(`decide.js, bundled apart from index.js, on Node.js ${DEPLOYED_NODE_MAJOR}`, () => {
  const single = () => ({
    [ENV_NAMES.tenantId]: TENANT,
    [ENV_NAMES.audiences]: CLIENT_ID,
    [ENV_NAMES.jwksUri]: server.url,
    [ENV_NAMES.requiredScopes]: 'access_as_user',
  });

  it('answers each failure class with the status and reason the source gives', async () => {
    const nowSeconds = Math.floor(Date.now() / 1000);
    const cases = [
      { token: token({ scopes: ['access_as_user'] }), expected: { status: 200, reason: 'allowed' } },
      {
        token: token({ scopes: ['access_as_user'] }, createSigningKey({ kid: 'made-up-kid' })),
        expected: { status: 401, reason: 'unknown_key' },
      },
      {
        token: token({ scopes: ['access_as_user'] }, key),
        expected: { status: 401, reason: 'bad_signature' },
      },
      {
        token: token({ scopes: ['access_as_user'], nowSeconds: nowSeconds - 7200, expiresInSeconds: 3600 }),
        expected: { status: 401, reason: 'expired' },
      },
      {
        token: token({ scopes: ['other.scope'] }),
        expected: { status: 403, reason: 'insufficient_permission' },
      },
      { token: token({ tenantId: OTHER_TENANT }), expected: { status: 401, reason: 'tenant_not_allowed' } },
    ];
    const events = cases.map((c) => event(`Bearer ${c.token}`));
    const expected = cases.map((c) => c.expected);
    expect((await shipped(dir, single(), events)).decisions).toEqual(expected);
    expect((await source(single(), events)).decisions).toEqual(expected);
  });

  it('refuses a tenant not on a multi-tenant list the same way', async () => {
    const env = { ...single(), [ENV_NAMES.tenantId]: 'organizations', [ENV_NAMES.allowedTenants]: TENANT };
    const events = [
      event(`Bearer ${token({ scopes: ['access_as_user'] })}`),
      event(`Bearer ${token({ tenantId: OTHER_TENANT, scopes: ['access_as_user'] })}`),
    ];
    const expected = [
      { status: 200, reason: 'allowed' },
      { status: 401, reason: 'tenant_not_allowed' },
    ];
    expect((await shipped(dir, env, events)).decisions).toEqual(expected);
    expect((await source(env, events)).decisions).toEqual(expected);
  });

  it("finds a kid in the token's tenant's own key set, and a kid in neither set is the token's 401, the same way", async () => {
    const tenantKey = createSigningKey({ kid: 'tenant-only-key' });
    const env = {
      ...single(),
      [ENV_NAMES.tenantId]: 'organizations',
      [ENV_NAMES.allowedTenants]: TENANT,
      [ENV_NAMES.jwksUri]: server.urlOf('organizations'),
    };
    const events = [
      event(`Bearer ${token({ scopes: ['access_as_user'] }, tenantKey)}`),
      event(`Bearer ${token({ scopes: ['access_as_user'] }, createSigningKey({ kid: 'made-up-kid' }))}`),
    ];
    const expected = [
      { status: 200, reason: 'allowed' },
      { status: 401, reason: 'unknown_key' },
    ];
    server.tenantSets.set(TENANT, { keys: [...publishedKeySet().keys, tenantKey.publicJwk] });
    try {
      const before = server.paths.length;
      expect((await shipped(dir, env, events)).decisions).toEqual(expected);
      // The cold start's fetch serves the configured set only, once; the tenant's set is a fetch of its own.
      expect(server.paths.slice(before)).toEqual([
        new URL(server.urlOf('organizations')).pathname,
        new URL(server.urlOf(TENANT)).pathname,
      ]);
      expect((await source(env, events)).decisions).toEqual(expected);
    } finally {
      server.tenantSets.clear();
    }
  });

  it('answers 500 keys_unavailable when the key set cannot be had (its fetch fails in index.js, is judged in decide.js)', async () => {
    const events = [event(`Bearer ${token({ scopes: ['access_as_user'] })}`)];
    // Port 9 (discard) refuses the connection at once.
    const refused = { ...single(), [ENV_NAMES.jwksUri]: 'http://127.0.0.1:9/keys' };
    const expected = [{ status: 500, reason: 'keys_unavailable' }];
    // The key endpoint's own failure (503): the cold start's fetch, made by index.js, logs its status.
    // (The runner asks before that fetch has ended, so it logs one failure; the source's helper awaits it
    // first, and the request's own retry logs a second.)
    for (const [env, status] of [
      [refused, undefined],
      [single(), 503],
    ] as const) {
      server.mode = status === undefined ? 'ok' : 'status-503';
      try {
        for (const answer of [await shipped(dir, env, events), await source(env, events)]) {
          expect(answer.decisions).toEqual(expected);
          expect(answer.fetchFailures[0]).toBe(status);
        }
      } finally {
        server.mode = 'ok';
      }
    }
  });

  it('fails the cold start naming the bad variable, as the source does', async () => {
    const env = { ...single(), [ENV_NAMES.audiences]: '' };
    const run = promisify(execFile)(node, ['-e', `require(${JSON.stringify(join(dir, FILE))})`], {
      env: { PATH: process.env.PATH, ...env },
    });
    await expect(run).rejects.toThrow(/AZURE_AUDIENCES: expected/);
    await expect(coldStartHandler(env)).rejects.toThrow(/^AZURE_AUDIENCES: expected/);
  });

  it('fails the cold start naming AZURE_ROUTE_PERMISSIONS for a route table too costly to plan, though decide.js plans it', async () => {
    const table: Record<string, unknown> = {};
    for (let i = 0; i < 16; i++) {
      table[`GET /${Array.from({ length: 140 }, (_, j) => (j === i ? 'x' : '{p}')).join('/')}`] = {};
    }
    const env = {
      ...single(),
      [ENV_NAMES.routePermissions]: JSON.stringify(table),
      [UNLISTED_METHODS_ENV]: '[]',
    };
    const run = promisify(execFile)(node, ['-e', `require(${JSON.stringify(join(dir, FILE))})`], {
      env: { PATH: process.env.PATH, ...env },
    });
    const expected = /AZURE_ROUTE_PERMISSIONS: expected a table whose cached-policy Denies can be planned/;
    await expect(run).rejects.toThrow(expected);
    await expect(coldStartHandler(env)).rejects.toThrow(expected);
  });

  it('decides first requests that arrive before the setImmediate ran with one load and one key fetch, each answer right', async () => {
    const jwt = token({ scopes: ['access_as_user'] });
    const valid = event(`Bearer ${jwt}`);
    const nowSeconds = Math.floor(Date.now() / 1000);
    const expired = event(
      `Bearer ${token({ scopes: ['access_as_user'], nowSeconds: nowSeconds - 7200, expiresInSeconds: 3600 })}`,
    );
    const denied = event(`Bearer ${token({ scopes: ['other.scope'] })}`);
    const events = [...Array(12).fill(valid), expired, denied, valid, expired];
    const before = server.requests;
    const answer = await shipped(dir, single(), events, true);
    expect(server.requests - before).toBe(1);
    expect(answer.decisions.map((d) => d.status)).toEqual([...Array(12).fill(200), 401, 403, 200, 401]);
    // One decision line per request; their order is that of the answers' completion.
    expect(answer.decisionLines.map((l) => l.reason).sort()).toEqual(
      [...Array(13).fill('allowed'), 'expired', 'expired', 'insufficient_permission'].sort(),
    );
    expect(answer.output).not.toContain(jwt.split('.')[2]);
  });

  it('cools down after a failed cold-start fetch: the first request joins it, the next fetch nothing, each a 500', async () => {
    const valid = event(`Bearer ${token({ scopes: ['access_as_user'] })}`);
    // 503 is retried once within the fetch's budget; a body over the cap is not; a hang ends at the 2 s budget.
    for (const [mode, fetches] of [
      ['status-503', 2],
      ['huge-declared', 1],
      ['hang', 1],
    ] as const) {
      server.mode = mode;
      try {
        const before = server.requests;
        const answer = await shipped(dir, single(), [valid, valid, valid]);
        expect(answer.decisions, mode).toEqual(Array(3).fill({ status: 500, reason: 'keys_unavailable' }));
        expect(server.requests - before, mode).toBe(fetches);
        expect(answer.fetchFailures, mode).toHaveLength(1);
      } finally {
        server.mode = 'ok';
      }
    }
  }, 30_000);

  it('answers 500 naming the cause, builds once and settles ready when decide.js loads but its createDecider throws', async () => {
    const broken = bundleWithout('decide.js');
    writeFileSync(
      join(broken, 'decide.js'),
      `exports.createDecider = () => {
        process.stdout.write('{"level":"TEST","message":"decider built"}\\n');
        throw new Error('AZURE_ROUTE_PERMISSIONS: expected a table planned in time; got "GET /x"');
      };`,
    );
    const jwt = token({ scopes: ['access_as_user'] });
    try {
      const answer = await shipped(broken, single(), [event(`Bearer ${jwt}`), event(`Bearer ${jwt}`)]);
      expect(answer.decisions).toEqual(Array(2).fill({ status: 500, reason: 'internal_error' }));
      expect(answer.decisionLines).toHaveLength(2);
      for (const line of answer.decisionLines) {
        expect(line.detail).toMatch(/^decision code unavailable: AZURE_ROUTE_PERMISSIONS: expected/);
      }
      // Built once: a construction that throws is not re-run per request.
      expect(answer.output.match(/"decider built"/g)).toHaveLength(1);
      expect(answer.output).not.toContain(jwt.split('.')[2]);
    } finally {
      rmSync(broken, { recursive: true, force: true });
    }
  });

  it('answers 500 with its decision line, never Allow, when decide.js is missing', async () => {
    const without = bundleWithout('decide.js');
    const valid = event(`Bearer ${token({ scopes: ['access_as_user'] })}`);
    try {
      expect((await shipped(without, single(), [valid, valid])).decisions).toEqual([
        { status: 500, reason: 'internal_error' },
        { status: 500, reason: 'internal_error' },
      ]);
    } finally {
      rmSync(without, { recursive: true, force: true });
    }
  });

  it('answers 500, never Allow, when telemetry.js is missing (no writer, so no decision line)', async () => {
    const without = bundleWithout('telemetry.js');
    const jwt = token({ scopes: ['access_as_user'] });
    try {
      const answer = await shipped(without, single(), [event(`Bearer ${jwt}`), event(`Bearer ${jwt}`)]);
      expect(answer.decisions.map((d) => d.status)).toEqual([500, 500]);
      expect(answer.output).not.toContain(jwt.split('.')[2]);
    } finally {
      rmSync(without, { recursive: true, force: true });
    }
  });
});
