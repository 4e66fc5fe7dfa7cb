import { InvalidOptionError } from './errors.ts';
import { cleanSeries, type MetricSeries } from './series.ts';
import { binomialUpperTail, medianAndMadInPlace, quantile, quantileInPlace, robustSpread } from './stats.ts';
import { formatClock, formatDay, MS_PER_DAY, MS_PER_MINUTE, zoneClock } from './time-zone.ts';

/** How to read a NetworkOut series. Every field has a default. */
export interface NetworkOutOptions {
  /** IANA zone in which days are cut and windows reported. Default 'UTC'. */
  readonly timeZone?: string;
  /** A burst must carry at least this many bytes over baseline to count. Default 1,000,000. */
  readonly minBurstBytes?: number;
  /** Fewer valid days than this gives 'insufficient-data'. Default 5. */
  readonly minDays?: number;
  /** A rise that lasts longer is a day cycle or level shift, not a crawl. Default 420 (7 h). */
  readonly maxBurstMinutes?: number;
  /** Attach the day × time-of-day excess matrix (for pictures). Default false. */
  readonly includeProfile?: boolean;
}

export type NetworkOutVerdict = 'recurring-window' | 'daily-burst' | 'none' | 'insufficient-data';

/** A time of day at which a burst recurs. Times are 'HH:MM' in the analysis' time zone. */
export interface RecurringWindow {
  /** 90 % of the window's bursts start between `start` and `latestStart`. */
  readonly start: string;
  /** Time by which 90 % of the window's bursts had ended (may be past midnight, i.e. before start). */
  readonly end: string;
  readonly latestStart: string;
  /** The earliest start seen in this window. */
  readonly earliestStart: string;
  readonly daysWithSpike: number;
  readonly daysObserved: number;
  /** Median over the window's bursts of their excess rate over baseline. */
  readonly typicalExcessBytesPerMin: number;
  /** Median over the days with a burst of the bytes sent over baseline in this window. */
  readonly extraBytesPerDay: number;
  readonly typicalDurationMinutes: number;
  /** Chance that bursts elsewhere in the day would fill this window on as many days by luck. */
  readonly pValue: number;
  /** 0..1: the share of observed days with the burst, discounted by that chance. */
  readonly confidence: number;
}

/** One dominant burst a day of similar size and length, at a time of day that varies. */
export interface DailyBurst {
  readonly earliestStart: string;
  readonly latestStart: string;
  readonly startSpreadMinutes: number;
  readonly typicalDurationMinutes: number;
  readonly typicalBytes: number;
  /** Interquartile range over median of the bursts' sizes. */
  readonly sizeSpread: number;
  readonly daysWithBurst: number;
  readonly daysObserved: number;
  readonly confidence: number;
}

/** The numbers behind a verdict. Rates are bytes per minute. */
export interface NetworkOutEvidence {
  readonly datapoints: number;
  readonly invalidDatapoints: number;
  readonly duplicateDatapoints: number;
  readonly periodSeconds: number;
  readonly firstDay: string | null;
  readonly lastDay: string | null;
  readonly daysObserved: number;
  readonly baselineBytesPerMin: number;
  readonly noiseBytesPerMin: number;
  /** Bursts over threshold, no longer than maxBurstMinutes, at least minBurstBytes. */
  readonly bursts: number;
  readonly burstsBelowFloor: number;
  /** Rises longer than maxBurstMinutes (day cycles, level shifts). */
  readonly sustainedRises: number;
  /** Days with at least one burst. */
  readonly daysWithBursts: number;
  /** Share of each day's dominant bursts that fall in the reported windows (best window when none), averaged over days. */
  readonly shareInWindows: number;
}

export interface NetworkOutProfile {
  readonly firstDay: string;
  readonly binMinutes: number;
  readonly slotsPerDay: number;
  /** days × slotsPerDay, excess bytes per minute over baseline; NaN where no data. */
  readonly excessBytesPerMin: Float64Array;
  readonly validDays: readonly boolean[];
}

