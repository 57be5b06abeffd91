import type { APIGatewayAuthorizerResult } from 'aws-lambda';
import type { DecisionRecord } from '../../lambda/authorizer/authorizer.js';
import { ENV_NAMES, loadConfig, UNLISTED_METHODS_ENV } from '../../lambda/authorizer/config.js';
import type { EntraClaims } from '../../lambda/authorizer/entra.js';
import { createRouteAuthorizer } from '../../lambda/authorizer/permissions.js';
import type { TokenVerifier } from '../../lambda/authorizer/verifier.js';
import { CLIENT_ID, TENANT } from './setup.js';
import { createAuthorizer } from './token-authorizer.js';

/**
 * API Gateway's matching of a policy resource against a method ARN, written from its documentation and
 * not from the production code: `*` matches any run of characters, `/` and `:` included, `?` exactly one
 * character, anything else itself (case-sensitive). Plain dynamic programming, no regular expression.
 */
export function iamMatches(pattern: string, text: string): boolean {
  let row = new Array<boolean>(text.length + 1).fill(false);
  row[0] = true;
  for (const p of pattern) {
    const next = new Array<boolean>(text.length + 1).fill(false);
    if (p === '*') {
      let seen = false;
      for (let j = 0; j <= text.length; j++) {
        seen ||= row[j] as boolean;
        next[j] = seen;
      }
    } else {
      for (let j = 1; j <= text.length; j++)
        next[j] = (row[j - 1] as boolean) && (p === '?' || p === text[j - 1]);
    }
    row = next;
  }
  return row[text.length] as boolean;
}

/** The whole policy judged as IAM does: an explicit Deny wins, then any Allow, else an implicit deny. */
export function iamAllows(result: APIGatewayAuthorizerResult, methodArn: string): boolean {
  let allowed = false;
  for (const statement of result.policyDocument.Statement) {
    const s = statement as { Effect: string; Action: string | string[]; Resource: string | string[] };
    if (![s.Action].flat().includes('execute-api:Invoke')) continue;
    if (![s.Resource].flat().some((r) => iamMatches(r, methodArn))) continue;
    if (s.Effect === 'Deny') return false;
    allowed = true;
  }
  return allowed;
}

/** Two client applications: route rules and AZURE_ALLOWED_CLIENT_APPS may name one of them. */
export const APP_A = '11111111-2222-4333-8444-555555555555';
export const APP_B = 'b0b0b0b0-2222-4333-8444-555555555555';

export const grantee = (scopes: string[], roles: string[], appId = APP_A): EntraClaims => ({
  iss: `https://login.microsoftonline.com/${TENANT}/v2.0`,
  tid: TENANT,
  aud: CLIENT_ID,
  exp: 4_000_000_000,
  ver: '2.0',
  oid: '00000000-0000-4000-8000-00000000a11c',
  sub: 'sub',
  scopes,
  roles,
  appId,
  appOnly: scopes.length === 0,
  name: undefined,
  preferredUsername: undefined,
  guest: false,
  groups: [],
  groupsOverage: false,
});

/** The real authorizer with a stub verifier that hands it these grants: the property is about policies. */
export function authorizerFor(
  table: Record<string, unknown> | undefined,
  required: string,
  claims: EntraClaims,
  allowedClientApps = '',
  /** More of the Lambda's variables, such as those a synthesized template gives it. */
  moreEnv: Record<string, string> = {},
) {
  const config = loadConfig({
    // A RestApi whose methods are the table's keys, none unlisted, as the construct writes it; a table with
    // the "* /*" default stands for one whose other methods are unknown (a SpecRestApi).
    ...(table !== undefined && !('* /*' in table) ? { [UNLISTED_METHODS_ENV]: '[]' } : {}),
    ...moreEnv,
    [ENV_NAMES.tenantId]: TENANT,
    [ENV_NAMES.audiences]: CLIENT_ID,
    ...(table !== undefined ? { [ENV_NAMES.routePermissions]: JSON.stringify(table) } : {}),
    [ENV_NAMES.requiredScopes]: required,
    [ENV_NAMES.allowedClientApps]: allowedClientApps,
  });
  const verifier: TokenVerifier = {
    verify: async () => ({
      claims,
      keyId: 'main-key',
      jwt: {
        header: {},
        payload: { scp: claims.scopes.join(' '), roles: claims.roles },
        signingInput: '',
        signatureB64: '',
      },
    }),
  };
  const records: DecisionRecord<APIGatewayAuthorizerResult>[] = [];
  const handler = createAuthorizer({
    verifier,
    routes: createRouteAuthorizer(config),
    record: (r) => records.push(r),
  });
  return async (methodArn: string) => {
    const result = await handler({ type: 'TOKEN', authorizationToken: 'Bearer a.b.c', methodArn });
    const decision = records.at(-1)?.decision;
    return { result, outcome: decision?.outcome, detail: decision?.detail };
  };
}
