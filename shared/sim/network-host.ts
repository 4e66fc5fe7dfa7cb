/**
 * The NetworkOut host model behind the scenario families: a plan (baseline, day cycle, noise, gaps, when
 * the instance runs, and the bursts of each day) rendered into CloudWatch-like `Sum` datapoints.
 */
import type { MetricSeries } from '#core/series.ts';
import { MS_PER_DAY, MS_PER_MINUTE, weekdayOf, zoneClock } from '#core/time-zone.ts';
import type { Random } from './random.ts';

/** What a NetworkOut scenario should be judged as, and where its crawl windows start (local minutes). */
export interface NetworkExpectation {
  readonly verdict: 'recurring-window' | 'daily-burst' | 'none' | 'insufficient-data';
  /** Time zone to analyse in (the host's cron zone, or UTC to test reporting across midnight). */
  readonly timeZone: string;
  /** For 'recurring-window': the nominal start minute of each active window, in `timeZone`. */
  readonly windowStarts: readonly number[];
  /**
   * The crawl stopped before the end of the data: the analysis must report it as a past pattern, last
   * seen on the local day of the last crawl. The nominal start minute of its window, or 'daily-burst'.
   */
  readonly stopped?: number | 'daily-burst';
  /** The schedule moved from this start minute to `windowStarts[0]`: the old window is a past pattern. */
  readonly movedFrom?: number;
}

export interface NetworkScenario {
  readonly family: string;
  readonly seed: number;
  readonly description: string;
  readonly series: MetricSeries;
  readonly expected: NetworkExpectation;
  /** UTC instants at which the scenario's crawl bursts (tagged 'crawl') began, in time order. */
  readonly crawlStarts: readonly number[];
}

/** A burst of traffic, in the host's local time. */
export interface PlannedBurst {
  readonly startMinute: number;
  readonly durationMinutes: number;
  readonly bytesPerMinute: number;
  /** Minutes over which the rate rises at the start and falls at the end (0: a sharp start and end). */
  readonly rampMinutes?: number;
  /** Relative change of the rate from the start to the end of the burst (-0.2: it slows by 20 %). */
  readonly drift?: number;
  /** 'crawl' marks the bursts that the expectation is about (their starts are reported). */
  readonly tag?: 'crawl';
}

export interface HostPlan {
  readonly days?: number;
  readonly periodMinutes?: 1 | 5;
  /** The host's zone: where cron's 06:25 is. */
  readonly hostZone?: string;
  readonly baseBytesPerMinute: number;
  readonly noiseCv?: number;
  /** Amplitude of a smooth day/night cycle, as a fraction of the base (peak at 15:00 local). */
  readonly diurnal?: number;
  /** The base's multiplier by local minute of the day and weekday (replaces `diurnal`). */
  readonly profile?: (localMinute: number, weekday: number, dayIndex: number) => number;
  /** A slow random wander of the level (log-scale standard deviation, correlated over about 2 hours). */
  readonly wander?: number;
  /** Lognormal noise instead of normal: a heavy right tail. */
  readonly heavyTail?: boolean;
  readonly missingFraction?: number;
  readonly missingDays?: number;
  readonly newestFirstWithDuplicates?: boolean;
  /** A multiplicative level shift from this day on. */
  readonly levelShift?: { readonly day: number; readonly factor: number };
  /** First and last usable day index when only some days have data. */
  readonly daysWithData?: readonly number[];
  /** Whether the instance runs (publishes datapoints) at a local minute of a day; always when absent. */
  readonly online?: (dayIndex: number, weekday: number, localMinute: number) => boolean;
  readonly bursts: (dayIndex: number, weekday: number) => readonly PlannedBurst[];
}

export type NetworkFamily = {
  readonly name: string;
  readonly description: string;
  readonly build: (rng: Random) => { plan: HostPlan; expected: NetworkExpectation };
};

export const START = Date.UTC(2026, 9, 20);
export const CRON_DAILY = 6 * 60 + 25;
export const MB = 1_000_000;

export const recurring = (timeZone: string, ...windowStarts: number[]): NetworkExpectation => ({
  verdict: 'recurring-window',
  timeZone,
  windowStarts,
});
export const verdictOnly = (verdict: NetworkExpectation['verdict']): NetworkExpectation => ({
  verdict,
  timeZone: 'UTC',
  windowStarts: [],
});

