import { InvalidOptionError } from './errors.ts';
import { roundTo } from './format.ts';
import { type CleanSeries, cleanSeries, type MetricSeries } from './series.ts';
import { mannKendall, medianAndMadInPlace, quantile, quantileInPlace, theilSenSlope } from './stats.ts';
import { MS_PER_DAY } from './time-zone.ts';

/** The units a memory series may be read in: `mem_used_percent` (percent) or a process RSS (bytes). */
export const MEMORY_UNITS = ['percent', 'bytes'] as const;

/** What a memory series measures. */
export type MemoryUnit = (typeof MEMORY_UNITS)[number];

export interface MemoryOptions {
  /** 'percent' (mem_used_percent), 'bytes' (procstat RSS) or 'auto' (percent when every value is 0..100). */
  readonly unit?: MemoryUnit | 'auto';
  /** Level whose arrival is projected, for percent series. Default 90. */
  readonly thresholdPercent?: number;
  /** Level whose arrival is projected, for byte series. No projection without it. */
  readonly thresholdBytes?: number;
  /** Growth is judged only on a segment (since the last restart) at least this long. Default 2.5. */
  readonly minSegmentDays?: number;
  /** Fewer days covered by data gives 'insufficient-data'. Default 3. */
  readonly minDays?: number;
}

export type MemoryVerdict = 'growth' | 'none' | 'insufficient-data';

export interface Restart {
  readonly at: string;
  readonly from: number;
  readonly to: number;
}

export interface MemoryAnalysis {
  readonly metric: 'memory';
  readonly verdict: MemoryVerdict;
  readonly reason: string;
  readonly unit: MemoryUnit;
  /** Theil–Sen slope of the judged segment, in units per day (percentage points for percent series). */
  readonly slopePerDay: number | null;
  readonly significance: {
    readonly method: 'mann-kendall on 6-hour means';
    readonly pValue: number;
    readonly kendallTau: number;
    readonly samples: number;
  } | null;
  readonly restarts: readonly Restart[];
  /** The stretch of data the verdict is about: since the last restart. */
  readonly segment: {
    readonly start: string;
    readonly end: string;
    readonly days: number;
    readonly levelAtStart: number;
    readonly levelNow: number;
    /** Rise from one part of the segment to the next (3 or 4 equal parts): spread evenly for a leak. */
    readonly partRises: readonly number[];
    readonly recentSlopePerDay: number;
  } | null;
  readonly projection: {
    readonly threshold: number;
    /** Days from the last datapoint until the trend reaches the threshold; 0 when already above. */
    readonly daysToThreshold: number;
    readonly reachesAt: string;
  } | null;
  readonly evidence: {
    readonly datapoints: number;
    readonly invalidDatapoints: number;
    readonly duplicateDatapoints: number;
    readonly periodSeconds: number;
    readonly daysCovered: number;
    readonly noise: number;
    /** Transient rises or falls (a spike, a batch) set aside from the trend: drops that are not restarts. */
    readonly excursions: number;
  };
}

const HOUR = 3_600_000;
const MAX_PAIRWISE_POINTS = 120;
const P_VALUE_LIMIT = 0.01;
// A leak rises in every part of the segment: no part-to-part rise may fall below this share of the mean.
const MIN_PART_RISE_SHARE = 0.25;
const MIN_SLOPE_PERCENT_PER_DAY = 0.2;
const MIN_SLOPE_RELATIVE_PER_DAY = 0.005;
// A restart: a drop of at least this many noise units and this share of the series' range, sustained.
const RESTART_NOISE_K = 8;
const RESTART_RANGE_SHARE = 0.2;
const RESTART_CONFIRM_POINTS = 6;
// The level must still be down this long after a drop (a dip of an hour is no restart).
const CONFIRM_MS = 3 * 3_600_000;
// A restart gives back at least half of what built up since the segment began (its low quantile).
const RESTART_RELEASE_SHARE = 0.5;
const FRESH_QUANTILE = 0.1;
// An excursion began where the level was within this share of the drop of where it lands.
const EXCURSION_TOLERANCE_SHARE = 0.25;
const SHARP_RISE_MS = 3 * 3_600_000;
// Daily-mean tests need a week-ish of days to mean anything.
const MIN_DAILY_MEANS = 6;
const MAX_TOP_TWO_DAY_SHARE = 0.6;
const MIN_RISE_OVER_WANDER = 4;
const ONE_STEP_SHARE = 0.7;
// A late staircase: at least this many rising days — the first and last may hold part of a step, so at
// least two whole steps between — after at least MIN_FLAT_DAYS_BEFORE days to compare with.
const MIN_LATE_STEPS = 4;
const MIN_FLAT_DAYS_BEFORE = 3;