export interface NetworkOutAnalysis {
  readonly metric: 'network-out';
  readonly verdict: NetworkOutVerdict;
  /** One sentence with the numbers that decided the verdict. */
  readonly reason: string;
  readonly timeZone: string;
  /** Ordered by bytes per day, largest first; empty unless the verdict is 'recurring-window'. */
  readonly windows: readonly RecurringWindow[];
  readonly dailyBurst: DailyBurst | null;
  readonly evidence: NetworkOutEvidence;
  readonly profile?: NetworkOutProfile;
}

// A bin is hot when its excess over baseline beats NOISE_K noise units, RELATIVE_RISE × baseline and
// MIN_EXCESS_RATE: noise alone, a small relative wobble, or a few bytes on an idle host never qualify.
const NOISE_K = 4;
const RELATIVE_RISE = 0.25;
const MIN_EXCESS_RATE = 1_000;
// Runs of hot bins separated by at most this many cool or missing bins are one burst.
const MERGE_GAP_MINUTES = 10;
// Baseline: a low quantile of hourly means over ±6 h follows day/night cycles without being lifted by a
// multi-hour crawl (it takes > 75 % of the window to move the 25th percentile).
const BASELINE_HALF_WINDOW_MINUTES = 360;
const BASELINE_QUANTILE = 0.25;
const MIN_DAY_COVERAGE = 0.5;
// A burst is dominant on its day when it carries at least this share of the day's largest burst.
const DOMINANCE = 0.3;
const WINDOW_WIDTH_MINUTES = 90;
const MAX_WINDOWS = 3;
const MIN_DAY_FRACTION = 0.6;
const MIN_SHARE_IN_WINDOWS = 0.5;
const MAX_BURSTS_PER_DAY = 1.25;
// Consecutive daily bursts are a day apart on average even with a random delay; a job every 17 h is not.
const DAILY_GAP_HOURS: readonly [number, number] = [20, 28];
const MAX_SIZE_SPREAD = 0.35;
const MAX_DURATION_SPREAD = 0.5;
// Without a fixed time to vouch for it, a daily burst must stand well clear of the threshold.
const MIN_DAILY_BURST_STRENGTH = 2;
// Datapoints coarser than an hour cannot show a burst within a day.
const BIN_CHOICES = [5, 10, 15, 20, 30, 60];

interface Settings {
  readonly timeZone: string;
  readonly minBurstBytes: number;
  readonly minDays: number;
  readonly maxBurstMinutes: number;
  readonly includeProfile: boolean;
}

interface Burst {
  /** Mean excess over the mean threshold of its hot bins: 1 is barely a burst. */
  readonly strength: number;
  readonly day: number;
  readonly startMinute: number;
  readonly durationMinutes: number;
  readonly excessBytes: number;
}

/**
 * Decides whether a NetworkOut series (bytes per period, `Sum`) shows a daily crawl: a burst recurring at
 * the same time of day (cron), one burst a day at a varying time (systemd timer with a random delay), or
 * neither. Pure: no clock, no environment; the time zone only changes how days are cut and reported.
 * @throws InvalidSeriesError, InvalidOptionError
 */
