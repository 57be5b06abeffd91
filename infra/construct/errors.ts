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

function describe(value: unknown): string {
  if (value === undefined) return 'nothing';
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}
