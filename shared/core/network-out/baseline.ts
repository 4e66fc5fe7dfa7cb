import { roundedOrZero } from '../format.ts';
import { finiteMedian, medianAndMadInPlace, quantileInPlace } from '../stats.ts';
import { weekdayOf } from '../time-zone.ts';

// The day cycle: per time of day, a low quantile over the days. A crawl on up to three days in four does
// not lift it; one that runs (nearly) every day is a block with sharp edges, cut out below.
const PROFILE_QUANTILE = 0.25;
// Weekends get a profile of their own when at least this many weekend days have data.
const MIN_WEEKEND_DAYS = 3;
// A sharp edge of the profile: a change over EDGE_BINS bins (15 min) of EDGE_NOISE_K times its noise and
// MIN_EDGE_SHARE of its level, beyond the local trend (the median step within ±30 min): a morning ramp
// rises steadily, a crawl steps up at once. The fall that ends a block only confirms it: half the rise,
// CONFIRM_NOISE_K noise units.
const EDGE_BINS = 3;
const EDGE_NOISE_K = 6;
const MIN_EDGE_SHARE = 0.03;
const CONFIRM_NOISE_K = 3;
const TREND_HALF_WINDOW_MINUTES = 30;
// A block ends at a sharp fall of at least this share of its rise, the level staying up until then and
// down for STAY_DOWN_BINS after.
const BLOCK_END_SHARE = 0.5;
const STAY_DOWN_BINS = 6;
// A block whose level climbs this many times its rise above where it began sits on a ramp.
const RAMP_BAND = 2;
const MAX_BLOCK_MINUTES = 22 * 60;
// The level of the residual: a low quantile of hourly means over ±12 h follows level shifts and weekends,
// and a crawl would need to fill more than 75 % of a 25-hour window (18 h) to lift it.
const LEVEL_HALF_WINDOW_MINUTES = 720;
const LEVEL_QUANTILE = 0.25;
// Median absolute deviation × this ≈ standard deviation, for normal noise.
const ROBUST_SD = 1.4826;

/** The traffic over the expected rate of every bin, and a summary of that expectation. */
export interface Baseline {
  /** Rate minus baseline, bytes per minute per bin (days × slotsPerDay); NaN where no data. The baseline
   * itself (never negative) is the rate minus this. */
  readonly excess: Float64Array;
  /** Median of the baseline over the hours (a summary for the evidence). */
  readonly typical: number;
  /** Sharp-edged blocks cut out of the time-of-day profiles (recurring crawls, hourly jobs). */
  readonly blocksRemoved: number;
}

/**
 * The baseline of each bin: the day cycle (the time-of-day profile over the days — weekdays and weekends
 * apart — without its sharp-edged blocks) plus the slowly varying level of what remains. It follows a
 * morning ramp, evening peaks and weekends, and leaves out what starts and stops at once: crawls.
 */