export function analyzeNetworkOut(series: MetricSeries, options: NetworkOutOptions = {}): NetworkOutAnalysis {
  const settings = resolveOptions(options);
  const clean = cleanSeries(series);
  const n = clean.timestamps.length;
  const periodMinutes = clean.periodMs / MS_PER_MINUTE;
  const baseEvidence = {
    datapoints: n,
    invalidDatapoints: clean.invalidPoints,
    duplicateDatapoints: clean.duplicatePoints,
    periodSeconds: clean.periodMs / 1000,
  };
  const binMinutes = BIN_CHOICES.find((choice) => choice >= periodMinutes - 1e-9);
  if (n === 0 || binMinutes === undefined) {
    const reason =
      n === 0
        ? 'no usable datapoints'
        : `period of ${Math.round(periodMinutes)} min is too coarse to see a daily burst`;
    return insufficient(settings, reason, { ...baseEvidence, ...emptyCounts(null, null, 0) });
  }

  const first = clean.timestamps[0] as number;
  const last = clean.timestamps[n - 1] as number;
  const clock = zoneClock(settings.timeZone, first, last);
  const slotsPerDay = 1440 / binMinutes;
  const firstDay = Math.floor((first + clock.offsetMs(first)) / MS_PER_DAY);
  const lastDay = Math.floor((last + clock.offsetMs(last)) / MS_PER_DAY);
  const dayCount = lastDay - firstDay + 1;
  const binCount = dayCount * slotsPerDay;

  // 1. Mean rate (bytes/min) per bin of the local-time grid.
  const rate = new Float64Array(binCount);
  const filled = new Uint16Array(binCount);
  for (let i = 0; i < n; i += 1) {
    const t = clean.timestamps[i] as number;
    const local = t + clock.offsetMs(t);
    const day = Math.floor(local / MS_PER_DAY);
    const slot = Math.floor((local - day * MS_PER_DAY) / (binMinutes * MS_PER_MINUTE));
    const bin = (day - firstDay) * slotsPerDay + slot;
    rate[bin] = (rate[bin] as number) + (clean.values[i] as number) / periodMinutes;
    filled[bin] = (filled[bin] as number) + 1;
  }
  const validDays: boolean[] = new Array(dayCount).fill(false);
  let daysObserved = 0;
  let filledBins = 0;
  for (let d = 0; d < dayCount; d += 1) {
    let count = 0;
    for (let s = 0; s < slotsPerDay; s += 1) {
      const bin = d * slotsPerDay + s;
      const points = filled[bin] as number;
      if (points === 0) rate[bin] = Number.NaN;
      else {
        rate[bin] = (rate[bin] as number) / points;
        count += 1;
        filledBins += 1;
      }
    }
    if (count >= MIN_DAY_COVERAGE * slotsPerDay) {
      validDays[d] = true;
      daysObserved += 1;
    }
  }

  // 2. Baseline per bin and noise per day.
  const baseline = rollingBaseline(rate, binMinutes);
  const excess = new Float64Array(binCount);
  for (let bin = 0; bin < binCount; bin += 1) excess[bin] = (rate[bin] as number) - (baseline[bin] as number);
  const noise = noiseByDay(excess, validDays, slotsPerDay);
  const baselineLevel = finiteMedian(baseline);
  const noiseLevel = finiteMedian(noise);
  const firstDayLabel = formatDay(firstDay);
  const lastDayLabel = formatDay(lastDay);
  const profile = settings.includeProfile
    ? { profile: { firstDay: firstDayLabel, binMinutes, slotsPerDay, excessBytesPerMin: excess, validDays } }
    : {};

  // Both tests matter: 4 days of data starting at noon touch 5 calendar days, each more than half full.
  const daysOfData = filledBins / slotsPerDay;
  if (daysObserved < settings.minDays || daysOfData < settings.minDays) {
    return {
      ...insufficient(
        settings,
        `only ${daysOfData.toFixed(1)} days of data over ${daysObserved} day(s) with at least ` +
          `${MIN_DAY_COVERAGE * 100} % of datapoints; need ${settings.minDays}`,
        {
          ...baseEvidence,
          ...emptyCounts(firstDayLabel, lastDayLabel, daysObserved),
          baselineBytesPerMin: finiteOr0(baselineLevel),
          noiseBytesPerMin: finiteOr0(noiseLevel),
        },
      ),
      ...profile,
    };
  }

  // 3. Bursts: runs of hot bins, merged across short gaps, on the continuous timeline (so a crawl may
  //    cross midnight).
  const found = findBursts(excess, baseline, noise, slotsPerDay, binMinutes, settings);
  const bursts = found.bursts.filter((burst) => validDays[burst.day] === true);
  const daysWithBursts = new Set(bursts.map((burst) => burst.day)).size;
  const dominant = dominantBursts(bursts);
  const evidenceBase = {
    ...baseEvidence,
    firstDay: firstDayLabel,
    lastDay: lastDayLabel,
    daysObserved,
    baselineBytesPerMin: finiteOr0(baselineLevel),
    noiseBytesPerMin: finiteOr0(noiseLevel),
    bursts: bursts.length,
    burstsBelowFloor: found.belowFloor,
    sustainedRises: found.sustained,
    daysWithBursts,
  };

  // 4. Recurring windows (cron, anacron), then one burst a day at a varying time (systemd timers).
  const search = findWindows(dominant, dayCount, daysObserved);
  if (search.accepted.length > 0 && search.share >= MIN_SHARE_IN_WINDOWS) {
    const windows = search.accepted
      .map((items) => describeWindow(items, dominant, daysObserved, search.windowMinutesTotal))
      .sort((a, b) => b.extraBytesPerDay * b.daysWithSpike - a.extraBytesPerDay * a.daysWithSpike);
    const top = windows[0] as RecurringWindow;
    return {
      metric: 'network-out',
      verdict: 'recurring-window',
      reason:
        `a burst starts ${top.start === top.latestStart ? `at ${top.start}` : `between ${top.start} and ${top.latestStart}`} ` +
        `(${settings.timeZone}) on ` +
        `${top.daysWithSpike} of ${daysObserved} days, ${formatBytes(top.extraBytesPerDay)} over baseline each time` +
        (windows.length > 1 ? `; ${windows.length - 1} more window(s)` : ''),
      timeZone: settings.timeZone,
      windows,
      dailyBurst: null,
      evidence: { ...evidenceBase, shareInWindows: search.share },
      ...profile,
    };
  }
  const daily = findDailyBurst(dominant, daysObserved);
  const evidence = { ...evidenceBase, shareInWindows: search.share };
  if (daily.burst !== null) {
    const burst = daily.burst;
    return {
      metric: 'network-out',
      verdict: 'daily-burst',
      reason:
        `one burst a day on ${burst.daysWithBurst} of ${daysObserved} days, starting anywhere from ` +
        `${burst.earliestStart} to ${burst.latestStart} (${settings.timeZone}), ` +
        `typically ${burst.typicalDurationMinutes} min and ${formatBytes(burst.typicalBytes)}`,
      timeZone: settings.timeZone,
      windows: [],
      dailyBurst: burst,
      evidence,
      ...profile,
    };
  }
  return {
    metric: 'network-out',
    verdict: 'none',
    reason: noneReason(evidence, search, daily.rejection, settings),
    timeZone: settings.timeZone,
    windows: [],
    dailyBurst: null,
    evidence,
    ...profile,
  };
}

