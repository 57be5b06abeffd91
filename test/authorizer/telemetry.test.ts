import { Writable } from 'node:stream';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { DecisionRecord } from '../../lambda/authorizer/authorizer.js';
import type { Decision } from '../../lambda/authorizer/decision.js';
import { REASONS, type Reason } from '../../lambda/authorizer/reasons.js';
import {
  closeLine,
  createTelemetry,
  decisionMetricMembers,
  type InvocationContext,
  isoTimestamp,
  lineWriter,
  RESERVED_KEYS,
  type TelemetryDeps,
} from '../../lambda/authorizer/telemetry.js';
import { readTelemetryConfig } from '../../lambda/authorizer/telemetry-config.js';
import { EMF_LIMITS, emfViolations } from '../helpers/emf.js';
import { createAuthorizer } from '../helpers/token-authorizer.js';

/** Powertools' standard keys in the order its formatter writes them (PowertoolsLogFormatter.formatAttributes). */
const POWERTOOLS_ORDER = [
  'level',
  'message',
  'timestamp',
  'service',
  'cold_start',
  'function_arn',
  'function_memory_size',
  'function_name',
  'function_request_id',
  'sampling_rate',
  'xray_trace_id',
  'tenant_id',
];

const NOW = Date.UTC(2026, 0, 2, 3, 4, 5, 67);
const TENANT = '72f988bf-86f1-41af-91ab-2d7cd011db47';

/** A telemetry writing into arrays, with a fixed clock, from the given POWERTOOLS_* variables. */
function capture(env: Record<string, string> = {}, deps: TelemetryDeps = {}) {
  const out: string[] = [];
  const err: string[] = [];
  const telemetry = createTelemetry(readTelemetryConfig(env), {
    out: (line) => out.push(line),
    err: (line) => err.push(line),
    now: () => NOW,
    traceHeader: () => undefined,
    ...deps,
  });
  const parsed = (lines: string[]) =>
    lines.map((line) => {
      expect(line.endsWith('\n') && !line.slice(0, -1).includes('\n')).toBe(true);
      return JSON.parse(line) as Record<string, unknown>;
    });
  return { telemetry, out, err, lines: () => parsed(out), errors: () => parsed(err) };
}

/** README's reason table, not reasons.ts: 403 for the two permission reasons, 500 for our failures. */
function outcomeOf(reason: Reason): Decision['outcome'] {
  if (reason === 'allowed') return 'allow';
  if (reason === 'insufficient_permission' || reason === 'no_scope_or_role') return 'deny';
  if (reason === 'keys_unavailable' || reason === 'internal_error') return 'error';
  return 'unauthorized';
}

function decisionOf(reason: Reason, detail = 'the detail'): Decision {
  const outcome = outcomeOf(reason);
  if (outcome === 'allow' || outcome === 'deny')
    return {
      outcome,
      reason,
      detail,
      result: { principalId: 'p', policyDocument: { Version: '2012-10-17', Statement: [] } },
    } as Decision;
  return { outcome, reason, detail } as Decision;
}

const allowed: DecisionRecord = {
  decision: decisionOf('allowed', 'stage'),
  method: 'GET',
  path: '/whoami',
  tid: TENANT,
  oid: '00000000-0000-4000-8000-00000000a11c',
  appId: '11111111-2222-4333-8444-555555555555',
  kid: 'main-key',
};
const refused: DecisionRecord = {
  decision: decisionOf('wrong_audience', 'aud is "api://other"'),
  method: 'GET',
  path: '/whoami',
  hint: 'token aud is api://other (ver 2.0); configured audiences are x',
};

const invocation = (awsRequestId: string): InvocationContext => ({
  awsRequestId,
  functionName: 'entra-authorizer',
  invokedFunctionArn: 'arn:aws:lambda:eu-west-1:123456789012:function:entra-authorizer:7',
  memoryLimitInMB: '512',
});

