import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { EntraClaims } from '../../lambda/authorizer/entra.js';
import type { SigningJwk } from '../../lambda/authorizer/keys/key-set.js';
import { keyServesIssuer } from '../../lambda/authorizer/verifier.js';

/*
 * Microsoft's signing-key issuer rule (docs/token-rules.md's token table; Microsoft identity platform, "validate the
 * signing key issuer"): a key without `issuer` signs for anyone the other rules let through; a key with one
 * signs only for that issuer, `{tenantid}` replaced by the token's tid, and its v2 form also for the same
 * tenant's v1 tokens (v1 key sets carry no issuer). Written out here, not taken from verifier.ts.
 */

const HOSTS = ['login.microsoftonline.com', 'login.microsoftonline.us'];
const V1_HOST = 'sts.windows.net';
const tenants = ['72f988bf-86f1-41af-91ab-2d7cd011db47', '0b5c6a5e-1111-4222-8333-444455556666'];

const v2 = (host: string, tid: string) => `https://${host}/${tid}/v2.0`;
const v1 = (tid: string) => `https://${V1_HOST}/${tid}/`;

describe('a key that names an issuer', () => {
  it('signs only for that issuer, and for the v1 tokens of the same tenant', () => {
    // Oracle: Microsoft's signing-key issuer rule as written in `serves` below (see the header comment), not verifier.ts
    fc.assert(
      fc.property(
        fc.constantFrom(...HOSTS),
        fc.constantFrom(...HOSTS),
        fc.constantFrom(...tenants),
        fc.constantFrom(...tenants),
        fc.constantFrom('template', 'fixed', 'none', 'v1', 'double'),
        fc.constantFrom('v2', 'v1'),
        (keyHost, authorityHost, keyTenant, tid, form, version) => {
          const issuer = {
            template: v2(keyHost, '{tenantid}'),
            fixed: v2(keyHost, keyTenant),
            v1: v1(keyTenant),
            double: `https://${keyHost}/{tenantid}/{tenantid}/v2.0`,
            none: undefined,
          }[form];
          const iss = version === 'v2' ? v2(authorityHost, tid) : v1(tid);
          const key = { kty: 'RSA', kid: 'k', n: 'AQAB', e: 'AQAB', use: 'sig', issuer } as SigningJwk;
          const claims = { iss, tid } as EntraClaims;
          const effective = issuer?.split('{tenantid}').join(tid);
          const serves =
            effective === undefined ||
            effective === iss ||
            (version === 'v1' && effective === v2(authorityHost, tid));
          expect(keyServesIssuer(key, claims, authorityHost)).toBe(serves);
        },
      ),
    );
  });

  it('names the cases that matter explicitly', () => {
    const t = tenants[0] as string;
    const other = tenants[1] as string;
    const key = (issuer?: string) => ({ kty: 'RSA', kid: 'k', n: 'AQAB', e: 'AQAB', issuer }) as SigningJwk;
    const host = HOSTS[0] as string;
    const claims = (iss: string, tid = t) => ({ iss, tid }) as EntraClaims;
    expect(keyServesIssuer(key(v2(host, '{tenantid}')), claims(v2(host, t)), host)).toBe(true);
    expect(keyServesIssuer(key(v2(host, '{tenantid}')), claims(v1(t)), host)).toBe(true);
    expect(keyServesIssuer(key(v2(host, other)), claims(v2(host, t)), host)).toBe(false);
    expect(keyServesIssuer(key(v2(host, other)), claims(v1(t)), host)).toBe(false);
    expect(keyServesIssuer(key(v2(HOSTS[1] as string, '{tenantid}')), claims(v2(host, t)), host)).toBe(false);
    expect(keyServesIssuer(key(undefined), claims(v1(t)), host)).toBe(true);
  });
});