function resolveOptions(options: NetworkOutOptions): Settings {
  const settings: Settings = {
    timeZone: options.timeZone ?? 'UTC',
    minBurstBytes: options.minBurstBytes ?? 1_000_000,
    minDays: options.minDays ?? 5,
    maxBurstMinutes: options.maxBurstMinutes ?? 420,
    includeProfile: options.includeProfile ?? false,
  };
  if (!(settings.minBurstBytes >= 0) || !Number.isFinite(settings.minBurstBytes)) {
    throw new InvalidOptionError(`minBurstBytes must be a finite number ≥ 0, got ${settings.minBurstBytes}`);
  }
  if (!Number.isInteger(settings.minDays) || settings.minDays < 1) {
    throw new InvalidOptionError(`minDays must be a whole number ≥ 1, got ${settings.minDays}`);
  }
  if (!(settings.maxBurstMinutes >= 5 && settings.maxBurstMinutes <= 1440)) {
    throw new InvalidOptionError(
      `maxBurstMinutes must be between 5 and 1440, got ${settings.maxBurstMinutes}`,
    );
  }
  return settings;
}

/** Per bin: a low quantile of the hourly (or coarser) block means within ±6 h. */
function rollingBaseline(rate: Float64Array, binMinutes: number): Float64Array {
  const blockMinutes = Math.max(60, binMinutes);
  const binsPerBlock = blockMinutes / binMinutes;
  const blockCount = Math.ceil(rate.length / binsPerBlock);
  const blockMean = new Float64Array(blockCount);
  for (let b = 0; b < blockCount; b += 1) {
    let sum = 0;
    let count = 0;
    const end = Math.min(rate.length, (b + 1) * binsPerBlock);
    for (let bin = b * binsPerBlock; bin < end; bin += 1) {
      const value = rate[bin] as number;
      if (!Number.isNaN(value)) {
        sum += value;
        count += 1;
      }
    }
    blockMean[b] = count > 0 ? sum / count : Number.NaN;
  }
  const halfWindow = Math.max(1, Math.round(BASELINE_HALF_WINDOW_MINUTES / blockMinutes));
  const scratch = new Float64Array(2 * halfWindow + 1);
  const blockBaseline = new Float64Array(blockCount);
  for (let b = 0; b < blockCount; b += 1) {
    let count = 0;
    for (let k = Math.max(0, b - halfWindow); k <= Math.min(blockCount - 1, b + halfWindow); k += 1) {
      const value = blockMean[k] as number;
      if (!Number.isNaN(value)) {
        scratch[count] = value;
        count += 1;
      }
    }
    blockBaseline[b] = count > 0 ? quantileInPlace(scratch, count, BASELINE_QUANTILE) : Number.NaN;
  }
  const baseline = new Float64Array(rate.length);
  for (let bin = 0; bin < rate.length; bin += 1) {
    baseline[bin] = blockBaseline[Math.floor(bin / binsPerBlock)] as number;
  }
  return baseline;
}

