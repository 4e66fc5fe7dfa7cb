/**
 * Did the fix fix anything? The detectors need days of data; verification has its own statistic. On each
 * expected crawl day after the fix, the traffic over baseline inside the crawl window (widened by the
 * timer's random delay) is compared with the median of the same measure before the fix: at most 10 % of it
 * on two expected days is `resolved`; the crawl still there, or a comparable burst at another time of day,
 * is `not-resolved`; no data (gaps, a stopped instance) is `inconclusive`. Memory gets its own verdict from
 * the third day after a restart. Pure: the series, the window and now are given.
 */
import { analyzeMemory, type MemoryAnalysis, type MemoryUnit } from '../memory.ts';
import { cleanSeries, type MetricSeries } from '../series.ts';
import { quantile } from '../stats.ts';
import { formatClock, MS_PER_DAY, MS_PER_MINUTE, zoneClock } from '../time-zone.ts';

export const VERDICTS = ['resolved', 'not-resolved', 'inconclusive'] as const;
export type Verdict = (typeof VERDICTS)[number];

/** When the crawl happens, in the host's (or the finding's) local time. */
export interface CrawlWindow {
  /** Minute of the day the crawl starts (the earliest, for a random delay). */
  readonly startMinute: number;
  /** Minutes from the start to the end of the latest crawl (duration plus any random delay). */
  readonly lengthMinutes: number;
  readonly timeZone: string;
}

export interface NetworkVerificationInput {
  /** NetworkOut (bytes per period, Sum) from several days before the fix until now. */
  readonly series: MetricSeries;
  /** Epoch ms: when the fix (the patch) was applied. */
  readonly fixedAt: number;
  readonly now: number;
  readonly window: CrawlWindow;
}

/** One day's measure. */
export interface DayExcess {
  /** 'YYYY-MM-DD' of the window's start, local time. */
  readonly day: string;
  readonly afterFix: boolean;
  /** Bytes over the day's baseline inside the window. */
  readonly excessBytes: number;
  /** Share of the window's periods with data. */
  readonly coverage: number;
}

export interface NetworkVerification {
  readonly verdict: Verdict;
  readonly reason: string;
  /** Median excess of the days before the fix: what the crawl cost a day. */
  readonly beforeBytesPerDay: number | null;
  /** Median excess of the expected days after the fix. */
  readonly afterBytesPerDay: number | null;
  readonly days: readonly DayExcess[];
  /** A comparable burst outside the window after the fix (the crawl moved), if seen. */
  readonly moved: { readonly startsAt: string; readonly days: number } | null;
}

// The fix worked when an expected day keeps at most this share of the crawl, on this many days.
const RESOLVED_SHARE = 0.1;
const DAYS_NEEDED = 2;
// The crawl is still there (or moved) when it keeps at least this share on that many days.
const STILL_THERE_SHARE = 0.5;
const MIN_COVERAGE = 0.8;
// Below this, there was no crawl to compare with (bytes over baseline a day).
const MIN_CRAWL_BYTES = 1_000_000;

