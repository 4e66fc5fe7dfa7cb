import { quantileInPlace } from '../stats.ts';
import type { Noise } from './baseline.ts';
import type { Settings } from './options.ts';

// A bin is hot when its excess over baseline beats NOISE_K units of short-term noise, RELATIVE_RISE ×
// baseline and MIN_EXCESS_RATE: noise alone, a small relative wobble, or a few bytes on an idle host never
// qualify.
const NOISE_K = 4;
const RELATIVE_RISE = 0.1;
const MIN_EXCESS_RATE = 1_000;
// Runs of hot bins separated by at most this many cool or missing bins are one burst.
const MERGE_GAP_MINUTES = 10;
// A crawl starts and stops at once: within two bins the excess jumps from what it was just before (after)
// the run by this share of the run's median. A rise that builds up or winds down (people arriving, a
// lunch dip, a slow wander, a day cycle the baseline missed) is not a burst.
const EDGE_SHARE = 0.6;
const EDGE_BINS = 2;
// Longer than maxBurstMinutes, a run must look like one crawl: its first and last hour carry this share
// of its median excess (it starts and stops at once; a day cycle steps or winds up and down).
const PLATEAU_EDGE_SHARE = 0.75;
const PLATEAU_EDGE_MINUTES = 60;
// Even a crawl of a huge bucket leaves the host's own traffic visible once a day.
const MAX_CRAWL_MINUTES = 22 * 60;

/** A run of hot bins: traffic well over baseline, on the continuous timeline. */
export interface Burst {
  /** Mean excess over the mean threshold of its hot bins: 1 is barely a burst. */
  readonly strength: number;
  readonly day: number;
  readonly startMinute: number;
  readonly durationMinutes: number;
  readonly excessBytes: number;
}

/** Bursts, and how many runs of hot bins were set aside and why. */
export interface BurstSearch {
  readonly bursts: Burst[];
  /** Runs carrying less than minBurstBytes over baseline. */
  readonly belowFloor: number;
  /** Runs longer than maxBurstMinutes without a crawl's shape, or longer than a day allows (level shifts). */
  readonly sustained: number;
  /** Runs that build up instead of starting at once. */
  readonly gradual: number;
}

/**
 * Runs of hot bins, merged across short gaps, on the continuous timeline (so a crawl may cross midnight).
 * A run is a burst when it starts at once and carries at least minBurstBytes; past maxBurstMinutes it
 * must also hold a plateau to its end (a crawl of a huge bucket), up to 22 h.
 */
export function findBursts(
  excess: Float64Array,
  rate: Float64Array,
  noise: Noise,
  slotsPerDay: number,
  binMinutes: number,
  settings: Settings,
): BurstSearch {
  const bursts: Burst[] = [];
  let belowFloor = 0;
  let sustained = 0;
  let gradual = 0;
  const mergeGapBins = Math.max(1, Math.floor(MERGE_GAP_MINUTES / binMinutes));
  let scratch = new Float64Array(64);
  let runStart = -1;
  let lastHot = -1;
  let runExcess = 0;
  let hotExcess = 0;
  let hotThreshold = 0;
  const mean = (from: number, to: number): number => {
    let sum = 0;
    let count = 0;
    for (let bin = Math.max(runStart, from); bin <= Math.min(lastHot, to); bin += 1) {
      const value = excess[bin] as number;
      if (!Number.isNaN(value)) {
        sum += value;
        count += 1;
      }
    }
    return count > 0 ? sum / count : 0;
  };
  const close = (): void => {
    const durationMinutes = (lastHot - runStart + 1) * binMinutes;
    const bytes = runExcess * binMinutes;
    if (scratch.length < lastHot - runStart + 1) scratch = new Float64Array(2 * (lastHot - runStart + 1));
    let count = 0;
    for (let bin = runStart; bin <= lastHot; bin += 1) {
      const value = excess[bin] as number;
      if (!Number.isNaN(value)) {
        scratch[count] = value;
        count += 1;
      }
    }
    const median = quantileInPlace(scratch, count, 0.5);
    // Where the baseline itself climbs or falls steeply (a morning ramp) a crawl's end is lost in it: there
    // only the start is asked to be sharp.
    const endOnRamp =
      Math.abs(
        baselineAt(rate, excess, lastHot + EDGE_BINS) - baselineAt(rate, excess, lastHot - EDGE_BINS),
      ) > median;
    const sharp =
      jumpAt(excess, runStart, lastHot, 1) >= EDGE_SHARE * median &&
      (endOnRamp || jumpAt(excess, lastHot, runStart, -1) >= EDGE_SHARE * median);
    const edgeBins = Math.max(1, Math.round(PLATEAU_EDGE_MINUTES / binMinutes));
    const long = durationMinutes > settings.maxBurstMinutes;
    if (!sharp) gradual += 1;
    else if (
      long &&
      (durationMinutes > MAX_CRAWL_MINUTES ||
        mean(runStart, runStart + edgeBins - 1) < PLATEAU_EDGE_SHARE * median ||
        mean(lastHot - edgeBins + 1, lastHot) < PLATEAU_EDGE_SHARE * median)
    )
      sustained += 1;
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
    const threshold = Math.max(
      NOISE_K * (noise.byBlock[Math.floor(bin / noise.binsPerBlock)] as number),
      RELATIVE_RISE * ((rate[bin] as number) - value),
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
  return { bursts, belowFloor, sustained, gradual };
}

/**
 * The jump at one edge of a run: the largest excess of its first (or last) EDGE_BINS bins over the mean
 * excess of the EDGE_BINS bins just outside it (0 where no data: a burst right after a gap counts as sharp).
 */
function jumpAt(excess: Float64Array, edge: number, other: number, direction: 1 | -1): number {
  let inside = Number.NEGATIVE_INFINITY;
  for (let k = 0; k < EDGE_BINS; k += 1) {
    const bin = edge + direction * k;
    if ((direction === 1 && bin > other) || (direction === -1 && bin < other)) break;
    const value = excess[bin] as number;
    if (value > inside) inside = value;
  }
  let outside = 0;
  let count = 0;
  for (let k = 1; k <= EDGE_BINS; k += 1) {
    const value = excess[edge - direction * k];
    if (value !== undefined && !Number.isNaN(value)) {
      outside += value;
      count += 1;
    }
  }
  return inside - (count > 0 ? Math.max(0, outside / count) : 0);
}

/** The baseline at a bin (rate minus excess), 0 outside the array or where there is no data. */
function baselineAt(rate: Float64Array, excess: Float64Array, bin: number): number {
  const value = (rate[bin] ?? Number.NaN) - (excess[bin] ?? Number.NaN);
  return Number.isNaN(value) ? 0 : value;
}
