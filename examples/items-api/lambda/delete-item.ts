import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { hasScopeOrRole, readIdentity } from 'entra-authorizer/identity';

/** DELETE /items/{id}: the authorizer has checked the app role Items.Admin. */
export const handler = async (event: APIGatewayProxyEvent): Promise<APIGatewayProxyResult> => {
  const caller = readIdentity(event.requestContext.authorizer);
  if (!hasScopeOrRole(caller, 'Items.Admin')) return { statusCode: 403, body: '' };
  // 204 No Content: no body (HTTP forbids one, and API Gateway drops it).
  return { statusCode: 204, body: '' };
};
