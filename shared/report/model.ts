/**
 * What the HTML report shows, as plain data: every field is JSON (no typed arrays, no NaN, no Date), so the
 * model can be written next to the report and read back. Built by `build.ts` from what the detectors, the
 * policy, the workflow and verification produce; rendered by `render.ts`. Text fields hold raw strings
 * from instances, tags and the input: the renderer escapes them, nothing before it needs to.
 */
import type { AssessmentVerdict, FindingKind } from '#core/assessment.ts';
import type { MetricKind } from '#core/metrics.ts';
import type { NetworkOutVerdict } from '#core/network-out/index.ts';
import type { CommandOutcome, CommandStep } from '#core/remediation/command.ts';
import type { Decision } from '#core/remediation/policy.ts';
import type { CrawlCost, DataPath } from '#core/remediation/savings.ts';
import type { EpisodeOutcome, RemediationMode } from '#core/remediation/types.ts';
import type { Verdict } from '#core/remediation/verify.ts';

export const REPORT_SCHEMA_VERSION = 1;

export interface ReportModel {
  readonly schemaVersion: typeof REPORT_SCHEMA_VERSION;
  readonly title: string;
  /** ISO instant the report was made (given by the caller: rendering reads no clock). */
  readonly generatedAt: string;
  /** Where the data came from, one line: the files read, or the simulated fleet and its seed. */
  readonly source: string;
  readonly fleet: FleetSummary;
  /** Flagged instances first, each with its sections; the rest in a table. */
  readonly instances: readonly InstanceReport[];
}

/** The figures on top of the report (see `summarizeFleet`). */
export interface FleetSummary {
  /** Instances whose metrics were analysed. */
  readonly scanned: number;
  /** Instances with a finding. */
  readonly flagged: number;
  readonly byKind: readonly { readonly kind: FindingKind; readonly count: number }[];
  /** Instances left out before analysis, and why (not opted in, not managed by SSM, ...). */
  readonly notScanned: readonly { readonly instanceId: string; readonly reason: string }[];
  readonly commands: {
    /** Commands that reached SSM (check or apply mode). */
    readonly sent: number;
    /** Commands a dry run withheld or a remediation would have sent. */
    readonly wouldSend: number;
  };
  readonly verdicts: Readonly<Record<Verdict, number>>;
  readonly savings: SavingsTotal;
}

export interface SavingsTotal {
  /** 'measured': from verification; 'estimated': from the detected crawl (nothing fixed yet); 'none'. */
  readonly basis: 'measured' | 'estimated' | 'mixed' | 'none';
  readonly instances: number;
  /** Per 30-day month. */
  readonly bytesPerMonth: number;
  readonly requestsPerMonth: number;
  readonly usdPerMonth: number;
}

export interface InstanceReport {
  /** The EC2 instance id, or the metrics label when the input names no instance. */
  readonly instanceId: string;
  /** The `Name` tag, when known. */
  readonly name: string | null;
  readonly tags: readonly { readonly key: string; readonly value: string }[];
  /** The assessment: a finding kind when flagged. */
  readonly verdict: AssessmentVerdict;
  readonly flagged: boolean;
  /** One sentence with the numbers behind the verdict. */
  readonly reason: string;
  /** Metric kinds the instance did not publish. */
  readonly missing: readonly MetricKind[];
  /** What the input left out or said about the data (dropped datapoints, PartialData), one line each. */
  readonly notes: readonly string[];
  readonly networkOut: NetworkOutReport | null;
  readonly memory: readonly MemoryReport[];
  readonly diagnosis: DiagnosisReport | null;
  readonly decision: DecisionReport | null;
  readonly commands: readonly CommandReport[];
  /** When the fix landed (ISO instants): marked on the heatmap (patch) and the memory chart (restart). */
  readonly fix: { readonly patchedAt: string | null; readonly restartedAt: string | null } | null;
  readonly verification: VerificationReport | null;
  readonly savings: SavingsReport | null;
}

export interface NetworkOutReport {
  readonly verdict: NetworkOutVerdict;
  readonly reason: string;
  /** IANA zone of the heatmap's days and of every time of day below. */
  readonly timeZone: string;
  /** The detected windows (cron) or the daily burst's span (systemd timer), as minutes of the day. */
  readonly windows: readonly WindowMark[];
  readonly baselineBytesPerMin: number;
  readonly heatmap: Heatmap | null;
}