/** The network verdict of one instance after its fix. */
export function verifyNetwork(input: NetworkVerificationInput): NetworkVerification {
  const grid = gridOf(input.series, input.window.timeZone);
  const none = { beforeBytesPerDay: null, afterBytesPerDay: null, moved: null };
  if (grid === null) return { verdict: 'inconclusive', reason: 'no NetworkOut data', days: [], ...none };
  const days = dailyExcess(grid, input);
  const before = days.filter((d) => !d.afterFix && d.coverage >= MIN_COVERAGE).map((d) => d.excessBytes);
  const after = days.filter((d) => d.afterFix && d.coverage >= MIN_COVERAGE);
  const beforeBytes = before.length > 0 ? quantile(before, 0.5) : null;
  const afterBytes =
    after.length > 0
      ? Math.max(
          0,
          quantile(
            after.map((d) => d.excessBytes),
            0.5,
          ),
        )
      : null;
  const figures = { beforeBytesPerDay: beforeBytes, afterBytesPerDay: afterBytes, days };
  if (beforeBytes === null || before.length < DAYS_NEEDED) {
    return {
      verdict: 'inconclusive',
      reason: `only ${before.length} day(s) with data before the fix`,
      moved: null,
      ...figures,
    };
  }
  if (beforeBytes < MIN_CRAWL_BYTES) {
    return {
      verdict: 'inconclusive',
      reason: `before the fix the window held only ${Math.round(beforeBytes)} bytes over baseline a day: nothing to compare`,
      moved: null,
      ...figures,
    };
  }
  const moved = movedBurst(grid, input, beforeBytes);
  const still = after.filter((d) => d.excessBytes > STILL_THERE_SHARE * beforeBytes);
  const quiet = after.filter((d) => d.excessBytes <= RESOLVED_SHARE * beforeBytes);
  const share = (bytes: number) => `${Math.round((bytes / beforeBytes) * 100)} %`;
  if (still.length >= DAYS_NEEDED) {
    return {
      verdict: 'not-resolved',
      reason: `the crawl is still there: ${still.length} of ${after.length} day(s) after the fix keep over ${share(STILL_THERE_SHARE * beforeBytes)} of it in the window`,
      moved,
      ...figures,
    };
  }
  if (moved !== null) {
    return {
      verdict: 'not-resolved',
      reason: `the burst moved: a comparable one starts at ${moved.startsAt} on ${moved.days} day(s) after the fix`,
      moved,
      ...figures,
    };
  }
  if (quiet.length >= DAYS_NEEDED && still.length === 0) {
    return {
      verdict: 'resolved',
      reason: `${quiet.length} expected crawl day(s) after the fix keep at most ${share(Math.max(...quiet.map((d) => d.excessBytes), 0))} of the ${formatMb(beforeBytes)} a day before`,
      moved: null,
      ...figures,
    };
  }
  return {
    verdict: 'inconclusive',
    reason: `${after.length} expected crawl day(s) with data after the fix, ${quiet.length} quiet: not enough to tell`,
    moved: null,
    ...figures,
  };
}

interface Grid {
  /** Bytes per minute, by 5-minute bin from `origin`; NaN where no data. */
  readonly rate: Float64Array;
  /** Epoch ms of bin 0 (a local midnight). */
  readonly origin: number;
  readonly binMs: number;
  /** Local offset at each bin. */
  readonly offsetMs: (instant: number) => number;
}

const BIN_MS = 5 * MS_PER_MINUTE;

function gridOf(series: MetricSeries, timeZone: string): Grid | null {
  const clean = cleanSeries(series);
  const n = clean.timestamps.length;
  if (n === 0) return null;
  const first = clean.timestamps[0] as number;
  const last = clean.timestamps[n - 1] as number;
  const clock = zoneClock(timeZone, first, last);
  const origin =
    Math.floor((first + clock.offsetMs(first)) / MS_PER_DAY) * MS_PER_DAY - clock.offsetMs(first);
  const bins = Math.ceil((last - origin) / BIN_MS) + 1;
  const sum = new Float64Array(bins);
  const count = new Uint32Array(bins);
  const periodMinutes = clean.periodMs / MS_PER_MINUTE;
  for (let i = 0; i < n; i += 1) {
    const bin = Math.floor(((clean.timestamps[i] as number) - origin) / BIN_MS);
    if (bin < 0 || bin >= bins) continue;
    sum[bin] = (sum[bin] as number) + (clean.values[i] as number) / periodMinutes;
    count[bin] = (count[bin] as number) + 1;
  }
  const rate = new Float64Array(bins);
  for (let b = 0; b < bins; b += 1)
    rate[b] = (count[b] as number) > 0 ? (sum[b] as number) / (count[b] as number) : Number.NaN;
  return { rate, origin, binMs: BIN_MS, offsetMs: clock.offsetMs };
}

