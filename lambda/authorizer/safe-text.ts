/**
 * Text built from untrusted input for logs, hints and `npm run explain`: bounded in size, never recursing
 * without bound, never throwing, and never carrying credentials from a URL.
 */

/**
 * The most any one logged field may hold, counted as JSON writes it (a control character takes six), so
 * that one decision line stays under 4 KiB.
 */
export const LOG_LIMITS = {
  /** `detail`: the rejection or the missing permission. */
  detail: 300,
  /** `hint`: the operator hint. */
  hint: 600,
  /** `path`: the request path from the method ARN. */
  path: 256,
  /** `method`, `tid`, `oid`, `appId`, `kid`. */
  field: 128,
  /** The stack of an unexpected error (its message counts as a detail). */
  stack: 1200,
} as const;

/** How many characters JSON.stringify writes for the character at `i` (0 for the second half of a pair). */
function jsonCost(text: string, i: number): number {
  const c = text.charCodeAt(i);
  if (c === 0x22 || c === 0x5c) return 2;
  if (c < 0x20) return c === 0x08 || c === 0x09 || c === 0x0a || c === 0x0c || c === 0x0d ? 2 : 6;
  if (c >= 0xd800 && c <= 0xdbff) {
    const next = text.charCodeAt(i + 1);
    return next >= 0xdc00 && next <= 0xdfff ? 2 : 6;
  }
  if (c >= 0xdc00 && c <= 0xdfff) {
    const previous = text.charCodeAt(i - 1);
    return previous >= 0xd800 && previous <= 0xdbff ? 0 : 6;
  }
  return 1;
}

/**
 * At most `max` characters as JSON writes them, then `...`; a surrogate pair is never split. Costs at most
 * `max` steps, whatever the length of `text`.
 */
export function clip(text: string, max: number): string {
  if (text.length * 6 <= max) return text;
  let cost = 0;
  for (let i = 0; i < text.length; i++) {
    cost += jsonCost(text, i);
    // A pair costs its all at its first half, so cutting here never splits one.
    if (cost > max) return `${text.slice(0, i)}...`;
  }
  return text;
}

/**
 * Bidirectional formatting characters (which reorder the text around them on screen, as in "Trojan Source")
 * and the line and paragraph separators (which some terminals and viewers break lines at).
 */
const isInvisibleFormat = (code: number) =>
  code === 0x061c ||
  code === 0x200e ||
  code === 0x200f ||
  (code >= 0x2028 && code <= 0x202e) ||
  (code >= 0x2066 && code <= 0x2069);
/**
 * C0 controls (newline and tab included), DEL and C1 controls: what a terminal acts on rather than shows;
 * and the formatting characters that change what the rest of a line appears to say.
 */
// Printable ASCII, nearly every character of a log field, is settled by the first comparison.
const isHighControl = (code: number) => code >= 0x7f && (code <= 0x9f || isInvisibleFormat(code));
const isControl = (code: number) => code < 0x20 || isHighControl(code);
const hex = (code: number, digits: number) => code.toString(16).padStart(digits, '0');

function escapeWhere(text: string, test: (code: number) => boolean, written: (code: number) => string) {
  let out = '';
  let from = 0;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (!test(code)) continue;
    out += text.slice(from, i) + written(code);
    from = i + 1;
  }
  return from === 0 ? text : out + text.slice(from);
}

/**
 * Text from a token as it may reach a terminal or a log line: each C0 or C1 control character (ESC, BEL,
 * the 8-bit CSI and OSC, a newline that would start a fake line) written as `\xHH`, and each bidirectional
 * formatting character or line separator as `\uHHHH`. Everything else is kept.
 */
export function printable(text: string): string {
  return escapeWhere(text, isControl, (code) => (code <= 0xff ? `\\x${hex(code, 2)}` : `\\u${hex(code, 4)}`));
}

/**
 * JSON text as it may reach a terminal: JSON.stringify escapes C0 controls but writes DEL, C1 controls,
 * bidirectional formatting characters and U+2028/U+2029 raw; these only occur inside strings, where
 * `\uHHHH` means the same character.
 */
export function printableJson(json: string): string {
  return escapeWhere(json, isHighControl, (code) => `\\u${hex(code, 4)}`);
}

/** Printable ASCII that JSON writes as itself (neither `"` nor a backslash): text that printable and clip leave as it is. */
const PLAIN_TEXT = /^[\x20\x21\x23-\x5b\x5d-\x7e]*$/;

/**
 * Text from untrusted input as a log line may hold it: `clip(printable(text), max)`. Short plain text, nearly
 * every field of a decision, is settled by one scan.
 */
export function loggableText(text: string, max: number): string {
  return text.length <= max && PLAIN_TEXT.test(text) ? text : clip(printable(text), max);
}

const PREVIEW_DEPTH = 2;
const PREVIEW_ITEMS = 3;

