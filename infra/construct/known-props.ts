import { PropsError } from './errors.js';
import { nearest } from './nearest.js';

/**
 * The keys of a props interface, one `true` (or what the key holds, `Value`) each: written
 * `{ ... } as const satisfies KnownProps<XProps>`, so the compiler fails when a prop is added to the
 * interface and not here, or named here and not there.
 */
export type KnownProps<Props, Value = true> = Readonly<Record<keyof Props, Value>>;

/**
 * Refuses a key `known` does not name. TypeScript catches a misspelled prop at compile time; JavaScript,
 * and TypeScript run without type checking, would pass it on, and the construct would silently do without
 * it: a misspelled `routePermissions` would admit any valid token on every route.
 */
export function checkKnownProps(
  construct: string,
  props: unknown,
  known: Readonly<Record<string, unknown>>,
): void {
  if (typeof props !== 'object' || props === null || Array.isArray(props))
    throw new PropsError(construct, 'props', 'an object of its props', props);
  const names = Object.keys(known);
  for (const key of Object.keys(props)) {
    if (Object.hasOwn(known, key)) continue;
    const meant = nearest(key, names);
    throw new PropsError(
      construct,
      key,
      meant === undefined
        ? `one of its props (${names.join(', ')})`
        : `one of its props (did you mean ${meant}?)`,
      (props as Record<string, unknown>)[key],
    );
  }
}
