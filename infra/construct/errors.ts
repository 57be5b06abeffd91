/**
 * A prop or option of this package's constructs is wrong: the app author's mistake, found at synth. Its
 * message names the construct, the prop, what it must be and what it got; `cdk synth` of the sample app
 * prints it as one line.
 */
export class PropsError extends Error {
  override readonly name = 'PropsError';
  constructor(
    readonly construct: string,
    readonly prop: string,
    expected: string,
    actual: unknown,
  ) {
    super(`${construct}: ${prop} must be ${expected}; got ${describe(actual)}`);
  }
}

/** The longest a value is shown: a list of thousands stays a line one can read. */
const MAX_SHOWN = 400;

function describe(value: unknown): string {
  const shown = show(value);
  return shown.length <= MAX_SHOWN ? shown : `${shown.slice(0, MAX_SHOWN)}... (${shown.length} characters)`;
}

function show(value: unknown): string {
  if (value === undefined) return 'nothing';
  // JSON writes NaN and Infinity as null.
  if (typeof value === 'number') return String(value);
  try {
    // An object that says what it is (a Duration: `Duration.minutes(5)`), as it says it.
    const said = (value as { toString?: unknown } | null)?.toString;
    if (
      typeof value === 'object' &&
      !Array.isArray(value) &&
      typeof said === 'function' &&
      said !== Object.prototype.toString
    )
      return String(value);
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}
