import {
  B2C_REFUSAL,
  CLOUDS,
  cloudOfAuthority,
  cloudsOfV1Issuer,
  isB2cHost,
  isExternalIdHost,
} from './clouds.js';
import { ConfigError } from './errors.js';
import { microsoftApiOf } from './microsoft-apis.js';
import { redactUrl } from './safe-text.js';

/**
 * The authorizer's settings, one row each: the Lambda variable the cold start reads it from, the construct
 * prop that sets it at synth, and its form in the variable (`text`; `list`, comma-separated, with what
 * leaving it out means; `json`). Both sides check a setting with the one validator, `validateSettings`,
 * whose messages name it through this table: `AZURE_TENANT_ID` at cold start, `tenantId` at synth.
 *
 * A new setting (a prop such as `groups`) is a row here, the prop of that name in
 * `EntraTokenAuthorizerProps`, and its rule in `validateSettings` (with its field of `AuthorizerConfig`):
 * the construct writes the variable from the prop, the cold start reads it back by the row's form, and both
 * check it with that rule.
 */
export const SETTINGS = {
  tenantId: { variable: 'AZURE_TENANT_ID', prop: 'tenantId', form: 'text' },
  allowedTenants: {
    variable: 'AZURE_ALLOWED_TENANTS',
    prop: 'allowedTenants',
    form: 'list',
    none: 'a single tenant',
  },
  audiences: {
    variable: 'AZURE_AUDIENCES',
    prop: 'audiences',
    form: 'list',
    none: 'only the audiences of clientId',
  },
  requiredScopes: {
    variable: 'AZURE_REQUIRED_SCOPES',
    prop: 'requiredScopes',
    form: 'list',
    none: 'no required scope',
  },
  requiredRoles: {
    variable: 'AZURE_REQUIRED_ROLES',
    prop: 'requiredRoles',
    form: 'list',
    none: 'no required role',
  },
  routePermissions: { variable: 'AZURE_ROUTE_PERMISSIONS', prop: 'routePermissions', form: 'json' },
  jwksUri: { variable: 'AZURE_JWKS_URI', prop: 'jwksUri', form: 'text' },
  clockSkewSeconds: { variable: 'AZURE_CLOCK_SKEW_SECONDS', prop: 'clockSkew', form: 'text' },
  authorityHost: { variable: 'AZURE_AUTHORITY_HOST', prop: 'authorityHost', form: 'text' },
  v1IssuerHost: { variable: 'AZURE_V1_ISSUER_HOST', prop: 'v1IssuerHost', form: 'text' },
  allowedClientApps: {
    variable: 'AZURE_ALLOWED_CLIENT_APPS',
    prop: 'allowedClientApps',
    form: 'list',
    none: 'any client app',
  },
  allowedTenantsParameter: {
    variable: 'AZURE_ALLOWED_TENANTS_PARAMETER',
    prop: 'allowedTenants',
    form: 'text',
  },
  tenantsRefreshSeconds: { variable: 'AZURE_TENANTS_REFRESH_SECONDS', prop: 'tenantsRefresh', form: 'text' },
  guestUsers: { variable: 'AZURE_GUEST_USERS', prop: 'guestUsers', form: 'text' },
  requiredGroups: {
    variable: 'AZURE_REQUIRED_GROUPS',
    prop: 'requiredGroups',
    form: 'list',
    none: 'no required group',
  },
} as const;

export type Setting = keyof typeof SETTINGS;

/** The variables, by setting: the construct writes them and the Lambda reads them under these names. */
export const ENV_NAMES = Object.freeze(
  Object.fromEntries(Object.entries(SETTINGS).map(([setting, row]) => [setting, row.variable])),
) as { readonly [S in Setting]: (typeof SETTINGS)[S]['variable'] };

export type EnvName = (typeof ENV_NAMES)[Setting];

type ValueOf<Form> = Form extends 'list' ? readonly string[] : Form extends 'json' ? unknown : string;

/** The configuration before validation: what the props say at synth, what the variables say at cold start. */
export type AuthorizerSettings = {
  readonly [S in Setting]?: ValueOf<(typeof SETTINGS)[S]['form']>;
};

/**
 * Written by the construct, never by hand: the guarded methods of the REST API that no route key names
 * (see `AuthorizerConfig.unlistedMethods`). Apart from ENV_NAMES, which are the user's configuration.
 */
export const UNLISTED_METHODS_ENV = 'AZURE_UNLISTED_METHODS';

export const DEFAULTS = {
  clockSkewSeconds: 300,
  authorityHost: 'login.microsoftonline.com',
  v1IssuerHost: 'sts.windows.net',
  tenantsRefreshSeconds: 300,
  guestUsers: 'allow',
} as const;

/**
 * What a guest (B2B) user of the tenant gets: judged like a member (`allow`), or refused with a 403
 * (`refuse`). How a guest is told from a member: `isGuest` in entra.ts.
 */
const GUEST_USERS = ['allow', 'refuse'] as const;
type GuestUsers = (typeof GUEST_USERS)[number];

const MAX_CLOCK_SKEW_SECONDS = 600;
const MULTI_TENANT_AUTHORITIES = ['organizations', 'common'] as const;
/**
 * How often the tenant list may be read from its parameter: not more often than every 30 s (each warm
 * environment reads it, and SSM's GetParameter quota is shared by the account), not less than hourly.
 */
