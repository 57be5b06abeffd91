/**
 * The naive peer: the least a TOKEN authorizer on aws-jwt-verify can be (one verifier made at module scope,
 * an Allow for a token it verifies, a 401 otherwise, its decision `console.log`ged). `npm run bench` bundles
 * it as the authorizer ships (NODE22_BUNDLING) and loads it beside ours (cold.ts), and runs it beside ours
 * on the same tokens (warm.ts): what the library alone costs.
 */
import { JwtVerifier } from 'aws-jwt-verify';

const tenant = process.env.AZURE_TENANT_ID;
/** Exported so that the warm bench can hand it the key set (aws-jwt-verify fetches over https only). */
export const verifier = JwtVerifier.create({
  issuer: `https://login.microsoftonline.com/${tenant}/v2.0`,
  audience: process.env.AZURE_AUDIENCES?.split(',') ?? null,
  jwksUri: `https://login.microsoftonline.com/${tenant}/discovery/v2.0/keys`,
});

export const handler = async (event: { authorizationToken: string; methodArn: string }) => {
  try {
    const payload = await verifier.verify(event.authorizationToken.replace(/^Bearer /, ''));
    console.log(JSON.stringify({ effect: 'Allow', principalId: payload.sub, methodArn: event.methodArn }));
    return {
      principalId: String(payload.sub),
      policyDocument: {
        Version: '2012-10-17',
        Statement: [{ Action: 'execute-api:Invoke', Effect: 'Allow', Resource: event.methodArn }],
      },
    };
  } catch {
    console.log(JSON.stringify({ effect: 'Unauthorized', methodArn: event.methodArn }));
    throw new Error('Unauthorized');
  }
};
