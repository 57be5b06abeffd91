/**
 * The warm half of `npm run bench`, started by run.ts as `node warm.ts | wc -l -c`: the production candidate
 * writes its log lines to a real pipe, as in Lambda, not to a no-op sink. Floor, peers and ours run here, in
 * one process, in interleaved rounds; then the memory check. The results go to fd 3, a file run.ts reads.
 */
import { createPublicKey, createVerify, randomBytes, randomUUID } from 'node:crypto';
import { writeSync } from 'node:fs';
import { createRequire } from 'node:module';
import { JwtVerifier } from 'aws-jwt-verify';
import type { APIGatewayTokenAuthorizerEvent, Context } from 'aws-lambda';
import { createLocalJWKSet, jwtVerify } from 'jose';
import jsonwebtoken from 'jsonwebtoken';
import { JwksClient } from 'jwks-rsa';
import { createSigningKey, mintEntraAccessToken } from '../../infra/local/mint.js';
import type { DecisionRecord } from '../../lambda/authorizer/authorizer.js';
import { ENV_NAMES, loadConfig } from '../../lambda/authorizer/config.js';
import { buildContext, principalIdOf } from '../../lambda/authorizer/context.js';
import { checkEntraToken } from '../../lambda/authorizer/entra.js';
import { decodeJwt } from '../../lambda/authorizer/jwt.js';
import { EntraJwksCache } from '../../lambda/authorizer/keys/key-cache.js';
import { createTenantKeyCache, TENANT_KEY_DEFAULTS } from '../../lambda/authorizer/keys/tenant-keys.js';
import { createRouteAuthorizer } from '../../lambda/authorizer/permissions.js';
import { buildPolicy, parseMethodArn, stageResource } from '../../lambda/authorizer/policy.js';
import { createTelemetry } from '../../lambda/authorizer/telemetry.js';
import { readTelemetryConfig } from '../../lambda/authorizer/telemetry-config.js';
import { createTokenVerifier, verifiesRs256 } from '../../lambda/authorizer/verifier.js';
import { KeyServer } from '../helpers/key-server.js';
import { createAuthorizer } from '../helpers/token-authorizer.js';
import {
  BENCH_CLIENT,
  BENCH_ISSUER,
  BENCH_METHOD_ARN,
  BENCH_TENANT,
  type Candidate,
  FLOOR_LINE_BYTES,
  PART_NAMES,
  type PartName,
  PRODUCTION_ENV,
  type WarmReport,
} from './shared.js';