export const TENANTS_REFRESH_BOUNDS = { min: 30, max: 3600 } as const;
/** An SSM parameter name (`/saas/tenants`, `tenants`) or its ARN, as GetParameter takes it. */
const PARAMETER_NAME =
  /^(arn:[a-z-]+:ssm:[a-z0-9-]+:\d{12}:parameter)?\/?[A-Za-z0-9_.-]+(\/[A-Za-z0-9_.-]+)*$/;
/** The methods a REST API method ARN carries (a method declared `ANY` arrives as the request's own). */
export const REST_METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS'] as const;
/** What a route key may name: one method, or `*` (also spelled `ANY`) for every one of REST_METHODS. */
const HTTP_METHODS = [...REST_METHODS, '*'] as const;
/**
 * The longest route path a key may have, counted as written into the policy (`{id}` as `*`): API Gateway
 * takes a policy Resource of at most 512 characters ("Output from an API Gateway Lambda authorizer"), and
 * the longest ARN prefix before the path is 212: `arn:aws-iso-b:execute-api:`, a region, a 12-digit
 * account, a 10-character API id, a stage of up to 128 characters and `/OPTIONS`.
 */
const MAX_ROUTE_PATH = 300;
/**
 * A whole-segment path parameter as API Gateway writes it: `{id}`, or greedy `{proxy+}` (last only), its
 * name of letters, digits, `.`, `_` and `-`.
 */
export function isPathParameter(segment: string): boolean {
  if (!segment.startsWith('{') || !segment.endsWith('}')) return false;
  const name = segment.slice(1, segment.endsWith('+}') ? -2 : -1);
  return name !== '' && [...name].every(isAsciiAlphanumericOr('._-'));
}
/**
 * Characters that mean something else in an IAM resource than in a route path: `?` matches any one
 * character and `$` opens a policy variable (`${aws:username}`). A route path holding one would grant in
 * the policy API Gateway caches more than the route matcher grants.
 */
export const POLICY_SPECIAL_CHARACTERS = '?$';

/**
 * A path other than the root that ends in `/`. API Gateway serves `/items/` from the resource `/items`, but
 * the method ARN keeps the slash, where `/items/*` (its `*` matching nothing) would admit it: such paths are
 * refused as route keys and, under route permissions, as requests (see `trailingSlashResource`).
 */
export function isTrailingSlashPath(path: string): boolean {
  return path.length > 1 && path.endsWith('/');
}

/*
 * The checks every cold start runs are written without regular expressions: V8 compiles a regular
 * expression at its first execution and again to native code at its second, some 50 µs each.
 */

function isLowerHexDigit(ch: string): boolean {
  return (ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'f');
}

