import type { ParseArgsConfig } from 'node:util';
import { nearest } from '../construct/nearest.js';

/** A mistake on the command line: the message is one line for a person, shown above the usage. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

type Options = NonNullable<ParseArgsConfig['options']>;

/**
 * Checks a command line against `options` before `util.parseArgs` sees it, so that a person's mistake is a
 * UsageError with one clear line (an unknown flag with the nearest known one, a missing value) rather than a
 * stack trace. It also joins `--flag -600` into `--flag=-600`, which parseArgs refuses as ambiguous.
 * Returns the arguments for parseArgs.
 */
export function checkArgs(
  args: readonly string[],
  options: Options,
  { positionals = false }: { positionals?: boolean } = {},
): string[] {
  const out: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] as string;
    if (arg === '--') {
      const rest = args.slice(i + 1);
      if (!positionals && rest.length > 0) throw unexpected(rest[0] as string);
      out.push(...args.slice(i));
      break;
    }
    if (!arg.startsWith('-') || arg === '-') {
      if (!positionals) throw unexpected(arg);
      out.push(arg);
      continue;
    }
    const long = arg.startsWith('--');
    const eq = arg.indexOf('=');
    const written = eq === -1 ? arg : arg.slice(0, eq);
    const inline = eq === -1 ? undefined : arg.slice(eq + 1);
    const name = long
      ? written.slice(2)
      : Object.entries(options).find(
          ([, spec]) => spec.short !== undefined && `-${spec.short}` === written,
        )?.[0];
    const spec = name === undefined ? undefined : options[name];
    if (name === undefined || spec === undefined) {
      const guess = nearest(written.replace(/^--?/, ''), Object.keys(options));
      throw new UsageError(
        `unknown flag ${written}${guess === undefined ? '' : ` (did you mean --${guess}?)`}`,
      );
    }
    if (spec.type === 'boolean') {
      if (inline !== undefined) throw new UsageError(`${written} takes no value; got ${arg}`);
      out.push(`--${name}`);
      continue;
    }
    if (inline !== undefined) {
      out.push(`--${name}=${inline}`);
      continue;
    }
    const next = args[i + 1];
    // A negative number is a value, not a flag: no flag here is spelt with a digit.
    if (next === undefined || next === '--' || (next.startsWith('-') && !/^-\d/.test(next))) {
      throw new UsageError(
        `${written} needs a value${next === undefined || next === '--' ? '' : ` (one that starts with "-" is written ${written}=${next})`}`,
      );
    }
    out.push(`--${name}=${next}`);
    i++;
  }
  return out;
}

function unexpected(arg: string): UsageError {
  return new UsageError(`unexpected argument ${JSON.stringify(arg)}: this command takes only flags`);
}

/**
 * Runs a command's argument parsing; a UsageError (or a parseArgs refusal we did not foresee) prints
 * `<command>: <one line>`, then the usage, on stderr and exits 2. Anything else is a bug and is rethrown.
 */
export function parseOrExit<T>(command: string, usage: string, parse: () => T): T {
  try {
    return parse();
  } catch (err) {
    const code = (err as { code?: unknown }).code;
    if (err instanceof UsageError || (typeof code === 'string' && code.startsWith('ERR_PARSE_ARGS'))) {
      const line = (err as Error).message.split('\n')[0];
      console.error(`${command}: ${line}\n\n${usage}`);
      process.exit(2);
    }
    throw err;
  }
}

/**
 * A reader that stops early (`| head -n 1`) closes the pipe: the rest of the output has nobody to go to,
 * which is no error of the command's, so it ends quietly as Unix tools do instead of with an EPIPE trace.
 */
export function endQuietlyWhenStdoutCloses(): void {
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') process.exit(0);
    throw err;
  });
}
