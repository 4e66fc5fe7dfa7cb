/**
 * Builds the report model from what crawlguard already produces: assessments (with the NetworkOut
 * profile), memory analyses and their series, policy decisions, command results, verification and
 * savings. Pure: no clock (the caller gives `generatedAt`), no files.
 */
import { type Assessment, FINDING_KINDS, isFindingKind } from '#core/assessment.ts';
import { formatBytes } from '#core/format.ts';
import type { MemoryAnalysis } from '#core/memory.ts';
import type { NetworkOutAnalysis, NetworkOutProfile, RecurringWindow } from '#core/network-out/index.ts';
import type { CommandResult, CommandStep } from '#core/remediation/command.ts';
import type { Diagnosis, RemediationPlan } from '#core/remediation/plan.ts';
import type { Decision } from '#core/remediation/policy.ts';
import { type DataPath, type Savings, savingsOf } from '#core/remediation/savings.ts';
import type { EpisodeOutcome, RemediationMode } from '#core/remediation/types.ts';
import type { MemoryVerification, NetworkVerification, Verdict } from '#core/remediation/verify.ts';
import { cleanSeries, type MetricSeries } from '#core/series.ts';
import { formatDay, MS_PER_DAY } from '#core/time-zone.ts';
import {
  type CommandReport,
  type DecisionReport,
  type DiagnosisReport,
  type FleetSummary,
  type Heatmap,
  type InstanceReport,
  type MemoryReport,
  type NetworkOutReport,
  REPORT_SCHEMA_VERSION,
  type ReportModel,
  type SavingsReport,
  type SavingsTotal,
  type VerificationReport,
  type WindowMark,
} from './model.ts';

const HOUR_MS = 3_600_000;
const DAYS_PER_MONTH = 30;

/** 'HH:MM' → minute of the day. */
function minuteOf(clock: string): number {
  const [hh, mm] = clock.split(':').map(Number);
  return ((hh ?? 0) * 60 + (mm ?? 0)) % 1440;
}

/** The span of the day a recurring window covers: from its start to the time its bursts had ended. */
function windowMark(window: RecurringWindow): WindowMark {
  return {
    kind: 'recurring-window',
    startMinute: minuteOf(window.start),
    endMinute: minuteOf(window.end),
    label:
      `${window.start}–${window.end}: ${window.daysWithSpike}/${window.daysObserved} days, ` +
      `${formatBytes(window.extraBytesPerDay)}/day over baseline, ~${window.typicalDurationMinutes} min`,
    bytesPerDay: window.extraBytesPerDay,
  };
}

/** The day × time-of-day grid of a NetworkOut profile, NaN as null, rounded to whole bytes per minute. */
export function heatmapOf(profile: NetworkOutProfile): Heatmap {
  const firstDay = Date.parse(`${profile.firstDay}T00:00:00Z`) / MS_PER_DAY;
  return {
    binMinutes: profile.binMinutes,
    slotsPerDay: profile.slotsPerDay,
    rows: profile.validDays.map((valid, d) => ({
      day: formatDay(firstDay + d),
      valid,
      excessBytesPerMin: Array.from(
        profile.excessBytesPerMin.subarray(d * profile.slotsPerDay, (d + 1) * profile.slotsPerDay),
        (value) => (Number.isFinite(value) ? Math.round(value) : null),
      ),
    })),
  };
}

/**
 * The NetworkOut section of an instance. `profile` is the grid to draw (by default the analysis' own,
 * present when it ran with `includeProfile`; null: no picture); pass the profile of a longer series to
 * show the days after a fix, while the windows stay those of the detection.
 */
