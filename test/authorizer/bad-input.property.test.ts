import { createSign } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ENV_NAMES, loadConfig } from '../../lambda/authorizer/config.js';
import { UNAUTHORIZED } from '../../lambda/authorizer/decision.js';
import { LOG_LIMITS } from '../../lambda/authorizer/safe-text.js';
import { entraVerdict } from '../helpers/entra-oracle.js';
import { KeyServer } from '../helpers/key-server.js';
import {
  APP_ID_URI,
  buildAuthorizer,
  CLIENT_ID,
  claims,
  event,
  header,
  nowSeconds,
  publishedKeySet,
  signed,
  TENANT,
  testKeys,
} from '../helpers/setup.js';

const server = KeyServer.forSuite(publishedKeySet);

/**
 * JSON as text, so that what JavaScript values cannot hold reaches the parser too: 1e400 (Infinity once
 * parsed), -0, integers beyond 2^53, nesting thousands of levels deep, long strings.
 */
const numberText = fc.oneof(
  fc.integer().map(String),
  fc.double({ noNaN: true, noDefaultInfinity: true }).map((d) => JSON.stringify(d)),
  fc.constantFrom(
    '1e400',
    '-1e400',
    '1e-400',
    '-0',
    '1e308',
    '-1e308',
    '8640000000001',
    '-8640000000001',
    '8.64e15',
    '9007199254740993',
    '123456789012345678901234567890',
    String(nowSeconds() + 3600),
    String(nowSeconds() - 3600),
  ),
);
const stringText = fc.oneof(
  fc.string({ maxLength: 24, unit: 'grapheme' }).map((s) => JSON.stringify(s)),
  fc
    .constantFrom('RS256', '2.0', '1.0', TENANT, CLIENT_ID, 'main-key', 'app', 'user', '', '{tenantid}')
    .map((s) => JSON.stringify(s)),
  fc
    .constantFrom(`https://login.microsoftonline.com/${TENANT}/v2.0`, `https://sts.windows.net/${TENANT}/`)
    .map((s) => JSON.stringify(s)),
  fc
    .tuple(fc.integer({ min: 1000, max: 9000 }), fc.constantFrom('x', 'é', '\u2028', '"', '\\', '\u0000'))
    .map(([n, c]) => JSON.stringify(c.repeat(n))),
);
const leafText = fc.oneof(numberText, stringText, fc.constantFrom('true', 'false', 'null'));
const deepText = fc
  .tuple(fc.integer({ min: 500, max: 5000 }), fc.constantFrom('array', 'object'), leafText)
  .map(([depth, kind, inner]) =>
    kind === 'array'
      ? `${'['.repeat(depth)}${inner}${']'.repeat(depth)}`
      : `${'{"a":'.repeat(depth)}${inner}${'}'.repeat(depth)}`,
  );
