/**
 * The naive peer of the cold bench: the least a TOKEN authorizer on aws-jwt-verify can be (one verifier made
 * at module scope, an Allow for a token it verifies, a 401 otherwise), bundled as the authorizer ships
 * (NODE22_BUNDLING) by cold-parts.ts, to show what the library alone costs at load beside its builtins.
 */
import { JwtVerifier } from 'aws-jwt-verify';

const tenant = process.env.AZURE_TENANT_ID;
const verifier = JwtVerifier.create({
  issuer: `https://login.microsoftonline.com/${tenant}/v2.0`,
  audience: process.env.AZURE_AUDIENCES ?? null,
  jwksUri: `https://login.microsoftonline.com/${tenant}/discovery/v2.0/keys`,
});

export const handler = async (event: { authorizationToken: string; methodArn: string }) => {
  try {
    const payload = await verifier.verify(event.authorizationToken.replace(/^Bearer /, ''));
    return {
      principalId: String(payload.sub),
      policyDocument: {
        Version: '2012-10-17',
        Statement: [{ Action: 'execute-api:Invoke', Effect: 'Allow', Resource: event.methodArn }],
      },
    };
  } catch {
    throw new Error('Unauthorized');
  }
};
