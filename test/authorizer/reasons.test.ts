import type { APIGatewayAuthorizerResult } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import type { Decision } from '../../lambda/authorizer/decision.js';
import { respond } from '../../lambda/authorizer/decision.js';
import { REASONS } from '../../lambda/authorizer/reasons.js';

/**
 * The reason codes and the status each leads to, as the README's contract documents them (the 401/403/500
 * table, and the troubleshooting table, which marks the 403s and the 500s): written here, not read from
 * reasons.ts, so that a reason moved to another outcome fails this test.
 */
const DOCUMENTED = {
  allowed: 200,
  missing_token: 401,
  malformed: 401,
  unsupported_alg: 401,
  forbidden_header: 401,
  graph_token: 401,
  wrong_issuer: 401,
  tenant_not_allowed: 401,
  wrong_audience: 401,
  expired: 401,
  not_yet_valid: 401,
  not_an_access_token: 401,
  unknown_key: 401,
  key_issuer_mismatch: 401,
  bad_signature: 401,
  insufficient_permission: 403,
  client_app_not_allowed: 403,
  no_scope_or_role: 403,
  guest_not_allowed: 403,
  groups_overage: 403,
  keys_unavailable: 500,
  tenants_unavailable: 500,
  internal_error: 500,
} as const;

const policy = (effect: 'Allow' | 'Deny'): APIGatewayAuthorizerResult => ({
  principalId: 'p',
  policyDocument: {
    Version: '2012-10-17',
    Statement: [{ Effect: effect, Action: 'execute-api:Invoke', Resource: 'arn:aws:execute-api:*' }],
  },
});

/** The status API Gateway gives for what the Lambda does with a decision: its policy, or what it throws. */
function statusOf(reason: keyof typeof DOCUMENTED): number {
  const { outcome } = REASONS[reason];
  const decision = (
    outcome === 'allow' || outcome === 'deny'
      ? { outcome, reason, detail: '', result: policy(outcome === 'allow' ? 'Allow' : 'Deny') }
      : { outcome, reason, detail: '' }
  ) as Decision;
  try {
    const result = respond(decision);
    return result.policyDocument.Statement.every((s) => s.Effect === 'Allow') ? 200 : 403;
  } catch (err) {
    // Only exactly Error('Unauthorized') is a 401 to API Gateway; any other error is a 500.
    return err instanceof Error && err.message === 'Unauthorized' ? 401 : 500;
  }
}

describe('the reason codes', () => {
  it('are exactly the documented ones', () => {
    expect(Object.keys(REASONS).sort()).toEqual(Object.keys(DOCUMENTED).sort());
  });

  it.each(Object.entries(DOCUMENTED))('%s ends in the documented status %i', (reason, status) => {
    expect(statusOf(reason as keyof typeof DOCUMENTED)).toBe(status);
  });

  it('are short snake_case words, safe as a metric dimension and a log field', () => {
    for (const reason of Object.keys(REASONS)) expect(reason).toMatch(/^[a-z]+(_[a-z]+)*$/);
  });

  it('each have a one-line, printable default hint that fits the log cap (600)', () => {
    for (const { hint } of Object.values(REASONS)) {
      expect(hint.length).toBeGreaterThan(10);
      expect(hint.length).toBeLessThanOrEqual(600);
      expect([...hint].filter((c) => c.charCodeAt(0) < 0x20 || c.charCodeAt(0) === 0x7f)).toEqual([]);
    }
  });
});