export function networkOutReport(
  analysis: NetworkOutAnalysis,
  profile: NetworkOutProfile | null = analysis.profile ?? null,
): NetworkOutReport {
  const burst = analysis.dailyBurst;
  const windows: WindowMark[] = analysis.windows.map(windowMark);
  if (analysis.verdict === 'daily-burst' && burst !== null) {
    windows.push({
      kind: 'daily-burst',
      startMinute: minuteOf(burst.earliestStart),
      endMinute: (minuteOf(burst.latestStart) + Math.round(burst.typicalDurationMinutes)) % 1440,
      label:
        `starts ${burst.earliestStart}–${burst.latestStart}: ${burst.daysWithBurst}/${burst.daysObserved} days, ` +
        `${formatBytes(burst.typicalBytes)} a day, ~${burst.typicalDurationMinutes} min`,
      bytesPerDay: burst.typicalBytes,
    });
  }
  return {
    verdict: analysis.verdict,
    reason: analysis.reason,
    timeZone: analysis.timeZone,
    windows,
    baselineBytesPerMin: analysis.evidence.baselineBytesPerMin,
    heatmap: profile === null ? null : heatmapOf(profile),
  };
}

/** The memory section: hourly means of the series, the fitted trend of the judged segment, the projection. */
export function memoryReport(
  metric: MemoryReport['metric'],
  analysis: MemoryAnalysis,
  series: MetricSeries,
): MemoryReport {
  const clean = cleanSeries(series);
  const points: [number, number][] = [];
  let hour = Number.NaN;
  let sum = 0;
  let count = 0;
  const flush = () => {
    if (count > 0) points.push([hour * HOUR_MS, round4(sum / count)]);
  };
  for (let i = 0; i < clean.timestamps.length; i += 1) {
    const h = Math.floor((clean.timestamps[i] as number) / HOUR_MS);
    if (h !== hour) {
      flush();
      hour = h;
      sum = 0;
      count = 0;
    }
    sum += clean.values[i] as number;
    count += 1;
  }
  flush();
  const segment = analysis.segment;
  return {
    metric,
    unit: analysis.unit,
    verdict: analysis.verdict,
    reason: analysis.reason,
    slopePerDay: finiteOrNull(analysis.slopePerDay),
    pValue: finiteOrNull(analysis.significance?.pValue ?? null),
    points,
    trend:
      segment === null || analysis.slopePerDay === null
        ? null
        : { start: segment.start, end: segment.end, from: segment.levelAtStart, to: segment.levelNow },
    projection:
      analysis.projection === null || !Number.isFinite(analysis.projection.daysToThreshold)
        ? null
        : { ...analysis.projection },
    restarts: analysis.restarts.map((restart) => ({ ...restart })),
  };
}

/** What fixing the detected crawl would save: every window's bytes a day down to nothing. */
export function estimatedSavings(network: NetworkOutReport, dataPath: DataPath): SavingsReport | null {
  const bytesPerDay = network.windows.reduce((total, window) => total + window.bytesPerDay, 0);
  if (bytesPerDay <= 0) return null;
  return { basis: 'estimated', dataPath, ...savingsOf(bytesPerDay, 0, dataPath) };
}

/** What a fix saved, from verification's bytes a day before and after. */
export function measuredSavings(
  verification: Pick<NetworkVerification, 'beforeBytesPerDay' | 'afterBytesPerDay'>,
  dataPath: DataPath,
): SavingsReport | null {
  if (verification.beforeBytesPerDay === null || verification.afterBytesPerDay === null) return null;
  const savings: Savings = savingsOf(verification.beforeBytesPerDay, verification.afterBytesPerDay, dataPath);
  return { basis: 'measured', dataPath, ...savings };
}

export interface InstanceReportOptions {
  readonly name?: string | null;
  readonly tags?: readonly { readonly key: string; readonly value: string }[];
  readonly notes?: readonly string[];
  /** How the instance reaches S3, for the money figures. */
  readonly dataPath: DataPath;
}

/**
 * The detection part of an instance's section, from its assessment (run with `includeProfile`) and the
 * series it was made from. Pictures (heatmap, memory points) only for flagged instances: the others are a
 * line in a table. The remediation fields are null: the pipeline sets them.
 */