describe('the EMF validator (written from the spec, tested so it can fail)', () => {
  const valid = {
    _aws: {
      Timestamp: NOW,
      CloudWatchMetrics: [
        { Namespace: 'N', Dimensions: [['service']], Metrics: [{ Name: 'Decisions', Unit: 'Count' }] },
      ],
    },
    service: 's',
    Decisions: 1,
  };
  const broken = (change: (doc: typeof valid & Record<string, unknown>) => void) => {
    const doc = structuredClone(valid) as typeof valid & Record<string, unknown>;
    change(doc);
    return emfViolations(JSON.stringify(doc));
  };

  it('accepts a valid document and refuses each broken rule', () => {
    expect(emfViolations(JSON.stringify(valid))).toEqual([]);
    expect(emfViolations(`x ${JSON.stringify(valid)}`)).not.toEqual([]);
    expect(broken((d) => delete (d as { _aws?: unknown })._aws)).not.toEqual([]);
    expect(broken((d) => (d._aws.Timestamp = 1.5))).not.toEqual([]);
    expect(broken((d) => (d._aws.Timestamp = '2026' as never))).not.toEqual([]);
    expect(
      broken((d) => ((d._aws.CloudWatchMetrics[0] as { Namespace: string }).Namespace = '')),
    ).not.toEqual([]);
    expect(broken((d) => ((d._aws.CloudWatchMetrics[0] as Record<string, unknown>).Extra = 1))).not.toEqual(
      [],
    );
    expect(
      broken((d) => (d._aws.CloudWatchMetrics[0] as { Dimensions: string[][] }).Dimensions.push(['missing'])),
    ).not.toEqual([]);
    expect(broken((d) => (d.service = 7 as never))).not.toEqual([]);
    expect(broken((d) => (d.Decisions = '1' as never))).not.toEqual([]);
    expect(
      broken(
        (d) =>
          ((
            (d._aws.CloudWatchMetrics[0] as { Metrics: { Unit: string }[] }).Metrics[0] as { Unit: string }
          ).Unit = 'Things'),
      ),
    ).not.toEqual([]);
    expect(
      broken((d) => {
        // A nested member is not a target: "A.a" names a root member called "A.a".
        (d._aws.CloudWatchMetrics[0] as { Metrics: { Name: string }[] }).Metrics[0] = {
          Name: 'A.a',
        } as never;
        d.A = { a: 1 };
      }),
    ).not.toEqual([]);
    expect(
      broken(
        (d) =>
          ((d._aws.CloudWatchMetrics[0] as { Dimensions: string[][] }).Dimensions = [
            Array.from({ length: EMF_LIMITS.dimensionsPerSet + 1 }, () => 'service'),
          ]),
      ),
    ).not.toEqual([]);
  });
});

