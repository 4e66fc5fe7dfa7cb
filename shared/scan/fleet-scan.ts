import type { OptInTag } from '#core/instances.ts';
import { METRIC_KINDS, METRIC_SPECS, type MetricWindow, metricWindow, minimumCalls } from '#core/metrics.ts';
import type { ScheduledRun } from '#shared/events/schedule.ts';
import type { ShardMessage } from '#shared/events/shard.ts';
import type { FleetScanPorts } from '#shared/ports.ts';
import { eligiblePages, type SkippedInstance } from './eligibility.ts';
import { FleetIndex } from './fleet-index.ts';
import { type ScanRuntime, scanInstances } from './scan.ts';
import { planShards } from './shards.ts';
import { type ScanSummary, type SkipSummary, SkipTally, summarizeScan } from './summary.ts';

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

// Shards sent per SendMessageBatch-sized step: messages are built as they are sent, never all at once.
const SHARDS_PER_SEND = 10;

/**
 * The scheduled run: streams the opted-in fleet page by page (EC2, then SSM for that page) into a compact
 * index of the eligible instances, lists the metrics once for the whole fleet (ListMetrics, page by page,
 * keeping only the eligible instances' dimension sets), then scans inline when the fleet fits one shard,
 * or plans shards as bounds over the index and sends each message as it is built. What grows with the
 * fleet is the index (about a hundred bytes an eligible instance), not the pages or the messages.
 */
export async function runFleetScan(
  run: ScheduledRun,
  settings: FleetScanSettings,
  deps: FleetScanDeps,
  signal: AbortSignal,
): Promise<FleetScanResult> {
  const index = new FleetIndex();
  const skippedTally = new SkipTally();
  for await (const page of eligiblePages(deps, settings.optIn, signal)) {
    for (const instance of page.eligible) index.addInstance(instance.instanceId, instance.ownerId);
    skippedTally.add(page.skipped as SkippedInstance[]);
  }
  const skipped = skippedTally.summary();
  if (index.size === 0) return { status: 'nothing-to-scan', runId: run.runId, skipped };

  // Opted in and running, whether SSM can reach them or not: what the remediation breaker measures a run by.
  const optedIn = index.size + skippedTally.count('not-managed') + skippedTally.count('offline');
  for (const kind of METRIC_KINDS) {
    const { namespace, metricName } = METRIC_SPECS[kind];
    for await (const page of deps.catalog.pages({ namespace, metricName }, signal))
      for (const metric of page) index.addMetric(metric);
  }
  const window: MetricWindow = metricWindow(deps.clock.now(), settings.lookbackDays);
  const metrics = index.metrics;
  const common = {
    runId: run.runId,
    eligible: index.size,
    skipped,
    ambiguousDimensionSets: index.ambiguous,
  };

  if (metrics <= settings.shardMetrics) {
    const outcome = await scanInstances(
      {
        targets: [...index.targets()],
        window,
        trigger: { type: 'schedule', runId: run.runId, scheduledAt: run.scheduledAt, optedIn },
        region: settings.region,
      },
      deps,
      signal,
    );
    return { status: 'scanned', ...common, scan: summarizeScan(outcome) };
  }

  const plan = planShards(run, window, index, settings.shardMetrics, optedIn);
  let batch: ShardMessage[] = [];
  for (const shard of plan.messages()) {
    batch.push(shard);
    if (batch.length === SHARDS_PER_SEND) {
      await deps.queue.send(batch, signal);
      batch = [];
    }
  }
  if (batch.length > 0) await deps.queue.send(batch, signal);
  return {
    status: 'queued',
    ...common,
    shards: plan.count,
    metrics,
    plannedGetMetricDataCalls: plan.metricsPerShard.reduce((sum, n) => sum + minimumCalls(n, window), 0),
    minimumGetMetricDataCalls: minimumCalls(metrics, window),
  };
}
