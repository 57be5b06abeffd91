import type { APIGatewayAuthorizerResult } from 'aws-lambda';
import type { Denial, DenyReason } from './denials.js';
import type { Reason, RejectionReason } from './reasons.js';

/** The exact message API Gateway turns into a 401; any other thrown message becomes a 500. */
export const UNAUTHORIZED = 'Unauthorized';

/** `R` is the answer API Gateway gets for an Allow or a Deny: an IAM policy (REST, WebSocket) or a simple response (HTTP API). */
export type Decision<R = APIGatewayAuthorizerResult> =
  | {
      readonly outcome: 'allow' | 'deny';
      readonly reason: 'allowed' | DenyReason;
      readonly detail: string;
      /** Why a valid token is refused, as data (a deny only); `detail` is it in words. */
      readonly denial?: Denial;
      readonly result: R;
    }
  | { readonly outcome: 'unauthorized'; readonly reason: RejectionReason; readonly detail: string }
  | {
      readonly outcome: 'error';
      readonly reason: Extract<Reason, 'keys_unavailable' | 'tenants_unavailable' | 'internal_error'>;
      readonly detail: string;
    };

/** The one place outcomes become API Gateway answers: a policy, a 401, or a 500. */
export function respond<R>(decision: Decision<R>): R {
  switch (decision.outcome) {
    case 'allow':
    case 'deny':
      return decision.result;
    case 'unauthorized':
      throw new Error(UNAUTHORIZED);
    case 'error':
      throw new Error(`Authorizer failure (${decision.reason})`);
  }
}