describe('one line per decision', () => {
  it('carries the decision, its safe facts and the Decisions metric, as valid EMF', () => {
    const { telemetry, out, err, lines } = capture({ POWERTOOLS_METRICS_NAMESPACE: 'Auth' });
    telemetry.decision(allowed);
    telemetry.decision(refused);
    expect(err).toEqual([]);
    expect(out).toHaveLength(2);
    for (const line of out) expect(emfViolations(line.trimEnd())).toEqual([]);
    const [allow, reject] = lines();
    expect(allow).toEqual({
      level: 'INFO',
      message: 'authorizer decision',
      timestamp: new Date(NOW).toISOString(),
      service: 'entra-authorizer',
      outcome: 'allow',
      reason: 'allowed',
      detail: 'stage',
      method: 'GET',
      path: '/whoami',
      tid: TENANT,
      oid: allowed.oid,
      appId: allowed.appId,
      kid: 'main-key',
      Decisions: 1,
      _aws: {
        Timestamp: NOW,
        CloudWatchMetrics: [
          {
            Namespace: 'Auth',
            Dimensions: [['service', 'outcome', 'reason']],
            Metrics: [{ Name: 'Decisions', Unit: 'Count' }],
          },
        ],
      },
    });
    expect(reject).toMatchObject({
      level: 'INFO',
      outcome: 'unauthorized',
      reason: 'wrong_audience',
      detail: 'aud is "api://other"',
      hint: refused.hint,
      Decisions: 1,
    });
  });

  it('logs an internal error with its cause when the error comes through the authorizer', async () => {
    const { telemetry, errors } = capture();
    const authorize = createAuthorizer({
      verifier: {
        verify: async () => {
          throw new Error('boom', { cause: new Error('socket hang up') });
        },
      },
      routes: () => ({ allowed: true, routes: 'stage' }),
      record: (record) => telemetry.decision(record),
    });
    await expect(
      authorize({
        type: 'TOKEN',
        authorizationToken: 'Bearer a.b.c',
        methodArn: 'arn:aws:execute-api:eu-west-1:123456789012:abc/prod/GET/x',
      }),
    ).rejects.toThrow('Authorizer failure (internal_error)');
    expect(errors()[0]).toMatchObject({
      reason: 'internal_error',
      error: { message: 'boom', cause: { message: 'socket hang up' } },
    });
  });

  it('never writes the policy it answered with', () => {
    const { telemetry, out } = capture();
    telemetry.decision(allowed);
    expect(out.join('')).not.toMatch(/policyDocument|principalId|Statement/);
  });

  it('logs our own failures at ERROR on stderr, with the error, still with the metric', () => {
    const { telemetry, out, errors, err } = capture();
    const cause = new Error('socket hang up');
    telemetry.decision({
      decision: decisionOf('internal_error', 'boom'),
      error: new Error('boom', { cause }),
    });
    expect(out).toEqual([]);
    expect(emfViolations((err[0] as string).trimEnd())).toEqual([]);
    const [line] = errors();
    expect(line).toMatchObject({
      level: 'ERROR',
      outcome: 'error',
      reason: 'internal_error',
      error: { name: 'Error', message: 'boom', cause: { name: 'Error', message: 'socket hang up' } },
      Decisions: 1,
    });
    const error = line?.error as { stack: string; location: string };
    expect(error.stack).toMatch(/^Error: boom\n\s+at /);
    expect(error.location).toMatch(/telemetry\.test\.ts:\d+$/);
  });

  it('is one valid JSON line whatever the record holds: any field it grows, any text in it', () => {
    const reserved = new Set<string>([
      ...RESERVED_KEYS,
      'decision',
      'outcome',
      'reason',
      'detail',
      '__proto__',
    ]);
    const key = fc.string({ minLength: 1, maxLength: 12 }).filter((k) => !reserved.has(k));
    // Oracle: JSON.parse, the EMF checker in helpers/emf.ts and outcomeOf() (README's reason table), not telemetry.ts
    fc.assert(
      fc.property(
        fc.dictionary(key, fc.oneof(fc.string({ unit: 'binary' }), fc.integer(), fc.boolean()), {
          maxKeys: 6,
        }),
        fc.string({ unit: 'binary', maxLength: 300 }),
        fc.constantFrom<Reason>(...(Object.keys(REASONS) as Reason[])),
        (extra, detail, reason) => {
          const { telemetry, out, err } = capture();
          telemetry.decision({ ...extra, decision: decisionOf(reason, detail) } as DecisionRecord);
          const lines = [...out, ...err];
          expect(lines).toHaveLength(1);
          const line = lines[0] as string;
          expect(line.indexOf('\n')).toBe(line.length - 1);
          expect(emfViolations(line.trimEnd())).toEqual([]);
          const parsed = JSON.parse(line);
          expect(parsed).toMatchObject({ ...extra, outcome: outcomeOf(reason), reason, detail });
        },
      ),
    );
  });

  it('carries the Lambda context as Powertools names it; cold_start only on the first on-demand invocation', () => {
    const { telemetry, lines } = capture(
      { AWS_LAMBDA_INITIALIZATION_TYPE: 'on-demand' },
      { traceHeader: () => 'Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1' },
    );
    telemetry.decision(allowed, invocation('first'));
    telemetry.decision(allowed, invocation('second'));
    telemetry.decision(allowed, { ...invocation('third'), tenantId: 'tenant-a' });
    telemetry.decision(allowed);
    const [first, second, third, bare] = lines();
    expect(first).toMatchObject({
      cold_start: true,
      function_arn: invocation('x').invokedFunctionArn,
      function_memory_size: 512,
      function_name: 'entra-authorizer',
      function_request_id: 'first',
      xray_trace_id: '1-5759e988-bd862e3fe1be46a994272793',
    });
    expect(second).toMatchObject({ cold_start: false, function_request_id: 'second' });
    expect(third).toMatchObject({ function_request_id: 'third', tenant_id: 'tenant-a' });
    expect(bare).not.toHaveProperty('function_request_id');
    expect(Object.keys(first ?? {}).slice(0, 10)).toEqual(
      POWERTOOLS_ORDER.filter((key) => key !== 'sampling_rate' && key !== 'tenant_id'),
    );
  });

  it('says cold_start false on provisioned concurrency (its init is not a cold start)', () => {
    const { telemetry, lines } = capture({ AWS_LAMBDA_INITIALIZATION_TYPE: 'provisioned-concurrency' });
    telemetry.decision(allowed, invocation('first'));
    expect(lines()[0]).toMatchObject({ cold_start: false });
  });
});