interface Settings {
  readonly unit: MemoryUnit | 'auto';
  readonly thresholdPercent: number;
  readonly thresholdBytes: number | undefined;
  readonly minSegmentDays: number;
  readonly minDays: number;
}

/**
 * Decides whether memory (mem_used_percent or a process RSS) grows steadily since the last restart.
 * Pure: no clock or environment; "now" is the last datapoint.
 * @throws InvalidSeriesError, InvalidOptionError
 */
export function analyzeMemory(series: MetricSeries, options: MemoryOptions = {}): MemoryAnalysis {
  const settings = resolveOptions(options);
  const clean = cleanSeries(series);
  const n = clean.values.length;
  const unit =
    settings.unit !== 'auto' ? settings.unit : clean.values.every((v) => v <= 100) ? 'percent' : 'bytes';
  const daysCovered = coveredDays(clean);
  const base = {
    metric: 'memory' as const,
    unit,
    slopePerDay: null,
    significance: null,
    restarts: [] as Restart[],
    segment: null,
    projection: null,
  };
  const evidenceBase = {
    datapoints: n,
    invalidDatapoints: clean.invalidPoints,
    duplicateDatapoints: clean.duplicatePoints,
    periodSeconds: clean.periodMs / 1000,
    daysCovered: roundTo(daysCovered, 2),
  };
  if (n === 0 || daysCovered < settings.minDays) {
    return {
      ...base,
      verdict: 'insufficient-data',
      reason: `data covers ${roundTo(daysCovered, 1)} day(s); need ${settings.minDays}`,
      evidence: { ...evidenceBase, noise: 0, excursions: 0 },
    };
  }

  const { restarts, starts, noise, masked, excursions } = findDrops(clean, unit);
  const found = { ...base, restarts, evidence: { ...evidenceBase, noise: roundTo(noise, 4), excursions } };
  const segmentStart = starts[starts.length - 1] ?? 0;
  const lastTime = clean.timestamps[n - 1] as number;
  const segmentDays = (lastTime - (clean.timestamps[segmentStart] as number)) / MS_PER_DAY;

  if (segmentDays < settings.minSegmentDays) {
    if (starts.length >= 4) return { ...found, ...judgePeaks(clean, starts, unit, settings) };
    return {
      ...found,
      verdict: 'insufficient-data',
      reason:
        `last restart ${Math.round(segmentDays * 24)} h ago; growth since a restart needs ` +
        `${settings.minSegmentDays} days of data`,
    };
  }
  const judged = judgeSegment(clean, masked, segmentStart, unit, settings);
  const setAside =
    excursions > 0
      ? `; ${excursions} spike(s) or batch(es) that ended where they began set aside, not restarts`
      : '';
  return { ...found, ...judged, reason: `${judged.reason}${setAside}` };
}

