import {
  ASSESSMENT_VERDICTS,
  type Assessment,
  type AssessmentVerdict,
  assessInstance,
  type InstanceSeries,
} from '#core/assessment.ts';
import {
  type InstanceMetrics,
  type MetricKind,
  type MetricWindow,
  minimumCalls,
  planBatches,
  type QueryBatch,
} from '#core/metrics.ts';
import type { NetworkOutOptions } from '#core/network-out/index.ts';
import type { Clock } from '#shared/clock.ts';
import { buildFinding, type FindingDetail, type FindingTrigger, isFinding } from '#shared/events/finding.ts';
import type { Deadline, InstanceScanPorts } from '#shared/ports.ts';
import { DeadlineError } from './errors.ts';
import { forEachConcurrently } from './pool.ts';

/** An eligible instance and the metrics discovered for it. */
export interface ScanTarget {
  readonly instanceId: string;
  readonly ownerId: string | null;
  readonly metrics: InstanceMetrics;
}

export interface ScanInput {
  readonly targets: readonly ScanTarget[];
  readonly window: MetricWindow;
  readonly trigger: FindingTrigger;
  readonly region: string | null;
  readonly network?: NetworkOutOptions;
}

/** How a scan runs: on which clock, against which deadline, with how much in flight. */
export interface ScanRuntime {
  readonly clock: Clock;
  readonly deadline: Deadline;
  /** GetMetricData requests in flight at once (the pacer still spaces them). */
  readonly concurrency: number;
  /** Time kept back for publishing and returning; no new request starts with less left. */
  readonly reserveMs: number;
}

export type ScanDeps = InstanceScanPorts & ScanRuntime;

/** One instance's verdict, as a scan reports it. */
export interface InstanceVerdict {
  readonly instanceId: string;
  readonly verdict: AssessmentVerdict;
  readonly reason: string;
  readonly findingId: string | null;
}

export interface ScanOutcome {
  readonly instances: number;
  readonly metrics: number;
  readonly getMetricDataBatches: number;
  readonly minimumBatches: number;
  /** Metrics CloudWatch answered with InternalError or Forbidden (their instance was judged without them). */
  readonly failedMetrics: number;
  readonly verdicts: Readonly<Record<AssessmentVerdict, number>>;
  readonly findings: readonly FindingDetail[];
  readonly instanceVerdicts: readonly InstanceVerdict[];
}

/**
 * Fetches every metric of `targets` in packed GetMetricData calls, runs the detectors on each instance
 * as soon as its last metric arrives (its series are dropped right after, so memory stays flat), then
 * publishes the findings in one go. Stops before the deadline without publishing anything.
 * @throws DeadlineError, and whatever the adapters throw (throttling past the retry bound, ...).
 */
export async function scanInstances(
  input: ScanInput,
  deps: ScanDeps,
  signal: AbortSignal,
): Promise<ScanOutcome> {
  const { window } = input;
  const batches = planBatches(
    input.targets.map((target) => [target.instanceId, target.metrics] as const),
    window,
  );
  const byId = new Map(input.targets.map((target) => [target.instanceId, target]));
  const pending = new Map<string, number>();
  const collected = new Map<string, InstanceSeries>();
  for (const batch of batches) {
    for (const query of batch.queries)
      pending.set(query.instanceId, (pending.get(query.instanceId) ?? 0) + 1);
  }
  const verdicts = emptyVerdicts();
  const findings: FindingDetail[] = [];
  const instanceVerdicts: InstanceVerdict[] = [];
  let failedMetrics = 0;
  let metricCount = 0;
  const detectedAt = new Date(deps.clock.now()).toISOString();

  const conclude = (target: ScanTarget, series: InstanceSeries): void => {
    const assessment: Assessment = assessInstance(target.instanceId, series, {
      network: input.network ?? {},
    });
    verdicts[assessment.verdict] += 1;
    let findingId: string | null = null;
    if (isFinding(assessment)) {
      const finding = buildFinding(assessment, {
        trigger: input.trigger,
        window,
        metrics: target.metrics,
        accountId: target.ownerId,
        region: input.region,
        detectedAt,
      });
      findings.push(finding);
      findingId = finding.findingId;
    }
    instanceVerdicts.push({
      instanceId: target.instanceId,
      verdict: assessment.verdict,
      reason: assessment.reason,
      findingId,
    });
  };

  // Instances without a single metric are judged at once: there is nothing to wait for.
  for (const target of input.targets) if (!pending.has(target.instanceId)) conclude(target, {});

  let done = 0;
  await forEachConcurrently(batches, deps.concurrency, async (batch: QueryBatch) => {
    const left = deps.deadline.remainingMs();
    if (left < deps.reserveMs) {
      throw new DeadlineError(
        `stopped with ${Math.round(left / 1000)} s left before the Lambda deadline, after ${done} of ` +
          `${batches.length} GetMetricData batches; nothing was published`,
      );
    }
    const result = await deps.metrics.fetch(batch, window, signal);
    done += 1;
    for (const query of batch.queries) {
      metricCount += 1;
      const series = result.series.get(query.id);
      if (series === undefined) failedMetrics += 1;
      const instanceSeries = collected.get(query.instanceId) ?? {};
      if (series !== undefined) instanceSeries[query.kind as MetricKind] = series;
      const remaining = (pending.get(query.instanceId) ?? 1) - 1;
      if (remaining > 0) {
        collected.set(query.instanceId, instanceSeries);
        pending.set(query.instanceId, remaining);
        continue;
      }
      collected.delete(query.instanceId);
      pending.delete(query.instanceId);
      const target = byId.get(query.instanceId);
      if (target !== undefined) conclude(target, instanceSeries);
    }
  });

  if (findings.length > 0) {
    const left = deps.deadline.remainingMs();
    if (left < deps.reserveMs / 2) {
      throw new DeadlineError(
        `${findings.length} finding(s) ready but only ${Math.round(left / 1000)} s left; nothing was published`,
      );
    }
    await deps.publisher.publish(findings, signal);
  }
  return {
    instances: input.targets.length,
    metrics: metricCount,
    getMetricDataBatches: batches.length,
    minimumBatches: minimumCalls(metricCount, window),
    failedMetrics,
    verdicts,
    findings,
    instanceVerdicts,
  };
}

function emptyVerdicts(): Record<AssessmentVerdict, number> {
  return Object.fromEntries(ASSESSMENT_VERDICTS.map((verdict) => [verdict, 0])) as Record<
    AssessmentVerdict,
    number
  >;
}
