import { type ApiAuthorizerHandler, createApiAuthorizer } from './api-authorizer.js';
import { loadApiConfig } from './api-kind.js';
import { createHinter } from './hints.js';
import { EntraJwksCache } from './keys/key-cache.js';
import { createTelemetry, type InvocationContext } from './telemetry.js';
import { readTelemetryConfig } from './telemetry-config.js';
import { createTenantListHandler } from './tenant-handler.js';
import { type TenantList, withTenantList } from './tenant-list.js';
import { tenantSourceFor } from './tenant-parameter.js';
import type { TenantListEvent } from './tenant-source.js';
import { createTokenVerifier, type TokenVerifier } from './verifier.js';

// The composition root: configuration, telemetry, the key cache and the tenant list live here, in module
// scope, so a warm container reuses them; a bad variable fails the cold start with a message naming it.
const telemetry = createTelemetry(readTelemetryConfig(process.env));
const config = loadApiConfig(process.env);

const keys = new EntraJwksCache({
  onEvent: (event) => {
    if (event.type === 'fetched') telemetry.info('signing keys fetched', { ...event });
    else
      telemetry.warn(
        event.type === 'serving_stale' ? 'serving stale signing keys' : 'signing key fetch failed',
        { ...event },
      );
  },
});

const logTenantEvent = (event: TenantListEvent) => {
  if (event.type === 'tenants_read_failed') telemetry.error('tenant list read failed', { ...event });
  else if (event.dropped.length > 0)
    telemetry.warn('tenant list read; entries that are not tenant GUIDs dropped', {
      ...event,
      dropped: event.dropped.slice(0, 10),
      droppedCount: event.dropped.length,
    });
  else telemetry.info('tenant list read', { ...event });
};
// A multi-tenant API's allowed tenants: fixed, or read from an SSM parameter and refreshed.
const tenants =
  config.tenant.mode === 'multi' ? tenantSourceFor(config, process.env, logTenantEvent) : undefined;

// Start the key fetch (and the tenant list's first read) as soon as the module has loaded, while the runtime
// asks for the first event; the first request joins them. A failure is logged and retried by the first
// request, never fatal. While the fetch waits on the network, Node creates stdout and stderr (lazily made,
// ~0.5 ms), which the first log line would otherwise pay for on the way to the first answer.
/** Settles (never rejects) once the cold-start key fetch (and tenant read) succeeded or failed; `npm start` waits on it. */
export const ready: Promise<void> = new Promise((settle) =>
  setImmediate(() => {
    const settled = () => undefined;
    Promise.all([
      keys.getJwks(config.jwksUri).then(settled, settled),
      tenants?.tenants().then(settled, settled),
    ]).then(() => settle());
    void process.stdout;
    void process.stderr;
  }),
);

/** The authorizer deciding with `list`; with `refusal`, one whose every verification fails with its error. */
function authorizerFor(list: TenantList, refusal?: () => unknown) {
  const listed = { ...config, tenant: withTenantList(config.tenant, list) };
  const verifier: TokenVerifier =
    refusal === undefined
      ? createTokenVerifier({ config: listed, keys })
      : { verify: () => Promise.reject(refusal()) };
  return createApiAuthorizer<InvocationContext>(listed, {
    verifier,
    hint: createHinter(listed),
    record: (record, context) => telemetry.decision({ ...record, tenantList: list.origin }, context),
  });
}

/**
 * Lambda's entry point for the kind of API `AZURE_API_KIND` names (REST by default); each decision's line
 * carries the invocation's context (its request id) and, for a multi-tenant API, the tenant list it used.
 */
export const handler: ApiAuthorizerHandler<InvocationContext> =
  tenants === undefined
    ? createApiAuthorizer<InvocationContext>(config, {
        verifier: createTokenVerifier({ config, keys }),
        hint: createHinter(config),
        record: (record, context) => telemetry.decision(record, context),
      })
    : (createTenantListHandler(tenants, authorizerFor) as ApiAuthorizerHandler<InvocationContext>);
