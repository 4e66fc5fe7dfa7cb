import { InvalidOptionError } from './errors.ts';
import { MS_PER_DAY } from './time-zone.ts';

/** The three series crawlguard reads per instance. */
export const METRIC_KINDS = ['network-out', 'mem-used-percent', 's3fs-rss'] as const;
export type MetricKind = (typeof METRIC_KINDS)[number];

/** Where each kind lives in CloudWatch and the statistic that fits it. */
export const METRIC_SPECS: Readonly<
  Record<MetricKind, { readonly namespace: string; readonly metricName: string; readonly stat: string }>
> = {
  'network-out': { namespace: 'AWS/EC2', metricName: 'NetworkOut', stat: 'Sum' },
  'mem-used-percent': { namespace: 'CWAgent', metricName: 'mem_used_percent', stat: 'Average' },
  's3fs-rss': { namespace: 'CWAgent', metricName: 'procstat_memory_rss', stat: 'Average' },
};

/** GetMetricData limits per call (API reference). */
export const MAX_QUERIES_PER_CALL = 500;
export const MAX_DATAPOINTS_PER_CALL = 100_800;

/** Retention: 5-minute data is kept 63 days, hourly data 455 days. */
const FIVE_MINUTE_RETENTION_DAYS = 63;
const MAX_LOOKBACK_DAYS = 455;

export interface Dimension {
  readonly name: string;
  readonly value: string;
}

/** A metric exactly as ListMetrics names it: the dimension set must match to the last dimension. */
export interface MetricIdentity {
  readonly namespace: string;
  readonly metricName: string;
  readonly dimensions: readonly Dimension[];
}

/** The metrics chosen for one instance (a kind is absent when the instance does not publish it). */
export type InstanceMetrics = Partial<Record<MetricKind, MetricIdentity>>;

export interface MetricSelection {
  readonly byInstance: ReadonlyMap<string, InstanceMetrics>;
  /** Instance × kind pairs that had more than one candidate dimension set (the simplest one was kept). */
  readonly ambiguous: number;
}

// procstat names its series after the selector used in the agent's configuration.
const PROCSTAT_SELECTORS = new Set(['exe', 'pattern', 'process_name', 'pidfile', 'pid_file']);
const S3FS = /(^|[^a-z0-9])s3fs([^a-z0-9]|$)/i;

/** Which kind a listed metric is for, and for which instance; null when it is none of ours. */
export function classifyMetric(metric: MetricIdentity): { kind: MetricKind; instanceId: string } | null {
  const instanceDimensions = metric.dimensions.filter((d) => d.name === 'InstanceId');
  if (instanceDimensions.length !== 1) return null;
  const instanceId = (instanceDimensions[0] as Dimension).value;
  const spec = (kind: MetricKind) =>
    METRIC_SPECS[kind].namespace === metric.namespace && METRIC_SPECS[kind].metricName === metric.metricName;
  // EC2's own per-instance series has the single InstanceId dimension; other sets are fleet aggregates.
  if (spec('network-out')) return metric.dimensions.length === 1 ? { kind: 'network-out', instanceId } : null;
  if (spec('mem-used-percent')) return { kind: 'mem-used-percent', instanceId };
  if (spec('s3fs-rss')) {
    const isS3fs = metric.dimensions.some((d) => PROCSTAT_SELECTORS.has(d.name) && S3FS.test(d.value));
    return isS3fs ? { kind: 's3fs-rss', instanceId } : null;
  }
  return null;
}

/**
 * Picks one metric per instance and kind from what ListMetrics returned for the whole fleet. When the
 * agent publishes several dimension sets for one instance (aggregation_dimensions, append_dimensions),
 * the set with the fewest dimensions is kept: it is the aggregate, and one set is all we pay for.
 */
export function selectMetrics(
  listed: Iterable<MetricIdentity>,
  instanceIds: ReadonlySet<string>,
): MetricSelection {
  const byInstance = new Map<string, Record<string, MetricIdentity>>();
  const candidates = new Map<string, number>();
  for (const metric of listed) {
    const match = classifyMetric(metric);
    if (match === null || !instanceIds.has(match.instanceId)) continue;
    const chosen = byInstance.get(match.instanceId) ?? {};
    const current = chosen[match.kind];
    const pairKey = `${match.instanceId}/${match.kind}`;
    candidates.set(pairKey, (candidates.get(pairKey) ?? 0) + 1);
    if (current === undefined || simpler(metric, current)) chosen[match.kind] = metric;
    byInstance.set(match.instanceId, chosen);
  }
  let ambiguous = 0;
  for (const count of candidates.values()) if (count > 1) ambiguous += 1;
  return { byInstance: byInstance as Map<string, InstanceMetrics>, ambiguous };
}

function simpler(a: MetricIdentity, b: MetricIdentity): boolean {
  if (a.dimensions.length !== b.dimensions.length) return a.dimensions.length < b.dimensions.length;
  return metricKey(a) < metricKey(b);
}

/** A canonical key of a metric: namespace, name and dimensions sorted by name. */
export function metricKey(metric: MetricIdentity): string {
  const dimensions = [...metric.dimensions].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  return JSON.stringify([metric.namespace, metric.metricName, dimensions.map((d) => [d.name, d.value])]);
}

/** The time range and period of one run; every query of the run uses it. */
export interface MetricWindow {
  readonly startMs: number;
  readonly endMs: number;
  readonly periodSeconds: number;
  /** Datapoints one metric can return over the window: what a query costs against the per-call limit. */
  readonly datapointsPerMetric: number;
}

