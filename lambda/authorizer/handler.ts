import { type ApiAuthorizerHandler, createApiAuthorizer } from './api-authorizer.js';
import { loadApiConfig } from './api-kind.js';
import { EntraJwksCache, type KeyCacheOptions } from './keys/key-cache.js';
import { createTenantKeyCache } from './keys/tenant-keys.js';
import { loadLazyModule } from './lazy-module.js';
import { createTelemetry, type InvocationContext } from './telemetry.js';
import { readTelemetryConfig } from './telemetry-config.js';
import { createTenantListHolder } from './tenant-list-holder.js';
import type { TenantListEvent, TenantSource } from './tenant-source.js';
import { createTokenVerifier } from './verifier.js';

// The composition root: configuration, telemetry, the key cache and the tenant list live here, in module
// scope, so a warm container reuses them; a bad variable fails the cold start with a message naming it.
const telemetry = createTelemetry(readTelemetryConfig(process.env));
const config = loadApiConfig(process.env);

const keyCacheOptions: KeyCacheOptions = {
  onEvent: (event) => {
    if (event.type === 'fetched') telemetry.info('signing keys fetched', { ...event });
    else
      telemetry.warn(
        event.type === 'serving_stale' ? 'serving stale signing keys' : 'signing key fetch failed',
        { ...event },
      );
  },
};
const keys = new EntraJwksCache(keyCacheOptions);
// A multi-tenant API's tenants' own key sets, read for a kid the shared set lacks: bounded, one fetch budget.
const tenantKeys = createTenantKeyCache(keyCacheOptions);

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
// A multi-tenant API's allowed tenants in an SSM parameter, read and refreshed by tenant-parameter.js: a
// lazily loaded module (lazy-module.ts), a file of its own beside index.js, loaded only when one is named.
let tenantSource: Promise<TenantSource> | undefined;
const loadTenantSource = (): Promise<TenantSource> => {
  tenantSource ??= loadLazyModule<typeof import('./tenant-parameter.js')>(
    () => require('./tenant-parameter.js'),
    () => import('./tenant-parameter.js'),
  ).then((module) => module.tenantSourceFor(config, process.env, logTenantEvent));
  return tenantSource;
};
const parameterTenants =
  config.tenant.mode === 'multi' && config.tenantsParameter !== undefined
    ? createTenantListHolder(config.tenant, loadTenantSource)
    : undefined;

// Start the key fetch (and the tenant list's first read) as soon as the module has loaded, while the runtime
// asks for the first event; the first request joins them. A failure is logged and retried by the first
// request, never fatal. While the fetch waits on the network, Node creates stdout and stderr (lazily made,
// ~0.5 ms), which the first log line would otherwise pay for on the way to the first answer.
/** Settles (never rejects) once the cold-start key fetch (and tenant read) succeeded or failed; `npm start` waits on it. */
export const ready: Promise<void> = new Promise((settle) =>
  setImmediate(() => {
    const settled = () => undefined;
    Promise.all([keys.getJwks(config.jwksUri).then(settled, settled), parameterTenants?.refresh()]).then(() =>
      settle(),
    );
    void process.stdout;
    void process.stderr;
  }),
);

/** Which tenant list a decision used, for a multi-tenant API's decision line: `fixed`, or the parameter's. */
const tenantListOf: (() => string) | undefined =
  parameterTenants !== undefined
    ? () => parameterTenants.current().origin
    : config.tenant.mode === 'multi'
      ? () => 'fixed'
      : undefined;
const decided = parameterTenants === undefined ? config : { ...config, tenant: parameterTenants.rule };
const verifier = createTokenVerifier({ config: decided, keys, tenantKeys });

// The operator hint of a refusal, made by hints.js: a lazily loaded module (lazy-module.ts) beside index.js,
// loaded at the first refusal (an Allow needs none). Should it fail to load, the reason's own hint is logged.
let hinter: Promise<ReturnType<typeof import('./hints.js').createHinter>> | undefined;
const loadHinter = () => {
  hinter ??= loadLazyModule<typeof import('./hints.js')>(
    () => require('./hints.js'),
    () => import('./hints.js'),
  ).then((module) => module.createHinter(decided));
  return hinter;
};

/**
 * Lambda's entry point for the kind of API `AZURE_API_KIND` names (REST by default), built once; each
 * decision's line carries the invocation's context (its request id) and, for a multi-tenant API, the tenant
 * list it used.
 */
export const handler: ApiAuthorizerHandler<InvocationContext> = createApiAuthorizer<InvocationContext>(
  decided,
  {
    verifier: parameterTenants === undefined ? verifier : parameterTenants.verifying(verifier),
    hint: (reason, facts) => loadHinter().then((hintOf) => hintOf(reason, facts)),
    record: (record, context) =>
      telemetry.decision(
        tenantListOf === undefined ? record : { ...record, tenantList: tenantListOf() },
        context,
      ),
  },
);