function resolveOptions(options: MemoryOptions): Settings {
  const settings: Settings = {
    unit: options.unit ?? 'auto',
    thresholdPercent: options.thresholdPercent ?? 90,
    thresholdBytes: options.thresholdBytes,
    minSegmentDays: options.minSegmentDays ?? 2.5,
    minDays: options.minDays ?? 3,
  };
  if (settings.unit !== 'auto' && !MEMORY_UNITS.includes(settings.unit)) {
    throw new InvalidOptionError(`unit must be percent, bytes or auto, got ${String(settings.unit)}`);
  }
  if (!(settings.thresholdPercent > 0 && settings.thresholdPercent <= 100)) {
    throw new InvalidOptionError(`thresholdPercent must be in (0, 100], got ${settings.thresholdPercent}`);
  }
  if (
    settings.thresholdBytes !== undefined &&
    !(settings.thresholdBytes > 0 && Number.isFinite(settings.thresholdBytes))
  ) {
    throw new InvalidOptionError(`thresholdBytes must be a positive number, got ${settings.thresholdBytes}`);
  }
  if (!(settings.minSegmentDays >= 1 && settings.minSegmentDays <= 60)) {
    throw new InvalidOptionError(`minSegmentDays must be between 1 and 60, got ${settings.minSegmentDays}`);
  }
  if (!(settings.minDays >= 1 && settings.minDays <= 60)) {
    throw new InvalidOptionError(`minDays must be between 1 and 60, got ${settings.minDays}`);
  }
  return settings;
}

/** Days with data: distinct hours that hold a datapoint, over 24. */
function coveredDays(clean: CleanSeries): number {
  let hours = 0;
  let previous = Number.NaN;
  for (const t of clean.timestamps) {
    const hour = Math.floor(t / HOUR);
    if (hour !== previous) {
      hours += 1;
      previous = hour;
    }
  }
  return hours / 24;
}

/** Restarts, the excursions set aside (masked points), and the noise of consecutive differences. */
interface Drops {
  readonly restarts: Restart[];
  /** Indexes at which a segment starts: 0 and each restart. */
  readonly starts: number[];
  readonly noise: number;
  /** 1 for points inside a transient excursion (a spike, a batch) that the trend must not see. */
  readonly masked: Uint8Array;
  readonly excursions: number;
}

/**
 * Sustained sharp drops, each judged a restart or the end of a transient excursion. A drop of many noise
 * units and a good share of the range within two periods, with the level still down three hours later (a
 * dip that recovers is no drop), is a restart when it gives back at least half of what built up since the
 * segment began, and the level it falls to was not left by a sharp rise shortly before: a spike or a batch
 * that ends where it began is an excursion, masked from the trend, not a restart.
 */
function findDrops(clean: CleanSeries, unit: MemoryUnit): Drops {
  const { timestamps, values } = clean;
  const n = values.length;
  const maxGap = 3 * clean.periodMs;
  const diffs = new Float64Array(Math.max(0, n - 1));
  let count = 0;
  for (let i = 1; i < n; i += 1) {
    if ((timestamps[i] as number) - (timestamps[i - 1] as number) <= maxGap) {
      diffs[count] = (values[i] as number) - (values[i - 1] as number);
      count += 1;
    }
  }
  const noise = count > 0 ? medianAndMadInPlace(diffs, count).mad / Math.SQRT2 : 0;
  const scratch = Float64Array.from(values);
  const low = quantileInPlace(scratch, n, 0.05);
  const high = quantileInPlace(scratch, n, 0.95);
  const levelFloor = unit === 'percent' ? 2 : 0.05 * quantileInPlace(scratch, n, 0.5);
  const minDrop = Math.max(
    RESTART_NOISE_K * noise * Math.SQRT2,
    RESTART_RANGE_SHARE * (high - low),
    levelFloor,
  );
  const hours = hourlyLevels(clean);
  const restarts: Restart[] = [];
  const starts = [0];
  const masked = new Uint8Array(n);
  let excursions = 0;
  for (let i = 1; i < n; i += 1) {
    let before = values[i - 1] as number;
    if (i >= 2 && (timestamps[i] as number) - (timestamps[i - 2] as number) <= 2 * maxGap) {
      before = Math.max(before, values[i - 2] as number);
    }
    const drop = before - (values[i] as number);
    if (drop < minDrop || (timestamps[i] as number) - (timestamps[i - 1] as number) > maxGap) continue;
    let confirmEnd = i + RESTART_CONFIRM_POINTS;
    while (confirmEnd < n && (timestamps[confirmEnd] as number) < (timestamps[i] as number) + CONFIRM_MS)
      confirmEnd += 1;
    const pre = quantile(values.subarray(Math.max(0, i - RESTART_CONFIRM_POINTS), i), 0.5);
    const post = quantile(values.subarray(i, Math.min(n, confirmEnd)), 0.5);
    if (pre - post < 0.6 * drop) continue;
    const segmentStart = starts[starts.length - 1] as number;
    const fresh = quantile(values.subarray(segmentStart, i), FRESH_QUANTILE);
    const excursion = excursionStart(hours, timestamps, segmentStart, i, post, pre, noise);
    const releases = post - fresh <= RESTART_RELEASE_SHARE * (pre - fresh);
    if (releases && !excursion.sharp) {
      restarts.push({
        at: new Date(timestamps[i] as number).toISOString(),
        from: roundTo(pre, 4),
        to: roundTo(post, 4),
      });
      starts.push(i);
    } else if (excursion.from >= 0) {
      for (let k = excursion.from; k < i; k += 1) masked[k] = 1;
      excursions += 1;
    }
    i += RESTART_CONFIRM_POINTS;
  }
  return { restarts, starts, noise, masked, excursions };
}

