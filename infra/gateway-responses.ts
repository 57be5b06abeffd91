import { ResponseType, type RestApi } from 'aws-cdk-lib/aws-apigateway';

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

export interface GatewayResponseOptions {
  /**
   * The realm of the `WWW-Authenticate` challenges.
   * @default - the API's name
   */
  readonly realm?: string;
}

/** API Gateway takes header values as mapping expressions: a literal is written in single quotes. */
const quoted = (headers: Record<string, string>) =>
  Object.fromEntries(Object.entries(headers).map(([name, value]) => [name, `'${value}'`]));

/** The 401/403/500 gateway responses (and CORS on every other 4XX/5XX) on a REST API. */
export function addEntraGatewayResponses(api: RestApi, options: GatewayResponseOptions = {}): void {
  const realm = options.realm ?? api.restApiName;
  for (const [kind, response] of Object.entries(GATEWAY_RESPONSES) as [
    GatewayResponseKind,
    (typeof GATEWAY_RESPONSES)[GatewayResponseKind],
  ][]) {
    api.addGatewayResponse(response.type, {
      type: ResponseType.of(response.type),
      statusCode: String(response.statusCode),
      responseHeaders: quoted(gatewayResponseHeaders(kind, realm)),
      templates: { 'application/json': JSON.stringify({ message: response.message }) },
    });
  }
  api.addGatewayResponse('Default4xx', {
    type: ResponseType.DEFAULT_4XX,
    responseHeaders: quoted(CORS_HEADERS),
  });
  api.addGatewayResponse('Default5xx', {
    type: ResponseType.DEFAULT_5XX,
    responseHeaders: quoted(CORS_HEADERS),
  });
}
