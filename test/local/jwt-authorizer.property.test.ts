import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createJwtChecker,
  type JwtAuthorizerModel,
  type JwtChecker,
  type JwtIssuerRule,
} from '../../infra/local/jwt-authorizer.js';
import { createSigningKey, signJwt } from '../../infra/local/mint.js';

/**
 * The local JWT authorizers' decision on generated Entra-shaped tokens, against what AWS documents, written
 * here apart from the checker: the issuer compared exactly with one of the authorizer's issuers; that
 * issuer's audiences (`aud`; on an HTTP API `client_id` when `aud` is absent: _Troubleshooting issues with
 * HTTP API JWT authorizers_); `exp` after and `nbf` (and, on HTTP APIs, `iat`) before the current time
 * (_Control access to HTTP APIs with JWT authorizers_); an additional claim present, a single string and one
 * of its expected values (_JwtAdditionalClaim_); then at least one of the route's scopes from `scope` or
 * `scp`, else 403 (_Attach a JWT authorizer to methods and require scopes_).
 */

const NOW = 1_800_000_000;
const TENANT = '5b3c2a1d-0e9f-4a8b-9c7d-6e5f4a3b2c1d';
const V2 = `https://login.microsoftonline.com/${TENANT}/v2.0`;
const V1 = `https://sts.windows.net/${TENANT}/`;
const AUD = '7c6b5a49-3827-4165-9504-a3b2c1d0e9f8';
const APP = 'c11e0700-0000-4000-8000-0000000c11e0';

const ISSUERS: Record<'http' | 'rest', JwtIssuerRule[]> = {
  http: [{ issuer: V2, audiences: [AUD], additionalClaims: [] }],
  rest: [
    {
      issuer: V2,
      audiences: [AUD],
      additionalClaims: [{ name: 'azp', expectedValues: [APP], required: true }],
    },
    {
      issuer: V1,
      audiences: [`api://${AUD}`],
      additionalClaims: [{ name: 'idp', expectedValues: [], required: false }],
    },
  ],
};

const authorizerOf = (apiKind: 'http' | 'rest'): JwtAuthorizerModel => ({
  logicalId: 'Jwt',
  apiKind,
  identityHeader: 'Authorization',
  issuers: ISSUERS[apiKind],
  algorithms: ['RS256'],
});

const key = createSigningKey({ kid: 'local' });
const other = createSigningKey({ kid: 'local' });
let server: Server;
let check: JwtChecker;
beforeAll(async () => {
  server = createServer((_, res) => {
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: [key.publicJwk] }));
  });
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  check = createJwtChecker(
    `http://127.0.0.1:${(server.address() as AddressInfo).port}/keys`,
    () => NOW * 1000,
  );
});
afterAll(() => server?.close());

type Claims = Record<string, unknown>;

/** The status AWS documents for a token with these claims on a route requiring `routeScopes`. */
function documentedStatus(kind: 'http' | 'rest', claims: Claims, genuine: boolean, routeScopes: string[]) {
  const issuer = ISSUERS[kind].find((i) => i.issuer === claims.iss);
  if (!genuine || issuer === undefined) return 401;
  if (!((claims.exp as number) > NOW)) return 401;
  if (claims.nbf !== undefined && (claims.nbf as number) > NOW) return 401;
  if (kind === 'http' && claims.iat !== undefined && (claims.iat as number) > NOW) return 401;
  const audiences =
    claims.aud !== undefined
      ? [claims.aud].flat()
      : kind === 'http' && claims.client_id !== undefined
        ? [claims.client_id]
        : [];
  if (!audiences.some((a) => issuer.audiences.includes(a as string))) return 401;
  for (const rule of issuer.additionalClaims) {
    const value = claims[rule.name];
    if (value === undefined ? rule.required : typeof value !== 'string') return 401;
    if (
      value !== undefined &&
      rule.expectedValues.length > 0 &&
      !rule.expectedValues.includes(value as string)
    ) {
      return 401;
    }
  }
  const carried = String(claims.scope ?? claims.scp ?? '').split(' ');
  return routeScopes.length > 0 && !routeScopes.some((s) => carried.includes(s)) ? 403 : 200;
}

