import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { BadEventError } from '../../lambda/authorizer/errors.js';
import { parseMethodArn, requestResource, routeResources } from '../../lambda/authorizer/policy.js';

/**
 * Oracles from "Output from an API Gateway Lambda authorizer": a policy Resource holds at most 512
 * characters. The README's policy rules: the request's own resource is denied by name, or, when longer
 * than that, by its longest prefix that fits followed by `*`; a prefix never ends inside a UTF-16
 * surrogate pair (a lone surrogate is not text API Gateway could read back).
 */
const LIMIT = 512;
const BASE = 'arn:aws:execute-api:eu-west-1:123456789012:abc123def4/prod';
/** The longest real prefix: API Gateway stage names have at most 128 characters, the longest partition. */
const LONGEST_REAL = `arn:aws-iso-b:execute-api:us-isob-east-1:123456789012:abcdef1234/${'s'.repeat(128)}`;
/** The longest route path a route key may have, counted as written into a policy (README: route keys). */
const LONGEST_ROUTE = `/${'r'.repeat(299)}`;

/** IAM's `*` at the end matches the rest; compared by UTF-16 unit, as the ARN is sent. */
const covers = (resource: string, arn: string) =>
  resource === arn || (resource.endsWith('*') && arn.startsWith(resource.slice(0, -1)));

/** No lone UTF-16 surrogate (String.prototype.isWellFormed, which ES2022's lib does not declare). */
const wellFormed = (text: string) =>
  !/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/.test(text);

/** The documented fallback, written without the production code: 511 characters and `*`, or 510. */
function expectedResource(arn: string): string {
  if (arn.length <= LIMIT) return arn;
  const head = arn.slice(0, LIMIT - 1);
  return `${wellFormed(head) ? head : arn.slice(0, LIMIT - 2)}*`;
}

const pathSegment = fc.stringMatching(/^[A-Za-z0-9._~%-]{1,40}$/, { size: 'max' });
const astral = fc.constantFrom('\u{10000}', '\u{1F600}', '\u{10FC00}', '\u{10FFFF}');

describe('the request resource of a method ARN near the 512-character limit', () => {
  it('is the ARN itself up to 512 characters, else its longest fitting prefix and *, and always covers the request', () => {
    // Oracle: expectedResource() above and API Gateway's documented 512-character limit, plus the IAM matcher in covers()
    fc.assert(
      fc.property(
        // size 'max': at the default size no ARN reached 512 characters, leaving the fallback to the cases below.
        fc.array(fc.oneof(pathSegment, astral, fc.constant('é')), {
          minLength: 1,
          maxLength: 60,
          size: 'max',
        }),
        fc.constantFrom('GET', 'DELETE'),
        (parts, method) => {
          const arn = `${BASE}/${method}/${parts.join('/')}`;
          const resource = requestResource(parseMethodArn(arn));
          expect(resource).toBe(expectedResource(arn));
          expect(resource?.length).toBeLessThanOrEqual(LIMIT);
          expect(covers(resource as string, arn)).toBe(true);
        },
      ),
      { numRuns: 300 },
    );
  });

  // Each length at the boundary, and an astral character placed so that the 511-character cut lands on
  // either half of its surrogate pair (both ends of the high-surrogate range: U+10000 and U+10FC00).
  const padTo = (length: number, tail = '') => {
    const head = `${BASE}/GET/`;
    return `${head}${'a'.repeat(length - head.length - tail.length)}${tail}`;
  };
  it.each([
    ['511 characters', padTo(511)],
    ['512 characters', padTo(512)],
    ['513 characters', padTo(513)],
    ['a pair split by the cut at U+10000', `${padTo(510)}\u{10000}bbb`],
    ['a pair split by the cut at U+10FC00', `${padTo(510)}\u{10FC00}bbb`],
    ['a pair just before the cut', `${padTo(509)}\u{10000}bbb`],
    ['a pair ending the 512 characters', padTo(512, '\u{10FC00}')],
  ])('%s', (_, arn) => {
    const resource = requestResource(parseMethodArn(arn)) as string;
    expect(resource).toBe(expectedResource(arn));
    expect(wellFormed(resource)).toBe(true);
    expect(covers(resource, arn)).toBe(true);
  });
});

describe('a method ARN whose prefix could not leave room for a route', () => {
  const HEAD = 'arn:aws-iso-b:execute-api:us-isob-east-1:123456789012:abcdef1234/';
  // Stage lengths around the edge, where the longest route's OPTIONS resource reaches 512 characters.
  const stage = fc
    .integer({ min: 100, max: 180 })
    .chain((n) => fc.stringMatching(new RegExp(`^[A-Za-z0-9_-]{${n}}$`)));

  it('is accepted exactly when every resource of the longest route fits, whatever its own method', () => {
    // Oracle: the documented 512-character limit applied to the longest route in the test (`fits`), not policy.ts
    fc.assert(
      fc.property(stage, fc.constantFrom('GET', 'OPTIONS', 'DELETE'), (name, method) => {
        const arn = `${HEAD}${name}/${method}/x`;
        // A `*` route lists every REST method; OPTIONS is the longest.
        const fits = `${HEAD}${name}/OPTIONS${LONGEST_ROUTE}`.length <= LIMIT;
        if (!fits) {
          expect(() => parseMethodArn(arn)).toThrow(BadEventError);
          return;
        }
        const parsed = parseMethodArn(arn);
        const resources = routeResources(parsed, { method: '*', path: LONGEST_ROUTE });
        expect(resources).toHaveLength(7);
        for (const r of resources) expect(r.length).toBeLessThanOrEqual(LIMIT);
      }),
      { numRuns: 300 },
    );
  });

  it.each(['/', '/x', `/${'p'.repeat(2000)}`])(
    'the longest real prefix is accepted whatever the path (%#)',
    (path) => {
      for (const method of ['GET', 'OPTIONS'])
        expect(parseMethodArn(`${LONGEST_REAL}/${method}${path}`).stage).toBe('s'.repeat(128));
    },
  );

  it('a methodArn that is not a string, or has text before its arn:, is refused, even one that reads as an ARN', () => {
    // An ARN starts with `arn:` (IAM identifiers); the Resource echoes the method ARN as sent.
    for (const before of ['x', '*', ' ', 'arn:aws:s3:::b/'])
      expect(() => parseMethodArn(`${before}${LONGEST_REAL}/GET/x`)).toThrow(BadEventError);
    expect(() => parseMethodArn([`${LONGEST_REAL}/GET/x`])).toThrow(BadEventError);
    expect(() => parseMethodArn({ toString: () => `${LONGEST_REAL}/GET/x` })).toThrow(BadEventError);
  });
});
