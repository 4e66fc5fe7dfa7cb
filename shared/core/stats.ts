/** Small, allocation-light statistics for the detectors. Inputs are never modified unless said so. */

/**
 * The q-quantile (0..1, linear interpolation between order statistics) of the first `length` values of
 * `scratch`, which it REORDERS (quickselect, O(n) on average). NaN for an empty range.
 */
export function quantileInPlace(scratch: Float64Array, length: number, q: number): number {
  if (length <= 0) return Number.NaN;
  const position = (length - 1) * Math.min(1, Math.max(0, q));
  const lower = Math.floor(position);
  const lowerValue = select(scratch, 0, length - 1, lower);
  if (position === lower) return lowerValue;
  // After select(), everything above `lower` is >= lowerValue: the next order statistic is their minimum.
  let upperValue = Number.POSITIVE_INFINITY;
  for (let i = lower + 1; i < length; i += 1) {
    const v = scratch[i] as number;
    if (v < upperValue) upperValue = v;
  }
  return lowerValue + (upperValue - lowerValue) * (position - lower);
}

/** Quantile of an array, leaving it untouched. */
export function quantile(values: ArrayLike<number>, q: number): number {
  const scratch = Float64Array.from(values as ArrayLike<number>);
  return quantileInPlace(scratch, scratch.length, q);
}

export function median(values: ArrayLike<number>): number {
  return quantile(values, 0.5);
}

/** Median of the finite values (NaN when there are none), without changing the input. */
export function finiteMedian(values: ArrayLike<number>): number {
  const scratch = new Float64Array(values.length);
  let count = 0;
  for (let i = 0; i < values.length; i += 1) {
    const value = values[i] as number;
    if (Number.isFinite(value)) {
      scratch[count] = value;
      count += 1;
    }
  }
  return quantileInPlace(scratch, count, 0.5);
}

/** Hoare-style quickselect: puts the k-th smallest of scratch[lo..hi] at index k and returns it. */
function select(a: Float64Array, lo: number, hi: number, k: number): number {
  let left = lo;
  let right = hi;
  while (right > left) {
    // Median of three as the pivot keeps sorted and reversed inputs linear.
    const mid = (left + right) >>> 1;
    const x = a[left] as number;
    const y = a[mid] as number;
    const z = a[right] as number;
    const pivot = Math.max(Math.min(x, y), Math.min(Math.max(x, y), z));
    let i = left;
    let j = right;
    while (i <= j) {
      while ((a[i] as number) < pivot) i += 1;
      while ((a[j] as number) > pivot) j -= 1;
      if (i <= j) {
        const t = a[i] as number;
        a[i] = a[j] as number;
        a[j] = t;
        i += 1;
        j -= 1;
      }
    }
    if (k <= j) right = j;
    else if (k >= i) left = i;
    else return a[k] as number;
  }
  return a[k] as number;
}

/** Median and scaled median absolute deviation (≈ σ for normal noise) of scratch[0..length), reordered. */
export function medianAndMadInPlace(scratch: Float64Array, length: number): { median: number; mad: number } {
  const center = quantileInPlace(scratch, length, 0.5);
  for (let i = 0; i < length; i += 1) scratch[i] = Math.abs((scratch[i] as number) - center);
  return { median: center, mad: 1.4826 * quantileInPlace(scratch, length, 0.5) };
}

/** Interquartile range over the median: a robust coefficient of variation (0 for identical values). */
export function robustSpread(values: ArrayLike<number>): number {
  const m = median(values);
  if (!(m > 0)) return Number.POSITIVE_INFINITY;
  return (quantile(values, 0.75) - quantile(values, 0.25)) / m;
}

/**
 * Theil–Sen slope: the median of the slopes of all pairs. O(n²): callers pass aggregates (≤ a few
 * hundred points), never raw 5-minute data.
 */
export function theilSenSlope(x: ArrayLike<number>, y: ArrayLike<number>): number {
  const n = x.length;
  const slopes = new Float64Array((n * (n - 1)) / 2);
  let count = 0;
  for (let i = 0; i < n; i += 1) {
    const xi = x[i] as number;
    const yi = y[i] as number;
    for (let j = i + 1; j < n; j += 1) {
      const dx = (x[j] as number) - xi;
      if (dx !== 0) {
        slopes[count] = ((y[j] as number) - yi) / dx;
        count += 1;
      }
    }
  }
  return quantileInPlace(slopes, count, 0.5);
}

export interface MannKendall {
  /** Kendall's S: concordant minus discordant pairs. */
  readonly s: number;
  /** Kendall's tau-a, S over the number of pairs (-1..1). */
  readonly tau: number;
  /** One-sided p-value for an increasing trend (normal approximation with continuity correction). */
  readonly pIncreasing: number;
  readonly n: number;
}

/** Mann–Kendall trend test of y in the given order (ties in y reduce the variance). */
export function mannKendall(y: ArrayLike<number>): MannKendall {
  const n = y.length;
  let s = 0;
  for (let i = 0; i < n; i += 1) {
    const yi = y[i] as number;
    for (let j = i + 1; j < n; j += 1) s += Math.sign((y[j] as number) - yi);
  }
  const sorted = Float64Array.from(y as ArrayLike<number>).sort();
  let tieTerm = 0;
  for (let i = 0; i < n; ) {
    let j = i + 1;
    while (j < n && sorted[j] === sorted[i]) j += 1;
    const t = j - i;
    if (t > 1) tieTerm += t * (t - 1) * (2 * t + 5);
    i = j;
  }
  const variance = (n * (n - 1) * (2 * n + 5) - tieTerm) / 18;
  const pairs = (n * (n - 1)) / 2;
  let z = 0;
  if (variance > 0) z = s > 0 ? (s - 1) / Math.sqrt(variance) : s < 0 ? (s + 1) / Math.sqrt(variance) : 0;
  return { s, tau: pairs > 0 ? s / pairs : 0, pIncreasing: normalUpperTail(z), n };
}

/** Standard normal CDF (Abramowitz–Stegun 7.1.26 via erf, |error| < 1.5e-7). */
export function normalCdf(z: number): number {
  return 1 - normalUpperTail(z);
}

/** P[Z > z], computed from the tail itself so that tiny p-values keep their digits instead of rounding to 0. */
export function normalUpperTail(z: number): number {
  const x = Math.abs(z) / Math.SQRT2;
  const t = 1 / (1 + 0.3275911 * x);
  const poly =
    t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429))));
  const tail = 0.5 * poly * Math.exp(-x * x);
  return z >= 0 ? tail : 1 - tail;
}

/** P[X ≥ k] for X ~ Binomial(n, p), summed in log space so that tiny tails do not underflow to 0 too early. */
export function binomialUpperTail(n: number, k: number, p: number): number {
  if (k <= 0) return 1;
  if (k > n) return 0;
  if (p <= 0) return 0;
  if (p >= 1) return 1;
  const logP = Math.log(p);
  const logQ = Math.log1p(-p);
  let total = 0;
  for (let i = k; i <= n; i += 1) total += Math.exp(logChoose(n, i) + i * logP + (n - i) * logQ);
  return Math.min(1, total);
}

function logChoose(n: number, k: number): number {
  let sum = 0;
  for (let i = 1; i <= k; i += 1) sum += Math.log((n - k + i) / i);
  return sum;
}
