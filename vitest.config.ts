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
 * The suites of those folders that start a process (a command as a person runs it): they run with
 * test/e2e and test/package, in the process lane. test/house/test-lanes.test.ts holds that no other unit
 * suite starts one.
 */
export const PROCESS_SUITES = ['test/local/explain.test.ts'] as const;

/** The folders of the process lane: the commands, the local API and the package as a person uses them. */
export const PROCESS_FOLDERS = ['e2e', 'package'] as const;

export default defineConfig({
  test: {
    testTimeout: 60_000,
    hookTimeout: 60_000,
    env: { POWERTOOLS_LOG_LEVEL: 'SILENT', POWERTOOLS_METRICS_DISABLED: 'true' },
    projects: [
      {
        extends: true,
        test: {
          name: 'unit',
          include: UNIT_FOLDERS.map((folder) => `test/${folder}/**/*.test.ts`),
          exclude: [...configDefaults.exclude, ...PROCESS_SUITES],
        },
      },
      {
        extends: true,
        test: {
          name: 'process',
          include: [...PROCESS_FOLDERS.map((folder) => `test/${folder}/**/*.test.ts`), ...PROCESS_SUITES],
        },
      },
    ],
  },
});