/** Hourly mean levels: start instant of each hour with data, its mean, and the index of its first point. */
function hourlyLevels(clean: CleanSeries): { start: number[]; mean: number[]; first: number[] } {
  const start: number[] = [];
  const mean: number[] = [];
  const first: number[] = [];
  let hour = Number.NaN;
  let level = 0;
  let count = 0;
  for (let i = 0; i < clean.values.length; i += 1) {
    const h = Math.floor((clean.timestamps[i] as number) / HOUR);
    if (h !== hour) {
      if (count > 0) mean.push(level);
      start.push(h * HOUR);
      first.push(i);
      hour = h;
      level = 0;
      count = 0;
    }
    count += 1;
    level += ((clean.values[i] as number) - level) / count;
  }
  if (count > 0) mean.push(level);
  return { start, mean, first };
}

/**
 * Where the excursion that a drop ends began: the last hour, back to the segment's start, whose level was
 * already down near where the drop lands; and whether the level left it sharply (within three hours — a
 * spike, a batch starting) rather than building up over days (a leak). -1 when the level never was down.
 */
function excursionStart(
  hours: { start: number[]; mean: number[]; first: number[] },
  timestamps: Float64Array,
  segmentStart: number,
  dropIndex: number,
  post: number,
  pre: number,
  noise: number,
): { from: number; sharp: boolean } {
  const tolerance = Math.max(3 * noise, EXCURSION_TOLERANCE_SHARE * (pre - post));
  const dropTime = timestamps[dropIndex] as number;
  const earliest = timestamps[segmentStart] as number;
  // The last whole hour before the drop's own hour, walking back.
  let k = hours.start.length - 1;
  while (k >= 0 && (hours.start[k] as number) + HOUR > dropTime) k -= 1;
  for (; k >= 0 && (hours.start[k] as number) >= earliest; k -= 1) {
    if ((hours.mean[k] as number) <= post + tolerance) {
      const from = k + 1 < hours.first.length ? (hours.first[k + 1] as number) : dropIndex;
      const began = k + 1 < hours.start.length ? (hours.start[k + 1] as number) : dropTime;
      // Sharp: the level reached most of the way up within three hours of leaving (or the whole
      // excursion was that short).
      let up = k + 1;
      while (
        up < hours.mean.length &&
        (hours.start[up] as number) < dropTime &&
        (hours.mean[up] as number) < post + 0.8 * (pre - post)
      )
        up += 1;
      const reached = up < hours.start.length ? (hours.start[up] as number) : dropTime;
      const sharp = dropTime - began <= SHARP_RISE_MS || reached - began <= SHARP_RISE_MS;
      return { from, sharp };
    }
  }
  return { from: -1, sharp: false };
}

type Judgement = Pick<
  MemoryAnalysis,
  'verdict' | 'reason' | 'slopePerDay' | 'significance' | 'segment' | 'projection'
>;