/** Where the crawl happens in the day: a span of the heatmap's time-of-day axis (may cross midnight). */
export interface WindowMark {
  readonly kind: 'recurring-window' | 'daily-burst';
  /** Minute of the day the span starts, 0..1439. */
  readonly startMinute: number;
  /** Minute of the day it ends, 0..1439; smaller than `startMinute` when it crosses midnight. */
  readonly endMinute: number;
  /** The detector's figures, one line ('06:25–07:10, 14/14 days, 250 MB/day'). */
  readonly label: string;
  /** Bytes over baseline a day the crawl carries. */
  readonly bytesPerDay: number;
}

/** NetworkOut over baseline, day × time of day, in the report's zone. */
export interface Heatmap {
  readonly binMinutes: number;
  readonly slotsPerDay: number;
  /** One row a local day, oldest first; `excessBytesPerMin[slot]` is null where there was no data. */
  readonly rows: readonly {
    readonly day: string;
    /** False for days with too little data to judge (drawn, marked). */
    readonly valid: boolean;
    readonly excessBytesPerMin: readonly (number | null)[];
  }[];
}

export interface MemoryReport {
  readonly metric: Extract<MetricKind, 'mem-used-percent' | 's3fs-rss'>;
  readonly unit: 'percent' | 'bytes';
  readonly verdict: 'growth' | 'none' | 'insufficient-data';
  readonly reason: string;
  /** Percentage points or bytes per day. */
  readonly slopePerDay: number | null;
  readonly pValue: number | null;
  /** Hourly means: [epoch ms, value]. */
  readonly points: readonly (readonly [number, number])[];
  /** The fitted trend over the judged segment (since the last restart). */
  readonly trend: {
    readonly start: string;
    readonly end: string;
    readonly from: number;
    readonly to: number;
  } | null;
  /** When the trend reaches the threshold. */
  readonly projection: {
    readonly threshold: number;
    readonly reachesAt: string;
    readonly daysToThreshold: number;
  } | null;
  readonly restarts: readonly { readonly at: string; readonly from: number; readonly to: number }[];
}

export interface DiagnosisReport {
  /** mlocate, plocate, ... */
  readonly implementation: string | null;
  /** How updatedb is scheduled (cron.daily at 06:25, a systemd timer with its delay, ...). */
  readonly schedule: string | null;
  readonly mounts: readonly {
    readonly mountPoint: string;
    readonly type: string;
    readonly crawled: boolean | null;
    readonly reason: string | null;
  }[];
  readonly plan: {
    readonly action: 'patch' | 'not-updatedb' | 'escalate';
    readonly reason: string;
    readonly pruneFsTypes: readonly string[];
    readonly prunePaths: readonly string[];
    readonly restartMounts: readonly string[];
  } | null;
}

export interface DecisionReport {
  readonly mode: RemediationMode;
  readonly action: Decision['action'];
  /** The policy rule that decided. */
  readonly rule: string;
  /** The skip or escalation code, when there is one. */
  readonly code: string | null;
  readonly reason: string;
  /** How the episode ended, when it did. */
  readonly outcome: EpisodeOutcome | null;
  readonly outcomeReason: string | null;
}

export interface CommandReport {
  readonly step: CommandStep;
  /** The SSM document's name. */
  readonly document: string;
  /** The document's Mode parameter (diagnose has none). */
  readonly mode: 'check' | 'apply' | null;
  readonly parameters: Readonly<Record<string, readonly string[]>>;
  /** False: a dry run withheld it (what would be sent). */
  readonly sent: boolean;
  /** How it came out; null when it was not sent. */
  readonly outcome: CommandOutcome | null;
  readonly reason: string;
  readonly at: string | null;
}

export interface VerificationReport {
  readonly verdict: Verdict;
  readonly reason: string;
  readonly at: string | null;
  readonly network: {
    readonly verdict: Verdict;
    readonly reason: string;
    readonly beforeBytesPerDay: number | null;
    readonly afterBytesPerDay: number | null;
  } | null;
  readonly memory: {
    readonly verdict: Verdict;
    readonly reason: string;
    readonly before: number | null;
    readonly after: number | null;
  } | null;
}

/** What a fix saves (measured) or would save (estimated from the detected crawl), at list prices. */
export interface SavingsReport {
  readonly basis: 'measured' | 'estimated';
  readonly dataPath: DataPath;
  readonly before: CrawlCost;
  readonly after: CrawlCost;
  readonly savedUsdPerMonth: number;
}