/** A test of one character: an ASCII letter or digit, or one of `others`. */
function isAsciiAlphanumericOr(others: string): (ch: string) => boolean {
  return (ch) =>
    (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') || others.includes(ch);
}

/** Whether `value` holds white space: what `\s` matches is what `trim` removes. */
export function hasWhitespace(value: string): boolean {
  for (let i = 0; i < value.length; i++) if (value.charAt(i).trim() === '') return true;
  return false;
}

/** A lower-case host name (`a-z`, `0-9`, `.`, `-`), then perhaps `:` and a port of 1 to 5 digits. */
export function isHostAndPort(value: string): boolean {
  const colon = value.indexOf(':');
  const name = colon === -1 ? value : value.slice(0, colon);
  const port = colon === -1 ? undefined : value.slice(colon + 1);
  const isHostCharacter = (ch: string) =>
    (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch === '.' || ch === '-';
  return (
    name !== '' &&
    [...name].every(isHostCharacter) &&
    (port === undefined || (port.length <= 5 && isDigits(port)))
  );
}

/** One or more of the ASCII digits `0-9`, nothing else. */
export function isDigits(value: string): boolean {
  if (value === '') return false;
  for (const ch of value) if (ch < '0' || ch > '9') return false;
  return true;
}

/** A GUID in lower case, `8-4-4-4-12` hex digits, as Entra writes tenant and application ids. */
export function isGuid(value: string): boolean {
  // A JavaScript caller (a construct's props, a token's claim) may pass anything: false, never a TypeError.
  if (typeof value !== 'string' || value.length !== 36) return false;
  for (let i = 0; i < 36; i++) {
    const hyphenHere = i === 8 || i === 13 || i === 18 || i === 23;
    if (hyphenHere ? value[i] !== '-' : !isLowerHexDigit(value.charAt(i))) return false;
  }
  return true;
}

/**
 * The characters Entra allows in a scope's or an app role's value, so the only ones `scp` and `roles` can
 * carry: letters, digits and ASCII punctuation but `"` and `\`, at most 120, not starting with `.`
 * (Microsoft Graph's permissionScope and appRole `value`).
 */
export function isEntraName(name: string): boolean {
  if (name.length < 1 || name.length > 120 || name.startsWith('.')) return false;
  for (const ch of name) if (ch < '!' || ch > '~' || ch === '"' || ch === '\\') return false;
  return true;
}

/**
 * A URI (`api://...`, `https://...`): an App ID URI and a scope, where `scp` holds only the scope. Both cases
 * spelled out rather than `/i`, whose first use loads V8's case-folding tables (0.2 ms of every cold start);
 * run only on a name holding `://`, which a scope name never does.
 */
const URI_PREFIX = /^[A-Za-z][A-Za-z0-9+.-]*:\/\//;

export function hasUriPrefix(name: string): boolean {
  return name.includes('://') && URI_PREFIX.test(name);
}

/**
 * Why a required scope or role can never match what Entra writes in `scp` or `roles`, or undefined. The one
 * rule behind the synth's message (naming the prop), the cold start's and explain's (naming the variable).
 */
function permissionNameProblem(name: string, kind: 'scope' | 'role'): string | undefined {
  if (kind === 'scope' && hasUriPrefix(name)) {
    const short = name.slice(name.lastIndexOf('/') + 1) || 'Orders.Read';
    return `scope names as scp carries them ("${short}"): scp holds the scope name only, never the App ID URI before it`;
  }
  if (!isEntraName(name)) {
    return `${kind} names Entra can write in ${kind === 'scope' ? 'scp' : 'roles'}: 1 to 120 letters, digits or ASCII punctuation other than " and \\, not starting with "."`;
  }
  return undefined;
}

export type TenantConfig =
  | { readonly mode: 'single'; readonly tenantId: string }
  | {
      readonly mode: 'multi';
      readonly tenantId: (typeof MULTI_TENANT_AUTHORITIES)[number];
      /** 'any' only when the operator wrote `*` explicitly. */
      readonly allowedTenants: ReadonlySet<string> | 'any';
    };

/** A permission as written by the operator: either list may be empty; both empty means any valid token. */
export interface PermissionRule {
  readonly scopes: readonly string[];
  readonly roles: readonly string[];
  /**
   * The client applications (lower-case application ids: `azp` in v2 tokens, `appid` in v1) that may call;
   * empty means any. Absent in rules written before it existed: the same as empty.
   */
  readonly clientApps?: readonly string[];
  /**
   * The security groups (lower-case object id GUIDs, as in the token's `groups` claim) one of which the
   * caller must be in, beside the scope or role; empty or absent means no group is needed.
   */
  readonly groups?: readonly string[];
}

/** A method of the API as a route key names it: `GET /items/{id}`, `* /files/{proxy+}` (`ANY`). */
export interface RouteKey {
  /** The key as written, e.g. `GET /items/{id}`, or `* /*` for the default rule. */
  readonly route: string;
  /** One method, or `*` (`ANY`): every method of REST_METHODS (the policy lists them one by one). */
  readonly method: (typeof HTTP_METHODS)[number];
  /**
   * API Gateway's resource path as declared (`/items/{id}`, `/{proxy+}`: a parameter is one whole segment,
   * a greedy one the last), or `/*` in the default key `* /*`; never `?` or `$`.
   */
  readonly path: string;
}

export interface RoutePermission extends RouteKey, PermissionRule {}

/** The key of the default rule: it decides the methods no other key names, and only those. */
export const DEFAULT_ROUTE = '* /*';

export function isDefaultRoute(route: Pick<RouteKey, 'method' | 'path'>): boolean {
  return route.method === '*' && route.path === '/*';
}

/** A multi-tenant allow-list read at run time from an SSM parameter (String: a JSON array; or StringList). */
interface TenantsParameter {
  readonly name: string;
  readonly refreshSeconds: number;
}

export interface AuthorizerConfig {
  /** With `tenantsParameter`, its `allowedTenants` is empty: the list the parameter holds comes at run time. */
  readonly tenant: TenantConfig;
  readonly tenantsParameter?: TenantsParameter;
  readonly audiences: readonly string[];
  readonly required: PermissionRule;
  /** Undefined: one stage-wide decision. Defined: the exact routes a caller may call. */
  readonly routePermissions: readonly RoutePermission[] | undefined;
  /**
   * The guarded methods no key names, as the construct found them on the API: with them the table holds
   * every method the authorizer guards. Undefined when unknown (a SpecRestApi, a table written by hand).
   */
  readonly unlistedMethods?: readonly RouteKey[] | undefined;
  readonly jwksUri: string;
  readonly clockSkewSeconds: number;
  readonly authorityHost: string;
  /** Undefined for External ID tenants, whose only documented issuer is v2 (see clouds.ts). */
  readonly v1IssuerHost: string | undefined;
  readonly guestUsers: GuestUsers;
}

export type Env = Readonly<Record<string, string | undefined>>;

/**
 * Where settings come from, for the messages of `validateSettings`: how that side names a setting and shows
 * the value the deployer wrote (the variable at cold start, the prop at synth), how it writes "any tenant",
 * and how it phrases a route table mistake.
 */
export interface SettingsSource {
  readonly nameOf: (setting: Setting) => string;
  readonly shown: (setting: Setting) => unknown;
  readonly anyTenant: string;
  readonly routeError: (problem: RouteProblem) => Error;
}

/** The variables as a source: a message names the variable and shows its value as set. */
export function envSource(env: Env): SettingsSource {
  return {
    nameOf: (setting) => SETTINGS[setting].variable,
    shown: (setting) => env[SETTINGS[setting].variable],
    anyTenant: '"*"',
    routeError: ({ at, expected, actual }) =>
      new ConfigError(ENV_NAMES.routePermissions, actual, at === '' ? expected : `${at} to be ${expected}`),
  };
}

/**
 * The variables read back into settings, each by its form: a blank variable is unset, a list is split at
 * commas (blank items and repeats dropped), a route table is parsed as JSON.
 */
export function settingsOfEnv(env: Env): AuthorizerSettings {
  const settings: Record<string, unknown> = {};
  for (const [setting, { variable, form }] of Object.entries(SETTINGS)) {
    const raw = env[variable]?.trim();
    if (raw === undefined || raw === '') continue;
    settings[setting] = form === 'list' ? listOf(raw) : form === 'json' ? jsonOf(variable, raw) : raw;
  }
  return settings as AuthorizerSettings;
}

function listOf(raw: string): string[] {
  const items = raw
    .split(',')
    .map((item) => item.trim())
    .filter((item) => item !== '');
  return [...new Set(items)];
}

function jsonOf(variable: string, raw: string): unknown {
  try {
    return JSON.parse(raw);
  } catch {
    throw new ConfigError(
      variable,
      raw,
      'a JSON object such as {"GET /items/{id}": {"scopes": ["Items.Read"]}}',
    );
  }
}

/** Settings as the variables that carry them to the Lambda: `settingsOfEnv` reads them back. */
export function envOfSettings(settings: AuthorizerSettings): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [setting, { variable, form }] of Object.entries(SETTINGS)) {
    const value: unknown = settings[setting as Setting];
    if (value === undefined) continue;
    if (form === 'list') {
      if ((value as readonly string[]).length > 0) env[variable] = (value as readonly string[]).join(',');
    } else env[variable] = form === 'json' ? JSON.stringify(value) : String(value);
  }
  return env;
}