/** Hourly means (x in days since `origin`) of values[from..n) outside excursions. */
function hourlyMeans(
  clean: CleanSeries,
  masked: Uint8Array,
  from: number,
  origin: number,
): { x: number[]; y: number[] } {
  const x: number[] = [];
  const y: number[] = [];
  let hour = Number.NaN;
  let mean = 0;
  let count = 0;
  const flush = (): void => {
    if (count > 0) {
      x.push(((hour + 0.5) * HOUR - origin) / MS_PER_DAY);
      y.push(mean);
    }
  };
  for (let i = from; i < clean.values.length; i += 1) {
    if (masked[i] === 1) continue;
    const h = Math.floor((clean.timestamps[i] as number) / HOUR);
    if (h !== hour) {
      flush();
      hour = h;
      mean = 0;
      count = 0;
    }
    count += 1;
    // A running mean: sums of values near the float limit would overflow to Infinity.
    mean += ((clean.values[i] as number) - mean) / count;
  }
  flush();
  return { x, y };
}

/** Means over consecutive blocks of `width` days (x: block centre). */
function blockMeans(x: readonly number[], y: readonly number[], width: number): { x: number[]; y: number[] } {
  const sums = new Map<number, { mx: number; my: number; n: number }>();
  for (let i = 0; i < x.length; i += 1) {
    const key = Math.floor((x[i] as number) / width);
    const entry = sums.get(key) ?? { mx: 0, my: 0, n: 0 };
    entry.n += 1;
    entry.mx += ((x[i] as number) - entry.mx) / entry.n;
    entry.my += ((y[i] as number) - entry.my) / entry.n;
    sums.set(key, entry);
  }
  const keys = [...sums.keys()].sort((a, b) => a - b);
  return {
    x: keys.map((k) => sums.get(k)?.mx ?? 0),
    y: keys.map((k) => sums.get(k)?.my ?? 0),
  };
}

function judgeSegment(
  clean: CleanSeries,
  masked: Uint8Array,
  from: number,
  unit: MemoryUnit,
  settings: Settings,
): Judgement {
  const origin = clean.timestamps[from] as number;
  const last = clean.timestamps[clean.timestamps.length - 1] as number;
  const days = (last - origin) / MS_PER_DAY;
  const hourly = hourlyMeans(clean, masked, from, origin);
  const whole = assessTrend(hourly, origin, days, unit);
  let judged = whole;
  // A leak that began mid-segment (a mount added last week) fails "rises in every part": judge the recent
  // half, when it is long enough for every test (the daily-mean ones included).
  if (whole.failure === 'uneven' && days / 2 >= Math.max(settings.minSegmentDays, MIN_DAILY_MEANS)) {
    const half = days / 2;
    const recentX: number[] = [];
    const recentY: number[] = [];
    hourly.x.forEach((x, i) => {
      if (x >= half) {
        recentX.push(x - half);
        recentY.push(hourly.y[i] as number);
      }
    });
    const recent = assessTrend({ x: recentX, y: recentY }, origin + half * MS_PER_DAY, days - half, unit);
    if (recent.failure === null) judged = recent;
  }
  // A leak that began a few days ago by one step per daily crawl (a new mount) reads as a level shift over
  // the segment: judge its own days.
  let since = judged === whole ? segmentOrigin(from) : 'the middle of the segment (flat before)';
  if (judged.failure !== null) {
    const late = lateStaircase(hourly, origin, unit);
    if (late !== null) {
      judged = late.assessed;
      since = `${late.onset.slice(0, 10)} (flat before)`;
    }
  }
  const { judgement, failure } = judged;
  if (failure !== null) return judgement;
  const projection = project(
    judgement.segment?.levelNow ?? 0,
    judgement.slopePerDay ?? 0,
    last,
    unit,
    settings,
  );
  const show = (value: number): string => formatLevel(value, unit);
  return {
    ...judgement,
    reason:
      `memory rises ${show(judgement.slopePerDay ?? 0)}/day over ${judgement.segment?.days} days since ${since}` +
      ` (Mann–Kendall p=${judgement.significance?.pValue.toPrecision(2)}, τ=${judgement.significance?.kendallTau})` +
      (projection === null
        ? ''
        : `; reaches ${show(projection.threshold)} in ${roundTo(projection.daysToThreshold, 1)} days`),
    projection,
  };
}

