import type { ApiAuthorizerHandler } from './api-authorizer.js';
import { loadApiConfig } from './api-kind.js';
import type { Decider } from './decide.js';
import { respond } from './decision.js';
import { KeyFetcher } from './keys/fetcher.js';
import type { KeyCacheEvent } from './keys/key-cache.js';
import { loadLazyModule } from './lazy-module.js';
import type { InvocationContext, Telemetry } from './telemetry.js';
import { readTelemetryConfig } from './telemetry-config.js';
import type { TenantListEvent, TenantSource } from './tenant-source.js';

// The composition root: configuration, telemetry and the cold start's key fetch live here, in module scope,
// so a warm container reuses them; a bad variable fails the cold start with a message naming it. The
// decision code (key caches, verifier, route rules, policy) is decide.js, loaded while the key fetch waits.
const telemetryConfig = readTelemetryConfig(process.env);
const config = loadApiConfig(process.env);

// The writer of every log line and metric: telemetry.js, a lazily loaded module beside index.js, loaded with
// decide.js. Every line is written once the decision code is built, or when it could not be: the cold start
// validates telemetry's variables, and compiles no line writer.
let telemetry: Promise<Telemetry> | undefined;
const loadTelemetry = (): Promise<Telemetry> => {
  telemetry ??= loadLazyModule<typeof import('./telemetry.js')>(
    () => require('./telemetry.js'),
    () => import('./telemetry.js'),
  ).then((module) => module.createTelemetry(telemetryConfig));
  return telemetry;
};

const keyEventLogger = (telemetry: Telemetry) => (event: KeyCacheEvent) => {
  if (event.type === 'fetched') telemetry.info('signing keys fetched', { ...event });
  else
    telemetry.warn(
      event.type === 'serving_stale' ? 'serving stale signing keys' : 'signing key fetch failed',
      { ...event },
    );
};

const tenantEventLogger = (telemetry: Telemetry) => (event: TenantListEvent) => {
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
  tenantSource ??= Promise.all([
    loadLazyModule<typeof import('./tenant-parameter.js')>(
      () => require('./tenant-parameter.js'),
      () => import('./tenant-parameter.js'),
    ),
    loadTelemetry(),
  ]).then(([module, telemetry]) => module.tenantSourceFor(config, process.env, tenantEventLogger(telemetry)));
  return tenantSource;
};

// The operator hint of a refusal, made by hints.js: a lazily loaded module beside index.js, loaded at the
// first refusal (an Allow needs none). Should it fail to load, the reason's own hint is logged.
const loadHinter = () =>
  loadLazyModule<typeof import('./hints.js')>(
    () => require('./hints.js'),
    () => import('./hints.js'),
  ).then((module) => module.createHinter);

// The decision code: decide.js, a lazily loaded module beside index.js, given its dependencies. The cold
// start's key fetch starts first, so it waits on the network while decide.js loads; decide.js's key cache
// takes it as its first fetch (its failure is that cache's to log and retry, never an unhandled rejection
// here). Loaded and built once: a failure (a file missing from the bundle, a construction that throws) does
// not heal in a running container, and a retry would re-run the construction on every request and hand a
// second key cache the cold start's old fetch, whose age it would count from the retry.
let decider: Promise<Decider<InvocationContext>> | undefined;
const loadDecider = (): Promise<Decider<InvocationContext>> => {
  if (decider !== undefined) return decider;
  const firstKeys = new KeyFetcher().fetch(config.jwksUri);
  firstKeys.catch(() => undefined);
  decider = Promise.all([
    loadLazyModule<typeof import('./decide.js')>(
      () => require('./decide.js'),
      () => import('./decide.js'),
    ),
    loadTelemetry(),
  ]).then(([module, telemetry]) =>
    module.createDecider<InvocationContext>(config, {
      record: (record, invocation) => telemetry.decision(record, invocation),
      onKeyEvent: keyEventLogger(telemetry),
      firstKeys: { uri: config.jwksUri, body: firstKeys },
      tenantSource: loadTenantSource,
      hinter: loadHinter,
    }),
  );
  return decider;
};

// Start the key fetch as soon as the module has loaded, while the runtime asks for the first event, then load
// the decision code while the fetch waits on the network; the first request joins both. While the fetch
// waits, Node also creates stdout and stderr (lazily made, ~0.5 ms), which the first log line would
// otherwise pay for on the way to the first answer.
/**
 * Settles (never rejects) once the cold-start key fetch (and tenant read) succeeded or failed, or decide.js
 * failed to load or build; `npm start` waits on it.
 */
export const ready: Promise<void> = new Promise((settle) =>
  setImmediate(() => {
    loadDecider().then(
      (loaded) => loaded.ready.then(() => settle()),
      () => settle(),
    );
    void process.stdout;
    void process.stderr;
  }),
);

/**
 * The answer when decide.js could not be loaded or built: a 500 with its decision line, never a decision. The
 * detail is the error's first line: a ConfigError's names the variable. Without telemetry.js, a 500 unlogged.
 */
function undecided(err: unknown, invocation: InvocationContext | undefined): Promise<never> {
  const message = err instanceof Error ? err.message : String(err);
  const decision = {
    outcome: 'error',
    reason: 'internal_error',
    detail: `decision code unavailable: ${message.split('\n', 1)[0]?.slice(0, 200)}`,
  } as const;
  return loadTelemetry()
    .then(
      (telemetry) => telemetry.decision({ decision, error: err }, invocation),
      () => undefined,
    )
    .then(() => respond(decision));
}

/**
 * Lambda's entry point for the kind of API `AZURE_API_KIND` names (REST by default); each decision's line
 * carries the invocation's context (its request id) and, for a multi-tenant API, the tenant list it used.
 * Warm, it is decide.js's handler, called directly.
 */
let decide: ApiAuthorizerHandler<InvocationContext> | undefined;
export const handler = ((
  event: Parameters<ApiAuthorizerHandler<InvocationContext>>[0],
  invocation?: InvocationContext,
) =>
  decide !== undefined
    ? decide(event, invocation)
    : loadDecider().then(
        (loaded) => {
          decide = loaded.handler;
          return decide(event, invocation);
        },
        (err: unknown) => undecided(err, invocation),
      )) as ApiAuthorizerHandler<InvocationContext>;
