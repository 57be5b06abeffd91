import { Duration } from 'aws-cdk-lib';
import {
  Alarm,
  ComparisonOperator,
  type IAlarmAction,
  type IMetric,
  MathExpression,
  Metric,
  type MetricOptions,
  TreatMissingData,
} from 'aws-cdk-lib/aws-cloudwatch';
import type { Function as LambdaFunction } from 'aws-cdk-lib/aws-lambda';
import type { Construct } from 'constructs';
import { type Outcome, REASONS, type Reason } from '../../lambda/authorizer/reasons.js';
import { DECISION_METRIC } from '../../lambda/authorizer/telemetry-config.js';
import { PropsError } from './errors.js';
import { checkKnownProps, type KnownProps } from './known-props.js';
import { checkPropKinds } from './prop-kinds.js';

export type DecisionOutcome = Outcome;
export type DecisionReason = Reason;

export interface DecisionMetricOptions extends MetricOptions {
  /** Only decisions with this outcome: `allow`, `deny` (403), `unauthorized` (401), `error` (500). */
  readonly outcome?: DecisionOutcome;
  /** Only decisions with this reason code (`keys_unavailable`, `expired`, ...); its outcome is implied. */
  readonly reason?: DecisionReason;
}

/** The options of `MetricOptions` a Metrics Insights query (a `MathExpression`) honours. */
const QUERY_OPTIONS: readonly string[] = ['period', 'label', 'color'];

/** Where the authorizer writes its `Decisions` metric: its namespace and its `service` dimension. */
interface DecisionMetricSource {
  readonly namespace: string;
  readonly serviceName: string;
}

/**
 * The `Decisions` metric the authorizer writes (EMF), summed. With a reason it is one CloudWatch metric (the
 * dimensions `service`, `outcome`, `reason` all known). Without one it spans several reasons, more than the 10
 * metrics a metric-math alarm may read (`unauthorized` has 14), so it is a Metrics Insights query over the
 * metric's exact dimension set, which graphs and alarms both take.
 */
