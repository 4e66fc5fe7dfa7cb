/**
 * Verification in the workflow: when to look (after the instance's next expected crawl, plus the random
 * delay and a margin), which window to judge the crawl in, which verdicts to ask for, and what one round
 * of looking concludes (judge again later, within a bound, or stop). Pure: times, windows and series are
 * given; `verify.ts` holds the statistics.
 */
import type { FindingKind } from '../assessment.ts';
import { analyzeNetworkOut } from '../network-out/index.ts';
import type { MetricSeries } from '../series.ts';
import { MS_PER_DAY, MS_PER_MINUTE, zoneClock } from '../time-zone.ts';
import type { CrawlSchedule } from './plan.ts';
import { type DataPath, type Savings, savingsOf } from './savings.ts';
import {
  type CrawlWindow,
  combineVerdicts,
  type MemoryVerification,
  type NetworkVerification,
  type Verdict,
  verifyMemory,
  verifyNetwork,
} from './verify.ts';

/** A look after the expected crawl's end, so that its last datapoints have arrived (5-minute data lags). */
export const VERIFY_MARGIN_MINUTES = 30;
/** Looks at most; an inconclusive verdict after the last one stays inconclusive (and says so). */
export const MAX_VERIFY_ROUNDS = 7;
/** Days before the fix read as the baseline the crawl is compared with. */
export const BEFORE_FIX_DAYS = 7;

/** The NetworkOut window a finding reported ('HH:MM' in its zone). */
export interface FindingWindow {
  readonly start: string;
  readonly end: string;
  readonly latestStart: string;
  readonly timeZone: string;
}

function minuteOf(clock: string): number {
  const [h, m] = clock.split(':').map(Number);
  return (h as number) * 60 + (m as number);
}

/**
 * The window to judge the crawl in: the finding's (earliest start to latest end), widened by the
 * diagnosed random delay of anacron (the finding saw only the delays that happened). Null without one.
 */
export function windowFromFinding(
  window: FindingWindow | null,
  schedule: CrawlSchedule | null,
): CrawlWindow | null {
  if (window === null) return null;
  const start = minuteOf(window.start);
  const length = (((minuteOf(window.end) - start) % 1440) + 1440) % 1440 || 1440;
  const jitter = schedule?.kind === 'cron-daily' ? schedule.jitterMinutes : 0;
  return {
    startMinute: start,
    lengthMinutes: Math.min(1440, length + jitter),
    timeZone: window.timeZone,
  };
}

/**
 * The window of the crawl found by the detectors in the days before the fix (a request carries no
 * finding): its recurring window, or the span of its daily burst's starts plus its length. UTC.
 */
export function windowFromHistory(beforeFix: MetricSeries): CrawlWindow | null {
  const analysis = analyzeNetworkOut(beforeFix, { timeZone: 'UTC' });
  const top = analysis.windows[0];
  if (top !== undefined) return windowFromFinding({ ...top, timeZone: 'UTC' }, null);
  const burst = analysis.dailyBurst;
  if (burst === null || burst === undefined) return null;
  const start = minuteOf(burst.earliestStart);
  const spread = (((minuteOf(burst.latestStart) - start) % 1440) + 1440) % 1440;
  return {
    startMinute: start,
    lengthMinutes: Math.min(1440, spread + burst.typicalDurationMinutes + 30),
    timeZone: 'UTC',
  };
}

/**
 * When to look next: after the first end of the window at or after `after`, plus the margin; without a
 * window, a whole day after `after` (every daily schedule has run once by then, whatever its delay).
 */
export function nextLookAt(window: CrawlWindow | null, after: number): number {
  const margin = VERIFY_MARGIN_MINUTES * MS_PER_MINUTE;
  if (window === null) return after + MS_PER_DAY + margin;
  const clock = zoneClock(window.timeZone, after - 2 * MS_PER_DAY, after + 3 * MS_PER_DAY);
  const localDay = Math.floor((after + clock.offsetMs(after)) / MS_PER_DAY);
  for (let day = localDay - 1; day <= localDay + 2; day += 1) {
    const wall = day * MS_PER_DAY + (window.startMinute + window.lengthMinutes) * MS_PER_MINUTE;
    const end = wall - clock.offsetMs(wall);
    if (end >= after) return end + margin;
  }
  return after + MS_PER_DAY + margin;
}

/** What was fixed, and so what verification judges. */
export interface VerificationScope {
  readonly kinds: readonly FindingKind[];
  /** Epoch ms the patch succeeded. */
  readonly fixedAt: number;
  /** Epoch ms s3fs was restarted; null when it was not. */
  readonly restartedAt: number | null;
  readonly findingWindow: FindingWindow | null;
  readonly schedule: CrawlSchedule | null;
}

/** The metrics of one instance, read since before the fix. */
export interface VerificationSeries {
  readonly networkOut: MetricSeries | null;
  /** s3fs's RSS (bytes) when the agent reports it, else mem_used_percent. */
  readonly memory: { readonly series: MetricSeries; readonly unit: 'bytes' | 'percent' } | null;
}