export function instanceReport(
  assessment: Assessment,
  series: { readonly 'mem-used-percent'?: MetricSeries; readonly 's3fs-rss'?: MetricSeries },
  options: InstanceReportOptions,
): InstanceReport {
  const flagged = isFindingKind(assessment.verdict);
  const network =
    assessment.networkOut === null
      ? null
      : networkOutReport(assessment.networkOut, flagged ? (assessment.networkOut.profile ?? null) : null);
  const memory: MemoryReport[] = [];
  for (const [metric, analysis] of [
    ['mem-used-percent', assessment.memUsedPercent],
    ['s3fs-rss', assessment.s3fsRss],
  ] as const) {
    const data = series[metric];
    if (analysis === null || data === undefined) continue;
    const report = memoryReport(metric, analysis, data);
    memory.push(flagged ? report : { ...report, points: [] });
  }
  return {
    instanceId: assessment.instanceId,
    name: options.name ?? null,
    tags: options.tags ?? [],
    verdict: assessment.verdict,
    flagged,
    reason: assessment.reason,
    missing: assessment.missing,
    notes: options.notes ?? [],
    networkOut: network,
    memory,
    diagnosis: null,
    decision: null,
    commands: [],
    fix: null,
    verification: null,
    savings: flagged && network !== null ? estimatedSavings(network, options.dataPath) : null,
  };
}

/** What diagnose reported and the plan made from it. */
export function diagnosisReport(diagnosis: Diagnosis, plan: RemediationPlan | null): DiagnosisReport {
  const schedule = diagnosis.schedule;
  const timer = schedule.systemdTimer;
  const details = [
    schedule.crontabDailyTime ? `cron.daily at ${schedule.crontabDailyTime}` : null,
    timer?.onCalendar
      ? `systemd timer ${timer.onCalendar}${timer.randomizedDelaySec ? ` (random delay ${timer.randomizedDelaySec})` : ''}`
      : null,
    schedule.anacron?.randomDelay != null ? `anacron random delay ${schedule.anacron.randomDelay}` : null,
  ].filter((part): part is string => part !== null);
  const effective = schedule.effective ?? null;
  return {
    implementation: diagnosis.locate.implementation,
    schedule:
      effective === null && details.length === 0
        ? null
        : [effective, ...details].filter((part) => part !== null).join('; '),
    mounts: diagnosis.mounts.map((mount) => ({
      mountPoint: mount.mountPoint,
      type: mount.type,
      crawled: mount.crawled,
      reason: mount.crawlReason ?? null,
    })),
    plan:
      plan === null
        ? null
        : {
            action: plan.action,
            reason: plan.reason,
            pruneFsTypes: plan.pruneFsTypes,
            prunePaths: plan.prunePaths,
            restartMounts: plan.restartMounts,
          },
  };
}

/** The policy's decision and, once the episode closed, how it ended. */
export function decisionReport(
  decision: Decision,
  mode: RemediationMode,
  outcome: { readonly outcome: EpisodeOutcome; readonly reason: string } | null = null,
): DecisionReport {
  return {
    mode,
    action: decision.action,
    rule: decision.rule,
    code: 'code' in decision ? decision.code : null,
    reason: decision.reason,
    outcome: outcome?.outcome ?? null,
    outcomeReason: outcome?.reason ?? null,
  };
}

/** One command: its result when it was sent, or what would have been sent. */
export function commandReport(input: {
  readonly step: CommandStep;
  readonly document: string;
  readonly parameters: Readonly<Record<string, readonly string[]>>;
  readonly result: CommandResult | null;
  readonly at?: string | null;
}): CommandReport {
  const mode = input.parameters.Mode?.[0];
  return {
    step: input.step,
    document: input.document,
    mode: mode === 'check' || mode === 'apply' ? mode : null,
    parameters: input.parameters,
    sent: input.result !== null,
    outcome: input.result?.outcome ?? null,
    reason: input.result?.reason ?? 'not sent: a dry run withholds it',
    at: input.at ?? null,
  };
}

