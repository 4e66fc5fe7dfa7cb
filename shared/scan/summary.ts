import type { FindingKind } from '#core/assessment.ts';
import type { SkippedInstance, SkipReason } from './eligibility.ts';
import type { ScanOutcome } from './scan.ts';

// Results stay small enough to print and to log, whatever the fleet size.
const LISTED = 100;

export interface SkipSummary {
  readonly total: number;
  readonly byReason: Readonly<Partial<Record<SkipReason, number>>>;
  /** The first 100, with why. */
  readonly instances: readonly SkippedInstance[];
}

/** A scan's outcome with each finding cut down to what identifies it. */
export interface ScanSummary extends Omit<ScanOutcome, 'findings' | 'instanceVerdicts'> {
  readonly findings: readonly {
    readonly findingId: string;
    readonly instanceId: string;
    readonly kind: FindingKind;
    readonly summary: string;
  }[];
}

export function summarizeSkipped(skipped: readonly SkippedInstance[]): SkipSummary {
  const byReason: Partial<Record<SkipReason, number>> = {};
  for (const item of skipped) byReason[item.reason] = (byReason[item.reason] ?? 0) + 1;
  return { total: skipped.length, byReason, instances: skipped.slice(0, LISTED) };
}

export function summarizeScan(outcome: ScanOutcome): ScanSummary {
  return {
    instances: outcome.instances,
    metrics: outcome.metrics,
    getMetricDataBatches: outcome.getMetricDataBatches,
    minimumBatches: outcome.minimumBatches,
    failedMetrics: outcome.failedMetrics,
    verdicts: outcome.verdicts,
    findings: outcome.findings.slice(0, LISTED).map((f) => ({
      findingId: f.findingId,
      instanceId: f.instanceId,
      kind: f.kind,
      summary: f.summary,
    })),
  };
}
