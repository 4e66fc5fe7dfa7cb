import { InvalidSeriesError } from './errors.ts';

/** One metric of one instance: epoch-millisecond timestamps and their values, in any order. */
export interface MetricSeries {
  readonly timestamps: ArrayLike<number>;
  readonly values: ArrayLike<number>;
}

/** A series sorted by time, without duplicates or unusable points, and what was dropped on the way. */
export interface CleanSeries {
  readonly timestamps: Float64Array;
  readonly values: Float64Array;
  /** The most common spacing of consecutive points: the metric's period. */
  readonly periodMs: number;
  /** Points dropped because the timestamp or value was not a finite number, or the value was negative. */
  readonly invalidPoints: number;
  /** Of the invalid points, those with a negative value (a counter reset, a broken agent). */
  readonly negativePoints: number;
  /**
   * Points dropped because an earlier point in input order had the same timestamp (overlapping pages or
   * files): the first one given is kept, whatever the order of the series.
   */
  readonly duplicatePoints: number;
  /** Of the duplicates, those whose value differs from the one kept. */
  readonly conflictingDuplicatePoints: number;
}

const DEFAULT_PERIOD_MS = 300_000;

/**
 * Sorts, de-duplicates and filters a series. O(n) for series that are already ordered either way
 * (CloudWatch returns newest first), O(n log n) otherwise. Of points sharing a timestamp, the first in
 * input order is kept.
 * @throws InvalidSeriesError when timestamps and values differ in length.
 */
export function cleanSeries(series: MetricSeries): CleanSeries {
  const { timestamps, values } = series;
  if (timestamps.length !== values.length) {
    throw new InvalidSeriesError(
      `series has ${timestamps.length} timestamps but ${values.length} values; they must pair up`,
    );
  }
  const n = timestamps.length;
  const direction = directionOf(timestamps);
  const order = direction === 'mixed' ? sortedOrder(timestamps) : null;
  const outTimes = new Float64Array(n);
  const outValues = new Float64Array(n);
  let kept = 0;
  let invalidPoints = 0;
  let negativePoints = 0;
  let duplicatePoints = 0;
  let conflictingDuplicatePoints = 0;
  for (let k = 0; k < n; k += 1) {
    const i = order !== null ? (order[k] as number) : direction === 'descending' ? n - 1 - k : k;
    const t = timestamps[i] as number;
    const v = values[i] as number;
    if (!Number.isFinite(t) || !Number.isFinite(v) || v < 0) {
      invalidPoints += 1;
      if (v < 0) negativePoints += 1;
      continue;
    }
    if (kept > 0 && outTimes[kept - 1] === t) {
      duplicatePoints += 1;
      if (outValues[kept - 1] !== v) conflictingDuplicatePoints += 1;
      continue;
    }
    outTimes[kept] = t;
    outValues[kept] = v;
    kept += 1;
  }
  const sortedTimes = outTimes.subarray(0, kept);
  return {
    timestamps: sortedTimes,
    values: outValues.subarray(0, kept),
    periodMs: periodOf(sortedTimes),
    invalidPoints,
    negativePoints,
    duplicatePoints,
    conflictingDuplicatePoints,
  };
}

/** What {@link cleanSeries} drops from a series. */
export type DroppedPoints = Pick<
  CleanSeries,
  'invalidPoints' | 'negativePoints' | 'duplicatePoints' | 'conflictingDuplicatePoints'
>;

/**
 * Counts what {@link cleanSeries} would drop, for a report. A series ordered strictly either way with
 * only finite, non-negative values (what CloudWatch returns) drops nothing: one pass, no copy.
 */
export function droppedPoints(series: MetricSeries): DroppedPoints {
  const { timestamps, values } = series;
  let ascending = true;
  let descending = true;
  let valid = timestamps.length === values.length;
  for (let i = 0; i < timestamps.length && valid && (ascending || descending); i += 1) {
    const v = values[i] as number;
    valid = Number.isFinite(timestamps[i] as number) && Number.isFinite(v) && v >= 0;
    if (i > 0) {
      const a = timestamps[i - 1] as number;
      const b = timestamps[i] as number;
      if (!(a < b)) ascending = false;
      if (!(a > b)) descending = false;
    }
  }
  if (valid && (ascending || descending)) {
    return { invalidPoints: 0, negativePoints: 0, duplicatePoints: 0, conflictingDuplicatePoints: 0 };
  }
  const { invalidPoints, negativePoints, duplicatePoints, conflictingDuplicatePoints } = cleanSeries(series);
  return { invalidPoints, negativePoints, duplicatePoints, conflictingDuplicatePoints };
}

/**
 * Ascending allows equal neighbours (read forwards, the first of them is met first); descending must be
 * strict, since read backwards the last of equal neighbours would be kept: those series are sorted.
 */
function directionOf(timestamps: ArrayLike<number>): 'ascending' | 'descending' | 'mixed' {
  const n = timestamps.length;
  let ascending = true;
  let descending = true;
  for (let i = 1; i < n && (ascending || descending); i += 1) {
    const a = timestamps[i - 1] as number;
    const b = timestamps[i] as number;
    if (!(a <= b)) ascending = false;
    if (!(a > b)) descending = false;
  }
  return ascending ? 'ascending' : descending ? 'descending' : 'mixed';
}

/** Index order that sorts timestamps ascending, NaN last, ties in input order. */
function sortedOrder(timestamps: ArrayLike<number>): Uint32Array {
  const key = (i: number): number => {
    const t = timestamps[i] as number;
    return Number.isNaN(t) ? Number.POSITIVE_INFINITY : t;
  };
  const order = new Uint32Array(timestamps.length);
  for (let i = 0; i < order.length; i += 1) order[i] = i;
  return order.sort((a, b) => key(a) - key(b) || a - b);
}

/** The most frequent gap between consecutive timestamps (robust to missing points). */
function periodOf(sortedTimes: Float64Array): number {
  if (sortedTimes.length < 2) return DEFAULT_PERIOD_MS;
  // Regular series repeat one gap: count runs of equal gaps before touching the map.
  const counts = new Map<number, number>();
  let best = DEFAULT_PERIOD_MS;
  let bestCount = 0;
  let runGap = Number.NaN;
  let runLength = 0;
  const flush = (): void => {
    if (runLength === 0 || !(runGap > 0)) return;
    const count = (counts.get(runGap) ?? 0) + runLength;
    counts.set(runGap, count);
    if (count > bestCount || (count === bestCount && runGap < best)) {
      best = runGap;
      bestCount = count;
    }
  };
  for (let i = 1; i < sortedTimes.length; i += 1) {
    const gap = Math.round(((sortedTimes[i] as number) - (sortedTimes[i - 1] as number)) / 1000) * 1000;
    if (gap === runGap) runLength += 1;
    else {
      flush();
      runGap = gap;
      runLength = 1;
    }
  }
  flush();
  return best;
}