/**
 * The latest days rising by steps of a similar size, one a day (at least MIN_LATE_STEPS of them, each far
 * above the day-to-day wander before), on a segment that was flat until then: growth since the first step,
 * at the typical step per day. Null when the segment does not end that way.
 */
function lateStaircase(
  hourly: { x: readonly number[]; y: readonly number[] },
  origin: number,
  unit: MemoryUnit,
): { assessed: { judgement: Judgement; failure: TrendFailure }; onset: string } | null {
  const daily = blockMeans(hourly.x, hourly.y, 1);
  const means = daily.y;
  const increments = means.slice(1).map((v, k) => v - (means[k] as number));
  if (increments.length < MIN_LATE_STEPS + MIN_FLAT_DAYS_BEFORE) return null;
  const wander = medianAndMadInPlace(Float64Array.from(increments), increments.length).mad;
  const level = quantile(hourly.y, 0.5);
  const minStep = Math.max(
    MIN_RISE_OVER_WANDER * wander,
    unit === 'percent' ? MIN_SLOPE_PERCENT_PER_DAY : MIN_SLOPE_RELATIVE_PER_DAY * level,
  );
  // The run of days that rose clearly, up to the end (the last day of data may be short: it only has to
  // rise a little).
  let run = 0;
  const last = increments.length - 1;
  if ((increments[last] as number) > 0) run = 1;
  while (run < increments.length && (increments[last - run] as number) >= minStep) run += 1;
  if (run < MIN_LATE_STEPS || run > increments.length - MIN_FLAT_DAYS_BEFORE) return null;
  // The first rising day may hold part of a step, the last one part of a day: the days between rise by
  // similar steps.
  const steps = increments.slice(increments.length - run);
  const inner = steps.slice(1, -1);
  const step = quantile(steps, 0.5);
  for (const value of inner) if (!(value >= 0.5 * step && value <= 2 * step)) return null;
  const onsetDay = (daily.x[daily.x.length - 1 - run] as number) + 0.5;
  const x: number[] = [];
  const y: number[] = [];
  hourly.x.forEach((value, i) => {
    if (value >= onsetDay - 0.5) {
      x.push(value - (onsetDay - 0.5));
      y.push(hourly.y[i] as number);
    }
  });
  const days = (x[x.length - 1] ?? 0) + 1 / 48;
  const assessed = assessTrend({ x, y }, origin + (onsetDay - 0.5) * MS_PER_DAY, days, unit);
  if (!((assessed.judgement.significance?.pValue ?? 1) < P_VALUE_LIMIT)) return null;
  return {
    assessed: {
      judgement: { ...assessed.judgement, verdict: 'growth', slopePerDay: roundTo(step, 4) },
      failure: null,
    },
    onset: new Date(origin + (onsetDay - 0.5) * MS_PER_DAY).toISOString(),
  };
}

/** Why a stretch is not growth: no significant rise, too small, uneven (steps, plateau), or wander. */
type TrendFailure = 'flat' | 'negligible' | 'uneven' | 'wander' | null;

/**
 * Judges hourly means (x: days since `origin`). Growth needs all of: a significant Mann–Kendall trend on
 * 6-hour means, a Theil–Sen slope above the negligible-drift floor, a rise in every part of the stretch,
 * and (with ≥ 6 days) a rise spread over the days and far larger than the day-to-day wander.
 */
