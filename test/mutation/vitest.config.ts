import { defineConfig } from 'vitest/config';
import { BaseSequencer, type TestSpecification } from 'vitest/node';
import base from '../../vitest.config.js';

/**
 * The suites that judge the mutated modules, for `npm run mutation` only, fastest and sharpest first:
 * Stryker stops a mutant's run at the first failing test, so most mutants cost a fraction of a second.
 * Suites that exercise only modules outside the mutated set are left out.
 */
export const MUTATION_SUITES = [
  'entra.property',
  'entra-explain',
  'bearer-and-jwt',
  'bearer-and-jwt.property',
  'challenge',
  'safe-text',
  'config',
  'config.property',
  'config-checks.property',
  'route-table.property',
  'policy-and-permissions',
  'policy-resource-limits',
  'route-keys',
  'http-route-keys.property',
  'route-precedence',
  'route-denials',
  'client-apps',
  'config-messages',
  'sovereign-clouds',
  'external-id-issuers',
  'client-apps-real-tokens',
  'weak-exponent',
  'hints.property',
  'hints',
  'terminal-safety.property',
  'api-kinds',
  'http-cache.property',
  'authorizer',
  'decision-fields',
  'bounded-cost',
  'bad-input.property',
  'mutation.property',
  'verifier-verdicts.property',
  'real-entra-tokens',
  'cached-policy.property',
  'guarded-api.property',
  'key-fetcher',
  'key-set',
  'key-set.property',
  'key-issuer.property',
  'key-cache-timing',
  'key-cache-lookup',
  'signing-keys',
  'tenant-keys',
  'telemetry',
  // The composition root's cold starts, for decide.ts (its module load, about a second, runs for them only).
  'handler',
  'tenant-list-holder',
  // Outside test/authorizer: npm run explain prints verifier.ts's signature check.
  'local/explain',
] as const;

/**
 * The suites of test/authorizer left out, each with its reason: they judge modules outside the mutated set
 * (a new suite must be added to one list or the other, test/house/mutation-suites.test.ts holds that).
 */
export const LEFT_OUT_SUITES = {
  'event-shapes.property':
    'HTTP API and WebSocket events through the composition root (handler.ts), whose module load takes seconds; api-kinds judges the same rules in process',
  reasons: 'the reason table (reasons.ts), not mutated',
  'tenant-list.property': 'the parameter value parser (tenant-list.ts), not mutated',
  'tenant-parameter':
    'the tenant list source and its SSM reader (tenant-source.ts, tenant-parameter.ts), not mutated; SDK retries take seconds',
} as const;

const ORDER = MUTATION_SUITES.map((name) =>
  name.includes('/') ? `test/${name}.test.ts` : `test/authorizer/${name}.test.ts`,
);

class FastFirst extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const rank = (f: TestSpecification) => ORDER.findIndex((suffix) => f.moduleId.endsWith(suffix));
    return [...files].sort((a, b) => rank(a) - rank(b));
  }
}

// The lanes of the base config are left out: this run has its own list of suites.
const { projects: _lanes, ...shared } = base.test ?? {};

export default defineConfig({
  ...base,
  test: {
    ...shared,
    include: ORDER,
    sequence: { sequencer: FastFirst },
    // Stryker's coverage instrumentation slows the property suites several times over (the cached-policy
    // properties take minutes under it on a loaded machine); a mutant's own timeout comes from Stryker.
    testTimeout: 600_000,
  },
});