export function dayCycleBaseline(
  rate: Float64Array,
  firstDay: number,
  dayCount: number,
  slotsPerDay: number,
  binMinutes: number,
): Baseline {
  const weekend = new Uint8Array(dayCount);
  for (let d = 0; d < dayCount; d += 1) {
    const weekday = weekdayOf(firstDay + d);
    weekend[d] = weekday === 0 || weekday === 6 ? 1 : 0;
  }
  // The profile is of each day's deviations from its own low level, so that days at different levels (a
  // level shift, a quieter week) do not make it jump from one to the other.
  const blockMinutes = Math.max(60, binMinutes);
  const binsPerBlock = blockMinutes / binMinutes;
  const dayLevel = dayLevels(rate, dayCount, slotsPerDay, binsPerBlock);
  let weekendDays = 0;
  for (let d = 0; d < dayCount; d += 1) if (weekend[d] === 1 && !Number.isNaN(dayLevel[d])) weekendDays += 1;
  const split = weekendDays >= MIN_WEEKEND_DAYS;
  const weekdays: number[] = [];
  const weekends: number[] = [];
  const everyDay: number[] = [];
  for (let d = 0; d < dayCount; d += 1) {
    if (Number.isNaN(dayLevel[d])) continue;
    everyDay.push(d);
    (weekend[d] === 1 ? weekends : weekdays).push(d);
  }
  const scratch = new Float64Array(dayCount);
  const profileOf = (days: readonly number[]): Float64Array => {
    const profile = new Float64Array(slotsPerDay);
    for (let s = 0; s < slotsPerDay; s += 1)
      profile[s] = slotQuantile(rate, dayLevel, slotsPerDay, s, days, scratch);
    return profile;
  };
  const weekdayProfile = profileOf(split ? weekdays : everyDay);
  const weekendProfile = split ? profileOf(weekends) : weekdayProfile;
  let blocksRemoved = 0;
  for (const profile of split ? [weekdayProfile, weekendProfile] : [weekdayProfile]) {
    // Slots no day of the group covers take the value over all days, else the nearest slots'.
    for (let s = 0; s < slotsPerDay; s += 1) {
      if (Number.isNaN(profile[s]))
        profile[s] = slotQuantile(rate, dayLevel, slotsPerDay, s, everyDay, scratch);
    }
    fillGaps(profile);
    blocksRemoved += removeSharpBlocks(profile, binMinutes);
  }
  // The level under the cycle: a low quantile, within ±12 h, of the hourly means of what the cycle leaves
  // (blocks never span two days: a day holds whole blocks).
  const blockCount = Math.ceil(rate.length / binsPerBlock);
  const blockMean = new Float64Array(blockCount);
  for (let b = 0; b < blockCount; b += 1) {
    const from = b * binsPerBlock;
    const day = Math.floor(from / slotsPerDay);
    const profile = weekend[day] === 1 ? weekendProfile : weekdayProfile;
    const offset = day * slotsPerDay;
    let mean = 0;
    let count = 0;
    for (let bin = from; bin < Math.min(rate.length, from + binsPerBlock); bin += 1) {
      const value = (rate[bin] as number) - (profile[bin - offset] as number);
      if (Number.isNaN(value)) continue;
      count += 1;
      mean += (value - mean) / count;
    }
    blockMean[b] = count > 0 ? mean : Number.NaN;
  }
  const blockLevel = rollingLowQuantile(
    blockMean,
    Math.max(1, Math.round(LEVEL_HALF_WINDOW_MINUTES / blockMinutes)),
    LEVEL_QUANTILE,
  );
  // The excess over the baseline (cycle + level, never below 0), and the hourly baseline for the summary.
  const excess = new Float64Array(rate.length);
  const hourly = new Float64Array(blockCount);
  for (let b = 0; b < blockCount; b += 1) {
    const from = b * binsPerBlock;
    const level = blockLevel[b] as number;
    const day = Math.floor(from / slotsPerDay);
    const profile = weekend[day] === 1 ? weekendProfile : weekdayProfile;
    const offset = day * slotsPerDay;
    for (let bin = from; bin < Math.min(rate.length, from + binsPerBlock); bin += 1) {
      excess[bin] = (rate[bin] as number) - Math.max(0, (profile[bin - offset] as number) + level);
    }
    hourly[b] = Math.max(0, (profile[from - offset] as number) + level);
  }
  return { excess, typical: quantileInPlace(hourly, blockCount, 0.5), blocksRemoved };
}

/**
 * Per day, a low quantile of its hourly (or coarser) mean rates (NaN for a day without data): its own
 * level, crawls left out.
 */
function dayLevels(
  rate: Float64Array,
  dayCount: number,
  slotsPerDay: number,
  binsPerBlock: number,
): Float64Array {
  const levels = new Float64Array(dayCount);
  const blocksPerDay = Math.max(1, Math.floor(slotsPerDay / binsPerBlock));
  const scratch = new Float64Array(blocksPerDay);
  for (let d = 0; d < dayCount; d += 1) {
    let count = 0;
    for (let b = 0; b < blocksPerDay; b += 1) {
      let mean = 0;
      let points = 0;
      const from = d * slotsPerDay + b * binsPerBlock;
      for (let bin = from; bin < from + binsPerBlock; bin += 1) {
        const value = rate[bin] as number;
        if (Number.isNaN(value)) continue;
        points += 1;
        mean += (value - mean) / points;
      }
      if (points > 0) {
        scratch[count] = mean;
        count += 1;
      }
    }
    levels[d] = count > 0 ? quantileInPlace(scratch, count, LEVEL_QUANTILE) : Number.NaN;
  }
  return levels;
}

