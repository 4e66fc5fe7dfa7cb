import { METRIC_KINDS, type MetricWindow, metricsPerCall } from '#core/metrics.ts';
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
  const plan = planShards(
    run,
    window,
    { size: targets.length, target: (row) => targets[row] as ScanTarget },
    shardMetrics,
    optedIn,
  );
  return [...plan.messages()];
}

/** Targets by position: an array, or a {@link FleetIndex} that builds each one when asked. */
export interface TargetSource {
  readonly size: number;
  target(row: number): ScanTarget;
}

/** The shards of a run: how many, and each message built when it is sent (none is held). */
export interface ShardPlan {
  readonly count: number;
  /** Metrics in each shard, in order. */
  readonly metricsPerShard: readonly number[];
  messages(): Generator<ShardMessage>;
}

/**
 * Plans the shards of {@link buildShards} over `source` keeping only their bounds: a shard is a run of
 * consecutive targets, so the plan is two numbers a shard however large the fleet. Each message is built
 * twice (once to check its size, once to send it) rather than kept.
 */
export function planShards(
  run: ScheduledRun,
  window: MetricWindow,
  source: TargetSource,
  shardMetrics: number,
  optedIn?: number,
): ShardPlan {
  const perCall = metricsPerCall(window);
  const capacity = Math.max(perCall, Math.floor(shardMetrics / perCall) * perCall);
  const slots = (row: number) => Math.max(1, countMetrics(source.target(row)));
  const bounds: [number, number][] = [];
  const metricsPerShard: number[] = [];
  const range = (start: number, end: number) =>
    Array.from({ length: end - start }, (_, i) => source.target(start + i));
  const split = (start: number, end: number): void => {
    const size = Buffer.byteLength(JSON.stringify(message(run, window, range(start, end), 0, 1)));
    if (size <= MAX_SHARD_BYTES || end - start === 1) {
      bounds.push([start, end]);
      let metrics = 0;
      for (let row = start; row < end; row += 1) metrics += countMetrics(source.target(row));
      metricsPerShard.push(metrics);
      return;
    }
    const half = start + Math.ceil((end - start) / 2);
    split(start, half);
    split(half, end);
  };
  // The same greedy cut as shardByMetrics: an instance without metrics still takes a slot.
  let start = 0;
  let filled = 0;
  for (let row = 0; row < source.size; row += 1) {
    const needed = slots(row);
    if (row > start && filled + needed > capacity) {
      split(start, row);
      start = row;
      filled = 0;
    }
    filled += needed;
  }
  if (source.size > start) split(start, source.size);
  return {
    count: bounds.length,
    metricsPerShard,
    *messages() {
      for (const [index, [from, to]] of bounds.entries())
        yield message(run, window, range(from, to), index, bounds.length, optedIn);
    },
  };
}

function countMetrics(target: ScanTarget): number {
  return METRIC_KINDS.filter((kind) => target.metrics[kind] !== undefined).length;
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