describe('the standard keys', () => {
  const text = fc.string({ unit: 'binary', maxLength: 16 });
  const context = fc.record(
    {
      awsRequestId: fc.oneof(fc.constantFrom('first', 'second'), text),
      functionName: fc.constantFrom('fn-a', 'fn "b"'),
      invokedFunctionArn: fc.constantFrom('arn:aws:lambda:eu-west-1:1:function:a', 'arn:b\n'),
      memoryLimitInMB: fc.constantFrom('128', '512', '', 'lots'),
      tenantId: text,
    },
    { requiredKeys: ['awsRequestId', 'functionName', 'invokedFunctionArn', 'memoryLimitInMB'] },
  );
  // A decision with the invocation's context, or a free-form line with its own message.
  const line = fc.oneof(
    fc.record({ invocation: context, trace: fc.option(text, { nil: undefined }) }),
    fc.record({ message: text, trace: fc.option(text, { nil: undefined }) }),
  );

  it("are Powertools' keys in its order, each line its own invocation's, a key without a value left out", () => {
    // Oracle: POWERTOOLS_ORDER and the values the Lambda context and the environment hold, undefined keys left out
    fc.assert(
      fc.property(fc.array(line, { minLength: 1, maxLength: 6 }), fc.constantFrom(0, 0.25), (steps, rate) => {
        let trace: string | undefined;
        const { telemetry, lines } = capture(
          { AWS_LAMBDA_INITIALIZATION_TYPE: 'on-demand', POWERTOOLS_LOGGER_SAMPLE_RATE: String(rate) },
          { traceHeader: () => trace, random: () => 0.5 },
        );
        let firstRequestId: string | undefined;
        const expected = steps.map((step) => {
          trace = step.trace === undefined ? undefined : `Root=${step.trace.replaceAll(';', '')};Sampled=1`;
          const common = {
            level: 'INFO',
            timestamp: new Date(NOW).toISOString(),
            service: 'entra-authorizer',
          };
          const tail = {
            sampling_rate: rate > 0 ? rate : undefined,
            xray_trace_id: step.trace?.replaceAll(';', ''),
          };
          if ('message' in step) {
            telemetry.info(step.message);
            return { ...common, message: step.message, ...tail };
          }
          const { invocation } = step;
          telemetry.decision(allowed, invocation);
          firstRequestId ??= invocation.awsRequestId;
          const memory = Number(invocation.memoryLimitInMB);
          return {
            ...common,
            message: 'authorizer decision',
            cold_start: invocation.awsRequestId === firstRequestId,
            function_arn: invocation.invokedFunctionArn,
            function_memory_size: Number.isFinite(memory) ? memory : undefined,
            function_name: invocation.functionName,
            function_request_id: invocation.awsRequestId,
            ...tail,
            tenant_id: invocation.tenantId,
          };
        });
        const written = lines();
        expect(written).toHaveLength(steps.length);
        written.forEach((parsed, i) => {
          const want = POWERTOOLS_ORDER.flatMap((key) => {
            const value = (expected[i] as Record<string, unknown>)[key];
            return value === undefined ? [] : [[key, value]];
          });
          expect(Object.entries(parsed).slice(0, want.length)).toEqual(want);
          expect(POWERTOOLS_ORDER).not.toContain(Object.keys(parsed)[want.length]);
        });
      }),
    );
  });
});