/** Reads and validates the environment once; every error names the variable and shows the bad value. */
export function loadConfig(env: Env): AuthorizerConfig {
  const source = envSource(env);
  const settings = settingsOfEnv(env);
  return Object.freeze({
    ...validateSettings(settings, source),
    routePermissions: readRoutePermissions(settings.routePermissions, source),
    unlistedMethods: readUnlistedMethods(env),
  });
}

/** What every kind of API shares; the route table is each kind's own (REST's: `readRoutePermissions`). */
type SharedConfig = Omit<AuthorizerConfig, 'routePermissions' | 'unlistedMethods'>;

/**
 * The one validator of the settings, at synth (from the props) and at cold start (from the variables): each
 * rule written once, its message naming the setting as `source` names it.
 */
export function validateSettings(settings: AuthorizerSettings, source: SettingsSource): SharedConfig {
  const fail = (setting: Setting, expected: string) =>
    new ConfigError(source.nameOf(setting), source.shown(setting), expected);
  // An unset setting takes its default without calling its check, which a cold start then never compiles.
  const authorityHost =
    (settings.authorityHost !== undefined && hostOf('authorityHost', settings, source)) ||
    DEFAULTS.authorityHost;
  const v1IssuerHost = v1IssuerHostOf(settings, authorityHost, source);
  const tenant = tenantOf(settings, source);
  const tenantsParameter = tenantsParameterOf(settings, tenant, source);
  if (isExternalIdHost(authorityHost) && tenant.mode === 'multi') {
    throw fail(
      'tenantId',
      `the External ID tenant's GUID, because ${source.nameOf('authorityHost')} is ${authorityHost}: an External ID API serves its own tenant's customers`,
    );
  }
  const audiences = settings.audiences ?? [];
  if (audiences.length === 0) throw fail('audiences', 'at least one audience (client id or App ID URI)');
  // Every token Microsoft issues for its own APIs would pass the audience check: never what anyone means.
  for (const audience of audiences) {
    const problem = microsoftAudienceProblem(String(audience));
    if (problem !== undefined) throw fail('audiences', problem);
  }
  // Lower-cased as Entra writes them in azp and appid.
  const clientApps = (settings.allowedClientApps ?? []).map((app) => String(app).toLowerCase());
  if (clientApps.some((app) => !isGuid(app))) {
    throw fail('allowedClientApps', 'application (client) id GUIDs: the azp claim of v2 tokens, appid of v1');
  }
  for (const [setting, kind] of [
    ['requiredScopes', 'scope'],
    ['requiredRoles', 'role'],
  ] as const) {
    for (const name of settings[setting] ?? []) {
      const problem = permissionNameProblem(String(name), kind);
      if (problem !== undefined) throw fail(setting, problem);
    }
  }
  // Lower-cased as Entra writes them in groups.
  const groups = (settings.requiredGroups ?? []).map((group) => String(group).toLowerCase());
  if (groups.some((group) => !isGuid(group))) throw fail('requiredGroups', GROUP_IDS);
  const guestUsers = settings.guestUsers ?? DEFAULTS.guestUsers;
  if (!(GUEST_USERS as readonly string[]).includes(guestUsers)) {
    throw fail('guestUsers', `one of ${GUEST_USERS.map((g) => `"${g}"`).join(', ')}`);
  }
  return Object.freeze({
    tenant: Object.freeze(tenant),
    ...(tenantsParameter === undefined ? {} : { tenantsParameter: Object.freeze(tenantsParameter) }),
    audiences: Object.freeze([...audiences]),
    required: Object.freeze({
      scopes: Object.freeze([...(settings.requiredScopes ?? [])]),
      roles: Object.freeze([...(settings.requiredRoles ?? [])]),
      clientApps: Object.freeze(clientApps),
      groups: Object.freeze(groups),
    }),
    guestUsers: guestUsers as GuestUsers,
    jwksUri:
      settings.jwksUri === undefined
        ? defaultJwksUri(tenant.tenantId, authorityHost)
        : jwksUriOf(settings.jwksUri, source),
    clockSkewSeconds:
      settings.clockSkewSeconds === undefined
        ? DEFAULTS.clockSkewSeconds
        : skewOf(settings.clockSkewSeconds, source),
    authorityHost,
    v1IssuerHost,
  });
}

