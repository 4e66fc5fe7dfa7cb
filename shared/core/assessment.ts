import { formatBytes } from './format.ts';
import { analyzeMemory, type MemoryAnalysis } from './memory.ts';
import { METRIC_KINDS, type MetricKind } from './metrics.ts';
import { analyzeNetworkOut, type NetworkOutAnalysis, type NetworkOutOptions } from './network-out/index.ts';
import type { MetricSeries } from './series.ts';

/** What a finding says about an instance. */
export const FINDING_KINDS = ['updatedb-crawl', 'daily-network-burst', 'memory-growth'] as const;
export type FindingKind = (typeof FINDING_KINDS)[number];

/** A finding kind, or why there is none. */
export const ASSESSMENT_VERDICTS = [...FINDING_KINDS, 'healthy', 'insufficient-data'] as const;
export type AssessmentVerdict = (typeof ASSESSMENT_VERDICTS)[number];

/** True when a verdict is worth a finding. */
export function isFindingKind(verdict: AssessmentVerdict): verdict is FindingKind {
  return (FINDING_KINDS as readonly string[]).includes(verdict);
}

/** The series fetched for one instance; a kind is absent when the instance does not publish it. */
export type InstanceSeries = Partial<Record<MetricKind, MetricSeries>>;

export interface AssessmentOptions {
  /** Passed to the NetworkOut detector (time zone in which windows are reported, thresholds). */
  readonly network?: NetworkOutOptions;
}

/** The detectors' verdicts on one instance and what they add up to. */
export interface Assessment {
  readonly instanceId: string;
  readonly verdict: AssessmentVerdict;
  /** One sentence with the numbers behind the verdict. */
  readonly reason: string;
  readonly networkOut: NetworkOutAnalysis | null;
  readonly memUsedPercent: MemoryAnalysis | null;
  readonly s3fsRss: MemoryAnalysis | null;
  /** Kinds for which the instance had no series. */
  readonly missing: readonly MetricKind[];
}

/**
 * Runs the detectors on one instance. A daily NetworkOut burst together with memory growth (s3fs RSS, or
 * mem_used_percent when procstat is not collected) is the updatedb crawl; either alone is still worth a
 * finding of its own kind. Pure.
 * @throws InvalidSeriesError, InvalidOptionError from the detectors.
 */
export function assessInstance(
  instanceId: string,
  series: InstanceSeries,
  options: AssessmentOptions = {},
): Assessment {
  const network = series['network-out'];
  const memory = series['mem-used-percent'];
  const rss = series['s3fs-rss'];
  const networkOut = network === undefined ? null : analyzeNetworkOut(network, options.network);
  const memUsedPercent = memory === undefined ? null : analyzeMemory(memory, { unit: 'percent' });
  const s3fsRss = rss === undefined ? null : analyzeMemory(rss, { unit: 'bytes' });
  const missing = METRIC_KINDS.filter((kind) => series[kind] === undefined);

  const burst =
    networkOut !== null &&
    (networkOut.verdict === 'recurring-window' || networkOut.verdict === 'daily-burst');
  const growth =
    s3fsRss?.verdict === 'growth' ? s3fsRss : memUsedPercent?.verdict === 'growth' ? memUsedPercent : null;
  const growthText =
    growth === null ? '' : describeGrowth(growth, growth === s3fsRss ? 's3fs RSS' : 'mem_used_percent');
  const base = { instanceId, networkOut, memUsedPercent, s3fsRss, missing };

  if (burst && growth !== null) {
    return { ...base, verdict: 'updatedb-crawl', reason: `${networkOut.reason}; ${growthText}` };
  }
  if (burst) {
    return {
      ...base,
      verdict: 'daily-network-burst',
      reason: `${networkOut.reason}; no memory growth (${memoryNote(memUsedPercent, s3fsRss)})`,
    };
  }
  if (growth !== null)
    return { ...base, verdict: 'memory-growth', reason: `${growthText}; no daily NetworkOut burst` };
  if (networkOut === null || networkOut.verdict === 'insufficient-data') {
    return {
      ...base,
      verdict: 'insufficient-data',
      reason: networkOut === null ? 'no NetworkOut series' : `NetworkOut: ${networkOut.reason}`,
    };
  }
  return {
    ...base,
    verdict: 'healthy',
    reason: `NetworkOut: ${networkOut.reason}; ${memoryNote(memUsedPercent, s3fsRss)}`,
  };
}

function describeGrowth(analysis: MemoryAnalysis, label: string): string {
  const slope = analysis.slopePerDay ?? 0;
  const perDay = analysis.unit === 'bytes' ? `${formatBytes(slope)}/day` : `${slope.toFixed(2)} points/day`;
  const days = analysis.segment === null ? '' : ` over ${analysis.segment.days.toFixed(1)} days`;
  return `${label} grows ${perDay}${days}`;
}

function memoryNote(memory: MemoryAnalysis | null, rss: MemoryAnalysis | null): string {
  const parts = [
    memory === null ? 'mem_used_percent not published' : `mem_used_percent ${memory.verdict}`,
    rss === null ? 's3fs RSS not published' : `s3fs RSS ${rss.verdict}`,
  ];
  return parts.join(', ');
}