describe('log level and metrics switches', () => {
  it('keeps the metric when the level hides the decision: a metric-only line, as Powertools Metrics writes', () => {
    for (const level of ['WARN', 'ERROR', 'CRITICAL', 'SILENT']) {
      const { telemetry, out, lines } = capture({ POWERTOOLS_LOG_LEVEL: level });
      telemetry.decision(refused);
      expect(out).toHaveLength(1);
      expect(emfViolations((out[0] as string).trimEnd())).toEqual([]);
      expect(lines()[0]).toEqual({
        _aws: expect.any(Object),
        service: 'entra-authorizer',
        outcome: 'unauthorized',
        reason: 'wrong_audience',
        Decisions: 1,
      });
    }
  });

  it('writes the error decision in full at ERROR and below, its metric alone at SILENT', () => {
    const failure: DecisionRecord = { decision: decisionOf('keys_unavailable', 'fetch failed') };
    const atError = capture({ POWERTOOLS_LOG_LEVEL: 'error' });
    atError.telemetry.decision(failure);
    expect(atError.errors()[0]).toMatchObject({ level: 'ERROR', reason: 'keys_unavailable', Decisions: 1 });
    const silent = capture({ POWERTOOLS_LOG_LEVEL: 'SILENT' });
    silent.telemetry.decision(failure);
    expect(silent.errors()[0]).not.toHaveProperty('message');
    expect(silent.errors()[0]).toMatchObject({ reason: 'keys_unavailable', Decisions: 1 });
  });

  it('drops _aws and the metric member when metrics are disabled, and writes nothing at all when also silent', () => {
    const off = capture({ POWERTOOLS_METRICS_DISABLED: 'true' });
    off.telemetry.decision(allowed);
    expect(off.lines()[0]).toMatchObject({ message: 'authorizer decision', outcome: 'allow' });
    expect(off.lines()[0]).not.toHaveProperty('_aws');
    expect(off.lines()[0]).not.toHaveProperty('Decisions');
    const quiet = capture({ POWERTOOLS_METRICS_DISABLED: '1', POWERTOOLS_LOG_LEVEL: 'SILENT' });
    quiet.telemetry.decision(allowed);
    quiet.telemetry.decision({ decision: decisionOf('internal_error'), error: new Error('x') });
    quiet.telemetry.warn('signing key fetch failed');
    expect([...quiet.out, ...quiet.err]).toEqual([]);
  });

  it('samples: a sampled invocation logs at DEBUG whatever the level, and every line says the rate', () => {
    let draw = 0;
    const draws = [0.1, 0.9];
    const { telemetry, lines } = capture(
      { POWERTOOLS_LOG_LEVEL: 'WARN', POWERTOOLS_LOGGER_SAMPLE_RATE: '0.5' },
      { random: () => draws[draw++ % 2] as number },
    );
    telemetry.decision(allowed);
    telemetry.decision(allowed);
    const [sampled, notSampled] = lines();
    expect(sampled).toMatchObject({ level: 'INFO', message: 'authorizer decision', sampling_rate: 0.5 });
    expect(notSampled).not.toHaveProperty('message');
    expect(notSampled).toHaveProperty('Decisions', 1);
  });

  it('honours Lambda advanced logging controls: nothing below AWS_LAMBDA_LOG_LEVEL, FATAL meaning CRITICAL', () => {
    const alc = capture({ POWERTOOLS_LOG_LEVEL: 'DEBUG', AWS_LAMBDA_LOG_LEVEL: 'WARN' });
    alc.telemetry.decision(allowed);
    alc.telemetry.info('signing keys fetched');
    alc.telemetry.warn('serving stale signing keys');
    expect(alc.lines()[0]).not.toHaveProperty('message');
    expect(alc.errors().map((l) => l.message)).toEqual(['serving stale signing keys']);
    expect(readTelemetryConfig({ AWS_LAMBDA_LOG_LEVEL: 'FATAL' }).logLevel).toBe('CRITICAL');
    expect(
      readTelemetryConfig({ POWERTOOLS_LOG_LEVEL: 'ERROR', AWS_LAMBDA_LOG_LEVEL: 'INFO' }).logLevel,
    ).toBe('ERROR');
  });

  it('pretty-prints for a terminal with POWERTOOLS_DEV, metrics off unless asked for', () => {
    const dev = capture({ POWERTOOLS_DEV: 'true' });
    dev.telemetry.decision(allowed);
    expect(dev.out[0]?.split('\n').length).toBeGreaterThan(5);
    expect(JSON.parse(dev.out[0] as string)).not.toHaveProperty('_aws');
    expect(
      readTelemetryConfig({ POWERTOOLS_DEV: 'true', POWERTOOLS_METRICS_DISABLED: 'false' }).metricsNamespace,
    ).toBe('EntraAuthorizer');
  });
});