/** Robust noise (scaled MAD of the excess) per day; days without enough data borrow the median day's. */
function noiseByDay(excess: Float64Array, validDays: readonly boolean[], slotsPerDay: number): Float64Array {
  const noise = new Float64Array(validDays.length).fill(Number.NaN);
  const scratch = new Float64Array(slotsPerDay);
  for (let d = 0; d < validDays.length; d += 1) {
    let count = 0;
    for (let s = 0; s < slotsPerDay; s += 1) {
      const value = excess[d * slotsPerDay + s] as number;
      if (!Number.isNaN(value)) {
        scratch[count] = value;
        count += 1;
      }
    }
    if (count > 0 && validDays[d] === true) noise[d] = medianAndMadInPlace(scratch, count).mad;
  }
  const typical = finiteMedian(noise);
  for (let d = 0; d < noise.length; d += 1) if (Number.isNaN(noise[d])) noise[d] = finiteOr0(typical);
  return noise;
}

function findBursts(
  excess: Float64Array,
  baseline: Float64Array,
  noise: Float64Array,
  slotsPerDay: number,
  binMinutes: number,
  settings: Settings,
): { bursts: Burst[]; belowFloor: number; sustained: number } {
  const bursts: Burst[] = [];
  let belowFloor = 0;
  let sustained = 0;
  const mergeGapBins = Math.max(1, Math.floor(MERGE_GAP_MINUTES / binMinutes));
  let runStart = -1;
  let lastHot = -1;
  let runExcess = 0;
  let hotExcess = 0;
  let hotThreshold = 0;
  const close = (): void => {
    const durationMinutes = (lastHot - runStart + 1) * binMinutes;
    const bytes = runExcess * binMinutes;
    if (durationMinutes > settings.maxBurstMinutes) sustained += 1;
    else if (bytes < settings.minBurstBytes) belowFloor += 1;
    else {
      bursts.push({
        strength: hotExcess / hotThreshold,
        day: Math.floor(runStart / slotsPerDay),
        startMinute: (runStart % slotsPerDay) * binMinutes,
        durationMinutes,
        excessBytes: bytes,
      });
    }
    runStart = -1;
  };
  for (let bin = 0; bin < excess.length; bin += 1) {
    const value = excess[bin] as number;
    const day = Math.floor(bin / slotsPerDay);
    const threshold = Math.max(
      NOISE_K * (noise[day] as number),
      RELATIVE_RISE * (baseline[bin] as number),
      MIN_EXCESS_RATE,
    );
    const hot = value > threshold;
    if (hot) {
      if (runStart < 0) {
        runStart = bin;
        runExcess = 0;
        hotExcess = 0;
        hotThreshold = 0;
      } else {
        // Count what the cool bins bridged inside the burst still carried above baseline.
        for (let gap = lastHot + 1; gap < bin; gap += 1) {
          const bridged = excess[gap] as number;
          if (bridged > 0) runExcess += bridged;
        }
      }
      runExcess += value;
      hotExcess += value;
      hotThreshold += threshold;
      lastHot = bin;
    } else if (runStart >= 0 && bin - lastHot > mergeGapBins) {
      close();
    }
  }
  if (runStart >= 0) close();
  return { bursts, belowFloor, sustained };
}

/** Per day, the bursts that carry at least DOMINANCE of that day's largest burst. */
function dominantBursts(bursts: readonly Burst[]): Burst[] {
  const largest = new Map<number, number>();
  for (const burst of bursts)
    largest.set(burst.day, Math.max(largest.get(burst.day) ?? 0, burst.excessBytes));
  return bursts.filter((burst) => burst.excessBytes >= DOMINANCE * (largest.get(burst.day) ?? 0));
}

