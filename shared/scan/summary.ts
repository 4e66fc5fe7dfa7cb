import type { FindingKind } from '#core/assessment.ts';
import type { SkippedInstance, SkipReason } from './eligibility.ts';
import { flatCopy } from './fleet-index.ts';
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
  const tally = new SkipTally();
  tally.add(skipped);
  return tally.summary();
}

/** A skip summary kept as skipped instances stream by: counts, and the first 100 only. */
export class SkipTally {
  readonly #byReason: Partial<Record<SkipReason, number>> = {};
  readonly #listed: SkippedInstance[] = [];
  #total = 0;

  add(skipped: readonly SkippedInstance[]): void {
    for (const item of skipped) {
      this.#total += 1;
      this.#byReason[item.reason] = (this.#byReason[item.reason] ?? 0) + 1;
      // Copies: an id parsed out of a response may be a slice that keeps the whole response alive.
      if (this.#listed.length < LISTED) this.#listed.push({ ...item, instanceId: flatCopy(item.instanceId) });
    }
  }

  /** Instances counted under `reason`. */
  count(reason: SkipReason): number {
    return this.#byReason[reason] ?? 0;
  }

  summary(): SkipSummary {
    return { total: this.#total, byReason: { ...this.#byReason }, instances: [...this.#listed] };
  }
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