function assessTrend(
  hourly: { x: readonly number[]; y: readonly number[] },
  origin: number,
  days: number,
  unit: MemoryUnit,
): { judgement: Judgement; failure: TrendFailure } {
  // Theil–Sen is O(n²): fit on blocks of a few hours when the stretch is long.
  const blockHours = Math.ceil(hourly.x.length / MAX_PAIRWISE_POINTS);
  const fit = blockHours > 1 ? blockMeans(hourly.x, hourly.y, blockHours / 24) : hourly;
  const slope = theilSenSlope(fit.x, fit.y);
  const intercept = quantile(
    fit.y.map((v, i) => v - slope * (fit.x[i] as number)),
    0.5,
  );
  const trend = mannKendall(blockMeans(hourly.x, hourly.y, 0.25).y);
  const halfIndex = fit.x.findIndex((v) => v >= days / 2);
  const recentSlope =
    halfIndex > 0 && fit.x.length - halfIndex >= 3
      ? theilSenSlope(fit.x.slice(halfIndex), fit.y.slice(halfIndex))
      : slope;
  const parts = days >= 4 ? 4 : 3;
  const partMedians = Array.from({ length: parts }, (_, k) => {
    const inPart = hourly.y.filter((_, i) => {
      const position = (hourly.x[i] as number) / days;
      return position >= k / parts && (position < (k + 1) / parts || k === parts - 1);
    });
    return inPart.length > 0 ? quantile(inPart, 0.5) : Number.NaN;
  });
  const partRises = partMedians.slice(1).map((m, k) => m - (partMedians[k] as number));
  const daily = blockMeans(hourly.x, hourly.y, 1);
  const levelNow = intercept + slope * days;
  const level = quantile(hourly.y, 0.5);
  const minSlope = unit === 'percent' ? MIN_SLOPE_PERCENT_PER_DAY : MIN_SLOPE_RELATIVE_PER_DAY * level;
  const show = (value: number): string => formatLevel(value, unit);
  const judged = {
    slopePerDay: roundTo(slope, 4),
    significance: {
      method: 'mann-kendall on 6-hour means' as const,
      pValue: trend.pIncreasing,
      kendallTau: roundTo(trend.tau, 3),
      samples: trend.n,
    },
    segment: {
      start: new Date(origin).toISOString(),
      end: new Date(origin + days * MS_PER_DAY).toISOString(),
      days: roundTo(days, 2),
      levelAtStart: roundTo(intercept, 4),
      levelNow: roundTo(levelNow, 4),
      partRises: partRises.map((rise) => roundTo(rise, 4)),
      recentSlopePerDay: roundTo(recentSlope, 4),
    },
    projection: null,
  };
  const none = (failure: Exclude<TrendFailure, null>, reason: string) => ({
    judgement: { ...judged, verdict: 'none' as const, reason },
    failure,
  });
  if (!(slope > 0) || trend.pIncreasing >= P_VALUE_LIMIT) {
    return none(
      'flat',
      slope < 0
        ? `memory falls ${show(-slope)}/day over ${roundTo(days, 1)} days`
        : `no significant rise over ${roundTo(days, 1)} days (Mann–Kendall p=${trend.pIncreasing.toPrecision(2)})`,
    );
  }
  if (slope < minSlope) {
    return none('negligible', `drift of ${show(slope)}/day is negligible (below ${show(minSlope)}/day)`);
  }
  const meanRise = ((partMedians[parts - 1] as number) - (partMedians[0] as number)) / (parts - 1);
  const weakest = partRises.reduce((min, rise, k) => (rise < (partRises[min] as number) ? k : min), 0);
  if (!(meanRise > 0) || (partRises[weakest] as number) < MIN_PART_RISE_SHARE * meanRise) {
    const total = meanRise * (parts - 1);
    const largest = Math.max(...partRises);
    const rises = partRises.map(show).join(', ');
    let reason = `the rise is uneven, not a steady leak: part-to-part rises ${rises}`;
    if (total > 0 && largest >= ONE_STEP_SHARE * total)
      reason = `the rise happened in one step (a level shift): part-to-part rises ${rises}`;
    else if (weakest === partRises.length - 1)
      reason = `rose, then levelled off: part-to-part rises ${rises}`;
    return none('uneven', reason);
  }
  if (daily.y.length >= MIN_DAILY_MEANS) {
    const increments = daily.y.slice(1).map((v, k) => v - (daily.y[k] as number));
    const total = (daily.y[daily.y.length - 1] as number) - (daily.y[0] as number);
    const topTwo = [...increments]
      .sort((a, b) => b - a)
      .slice(0, 2)
      .reduce((sum, v) => sum + v, 0);
    if (total > 0 && topTwo > MAX_TOP_TWO_DAY_SHARE * total) {
      return none(
        'uneven',
        `${Math.round((100 * topTwo) / total)} % of the rise happened on two days: level shifts, not a leak`,
      );
    }
    const residuals = Float64Array.from(daily.y, (v, k) => v - (intercept + slope * (daily.x[k] as number)));
    const wander = medianAndMadInPlace(residuals, residuals.length).mad;
    if (wander > 0 && slope * days < MIN_RISE_OVER_WANDER * wander) {
      return none(
        'wander',
        `a rise of ${show(slope * days)} is only ${roundTo((slope * days) / wander, 1)}× the day-to-day wander (${show(wander)})`,
      );
    }
  }
  return { judgement: { ...judged, verdict: 'growth', reason: '' }, failure: null };
}

