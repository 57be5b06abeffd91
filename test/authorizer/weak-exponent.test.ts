import { createHash, createPublicKey, verify } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ENV_NAMES } from '../../lambda/authorizer/config.js';
import { KeyServer } from '../helpers/key-server.js';
import { buildAuthorizer, claims, event, publishedKeySet, testKeys, token } from '../helpers/setup.js';

/*
 * The weak-exponent attack against the real authorizer: with a public exponent of 1, RSA "verification"
 * computes s^1 mod n = s, so a signature that is just the EMSA-PKCS1-v1_5 encoding of the token's own
 * SHA-256 hash (RFC 8017, 9.2: 0x00 0x01, 0xFF padding, 0x00, DigestInfo, hash) verifies without any
 * private key. A key set that publishes such a key beside the real ones must not make that token valid.
 */
const SHA256_DIGEST_INFO = Buffer.from('3031300d060960864801650304020105000420', 'hex');
const b64 = (value: string | Buffer) => Buffer.from(value).toString('base64url');

/** The encoded message for a 2048-bit modulus (256 bytes), which is the whole forged signature. */
function forgedSignature(signingInput: string): Buffer {
  const t = Buffer.concat([SHA256_DIGEST_INFO, createHash('sha256').update(signingInput).digest()]);
  return Buffer.concat([Buffer.from([0, 1]), Buffer.alloc(256 - t.length - 3, 0xff), Buffer.from([0]), t]);
}

const weakKey = () => ({ ...testKeys().main.publicJwk, kid: 'weak-key', issuer: undefined, e: 'AQ' });
const server = KeyServer.forSuite(() => ({ keys: [...publishedKeySet().keys, weakKey()] }));

function forgedToken(payload: Record<string, unknown>): string {
  const input = `${b64(JSON.stringify({ typ: 'JWT', alg: 'RS256', kid: 'weak-key' }))}.${b64(JSON.stringify(payload))}`;
  return `${input}.${b64(forgedSignature(input))}`;
}

describe('a key set entry with public exponent 1 beside real keys', () => {
  it('would verify the forged signature, were it kept (the attack is real on this Node.js)', () => {
    const token = forgedToken(claims());
    const [h, p, s] = token.split('.') as [string, string, string];
    const key = createPublicKey({ key: weakKey(), format: 'jwk' });
    expect(verify('sha256', Buffer.from(`${h}.${p}`), key, Buffer.from(s, 'base64url'))).toBe(true);
  });

  it('is dropped: a forged token naming it is a 401 whatever its claims, and real tokens still pass', async () => {
    const { handler, records } = buildAuthorizer({ [ENV_NAMES.jwksUri]: server.url });
    // Oracle: node:crypto verifies the forged signature with e = 1 (test above), so the documented rule says 401 unknown_key
    await fc.assert(
      fc.asyncProperty(
        fc.subarray(['access_as_user', 'Items.Read', 'Admin']),
        fc.subarray(['Items.Admin', 'Admin']),
        async (scopes, roles) => {
          const payload = { ...claims(), scp: scopes.join(' ') || undefined, roles };
          await expect(handler(event(`Bearer ${forgedToken(payload)}`))).rejects.toThrow(/^Unauthorized$/);
          expect(records.at(-1)?.decision).toMatchObject({ outcome: 'unauthorized', reason: 'unknown_key' });
        },
      ),
      { numRuns: 20 },
    );
    const real = await handler(event(`Bearer ${token()}`));
    expect(real.policyDocument.Statement[0]?.Effect).toBe('Allow');
  });
});
