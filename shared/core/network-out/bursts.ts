import type { Settings } from './options.ts';

// A bin is hot when its excess over baseline beats NOISE_K noise units, RELATIVE_RISE × baseline and
// MIN_EXCESS_RATE: noise alone, a small relative wobble, or a few bytes on an idle host never qualify.
const NOISE_K = 4;
const RELATIVE_RISE = 0.25;
const MIN_EXCESS_RATE = 1_000;
// Runs of hot bins separated by at most this many cool or missing bins are one burst.
const MERGE_GAP_MINUTES = 10;
// A burst is dominant on its day when it carries at least this share of the day's largest burst.
const DOMINANCE = 0.3;

/** A run of hot bins: traffic well over baseline, on the continuous timeline. */
export interface Burst {
  /** Mean excess over the mean threshold of its hot bins: 1 is barely a burst. */
  readonly strength: number;
  readonly day: number;
  readonly startMinute: number;
  readonly durationMinutes: number;
  readonly excessBytes: number;
}

/**
 * Runs of hot bins, merged across short gaps, on the continuous timeline (so a crawl may cross midnight).
 * Runs longer than maxBurstMinutes are counted as sustained rises, runs under minBurstBytes as below
 * the floor.
 */
export function findBursts(
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
export function dominantBursts(bursts: readonly Burst[]): Burst[] {
  const largest = new Map<number, number>();
  for (const burst of bursts)
    largest.set(burst.day, Math.max(largest.get(burst.day) ?? 0, burst.excessBytes));
  return bursts.filter((burst) => burst.excessBytes >= DOMINANCE * (largest.get(burst.day) ?? 0));
}
