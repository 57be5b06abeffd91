/**
 * How a person runs the local commands, for the lines they print: in this repository, from the TypeScript
 * sources, through npm's scripts (`npm start`, `npm run token`, `npm run explain`: the sample stack unless
 * --app names an assembly); from the package's bundle through its bin (`npx entra-authorizer start`, ...:
 * the user's own cloud assembly).
 */
interface CommandNames {
  /** True for this repository's npm scripts: the sample stack, synthesized in process, by default. */
  readonly sample: boolean;
  readonly start: string;
  readonly token: string;
  readonly explain: string;
  /** The line that runs `command` with `args` (shell words): npm's scripts take theirs after `--`. */
  run(command: 'token' | 'explain', args: string): string;
}

/** True when this module runs from the repository's sources, false in the package's bundle (.mjs). */
const FROM_SOURCES = import.meta.url.endsWith('.ts');

export function commandNames(fromSources: boolean = FROM_SOURCES): CommandNames {
  return fromSources
    ? {
        sample: true,
        start: 'npm start',
        token: 'npm run token',
        explain: 'npm run explain',
        run: (command, args) => `npm run -s ${command}${args === '' ? '' : ` -- ${args}`}`,
      }
    : {
        sample: false,
        start: 'npx entra-authorizer start',
        token: 'npx entra-authorizer token',
        explain: 'npx entra-authorizer explain',
        run: (command, args) => `npx entra-authorizer ${command}${args === '' ? '' : ` ${args}`}`,
      };
}