describe('other lines', () => {
  it('writes free-form fields, never over the line head; errors, bigints and cycles do not break it', () => {
    const { telemetry, lines, errors } = capture();
    const cyclic: Record<string, unknown> = { name: 'loop' };
    cyclic.self = cyclic;
    telemetry.info('signing keys fetched', { keyCount: 3, level: 'spoofed', service: 'spoofed', _aws: {} });
    telemetry.warn('signing key fetch failed', { error: new Error('ECONNRESET'), size: 10n, cyclic });
    expect(lines()[0]).toEqual({
      level: 'INFO',
      message: 'signing keys fetched',
      timestamp: new Date(NOW).toISOString(),
      service: 'entra-authorizer',
      keyCount: 3,
    });
    expect(errors()[0]).toMatchObject({
      level: 'WARN',
      error: { name: 'Error', message: 'ECONNRESET' },
      size: '10',
      cyclic: { name: 'loop' },
    });
  });

  it('drops a line it cannot write (EPIPE) instead of crashing on an unhandled error event', async () => {
    const broken = new Writable({
      write: (_chunk, _encoding, done) => done(Object.assign(new Error('write EPIPE'), { code: 'EPIPE' })),
    });
    const telemetry = createTelemetry(readTelemetryConfig({}), {
      out: lineWriter(() => broken),
      err: lineWriter(() => broken),
    });
    telemetry.decision(allowed);
    telemetry.decision(allowed);
    telemetry.error('after the pipe broke');
    await new Promise((done) => setImmediate(done));
    expect(broken.destroyed).toBe(true);
    expect(broken.listenerCount('error')).toBe(1);
    lineWriter(() => broken)('again');
    expect(broken.listenerCount('error')).toBe(1);
  });

  it('writes the ISO timestamp Date#toISOString would', () => {
    // Oracle: Date#toISOString, not isoTimestamp
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 253402300799999 }), (ms) => {
        expect(isoTimestamp(ms)).toBe(new Date(ms).toISOString());
      }),
    );
    for (const ms of [0, 1, 9, 10, 99, 100, 101, 999, 1000])
      expect(isoTimestamp(NOW - 67 + ms)).toBe(new Date(NOW - 67 + ms).toISOString());
  });
});

