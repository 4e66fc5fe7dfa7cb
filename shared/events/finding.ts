import { createHash } from 'node:crypto';
import * as z from 'zod';
import { type Assessment, FINDING_KINDS, type FindingKind, isFindingKind } from '#core/assessment.ts';
import { MEMORY_UNITS, type MemoryAnalysis } from '#core/memory.ts';
import { type InstanceMetrics, METRIC_KINDS, type MetricKind, type MetricWindow } from '#core/metrics.ts';
import type { NetworkOutAnalysis } from '#core/network-out/index.ts';
import { AccountId, Dimension, InstanceId, Instant, Region, RunId, text } from './fields.ts';

/** EventBridge `source` and `detail-type` of every finding. */
export const FINDING_SOURCE = 'crawlguard';
export const FINDING_DETAIL_TYPE = 'crawlguard.finding';
export const FINDING_SCHEMA_VERSION = 1;

const HHMM = z.string().regex(/^\d{2}:\d{2}$/);
const DAY = z.string().regex(/^\d{4}-\d{2}-\d{2}$/);
const Fraction = z.number().min(0).max(1);

const NetworkEvidenceSchema = z.object({
  verdict: z.enum(['recurring-window', 'daily-burst', 'none', 'insufficient-data']),
  reason: z.string(),
  timeZone: z.string(),
  windows: z.array(
    z.object({
      start: HHMM,
      end: HHMM,
      earliestStart: HHMM,
      latestStart: HHMM,
      daysWithSpike: z.number().int(),
      daysObserved: z.number().int(),
      extraBytesPerDay: z.number(),
      typicalExcessBytesPerMin: z.number(),
      typicalDurationMinutes: z.number(),
      confidence: Fraction,
      firstSeenDay: DAY.optional(),
      lastSeenDay: DAY.optional(),
    }),
  ),
  dailyBurst: z
    .object({
      earliestStart: HHMM,
      latestStart: HHMM,
      typicalDurationMinutes: z.number(),
      typicalBytes: z.number(),
      daysWithBurst: z.number().int(),
      daysObserved: z.number().int(),
      confidence: Fraction,
      firstSeenDay: DAY.optional(),
      lastSeenDay: DAY.optional(),
    })
    .nullable(),
  daysObserved: z.number().int(),
  datapoints: z.number().int(),
  baselineBytesPerMin: z.number(),
  /** A crawl-like pattern runs now (the verdict is recurring-window or daily-burst). Added in v1.1. */
  active: z.boolean().optional(),
  /** Latest local day with a burst of any pattern found, running or stopped. */
  lastSeenDay: DAY.nullable().optional(),
  /** Patterns that ran in the period and stopped: what verification after a fix looks for. */
  pastPatterns: z
    .array(
      z.object({
        kind: z.enum(['recurring-window', 'daily-burst']),
        start: HHMM,
        latestStart: HHMM,
        end: HHMM.nullable(),
        firstSeenDay: DAY,
        lastSeenDay: DAY,
        daysWithSpike: z.number().int(),
        daysAbsent: z.number().int(),
        pStillActive: z.number(),
        extraBytesPerDay: z.number(),
      }),
    )
    .optional(),
  scheduleChange: z
    .object({ from: HHMM, to: HHMM, lastDayBefore: DAY, firstDayAfter: DAY })
    .nullable()
    .optional(),
});

const MemoryEvidenceSchema = z.object({
  verdict: z.enum(['growth', 'none', 'insufficient-data']),
  reason: z.string(),
  unit: z.enum(MEMORY_UNITS),
  /** Percentage points or bytes per day, since the last restart. */
  slopePerDay: z.number().nullable(),
  pValue: z.number().nullable(),
  segmentDays: z.number().nullable(),
  levelAtStart: z.number().nullable(),
  levelNow: z.number().nullable(),
  restarts: z.number().int(),
  daysToThreshold: z.number().nullable(),
  datapoints: z.number().int(),
  /** Transient rises or falls (a spike, a batch) set aside from the trend: not restarts. */
  excursions: z.number().int().optional(),
});

const MetricSchema = z.object({
  kind: z.enum(METRIC_KINDS),
  namespace: z.string(),
  metricName: z.string(),
  dimensions: z.array(Dimension),
});

/** What started the analysis: the scheduled scan, or an alarm going into ALARM. */
export const FindingTriggerSchema = z.discriminatedUnion('type', [
  z.object({
    type: z.literal('schedule'),
    runId: RunId,
    scheduledAt: Instant,
    /** Opted-in instances the run found (for the remediation breaker: one run may claim only a share). */
    optedIn: z.number().int().min(0).optional(),
  }),
  z.object({
    type: z.literal('alarm'),
    runId: RunId,
    alarmName: text(255),
    alarmArn: text(2048),
    stateChangedAt: Instant,
  }),
]);
export type FindingTrigger = z.output<typeof FindingTriggerSchema>;

/** `detail` of a `crawlguard.finding` event, version 1. */
export const FindingDetailSchema = z.object({
  schemaVersion: z.literal(FINDING_SCHEMA_VERSION),
  /** Same run, instance and kind → same id: consumers deduplicate on it (a retried shard republishes). */
  findingId: z.string().regex(/^[0-9a-f]{32}$/),
  kind: z.enum(FINDING_KINDS),
  instanceId: InstanceId,
  accountId: AccountId.nullable(),
  region: Region.nullable(),
  detectedAt: Instant,
  summary: z.string(),
  trigger: FindingTriggerSchema,
  window: z.object({ start: Instant, end: Instant, periodSeconds: z.number().int() }),
  evidence: z.object({
    networkOut: NetworkEvidenceSchema.nullable(),
    memUsedPercent: MemoryEvidenceSchema.nullable(),
    s3fsRss: MemoryEvidenceSchema.nullable(),
  }),
  metrics: z.array(MetricSchema),
});
export type FindingDetail = z.output<typeof FindingDetailSchema>;