export function decisionMetric(source: DecisionMetricSource, options: DecisionMetricOptions = {}): IMetric {
  if (typeof options !== 'object' || options === null)
    throw new PropsError('metricDecisions', 'options', 'an object of its options', options);
  checkPropKinds('metricDecisions', options, { period: 'duration' });
  const { outcome, reason, ...metricOptions } = options;
  if (reason !== undefined && !Object.hasOwn(REASONS, reason)) {
    throw new PropsError('metricDecisions', 'reason', `one of ${Object.keys(REASONS).join(', ')}`, reason);
  }
  const implied = reason === undefined ? undefined : REASONS[reason].outcome;
  if (outcome !== undefined && implied !== undefined && outcome !== implied) {
    throw new PropsError(
      'metricDecisions',
      'outcome',
      `"${implied}" for reason "${reason}", or unset`,
      outcome,
    );
  }
  const wanted = { service: source.serviceName, outcome: outcome ?? implied, reason };
  if (reason !== undefined) {
    const dimensionsMap = Object.fromEntries(
      DECISION_METRIC.dimensions.map((name) => [name, wanted[name] as string]),
    );
    return new Metric({
      namespace: source.namespace,
      metricName: DECISION_METRIC.name,
      dimensionsMap,
      statistic: 'Sum',
      ...metricOptions,
    });
  }
  if (!Object.values(REASONS).some((r) => outcome === undefined || r.outcome === outcome)) {
    throw new PropsError('metricDecisions', 'outcome', 'allow, deny, unauthorized or error', outcome);
  }
  for (const [prop, value] of [
    ['metricsNamespace', source.namespace],
    ['serviceName', source.serviceName],
  ] as const) {
    if (/["'\\]/.test(value)) {
      throw new PropsError(
        'metricDecisions',
        prop,
        'without quotes or backslashes to be queried by outcome (name a reason instead)',
        value,
      );
    }
  }
  // A query sums its reasons itself: of the metric's options it takes only these; any other would be dropped.
  for (const [option, value] of Object.entries(metricOptions)) {
    if (value !== undefined && !QUERY_OPTIONS.includes(option)) {
      throw new PropsError(
        'metricDecisions',
        option,
        `given with a reason: without one the metric is a query of several reasons, which takes only ${QUERY_OPTIONS.join(', ')}`,
        value,
      );
    }
  }
  const where = DECISION_METRIC.dimensions
    .filter((name) => wanted[name] !== undefined)
    .map((name) => `${name} = '${wanted[name]}'`)
    .join(' AND ');
  return new MathExpression({
    expression: `SELECT SUM(${DECISION_METRIC.name}) FROM SCHEMA("${source.namespace}", ${DECISION_METRIC.dimensions.join(', ')}) WHERE ${where}`,
    usingMetrics: {},
    period: metricOptions.period ?? Duration.minutes(5),
    label: metricOptions.label ?? `${DECISION_METRIC.name} ${outcome ?? 'all'}`,
    ...(metricOptions.color === undefined ? {} : { color: metricOptions.color }),
  });
}

export interface AuthorizerAlarmOptions {
  /**
   * What each alarm does when it fires (and when it recovers): an `SnsAction` for a topic, say.
   * @default - no action: the alarms only change state
   */
  readonly action?: IAlarmAction;
  /**
   * The window of the error and throttle alarms: one such window with any error (any `error` outcome, such
   * as `keys_unavailable`) or any throttled invocation fires them.
   * @default Duration.minutes(1)
   */
  readonly failureWindow?: Duration;
  /**
   * 401s (`unauthorized` decisions of the Lambda) in `unauthorizedWindow` at which the 401 alarm fires.
   * @default 100
   */
  readonly unauthorizedThreshold?: number;
  /**
   * @default Duration.minutes(5)
   */
  readonly unauthorizedWindow?: Duration;
}

const ALARM_OPTIONS = {
  action: true,
  failureWindow: true,
  unauthorizedThreshold: true,
  unauthorizedWindow: true,
} as const satisfies KnownProps<AuthorizerAlarmOptions>;

/** The alarms `addAlarms` creates. */
export interface AuthorizerAlarms {
  /** Any decision with outcome `error` (a 500: `keys_unavailable`, `tenants_unavailable`, `internal_error`). */
  readonly errors: Alarm;
  /** Any throttled invocation of the authorizer function (API Gateway answers those callers 500). */
  readonly throttles: Alarm;
  /** Unusually many 401s. */
  readonly unauthorized: Alarm;
  /**
   * With allowed tenants from an SSM parameter: any decision without a usable tenant list
   * (`tenants_unavailable`), so the parameter, its value or the role's read of it is looked at first.
   */
  readonly tenantsUnavailable?: Alarm;
}

/** The operator's alarms on an authorizer: see docs/observability.md's runbook for what each means. */
export function createAlarms(
  scope: Construct,
  source: DecisionMetricSource,
  fn: LambdaFunction,
  options: AuthorizerAlarmOptions = {},
  tenantsFromParameter = false,
): AuthorizerAlarms {
  checkKnownProps('addAlarms', options, ALARM_OPTIONS);
  checkPropKinds('addAlarms', options, { failureWindow: 'duration', unauthorizedWindow: 'duration' });
  if (options.action !== undefined && typeof (options.action as Partial<IAlarmAction>)?.bind !== 'function')
    throw new PropsError(
      'addAlarms',
      'action',
      'an alarm action, such as new SnsAction(topic)',
      options.action,
    );
  const failureWindow = options.failureWindow ?? Duration.minutes(1);
  const unauthorizedThreshold = options.unauthorizedThreshold ?? 100;
  if (!Number.isFinite(unauthorizedThreshold) || unauthorizedThreshold < 1) {
    throw new PropsError(
      'addAlarms',
      'unauthorizedThreshold',
      'a number of at least 1',
      unauthorizedThreshold,
    );
  }
  const alarm = (id: string, metric: IMetric, threshold: number, description: string) => {
    const created = new Alarm(scope, id, {
      metric,
      threshold,
      evaluationPeriods: 1,
      comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      // No decisions, no throttles: nothing is wrong.
      treatMissingData: TreatMissingData.NOT_BREACHING,
      // The docs ship in the package: the runbook is beside the app that deployed the alarm.
      alarmDescription: `${description} (runbook: node_modules/entra-authorizer/docs/observability.md, "Alarms: the runbook")`,
    });
    if (options.action !== undefined) {
      created.addAlarmAction(options.action);
      created.addOkAction(options.action);
    }
    return created;
  };
  return {
    errors: alarm(
      'ErrorsAlarm',
      decisionMetric(source, { outcome: 'error', period: failureWindow }),
      1,
      'The Entra authorizer failed (500s): keys_unavailable, tenants_unavailable or internal_error',
    ),
    throttles: alarm(
      'ThrottlesAlarm',
      fn.metricThrottles({ period: failureWindow, statistic: 'Sum' }),
      1,
      'The Entra authorizer function was throttled (callers got 500s)',
    ),
    unauthorized: alarm(
      'UnauthorizedAlarm',
      decisionMetric(source, {
        outcome: 'unauthorized',
        period: options.unauthorizedWindow ?? Duration.minutes(5),
      }),
      unauthorizedThreshold,
      `At least ${unauthorizedThreshold} tokens refused (401) by the Entra authorizer`,
    ),
    ...(tenantsFromParameter
      ? {
          tenantsUnavailable: alarm(
            'TenantsUnavailableAlarm',
            decisionMetric(source, { reason: 'tenants_unavailable', period: failureWindow }),
            1,
            'The Entra authorizer had no usable allowed tenant list (500s): check the SSM parameter, its value and the role',
          ),
        }
      : {}),
  };
}
