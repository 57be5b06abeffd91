import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { readIdentity } from 'entra-authorizer/identity';

/** GET /items: the authorizer has checked the scope Items.Read; the caller's claims are in the context. */
export const handler = async (event: APIGatewayProxyEvent): Promise<APIGatewayProxyResult> => {
  const caller = readIdentity(event.requestContext.authorizer);
  return { statusCode: 200, body: JSON.stringify({ items: [], for: caller.oid }) };
};
