import { roundedOrZero } from '../format.ts';
import { finiteMedian, medianAndMadInPlace, quantileInPlace } from '../stats.ts';

// Baseline: a low quantile of hourly means over ±6 h follows day/night cycles without being lifted by a
// multi-hour crawl (it takes > 75 % of the window to move the 25th percentile).
const BASELINE_HALF_WINDOW_MINUTES = 360;
const BASELINE_QUANTILE = 0.25;

/** Per bin: a low quantile of the hourly (or coarser) block means within ±6 h. */
export function rollingBaseline(rate: Float64Array, binMinutes: number): Float64Array {
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
export function noiseByDay(
  excess: Float64Array,
  validDays: readonly boolean[],
  slotsPerDay: number,
): Float64Array {
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
  for (let d = 0; d < noise.length; d += 1) if (Number.isNaN(noise[d])) noise[d] = roundedOrZero(typical);
  return noise;
}
