import { describe, expect, it } from 'vitest';
import { type AuthorizerConfig, ENV_NAMES, loadConfig } from '../../lambda/authorizer/config.js';
import { reportEntraRules } from '../../lambda/authorizer/entra.js';
import type { DecodedJwt } from '../../lambda/authorizer/jwt-model.js';
import { CONSUMERS } from '../helpers/entra-oracle.js';
import { APP_ID_URI, CLIENT_ID, claims, header, OTHER_TENANT, TENANT } from '../helpers/setup.js';

/*
 * What `npm run explain` and the decision line tell an operator about a refused token: the broken rule's
 * name says which claim it judges, its detail shows the value the token carried (or that it had none) and
 * what was expected, and a rule that could not be judged says what it lacked. The expectations are written
 * here from what a reader needs to fix the token or the configuration (docs/troubleshooting.md), not read
 * from entra.ts: each names the claim and the facts, never the exact wording.
 */

const NOW = 1_750_000_000;
type Json = Record<string, unknown>;

const single = loadConfig({
  [ENV_NAMES.tenantId]: TENANT,
  [ENV_NAMES.audiences]: `${CLIENT_ID},${APP_ID_URI}`,
  [ENV_NAMES.clockSkewSeconds]: '300',
});
const organizations = loadConfig({
  [ENV_NAMES.tenantId]: 'organizations',
  [ENV_NAMES.allowedTenants]: TENANT,
  [ENV_NAMES.audiences]: CLIENT_ID,
});
/** An External ID (CIAM) tenant: v2 tokens only, whose issuer names the tenant's own host. */
const externalId = loadConfig({
  [ENV_NAMES.tenantId]: TENANT,
  [ENV_NAMES.authorityHost]: 'contoso.ciamlogin.com',
  [ENV_NAMES.audiences]: CLIENT_ID,
});
const commonListed = loadConfig({
  [ENV_NAMES.tenantId]: 'common',
  [ENV_NAMES.allowedTenants]: TENANT,
  [ENV_NAMES.audiences]: CLIENT_ID,
});

interface Case {
  readonly name: string;
  readonly config?: AuthorizerConfig;
  readonly version?: '1.0' | '2.0';
  readonly header?: Json;
  readonly claims?: Json;
  readonly reason: string;
  /** Words the failing rule's name must hold: the claims it judges. */
  readonly rule: readonly string[];
  /** Facts the detail must hold: the claim, the value the token carried, what was expected. */
  readonly detail: readonly string[];
  /** Facts that belong to another case and must not appear. */
  readonly notDetail?: readonly string[];
}

const ABSENT = undefined;

