import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { createAuthorizer, type DecisionRecorder } from './authorizer.js';
import { loadConfig } from './config.js';
import { EntraJwksCache } from './keys/key-cache.js';
import { createRouteAuthorizer } from './permissions.js';
import { createHinter } from './reasons.js';
import { createTokenVerifier } from './verifier.js';

// The composition root: configuration, logger, metrics and the key cache live here, in module scope, so a
// warm container reuses them; a bad variable fails the cold start with a message naming it.
const logger = new Logger({ serviceName: process.env.POWERTOOLS_SERVICE_NAME ?? 'entra-authorizer' });
const metrics = new Metrics({
  namespace: process.env.POWERTOOLS_METRICS_NAMESPACE ?? 'EntraAuthorizer',
  serviceName: process.env.POWERTOOLS_SERVICE_NAME ?? 'entra-authorizer',
});
const config = loadConfig(process.env);

const keys = new EntraJwksCache({
  onEvent: (event) => {
    if (event.type === 'fetched') logger.info('signing keys fetched', { ...event });
    else
      logger.warn(
        event.type === 'serving_stale' ? 'serving stale signing keys' : 'signing key fetch failed',
        {
          ...event,
        },
      );
  },
});

const record: DecisionRecorder = ({ decision, error, ...safe }) => {
  const entry = { outcome: decision.outcome, reason: decision.reason, detail: decision.detail, ...safe };
  if (decision.outcome === 'error') logger.error('authorizer decision', { ...entry, error });
  else logger.info('authorizer decision', entry);
  metrics.addDimensions({ outcome: decision.outcome, reason: decision.reason });
  metrics.addMetric('Decisions', MetricUnit.Count, 1);
  metrics.publishStoredMetrics();
};

// Start the key fetch as soon as the module has loaded, while the runtime asks for the first event; the
// first request joins it. A failure is logged by onEvent and retried by the first request, never fatal.
/** Settles (never rejects) once the cold-start key fetch has succeeded or failed; `npm start` waits on it. */
export const ready: Promise<void> = new Promise((settle) =>
  setImmediate(() =>
    keys.getJwks(config.jwksUri).then(
      () => settle(),
      () => settle(),
    ),
  ),
);

export const handler = createAuthorizer({
  verifier: createTokenVerifier({ config, keys }),
  routes: createRouteAuthorizer(config),
  record,
  hint: createHinter(config),
});
