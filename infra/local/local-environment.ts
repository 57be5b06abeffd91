import { ENV_NAMES } from '../../lambda/authorizer/config.js';
import { localIssuerUrls } from './issuer.js';

/**
 * A Lambda function's environment as the local server runs it: the template's variables with only the
 * documented local overrides. The authorizer's key URL points at the local issuer on `serverUrl` (for the
 * tenant the template declares), metrics are off unless POWERTOOLS_METRICS_DISABLED says otherwise, and
 * POWERTOOLS_LOG_LEVEL passes through; NODE_OPTIONS is the runtime's business, not the handler's.
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
  return env;
}