/** A crawl of a bucket: same size every day, within ±15 %. */
export function crawl(rng: Random, size: { minutes: [number, number]; rate: [number, number] }) {
  const minutes = rng.uniform(...size.minutes);
  const rate = rng.uniform(...size.rate);
  return (startMinute: number): PlannedBurst => ({
    startMinute,
    durationMinutes: minutes * rng.uniform(0.9, 1.1),
    bytesPerMinute: rate * rng.uniform(0.85, 1.15),
  });
}

export const typicalBase = (rng: Random): number => rng.logNormal(150_000, 0.8);
export const typicalHost = (rng: Random): Omit<HostPlan, 'bursts'> => ({
  baseBytesPerMinute: typicalBase(rng),
});

/**
 * A family whose host crawls its bucket once a day at `start(rng)` (minutes, host local time). Random draws
 * happen in a fixed order (crawl size, host, then one start per day) so that seeds replay.
 */
export function dailyCrawl(
  name: string,
  description: string,
  size: { minutes: [number, number]; rate: [number, number] },
  start: (rng: Random) => number,
  expected: NetworkExpectation,
  host: (rng: Random) => Omit<HostPlan, 'bursts'> = typicalHost,
): NetworkFamily {
  return {
    name,
    description,
    build: (rng) => {
      const daily = crawl(rng, size);
      return { plan: { ...host(rng), bursts: () => [daily(start(rng))] }, expected };
    },
  };
}

/** Irregular working-hours bursts: Poisson count, lognormal sizes, 08:00–19:00, fewer at weekends. */
export function officeBursts(
  rng: Random,
  weekday: number,
  shape: { perDay: number; medianBytes: number },
): PlannedBurst[] {
  const mean = weekday === 0 || weekday === 6 ? shape.perDay * 0.3 : shape.perDay;
  const count = poisson(rng, mean);
  return Array.from({ length: count }, () => {
    const durationMinutes = rng.uniform(10, 90);
    return {
      startMinute: rng.uniform(8 * 60, 19 * 60 - durationMinutes),
      durationMinutes,
      bytesPerMinute: rng.logNormal(shape.medianBytes, 1) / durationMinutes,
    };
  });
}

export function poisson(rng: Random, mean: number): number {
  const limit = Math.exp(-mean);
  let product = rng.next();
  let count = 0;
  while (product > limit) {
    product *= rng.next();
    count += 1;
  }
  return count;
}

/** Builds one scenario of a family from a seed. */
export function networkScenario(family: NetworkFamily, seed: number, rng: Random): NetworkScenario {
  const { plan, expected } = family.build(rng);
  const { series, crawlStarts } = renderHost(plan, rng);
  return { family: family.name, seed, description: family.description, series, expected, crawlStarts };
}

interface Interval {
  readonly from: number;
  readonly to: number;
  readonly rate: number;
  readonly rampMs: number;
  readonly drift: number;
}

/** The rate of a burst at instant `t` (its ramps and drift applied). */
function rateAt(interval: Interval, t: number): number {
  const progress = (t - interval.from) / (interval.to - interval.from);
  const ramp =
    interval.rampMs > 0
      ? Math.min(1, (t - interval.from) / interval.rampMs, (interval.to - t) / interval.rampMs)
      : 1;
  return interval.rate * Math.max(0, ramp) * (1 + interval.drift * (progress - 0.5));
}