const { jsonText } = fc.letrec((tie) => ({
  jsonText: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    leafText,
    leafText,
    deepText,
    fc.array(tie('jsonText'), { maxLength: 4 }).map((items) => `[${items.join(',')}]`),
    fc
      .array(fc.tuple(fc.string({ maxLength: 8 }), tie('jsonText')), { maxLength: 4 })
      .map((entries) => `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${v}`).join(',')}}`),
  ),
}));

const HEADER_FIELDS = ['alg', 'kid', 'x5t', 'typ', 'crit', 'nonce', 'jku'];
const CLAIMS = [
  'iss',
  'tid',
  'aud',
  'exp',
  'nbf',
  'iat',
  'ver',
  'azp',
  'appid',
  'scp',
  'roles',
  'oid',
  'sub',
  'idtyp',
  'name',
  'preferred_username',
  'upn',
  'unique_name',
];

/** A JSON object as text: the valid fields as they are, the chosen ones replaced by raw JSON text. */
function objectText(base: Record<string, unknown>, replaced: [string, string][]): string {
  const fields = new Map(Object.entries(base).map(([k, v]) => [k, JSON.stringify(v)]));
  for (const [k, v] of replaced) fields.set(k, v);
  return `{${[...fields].map(([k, v]) => `${JSON.stringify(k)}:${v}`).join(',')}}`;
}

/** Signed with the published key, so a well-formed forgery reaches every rule, the signature and beyond. */
function signText(headerText: string, payloadText: string): string {
  const input = `${Buffer.from(headerText).toString('base64url')}.${Buffer.from(payloadText).toString('base64url')}`;
  const signature = createSign('RSA-SHA256')
    .update(input)
    .sign(testKeys().main.privateKey)
    .toString('base64url');
  return `${input}.${signature}`;
}

const oddToken = fc
  .record({
    header: fc.array(fc.tuple(fc.constantFrom(...HEADER_FIELDS), jsonText), { maxLength: 2 }),
    payload: fc.array(fc.tuple(fc.constantFrom(...CLAIMS), jsonText), { maxLength: 4 }),
    roles: fc.boolean(),
  })
  .filter(({ header, payload }) => header.length + payload.length > 0)
  .map(({ header: h, payload: p, roles }) => {
    const headerText = objectText(header(), h);
    const payloadText = objectText(claims(roles ? { roles: ['Items.Read'] } : {}), p);
    return { token: signText(headerText, payloadText), headerText, payloadText };
  });

/**
 * The second oracle: docs/token-rules.md's rules (test/helpers/entra-oracle.ts), the header's size (at most 16 KiB),
 * and the one the key set adds here: the token is signed with the published key `main-key` (its kid, or its
 * x5t when kid is absent).
 */
function breaksARule(authorization: string, headerText: string, payloadText: string): boolean {
  if (authorization.length > 16 * 1024) return true;
  const h = JSON.parse(headerText) as Record<string, unknown>;
  const p = JSON.parse(payloadText) as Record<string, unknown>;
  const keyId = 'kid' in h ? h.kid : h.x5t;
  const config = loadConfig({
    [ENV_NAMES.tenantId]: TENANT,
    [ENV_NAMES.audiences]: `${CLIENT_ID},${APP_ID_URI}`,
  });
  return 'reason' in entraVerdict(config, h, p, Date.now() / 1000) || keyId !== 'main-key';
}

/** The answer as API Gateway sees it: a policy, a 401, or anything else (a 500). */
async function answer(
  handler: ReturnType<typeof buildAuthorizer>['handler'],
  authorization: string | undefined,
) {
  return handler(event(authorization)).then(
    (result) => (result.policyDocument.Statement.some((s) => s.Effect === 'Deny') ? '403' : 'Allow'),
    (err: Error) => (err.message === UNAUTHORIZED ? '401' : `500: ${err.message}`),
  );
}

function expectOneCappedRecord(records: ReturnType<typeof buildAuthorizer>['records'], before: number) {
  expect(records.length).toBe(before + 1);
  const record = records.at(-1);
  expect(record?.decision.outcome).not.toBe('error');
  const { decision, ...fields } = record ?? ({} as never);
  expect(decision.detail.length).toBeLessThanOrEqual(LOG_LIMITS.detail + 3);
  expect(fields.hint?.length ?? 0).toBeLessThanOrEqual(LOG_LIMITS.hint + 3);
  expect(fields.path?.length ?? 0).toBeLessThanOrEqual(LOG_LIMITS.path + 3);
  for (const name of ['method', 'tid', 'oid', 'appId', 'kid'] as const)
    expect(fields[name]?.length ?? 0).toBeLessThanOrEqual(LOG_LIMITS.field + 3);
  const { result: _policy, ...logged } = decision as typeof decision & { result?: unknown };
  expect(JSON.stringify({ ...logged, ...fields }).length).toBeLessThan(2000);
}

describe('any JSON in any header field or claim', () => {
  it('ends in 401, 403 or Allow, never a 500, with exactly one capped decision record', async () => {
    const { handler, records } = buildAuthorizer({ [ENV_NAMES.jwksUri]: server.url });
    // Oracle: docs/token-rules.md's rules in breaksARule (helpers/entra-oracle.ts) and the documented 401/403/Allow outcomes, not entra.ts
    await fc.assert(
      fc.asyncProperty(oddToken, async ({ token: t, headerText, payloadText }) => {
        const before = records.length;
        const authorization = `Bearer ${t}`;
        const result = await answer(handler, authorization);
        expect(['401', '403', 'Allow']).toContain(result);
        // A token that breaks a documented rule is never allowed; one that breaks none is never a 401.
        expect(result === '401').toBe(breaksARule(authorization, headerText, payloadText));
        expectOneCappedRecord(records, before);
      }),
      { numRuns: 300 },
    );
  });

  it('and any Authorization header at all ends in 401, with one record', async () => {
    const { handler, records } = buildAuthorizer({ [ENV_NAMES.jwksUri]: server.url });
    const headerValue = fc.oneof(
      fc.string({ maxLength: 200, unit: 'binary' }),
      fc
        .tuple(fc.constantFrom('Bearer ', 'bearer ', 'BEARER  ', ''), fc.string({ maxLength: 300 }))
        .map(([a, b]) => a + b),
      fc
        .array(fc.base64String({ maxLength: 40 }), { minLength: 1, maxLength: 5 })
        .map((parts) => `Bearer ${parts.join('.')}`),
    );
    // Oracle: the documented header shape: none of these is a Bearer JWT signed by the published key, so each is a 401
    await fc.assert(
      fc.asyncProperty(headerValue, async (value) => {
        const before = records.length;
        expect(await answer(handler, value)).toBe('401');
        expectOneCappedRecord(records, before);
      }),
      { numRuns: 300 },
    );
  });
});

describe('the inputs that gave a 500', () => {
  const cases: { name: string; make: () => string; reason: string }[] = [
    {
      name: 'exp far beyond the range of a date',
      make: () => signed(header(), { ...claims(), exp: -1e300 }),
      reason: 'malformed',
    },
    {
      name: 'nbf far beyond the range of a date',
      make: () => signed(header(), { ...claims(), nbf: 1e300 }),
      reason: 'malformed',
    },
    {
      name: 'exp just before the first date',
      make: () => signed(header(), { ...claims(), exp: -8.64e12 - 1 }),
      reason: 'malformed',
    },
    {
      name: 'alg nested 5000 arrays deep',
      make: () =>
        signText(`{"alg":${'['.repeat(5000)}${']'.repeat(5000)},"kid":"main-key"}`, JSON.stringify(claims())),
      reason: 'unsupported_alg',
    },
    {
      name: 'aud nested 4000 objects deep',
      make: () =>
        signText(
          JSON.stringify(header()),
          objectText(claims(), [['aud', `${'{"a":'.repeat(4000)}1${'}'.repeat(4000)}`]]),
        ),
      reason: 'malformed',
    },
    {
      name: 'exp of 1e400 (Infinity once parsed)',
      make: () => signText(JSON.stringify(header()), objectText(claims(), [['exp', '1e400']])),
      reason: 'malformed',
    },
  ];

  it.each(cases)('$name is a 401 ($reason) with its hint', async ({ make, reason }) => {
    const { handler, records } = buildAuthorizer({ [ENV_NAMES.jwksUri]: server.url });
    expect(await answer(handler, `Bearer ${make()}`)).toBe('401');
    expect(records).toHaveLength(1);
    expect(records[0]?.decision.reason).toBe(reason);
    expect(records[0]?.hint).toEqual(expect.any(String));
  });

  it('names the claim that lies beyond any date, and takes the last dates as dates', async () => {
    const { handler, records } = buildAuthorizer({ [ENV_NAMES.jwksUri]: server.url });
    await answer(handler, `Bearer ${signed(header(), { ...claims(), nbf: 1e300 })}`);
    expect(records[0]?.decision.detail).toBe('claim nbf is 1e+300; no date lies that far from 1970');
    expect(records[0]?.hint).toMatch(/^claim nbf is 1e\+300; .*: Entra ID never issues such a token/);
    await answer(handler, `Bearer ${signed(header(), { ...claims(), nbf: 8.64e12 })}`);
    expect(records[1]?.decision.reason).toBe('not_yet_valid');
    expect(records[1]?.hint).toMatch(/^nbf is \+275760-09-13T00:00:00\.000Z \(in \d+ years\)/);
    await answer(handler, `Bearer ${signed(header(), { ...claims(), exp: -8.64e12 })}`);
    expect(records[2]?.decision.reason).toBe('expired');
    expect(records[2]?.hint).toMatch(/^the token expired at -271821-04-20T00:00:00\.000Z/);
  });

  it('shows a deeply nested alg in a few characters', async () => {
    const { handler, records } = buildAuthorizer({ [ENV_NAMES.jwksUri]: server.url });
    const t = signText(
      `{"alg":${'['.repeat(5000)}"RS256"${']'.repeat(5000)},"kid":"main-key"}`,
      JSON.stringify(claims()),
    );
    await answer(handler, `Bearer ${t}`);
    expect(records[0]?.decision.detail).toBe('alg is [[[array of 1]]]; expected "RS256"');
    expect(records[0]?.hint).toMatch(/^alg is \[\[\[array of 1\]\]\]: Entra ID signs/);
  });
});