/** Verification's verdicts, combined as `combineVerdicts` does. */
export function verificationReport(
  verdict: Verdict,
  reason: string,
  network: NetworkVerification | null,
  memory: MemoryVerification | null,
  at: string | null = null,
): VerificationReport {
  return {
    verdict,
    reason,
    at,
    network:
      network === null
        ? null
        : {
            verdict: network.verdict,
            reason: network.reason,
            beforeBytesPerDay: network.beforeBytesPerDay,
            afterBytesPerDay: network.afterBytesPerDay,
          },
    memory:
      memory === null
        ? null
        : { verdict: memory.verdict, reason: memory.reason, before: memory.before, after: memory.after },
  };
}

/** The fleet figures from the instances' sections. */
export function summarizeFleet(
  instances: readonly InstanceReport[],
  notScanned: FleetSummary['notScanned'] = [],
): FleetSummary {
  const flagged = instances.filter((instance) => instance.flagged);
  const verdicts: Record<Verdict, number> = { resolved: 0, 'not-resolved': 0, inconclusive: 0 };
  let sent = 0;
  let wouldSend = 0;
  for (const instance of instances) {
    if (instance.verification !== null) verdicts[instance.verification.verdict] += 1;
    for (const command of instance.commands) {
      if (command.sent) sent += 1;
      else wouldSend += 1;
    }
  }
  return {
    scanned: instances.length,
    flagged: flagged.length,
    byKind: FINDING_KINDS.map((kind) => ({
      kind,
      count: flagged.filter((instance) => instance.verdict === kind).length,
    })).filter((entry) => entry.count > 0),
    notScanned,
    commands: { sent, wouldSend },
    verdicts,
    savings: savingsTotal(
      instances.flatMap((instance) => (instance.savings === null ? [] : [instance.savings])),
    ),
  };
}

function savingsTotal(savings: readonly SavingsReport[]): SavingsTotal {
  const bases = new Set(savings.map((entry) => entry.basis));
  let bytesPerDay = 0;
  let requestsPerDay = 0;
  let usd = 0;
  for (const entry of savings) {
    bytesPerDay += Math.max(0, entry.before.bytesPerDay - entry.after.bytesPerDay);
    requestsPerDay += Math.max(0, entry.before.requestsPerDay - entry.after.requestsPerDay);
    usd += entry.savedUsdPerMonth;
  }
  return {
    basis: bases.size === 0 ? 'none' : bases.size > 1 ? 'mixed' : (savings[0] as SavingsReport).basis,
    instances: savings.length,
    bytesPerMonth: bytesPerDay * DAYS_PER_MONTH,
    requestsPerMonth: requestsPerDay * DAYS_PER_MONTH,
    usdPerMonth: Math.round(usd * 100) / 100,
  };
}

/** The whole model: flagged instances first (in the order given), then the rest; the fleet summary on top. */
export function buildReport(input: {
  readonly title?: string;
  readonly generatedAt: string;
  readonly source: string;
  readonly instances: readonly InstanceReport[];
  readonly notScanned?: FleetSummary['notScanned'];
}): ReportModel {
  const instances = [
    ...input.instances.filter((instance) => instance.flagged),
    ...input.instances.filter((instance) => !instance.flagged),
  ];
  return {
    schemaVersion: REPORT_SCHEMA_VERSION,
    title: input.title ?? 'crawlguard report',
    generatedAt: input.generatedAt,
    source: input.source,
    fleet: summarizeFleet(instances, input.notScanned ?? []),
    instances,
  };
}

function finiteOrNull(value: number | null): number | null {
  return value !== null && Number.isFinite(value) ? value : null;
}

function round4(value: number): number {
  return Math.round(value * 1e4) / 1e4;
}