/**
 * What an audience of one of Microsoft's own APIs must be instead (for the message that refuses it), or
 * undefined for an audience an API of yours may have.
 */
export function microsoftAudienceProblem(
  audience: string,
  as: 'audience' | 'client id' = 'audience',
): string | undefined {
  const api = microsoftApiOf(audience);
  if (api === undefined) return undefined;
  return as === 'audience'
    ? `your API's client id or App ID URI; ${audience} is the audience of ${api}, whose tokens are never for your API`
    : `your API's application (client) id; ${audience} is the application id of ${api}, whose tokens are never for your API`;
}

/** The default key URL for a tenant (or `organizations`/`common`) on an authority host. */
function defaultJwksUri(tenantId: string, authorityHost: string = DEFAULTS.authorityHost): string {
  return `https://${authorityHost}/${tenantId}/discovery/v2.0/keys`;
}

function tenantOf(settings: AuthorizerSettings, source: SettingsSource): TenantConfig {
  const tenantId = settings.tenantId?.toLowerCase();
  if (tenantId !== undefined && isGuid(tenantId)) return singleTenantOf(tenantId, settings, source);
  if (tenantId === 'organizations' || tenantId === 'common') return multiTenantOf(tenantId, settings, source);
  throw new ConfigError(
    source.nameOf('tenantId'),
    source.shown('tenantId'),
    'a tenant GUID, "organizations" or "common"',
  );
}

function singleTenantOf(
  tenantId: string,
  settings: AuthorizerSettings,
  source: SettingsSource,
): TenantConfig {
  for (const setting of ['allowedTenantsParameter', 'allowedTenants'] as const) {
    if (settings[setting] !== undefined) {
      throw new ConfigError(
        source.nameOf(setting),
        source.shown(setting),
        `unset for the single tenant ${tenantId}: it applies only when ${source.nameOf('tenantId')} is "organizations" or "common"`,
      );
    }
  }
  return { mode: 'single', tenantId };
}

function multiTenantOf(
  tenantId: (typeof MULTI_TENANT_AUTHORITIES)[number],
  settings: AuthorizerSettings,
  source: SettingsSource,
): TenantConfig {
  const fail = (setting: Setting, expected: string) =>
    new ConfigError(source.nameOf(setting), source.shown(setting), expected);
  const allowed = settings.allowedTenants;
  if (settings.allowedTenantsParameter !== undefined) {
    if (allowed !== undefined) {
      throw fail(
        'allowedTenants',
        `unset, because ${source.nameOf('allowedTenantsParameter')} names the parameter that holds the list`,
      );
    }
    // Empty until the parameter is read: nothing the configuration alone decides admits a tenant.
    return { mode: 'multi', tenantId, allowedTenants: new Set() };
  }
  if (allowed === undefined || allowed.length === 0) {
    throw fail(
      'allowedTenants',
      `tenant GUIDs, or ${source.anyTenant} for any tenant, because ${source.nameOf('tenantId')} is "${tenantId}"`,
    );
  }
  if (allowed.length === 1 && allowed[0] === '*') return { mode: 'multi', tenantId, allowedTenants: 'any' };
  const tenants = allowed.map((t) => String(t).toLowerCase());
  if (tenants.some((t) => !isGuid(t)))
    throw fail('allowedTenants', `tenant GUIDs, or exactly ${source.anyTenant}`);
  return { mode: 'multi', tenantId, allowedTenants: new Set(tenants) };
}

/** The tenant list's parameter; most APIs name none, and then nothing here is compiled at cold start. */
function tenantsParameterOf(
  settings: AuthorizerSettings,
  tenant: TenantConfig,
  source: SettingsSource,
): TenantsParameter | undefined {
  if (settings.allowedTenantsParameter === undefined && settings.tenantsRefreshSeconds === undefined)
    return undefined;
  return readTenantsParameter(settings, tenant, source);
}

function readTenantsParameter(
  settings: AuthorizerSettings,
  tenant: TenantConfig,
  source: SettingsSource,
): TenantsParameter | undefined {
  const fail = (setting: Setting, expected: string) =>
    new ConfigError(source.nameOf(setting), source.shown(setting), expected);
  const name = settings.allowedTenantsParameter;
  const refresh = settings.tenantsRefreshSeconds;
  if (name === undefined || tenant.mode === 'single') {
    if (refresh !== undefined) {
      throw fail(
        'tenantsRefreshSeconds',
        `unset: it applies only when ${source.nameOf('allowedTenantsParameter')} names the tenant list's parameter`,
      );
    }
    return undefined;
  }
  if (!PARAMETER_NAME.test(name) || name.length > 2048) {
    throw fail(
      'allowedTenantsParameter',
      'an SSM parameter name such as /saas/allowed-tenants (letters, digits, ".", "_", "-", "/"), or its ARN',
    );
  }
  if (refresh === undefined) return { name, refreshSeconds: DEFAULTS.tenantsRefreshSeconds };
  const seconds = isDigits(refresh) ? Number(refresh) : Number.NaN;
  const { min, max } = TENANTS_REFRESH_BOUNDS;
  if (!Number.isSafeInteger(seconds) || seconds < min || seconds > max) {
    throw fail('tenantsRefreshSeconds', `a whole number of seconds from ${min} to ${max}`);
  }
  return { name, refreshSeconds: seconds };
}