/** Excess inside the window, day by day: the window's bytes over the median rate of the rest of its day. */
function dailyExcess(grid: Grid, input: NetworkVerificationInput): DayExcess[] {
  const { window } = input;
  const binsPerDay = MS_PER_DAY / grid.binMs;
  const lengthBins = Math.max(1, Math.round(window.lengthMinutes / 5));
  const startBin = Math.floor(window.startMinute / 5);
  const days: DayExcess[] = [];
  for (let dayStart = 0; dayStart < grid.rate.length; dayStart += binsPerDay) {
    const from = dayStart + startBin;
    const to = from + lengthBins;
    const windowStartMs = grid.origin + from * grid.binMs;
    const windowEndMs = grid.origin + to * grid.binMs;
    // A window is an expected day once it has passed; one the fix cut through counts for neither side.
    if (windowEndMs > input.now) break;
    const afterFix = windowStartMs >= input.fixedAt;
    if (!afterFix && windowEndMs > input.fixedAt) continue;
    // A short window rides on the level of the rest of its day; a window hours wide (a timer's random
    // delay) spans the day cycle itself, so each of its bins is measured against its own surroundings.
    const flat = lengthBins <= WIDE_WINDOW_BINS ? baselineOf(grid, dayStart, binsPerDay, from, to) : null;
    let excess = 0;
    let filled = 0;
    for (let b = from; b < to && b < grid.rate.length; b += 1) {
      const value = grid.rate[b] as number;
      if (Number.isNaN(value)) continue;
      filled += 1;
      excess += (value - (flat ?? localBaseline(grid, b))) * 5;
    }
    days.push({
      day: new Date(windowStartMs + grid.offsetMs(windowStartMs)).toISOString().slice(0, 10),
      afterFix,
      excessBytes: Math.round(excess),
      coverage: filled / lengthBins,
    });
  }
  return days;
}

// Windows longer than this (4 h) are measured bin by bin against a running median of ±3 h, which follows
// the day cycle and is not moved by a crawl of an hour or less.
const WIDE_WINDOW_BINS = 48;
const LOCAL_HALF_SPAN_BINS = 36;
// The longest burst the search for a moved crawl measures.
const MOVED_SPAN_MINUTES = 120;

/** The median rate within ±3 h of a bin. */
function localBaseline(grid: Grid, bin: number): number {
  const around: number[] = [];
  for (let b = bin - LOCAL_HALF_SPAN_BINS; b <= bin + LOCAL_HALF_SPAN_BINS; b += 1) {
    const value = grid.rate[b];
    if (value !== undefined && !Number.isNaN(value)) around.push(value);
  }
  return around.length > 0 ? quantile(around, 0.5) : 0;
}

/** The median rate of the day around the window, outside it (the background the crawl rides on). */
function baselineOf(grid: Grid, dayStart: number, binsPerDay: number, from: number, to: number): number {
  const outside: number[] = [];
  for (let b = dayStart - binsPerDay / 2; b < dayStart + binsPerDay * 1.5; b += 1) {
    if (b >= from && b < to) continue;
    const value = grid.rate[b];
    if (value !== undefined && !Number.isNaN(value)) outside.push(value);
  }
  return outside.length > 0 ? quantile(outside, 0.5) : 0;
}

/**
 * A burst of the crawl's size outside its window on two or more days after the fix: the crawl moved (a
 * schedule edited, another updatedb). Searched as the window-length span with the most bytes per day.
 */
function movedBurst(
  grid: Grid,
  input: NetworkVerificationInput,
  beforeBytes: number,
): NetworkVerification['moved'] {
  const binsPerDay = MS_PER_DAY / grid.binMs;
  // A crawl of up to 2 h, measured bin by bin against its surroundings (the day cycle is no burst).
  const lengthBins = Math.max(1, Math.round(Math.min(input.window.lengthMinutes, MOVED_SPAN_MINUTES) / 5));
  const windowFrom = Math.floor(input.window.startMinute / 5);
  const windowTo = windowFrom + Math.max(1, Math.round(input.window.lengthMinutes / 5));
  const starts = new Map<number, number>();
  for (let dayStart = 0; dayStart + binsPerDay <= grid.rate.length; dayStart += binsPerDay) {
    if (grid.origin + dayStart * grid.binMs < input.fixedAt) continue;
    if (grid.origin + (dayStart + binsPerDay) * grid.binMs > input.now) break;
    const over = new Float64Array(binsPerDay);
    for (let b = 0; b < binsPerDay; b += 1)
      over[b] = (grid.rate[dayStart + b] as number) - localBaseline(grid, dayStart + b);
    let best = { at: -1, bytes: 0 };
    for (let s = 0; s + lengthBins <= binsPerDay; s += 1) {
      // Only spans clear of the window (which may run past midnight into the next day).
      if (s + lengthBins > windowFrom && s < windowTo) continue;
      if (windowTo > binsPerDay && s < windowTo - binsPerDay) continue;
      let bytes = 0;
      for (let b = s; b < s + lengthBins; b += 1) {
        const value = over[b] as number;
        if (!Number.isNaN(value)) bytes += value * 5;
      }
      if (bytes > best.bytes) best = { at: s, bytes };
    }
    if (best.at >= 0 && best.bytes >= STILL_THERE_SHARE * beforeBytes) {
      // The burst starts where the span first rises to half its peak over baseline.
      let peak = 0;
      for (let b = best.at; b < best.at + lengthBins; b += 1) peak = Math.max(peak, over[b] as number);
      let onset = best.at;
      while (onset < best.at + lengthBins && !((over[onset] as number) >= peak / 2)) onset += 1;
      const hour = Math.floor((onset * 5) / 60);
      starts.set(hour, (starts.get(hour) ?? 0) + 1);
    }
  }
  let top: { hour: number; days: number } | null = null;
  for (const [hour, count] of starts) if (top === null || count > top.days) top = { hour, days: count };
  return top !== null && top.days >= DAYS_NEEDED
    ? { startsAt: formatClock(top.hour * 60), days: top.days }
    : null;
}

