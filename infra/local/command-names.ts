/**
 * How a person runs the local commands, for the lines they print: in this repository through npm's scripts
 * (`npm start`, `npm run token`, `npm run explain`, the sample stack), anywhere else through the package's
 * bin (`npx entra-authorizer start`, ..., the user's own cloud assembly).
 */
export interface CommandNames {
  /** True for this repository's npm scripts: the sample stack, synthesized in process. */
  readonly sample: boolean;
  readonly start: string;
  readonly token: string;
  readonly explain: string;
}

const LOCAL_COMMANDS = ['start', 'token', 'explain'] as const;

export function commandNames(env: Readonly<Record<string, string | undefined>> = process.env): CommandNames {
  const sample =
    env.npm_package_name === 'entra-authorizer' &&
    (LOCAL_COMMANDS as readonly (string | undefined)[]).includes(env.npm_lifecycle_event);
  return sample
    ? { sample, start: 'npm start', token: 'npm run token', explain: 'npm run explain' }
    : {
        sample,
        start: 'npx entra-authorizer start',
        token: 'npx entra-authorizer token',
        explain: 'npx entra-authorizer explain',
      };
}
