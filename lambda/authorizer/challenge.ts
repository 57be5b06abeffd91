import type { AuthorizerConfig, PermissionRule } from './config.js';
import { clientAllowed, type Grantee, groupAllowed, satisfies } from './permissions.js';

/** A scope-token of RFC 6750 §3: printable ASCII but space, `"` and `\`. */
const SCOPE_TOKEN = /^[\x21\x23-\x5b\x5d-\x7e]+$/;

const REFUSED_WHATEVER_SCOPE =
  'Bearer error_description="this request is refused whatever scope or role the token carries"';

/**
 * The 403 challenge for a token: `scope="..."` names the scopes of every rule (the API-wide one and each
 * route's) the token does not meet and a scope would meet, so a client can ask for the right consent. API
 * Gateway caches the context with the policy, per token, and answers every 403 of that token from it, so
 * the challenge is a property of the token, not of one request. A token that meets every rule it can (a
 * request refused whatever it carries: a path ending in `/`, a client app not allowed, a group the caller
 * is not in) gets no `insufficient_scope` invitation.
 */
export function createChallenger(
  config: Pick<AuthorizerConfig, 'required' | 'routePermissions'>,
): (grantee: Grantee) => string {
  const rules: readonly PermissionRule[] = [config.required, ...(config.routePermissions ?? [])];
  return (grantee) => {
    // Consent grants a scope or a role; it changes neither the calling app nor the caller's groups.
    const unmet = rules.filter(
      (rule) => clientAllowed(rule, grantee) && groupAllowed(rule, grantee) && !satisfies(rule, grantee),
    );
    const scopes = [...new Set(unmet.flatMap((rule) => rule.scopes))].filter((s) => SCOPE_TOKEN.test(s));
    if (scopes.length > 0) return `Bearer error="insufficient_scope", scope="${scopes.join(' ')}"`;
    if (unmet.some((rule) => rule.roles.length > 0))
      return 'Bearer error="insufficient_scope", error_description="the token lacks an app role this API requires"';
    return REFUSED_WHATEVER_SCOPE;
  };
}
