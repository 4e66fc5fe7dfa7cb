import type { OptInTag } from '#core/instances.ts';
import {
  type InstanceMetrics,
  lookbackPeriodSeconds,
  METRIC_KINDS,
  type MetricWindow,
} from '#core/metrics.ts';
import { MS_PER_DAY } from '#core/time-zone.ts';
import { instantMs } from '#shared/events/fields.ts';
import { InvalidEventError } from '#shared/events/parse.ts';
import { identity, type ShardMessage } from '#shared/events/shard.ts';
import type { ShardScanPorts } from '#shared/ports.ts';
import { verifyInstances } from './eligibility.ts';
import { type ScanRuntime, type ScanTarget, scanInstances } from './scan.ts';
import { type ScanSummary, type SkipSummary, summarizeScan, summarizeSkipped } from './summary.ts';

export interface ShardSettings {
  readonly optIn: OptInTag;
  readonly lookbackDays: number;
  readonly region: string | null;
}

export type ShardDeps = ShardScanPorts & ScanRuntime;

export interface ShardResult {
  readonly runId: string;
  readonly shard: { readonly index: number; readonly count: number };
  readonly skipped: SkipSummary;
  readonly scan: ScanSummary;
}

/** A shard message whose window has been checked against this deployment's settings. */
export interface ShardTask {
  readonly message: ShardMessage;
  readonly window: MetricWindow;
}

/**
 * Scans one shard: checks every instance again (running, opted in, SSM online), fetches the metrics the
 * fleet scan discovered for it, publishes the findings. The message is only a hint.
 * @throws DeadlineError, adapter errors.
 */
export async function scanShard(
  { message, window }: ShardTask,
  settings: ShardSettings,
  deps: ShardDeps,
  signal: AbortSignal,
): Promise<ShardResult> {
  const ids = message.instances.map((instance) => instance.instanceId);
  const verified = await verifyInstances(deps, settings.optIn, ids, signal);
  const metricsOf = new Map(
    message.instances.map((instance) => [instance.instanceId, toMetrics(instance.metrics)]),
  );
  const targets: ScanTarget[] = verified.eligible.map((instance) => ({
    ...instance,
    metrics: metricsOf.get(instance.instanceId) ?? {},
  }));
  const outcome = await scanInstances(
    {
      targets,
      window,
      trigger: {
        type: 'schedule',
        runId: message.runId,
        scheduledAt: message.scheduledAt,
        ...(message.optedIn === undefined ? {} : { optedIn: message.optedIn }),
      },
      region: settings.region,
    },
    deps,
    signal,
  );
  return {
    runId: message.runId,
    shard: message.shard,
    skipped: summarizeSkipped(verified.skipped),
    scan: summarizeScan(outcome),
  };
}

/**
 * The shard with its window, if the window is one this deployment would have planned (same lookback and period,
 * aligned, not in the future): a forged message cannot make a worker read, and pay for, more.
 * @throws InvalidEventError
 */
export function shardTask(message: ShardMessage, lookbackDays: number, nowMs: number): ShardTask {
  const startMs = instantMs(message.window.start);
  const endMs = instantMs(message.window.end);
  const periodMs = message.window.periodSeconds * 1000;
  const problem =
    endMs - startMs !== lookbackDays * MS_PER_DAY
      ? `spans ${((endMs - startMs) / MS_PER_DAY).toFixed(2)} days, not the configured ${lookbackDays}`
      : startMs % periodMs !== 0 || endMs % periodMs !== 0
        ? `is not aligned to its ${message.window.periodSeconds}-s period`
        : endMs > nowMs + periodMs
          ? 'ends in the future'
          : lookbackPeriodSeconds(lookbackDays) !== message.window.periodSeconds
            ? `has a ${message.window.periodSeconds}-s period, not the one a ${lookbackDays}-day lookback uses`
            : null;
  if (problem !== null) throw new InvalidEventError(`shard message window ${problem}`);
  return {
    message,
    window: {
      startMs,
      endMs,
      periodSeconds: message.window.periodSeconds,
      datapointsPerMetric: (endMs - startMs) / periodMs,
    },
  };
}

function toMetrics(metrics: ShardMessage['instances'][number]['metrics']): InstanceMetrics {
  const result: InstanceMetrics = {};
  for (const kind of METRIC_KINDS) {
    const dimensions = metrics[kind];
    if (dimensions !== undefined) result[kind] = identity(kind, dimensions);
  }
  return result;
}