/** A value from `values`, the first `weight` times as likely as each other (most tokens come near passing). */
const mostly = <T>(weight: number, first: T, ...others: T[]) =>
  fc.oneof(
    { arbitrary: fc.constant(first), weight },
    ...others.map((o) => ({ arbitrary: fc.constant(o), weight: 1 })),
  );
const past = fc.integer({ min: -7200, max: -1 });
const future = fc.integer({ min: 1, max: 7200 });
/** A time: mostly on the side `good` names, now and then on the other. */
const time = (good: 'past' | 'future') =>
  fc
    .oneof(
      { arbitrary: good === 'past' ? past : future, weight: 6 },
      { arbitrary: good === 'past' ? future : past, weight: 1 },
    )
    .map((n) => NOW + n);
const optional = <T>(arb: fc.Arbitrary<T>) => fc.option(arb, { nil: undefined, freq: 4 });
const SCOPES = ['Orders.Read', 'Orders.Write', 'Admin'];

const claimsArb = fc
  .record({
    iss: fc.oneof(
      { arbitrary: fc.constantFrom(V2, V1), weight: 8 },
      {
        arbitrary: fc.constantFrom(
          `${V2}/`,
          V2.toUpperCase(),
          V2.replace(TENANT, APP),
          'https://sts.windows.net/',
        ),
        weight: 2,
      },
    ),
    audience: mostly(8, 'right', 'other', 'absent', 'listed with another', 'list without it'),
    client_id: optional(fc.constantFrom(AUD, 'someone-else')),
    exp: time('future'),
    nbf: optional(time('past')),
    iat: optional(time('past')),
    azp: optional(mostly<unknown>(8, APP, 'another-app', 42)),
    idp: optional(mostly<unknown>(4, V1, ['a', 'b'])),
    scopes: fc.subarray(SCOPES),
    scopeClaim: fc.constantFrom('scp', 'scope'),
  })
  .map(({ audience, ...claims }) => {
    // The audience Entra writes for each version: the client id (v2) or the App ID URI (v1).
    const right = claims.iss === V1 ? `api://${AUD}` : AUD;
    const aud = {
      right,
      other: 'someone-else',
      absent: undefined,
      'listed with another': ['someone-else', right],
      'list without it': ['someone-else'],
    }[audience];
    return { ...claims, aud };
  });

describe('the local JWT authorizers decide as AWS documents', () => {
  it('every generated token: 200, 401 or 403 as the documented rules say', async () => {
    // Oracle: documentedStatus, written from the pages named above, not from the checker.
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom('http' as const, 'rest' as const),
        claimsArb,
        mostly(9, true, false),
        fc.subarray(SCOPES),
        fc.boolean(),
        async (kind, generated, genuine, routeScopes, bearer) => {
          const { scopes, scopeClaim, ...rest } = generated;
          const claims: Claims = Object.fromEntries(Object.entries(rest).filter(([, v]) => v !== undefined));
          if (scopes.length > 0) claims[scopeClaim] = scopes.join(' ');
          const token = signJwt(
            { typ: 'JWT', alg: 'RS256', kid: 'local' },
            claims,
            (genuine ? key : other).privateKey,
          );
          const decision = await check(
            { authorizer: authorizerOf(kind), scopes: routeScopes },
            bearer ? `Bearer ${token}` : token,
          );
          const status = { allow: 200, unauthorized: 401, forbidden: 403 }[decision.kind];
          expect(status).toBe(documentedStatus(kind, claims, genuine, routeScopes));
        },
      ),
      { numRuns: 300 },
    );
  }, 120_000);

  it('a missing or empty header is a 401', async () => {
    for (const header of [undefined, '', 'Bearer ', 'Bearer    ']) {
      expect((await check({ authorizer: authorizerOf('http'), scopes: [] }, header)).kind).toBe(
        'unauthorized',
      );
    }
  });
});
