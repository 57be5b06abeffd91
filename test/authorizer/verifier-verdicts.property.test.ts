import { verifyJwtSync } from 'aws-jwt-verify/jwt-verifier';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
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
 * verifier.ts checks the RS256 signature itself (node:crypto), after entra.ts has judged alg, iss, aud, exp
 * and nbf. aws-jwt-verify, an independent implementation of RFC 7515/7519, is the oracle: a token the
 * verifier accepts is one the library also verifies, with the published key the token names (its kid, or
 * for a legacy v1 token its x5t: Entra's kid is the certificate thumbprint) and the same issuers, audiences
 * and clock skew. The tokens vary exactly the fields a JWT verifier looks at (alg, kid, x5t, exp, nbf, iss,
 * aud) around the edges entra.ts draws, and the key that signs them; each is accepted or a 401, never a 500.
 */
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

/** The library's verdict on a token with the published key it names, or false when it names none. */
function libraryVerifies(token: string, h: Record<string, unknown>): boolean {
  const keyId = h.kid ?? h.x5t;
  const jwk = publishedKeySet().keys.find((k) => k.kid === keyId);
  if (jwk === undefined) return false;
  try {
    verifyJwtSync(token, jwk as never, {
      issuer: [`https://login.microsoftonline.com/${TENANT}/v2.0`, `https://sts.windows.net/${TENANT}/`],
      audience: [CLIENT_ID, APP_ID_URI],
      graceSeconds: SKEW,
    });
    return true;
  } catch {
    return false;
  }
}

// One clock for both verifiers, so that a token at the edge of exp or nbf gets the same time from each.
beforeAll(() => {
  vi.useFakeTimers({ toFake: ['Date'] });
  vi.setSystemTime(Date.now());
});
afterAll(() => vi.useRealTimers());

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

describe('the verifier against aws-jwt-verify', () => {
  it('accepts only tokens the library verifies with the key they name; refuses every other with a 401', async () => {
    const seen = { accepted: 0, badSignature: 0, forgedAccepted: 0 };
    // Oracle: aws-jwt-verify's verifyJwtSync (RFC 7515/7519) with the published key the token names; and the house rule that a token that does not verify is a 401 (TokenRejectedError), never a 500
    await fc.assert(
      fc.asyncProperty(headerFields, payloadFields, version, forged, async (h, fields, ver, forge) => {
        const all = testKeys();
        const named = [all.main, all.second, all.personal].find((k) => k.kid === h.kid) ?? all.main;
        const tokenHeader = apply(header(), h);
        const jwt = signed(
          tokenHeader,
          apply(claims({ version: ver }), fields),
          forge ? all.attacker : named,
        );
        const outcome = await verifier.verify(jwt).then(
          () => 'accepted' as const,
          (err: unknown) => err,
        );
        if (outcome === 'accepted') {
          seen.accepted++;
          if (forge) seen.forgedAccepted++;
          expect(libraryVerifies(jwt, tokenHeader)).toBe(true);
        } else {
          expect(outcome).toBeInstanceOf(TokenRejectedError);
          if ((outcome as TokenRejectedError).reason === 'bad_signature') seen.badSignature++;
        }
      }),
      { numRuns: 400 },
    );
    expect(seen.forgedAccepted).toBe(0);
    // Not vacuous: many tokens were accepted, and some got as far as the signature and failed there.
    expect(seen.accepted).toBeGreaterThan(20);
    expect(seen.badSignature).toBeGreaterThan(0);
  });
});
