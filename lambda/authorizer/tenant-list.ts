import { isGuid, type TenantConfig } from './config.js';
import { LOG_LIMITS, loggableText } from './safe-text.js';

/** The allowed tenants one decision is judged by, and where they came from. */
export interface TenantList {
  readonly tenants: ReadonlySet<string> | 'any';
  /**
   * Which list this is, as decision lines and `explain` name it: `fixed` (the configuration's), or the
   * parameter and its version (`/saas/tenants@7`).
   */
  readonly origin: string;
}

/** A parameter's value as it was read; `version` is SSM's version number (or a local file's own label). */
export interface ParameterValue {
  readonly value: string;
  /** SSM's parameter type: `String` or `StringList`; a SecureString is refused (it is never decrypted). */
  readonly type: string;
  readonly version: string;
}

/** The value cannot be read as a tenant list at all: treated as a failed read, never as an empty list. */
export class TenantListError extends Error {
  override readonly name = 'TenantListError';
}

/** SSM's largest (advanced) parameter value is 8 KB; a local file may not be much larger. */
const MAX_VALUE_CHARS = 64 * 1024;

/**
 * The tenants a parameter value allows: a JSON array of tenant GUIDs (a String parameter), or GUIDs
 * separated by commas (a StringList). Entries that are not GUIDs (`*` included) are dropped and returned in
 * `dropped`: a list from a parameter can only name tenants, never widen to "any".
 */
export function parseTenantList(read: ParameterValue): { tenants: Set<string>; dropped: string[] } {
  if (read.type !== 'String' && read.type !== 'StringList') {
    throw new TenantListError(
      `the parameter is a ${loggableText(read.type, 40)}; expected String or StringList`,
    );
  }
  if (read.value.length > MAX_VALUE_CHARS) {
    throw new TenantListError(`the value is ${read.value.length} characters; at most ${MAX_VALUE_CHARS}`);
  }
  const text = read.value.trim();
  let entries: unknown[];
  if (text.startsWith('[')) {
    try {
      entries = JSON.parse(text) as unknown[];
    } catch {
      throw new TenantListError('the value starts with "[" but is not a JSON array');
    }
    if (!Array.isArray(entries)) throw new TenantListError('the value is not a JSON array');
  } else if (text.startsWith('{') || text.startsWith('"')) {
    throw new TenantListError('the value is JSON but not an array: expected ["<tenant GUID>", ...]');
  } else {
    entries = text === '' ? [] : text.split(',');
  }
  const tenants = new Set<string>();
  const dropped: string[] = [];
  for (const entry of entries) {
    const tenant = typeof entry === 'string' ? entry.trim().toLowerCase() : undefined;
    if (tenant !== undefined && isGuid(tenant)) tenants.add(tenant);
    else
      dropped.push(loggableText(typeof entry === 'string' ? entry : JSON.stringify(entry), LOG_LIMITS.field));
  }
  return { tenants, dropped };
}

/** The configuration's tenant rule with `list` as its allow-list (a single tenant has none to replace). */
export function withTenantList(tenant: TenantConfig, list: TenantList): TenantConfig {
  return tenant.mode === 'single' ? tenant : Object.freeze({ ...tenant, allowedTenants: list.tenants });
}

/** A parameter list's origin: its name and version, capped as any log field. */
export function parameterOrigin(name: string, version: string): string {
  return loggableText(`${name}@${version}`, LOG_LIMITS.detail);
}
