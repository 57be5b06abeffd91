import { resolve } from 'node:path';
import { ENV_NAMES } from '../../lambda/authorizer/config.js';
import { TENANTS_FILE_ENV } from '../../lambda/authorizer/tenant-file.js';
import { AssemblyError } from './assembly.js';
import { localIssuerUrls } from './issuer.js';

/** Whether a function's variables name an allowed tenant list in an SSM parameter (what --tenants-file stands in for). */
export function readsTenantParameter(environment: Readonly<Record<string, string>>): boolean {
  // The refresh is always a literal beside the parameter, whose name may be a reference left unset.
  return (
    environment[ENV_NAMES.allowedTenantsParameter] !== undefined ||
    environment[ENV_NAMES.tenantsRefreshSeconds] !== undefined
  );
}

/**
 * A Lambda function's environment as the local server runs it: the template's variables with only the
 * documented local overrides. The authorizer's key URL points at the local issuer on `serverUrl` (for the
 * tenant the template declares), metrics are off unless POWERTOOLS_METRICS_DISABLED says otherwise, and
 * POWERTOOLS_LOG_LEVEL passes through; NODE_OPTIONS is the runtime's business, not the handler's. An
 * allowed tenant list kept in an SSM parameter is read from the file `AZURE_ALLOWED_TENANTS_FILE` names
 * (`--tenants-file`) instead: a local run never reads AWS.
 */
export function localEnvironment(
  template: Readonly<Record<string, string>>,
  serverUrl: string,
  shell: Readonly<Record<string, string | undefined>> = process.env,
): Record<string, string> {
  const { NODE_OPTIONS: _, ...environment } = template;
  const env: Record<string, string> = {
    ...environment,
    // Metrics go to CloudWatch in AWS; locally they are off unless asked for.
    POWERTOOLS_METRICS_DISABLED: shell.POWERTOOLS_METRICS_DISABLED ?? 'true',
    ...(shell.POWERTOOLS_LOG_LEVEL !== undefined ? { POWERTOOLS_LOG_LEVEL: shell.POWERTOOLS_LOG_LEVEL } : {}),
  };
  const tenant = env[ENV_NAMES.tenantId];
  if (tenant !== undefined) env[ENV_NAMES.jwksUri] = localIssuerUrls(serverUrl, tenant).jwksUri;
  const parameter = env[ENV_NAMES.allowedTenantsParameter];
  if (readsTenantParameter(env)) {
    const file = shell[TENANTS_FILE_ENV]?.trim();
    if (file === undefined || file === '') {
      throw new AssemblyError(
        `the authorizer reads its allowed tenants from the SSM parameter ${parameter ?? '(a reference)'}, which a local run never reads: give its value in a file with --tenants-file <file> (or ${TENANTS_FILE_ENV}), a JSON array of tenant GUIDs`,
      );
    }
    env[TENANTS_FILE_ENV] = resolve(file);
    env[ENV_NAMES.allowedTenantsParameter] = parameter ?? 'tenants-parameter';
  }
  return env;
}