/** Turns a host plan into CloudWatch-like NetworkOut datapoints (Sum of bytes per period). */
function renderHost(plan: HostPlan, rng: Random): { series: MetricSeries; crawlStarts: number[] } {
  const days = plan.days ?? 14;
  const period = plan.periodMinutes ?? 5;
  const periodMs = period * MS_PER_MINUTE;
  const start = START + rng.int(0, 23) * 3_600_000;
  const end = start + days * MS_PER_DAY;
  const clock = zoneClock(plan.hostZone ?? 'UTC', start, end);
  // Plan bursts per local day of the host, as UTC intervals.
  const intervals: Interval[] = [];
  const crawlStarts: number[] = [];
  const firstLocalDay = Math.floor((start + clock.offsetMs(start)) / MS_PER_DAY) - 1;
  const lastLocalDay = Math.floor((end + clock.offsetMs(end)) / MS_PER_DAY);
  for (let localDay = firstLocalDay; localDay <= lastLocalDay; localDay += 1) {
    for (const burst of plan.bursts(localDay - firstLocalDay - 1, weekdayOf(localDay))) {
      const localStart = localDay * MS_PER_DAY + burst.startMinute * MS_PER_MINUTE;
      const from = localStart - clock.offsetMs(localStart);
      intervals.push({
        from,
        to: from + burst.durationMinutes * MS_PER_MINUTE,
        rate: burst.bytesPerMinute,
        rampMs: (burst.rampMinutes ?? 0) * MS_PER_MINUTE,
        drift: burst.drift ?? 0,
      });
      if (burst.tag === 'crawl' && from >= start && from < end) crawlStarts.push(from);
    }
  }
  intervals.sort((a, b) => a.from - b.from);
  crawlStarts.sort((a, b) => a - b);
  let firstOpen = 0;
  const missingDays = new Set<number>();
  for (let k = 0; k < (plan.missingDays ?? 0); k += 1) missingDays.add(rng.int(1, days - 2));
  const dataDays = plan.daysWithData === undefined ? null : new Set(plan.daysWithData);
  const timestamps: number[] = [];
  const values: number[] = [];
  const noiseCv = plan.noiseCv ?? 0.2;
  // AR(1) on the log level, one step per datapoint, correlation time about two hours.
  const wanderKeep = Math.exp(-period / 120);
  let wander = 0;
  for (let t = start; t < end; t += periodMs) {
    const dayIndex = Math.floor((t - start) / MS_PER_DAY);
    if (plan.wander !== undefined) {
      wander = wanderKeep * wander + Math.sqrt(1 - wanderKeep * wanderKeep) * plan.wander * rng.normal();
    }
    if (missingDays.has(dayIndex) || (dataDays !== null && !dataDays.has(dayIndex))) continue;
    const local = t + clock.offsetMs(t);
    const localDay = Math.floor(local / MS_PER_DAY);
    const localMinute = (local - localDay * MS_PER_DAY) / MS_PER_MINUTE;
    if (
      plan.online !== undefined &&
      !plan.online(localDay - firstLocalDay - 1, weekdayOf(localDay), localMinute)
    )
      continue;
    if (rng.chance(plan.missingFraction ?? 0)) continue;
    const localHour = ((((t + clock.offsetMs(t)) % MS_PER_DAY) + MS_PER_DAY) % MS_PER_DAY) / 3_600_000;
    let base =
      plan.profile !== undefined
        ? plan.baseBytesPerMinute *
          plan.profile(localMinute, weekdayOf(localDay), localDay - firstLocalDay - 1)
        : plan.baseBytesPerMinute *
          (1 + (plan.diurnal ?? 0) * Math.cos(((localHour - 15) / 24) * 2 * Math.PI));
    if (plan.levelShift !== undefined && dayIndex >= plan.levelShift.day) base *= plan.levelShift.factor;
    if (plan.wander !== undefined) base *= Math.exp(wander);
    const noisy = plan.heavyTail
      ? base * Math.exp(noiseCv * rng.normal() - (noiseCv * noiseCv) / 2)
      : base * (1 + noiseCv * rng.normal());
    let bytes = Math.max(0, noisy) * period;
    // Bursts last under a day: skip those that began more than a day before this point.
    while (firstOpen < intervals.length && (intervals[firstOpen] as Interval).from < t - MS_PER_DAY)
      firstOpen += 1;
    for (let k = firstOpen; k < intervals.length; k += 1) {
      const interval = intervals[k] as Interval;
      if (interval.from >= t + periodMs) break;
      const from = Math.max(interval.from, t);
      const to = Math.min(interval.to, t + periodMs);
      if (to > from) {
        const rate =
          interval.rampMs === 0 && interval.drift === 0 ? interval.rate : rateAt(interval, (from + to) / 2);
        bytes += rate * ((to - from) / MS_PER_MINUTE) * rng.uniform(0.8, 1.2);
      }
    }
    timestamps.push(t);
    values.push(Math.round(bytes));
  }
  if (plan.newestFirstWithDuplicates) {
    for (let i = 0; i < timestamps.length; i += 20) {
      timestamps.push(timestamps[i] as number);
      values.push(values[i] as number);
    }
    const order = timestamps
      .map((_, i) => i)
      .sort((a, b) => (timestamps[b] as number) - (timestamps[a] as number));
    return {
      series: {
        timestamps: order.map((i) => timestamps[i] as number),
        values: order.map((i) => values[i] as number),
      },
      crawlStarts,
    };
  }
  return { series: { timestamps, values }, crawlStarts };
}
