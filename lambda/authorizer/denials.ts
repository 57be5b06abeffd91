import { ENV_NAMES, type PermissionRule } from './config.js';
import type { PolicyDeny } from './policy-denials.js';

/**
 * Why a valid token is refused (403), as data: what the route (or the API) needs and what the token had.
 * Text is made only where it is shown (the log line, `explain`, the operator hint) by `denialText`.
 */
export type Denial =
  | { readonly kind: 'guest_not_allowed' }
  | { readonly kind: 'no_scope_or_role' }
  /** The rule's groups are not in the token because they did not fit (overage): unknown, not missing. */
  | { readonly kind: 'api_groups_overage'; readonly needs: readonly string[] }
  | {
      readonly kind: 'route_groups_overage';
      readonly request: string;
      readonly route: string;
      readonly byDefault?: true;
      readonly needs: readonly string[];
    }
  | { readonly kind: 'api_rule'; readonly needs: PermissionRule }
  | { readonly kind: 'api_client_app'; readonly needs: readonly string[]; readonly had: string | undefined }
  /** The request's method and path are served by no route of the table. */
  | { readonly kind: 'no_route'; readonly request: string }
  /** A guarded method no key names, and no default rule: no token may call it. */
  | { readonly kind: 'unlisted'; readonly request: string; readonly route: string }
  | {
      readonly kind: 'route_rule';
      readonly request: string;
      readonly route: string;
      readonly needs: PermissionRule;
      /** The rule is the `* /*` default's: no key names this method. */
      readonly byDefault?: true;
    }
  | {
      readonly kind: 'route_client_app';
      readonly request: string;
      readonly route: string;
      readonly byDefault?: true;
      readonly needs: readonly string[];
      readonly had: string | undefined;
    }
  | { readonly kind: 'trailing_slash'; readonly request: string }
  /** Granted, but a Deny the cached policy must carry covers this path too. */
  | {
      readonly kind: 'policy_deny';
      readonly request: string;
      readonly route: string;
      readonly deny: PolicyDeny;
    };

/** Why a valid token is refused, as the decision log line and the metrics name it. */
export type DenyReason =
  | 'insufficient_permission'
  | 'no_scope_or_role'
  | 'client_app_not_allowed'
  | 'guest_not_allowed'
  | 'groups_overage';

export function reasonOf(denial: Denial): DenyReason {
  if (denial.kind === 'no_scope_or_role' || denial.kind === 'guest_not_allowed') return denial.kind;
  if (denial.kind === 'api_groups_overage' || denial.kind === 'route_groups_overage') return 'groups_overage';
  if (denial.kind === 'api_client_app' || denial.kind === 'route_client_app') return 'client_app_not_allowed';
  return 'insufficient_permission';
}

/** `scope A or B, or role C`: what a rule needs, in words. */
function ruleText(rule: PermissionRule): string {
  const parts = [];
  if (rule.scopes.length > 0) parts.push(`scope ${rule.scopes.join(' or ')}`);
  if (rule.roles.length > 0) parts.push(`role ${rule.roles.join(' or ')}`);
  const grants = parts.join(', or ');
  const groups = rule.groups ?? [];
  if (groups.length === 0) return grants === '' ? 'a scope or a role' : grants;
  return `${grants === '' ? '' : `${grants}, and `}group ${groups.join(' or ')}`;
}

/**
 * The request and the route whose rule decided (the default's when no key names it); an HTTP API's request
 * is its route key already.
 */
function subject(denial: { readonly request: string; readonly route: string; readonly byDefault?: true }) {
  if (denial.request === `route ${denial.route}`) return denial.request;
  return denial.byDefault
    ? `${denial.request} ("${denial.route}", which no key names: the "* /*" default's rule)`
    : `${denial.request} (route "${denial.route}")`;
}

function policyDenyText(denial: Extract<Denial, { kind: 'policy_deny' }>): string {
  const { deny } = denial;
  const why =
    deny.because.kind === 'refused_route'
      ? `route "${deny.because.route}", which this caller may not call`
      : `the paths below "${deny.because.route}" its * would also admit`;
  return `${denial.request} is granted by "${denial.route}", but the cached policy must deny ${deny.method} ${deny.path} for ${why}, and that pattern covers this path too: in IAM a * crosses "/"`;
}

/** The denial in one line, for the decision log and `explain`. */
export function denialText(denial: Denial): string {
  switch (denial.kind) {
    case 'guest_not_allowed':
      return `the user is a guest of the tenant, and guests are refused (${ENV_NAMES.guestUsers}=refuse)`;
    case 'no_scope_or_role':
      return 'the token carries neither scp nor roles';
    case 'api_groups_overage':
      return `the API requires group ${denial.needs.join(' or ')}, and the token's groups did not fit in it (group overage)`;
    case 'route_groups_overage':
      return `${subject(denial)} requires group ${denial.needs.join(' or ')}, and the token's groups did not fit in it (group overage)`;
    case 'api_rule':
      return `the API requires ${ruleText(denial.needs)}`;
    case 'api_client_app':
      return `client app ${denial.had ?? '(none)'} is not among the API's allowed client apps (${ENV_NAMES.allowedClientApps})`;
    case 'no_route':
      return `${denial.request} is not in the route permissions`;
    case 'unlisted':
      return `${denial.request} is served by ${denial.route}, a guarded method no route key names (and no "* /*" default): no token may call it`;
    case 'route_rule':
      return `${subject(denial)} requires ${ruleText(denial.needs)}`;
    case 'route_client_app':
      return `${subject(denial)} admits only the client apps ${denial.needs.join(', ')}; the token's client app is ${denial.had ?? '(none)'}`;
    case 'trailing_slash':
      return `${denial.request} ends in "/", which route permissions refuse: API Gateway serves it from the resource without the slash`;
    case 'policy_deny':
      return policyDenyText(denial);
  }
}