/** A low quantile, over the given days with data at slot `s`, of the rate less the day's level. */
function slotQuantile(
  rate: Float64Array,
  dayLevel: Float64Array,
  slotsPerDay: number,
  s: number,
  days: readonly number[],
  scratch: Float64Array,
): number {
  // A few dozen values at most: insertion into a sorted scratch beats a selection.
  let count = 0;
  for (const d of days) {
    const value = rate[d * slotsPerDay + s] as number;
    if (Number.isNaN(value)) continue;
    const deviation = value - (dayLevel[d] as number);
    let at = count;
    while (at > 0 && (scratch[at - 1] as number) > deviation) {
      scratch[at] = scratch[at - 1] as number;
      at -= 1;
    }
    scratch[at] = deviation;
    count += 1;
  }
  // The order statistic at or below the quantile, not interpolated upwards: with four weekend days it is
  // their lowest, which a crawl on three of them does not lift.
  return count === 0 ? Number.NaN : (scratch[Math.floor((count - 1) * PROFILE_QUANTILE)] as number);
}

/** Slots still without a value take a straight line between the nearest slots with one (0 when none has). */
function fillGaps(profile: Float64Array): void {
  const n = profile.length;
  const known: number[] = [];
  for (let s = 0; s < n; s += 1) if (!Number.isNaN(profile[s])) known.push(s);
  if (known.length === n) return;
  if (known.length === 0) {
    profile.fill(0);
    return;
  }
  for (let i = 0; i < known.length; i += 1) {
    const from = known[i] as number;
    const to = known[(i + 1) % known.length] as number;
    const gap = (to - from + n) % n || n;
    const a = profile[from] as number;
    const b = profile[to] as number;
    for (let k = 1; k < gap; k += 1) profile[(from + k) % n] = a + ((b - a) * k) / gap;
  }
}

/**
 * Cuts out of a circular time-of-day profile each block that rises sharply and later falls sharply by at
 * least half as much, the level staying up in between (a crawl, an hourly job's blip): its height comes
 * off, so that what lies under it keeps its shape. A block whose fall is lost in a steep ramp is cut up to
 * where the ramp takes over. Ramps and humps (rises over an hour or more) stay. Returns the blocks cut.
 */