function hostOf(
  setting: 'authorityHost' | 'v1IssuerHost',
  settings: AuthorizerSettings,
  source: SettingsSource,
): string | undefined {
  const raw = settings[setting];
  if (raw === undefined) return undefined;
  const host = raw.toLowerCase();
  const fail = (expected: string) => new ConfigError(source.nameOf(setting), source.shown(setting), expected);
  if (!isHostAndPort(host)) throw fail('a host name such as login.microsoftonline.us');
  if (isB2cHost(host)) throw fail(`a Microsoft Entra login host (${B2C_REFUSAL})`);
  return host;
}

/**
 * The v1 issuer host follows from the authority host for every cloud Microsoft documents (clouds.ts), so it
 * is needed only for a login host not in that table; a value that contradicts the table is refused, since
 * every v1 token would then fail as wrong_issuer.
 */
function v1IssuerHostOf(
  settings: AuthorizerSettings,
  authorityHost: string,
  source: SettingsSource,
): string | undefined {
  const cloud = cloudOfAuthority(authorityHost);
  // The usual case, a documented cloud's login host and no v1 issuer host, compiles none of the checks below.
  if (cloud !== undefined && settings.v1IssuerHost === undefined) return cloud.v1IssuerHost;
  return checkedV1IssuerHost(hostOf('v1IssuerHost', settings, source), authorityHost, cloud, source);
}

/** The v1 issuer host the deployer set (`given`), or the one a login host outside the table needs. */
function checkedV1IssuerHost(
  given: string | undefined,
  authorityHost: string,
  cloud: ReturnType<typeof cloudOfAuthority>,
  source: SettingsSource,
): string | undefined {
  const v1 = source.nameOf('v1IssuerHost');
  const authority = source.nameOf('authorityHost');
  const fail = (expected: string) => new ConfigError(v1, source.shown('v1IssuerHost'), expected);
  if (isExternalIdHost(authorityHost)) {
    if (given !== undefined) {
      throw fail(
        `unset, because ${authority} is the External ID host ${authorityHost}: External ID documents only v2 issuers, so an External ID API takes v2 tokens only`,
      );
    }
    return undefined;
  }
  if (cloud === undefined) {
    if (given === undefined) {
      throw fail(
        `the host of the v1 issuer (https://{host}/{tid}/) of the cloud whose login host is ${authorityHost}, a host Microsoft does not document (it does ${CLOUDS.flatMap((c) => c.authorityHosts).join(', ')}, and <tenant>.ciamlogin.com for External ID); https://${authorityHost}/{tenant}/.well-known/openid-configuration names it`,
      );
    }
    return given;
  }
  if (given !== undefined && given !== cloud.v1IssuerHost) {
    const owners = cloudsOfV1Issuer(given).map((c) => c.name);
    throw fail(
      `${cloud.v1IssuerHost} (the v1 issuer host of ${cloud.name}, whose login host ${authorityHost} is in ${authority}), or unset${owners.length > 0 ? `; ${given} belongs to ${owners.join(' and ')}: set ${authority} to ${owners.length === 1 ? "that cloud's login host" : 'the login host of one of them'} instead` : ''}`,
    );
  }
  return cloud.v1IssuerHost;
}

function jwksUriOf(raw: string, source: SettingsSource): string {
  // The message reaches the cold-start log and the synth output: credentials in the URL stay out of it.
  const fail = (expected: string) =>
    new ConfigError(
      source.nameOf('jwksUri'),
      redactUrl(String(source.shown('jwksUri') ?? raw).trim()),
      expected,
    );
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw fail('an absolute https URL');
  }
  if (isB2cHost(url.hostname)) throw fail(`the key URL of a Microsoft Entra tenant (${B2C_REFUSAL})`);
  if (url.protocol === 'https:' || (url.protocol === 'http:' && isLoopbackHost(url.hostname)))
    return url.href;
  throw fail('an https URL (plain http only for 127.0.0.1, ::1 or localhost)');
}

/** Plain HTTP is tolerated only where nobody else can sit on the wire: local runs and tests. */
export function isLoopbackHost(hostname: string): boolean {
  const start = hostname.startsWith('[') ? 1 : 0;
  const end = hostname.endsWith(']') ? hostname.length - 1 : hostname.length;
  const host = hostname.slice(start, end);
  return host === 'localhost' || host === '::1' || isLoopbackIpv4(host);
}

/** `127.` and three numbers of 1 to 3 digits each (one over 255 is left to URL, which refuses it). */
function isLoopbackIpv4(host: string): boolean {
  const parts = host.split('.');
  return parts.length === 4 && parts[0] === '127' && parts.every((p) => p.length <= 3 && isDigits(p));
}

function skewOf(raw: string, source: SettingsSource): number {
  const seconds = isDigits(raw) ? Number(raw) : Number.NaN;
  if (!Number.isSafeInteger(seconds) || seconds > MAX_CLOCK_SKEW_SECONDS) {
    throw new ConfigError(
      source.nameOf('clockSkewSeconds'),
      source.shown('clockSkewSeconds'),
      `a whole number of seconds from 0 to ${MAX_CLOCK_SKEW_SECONDS}`,
    );
  }
  return seconds;
}