interface WindowSearch {
  readonly accepted: WindowItem[][];
  /** Distinct days in the best window found, accepted or not. */
  readonly bestDays: number;
  readonly share: number;
  readonly windowMinutesTotal: number;
}

/**
 * Greedy circular scan over each day's dominant bursts: the 90-min window of start times that holds
 * bursts on the most distinct days, then the next. The share of the dominant bursts that the accepted
 * windows explain tells a daily job from bursts at every hour or all day long.
 */
function findWindows(dominant: readonly Burst[], dayCount: number, daysObserved: number): WindowSearch {
  const needed = Math.max(3, Math.ceil(MIN_DAY_FRACTION * daysObserved));
  const accepted: WindowItem[][] = [];
  let remaining = [...dominant].sort((a, b) => a.startMinute - b.startMinute);
  let bestDays = 0;
  let bestItems: WindowItem[] = [];
  for (let round = 0; round < MAX_WINDOWS && remaining.length > 0; round += 1) {
    const best = bestWindow(remaining, dayCount);
    if (round === 0) {
      bestDays = best.days;
      bestItems = best.items;
    }
    if (best.days < needed) break;
    accepted.push(best.items);
    const taken = new Set(best.items.map((item) => item.burst));
    remaining = remaining.filter((burst) => !taken.has(burst));
  }
  // Averaged per day, so that one day full of small bursts (a partial day without the crawl) weighs one day.
  const explained = new Set((accepted.length > 0 ? accepted.flat() : bestItems).map((item) => item.burst));
  const perDay = new Map<number, { all: number; explained: number }>();
  for (const burst of dominant) {
    const entry = perDay.get(burst.day) ?? { all: 0, explained: 0 };
    entry.all += 1;
    if (explained.has(burst)) entry.explained += 1;
    perDay.set(burst.day, entry);
  }
  let shareSum = 0;
  for (const entry of perDay.values()) shareSum += entry.explained / entry.all;
  const share = perDay.size === 0 ? 0 : shareSum / perDay.size;
  return {
    accepted,
    bestDays,
    share,
    windowMinutesTotal: Math.max(1, accepted.length) * WINDOW_WIDTH_MINUTES,
  };
}

/** A burst in a window, with the day of the window's cycle it belongs to. */
interface WindowItem {
  readonly burst: Burst;
  /** A window straddling midnight spans two calendar days: bursts after midnight belong to the day before. */
  readonly cycleDay: number;
}

function bestWindow(sorted: readonly Burst[], dayCount: number): { days: number; items: WindowItem[] } {
  const m = sorted.length;
  // Index 0 is the cycle before the first day (a burst just after midnight on day 0).
  const perDay = new Uint16Array(dayCount + 1);
  let distinct = 0;
  let bestDays = 0;
  let bestStart = 0;
  let bestEnd = 0;
  let bestBytes = 0;
  let windowBytes = 0;
  let end = 0; // exclusive, over the doubled (circular) sequence
  const at = (k: number): Burst => sorted[k % m] as Burst;
  const minuteAt = (k: number): number => at(k).startMinute + (k >= m ? 1440 : 0);
  const slotAt = (k: number): number => at(k).day + (k >= m ? 0 : 1);
  for (let start = 0; start < m; start += 1) {
    if (end < start) end = start;
    while (end < start + m && minuteAt(end) < minuteAt(start) + WINDOW_WIDTH_MINUTES) {
      const slot = slotAt(end);
      if (perDay[slot] === 0) distinct += 1;
      perDay[slot] = (perDay[slot] as number) + 1;
      windowBytes += at(end).excessBytes;
      end += 1;
    }
    // Most distinct days first; among equals, the window carrying the most bytes (the crawl).
    if (distinct > bestDays || (distinct === bestDays && windowBytes > bestBytes)) {
      bestDays = distinct;
      bestStart = start;
      bestEnd = end;
      bestBytes = windowBytes;
    }
    windowBytes -= at(start).excessBytes;
    const leaving = slotAt(start);
    perDay[leaving] = (perDay[leaving] as number) - 1;
    if (perDay[leaving] === 0) distinct -= 1;
  }
  const items: WindowItem[] = [];
  for (let k = bestStart; k < bestEnd; k += 1) items.push({ burst: at(k), cycleDay: slotAt(k) - 1 });
  return { days: bestDays, items };
}

