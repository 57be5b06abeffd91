import { configDefaults, defineConfig } from 'vitest/config';

/**
 * The unit lane, `npm run test:unit`: the folders that test modules in process, for the edit-test loop.
 * `npm test` runs both lanes (what CI runs).
 */
export const UNIT_FOLDERS = [
  'authorizer',
  'construct',
  'house',
  'local',
  'sample',
  'shared',
  'whoami',
] as const;

/**
 * The suites of those folders that start a process (a command as a person runs it, or esbuild, which a
 * bundling synth runs): they run with test/e2e and test/package, in the process lane.
 * test/house/test-lanes.test.ts holds that no other unit suite starts one.
 */
export const PROCESS_SUITES = [
  'test/local/explain.test.ts',
  'test/construct/authorizer-bundle.test.ts',
  'test/local/http-assembly.test.ts',
  'test/local/websocket-assembly.test.ts',
] as const;

/** The folders of the process lane: the commands, the local API and the package as a person uses them. */
export const PROCESS_FOLDERS = ['e2e', 'package'] as const;

/**
 * The suites of the code that imports aws-jwt-verify at run time (the key cache, the key set, the verifier and
 * its oracle), run a second time against the lowest version package.json allows: `aws-jwt-verify-lowest` is
 * an npm alias of that exact version. In process, but a lane of their own, so that `test:unit` runs each once.
 */
export const LOWEST_LIBRARY_SUITES = [
  'key-cache-lookup',
  'key-cache-timing',
  'key-set',
  'key-set.property',
  'signing-keys',
  'verifier-verdicts.property',
  'real-entra-tokens',
].map((name) => `test/authorizer/${name}.test.ts`);

export default defineConfig({
  test: {
    testTimeout: 60_000,
    hookTimeout: 60_000,
    env: { POWERTOOLS_LOG_LEVEL: 'SILENT', POWERTOOLS_METRICS_DISABLED: 'true' },
    setupFiles: ['test/helpers/file-temp.ts'],
    projects: [
      {
        extends: true,
        test: {
          name: 'unit',
          include: UNIT_FOLDERS.map((folder) => `test/${folder}/**/*.test.ts`),
          exclude: [...configDefaults.exclude, ...PROCESS_SUITES],
          // A worker runs its files one after another in one module registry: aws-cdk-lib (seconds to load,
          // and its first synth seconds more) is loaded once per worker rather than once per file. The
          // suites restore what they change (environment, timers, spies, working folder) after themselves.
          isolate: false,
        },
      },
      {
        extends: true,
        test: {
          name: 'process',
          include: [...PROCESS_FOLDERS.map((folder) => `test/${folder}/**/*.test.ts`), ...PROCESS_SUITES],
        },
      },
      {
        extends: true,
        resolve: { alias: [{ find: /^aws-jwt-verify(\/.*)?$/, replacement: 'aws-jwt-verify-lowest$1' }] },
        test: { name: 'aws-jwt-verify-lowest', include: LOWEST_LIBRARY_SUITES },
      },
    ],
  },
});
