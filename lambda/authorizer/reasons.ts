/**
 * The fixed set of decision reasons. Logs, metrics and `npm run explain` all speak these codes, so an
 * operator can alarm on one and look it up here.
 */
export const REASONS = {
  allowed: { outcome: 'allow', hint: 'the token is valid and grants this route' },
  missing_token: {
    outcome: 'unauthorized',
    hint: 'send the header "Authorization: Bearer <access token>"',
  },
  malformed: {
    outcome: 'unauthorized',
    hint: 'the header is not "Bearer <jwt>" with a compact, canonical base64url JWT of at most 16 KiB',
  },
  unsupported_alg: {
    outcome: 'unauthorized',
    hint: 'Entra ID signs access tokens with RS256; any other alg (none, HS256, RS512, ...) is refused',
  },
  forbidden_header: {
    outcome: 'unauthorized',
    hint: 'keys are taken only from the configured key set, never from jku, x5u, jwk or x5c in the token',
  },
  graph_token: {
    outcome: 'unauthorized',
    hint: 'this is a Microsoft Graph token (nonce header or Graph audience): request a token for your API scope instead',
  },
  wrong_issuer: {
    outcome: 'unauthorized',
    hint: "iss must be the configured cloud's issuer for the token tid: https://login.microsoftonline.com/{tid}/v2.0 or https://sts.windows.net/{tid}/ by default, another cloud's per AZURE_AUTHORITY_HOST, or an External ID tenant's https://{tid}.ciamlogin.com/{tid}/v2.0",
  },
  tenant_not_allowed: {
    outcome: 'unauthorized',
    hint: 'the token tenant is neither the configured tenant nor on the allowed tenant list (AZURE_ALLOWED_TENANTS, or the parameter AZURE_ALLOWED_TENANTS_PARAMETER names)',
  },
  wrong_audience: {
    outcome: 'unauthorized',
    hint: 'aud is not in AZURE_AUDIENCES: v1 tokens carry api://<id>, v2 tokens the client id; list both',
  },
  expired: { outcome: 'unauthorized', hint: 'the token has expired: the client must get a new one' },
  not_yet_valid: {
    outcome: 'unauthorized',
    hint: 'nbf is in the future beyond the allowed clock skew: check the clocks',
  },
  not_an_access_token: {
    outcome: 'unauthorized',
    hint: 'id token: it has no azp (v2) or appid (v1), which every Entra access token carries; roles do not make it one. Send an access token requested for your API scope',
  },
  unknown_key: {
    outcome: 'unauthorized',
    hint: 'the kid is not in the key set of the configured tenant: a token from another cloud, tenant or an app with custom signing keys',
  },
  key_issuer_mismatch: {
    outcome: 'unauthorized',
    hint: 'the signing key belongs to another issuer than the token claims (for example a personal-account key)',
  },
  bad_signature: {
    outcome: 'unauthorized',
    hint: 'the signature does not verify: the token was altered or forged',
  },
  insufficient_permission: {
    outcome: 'deny',
    hint: 'the token is valid but lacks a required scope (scp) or app role (roles) for this route',
  },
  client_app_not_allowed: {
    outcome: 'deny',
    hint: "the calling client app (azp in v2 tokens, appid in v1) is not on AZURE_ALLOWED_CLIENT_APPS or the route's clientApps: add its application id there if it may call",
  },
  groups_overage: {
    outcome: 'deny',
    hint: "the route needs a group, and the user's groups did not fit in the token (group overage: _claim_names instead of groups); no Graph call is made: assign the groups to the API's enterprise application (the token then names only those), or grant app roles to the groups and require the roles",
  },
  guest_not_allowed: {
    outcome: 'deny',
    hint: 'the user is a guest (B2B) of the tenant (acct 1, or an idp other than the issuer) and AZURE_GUEST_USERS is refuse: make the user a member, or set guestUsers to allow if guests may call',
  },
  no_scope_or_role: {
    outcome: 'deny',
    hint: 'the token carries neither scp nor roles, typically an app-only (client credentials) token of an app with no app role: assign an app role of this API to the calling app, or set "Assignment required" on the API\'s enterprise application',
  },
  keys_unavailable: {
    outcome: 'error',
    hint: 'the signing keys could not be fetched from the key URL: check egress to the Entra ID endpoint',
  },
  tenants_unavailable: {
    outcome: 'error',
    hint: 'the allowed tenant list could not be read from its SSM parameter, or the last list read is past its use-by time: check the parameter, its value and the function role (ssm:GetParameter)',
  },
  internal_error: {
    outcome: 'error',
    hint: 'an unexpected failure in the authorizer: see the error in the log',
  },
} as const satisfies Record<string, { outcome: Outcome; hint: string }>;

export type Outcome = 'allow' | 'deny' | 'unauthorized' | 'error';
export type Reason = keyof typeof REASONS;
export type RejectionReason = {
  [R in Reason]: (typeof REASONS)[R]['outcome'] extends 'unauthorized' ? R : never;
}[Reason];