function describeWindow(
  items: readonly WindowItem[],
  dominant: readonly Burst[],
  daysObserved: number,
  windowMinutesTotal: number,
): RecurringWindow {
  const bursts = items.map((item) => item.burst);
  const first = bursts[0] as Burst;
  // Unwrap start minutes relative to the window's first start (the window may straddle midnight).
  const unwrap = (minute: number): number => (minute < first.startMinute ? minute + 1440 : minute);
  const starts = bursts.map((burst) => unwrap(burst.startMinute));
  const ends = bursts.map((burst) => unwrap(burst.startMinute) + burst.durationMinutes);
  const perDay = new Map<number, number>();
  for (const item of items)
    perDay.set(item.cycleDay, (perDay.get(item.cycleDay) ?? 0) + item.burst.excessBytes);
  const days = perDay.size;
  // Background: dominant bursts outside all windows, as a rate per minute of the rest of the day.
  const inside = new Set(bursts);
  const outside = dominant.filter((burst) => !inside.has(burst)).length;
  const backgroundPerMinute = outside / (daysObserved * Math.max(1, 1440 - windowMinutesTotal));
  const chancePerDay = 1 - Math.exp(-backgroundPerMinute * WINDOW_WIDTH_MINUTES);
  const pValue = binomialUpperTail(daysObserved, days, chancePerDay);
  return {
    start: formatClock(quantile(starts, 0.1)),
    end: formatClock(quantile(ends, 0.9)),
    latestStart: formatClock(quantile(starts, 0.9)),
    earliestStart: formatClock(Math.min(...starts)),
    daysWithSpike: days,
    daysObserved,
    typicalExcessBytesPerMin: Math.round(
      quantile(
        bursts.map((b) => b.excessBytes / b.durationMinutes),
        0.5,
      ),
    ),
    extraBytesPerDay: Math.round(quantile([...perDay.values()], 0.5)),
    typicalDurationMinutes: Math.round(
      quantile(
        bursts.map((b) => b.durationMinutes),
        0.5,
      ),
    ),
    pValue,
    confidence: round3(Math.min(1, days / daysObserved) * (1 - chancePerDay)),
  };
}

function findDailyBurst(
  dominant: readonly Burst[],
  daysObserved: number,
): { burst: DailyBurst | null; rejection: string } {
  const top = new Map<number, Burst>();
  for (const burst of dominant) {
    const current = top.get(burst.day);
    if (current === undefined || burst.excessBytes > current.excessBytes) top.set(burst.day, burst);
  }
  const days = top.size;
  const needed = Math.max(3, Math.ceil(MIN_DAY_FRACTION * daysObserved));
  if (days < needed) return { burst: null, rejection: `bursts on only ${days} of ${daysObserved} days` };
  const perDay = dominant.length / daysObserved;
  if (perDay > MAX_BURSTS_PER_DAY) {
    return { burst: null, rejection: `${perDay.toFixed(1)} comparable bursts a day, not one` };
  }
  const tops = [...top.values()].sort((a, b) => a.day - b.day || a.startMinute - b.startMinute);
  const gaps = tops.slice(1).map((burst, k) => {
    const previous = tops[k] as Burst;
    return ((burst.day - previous.day) * 1440 + burst.startMinute - previous.startMinute) / 60;
  });
  const typicalGap = quantile(gaps, 0.5);
  if (!(typicalGap >= DAILY_GAP_HOURS[0] && typicalGap <= DAILY_GAP_HOURS[1])) {
    return { burst: null, rejection: `bursts come every ${typicalGap.toFixed(1)} h, not daily` };
  }
  const strength = quantile(
    tops.map((burst) => burst.strength),
    0.5,
  );
  if (strength < MIN_DAILY_BURST_STRENGTH) {
    return { burst: null, rejection: `bursts barely clear the noise (${strength.toFixed(1)}× threshold)` };
  }
  const sizeSpread = robustSpread(tops.map((burst) => burst.excessBytes));
  if (sizeSpread > MAX_SIZE_SPREAD) {
    return { burst: null, rejection: `burst sizes vary too much (IQR/median ${sizeSpread.toFixed(2)})` };
  }
  const durationSpread = robustSpread(tops.map((burst) => burst.durationMinutes));
  if (durationSpread > MAX_DURATION_SPREAD) {
    return {
      burst: null,
      rejection: `burst lengths vary too much (IQR/median ${durationSpread.toFixed(2)})`,
    };
  }
  const starts = tops.map((burst) => burst.startMinute);
  const earliest = quantile(starts, 0.1);
  const latest = quantile(starts, 0.9);
  return {
    burst: {
      earliestStart: formatClock(earliest),
      latestStart: formatClock(latest),
      startSpreadMinutes: Math.round(latest - earliest),
      typicalDurationMinutes: Math.round(
        quantile(
          tops.map((burst) => burst.durationMinutes),
          0.5,
        ),
      ),
      typicalBytes: Math.round(
        quantile(
          tops.map((burst) => burst.excessBytes),
          0.5,
        ),
      ),
      sizeSpread: round3(sizeSpread),
      daysWithBurst: days,
      daysObserved,
      confidence: round3(Math.min(1, days / daysObserved) * Math.max(0, 1 - sizeSpread)),
    },
    rejection: '',
  };
}

