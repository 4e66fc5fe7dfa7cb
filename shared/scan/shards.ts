import { METRIC_KINDS, type MetricWindow, metricsPerCall, shardByMetrics } from '#core/metrics.ts';
import type { ScheduledRun } from '#shared/events/schedule.ts';
import { SHARD_KIND, type ShardMessage } from '#shared/events/shard.ts';
import type { ScanTarget } from './scan.ts';

// Well under SQS's 256 KiB, which a shard of unusually long dimension values could otherwise pass.
const MAX_SHARD_BYTES = 200 * 1024;

/**
 * Splits the fleet into shard messages of at most `shardMetrics` metrics, rounded down to whole
 * GetMetricData calls so that each shard wastes at most part of one call, and at most 200 KB each.
 */
export function buildShards(
  run: ScheduledRun,
  window: MetricWindow,
  targets: readonly ScanTarget[],
  shardMetrics: number,
  optedIn?: number,
): ShardMessage[] {
  const perCall = metricsPerCall(window);
  const capacity = Math.max(perCall, Math.floor(shardMetrics / perCall) * perCall);
  const counted = targets.map((target) => ({
    target,
    // An instance without metrics still takes a slot, so that a shard never grows without bound.
    metricCount: Math.max(1, METRIC_KINDS.filter((kind) => target.metrics[kind] !== undefined).length),
  }));
  const groups = shardByMetrics(counted, capacity).flatMap((group) =>
    splitBySize(
      group.map((g) => g.target),
      run,
      window,
    ),
  );
  return groups.map((group, index) => message(run, window, group, index, groups.length, optedIn));
}

function splitBySize(
  targets: readonly ScanTarget[],
  run: ScheduledRun,
  window: MetricWindow,
): ScanTarget[][] {
  const size = Buffer.byteLength(JSON.stringify(message(run, window, targets, 0, 1)));
  if (size <= MAX_SHARD_BYTES || targets.length === 1) return [[...targets]];
  const half = Math.ceil(targets.length / 2);
  return [
    ...splitBySize(targets.slice(0, half), run, window),
    ...splitBySize(targets.slice(half), run, window),
  ];
}

function message(
  run: ScheduledRun,
  window: MetricWindow,
  targets: readonly ScanTarget[],
  index: number,
  count: number,
  optedIn?: number,
): ShardMessage {
  return {
    kind: SHARD_KIND,
    schemaVersion: 1,
    runId: run.runId,
    scheduledAt: run.scheduledAt,
    ...(optedIn === undefined ? {} : { optedIn }),
    shard: { index, count },
    window: {
      start: new Date(window.startMs).toISOString(),
      end: new Date(window.endMs).toISOString(),
      periodSeconds: window.periodSeconds as 300 | 3600,
    },
    instances: targets.map((target) => ({
      instanceId: target.instanceId,
      metrics: Object.fromEntries(
        METRIC_KINDS.flatMap((kind) => {
          const metric = target.metrics[kind];
          return metric === undefined
            ? []
            : [[kind, metric.dimensions.map((d) => ({ name: d.name, value: d.value }))]];
        }),
      ),
    })),
  };
}