/** Frequent restarts: growth only when the level reached before each restart keeps rising. */
function judgePeaks(
  clean: CleanSeries,
  starts: readonly number[],
  unit: MemoryUnit,
  settings: Settings,
): Judgement {
  const peaks: number[] = [];
  const times: number[] = [];
  for (let k = 0; k < starts.length; k += 1) {
    const from = starts[k] as number;
    const to = starts[k + 1] ?? clean.values.length;
    if (to - from < 2) continue;
    peaks.push(quantile(clean.values.subarray(from, to), 0.95));
    times.push((clean.timestamps[to - 1] as number) / MS_PER_DAY);
  }
  const restartEveryHours =
    ((clean.timestamps[starts[starts.length - 1] as number] as number) -
      (clean.timestamps[starts[1] as number] as number)) /
      Math.max(1, starts.length - 2) /
      HOUR || 0;
  const trend = mannKendall(peaks);
  const slope = peaks.length >= 2 ? theilSenSlope(times, peaks) : 0;
  const level = quantile(peaks, 0.5);
  const minSlope = unit === 'percent' ? MIN_SLOPE_PERCENT_PER_DAY : MIN_SLOPE_RELATIVE_PER_DAY * level;
  const significance = {
    method: 'mann-kendall on 6-hour means' as const,
    pValue: trend.pIncreasing,
    kendallTau: roundTo(trend.tau, 3),
    samples: trend.n,
  };
  const show = (value: number): string => formatLevel(value, unit);
  if (trend.pIncreasing < P_VALUE_LIMIT && slope >= minSlope) {
    const last = clean.timestamps[clean.timestamps.length - 1] as number;
    return {
      verdict: 'growth',
      reason: `memory is released at restarts every ~${Math.round(restartEveryHours)} h, but the peak before each rises ${show(slope)}/day`,
      slopePerDay: roundTo(slope, 4),
      significance,
      segment: null,
      projection: project(peaks[peaks.length - 1] as number, slope, last, unit, settings),
    };
  }
  return {
    verdict: 'none',
    reason: `a sawtooth: memory is released at restarts every ~${Math.round(restartEveryHours)} h and peaks near ${show(level)} each time`,
    slopePerDay: roundTo(slope, 4),
    significance,
    segment: null,
    projection: null,
  };
}

function project(
  levelNow: number,
  slope: number,
  last: number,
  unit: MemoryUnit,
  settings: Settings,
): MemoryAnalysis['projection'] {
  const threshold = unit === 'percent' ? settings.thresholdPercent : settings.thresholdBytes;
  if (threshold === undefined || !(slope > 0)) return null;
  const daysToThreshold = Math.max(0, (threshold - levelNow) / slope);
  return {
    threshold,
    daysToThreshold: roundTo(daysToThreshold, 2),
    reachesAt: new Date(last + daysToThreshold * MS_PER_DAY).toISOString(),
  };
}

function segmentOrigin(from: number): string {
  return from === 0 ? 'the first datapoint' : 'the last restart';
}

function formatLevel(value: number, unit: MemoryUnit): string {
  if (unit === 'percent') return `${roundTo(value, 2)} pp`;
  const mib = value / 1_048_576;
  return Math.abs(mib) >= 1 ? `${roundTo(mib, 1)} MiB` : `${Math.round(value / 1024)} KiB`;
}