function formatMb(bytes: number): string {
  return `${(bytes / 1_000_000).toFixed(1)} MB`;
}

export interface MemoryVerificationInput {
  readonly series: MetricSeries;
  readonly unit: MemoryUnit;
  /** Epoch ms of the restart. */
  readonly restartedAt: number;
  readonly now: number;
}

export interface MemoryVerification {
  readonly verdict: Verdict;
  readonly reason: string;
  /** Level just before and after the restart (median of 3 hours each side). */
  readonly before: number | null;
  readonly after: number | null;
  readonly since: MemoryAnalysis | null;
}

const MEMORY_DAYS = 3;
const HOUR_MS = 3_600_000;

/** From the third day after a restart: memory came down, and has not grown significantly since. */
export function verifyMemory(input: MemoryVerificationInput): MemoryVerification {
  const empty = { before: null, after: null, since: null };
  if (input.now - input.restartedAt < MEMORY_DAYS * MS_PER_DAY) {
    return {
      verdict: 'inconclusive',
      reason: `memory is judged from the third day after the restart`,
      ...empty,
    };
  }
  const clean = cleanSeries(input.series);
  const around = (from: number, to: number): number | null => {
    const values: number[] = [];
    for (let i = 0; i < clean.timestamps.length; i += 1) {
      const t = clean.timestamps[i] as number;
      if (t >= from && t < to) values.push(clean.values[i] as number);
    }
    return values.length > 0 ? quantile(values, 0.5) : null;
  };
  const before = around(input.restartedAt - 3 * HOUR_MS, input.restartedAt);
  const after = around(input.restartedAt + HOUR_MS, input.restartedAt + 4 * HOUR_MS);
  if (before === null || after === null) {
    return {
      verdict: 'inconclusive',
      reason: 'no memory data around the restart',
      before,
      after,
      since: null,
    };
  }
  const sinceIndex = clean.timestamps.findIndex((t) => t >= input.restartedAt + HOUR_MS);
  const since =
    sinceIndex < 0
      ? null
      : analyzeMemory(
          { timestamps: clean.timestamps.subarray(sinceIndex), values: clean.values.subarray(sinceIndex) },
          { unit: input.unit },
        );
  // Down: by a fifth of the level for bytes, by a point for percent.
  const down = input.unit === 'bytes' ? after <= 0.8 * before : before - after >= 1;
  if (since?.verdict === 'growth') {
    return {
      verdict: 'not-resolved',
      reason: `memory grows again since the restart: ${since.reason}`,
      before,
      after,
      since,
    };
  }
  if (!down) {
    return {
      verdict: 'not-resolved',
      reason: `memory did not come down at the restart (${round(before)} → ${round(after)})`,
      before,
      after,
      since,
    };
  }
  if (since === null || since.verdict === 'insufficient-data') {
    return {
      verdict: 'inconclusive',
      reason: 'not enough memory data since the restart',
      before,
      after,
      since,
    };
  }
  return {
    verdict: 'resolved',
    reason: `memory came down (${round(before)} → ${round(after)}) and has not grown since`,
    before,
    after,
    since,
  };
}

function round(value: number): string {
  return Math.abs(value) >= 1000 ? `${Math.round(value)}` : value.toFixed(1);
}

/** Both verdicts as one: not resolved if either is; resolved only if every one asked is. */
export function combineVerdicts(verdicts: readonly Verdict[]): Verdict {
  if (verdicts.includes('not-resolved')) return 'not-resolved';
  if (verdicts.length > 0 && verdicts.every((v) => v === 'resolved')) return 'resolved';
  return 'inconclusive';
}