/** The REST route table (`routePermissions`), checked by `parseRoutePermissions`; undefined when unset. */
export function readRoutePermissions(
  input: unknown,
  source: SettingsSource,
): readonly RoutePermission[] | undefined {
  if (input === undefined) return undefined;
  return Object.freeze(parseRoutePermissions(input, source.routeError));
}

/** `AZURE_UNLISTED_METHODS`: a JSON array of route keys, `["GET /items/secret", "* /admin"]`. */
function readUnlistedMethods(env: Env): readonly RouteKey[] | undefined {
  const raw = env[UNLISTED_METHODS_ENV]?.trim() || undefined;
  return raw === undefined ? undefined : parseUnlistedMethods(raw);
}

function parseUnlistedMethods(raw: string): readonly RouteKey[] {
  const expected = 'a JSON array of route keys such as ["GET /items/secret"] (the construct writes it)';
  let keys: unknown;
  try {
    keys = JSON.parse(raw);
  } catch {
    throw new ConfigError(UNLISTED_METHODS_ENV, raw, expected);
  }
  if (!Array.isArray(keys) || keys.some((k) => typeof k !== 'string'))
    throw new ConfigError(UNLISTED_METHODS_ENV, raw, expected);
  const routes = parseRoutePermissions(
    Object.fromEntries(keys.map((k: string) => [k, {}])),
    ({ actual }) => new ConfigError(UNLISTED_METHODS_ENV, actual, expected),
  );
  const fallback = routes.find(isDefaultRoute);
  if (fallback !== undefined) throw new ConfigError(UNLISTED_METHODS_ENV, fallback.route, expected);
  return Object.freeze(routes.map(({ route, method, path }) => Object.freeze({ route, method, path })));
}

/**
 * A mistake in a route table: `at` is where, below the table (`keys`, `["GET /items"]`,
 * `["GET /items"].roles`; empty for the table itself), `expected` what it must be, `actual` what it is.
 * The cold start and the construct each phrase it once, with what they got.
 */
export interface RouteProblem {
  readonly at: string;
  readonly expected: string;
  readonly actual: unknown;
}

/** What a group must be written as, for every message that refuses one. */
const GROUP_IDS = "group object id GUIDs (the groups claim carries object ids, never a group's name)";

const ROUTE_FIELDS = ['scopes', 'roles', 'clientApps', 'groups'] as const;

/**
 * Validates the route table shape shared by the environment variable and the CDK construct props, so that
 * synth rejects what the Lambda would reject at cold start.
 */
export function parseRoutePermissions(
  input: unknown,
  errorOf: (problem: RouteProblem) => Error = ({ at, expected }) =>
    new Error(`route permissions: expected ${at === '' ? '' : `${at} to be `}${expected}`),
): RoutePermission[] {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    throw errorOf({
      at: '',
      expected: 'an object keyed by "METHOD /path", such as {"GET /items": {"scopes": ["Items.Read"]}}',
      actual: input,
    });
  }
  const routes: RoutePermission[] = [];
  for (const [route, rule] of Object.entries(input)) {
    const keyProblem = (expected: string) => errorOf({ at: 'keys', expected, actual: route });
    const parts = routeKeyParts(route);
    const written = parts?.method.toUpperCase();
    const method = written === 'ANY' ? '*' : written;
    const path = parts?.path;
    if (method === undefined || path === undefined || !(HTTP_METHODS as readonly string[]).includes(method)) {
      throw keyProblem(
        `"METHOD /path", such as "GET /items/{id}" or "ANY /{proxy+}", with a method of ${HTTP_METHODS.slice(0, -1).join(', ')}, ANY or *`,
      );
    }
    const special = [...path].find((ch) => POLICY_SPECIAL_CHARACTERS.includes(ch));
    if (special !== undefined) {
      throw keyProblem(
        special === '?'
          ? 'paths without "?" (the IAM policy would read it as "any one character", and method ARNs carry no query string)'
          : `paths without "$" (the IAM policy would read "\${...}" as a policy variable)`,
      );
    }
    if (isTrailingSlashPath(path)) {
      // API Gateway serves `/items/` from the resource `/items`: a key for one would be judged as the other.
      throw keyProblem('paths without a trailing "/" ("GET /items", not "GET /items/")');
    }
    if (path.includes('*') && !(method === '*' && path === '/*')) {
      throw keyProblem(
        `resource paths as declared on the API, with {param} and {proxy+} segments: a key decides exactly the method it names, never one its path would match as a pattern (the one key with a *, "${DEFAULT_ROUTE}", is the default rule of the methods no other key names)`,
      );
    }
    const templateError = resourcePathError(path);
    if (templateError !== undefined) throw keyProblem(templateError);
    if (policyPathOf(path).length > MAX_ROUTE_PATH) {
      throw keyProblem(
        `paths of at most ${MAX_ROUTE_PATH} characters, each parameter counted as "*" (API Gateway refuses a policy resource over 512 characters)`,
      );
    }
    const twin = routes.find((r) => r.method === method && resourceShape(r.path) === resourceShape(path));
    if (twin !== undefined) {
      throw keyProblem(`one key per method and resource ("${twin.route}" names the same one)`);
    }
    routes.push(
      Object.freeze({
        route,
        method: method as RoutePermission['method'],
        path,
        ...readPermissionRule(route, rule, errorOf),
      }),
    );
  }
  return routes;
}