/**
 * The window ending at the last whole period before `nowMs`. The period is the finest one retained for
 * the whole lookback, except 60 s: it would cost five times the datapoints and the detectors need no more
 * than 5 minutes.
 * @throws InvalidOptionError for a lookback that is not a whole number of days in 1..455.
 */
export function metricWindow(nowMs: number, lookbackDays: number): MetricWindow {
  if (!Number.isInteger(lookbackDays) || lookbackDays < 1 || lookbackDays > MAX_LOOKBACK_DAYS) {
    throw new InvalidOptionError(
      `lookback must be a whole number of days in 1..${MAX_LOOKBACK_DAYS}, got ${lookbackDays}`,
    );
  }
  if (!Number.isFinite(nowMs)) throw new InvalidOptionError(`now must be a finite instant, got ${nowMs}`);
  const periodSeconds = lookbackPeriodSeconds(lookbackDays);
  const periodMs = periodSeconds * 1000;
  const endMs = Math.floor(nowMs / periodMs) * periodMs;
  const startMs = endMs - lookbackDays * MS_PER_DAY;
  return { startMs, endMs, periodSeconds, datapointsPerMetric: (endMs - startMs) / periodMs };
}

/**
 * The period a lookback is read at: 5 minutes while CloudWatch keeps 5-minute data (63 days), hourly
 * beyond. 60-s data would cost five times the datapoints and is kept only 15 days.
 */
export function lookbackPeriodSeconds(lookbackDays: number): 300 | 3600 {
  return lookbackDays <= FIVE_MINUTE_RETENTION_DAYS ? 300 : 3600;
}

/** How many metrics one GetMetricData call can carry over `window`. */
export function metricsPerCall(window: MetricWindow): number {
  return Math.min(MAX_QUERIES_PER_CALL, Math.floor(MAX_DATAPOINTS_PER_CALL / window.datapointsPerMetric));
}

/**
 * The fewest GetMetricData calls that can fetch `metricCount` metrics over `window`. A metric's
 * datapoints cannot be split across calls, so the bound is whole metrics per call, not datapoints.
 */
export function minimumCalls(metricCount: number, window: MetricWindow): number {
  if (metricCount === 0) return 0;
  return Math.ceil(metricCount / metricsPerCall(window));
}

/** One metric to fetch, with the id its query carries in a call. */
export interface PlannedQuery {
  /** Unique within its batch; CloudWatch wants `^[a-z][a-zA-Z0-9_]*$`. */
  readonly id: string;
  readonly instanceId: string;
  readonly kind: MetricKind;
  readonly metric: MetricIdentity;
  readonly stat: string;
}

/** The queries of one GetMetricData call. */
export interface QueryBatch {
  readonly queries: readonly PlannedQuery[];
  /** Upper bound of the datapoints the call returns: queries × datapoints per metric. */
  readonly datapoints: number;
}

/**
 * Packs every metric of `instances` into GetMetricData calls of at most 500 queries and 100,800
 * datapoints. All metrics of a run share one window, so filling each call in order is optimal: the
 * number of calls is {@link minimumCalls}. A metric listed twice is fetched once. Order is kept, so the
 * metrics of an instance arrive together and it can be analysed (and its series dropped) early.
 */
export function planBatches(
  instances: Iterable<readonly [instanceId: string, metrics: InstanceMetrics]>,
  window: MetricWindow,
): QueryBatch[] {
  const capacity = metricsPerCall(window);
  if (capacity < 1) {
    throw new InvalidOptionError(
      `one metric over this window has ${window.datapointsPerMetric} datapoints, above ${MAX_DATAPOINTS_PER_CALL} per call`,
    );
  }
  const batches: QueryBatch[] = [];
  const seen = new Set<string>();
  let current: PlannedQuery[] = [];
  const flush = (): void => {
    if (current.length === 0) return;
    batches.push({ queries: current, datapoints: current.length * window.datapointsPerMetric });
    current = [];
  };
  for (const [instanceId, metrics] of instances) {
    for (const kind of METRIC_KINDS) {
      const metric = metrics[kind];
      if (metric === undefined) continue;
      const key = metricKey(metric);
      if (seen.has(key)) continue;
      seen.add(key);
      current.push({ id: `q${current.length}`, instanceId, kind, metric, stat: METRIC_SPECS[kind].stat });
      if (current.length === capacity) flush();
    }
  }
  flush();
  return batches;
}

/**
 * Splits instances into shards of at most `metricsPerShard` metrics, keeping each instance whole and the
 * order unchanged. With `metricsPerShard` a multiple of {@link metricsPerCall}, every call of a shard but
 * its last is full.
 */
export function shardByMetrics<T extends { readonly metricCount: number }>(
  instances: readonly T[],
  metricsPerShard: number,
): T[][] {
  if (!Number.isInteger(metricsPerShard) || metricsPerShard < 1) {
    throw new InvalidOptionError(`metrics per shard must be a whole number ≥ 1, got ${metricsPerShard}`);
  }
  const shards: T[][] = [];
  let current: T[] = [];
  let metrics = 0;
  for (const instance of instances) {
    if (current.length > 0 && metrics + instance.metricCount > metricsPerShard) {
      shards.push(current);
      current = [];
      metrics = 0;
    }
    current.push(instance);
    metrics += instance.metricCount;
  }
  if (current.length > 0) shards.push(current);
  return shards;
}
