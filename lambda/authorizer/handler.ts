import { type ApiAuthorizerHandler, createApiAuthorizer } from './api-authorizer.js';
import { loadApiConfig } from './api-kind.js';
import { createHinter } from './hints.js';
import { EntraJwksCache } from './keys/key-cache.js';
import { createTelemetry, type InvocationContext } from './telemetry.js';
import { readTelemetryConfig } from './telemetry-config.js';
import { createTokenVerifier } from './verifier.js';

// The composition root: configuration, telemetry and the key cache live here, in module scope, so a warm
// container reuses them; a bad variable fails the cold start with a message naming it.
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

// Start the key fetch as soon as the module has loaded, while the runtime asks for the first event; the
// first request joins it. A failure is logged by onEvent and retried by the first request, never fatal.
// While the fetch waits on the network, Node creates stdout and stderr (lazily made, ~0.5 ms), which the
// first log line would otherwise pay for on the way to the first answer.
/** Settles (never rejects) once the cold-start key fetch has succeeded or failed; `npm start` waits on it. */
export const ready: Promise<void> = new Promise((settle) =>
  setImmediate(() => {
    keys.getJwks(config.jwksUri).then(
      () => settle(),
      () => settle(),
    );
    void process.stdout;
    void process.stderr;
  }),
);

/**
 * Lambda's entry point for the kind of API `AZURE_API_KIND` names (REST by default); each decision's line
 * carries the invocation's context (its request id).
 */
export const handler: ApiAuthorizerHandler<InvocationContext> = createApiAuthorizer<InvocationContext>(
  config,
  {
    verifier: createTokenVerifier({ config, keys }),
    hint: createHinter(config),
    record: (record, context) => telemetry.decision(record, context),
  },
);