describe('what a line reads besides its record', () => {
  it("takes the X-Ray trace id from Lambda's _X_AMZN_TRACE_ID, its Root wherever it stands", () => {
    const before = process.env._X_AMZN_TRACE_ID;
    const lines: string[] = [];
    const telemetry = createTelemetry(readTelemetryConfig({}), { out: (l) => lines.push(l) });
    try {
      // Oracle: the X-Ray header format (Root=...;Parent=...;Sampled=...), fields in any order
      for (const [header, id] of [
        [
          'Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1',
          '1-5759e988-bd862e3fe1be46a994272793',
        ],
        ['Parent=53995c3f42cd8ad8;Sampled=0;Root=1-abc', '1-abc'],
        ['Sampled=0;Root=1-def;Parent=1', '1-def'],
        ['Parent=53995c3f42cd8ad8;Sampled=0', undefined],
      ] as const) {
        process.env._X_AMZN_TRACE_ID = header;
        telemetry.decision(allowed, invocation('r'));
        expect(JSON.parse(lines.at(-1) as string).xray_trace_id).toBe(id);
      }
    } finally {
      if (before === undefined) delete process.env._X_AMZN_TRACE_ID;
      else process.env._X_AMZN_TRACE_ID = before;
    }
  });

  it('writes each level where Powertools does: DEBUG and INFO to stdout, WARN and ERROR to stderr', () => {
    const { telemetry, lines, errors } = capture({ POWERTOOLS_LOG_LEVEL: 'DEBUG' });
    telemetry.debug('d');
    telemetry.info('i');
    telemetry.warn('w');
    telemetry.error('e');
    expect(lines().map((l) => [l.level, l.message])).toEqual([
      ['DEBUG', 'd'],
      ['INFO', 'i'],
    ]);
    expect(errors().map((l) => [l.level, l.message])).toEqual([
      ['WARN', 'w'],
      ['ERROR', 'e'],
    ]);
  });

  it('samples an invocation when the draw is below the rate, not at it', () => {
    const { telemetry, lines } = capture(
      { POWERTOOLS_LOG_LEVEL: 'WARN', POWERTOOLS_LOGGER_SAMPLE_RATE: '0.5' },
      { random: () => 0.5 },
    );
    telemetry.decision(allowed);
    expect(lines()[0]).not.toHaveProperty('message');
  });

  it('leaves the function keys out for a context without them', () => {
    const { telemetry, lines } = capture();
    telemetry.decision(allowed, { awsRequestId: 'r' } as InvocationContext);
    expect(Object.keys(lines()[0] ?? {}).slice(0, 6)).toEqual([
      'level',
      'message',
      'timestamp',
      'service',
      'cold_start',
      'function_request_id',
    ]);
  });

  it('writes a decision whose record holds a bigint, and free-form nulls', () => {
    const { telemetry, lines } = capture();
    telemetry.decision({ ...allowed, size: 10n } as unknown as DecisionRecord);
    telemetry.info('nulls', { gone: null });
    expect(lines()[0]).toMatchObject({ outcome: 'allow', size: '10' });
    expect(lines()[1]).toMatchObject({ message: 'nulls', gone: null });
  });

  it('locates an error at its first stack frame, named or not, whatever its message says', () => {
    function namedThrower(message: string) {
      return new Error(message);
    }
    const { telemetry, errors } = capture();
    for (const message of ['plain', 'see at spoof.js:1:2', 'boom\n    at spoof.js:9:9 and more']) {
      const error = namedThrower(message);
      telemetry.decision({ decision: decisionOf('internal_error'), error });
      const { location } = (errors().at(-1) as { error: { location: string } }).error;
      // Oracle: V8's stack format, its first frame the first line starting "at namedThrower ("
      const frame = (error.stack ?? '')
        .split('\n')
        .find((l) => l.trimStart().startsWith('at namedThrower ('));
      expect(frame).toContain(`(${location}:`);
    }
    const frameless = new Error('no frames');
    frameless.stack = 'Error: no frames';
    telemetry.decision({ decision: decisionOf('internal_error'), error: frameless });
    expect(errors().at(-1)?.error).toMatchObject({ message: 'no frames', location: '' });
  });
});

