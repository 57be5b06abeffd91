import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { readCorsOptions, withCors } from '../shared/cors.js';
import { MissingIdentityError, readIdentity } from '../shared/identity.js';

const cors = readCorsOptions(process.env);

const json = (statusCode: number, body: unknown): APIGatewayProxyResult =>
  withCors(
    {
      statusCode,
      headers: { 'content-type': 'application/json', 'cache-control': 'no-store' },
      body: JSON.stringify(body),
    },
    cors,
  );

/** GET /whoami: the caller as the Entra authorizer saw them. */
export async function handler(event: APIGatewayProxyEvent): Promise<APIGatewayProxyResult> {
  try {
    const identity = readIdentity(event.requestContext?.authorizer);
    return json(200, identity);
  } catch (err) {
    if (err instanceof MissingIdentityError) return json(500, { message: err.message });
    throw err;
  }
}
