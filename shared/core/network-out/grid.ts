import type { CleanSeries } from '../series.ts';
import { MS_PER_DAY, MS_PER_MINUTE, zoneClock } from '../time-zone.ts';

// A day is observed when at least this share of its bins holds data.
export const MIN_DAY_COVERAGE = 0.5;
// Datapoints coarser than an hour cannot show a burst within a day.
const BIN_CHOICES = [5, 10, 15, 20, 30, 60];

/** The series as a mean rate per bin of a local-time grid: `dayCount` rows of `slotsPerDay` bins. */
export interface RateGrid {
  readonly binMinutes: number;
  readonly slotsPerDay: number;
  /** Local day number (days since 1970-01-01 in the zone's calendar) of row 0, and of the last row. */
  readonly firstDay: number;
  readonly lastDay: number;
  readonly dayCount: number;
  /** Bytes per minute, NaN where a bin holds no datapoint. */
  readonly rate: Float64Array;
  /** Days with at least MIN_DAY_COVERAGE of their bins filled. */
  readonly validDays: boolean[];
  readonly daysObserved: number;
  readonly filledBins: number;
}

/** The bin width for a period: the finest choice that holds at least one datapoint, or undefined when too coarse. */
export function binMinutesFor(periodMinutes: number): number | undefined {
  return BIN_CHOICES.find((choice) => choice >= periodMinutes - 1e-9);
}

/**
 * Puts a non-empty clean series (bytes per period) on a grid of `binMinutes` bins in local time of
 * `timeZone` (DST-aware): the mean rate in bytes per minute of each bin.
 */
export function rateGrid(clean: CleanSeries, timeZone: string, binMinutes: number): RateGrid {
  const n = clean.timestamps.length;
  const periodMinutes = clean.periodMs / MS_PER_MINUTE;
  const first = clean.timestamps[0] as number;
  const last = clean.timestamps[n - 1] as number;
  const clock = zoneClock(timeZone, first, last);
  const slotsPerDay = 1440 / binMinutes;
  const firstDay = Math.floor((first + clock.offsetMs(first)) / MS_PER_DAY);
  const lastDay = Math.floor((last + clock.offsetMs(last)) / MS_PER_DAY);
  const dayCount = lastDay - firstDay + 1;
  const binCount = dayCount * slotsPerDay;

  const rate = new Float64Array(binCount);
  const filled = new Uint16Array(binCount);
  for (let i = 0; i < n; i += 1) {
    const t = clean.timestamps[i] as number;
    const local = t + clock.offsetMs(t);
    const day = Math.floor(local / MS_PER_DAY);
    const slot = Math.floor((local - day * MS_PER_DAY) / (binMinutes * MS_PER_MINUTE));
    const bin = (day - firstDay) * slotsPerDay + slot;
    const points = (filled[bin] as number) + 1;
    filled[bin] = points;
    const perMinute = (clean.values[i] as number) / periodMinutes;
    // A running mean: sums of values near the float limit would overflow to Infinity.
    rate[bin] =
      points === 1 ? perMinute : (rate[bin] as number) + (perMinute - (rate[bin] as number)) / points;
  }
  const validDays: boolean[] = new Array(dayCount).fill(false);
  let daysObserved = 0;
  let filledBins = 0;
  for (let d = 0; d < dayCount; d += 1) {
    let count = 0;
    for (let s = 0; s < slotsPerDay; s += 1) {
      const bin = d * slotsPerDay + s;
      if (filled[bin] === 0) rate[bin] = Number.NaN;
      else {
        count += 1;
        filledBins += 1;
      }
    }
    if (count >= MIN_DAY_COVERAGE * slotsPerDay) {
      validDays[d] = true;
      daysObserved += 1;
    }
  }
  return { binMinutes, slotsPerDay, firstDay, lastDay, dayCount, rate, validDays, daysObserved, filledBins };
}

// A day has data around a window when this share of the bins from 30 min before its start to the end of
// the window holds data (an instance stopped at night still counts for the hours it runs).
const AROUND_BEFORE_MINUTES = 30;
const AROUND_AFTER_MINUTES = 90;
const AROUND_SHARE = 0.5;
// A day counts towards having enough data when it holds at least a working day of it (8 h).
const MIN_DAY_HOURS = 8;

/** Which days have data around a time of day. */
export interface Coverage {
  readonly firstDay: number;
  readonly dayCount: number;
  /** True when day `day` (row of the grid) has data around `startMinute` (may run past midnight). */
  around(day: number, startMinute: number): boolean;
  /** The most days with data around any hour of the day, among days with at least 8 h of data. */
  readonly mostDaysAtAnyHour: number;
}

/** Coverage of a grid, answered from prefix sums of filled bins in O(1) per question. */
export function coverageOf(grid: RateGrid): Coverage {
  const { rate, slotsPerDay, binMinutes, dayCount } = grid;
  const filledBefore = new Uint32Array(rate.length + 1);
  for (let bin = 0; bin < rate.length; bin += 1) {
    filledBefore[bin + 1] = (filledBefore[bin] as number) + (Number.isNaN(rate[bin]) ? 0 : 1);
  }
  const before = Math.round(AROUND_BEFORE_MINUTES / binMinutes);
  const after = Math.max(1, Math.round(AROUND_AFTER_MINUTES / binMinutes));
  const around = (day: number, startMinute: number): boolean => {
    if (day < 0 || day >= dayCount) return false;
    const center = day * slotsPerDay + Math.floor(startMinute / binMinutes);
    const from = Math.max(0, center - before);
    const to = Math.min(rate.length, center + after);
    if (to <= from) return false;
    return (filledBefore[to] as number) - (filledBefore[from] as number) >= AROUND_SHARE * (before + after);
  };
  const minBins = (MIN_DAY_HOURS * 60) / binMinutes;
  const fullEnough: number[] = [];
  for (let day = 0; day < dayCount; day += 1) {
    const bins =
      (filledBefore[Math.min(rate.length, (day + 1) * slotsPerDay)] as number) -
      (filledBefore[day * slotsPerDay] as number);
    if (bins >= minBins) fullEnough.push(day);
  }
  let mostDaysAtAnyHour = 0;
  for (let hour = 0; hour < 24; hour += 1) {
    let days = 0;
    for (const day of fullEnough) if (around(day, hour * 60)) days += 1;
    mostDaysAtAnyHour = Math.max(mostDaysAtAnyHour, days);
  }
  return { firstDay: grid.firstDay, dayCount, around, mostDaysAtAnyHour };
}
