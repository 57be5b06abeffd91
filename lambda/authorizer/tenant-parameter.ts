import type { AuthorizerConfig, Env } from './config.js';
import { fileParameterReader, TENANTS_FILE_ENV } from './tenant-file.js';
import type { ParameterValue } from './tenant-list.js';
import {
  fixedTenantSource,
  READ_TIMEOUT_MS,
  refreshingTenantSource,
  type TenantListEvent,
  type TenantSource,
} from './tenant-source.js';

type SsmModule = typeof import('@aws-sdk/client-ssm');

/**
 * The runtime's SDK module. The bundle is CommonJS, where `require` finds it through Lambda's NODE_PATH
 * (an `import()` resolves as an ES module would, which ignores NODE_PATH); from source (tests), `import()`.
 */
function loadSsmClient(): Promise<SsmModule> {
  return typeof require === 'function'
    ? Promise.resolve().then(() => require('@aws-sdk/client-ssm') as SsmModule)
    : import('@aws-sdk/client-ssm');
}

/**
 * Reads an SSM parameter with the AWS SDK v3 client the Node.js 22 runtime carries. The SDK is loaded at
 * the first read, so a deployment without a tenant parameter never loads it (the bundle leaves it out).
 * Region, credentials and endpoint (`AWS_ENDPOINT_URL_SSM`) come from the environment, as for any SDK client.
 */
export function ssmParameterReader(name: string): () => Promise<ParameterValue> {
  let loaded: Promise<(signal: AbortSignal) => Promise<ParameterValue>> | undefined;
  const load = async () => {
    const { SSMClient, GetParameterCommand } = await loadSsmClient();
    const client = new SSMClient({});
    return async (abortSignal: AbortSignal): Promise<ParameterValue> => {
      const { Parameter } = await client.send(new GetParameterCommand({ Name: name }), { abortSignal });
      if (Parameter?.Value === undefined) throw new Error('GetParameter answered without a value');
      return { value: Parameter.Value, type: Parameter.Type ?? 'String', version: String(Parameter.Version) };
    };
  };
  return async () => {
    loaded ??= load();
    // A failed load (no SDK where the code runs) is tried again at the next read, not cached.
    const get = await loaded.catch((err: unknown) => {
      loaded = undefined;
      throw err;
    });
    return get(AbortSignal.timeout(READ_TIMEOUT_MS));
  };
}

/**
 * The tenant list of this configuration: the fixed one, or the parameter's (from a local file when
 * `AZURE_ALLOWED_TENANTS_FILE` names one), refreshed every tenantsRefresh.
 */
export function tenantSourceFor(
  config: Pick<AuthorizerConfig, 'tenant' | 'tenantsParameter'>,
  env: Env,
  onEvent?: (event: TenantListEvent) => void,
): TenantSource {
  const { tenant, tenantsParameter } = config;
  if (tenantsParameter === undefined || tenant.mode === 'single') {
    return fixedTenantSource(tenant.mode === 'multi' ? tenant.allowedTenants : new Set([tenant.tenantId]));
  }
  const file = env[TENANTS_FILE_ENV]?.trim();
  return refreshingTenantSource({
    parameter: tenantsParameter.name,
    read:
      file === undefined || file === ''
        ? ssmParameterReader(tenantsParameter.name)
        : fileParameterReader(file),
    refreshMs: tenantsParameter.refreshSeconds * 1000,
    ...(onEvent === undefined ? {} : { onEvent }),
  });
}
