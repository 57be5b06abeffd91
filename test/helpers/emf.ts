/**
 * A validator for CloudWatch embedded metric format (EMF) log events, written from AWS's specification
 * ("Specification: Embedded metric format", Amazon CloudWatch User Guide) and independent of the code that
 * writes them. It returns what breaks the spec, so a test can say which rule a line breaks.
 */

/** The units a MetricDefinition may name (MetricDatum's StandardUnit). */
const UNITS = new Set([
  'Seconds',
  'Microseconds',
  'Milliseconds',
  'Bytes',
  'Kilobytes',
  'Megabytes',
  'Gigabytes',
  'Terabytes',
  'Bits',
  'Kilobits',
  'Megabits',
  'Gigabits',
  'Terabits',
  'Percent',
  'Count',
  'Bytes/Second',
  'Kilobytes/Second',
  'Megabytes/Second',
  'Gigabytes/Second',
  'Terabytes/Second',
  'Bits/Second',
  'Kilobits/Second',
  'Megabits/Second',
  'Gigabits/Second',
  'Terabits/Second',
  'Count/Second',
  'None',
]);

/** The spec's limits: dimension keys per DimensionSet, definitions per directive, values per metric. */
export const EMF_LIMITS = {
  dimensionsPerSet: 30,
  metricsPerDirective: 100,
  valuesPerMetric: 100,
  /** A CloudWatch Logs event; EMF events were once limited to 256 KB, now 1 MB: hold to the older one. */
  eventBytes: 256 * 1024,
} as const;

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);
const isName = (v: unknown) => typeof v === 'string' && v.length >= 1 && v.length <= 255;
const extra = (o: Record<string, unknown>, allowed: readonly string[]) =>
  Object.keys(o).filter((k) => !allowed.includes(k));

/** What makes `line` (one log event) not a valid EMF document; empty when it is one. */
export function emfViolations(line: string): string[] {
  const problems: string[] = [];
  if (Buffer.byteLength(line) > EMF_LIMITS.eventBytes) problems.push('the event exceeds 256 KB');
  let root: unknown;
  try {
    // The message must be exactly one JSON object, with nothing before or after it.
    root = JSON.parse(line);
  } catch {
    return ['the event is not a JSON text'];
  }
  if (!isObject(root)) return ['the root is not a JSON object'];
  const meta = root._aws;
  if (!isObject(meta)) return ['the root has no _aws metadata object'];
  if (typeof meta.Timestamp !== 'number' || !Number.isInteger(meta.Timestamp) || meta.Timestamp < 0)
    problems.push('_aws.Timestamp is not a number of milliseconds since the epoch');
  const directives = meta.CloudWatchMetrics;
  if (!Array.isArray(directives)) return [...problems, '_aws.CloudWatchMetrics is not an array'];
  directives.forEach((directive: unknown, i) => {
    const at = `_aws.CloudWatchMetrics[${i}]`;
    if (!isObject(directive)) {
      problems.push(`${at} is not an object`);
      return;
    }
    const unknown = extra(directive, ['Namespace', 'Dimensions', 'Metrics']);
    if (unknown.length > 0) problems.push(`${at} has members the spec does not define: ${unknown}`);
    if (!isName(directive.Namespace)) problems.push(`${at}.Namespace is not a string of 1 to 255 characters`);
    const sets = directive.Dimensions;
    if (!Array.isArray(sets) || sets.length === 0) problems.push(`${at}.Dimensions is not a non-empty array`);
    else
      sets.forEach((set: unknown, j) => {
        if (!Array.isArray(set)) {
          problems.push(`${at}.Dimensions[${j}] is not an array`);
          return;
        }
        if (set.length > EMF_LIMITS.dimensionsPerSet)
          problems.push(`${at}.Dimensions[${j}] has more than ${EMF_LIMITS.dimensionsPerSet} keys`);
        for (const key of set) {
          if (!isName(key)) problems.push(`${at}.Dimensions[${j}] holds ${JSON.stringify(key)}, not a name`);
          else if (typeof root[key] !== 'string' || root[key] === '')
            problems.push(`dimension ${key} is not a non-empty string member of the root`);
        }
      });
    const metrics = directive.Metrics;
    if (!Array.isArray(metrics)) {
      problems.push(`${at}.Metrics is not an array`);
      return;
    }
    if (metrics.length > EMF_LIMITS.metricsPerDirective)
      problems.push(`${at}.Metrics has more than ${EMF_LIMITS.metricsPerDirective} definitions`);
    metrics.forEach((definition: unknown, k) => {
      const def = `${at}.Metrics[${k}]`;
      if (!isObject(definition)) {
        problems.push(`${def} is not an object`);
        return;
      }
      const unknownDef = extra(definition, ['Name', 'Unit', 'StorageResolution']);
      if (unknownDef.length > 0) problems.push(`${def} has members the spec does not define: ${unknownDef}`);
      if (!isName(definition.Name)) {
        problems.push(`${def}.Name is not a string of 1 to 255 characters`);
        return;
      }
      if (definition.Unit !== undefined && !UNITS.has(definition.Unit as string))
        problems.push(`${def}.Unit ${JSON.stringify(definition.Unit)} is not a CloudWatch unit`);
      if (
        definition.StorageResolution !== undefined &&
        ![1, 60].includes(definition.StorageResolution as number)
      )
        problems.push(`${def}.StorageResolution is neither 1 nor 60`);
      // The target is a member of the root itself ("A.a" names a member called "A.a", never A's member a).
      const value = root[definition.Name as string];
      const numbers = Array.isArray(value) ? value : [value];
      if (
        numbers.length === 0 ||
        numbers.length > EMF_LIMITS.valuesPerMetric ||
        !numbers.every((n) => typeof n === 'number' && Number.isFinite(n))
      )
        problems.push(
          `metric ${definition.Name} is not a number or an array of at most 100 numbers on the root`,
        );
    });
  });
  return problems;
}