function render(value: unknown, max: number, depth: number): string {
  switch (typeof value) {
    case 'string':
      return JSON.stringify(clip(value, max));
    case 'number':
    case 'boolean':
      return String(value);
    case 'undefined':
      return 'undefined';
    case 'object': {
      if (value === null) return 'null';
      // Depth is bounded here, so a value nested thousands of levels deep costs a few calls.
      if (Array.isArray(value)) {
        if (depth >= PREVIEW_DEPTH) return `[array of ${value.length}]`;
        const items = value.slice(0, PREVIEW_ITEMS).map((v) => render(v, max, depth + 1));
        if (value.length > PREVIEW_ITEMS) items.push(`... ${value.length - PREVIEW_ITEMS} more`);
        return `[${items.join(',')}]`;
      }
      const keys = Object.keys(value);
      if (depth >= PREVIEW_DEPTH) return `{object of ${keys.length} keys}`;
      const entries = keys
        .slice(0, PREVIEW_ITEMS)
        .map(
          (k) =>
            `${JSON.stringify(clip(k, 40))}:${render((value as Record<string, unknown>)[k], max, depth + 1)}`,
        );
      if (keys.length > PREVIEW_ITEMS) entries.push(`... ${keys.length - PREVIEW_ITEMS} more`);
      return `{${entries.join(',')}}`;
    }
    default:
      return typeof value;
  }
}

/**
 * A short, JSON-like rendering of an untrusted value (`"RS256"`, `42`, `[["..."]]`): strings clipped to
 * `max`, at most two levels and three items per level shown, then the whole clipped again.
 */
export function preview(value: unknown, max = 80): string {
  return clip(render(value, max, 0), max * 2);
}

/** ISO time of a NumericDate, or a plain statement when it lies outside what a JavaScript date can hold. */
export function isoTime(seconds: number): string {
  const date = new Date(seconds * 1000);
  return Number.isNaN(date.getTime()) ? `${seconds} (not a representable date)` : date.toISOString();
}

/**
 * A URL as it may be logged: user-info and query (and fragment) replaced by `***`, so credentials or
 * tokens in a key URL never reach a log. Works on strings that do not parse as URLs too, wherever the URL
 * stands in them.
 */
export function redactUrl(uri: string): string {
  try {
    const url = new URL(uri);
    const userinfo = url.username !== '' || url.password !== '' ? '***@' : '';
    return `${url.protocol}//${userinfo}${url.host}${url.pathname}${url.search !== '' ? '?***' : ''}${url.hash !== '' ? '#***' : ''}`;
  } catch {
    // User-info from each `://`, not from a scheme: a scheme pattern tried at every position of a long word
    // backtracks over the whole word each time (quadratic); the user-info needs no scheme to be hidden.
    return uri
      .replace(/(:[/\\]{2})[^/\\?#]*@/g, '$1***@')
      .replace(/\?[^#]*/, '?***')
      .replace(/#.*$/s, '#***');
  }
}

/**
 * A copy of an untrusted JSON value cut off below `maxDepth` levels, for output that is serialized again
 * (`npm run explain --json`): serializers recurse, so a value nested thousands of levels deep would overflow
 * the stack. The walk itself is iterative.
 */
export function boundedJson(value: unknown, maxDepth = 16): unknown {
  if (typeof value !== 'object' || value === null) return value;
  const root: unknown = Array.isArray(value) ? [] : {};
  const stack: { from: object; to: Record<string, unknown> | unknown[]; depth: number }[] = [
    { from: value, to: root as Record<string, unknown>, depth: 1 },
  ];
  while (stack.length > 0) {
    const { from, to, depth } = stack.pop() as (typeof stack)[number];
    for (const [key, child] of Object.entries(from)) {
      let copy: unknown = child;
      if (typeof child === 'object' && child !== null) {
        if (depth >= maxDepth) copy = `[nested deeper than ${maxDepth} levels]`;
        else {
          copy = Array.isArray(child) ? [] : {};
          stack.push({ from: child, to: copy as Record<string, unknown>, depth: depth + 1 });
        }
      }
      if (Array.isArray(to)) to.push(copy);
      else
        Object.defineProperty(to, key, { value: copy, enumerable: true, writable: true, configurable: true });
    }
  }
  return root;
}

/** The message of a thrown value, or its text; never throws (a getter or a Proxy may). */
export function safeString(value: unknown): string {
  try {
    return value instanceof Error ? value.message : String(value);
  } catch {
    return typeof value;
  }
}

/** An error whose text `loggableError` has capped and made printable. */
class LoggableError extends Error {}

/**
 * An unexpected error as it may be logged, the one place error text is capped: its name, message and stack
 * capped at LOG_LIMITS and free of control characters, and its direct cause (often what really failed: a
 * socket, a parser) kept the same way with a shorter stack. One already made loggable is returned as it is.
 */
export function loggableError(err: unknown, depth = 0): Error {
  if (err instanceof LoggableError) return err;
  const safe = new LoggableError(loggableText(safeString(err), LOG_LIMITS.detail));
  if (err instanceof Error) {
    safe.name = loggableText(safeString(err.name), LOG_LIMITS.field);
    // Line by line: a message quoting a token or a path keeps no control character, the stack its lines.
    const stack = safeString(err.stack ?? '')
      .split('\n')
      .map(printable)
      .join('\n');
    safe.stack = clip(stack, depth === 0 ? LOG_LIMITS.stack : LOG_LIMITS.detail);
    let cause: unknown;
    try {
      cause = err.cause;
    } catch {
      cause = undefined;
    }
    if (depth === 0 && cause !== undefined) safe.cause = loggableError(cause, 1);
  }
  return safe;
}
