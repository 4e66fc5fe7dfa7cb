import type { OptInTag } from '#core/instances.ts';
import { METRIC_KINDS, type MetricWindow, metricWindow, minimumCalls } from '#core/metrics.ts';
import type { ScheduledRun } from '#shared/events/schedule.ts';
import type { FleetScanPorts } from '#shared/ports.ts';
import { discoverMetrics } from './discover-metrics.ts';
import { discoverFleet, type SkippedInstance } from './eligibility.ts';
import { type ScanRuntime, type ScanTarget, scanInstances } from './scan.ts';
import { buildShards } from './shards.ts';
import { type ScanSummary, type SkipSummary, summarizeScan, summarizeSkipped } from './summary.ts';

export interface FleetScanSettings {
  readonly optIn: OptInTag;
  readonly lookbackDays: number;
  readonly shardMetrics: number;
  readonly region: string | null;
}

export type FleetScanDeps = FleetScanPorts & ScanRuntime;

/** What a scheduled run did. */
export type FleetScanResult =
  | {
      readonly status: 'nothing-to-scan';
      readonly runId: string;
      readonly skipped: SkipSummary;
    }
  | {
      readonly status: 'scanned';
      readonly runId: string;
      readonly eligible: number;
      readonly skipped: SkipSummary;
      readonly ambiguousDimensionSets: number;
      readonly scan: ScanSummary;
    }
  | {
      readonly status: 'queued';
      readonly runId: string;
      readonly eligible: number;
      readonly skipped: SkipSummary;
      readonly ambiguousDimensionSets: number;
      readonly shards: number;
      readonly metrics: number;
      /** GetMetricData calls the workers will make, and the fewest possible. */
      readonly plannedGetMetricDataCalls: number;
      readonly minimumGetMetricDataCalls: number;
    };

/**
 * The scheduled run: discovers the opted-in fleet and its metrics (ListMetrics once for the whole fleet),
 * then scans it inline when it fits one shard, or queues shards for the scan workers.
 */
export async function runFleetScan(
  run: ScheduledRun,
  settings: FleetScanSettings,
  deps: FleetScanDeps,
  signal: AbortSignal,
): Promise<FleetScanResult> {
  const fleet = await discoverFleet(deps, settings.optIn, signal);
  const skipped = summarizeSkipped(fleet.skipped as SkippedInstance[]);
  if (fleet.eligible.length === 0) return { status: 'nothing-to-scan', runId: run.runId, skipped };

  // Opted in and running, whether SSM can reach them or not: what the remediation breaker measures a run by.
  const optedIn =
    fleet.eligible.length +
    fleet.skipped.filter((s) => s.reason === 'not-managed' || s.reason === 'offline').length;
  const ids = new Set(fleet.eligible.map((instance) => instance.instanceId));
  const selection = await discoverMetrics(deps.catalog, ids, signal);
  const targets: ScanTarget[] = fleet.eligible.map((instance) => ({
    ...instance,
    metrics: selection.byInstance.get(instance.instanceId) ?? {},
  }));
  const window: MetricWindow = metricWindow(deps.clock.now(), settings.lookbackDays);
  const metrics = targets.reduce(
    (sum, target) => sum + METRIC_KINDS.filter((kind) => target.metrics[kind] !== undefined).length,
    0,
  );
  const common = {
    runId: run.runId,
    eligible: targets.length,
    skipped,
    ambiguousDimensionSets: selection.ambiguous,
  };

  if (metrics <= settings.shardMetrics) {
    const outcome = await scanInstances(
      {
        targets,
        window,
        trigger: { type: 'schedule', runId: run.runId, scheduledAt: run.scheduledAt, optedIn },
        region: settings.region,
      },
      deps,
      signal,
    );
    return { status: 'scanned', ...common, scan: summarizeScan(outcome) };
  }

  const shards = buildShards(run, window, targets, settings.shardMetrics, optedIn);
  await deps.queue.send(shards, signal);
  return {
    status: 'queued',
    ...common,
    shards: shards.length,
    metrics,
    plannedGetMetricDataCalls: shards.reduce(
      (sum, shard) =>
        sum +
        minimumCalls(
          shard.instances.reduce((n, instance) => n + Object.keys(instance.metrics).length, 0),
          window,
        ),
      0,
    ),
    minimumGetMetricDataCalls: minimumCalls(metrics, window),
  };
}
