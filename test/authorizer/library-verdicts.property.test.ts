import {
  JwtExpiredError,
  JwtInvalidAudienceError,
  JwtInvalidIssuerError,
  JwtInvalidSignatureAlgorithmError,
  JwtInvalidSignatureError,
  JwtNotBeforeError,
  KidNotFoundInJwksError,
} from 'aws-jwt-verify/error';
import { JwtVerifierBase } from 'aws-jwt-verify/jwt-verifier';
import fc from 'fast-check';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { ENV_NAMES, loadConfig } from '../../lambda/authorizer/config.js';
import { TokenRejectedError } from '../../lambda/authorizer/errors.js';
import { EntraJwksCache } from '../../lambda/authorizer/keys/key-cache.js';
import { createTokenVerifier } from '../../lambda/authorizer/verifier.js';
import {
  APP_ID_URI,
  CLIENT_ID,
  claims,
  header,
  nowSeconds,
  OTHER_TENANT,
  publishedKeySet,
  signed,
  TENANT,
  testKeys,
} from '../helpers/setup.js';

/*
 * verifier.ts hands a token to aws-jwt-verify only after entra.ts has checked it, and the key only after
 * the key-set filter kept it. Every verdict the library can then give is one the verifier names (a 401
 * with its reason); its catch-all for any other library verdict ("malformed") is never reached. This
 * property shows it for signed tokens that vary exactly the fields the library looks at (alg, kid, x5t,
 * exp, nbf, iss, aud) around the edges entra.ts draws, each a 401 or accepted (never a 500, the house rule
 * for a token that does not verify), with every library refusal one of the named verdicts.
 */
const NAMED_VERDICTS = [
  JwtInvalidSignatureError,
  JwtExpiredError,
  JwtNotBeforeError,
  JwtInvalidIssuerError,
  JwtInvalidAudienceError,
  JwtInvalidSignatureAlgorithmError,
  KidNotFoundInJwksError,
];

const thrown: unknown[] = [];
let libraryCalls = 0;
// The method every verifyDecoded call goes through (protected in the library's types, hence the cast).
type Verify = (this: unknown, ...args: unknown[]) => unknown;
const base = JwtVerifierBase.prototype as unknown as { verifyDecomposedJwtSync: Verify };
const original = base.verifyDecomposedJwtSync;
const spy = vi.spyOn(base, 'verifyDecomposedJwtSync').mockImplementation(function (this: unknown, ...args) {
  libraryCalls++;
  try {
    return original.apply(this, args);
  } catch (err) {
    thrown.push(err);
    throw err;
  }
});
afterAll(() => spy.mockRestore());

const SKEW = 300;
const config = loadConfig({
  [ENV_NAMES.tenantId]: TENANT,
  [ENV_NAMES.audiences]: `${CLIENT_ID},${APP_ID_URI}`,
  [ENV_NAMES.clockSkewSeconds]: String(SKEW),
});
const keys = new EntraJwksCache({
  fetcher: { fetch: async () => new TextEncoder().encode(JSON.stringify(publishedKeySet())).buffer },
});
const verifier = createTokenVerifier({ config, keys });

const ABSENT = Symbol('absent');
/** Keeps the value the token would have anyway. */
const KEEP = Symbol('keep');
/** Mostly the usual value, sometimes one of the edges: most tokens then reach the library. */
const mostly = (usual: fc.Arbitrary<unknown>, ...edges: unknown[]) =>
  fc.oneof({ arbitrary: usual, weight: 8 }, { arbitrary: fc.constantFrom(...edges), weight: 1 });
/** A time within twice the skew of now: both sides of the edge exp and nbf allow. */
const nearNow = (offset: number) =>
  fc.integer({ min: -2 * SKEW - 5, max: 2 * SKEW + 5 }).map((d) => nowSeconds() + offset + d);
const payloadFields = fc.record({
  exp: mostly(fc.oneof(fc.constant(KEEP), nearNow(0)), ABSENT, 0, -1, 1e300, 1.5, '1700000000', null),
  nbf: mostly(fc.oneof(fc.constant(KEEP), nearNow(0)), ABSENT, 0, -1, 1e300, 1.5, '1700000000', null),
  iss: mostly(
    fc.constant(KEEP),
    `https://login.microsoftonline.com/${TENANT}/v2.0`,
    `https://sts.windows.net/${TENANT}/`,
    `https://login.microsoftonline.com/${OTHER_TENANT}/v2.0`,
    `https://login.microsoftonline.com/${TENANT}/v2.0/`,
    '',
    5,
    ABSENT,
  ),
  aud: mostly(
    fc.constantFrom(CLIENT_ID, APP_ID_URI),
    'api://other',
    [CLIENT_ID],
    [CLIENT_ID, 'api://other'],
    ['api://other'],
    [CLIENT_ID, 42],
    [],
    '',
    ABSENT,
  ),
});
const headerFields = fc.record({
  alg: mostly(fc.constant('RS256'), 'RS512', 'PS256', 'none', 'HS256', ABSENT),
  kid: mostly(fc.constantFrom('main-key', 'second-key', 'personal-key'), 'made-up', '', 7, ABSENT),
  x5t: mostly(fc.constant(ABSENT), 'main-key', 'made-up'),
  typ: mostly(fc.constant('JWT'), ABSENT, 'at+jwt'),
});
/** Mostly the key the kid names (a valid signature); sometimes the attacker's key of the same kid. */
const forged = fc.boolean();
const version = fc.constantFrom<'1.0' | '2.0'>('1.0', '2.0');

/** The header or payload with ABSENT fields removed and KEEP fields left as they were. */
function apply(base: Record<string, unknown>, fields: Record<string, unknown>): Record<string, unknown> {
  const out = { ...base };
  for (const [name, v] of Object.entries(fields)) {
    if (v === ABSENT) delete out[name];
    else if (v !== KEEP) out[name] = v;
  }
  return out;
}

describe('the library verdicts a token can reach', () => {
  it('are each one the verifier names: every signed token is accepted or a 401, never a 500', async () => {
    // Oracle: the house rule that a signed token is accepted or a 401 (TokenRejectedError), never a 500
    await fc.assert(
      fc.asyncProperty(headerFields, payloadFields, version, forged, async (h, fields, ver, forge) => {
        const all = testKeys();
        const named = [all.main, all.second, all.personal].find((k) => k.kid === h.kid) ?? all.main;
        const jwt = signed(
          apply(header(), h),
          apply(claims({ version: ver }), fields),
          forge ? all.attacker : named,
        );
        const outcome = await verifier.verify(jwt).then(
          () => 'accepted',
          (err: unknown) => err,
        );
        if (outcome !== 'accepted') expect(outcome).toBeInstanceOf(TokenRejectedError);
      }),
      { numRuns: 400 },
    );
    const unnamed = thrown.filter((err) => !NAMED_VERDICTS.some((named) => err instanceof named));
    expect(unnamed).toEqual([]);
    // Not vacuous: many tokens got past entra.ts to the library, and some were refused there.
    expect(libraryCalls).toBeGreaterThan(50);
    expect(thrown.length).toBeGreaterThan(0);
  });
});
