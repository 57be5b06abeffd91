import { RemovalPolicy, Token } from 'aws-cdk-lib';
import { RetentionDays } from 'aws-cdk-lib/aws-logs';
import { PropsError } from './errors.js';

/**
 * What a prop holds, checked before any rule of the construct reads it: a JavaScript app can pass anything,
 * and a rule written for a string would fail on a number with a TypeError that names no prop. A value the
 * construct checks must be known at synth, so a CDK Token is refused, naming the prop (a tenant list's SSM
 * parameter, whose name may be known only at deploy, is the one exception: tenants-parameter.ts).
 * - `text`: a non-blank string (its rule decides which);
 * - `names`: an array of strings (emptiness and each name's rule: checkList and validateSettings);
 * - `tenants`: `names`, or an SSM parameter, or a parameter's name;
 * - `duration`: aws-cdk-lib's `Duration`; `number`: a number (its range: its rule);
 * - `routes`: a route table, no Token inside (its shape: the route table's parser);
 * - `retention`: a `RetentionDays`; `removal`: a `RemovalPolicy`.
 */
export type PropKind =
  | 'text'
  | 'names'
  | 'tenants'
  | 'duration'
  | 'number'
  | 'routes'
  | 'retention'
  | 'removal';

const NOT_A_TOKEN = 'a value known at synth, not a Token (the construct checks it when the app synthesizes)';

type Check = (value: unknown, fail: (expected: string) => never) => void;

const RETENTION_DAYS: readonly unknown[] = Object.values(RetentionDays).filter((v) => typeof v === 'number');
const REMOVAL_POLICIES: readonly unknown[] = Object.values(RemovalPolicy);

/** Whether a CDK Token is anywhere in `value`: itself, or an item, a key or a value inside it. */
function holdsToken(value: unknown): boolean {
  if (typeof value === 'string' || typeof value === 'number') return Token.isUnresolved(value);
  if (Array.isArray(value)) return Token.isUnresolved(value) || value.some(holdsToken);
  if (typeof value === 'object' && value !== null)
    return Object.entries(value).some(([key, item]) => Token.isUnresolved(key) || holdsToken(item));
  return false;
}

function checkNames(value: unknown, fail: (expected: string) => never): void {
  if (!Array.isArray(value) || value.some((name) => typeof name !== 'string'))
    fail("a list of strings, such as ['Items.Read']");
  if (holdsToken(value)) fail(NOT_A_TOKEN);
}

const CHECKS: Readonly<Record<PropKind, Check>> = {
  text: (value, fail) => {
    if (typeof value !== 'string') return fail('a string');
    if (value.trim() === '') fail('a non-blank string');
    if (Token.isUnresolved(value)) fail(NOT_A_TOKEN);
  },
  names: checkNames,
  tenants: (value, fail) => {
    if (Array.isArray(value)) return checkNames(value, fail);
    // A parameter (IStringParameter, IStringListParameter) has both: a look-alike object, its name alone.
    const parameter = value as { parameterName?: unknown; parameterArn?: unknown } | null;
    const isParameter =
      typeof parameter?.parameterName === 'string' && typeof parameter.parameterArn === 'string';
    if (typeof value !== 'string' && !isParameter)
      fail(
        'a list of tenant GUIDs, or the SSM parameter that holds them (a StringParameter or StringListParameter) or its name',
      );
  },
  duration: (value, fail) => {
    // Before its seconds, which a Duration of a Token does not have (converting it throws).
    const duration = value as { isUnresolved?: () => boolean; toSeconds?: unknown } | null;
    if (typeof duration?.toSeconds !== 'function')
      fail('a Duration from aws-cdk-lib, such as Duration.minutes(5)');
    if (duration?.isUnresolved?.() === true) fail(NOT_A_TOKEN);
  },
  number: (value, fail) => {
    if (typeof value !== 'number') fail('a number');
    if (Token.isUnresolved(value)) fail(NOT_A_TOKEN);
  },
  routes: (value, fail) => {
    if (holdsToken(value)) fail(NOT_A_TOKEN);
  },
  retention: (value, fail) => {
    if (!RETENTION_DAYS.includes(value))
      fail('a RetentionDays, such as RetentionDays.ONE_MONTH (a retention CloudWatch Logs accepts)');
  },
  removal: (value, fail) => {
    if (!REMOVAL_POLICIES.includes(value)) fail('a RemovalPolicy, such as RemovalPolicy.RETAIN');
  },
};

/** Refuses a prop given (not undefined) whose value is not of its kind, naming the construct and the prop. */
export function checkPropKinds(
  construct: string,
  props: object,
  kinds: Readonly<Record<string, PropKind>>,
): void {
  for (const [prop, kind] of Object.entries(kinds)) {
    const value: unknown = (props as Record<string, unknown>)[prop];
    if (value === undefined) continue;
    CHECKS[kind](value, (expected) => {
      throw new PropsError(construct, prop, expected, value);
    });
  }
}