/** `METHOD /path`: a method, one space and a path from `/`, neither holding white space. */
export function routeKeyParts(route: string): { method: string; path: string } | undefined {
  const space = route.indexOf(' ');
  const method = route.slice(0, space);
  const path = route.slice(space + 1);
  if (space < 1 || hasWhitespace(method) || !path.startsWith('/') || hasWhitespace(path)) return undefined;
  return { method, path };
}

/** A route path as written into the policy: each `{param}` and `{proxy+}` segment becomes `*`. */
export function policyPathOf(path: string): string {
  return path
    .split('/')
    .map((segment) => (isPathParameter(segment) ? '*' : segment))
    .join('/');
}

/** A resource path with its parameters unnamed: `{id}` and `{itemId}` name one resource, `{proxy+}` another. */
export function resourceShape(path: string): string {
  return path.replace(/\{[^/{}]*?(\+?)\}/g, '{$1}');
}

/**
 * Why a path is not an API Gateway resource path, or undefined. A `{`/`}` must make up a whole segment, a
 * greedy `{name+}` only the last; a resource path has no empty segment.
 */
function resourcePathError(path: string): string | undefined {
  if (path === '/' || path === '/*') return undefined;
  const segments = path.split('/').slice(1);
  if (segments.includes('')) return 'paths without an empty segment ("//"), as API Gateway declares them';
  if (segments.some((s) => (s.includes('{') || s.includes('}')) && !isPathParameter(s))) {
    return 'path parameters as whole segments, "{id}" or a last "{proxy+}" (letters, digits, ".", "_", "-")';
  }
  if (segments.slice(0, -1).some((s) => s.endsWith('+}'))) {
    return 'paths with a greedy "{proxy+}" only as the last segment';
  }
  return undefined;
}

/**
 * One route's rule, `{"scopes": [...], "roles": [...], "clientApps": [...]}` (each may be absent), for every
 * kind of route table.
 */
export function readPermissionRule(
  route: string,
  rule: unknown,
  errorOf: (problem: RouteProblem) => Error,
): PermissionRule {
  const at = `[${JSON.stringify(route)}]`;
  if (typeof rule !== 'object' || rule === null || Array.isArray(rule)) {
    throw errorOf({ at, expected: 'an object such as {"scopes": ["Items.Read"]}, or {}', actual: rule });
  }
  if (Object.keys(rule).some((k) => !(ROUTE_FIELDS as readonly string[]).includes(k)))
    throw errorOf({
      at,
      expected: 'an object with only "scopes", "roles", "clientApps" and "groups"',
      actual: rule,
    });
  const { scopes, roles, clientApps, groups } = rule as {
    scopes?: unknown;
    roles?: unknown;
    clientApps?: unknown;
    groups?: unknown;
  };
  return {
    scopes: Object.freeze(readStringArray(scopes, `${at}.scopes`, 'scope', errorOf)),
    roles: Object.freeze(readStringArray(roles, `${at}.roles`, 'role', errorOf)),
    ...(clientApps === undefined
      ? {}
      : { clientApps: Object.freeze(readClientAppArray(clientApps, `${at}.clientApps`, errorOf)) }),
    ...(groups === undefined
      ? {}
      : { groups: Object.freeze(readGroupArray(groups, `${at}.groups`, errorOf)) }),
  };
}

/** An empty list would silently mean "any": it is refused, and the message says what to write instead. */
function readStringArray(
  input: unknown,
  at: string,
  kind: 'scope' | 'role',
  errorOf: (problem: RouteProblem) => Error,
): string[] {
  if (input === undefined) return [];
  if (
    !Array.isArray(input) ||
    input.length === 0 ||
    input.some((s) => typeof s !== 'string' || s.trim() === '' || hasWhitespace(s))
  ) {
    throw errorOf({
      at,
      expected:
        'a non-empty array of names without spaces (leave it out for none; {} admits any valid token with a scope or a role)',
      actual: input,
    });
  }
  for (const name of input as string[]) {
    const problem = permissionNameProblem(name, kind);
    if (problem !== undefined) throw errorOf({ at, expected: problem, actual: name });
  }
  return input as string[];
}

function readClientAppArray(input: unknown, at: string, errorOf: (problem: RouteProblem) => Error): string[] {
  if (
    !Array.isArray(input) ||
    input.length === 0 ||
    input.some((s) => typeof s !== 'string' || !isGuid(s.toLowerCase()))
  ) {
    throw errorOf({
      at,
      expected:
        'a non-empty array of application (client) id GUIDs, the azp claim of v2 tokens and appid of v1 (leave it out for any client)',
      actual: input,
    });
  }
  return (input as string[]).map((app) => app.toLowerCase());
}

function readGroupArray(input: unknown, at: string, errorOf: (problem: RouteProblem) => Error): string[] {
  if (!Array.isArray(input) || input.length === 0 || input.some((s) => typeof s !== 'string')) {
    throw errorOf({
      at,
      expected: `a non-empty array of ${GROUP_IDS} (leave it out for no group)`,
      actual: input,
    });
  }
  const bad = (input as string[]).find((group) => !isGuid(group.toLowerCase()));
  if (bad !== undefined) throw errorOf({ at, expected: GROUP_IDS, actual: bad });
  return (input as string[]).map((group) => group.toLowerCase());
}