function removeSharpBlocks(profile: Float64Array, binMinutes: number): number {
  const n = profile.length;
  const wrap = (s: number): number => ((s % n) + n) % n;
  const at = (s: number): number => profile[wrap(s)] as number;
  const step = new Float64Array(n);
  for (let s = 0; s < n; s += 1) step[s] = at(s) - at(s - 1);
  // The noise of a step, from second differences: a ramp's steady slope does not count as noise.
  const curvature = new Float64Array(n);
  for (let s = 0; s < n; s += 1) curvature[s] = (step[s] as number) - (step[wrap(s - 1)] as number);
  const noise = medianAndMadInPlace(Float64Array.from(curvature), n).mad / Math.sqrt(3);
  // Traffic noise grows with the traffic: around each hour, the noise of the hours about it counts when
  // it is larger (a busy afternoon's wobble is no edge). Median absolute curvature per hour.
  const perHour = Math.max(1, Math.round(60 / binMinutes));
  const hours = Math.ceil(n / perHour);
  const hourNoise = new Float64Array(hours);
  const sorted = new Float64Array(perHour);
  for (let h = 0; h < hours; h += 1) {
    let count = 0;
    for (let s = h * perHour; s < Math.min(n, (h + 1) * perHour); s += 1) {
      const value = Math.abs(curvature[s] as number);
      let at = count;
      while (at > 0 && (sorted[at - 1] as number) > value) {
        sorted[at] = sorted[at - 1] as number;
        at -= 1;
      }
      sorted[at] = value;
      count += 1;
    }
    hourNoise[h] =
      (ROBUST_SD * (((sorted[(count - 1) >> 1] as number) + (sorted[count >> 1] as number)) / 2)) /
      Math.sqrt(3);
  }
  const localNoise = new Float64Array(hours);
  for (let h = 0; h < hours; h += 1) {
    const around = median3(
      hourNoise[(h - 1 + hours) % hours] as number,
      hourNoise[h] as number,
      hourNoise[(h + 1) % hours] as number,
    );
    localNoise[h] = Math.max(noise, around);
  }
  const noiseAt = (s: number): number => localNoise[Math.floor(wrap(s) / perHour)] as number;
  const half = Math.max(3, Math.round(TREND_HALF_WINDOW_MINUTES / binMinutes));
  // Change over EDGE_BINS bins (from s-1 to s+EDGE_BINS-1), beyond what the local trend — the median
  // step around, robust to the edge and to its neighbours' — explains: a ramp changes steadily, a crawl
  // at once.
  const jump = new Float64Array(n);
  const around = new Float64Array(2 * half + 1);
  for (let s = 0; s < n; s += 1) {
    const change = at(s + EDGE_BINS - 1) - at(s - 1);
    // Flat stretches (most of a day) change by less than a couple of noise units: no edge, no median.
    if (Math.abs(change) <= 2 * noise && Math.abs(step[wrap(s - half)] as number) <= 2 * noise) {
      jump[s] = change;
      continue;
    }
    let count = 0;
    for (let k = -half; k <= half; k += 1) {
      if (k >= 0 && k < EDGE_BINS) continue;
      around[count] = step[wrap(s + k)] as number;
      count += 1;
    }
    jump[s] = change - EDGE_BINS * quantileInPlace(around, count, 0.5);
  }
  const extreme = (s: number, sign: number): boolean => {
    const value = sign * (jump[s] as number);
    for (let k = -2; k <= 2; k += 1) {
      const other = sign * (jump[wrap(s + k)] as number);
      if (other > value || (other === value && k < 0)) return false;
    }
    return true;
  };
  // A flat, quantised series has no noise to speak of: an edge must also be a few per cent of the level.
  const level = quantileInPlace(Float64Array.from(profile), n, 0.5);
  const minimum = (s: number): number => Math.max(EDGE_NOISE_K * noiseAt(s), MIN_EDGE_SHARE * level, 1e-9);
  const ups: number[] = [];
  for (let s = 0; s < n; s += 1) if ((jump[s] as number) > minimum(s) && extreme(s, 1)) ups.push(s);
  ups.sort((a, b) => (jump[b] as number) - (jump[a] as number));
  const maxBins = Math.round(MAX_BLOCK_MINUTES / binMinutes);
  const removed = new Uint8Array(n);
  let blocks = 0;
  for (const up of ups) {
    if (removed[up] === 1) continue;
    const rise = jump[up] as number;
    const before = at(up - 1);
    // The fall that ends the block only confirms a sharp rise: half the rise, beyond a little noise.
    const fall = Math.max(BLOCK_END_SHARE * rise, CONFIRM_NOISE_K * noiseAt(up));
    // A fall ends the block only when the level stays down for half an hour (a dip in the plateau of a
    // noisy profile is no end).
    const staysDown = (down: number, height: number): boolean => {
      let top = Number.NEGATIVE_INFINITY;
      for (let k = 0; k < STAY_DOWN_BINS; k += 1) top = Math.max(top, at(down + EDGE_BINS - 1 + k));
      return top <= at(down - 1) - BLOCK_END_SHARE * height;
    };
    // Bins up..up+EDGE_BINS-2 may still be on the way up; the block holds from `up` to its end.
    const cut = (to: number, drop: number, bounded: boolean): void => {
      // What lies under the block keeps its shape (a ramp goes on rising): the block's height, from its
      // rise to its fall, is taken off. Where the fall is smeared (the length varies from day to day)
      // less than its height comes off: the straight line between the levels either side bounds what
      // lies under it. Bins caught half-way up or down keep at least the lower of those levels.
      // The levels either side, a few bins out: a fall spread over more bins is not caught half-way.
      const a = Math.min(at(up - 1), at(up - 2), at(up - 3));
      const b = Math.min(at(to + 1), at(to + 2), at(to + 3));
      const fall = bounded ? Math.max(drop, at(to - 1) - b) : drop;
      const floor = bounded ? Math.min(a, b) : a;
      for (let bin = up; bin <= to; bin += 1) {
        const progress = to === up ? 0 : (bin - up) / (to - up);
        const index = wrap(bin);
        const lifted = (profile[index] as number) - (rise + (fall - rise) * progress);
        const line = a + ((b - a) * (bin - up + 1)) / (to - up + 2);
        profile[index] = Math.max(floor, bounded ? Math.min(lifted, line) : lifted);
        removed[index] = 1;
      }
      blocks += 1;
    };
    for (let length = 1; length <= maxBins; length += 1) {
      const down = up + length;
      if (-(jump[wrap(down)] as number) >= fall && extreme(wrap(down), -1) && staysDown(down, rise)) {
        // Blocks do not nest: one that overlaps a block already cut is left alone.
        let overlaps = false;
        for (let bin = up - 1; bin <= down + EDGE_BINS - 1; bin += 1)
          if (removed[wrap(bin)] === 1) overlaps = true;
        if (!overlaps) cut(down + EDGE_BINS - 2, -(jump[wrap(down)] as number), true);
        break;
      }
      if (length < EDGE_BINS - 1) continue;
      // The level falls back without a sharp edge: no block. It climbs far above the block (a morning
      // ramp under a crawl): the block's end is lost in it, so it is cut up to there.
      if (at(down) < before + BLOCK_END_SHARE * rise) break;
      if (at(down) > before + RAMP_BAND * rise) {
        let overlaps = false;
        for (let bin = up - 1; bin <= down; bin += 1) if (removed[wrap(bin)] === 1) overlaps = true;
        if (!overlaps) cut(down - 1, rise, false);
        break;
      }
    }
  }
  return blocks;
}