/** The context a finding is published in. */
export interface FindingContext {
  readonly trigger: FindingTrigger;
  readonly window: MetricWindow;
  readonly metrics: InstanceMetrics;
  readonly accountId: string | null;
  readonly region: string | null;
  readonly detectedAt: string;
}

/** True when an assessment is worth a finding. */
export function isFinding(assessment: Assessment): assessment is Assessment & { verdict: FindingKind } {
  return isFindingKind(assessment.verdict);
}

/** Builds the detail of the finding for an assessment whose verdict is a finding kind. */
export function buildFinding(
  assessment: Assessment & { verdict: FindingKind },
  context: FindingContext,
): FindingDetail {
  return {
    schemaVersion: FINDING_SCHEMA_VERSION,
    findingId: findingId(context.trigger.runId, assessment.instanceId, assessment.verdict),
    kind: assessment.verdict,
    instanceId: assessment.instanceId,
    accountId: context.accountId,
    region: context.region,
    detectedAt: context.detectedAt,
    summary: assessment.reason,
    trigger: context.trigger,
    window: {
      start: new Date(context.window.startMs).toISOString(),
      end: new Date(context.window.endMs).toISOString(),
      periodSeconds: context.window.periodSeconds,
    },
    evidence: {
      networkOut: assessment.networkOut === null ? null : networkEvidence(assessment.networkOut),
      memUsedPercent: assessment.memUsedPercent === null ? null : memoryEvidence(assessment.memUsedPercent),
      s3fsRss: assessment.s3fsRss === null ? null : memoryEvidence(assessment.s3fsRss),
    },
    metrics: METRIC_KINDS.flatMap((kind: MetricKind) => {
      const metric = context.metrics[kind];
      return metric === undefined ? [] : [{ kind, ...metric, dimensions: [...metric.dimensions] }];
    }),
  };
}

/** Deterministic id of a finding: the first 128 bits of SHA-256 over run, instance and kind. */
export function findingId(runId: string, instanceId: string, kind: FindingKind): string {
  return createHash('sha256').update(`${runId}\n${instanceId}\n${kind}`).digest('hex').slice(0, 32);
}

function networkEvidence(analysis: NetworkOutAnalysis): z.output<typeof NetworkEvidenceSchema> {
  return {
    verdict: analysis.verdict,
    reason: analysis.reason,
    timeZone: analysis.timeZone,
    windows: analysis.windows.map((w) => ({
      start: w.start,
      end: w.end,
      earliestStart: w.earliestStart,
      latestStart: w.latestStart,
      daysWithSpike: w.daysWithSpike,
      daysObserved: w.daysObserved,
      extraBytesPerDay: w.extraBytesPerDay,
      typicalExcessBytesPerMin: w.typicalExcessBytesPerMin,
      typicalDurationMinutes: w.typicalDurationMinutes,
      confidence: w.confidence,
      firstSeenDay: w.firstSeenDay,
      lastSeenDay: w.lastSeenDay,
    })),
    dailyBurst:
      analysis.dailyBurst === null
        ? null
        : {
            earliestStart: analysis.dailyBurst.earliestStart,
            latestStart: analysis.dailyBurst.latestStart,
            typicalDurationMinutes: analysis.dailyBurst.typicalDurationMinutes,
            typicalBytes: analysis.dailyBurst.typicalBytes,
            daysWithBurst: analysis.dailyBurst.daysWithBurst,
            daysObserved: analysis.dailyBurst.daysObserved,
            confidence: analysis.dailyBurst.confidence,
            firstSeenDay: analysis.dailyBurst.firstSeenDay,
            lastSeenDay: analysis.dailyBurst.lastSeenDay,
          },
    daysObserved: analysis.evidence.daysObserved,
    datapoints: analysis.evidence.datapoints,
    baselineBytesPerMin: analysis.evidence.baselineBytesPerMin,
    active: analysis.active,
    lastSeenDay: analysis.lastSeenDay,
    pastPatterns: analysis.pastPatterns.map((pattern) => ({
      kind: pattern.kind,
      start: pattern.start,
      latestStart: pattern.latestStart,
      end: pattern.end,
      firstSeenDay: pattern.firstSeenDay,
      lastSeenDay: pattern.lastSeenDay,
      daysWithSpike: pattern.daysWithSpike,
      daysAbsent: pattern.daysAbsent,
      pStillActive: pattern.pStillActive,
      extraBytesPerDay: pattern.extraBytesPerDay,
    })),
    scheduleChange: analysis.scheduleChange,
  };
}

function memoryEvidence(analysis: MemoryAnalysis): z.output<typeof MemoryEvidenceSchema> {
  return {
    verdict: analysis.verdict,
    reason: analysis.reason,
    unit: analysis.unit,
    slopePerDay: finiteOrNull(analysis.slopePerDay),
    pValue: finiteOrNull(analysis.significance?.pValue ?? null),
    segmentDays: finiteOrNull(analysis.segment?.days ?? null),
    levelAtStart: finiteOrNull(analysis.segment?.levelAtStart ?? null),
    levelNow: finiteOrNull(analysis.segment?.levelNow ?? null),
    restarts: analysis.restarts.length,
    daysToThreshold: finiteOrNull(analysis.projection?.daysToThreshold ?? null),
    datapoints: analysis.evidence.datapoints,
    excursions: analysis.evidence.excursions,
  };
}

// JSON has no NaN or Infinity: an event carrying one would arrive as null anyway.
function finiteOrNull(value: number | null): number | null {
  return value !== null && Number.isFinite(value) ? value : null;
}
