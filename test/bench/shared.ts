import { TELEMETRY_DEFAULTS, TELEMETRY_ENV_NAMES } from '../../lambda/authorizer/telemetry-config.js';

/** What run.ts and its child warm.ts agree on: the token's tenant and audience, and the report's shape. */
export const BENCH_TENANT = '72f988bf-86f1-41af-91ab-2d7cd011db47';
export const BENCH_CLIENT = '6e74172b-be56-4843-9ff4-e66a39bb12e3';
export const BENCH_ISSUER = `https://login.microsoftonline.com/${BENCH_TENANT}/v2.0`;
export const BENCH_METHOD_ARN = 'arn:aws:execute-api:eu-west-1:123456789012:abc123def4/prod/GET/whoami';

/** The telemetry configuration the construct deploys: INFO decision lines and the Decisions metric. */
export const PRODUCTION_ENV = {
  [TELEMETRY_ENV_NAMES.serviceName]: TELEMETRY_DEFAULTS.serviceName,
  [TELEMETRY_ENV_NAMES.logLevel]: 'INFO',
  [TELEMETRY_ENV_NAMES.metricsNamespace]: TELEMETRY_DEFAULTS.metricsNamespace,
  [TELEMETRY_ENV_NAMES.metricsDisabled]: 'false',
};

/** The size of the line the `floor+line` candidate writes: about a decision line's. */
export const FLOOR_LINE_BYTES = 640;

export const CANDIDATES = {
  floor: 'floor: base64url-decode + `JSON.parse` of header and payload + one `node:crypto` RS256 verify',
  'floor+line': `floor + writing one ${FLOOR_LINE_BYTES}-byte line to the same stdout pipe (a logged decision's floor)`,
  'aws-jwt-verify': 'bare aws-jwt-verify `verify()`',
  jose: 'jose `jwtVerify` with a local key set',
  jsonwebtoken: 'jsonwebtoken with jwks-rsa',
  'naive peer':
    'naive peer: bare aws-jwt-verify TOKEN authorizer (`test/bench/bare-peer.ts`), `console.log` of its decision',
  silenced: 'entra-authorizer full decision, telemetry off (no log line, no metric)',
  production:
    '**entra-authorizer full decision as deployed**: INFO decision line + `Decisions` metric, written to a stdout pipe',
} as const;
export type CandidateName = keyof typeof CANDIDATES;

/** The parts of a decision, each timed on its own (warm.ts), plus the module load (cold.ts). */
export const PART_NAMES = [
  'Entra rules',
  'verify',
  'route decision',
  'context',
  'policy',
  'telemetry',
] as const;
export type PartName = (typeof PART_NAMES)[number];

/** What each part's line measures, for the report. */
export const PARTS: Record<PartName, string> = {
  'Entra rules': 'split and parse the token, then every Entra rule (`decodeJwt` + `checkEntraToken`)',
  verify: 'the RS256 signature with the held key (`verifiesRs256`, node:crypto)',
  'route decision': 'the route permissions for the method ARN (`createRouteAuthorizer`)',
  context: 'the principal and the context handed to the backend (`principalIdOf` + `buildContext`)',
  policy: 'the IAM policy for the stage, with the context built beforehand (`buildPolicy`)',
  telemetry: 'the decision line with its EMF metric, built and serialized (not written: see `floor + line`)',
};

export interface Candidate {
  readonly name: CandidateName;
  readonly run: (token: string, index: number) => unknown;
}

export interface WarmReport {
  readonly tokens: number;
  readonly rounds: number;
  /** Per candidate, per round, the time of each decision in microseconds. */
  readonly samples: Record<string, number[][]>;
  /** Per part of a decision, per round, the time of each call in microseconds; empty in the second run. */
  readonly parts: Record<string, number[][]>;
  /** Decisions per candidate, warm-up included, to count the lines on stdout against. */
  readonly calls: Record<string, number>;
  /** Absent when BENCH_MEMORY=off (the /dev/null run). */
  readonly memory?: {
    readonly gcExposed: boolean;
    readonly heapBeforeBytes: number;
    readonly growthAfter100kDecisionsBytes: number;
    readonly growthAfter20kForgedBytes: number;
    readonly forgedRefused: number;
    /** Forged tenants and kids against per-tenant key sets (warm.ts, tenantKeyFlood). */
    readonly tenantKeyFlood?: {
      readonly withBudget: TenantFloodRun;
      readonly withoutBudget: TenantFloodRun;
      readonly maxSets: number;
    };
  };
}

export interface TenantFloodRun {
  readonly forged: number;
  readonly seconds: number;
  readonly tenantFetches: number;
  /** Heap growth with the caches still held (the sets they keep are counted). */
  readonly growthBytes: number;
}