/**
 * The q-quantile of the non-NaN values within ±halfWindow of each index (0 where none), kept in a sorted
 * sliding window: O(n × window) without copying or reordering per index.
 */
function rollingLowQuantile(values: Float64Array, halfWindow: number, q: number): Float64Array {
  const n = values.length;
  const window = new Float64Array(2 * halfWindow + 1);
  let size = 0;
  const insert = (value: number): void => {
    let at = size;
    while (at > 0 && (window[at - 1] as number) > value) {
      window[at] = window[at - 1] as number;
      at -= 1;
    }
    window[at] = value;
    size += 1;
  };
  const remove = (value: number): void => {
    let at = 0;
    while (at < size && window[at] !== value) at += 1;
    for (let k = at; k < size - 1; k += 1) window[k] = window[k + 1] as number;
    size -= 1;
  };
  const result = new Float64Array(n);
  for (let k = 0; k <= Math.min(n - 1, halfWindow); k += 1)
    if (!Number.isNaN(values[k])) insert(values[k] as number);
  for (let i = 0; i < n; i += 1) {
    if (size === 0) result[i] = 0;
    else {
      const position = (size - 1) * q;
      const lower = Math.floor(position);
      const low = window[lower] as number;
      result[i] = position === lower ? low : low + ((window[lower + 1] as number) - low) * (position - lower);
    }
    const leaving = i - halfWindow;
    if (leaving >= 0 && !Number.isNaN(values[leaving])) remove(values[leaving] as number);
    const entering = i + halfWindow + 1;
    if (entering < n && !Number.isNaN(values[entering])) insert(values[entering] as number);
  }
  return result;
}

/** Short-term noise: per day (its median, for the evidence) and per hour (what thresholds use). */
export interface Noise {
  readonly byDay: Float64Array;
  /** Per hour block: the larger of its day's noise and that of the three hours about it. */
  readonly byBlock: Float64Array;
  readonly binsPerBlock: number;
}

/**
 * Short-term noise, as a standard deviation: the median absolute bin-to-bin change of the rate (× 1.4826
 * / √2), which a day cycle, a level shift or a slow wander barely touch. Per day, and for thresholds the
 * larger of the day's and that of the three hours about each hour (traffic noise grows with the traffic:
 * a busy afternoon wobbles more than the night). Days without enough data borrow the median day's.
 */
