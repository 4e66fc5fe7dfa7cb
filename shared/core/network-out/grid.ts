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
  return { binMinutes, slotsPerDay, firstDay, lastDay, dayCount, rate, validDays, daysObserved, filledBins };
}