describe('configuration, read once at cold start', () => {
  it('defaults to INFO, the metric in EntraAuthorizer, service entra-authorizer, no sampling', () => {
    expect(readTelemetryConfig({})).toEqual({
      serviceName: 'entra-authorizer',
      logLevel: 'INFO',
      sampleRate: 0,
      sampledLogLevel: 'DEBUG',
      metricsNamespace: 'EntraAuthorizer',
      coldStartOnFirstInvocation: false,
      pretty: false,
    });
    expect(readTelemetryConfig({ LOG_LEVEL: 'warn' }).logLevel).toBe('WARN');
    expect(readTelemetryConfig({ POWERTOOLS_LOG_LEVEL: ' debug ', LOG_LEVEL: 'ERROR' }).logLevel).toBe(
      'DEBUG',
    );
  });

  it.each([
    ['POWERTOOLS_LOG_LEVEL', 'VERBOSE'],
    ['LOG_LEVEL', 'loud'],
    ['POWERTOOLS_METRICS_DISABLED', 'maybe'],
    ['POWERTOOLS_DEV', 'sometimes'],
    ['POWERTOOLS_LOGGER_SAMPLE_RATE', '2'],
    ['POWERTOOLS_LOGGER_SAMPLE_RATE', 'half'],
    ['POWERTOOLS_METRICS_NAMESPACE', 'AWS/Lambda'],
    ['POWERTOOLS_METRICS_NAMESPACE', 'x'.repeat(256)],
    ['POWERTOOLS_SERVICE_NAME', 'authorizer\u00e9'],
  ])('fails the cold start on %s=%s, naming the variable', (name, value) => {
    expect(() => readTelemetryConfig({ [name]: value })).toThrow(new RegExp(`^${name}: expected`));
  });
});

describe('the metric members serialized once', () => {
  // Not an array index: an object lists those first whatever their order (no line key is one).
  const key = fc.string().filter((k) => k !== '__proto__' && !/^(0|[1-9][0-9]*)$/.test(k));
  const object = (minKeys: number) => fc.dictionary(key, fc.jsonValue(), { minKeys, maxKeys: 6 });

  it("close a line as if its object had held them all: its own members, then the object's, then the extra ones", () => {
    // Oracle: JSON.stringify of the object that holds the three sets of members (ECMA-262 JSON.stringify)
    fc.assert(
      fc.property(object(1), object(0), fc.option(object(1), { nil: undefined }), (open, json, extra) => {
        const taken = new Set(Object.keys(open));
        const own = Object.fromEntries(Object.entries(json).filter(([k]) => !taken.has(k)));
        for (const k of Object.keys(own)) taken.add(k);
        const more =
          extra === undefined
            ? undefined
            : Object.fromEntries(Object.entries(extra).filter(([k]) => !taken.has(k)));
        fc.pre(more === undefined || Object.keys(more).length > 0);
        const closed = closeLine(
          JSON.stringify(open).slice(0, -1),
          JSON.stringify(own),
          more === undefined ? undefined : JSON.stringify(more).slice(1, -1),
        );
        expect(closed).toBe(JSON.stringify({ ...open, ...own, ...more }));
      }),
    );
  });

  it('are the EMF members JSON.stringify writes for the same objects, the timestamp varying', () => {
    // Oracle: JSON.stringify of Powertools' EMF members, written out from the EMF specification
    fc.assert(
      fc.property(fc.oneof(fc.integer({ min: 0, max: 2 ** 45 }), fc.constant(Number.NaN)), (epochMs) => {
        const expected = {
          Decisions: 1,
          _aws: {
            Timestamp: epochMs,
            CloudWatchMetrics: [
              {
                Namespace: 'EntraAuthorizer',
                Dimensions: [['service', 'outcome', 'reason']],
                Metrics: [{ Name: 'Decisions', Unit: 'Count' }],
              },
            ],
          },
        };
        expect(`{${decisionMetricMembers('EntraAuthorizer')(epochMs)}}`).toBe(JSON.stringify(expected));
      }),
    );
  });
});
