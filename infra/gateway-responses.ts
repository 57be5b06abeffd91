/**
 * The gateway's error answers, shared by the CDK stack and the local gateway so both speak alike:
 * RFC 6750 challenges and CORS headers, so browsers see the real status.
 */
export const CORS_HEADERS = {
  'Access-Control-Allow-Origin': '*',
  'Access-Control-Allow-Headers': 'Authorization,Content-Type',
} as const;

export const GATEWAY_RESPONSES = {
  unauthorized: {
    type: 'UNAUTHORIZED',
    statusCode: 401,
    challenge: 'error="invalid_token", error_description="a valid Entra ID access token is required"',
    message: 'Unauthorized',
  },
  accessDenied: {
    type: 'ACCESS_DENIED',
    statusCode: 403,
    challenge:
      'error="insufficient_scope", error_description="the token lacks the scope or app role this route requires"',
    message: 'Forbidden',
  },
  authorizerFailure: {
    type: 'AUTHORIZER_FAILURE',
    statusCode: 500,
    challenge: undefined,
    message: 'Authorizer failure',
  },
} as const;

export type GatewayResponseKind = keyof typeof GATEWAY_RESPONSES;

/** The headers of one gateway answer for an API called `realm`. */
export function gatewayResponseHeaders(kind: GatewayResponseKind, realm: string): Record<string, string> {
  const { challenge } = GATEWAY_RESPONSES[kind];
  return {
    ...CORS_HEADERS,
    ...(challenge !== undefined ? { 'WWW-Authenticate': `Bearer realm="${realm}", ${challenge}` } : {}),
  };
}
