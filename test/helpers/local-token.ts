import { LOCAL_CLIENT_ID, LOCAL_SCOPE, LOCAL_USER_GRANT } from '../../infra/local/issuer.js';

/**
 * An access token from the local issuer's token endpoint: a delegated user token for the sample scope
 * unless `params` say otherwise (`grant_type: 'client_credentials'`, `token_version: '1'`, ...).
 */
export async function localToken(
  tokenEndpoint: string,
  params: Record<string, string> = {},
): Promise<string> {
  const res = await fetch(tokenEndpoint, {
    method: 'POST',
    body: new URLSearchParams({
      grant_type: LOCAL_USER_GRANT,
      scope: `api://${LOCAL_CLIENT_ID}/${LOCAL_SCOPE}`,
      ...params,
    }),
  });
  if (res.status !== 200) throw new Error(`local token endpoint answered ${res.status}: ${await res.text()}`);
  return ((await res.json()) as { access_token: string }).access_token;
}