const CASES: readonly Case[] = [
  {
    name: 'alg HS256',
    header: { alg: 'HS256' },
    reason: 'unsupported_alg',
    rule: ['alg'],
    detail: ['HS256', 'RS256'],
  },
  ...['jku', 'x5u', 'jwk', 'x5c'].map(
    (h): Case => ({
      name: `a ${h} header`,
      header: { [h]: 'https://attacker.example/keys' },
      reason: 'forbidden_header',
      rule: [h],
      detail: [`"${h}"`, 'key set'],
    }),
  ),
  {
    name: 'a crit header',
    header: { crit: ['exp'] },
    reason: 'forbidden_header',
    rule: ['crit'],
    detail: ['"crit"'],
  },
  {
    name: 'a nonce header',
    header: { nonce: 'n' },
    reason: 'graph_token',
    rule: ['nonce'],
    detail: ['nonce', 'Graph'],
  },
  { name: 'no kid', header: { kid: ABSENT }, reason: 'unknown_key', rule: ['kid'], detail: ['kid'] },
  {
    name: 'a tid that is not a GUID',
    claims: { tid: 'contoso.onmicrosoft.com' },
    reason: 'wrong_issuer',
    rule: ['iss', 'tid'],
    detail: ['tid', 'contoso.onmicrosoft.com', 'GUID'],
  },
  {
    name: 'iss of another tenant',
    claims: { iss: `https://login.microsoftonline.com/${OTHER_TENANT}/v2.0` },
    reason: 'wrong_issuer',
    rule: ['iss'],
    detail: [
      OTHER_TENANT,
      `https://login.microsoftonline.com/${TENANT}/v2.0`,
      `https://sts.windows.net/${TENANT}/`,
    ],
  },
  {
    name: 'no iss, External ID (which has no v1 issuer to fall back on)',
    config: externalId,
    claims: { iss: ABSENT },
    reason: 'wrong_issuer',
    rule: ['iss'],
    detail: ['iss is undefined', `https://${TENANT}.ciamlogin.com/${TENANT}/v2.0`],
    notDetail: [' or ', 'https://undefined'],
  },
  {
    name: 'iss that is a number',
    claims: { iss: 5 },
    reason: 'malformed',
    rule: ['iss'],
    detail: ['iss', 'number', 'string'],
  },
  {
    name: 'another tenant, single-tenant API',
    claims: tenantClaims(OTHER_TENANT),
    reason: 'tenant_not_allowed',
    rule: ['tid'],
    detail: [OTHER_TENANT, TENANT],
    notDetail: ['allowed tenant list', 'personal'],
  },
  {
    name: 'a personal account, organizations',
    config: organizations,
    claims: tenantClaims(CONSUMERS),
    reason: 'tenant_not_allowed',
    rule: ['tid'],
    detail: [CONSUMERS, 'personal', 'organizations'],
    notDetail: ['allowed tenant list'],
  },
  {
    name: 'an unlisted tenant, organizations',
    config: organizations,
    claims: tenantClaims(OTHER_TENANT),
    reason: 'tenant_not_allowed',
    rule: ['tid'],
    detail: [OTHER_TENANT, 'allowed tenant list'],
    notDetail: ['personal', `expected ${TENANT}`],
  },
  {
    name: 'a personal account, common with a list that leaves it out',
    config: commonListed,
    claims: tenantClaims(CONSUMERS),
    reason: 'tenant_not_allowed',
    rule: ['tid'],
    detail: [CONSUMERS, 'allowed tenant list'],
    notDetail: ['personal'],
  },
  {
    name: 'aud holding a number',
    claims: { aud: [CLIENT_ID, 42] },
    reason: 'malformed',
    rule: ['aud'],
    detail: ['aud', 'string'],
  },
  {
    name: 'aud of another API',
    claims: { aud: 'api://someone-else' },
    reason: 'wrong_audience',
    rule: ['aud'],
    detail: ['api://someone-else', CLIENT_ID, APP_ID_URI],
  },
  {
    name: 'exp past',
    claims: { exp: NOW - 400 },
    reason: 'expired',
    rule: ['exp'],
    detail: [String(NOW - 400), String(NOW), '300s'],
  },
  {
    name: 'no exp',
    claims: { exp: ABSENT },
    reason: 'malformed',
    rule: ['exp'],
    detail: ['exp', 'missing', 'NumericDate'],
  },
  {
    name: 'exp as a string',
    claims: { exp: String(NOW) },
    reason: 'malformed',
    rule: ['exp'],
    detail: ['exp', 'string', 'NumericDate'],
    notDetail: ['missing'],
  },
  {
    name: 'exp beyond any date',
    claims: { exp: 9e12 },
    reason: 'malformed',
    rule: ['exp'],
    detail: ['exp', '9000000000000', '1970'],
  },
  {
    name: 'iat as a string',
    claims: { iat: 'yesterday' },
    reason: 'malformed',
    rule: ['exp'],
    detail: ['iat', 'string'],
  },
  {
    name: 'nbf ahead',
    claims: { nbf: NOW + 400 },
    reason: 'not_yet_valid',
    rule: ['nbf'],
    detail: [String(NOW + 400), String(NOW), '300s'],
  },
  {
    name: 'a v2 token without azp',
    claims: { azp: ABSENT },
    reason: 'not_an_access_token',
    rule: ['azp', 'appid'],
    detail: ['azp', '2.0', 'id token'],
  },
  {
    name: 'a v1 token without appid',
    version: '1.0',
    claims: { appid: ABSENT },
    reason: 'not_an_access_token',
    rule: ['azp', 'appid'],
    detail: ['appid', '1.0', 'id token'],
  },
  {
    name: 'roles not an array',
    claims: { roles: 'Items.Read' },
    reason: 'malformed',
    rule: ['scp', 'roles'],
    detail: ['roles', 'array'],
  },
  {
    name: 'scp a number',
    claims: { scp: 5 },
    reason: 'malformed',
    rule: ['scp', 'roles'],
    detail: ['scp', 'number', 'string'],
  },
];

function tenantClaims(tid: string): Json {
  return { tid, iss: `https://login.microsoftonline.com/${tid}/v2.0` };
}

/** A valid token for the tenant, with the case's header and claim changes (`undefined` removes one). */
function jwtOf(c: Pick<Case, 'version' | 'header' | 'claims'> = {}): DecodedJwt {
  const h: Json = { ...header(), ...c.header };
  const p: Json = { ...claims({ version: c.version ?? '2.0', nowSeconds: NOW }), ...c.claims };
  for (const [target, changes] of [
    [h, c.header],
    [p, c.claims],
  ] as const)
    for (const [k, v] of Object.entries(changes ?? {})) if (v === ABSENT) delete target[k];
  return { header: h, payload: p, signingInput: 'h.p', signatureB64: 's' };
}

describe('npm run explain: what a refused token is told', () => {
  it.each(CASES)('$name: the broken rule names its claim, the detail its value and expectation', (c) => {
    const report = reportEntraRules(jwtOf(c), c.config ?? single, NOW);
    const failed = report.find((r) => r.outcome === 'fail');
    expect(failed?.reason).toBe(c.reason);
    for (const word of c.rule) expect(failed?.rule).toContain(word);
    for (const fact of c.detail) expect(failed?.detail).toContain(fact);
    for (const fact of c.notDetail ?? []) expect(failed?.detail).not.toContain(fact);
  });

  it('names every rule apart, each after the claims it judges', () => {
    const names = reportEntraRules(jwtOf(), single, NOW).map((r) => r.rule);
    expect(new Set(names).size).toBe(names.length);
    for (const claim of [
      'alg',
      'jku',
      'crit',
      'nonce',
      'kid',
      'iss',
      'tid',
      'aud',
      'exp',
      'nbf',
      'azp',
      'roles',
    ])
      expect(names.some((n) => n.includes(claim))).toBe(true);
  });

  it('says what a rule lacked when an earlier one failed, rather than judging it', () => {
    const report = reportEntraRules(jwtOf({ claims: { tid: 'not-a-guid' } }), single, NOW);
    const skipped = report.filter((r) => r.outcome === 'skipped');
    // The tenant rule needs the tid the issuer rule vouches for; the access-token rule the version its iss gave.
    expect(skipped.map((r) => r.detail)).toEqual([
      expect.stringMatching(/needs .*tid/),
      expect.stringMatching(/needs .*iss/),
    ]);
    expect(skipped.map((r) => r.rule)).toEqual([
      expect.stringContaining('tid'),
      expect.stringContaining('azp'),
    ]);
  });
});