function noneReason(
  evidence: NetworkOutEvidence,
  search: WindowSearch,
  dailyRejection: string,
  settings: Settings,
): string {
  const days = evidence.daysObserved;
  if (evidence.bursts === 0) {
    const parts = [`no burst above baseline on ${days} days`];
    if (evidence.burstsBelowFloor > 0) {
      parts.push(`${evidence.burstsBelowFloor} below the ${formatBytes(settings.minBurstBytes)} floor`);
    }
    if (evidence.sustainedRises > 0) {
      parts.push(
        `${evidence.sustainedRises} rise(s) longer than ${settings.maxBurstMinutes} min (day cycle or level shift)`,
      );
    }
    return parts.join('; ');
  }
  if (search.accepted.length > 0) {
    return (
      `a ${WINDOW_WIDTH_MINUTES}-min window holds bursts on ${search.bestDays} of ${days} days but only ` +
      `${Math.round(search.share * 100)} % of the day's bursts: bursts come at many times of day`
    );
  }
  return `no time of day with bursts on most days (best: ${search.bestDays} of ${days}); ${dailyRejection}`;
}

function insufficient(
  settings: Settings,
  reason: string,
  evidence: Omit<NetworkOutEvidence, 'baselineBytesPerMin' | 'noiseBytesPerMin'> &
    Partial<Pick<NetworkOutEvidence, 'baselineBytesPerMin' | 'noiseBytesPerMin'>>,
): NetworkOutAnalysis {
  return {
    metric: 'network-out',
    verdict: 'insufficient-data',
    reason,
    timeZone: settings.timeZone,
    windows: [],
    dailyBurst: null,
    evidence: { baselineBytesPerMin: 0, noiseBytesPerMin: 0, ...evidence },
  };
}

function emptyCounts(firstDay: string | null, lastDay: string | null, daysObserved: number) {
  return {
    firstDay,
    lastDay,
    daysObserved,
    bursts: 0,
    burstsBelowFloor: 0,
    sustainedRises: 0,
    daysWithBursts: 0,
    shareInWindows: 0,
  };
}

/** Median of the finite values (NaN when there are none), without changing the input. */
function finiteMedian(values: Float64Array): number {
  const scratch = new Float64Array(values.length);
  let count = 0;
  for (const value of values) {
    if (Number.isFinite(value)) {
      scratch[count] = value;
      count += 1;
    }
  }
  return quantileInPlace(scratch, count, 0.5);
}

function finiteOr0(value: number): number {
  return Number.isFinite(value) ? Math.round(value) : 0;
}

function round3(value: number): number {
  return Math.round(value * 1000) / 1000;
}

/** Human-readable decimal bytes: 1.3 GB, 640 kB. */
export function formatBytes(bytes: number): string {
  const units = ['B', 'kB', 'MB', 'GB', 'TB'];
  let value = bytes;
  let unit = 0;
  while (Math.abs(value) >= 1000 && unit < units.length - 1) {
    value /= 1000;
    unit += 1;
  }
  return `${value >= 100 || unit === 0 ? Math.round(value) : value.toFixed(1)} ${units[unit]}`;
}