const TOKENS = Number(process.env.BENCH_TOKENS ?? 3000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const WARMUP = Math.min(500, TOKENS);
const log = (line: string) => process.stderr.write(`${line}\n`);

const key = createSigningKey({
  kid: 'bench-key',
  issuer: 'https://login.microsoftonline.com/{tenantid}/v2.0',
});
const jwks = { keys: [key.publicJwk] };
log(`minting ${TOKENS} distinct RS256 tokens...`);
const tokens = Array.from({ length: TOKENS }, () =>
  mintEntraAccessToken(key, { tenantId: BENCH_TENANT, audience: BENCH_CLIENT }),
);

const server = await KeyServer.start();
server.jwks = jwks;
const env = {
  [ENV_NAMES.tenantId]: BENCH_TENANT,
  [ENV_NAMES.audiences]: `${BENCH_CLIENT},api://${BENCH_CLIENT}`,
  [ENV_NAMES.requiredScopes]: 'access_as_user',
  [ENV_NAMES.jwksUri]: server.url,
};

// --- the candidates -------------------------------------------------------------------------------------

const floorKey = createPublicKey({ key: key.publicJwk as never, format: 'jwk' });
function floor(token: string) {
  const [h, p, s] = token.split('.') as [string, string, string];
  const header = JSON.parse(Buffer.from(h, 'base64url').toString('utf8'));
  const payload = JSON.parse(Buffer.from(p, 'base64url').toString('utf8'));
  const ok = createVerify('RSA-SHA256').update(`${h}.${p}`).verify(floorKey, s, 'base64url');
  if (!ok || header.alg !== 'RS256') throw new Error('floor: invalid');
  return payload;
}

const awsJwtVerify = JwtVerifier.create({
  issuer: BENCH_ISSUER,
  audience: BENCH_CLIENT,
  jwksUri: server.url,
});
awsJwtVerify.cacheJwks(jwks);

const joseKeys = createLocalJWKSet(jwks as never);

const jwksClient = new JwksClient({ jwksUri: server.url, cache: true, rateLimit: false });
const getKey: jsonwebtoken.GetPublicKeyOrSecret = (header, callback) => {
  jwksClient.getSigningKey(header.kid).then(
    (k) => callback(null, k.getPublicKey()),
    (err) => callback(err),
  );
};
const jsonwebtokenVerify = (token: string) =>
  new Promise((done, fail) =>
    jsonwebtoken.verify(
      token,
      getKey,
      { algorithms: ['RS256'], issuer: BENCH_ISSUER, audience: BENCH_CLIENT },
      (err, decoded) => (err ? fail(err) : done(decoded)),
    ),
  );

const config = loadConfig(env);
const keys = new EntraJwksCache();
await keys.getJwks(config.jwksUri);
const silenced = createAuthorizer({
  verifier: createTokenVerifier({ config, keys }),
  routes: createRouteAuthorizer(config),
});
const event = (token: string) =>
  ({
    type: 'TOKEN',
    methodArn: BENCH_METHOD_ARN,
    authorizationToken: `Bearer ${token}`,
  }) as APIGatewayTokenAuthorizerEvent;

// As deployed, ours and the naive peer's: the bundles run.ts builds as they ship (cold.ts's buildColdBundle)
// and names in BENCH_BUNDLE and BENCH_PEER_BUNDLE. Loaded from source, tsx's transform (keepNames among it)
// would be timed with our decisions and not with the peer's, whose library is plain JavaScript.
const requireBundle = createRequire(import.meta.url);
const bundled = <T>(variable: string): T => {
  const file = process.env[variable];
  if (file === undefined || file === '') throw new Error(`bench: ${variable} is unset; run npm run bench`);
  return requireBundle(file) as T;
};
// The real composition root as deployed: INFO decision line and the Decisions metric, to this process's
// stdout, which is a pipe. Each call gets its own Lambda context, made before the clock starts.
Object.assign(process.env, env, PRODUCTION_ENV);
const { handler: production, ready } =
  bundled<typeof import('../../lambda/authorizer/handler.js')>('BENCH_BUNDLE');
await ready;
// The naive peer: the bare aws-jwt-verify TOKEN authorizer of the cold bench, which console.logs its decision.
const { handler: naivePeer, verifier: naivePeerVerifier } =
  bundled<typeof import('./bare-peer.js')>('BENCH_PEER_BUNDLE');
naivePeerVerifier.cacheJwks(jwks);
const lambdaContext = (): Context => ({
  callbackWaitsForEmptyEventLoop: true,
  functionName: 'entra-authorizer-bench',
  functionVersion: '1',
  invokedFunctionArn: 'arn:aws:lambda:eu-west-1:123456789012:function:entra-authorizer-bench:1',
  memoryLimitInMB: '512',
  awsRequestId: randomUUID(),
  logGroupName: '/aws/lambda/entra-authorizer-bench',
  logStreamName: '2026/01/01/[1]0123456789abcdef0123456789abcdef',
  getRemainingTimeInMillis: () => 5000,
  done: () => {},
  fail: () => {},
  succeed: () => {},
});
const contexts = tokens.map(lambdaContext);
// The handler may take (event) or (event, context): call it with both, as Lambda does.
const productionHandler = production as (
  event: APIGatewayTokenAuthorizerEvent,
  context: Context,
) => Promise<unknown>;

// The physical floor of a logged decision: the floor, then one line of a decision line's size written to
// the same stdout pipe (what any logging authorizer pays at least, whatever it formats).
const LINE = `${'x'.repeat(FLOOR_LINE_BYTES - 1)}\n`;
const floorAndLine = (token: string) => {
  const payload = floor(token);
  process.stdout.write(LINE);
  return payload;
};

/** `BENCH_CANDIDATES=floor,production`: only these (the second, /dev/null run of run.ts); else all. */
const only = process.env.BENCH_CANDIDATES?.split(',');
const allCandidates: Candidate[] = [
  { name: 'floor', run: (t) => floor(t) },
  { name: 'floor+line', run: (t) => floorAndLine(t) },
  { name: 'aws-jwt-verify', run: (t) => awsJwtVerify.verify(t) },
  {
    name: 'jose',
    run: (t) => jwtVerify(t, joseKeys, { issuer: BENCH_ISSUER, audience: BENCH_CLIENT }),
  },
  { name: 'jsonwebtoken', run: (t) => jsonwebtokenVerify(t) },
  { name: 'naive peer', run: (t) => naivePeer(event(t)) },
  { name: 'silenced', run: (t) => silenced(event(t)) },
  { name: 'production', run: (t, i) => productionHandler(event(t), contexts[i] as Context) },
];
const candidates = allCandidates.filter((c) => only === undefined || only.includes(c.name));

// --- warm decisions -------------------------------------------------------------------------------------

/** Yields to the event loop: between two Lambda invocations the runtime does I/O, so a write's completion
 * callback runs, and the next write meets an idle stream (no batching of lines across decisions). */
const turn = () => new Promise<void>((done) => setImmediate(done));

async function batch(c: Candidate, count: number, times?: number[]): Promise<void> {
  for (let i = 0; i < count; i++) {
    const token = tokens[i] as string;
    const started = process.hrtime.bigint();
    await c.run(token, i);
    const elapsed = process.hrtime.bigint() - started;
    times?.push(Number(elapsed) / 1000);
    await turn();
  }
}

/** Decisions per candidate (warm-up included), to count the lines on stdout against. */
const calls: Record<string, number> = {};
log(`warming up, then ${ROUNDS} rounds x ${TOKENS} tokens per candidate, interleaved...`);
for (const c of candidates) {
  await batch(c, WARMUP);
  calls[c.name] = (calls[c.name] ?? 0) + WARMUP;
}
// Rounds of one batch per candidate, in turn, the order rotating each round: each runs hot as it would in a
// container, and drift on a shared machine falls on every candidate alike.
const samples: Record<string, number[][]> = Object.fromEntries(candidates.map((c) => [c.name, []]));
for (let round = 0; round < ROUNDS; round++) {
  for (let k = 0; k < candidates.length; k++) {
    const c = candidates[(k + round) % candidates.length] as Candidate;
    const times: number[] = [];
    await batch(c, TOKENS, times);
    samples[c.name]?.push(times);
    calls[c.name] = (calls[c.name] ?? 0) + TOKENS;
  }
}

// --- the parts of a decision ---------------------------------------------------------------------------

/**
 * Each part of the silenced decision on its own, on the same tokens, so a change shows which part moved:
 * its inputs are made before the clock starts, from the real pieces the authorizer composes.
 */
const arn = parseMethodArn(BENCH_METHOD_ARN);
const routes = createRouteAuthorizer(config);
const telemetryLine = createTelemetry(readTelemetryConfig(PRODUCTION_ENV), { out: () => {}, err: () => {} });
const decoded = tokens.map((t) => decodeJwt(t));
const checked = decoded.map((jwt) => checkEntraToken(jwt, config, Date.now() / 1000));
const backendContexts = checked.map(({ claims }) => buildContext(claims));
const signingKey = keys.findFreshJwk(config.jwksUri, 'bench-key');
if (signingKey === undefined) throw new Error('bench: the key cache holds no bench-key');
const record = (i: number): DecisionRecord => {
  const { claims, keyId } = checked[i] as (typeof checked)[number];
  return {
    decision: { outcome: 'allow', reason: 'allowed', detail: 'stage', result: undefined as never },
    method: arn.method,
    path: arn.path,
    tid: claims.tid,
    oid: claims.oid,
    appId: claims.appId,
    kid: keyId,
  };
};
const parts: Record<PartName, (i: number) => unknown> = {
  'Entra rules': (i) => checkEntraToken(decodeJwt(tokens[i] as string), config, Date.now() / 1000),
  verify: (i) => verifiesRs256(decoded[i] as (typeof decoded)[number], signingKey),
  'route decision': (i) => routes((checked[i] as (typeof checked)[number]).claims, arn),
  context: (i) => {
    const { claims } = checked[i] as (typeof checked)[number];
    return [principalIdOf(claims), buildContext(claims)];
  },
  policy: (i) =>
    buildPolicy(
      principalIdOf((checked[i] as (typeof checked)[number]).claims),
      { allow: [stageResource(arn)], deny: [] },
      backendContexts[i] as ReturnType<typeof buildContext>,
    ),
  telemetry: (i) => telemetryLine.decision(record(i), contexts[i]),
};
log(`the parts of a decision: ${ROUNDS} rounds x ${TOKENS} tokens...`);
const partSamples: Record<string, number[][]> = Object.fromEntries(PART_NAMES.map((n) => [n, []]));
if (only === undefined) {
  for (const name of PART_NAMES) for (let i = 0; i < WARMUP; i++) parts[name](i);
  for (let round = 0; round < ROUNDS; round++) {
    for (let k = 0; k < PART_NAMES.length; k++) {
      const name = PART_NAMES[(k + round) % PART_NAMES.length] as PartName;
      const times: number[] = [];
      for (let i = 0; i < TOKENS; i++) {
        const started = process.hrtime.bigint();
        parts[name](i);
        times.push(Number(process.hrtime.bigint() - started) / 1000);
      }
      partSamples[name]?.push(times);
    }
  }
}

// --- memory ---------------------------------------------------------------------------------------------

const measureMemory = process.env.BENCH_MEMORY !== 'off';
if (measureMemory)
  log(
    'memory: 100,000 decisions and 20,000 forged tokens; then forged tenants against per-tenant key sets...',
  );
/** Heap growth over 100,000 decisions, then 20,000 forged tokens with random tenants under `*`. */
async function memoryGrowth(): Promise<NonNullable<WarmReport['memory']>> {
  const gc = (globalThis as { gc?: () => void }).gc;
  const heap = () => {
    gc?.();
    gc?.();
    return process.memoryUsage().heapUsed;
  };
  const anyTenant = loadConfig({ ...env, [ENV_NAMES.tenantId]: 'common', [ENV_NAMES.allowedTenants]: '*' });
  const memKeys = new EntraJwksCache();
  await memKeys.getJwks(anyTenant.jwksUri);
  const memAuthorizer = createAuthorizer({
    verifier: createTokenVerifier({ config: anyTenant, keys: memKeys }),
    routes: createRouteAuthorizer(anyTenant),
  });
  const [h, ,] = (tokens[0] as string).split('.') as [string, string, string];
  const forged = (i: number) => {
    const tid = randomUUID();
    const payload = {
      ...JSON.parse(
        Buffer.from((tokens[i % TOKENS] as string).split('.')[1] as string, 'base64url').toString(),
      ),
      tid,
      iss: `https://login.microsoftonline.com/${tid}/v2.0`,
    };
    return `${h}.${Buffer.from(JSON.stringify(payload)).toString('base64url')}.${randomBytes(256).toString('base64url')}`;
  };
  for (let i = 0; i < 2000; i++) await memAuthorizer(event(tokens[i % TOKENS] as string));
  const heapBefore = heap();
  for (let i = 0; i < 100_000; i++) await memAuthorizer(event(tokens[i % TOKENS] as string));
  const heapAfterDecisions = heap();
  let refused = 0;
  for (let i = 0; i < 20_000; i++) await memAuthorizer(event(forged(i))).catch(() => refused++);
  const heapAfterForged = heap();
  return {
    gcExposed: gc !== undefined,
    heapBeforeBytes: heapBefore,
    growthAfter100kDecisionsBytes: heapAfterDecisions - heapBefore,
    growthAfter20kForgedBytes: heapAfterForged - heapBefore,
    forgedRefused: refused,
  };
}

/**
 * Forged tokens naming random tenants and made-up kids in a multi-tenant API (`*`) whose every tenant has a
 * key set of its own (a real set's size: 7 keys): how many tenant sets they fetch, and the heap they cost, with
 * the deployed fetch budget, and without one (every token fetches; the held sets stop at their cap).
 */
async function tenantKeyFlood(): Promise<NonNullable<WarmReport['memory']>['tenantKeyFlood']> {
  const gc = (globalThis as { gc?: () => void }).gc;
  const heap = () => {
    gc?.();
    gc?.();
    return process.memoryUsage().heapUsed;
  };
  const more = Array.from({ length: 6 }, () => createSigningKey().publicJwk);
  server.jwks = { keys: [key.publicJwk, ...more] };
  const multi = loadConfig({
    ...env,
    [ENV_NAMES.tenantId]: 'organizations',
    [ENV_NAMES.allowedTenants]: '*',
    [ENV_NAMES.jwksUri]: server.urlOf('organizations'),
  });
  const shared = `/organizations/`;
  const payload = JSON.parse(
    Buffer.from((tokens[0] as string).split('.')[1] as string, 'base64url').toString(),
  );
  const forged = () => {
    const tid = randomUUID();
    const h = { typ: 'JWT', alg: 'RS256', kid: randomBytes(20).toString('base64url') };
    const p = { ...payload, tid, iss: `https://login.microsoftonline.com/${tid}/v2.0` };
    const part = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url');
    return `${part(h)}.${part(p)}.${randomBytes(256).toString('base64url')}`;
  };
  const run = async (count: number, cooldownSeconds?: number) => {
    const keys = new EntraJwksCache();
    await keys.getJwks(multi.jwksUri);
    const tenantKeys = createTenantKeyCache(cooldownSeconds === undefined ? {} : { cooldownSeconds });
    const authorizer = createAuthorizer({
      verifier: createTokenVerifier({ config: multi, keys, tenantKeys }),
      routes: createRouteAuthorizer(multi),
    });
    const before = heap();
    const requests = server.paths.length;
    const started = Date.now();
    for (let i = 0; i < count; i++) await authorizer(event(forged())).catch(() => undefined);
    const fetched = server.paths.slice(requests).filter((path) => !path.includes(shared)).length;
    const result = { forged: count, seconds: (Date.now() - started) / 1000, tenantFetches: fetched };
    return { ...result, growthBytes: heap() - before, held: [keys, tenantKeys] };
  };
  const budget = await run(20_000);
  const unbudgeted = await run(2_000, 0);
  server.jwks = jwks;
  const { held: _, ...withBudget } = budget;
  const { held: __, ...withoutBudget } = unbudgeted;
  return { withBudget, withoutBudget, maxSets: TENANT_KEY_DEFAULTS.maxSets };
}

const memory = measureMemory
  ? { ...(await memoryGrowth()), tenantKeyFlood: await tenantKeyFlood() }
  : undefined;

await server.stop();

const report: WarmReport = { tokens: TOKENS, rounds: ROUNDS, samples, parts: partSamples, calls, memory };
// fd 3 is the report file run.ts opened; stdout belongs to the decision lines.
writeSync(3, JSON.stringify(report));