export interface VerificationRound {
  readonly verdict: Verdict;
  /** One line a person can read. */
  readonly reason: string;
  readonly network: NetworkVerification | null;
  readonly memory: MemoryVerification | null;
  readonly window: CrawlWindow | null;
}

// Whole local days after the fix the moved-burst search needs before the network can be called resolved.
const MOVED_DAYS = 2;

/** Whole local days (midnight to midnight, in `timeZone`) between `fixedAt` and `now`. */
function wholeDaysSince(fixedAt: number, now: number, timeZone: string): number {
  const clock = zoneClock(timeZone, fixedAt - MS_PER_DAY, now + MS_PER_DAY);
  const firstDay = Math.ceil((fixedAt + clock.offsetMs(fixedAt)) / MS_PER_DAY);
  const lastDay = Math.floor((now + clock.offsetMs(now)) / MS_PER_DAY);
  return Math.max(0, lastDay - firstDay);
}

const NETWORK_KINDS: readonly FindingKind[] = ['updatedb-crawl', 'daily-network-burst'];

/** One look at the instance's metrics since the fix: the network and memory verdicts asked for, combined. */
export function judgeRound(
  scope: VerificationScope,
  series: VerificationSeries,
  now: number,
): VerificationRound {
  const askNetwork = scope.kinds.some((k) => NETWORK_KINDS.includes(k));
  const askMemory = scope.restartedAt !== null;
  const judgeMemory = scope.kinds.includes('memory-growth');
  const findingWindow = windowFromFinding(scope.findingWindow, scope.schedule);
  const window =
    findingWindow ??
    (series.networkOut === null ? null : windowFromHistory(beforeFix(series.networkOut, scope.fixedAt)));
  let network: NetworkVerification | null = null;
  const reasons: string[] = [];
  const verdicts: Verdict[] = [];
  if (askNetwork || window !== null) {
    if (series.networkOut === null) {
      verdicts.push('inconclusive');
      reasons.push('network: no NetworkOut data');
    } else if (window === null) {
      verdicts.push('inconclusive');
      reasons.push('network: no crawl window known (none in the finding, none found before the fix)');
    } else {
      network = verifyNetwork({ series: series.networkOut, fixedAt: scope.fixedAt, now, window });
      const wholeDays = wholeDaysSince(scope.fixedAt, now, window.timeZone);
      if (network.verdict === 'resolved' && wholeDays < MOVED_DAYS) {
        // Quiet in its window, but a crawl that moved shows only on whole days after the fix: not yet.
        verdicts.push('inconclusive');
        reasons.push(
          `network quiet so far (${network.reason}), but only ${wholeDays} whole day(s) since the fix: ${MOVED_DAYS} rule out a crawl that moved`,
        );
      } else {
        verdicts.push(network.verdict);
        reasons.push(`network ${network.verdict}: ${network.reason}`);
      }
    }
  }
  let memory: MemoryVerification | null = null;
  if (askMemory) {
    if (series.memory === null) {
      if (judgeMemory) verdicts.push('inconclusive');
      reasons.push('memory: no memory metric (CloudWatch agent)');
    } else {
      memory = verifyMemory({
        series: series.memory.series,
        unit: series.memory.unit,
        restartedAt: scope.restartedAt as number,
        now,
      });
      // A crawl-only episode restarts s3fs to drop its caches: its memory is told, not judged (a reboot
      // meanwhile leaves nothing to come down). A memory-growth finding is judged on it.
      if (judgeMemory) {
        verdicts.push(memory.verdict);
        reasons.push(`memory ${memory.verdict}: ${memory.reason}`);
      } else {
        reasons.push(
          `memory (told, not judged: only a memory-growth finding is) ${memory.verdict}: ${memory.reason}`,
        );
      }
    }
  }
  if (verdicts.length === 0) reasons.push('nothing to verify: no crawl window and no restart');
  return { verdict: combineVerdicts(verdicts), reason: reasons.join('; '), network, memory, window };
}

function beforeFix(series: MetricSeries, fixedAt: number): MetricSeries {
  let n = 0;
  while (n < series.timestamps.length && (series.timestamps[n] as number) < fixedAt) n += 1;
  return {
    timestamps: Array.prototype.slice.call(series.timestamps, 0, n) as number[],
    values: Array.prototype.slice.call(series.values, 0, n) as number[],
  };
}

/** What a round leads to: look again later (inconclusive, within the bound) or stop with the verdict. */
export function afterRound(
  round: VerificationRound,
  roundNumber: number,
  now: number,
): { readonly next: 'wait'; readonly waitUntil: number } | { readonly next: 'done' } {
  if (round.verdict !== 'inconclusive' || roundNumber >= MAX_VERIFY_ROUNDS) return { next: 'done' };
  return { next: 'wait', waitUntil: nextLookAt(round.window, now) };
}

/** Savings of the fix from the network verdict's bytes a day (none without both sides). */
export function savingsFrom(network: NetworkVerification | null, path: DataPath): Savings | null {
  if (network === null || network.beforeBytesPerDay === null || network.afterBytesPerDay === null)
    return null;
  return savingsOf(network.beforeBytesPerDay, network.afterBytesPerDay, path);
}