export function shortTermNoise(
  rate: Float64Array,
  dayCount: number,
  slotsPerDay: number,
  binMinutes: number,
): Noise {
  // The absolute changes of each hour, sorted within the hour (a dozen values: insertion), NaN-free.
  const binsPerBlock = Math.max(1, Math.round(60 / binMinutes));
  const blocks = Math.ceil(rate.length / binsPerBlock);
  const sorted = new Float64Array(blocks * binsPerBlock);
  const counts = new Uint16Array(blocks);
  for (let b = 0; b < blocks; b += 1) {
    const base = b * binsPerBlock;
    let count = 0;
    for (let bin = Math.max(1, base); bin < Math.min(rate.length, base + binsPerBlock); bin += 1) {
      const change = Math.abs((rate[bin] as number) - (rate[bin - 1] as number));
      if (Number.isNaN(change)) continue;
      let at = count;
      while (at > 0 && (sorted[base + at - 1] as number) > change) {
        sorted[base + at] = sorted[base + at - 1] as number;
        at -= 1;
      }
      sorted[base + at] = change;
      count += 1;
    }
    counts[b] = count;
  }
  const scale = ROBUST_SD / Math.SQRT2;
  const scratch = new Float64Array(slotsPerDay);
  const byDay = new Float64Array(dayCount);
  const blocksPerDay = Math.max(1, Math.floor(slotsPerDay / binsPerBlock));
  for (let d = 0; d < dayCount; d += 1) {
    let count = 0;
    for (let b = d * blocksPerDay; b < Math.min(blocks, (d + 1) * blocksPerDay); b += 1) {
      for (let k = 0; k < (counts[b] as number); k += 1) {
        scratch[count] = sorted[b * binsPerBlock + k] as number;
        count += 1;
      }
    }
    byDay[d] = count >= 6 ? scale * quantileInPlace(scratch, count, 0.5) : Number.NaN;
  }
  const typical = finiteMedian(byDay);
  for (let d = 0; d < dayCount; d += 1) if (Number.isNaN(byDay[d])) byDay[d] = roundedOrZero(typical);
  // Per hour: the median of the changes of that hour and the ones either side, merged from their sorted
  // lists up to the middle.
  const byBlock = new Float64Array(blocks);
  for (let b = 0; b < blocks; b += 1) {
    const day = byDay[Math.min(dayCount - 1, Math.floor(b / blocksPerDay))] as number;
    const around = mergedMedian(
      sorted,
      counts,
      binsPerBlock,
      Math.max(0, b - 1),
      Math.min(blocks - 1, b + 1),
    );
    byBlock[b] = Number.isNaN(around) ? day : Math.max(day, scale * around);
  }
  return { byDay, byBlock, binsPerBlock };
}

/** Median of the sorted lists of blocks first..last (at most three), walking them in order to the middle. */
function mergedMedian(
  sorted: Float64Array,
  counts: Uint16Array,
  binsPerBlock: number,
  first: number,
  last: number,
): number {
  // Up to three lists, each as [next index, end index) into `sorted`.
  let a = first * binsPerBlock;
  const aEnd = a + (counts[first] as number);
  let b = first + 1 <= last ? (first + 1) * binsPerBlock : 0;
  const bEnd = first + 1 <= last ? b + (counts[first + 1] as number) : 0;
  let c = first + 2 <= last ? (first + 2) * binsPerBlock : 0;
  const cEnd = first + 2 <= last ? c + (counts[first + 2] as number) : 0;
  const total = aEnd - a + (bEnd - b) + (cEnd - c);
  if (total < 6) return Number.NaN;
  const lower = (total - 1) >> 1;
  const upper = total >> 1;
  let low = 0;
  for (let k = 0; k <= upper; k += 1) {
    const va = a < aEnd ? (sorted[a] as number) : Number.POSITIVE_INFINITY;
    const vb = b < bEnd ? (sorted[b] as number) : Number.POSITIVE_INFINITY;
    const vc = c < cEnd ? (sorted[c] as number) : Number.POSITIVE_INFINITY;
    let value: number;
    if (va <= vb && va <= vc) {
      value = va;
      a += 1;
    } else if (vb <= vc) {
      value = vb;
      b += 1;
    } else {
      value = vc;
      c += 1;
    }
    if (k === lower) low = value;
    if (k === upper) return (low + value) / 2;
  }
  return Number.NaN;
}

/** Median of up to three values, ignoring NaN (NaN when all are). */
function median3(a: number, b: number, c: number): number {
  if (Number.isNaN(a)) return Number.isNaN(b) ? c : Number.isNaN(c) ? b : (b + c) / 2;
  if (Number.isNaN(b)) return Number.isNaN(c) ? a : (a + c) / 2;
  if (Number.isNaN(c)) return (a + b) / 2;
  return Math.max(Math.min(a, b), Math.min(Math.max(a, b), c));
}
