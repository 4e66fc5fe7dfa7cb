import type { MetricSeries } from '#core/series.ts';
import { MS_PER_DAY, MS_PER_MINUTE } from '#core/time-zone.ts';
import { FLEET_MEMORY_FAMILIES } from './memory-fleet-families.ts';
import type { Random } from './random.ts';

export interface MemoryExpectation {
  readonly verdict: 'growth' | 'none' | 'insufficient-data';
  /** For 'growth': the true rise per day since the last restart (percentage points or bytes). */
  readonly slopePerDay?: number;
}

export interface MemoryScenario {
  readonly family: string;
  readonly seed: number;
  readonly description: string;
  readonly series: MetricSeries;
  readonly expected: MemoryExpectation;
}

export interface MemoryPlan {
  readonly days?: number;
  readonly periodMinutes?: 1 | 5;
  readonly missingFraction?: number;
  /** Noise standard deviation, in the series' unit. */
  readonly noise: number;
  /** The level at `dayFloat` days since the start (before noise). */
  readonly level: (dayFloat: number) => number;
  readonly clamp?: [number, number];
}

export type MemoryFamily = {
  readonly name: string;
  readonly description: string;
  readonly build: (rng: Random) => { plan: MemoryPlan; expected: MemoryExpectation };
};

const START = Date.UTC(2026, 9, 20);
const MIB = 1_048_576;
const PERCENT: [number, number] = [0, 100];
const growth = (slopePerDay: number): MemoryExpectation => ({ verdict: 'growth', slopePerDay });
const none: MemoryExpectation = { verdict: 'none' };
const insufficient: MemoryExpectation = { verdict: 'insufficient-data' };
/** Time of day as a fraction, for daily patterns. */
const timeOfDay = (day: number): number => day - Math.floor(day);

/** The families the detector was first built against (seeds replay: their draws are unchanged). */
const FIRST_FAMILIES: readonly MemoryFamily[] = [
  {
    name: 'linear-leak-percent',
    description: 'mem_used_percent creeping from ~6 % to ~70 % over two weeks (the original report)',
    build: (rng) => {
      const start = rng.uniform(4, 10);
      const slope = rng.uniform(3, 5);
      return {
        plan: { noise: rng.uniform(0.3, 1.5), level: (d) => start + slope * d, clamp: PERCENT },
        expected: growth(slope),
      };
    },
  },
  {
    name: 's3fs-rss-staircase',
    description: 's3fs RSS (bytes) stepping up at each 06:25 crawl and never coming down',
    build: (rng) => {
      const base = rng.uniform(9, 10) * MIB;
      const step = rng.uniform(1.5, 4) * MIB;
      const crawlAt = (6 * 60 + 25) / 1440;
      const phase = rng.uniform(0, 1);
      const crawlsBy = (d: number): number => Math.floor(d + phase - crawlAt) - Math.floor(phase - crawlAt);
      return {
        plan: { noise: 0.05 * MIB, level: (d) => base + step * crawlsBy(d) },
        expected: growth(step),
      };
    },
  },
  {
    name: 'leak-restarted-days-ago',
    description: 'a leak; the host was restarted 4–6 days ago and is leaking again since',
    build: (rng) => {
      const slope = rng.uniform(2, 5);
      const restart = 14 - rng.uniform(4, 6);
      return {
        plan: {
          noise: 0.8,
          level: (d) => (d < restart ? 10 + slope * d : 8 + slope * (d - restart)),
          clamp: PERCENT,
        },
        expected: growth(slope),
      };
    },
  },
  {
    name: 'slow-leak',
    description: 'a slow leak of 0.5–1 point a day under 0.5–1 point of noise',
    build: (rng) => {
      const slope = rng.uniform(0.5, 1);
      return {
        plan: { noise: rng.uniform(0.5, 1), level: (d) => 20 + slope * d, clamp: PERCENT },
        expected: growth(slope),
      };
    },
  },
  {
    name: 'leak-with-day-cycle',
    description: 'a leak of 1.5–3 points a day on top of a ±4-point day/night cycle',
    build: (rng) => {
      const slope = rng.uniform(1.5, 3);
      return {
        plan: {
          noise: 0.5,
          level: (d) => 25 + slope * d + 4 * Math.sin(2 * Math.PI * timeOfDay(d)),
          clamp: PERCENT,
        },
        expected: growth(slope),
      };
    },
  },
  {
    name: 'leak-1min-gaps',
    description: 'a leak in 1-minute data with 15 % of datapoints missing',
    build: (rng) => {
      const slope = rng.uniform(1, 4);
      return {
        plan: {
          periodMinutes: 1,
          missingFraction: 0.15,
          noise: 1,
          level: (d) => 15 + slope * d,
          clamp: PERCENT,
        },
        expected: growth(slope),
      };
    },
  },
  {
    name: 'leak-weekly-restarts',
    description: 'a leak with a restart every 4–5 days (last one 3–4 days ago)',
    build: (rng) => {
      const slope = rng.uniform(3, 6);
      const every = rng.uniform(4, 5);
      const last = 14 - rng.uniform(3, 4);
      return {
        plan: {
          noise: 0.7,
          level: (d) => {
            const since = d >= last ? d - last : (d - last + every * 10) % every;
            return 10 + slope * since;
          },
          clamp: PERCENT,
        },
        expected: growth(slope),
      };
    },
  },
  {
    name: 'late-onset-leak',
    description: 'flat for a week, then a steady leak (the bucket was mounted mid-window)',
    build: (rng) => {
      const onset = rng.uniform(5, 7);
      const slope = rng.uniform(2, 4);
      return {
        plan: { noise: 0.7, level: (d) => 20 + (d > onset ? slope * (d - onset) : 0), clamp: PERCENT },
        expected: growth(slope),
      };
    },
  },
  {
    name: 'leak-heavy-noise',
    description: 'a leak of 1–2 points a day under 4–6 points of noise',
    build: (rng) => {
      const slope = rng.uniform(1, 2);
      return {
        plan: { noise: rng.uniform(4, 6), level: (d) => 20 + slope * d, clamp: PERCENT },
        expected: growth(slope),
      };
    },
  },
  {
    name: 'leak-with-dips',
    description: 'a leak with one-datapoint dips to near zero (agent glitches), not restarts',
    build: (rng) => {
      const slope = rng.uniform(2, 4);
      const dips = new Set(Array.from({ length: 6 }, () => rng.int(0, 14 * 288)));
      let index = 0;
      return {
        plan: {
          noise: 0.5,
          level: (d) => {
            index += 1;
            return dips.has(index) ? 1 : 15 + slope * d;
          },
          clamp: PERCENT,
        },
        expected: growth(slope),
      };
    },
  },
  {
    name: 'flat-noise',
    description: 'steady memory with noise',
    build: (rng) => {
      const level = rng.uniform(10, 80);
      return { plan: { noise: rng.uniform(0.2, 3), level: () => level, clamp: PERCENT }, expected: none };
    },
  },
  {
    name: 'daily-sawtooth-restart',
    description: 'grows 10–20 points every day and drops back at a nightly restart',
    build: (rng) => {
      const rise = rng.uniform(10, 20);
      const base = rng.uniform(15, 40);
      return {
        plan: { noise: 0.5, level: (d) => base + rise * timeOfDay(d + 0.1), clamp: PERCENT },
        expected: none,
      };
    },
  },
  {
    name: 'daily-sawtooth-gradual',
    description: 'fills during the day, drains slowly at night (caches), no trend',
    build: (rng) => {
      const base = rng.uniform(20, 50);
      const amplitude = rng.uniform(5, 15);
      return {
        plan: {
          noise: 0.5,
          level: (d) => {
            const x = timeOfDay(d);
            return base + amplitude * (x < 0.7 ? x / 0.7 : (1 - x) / 0.3);
          },
          clamp: PERCENT,
        },
        expected: none,
      };
    },
  },
  {
    name: 'warm-up-plateau',
    description: 'caches warm up over 1–2 days, then memory stays flat',
    build: (rng) => {
      const warm = rng.uniform(1, 2);
      const from = rng.uniform(5, 15);
      const to = from + rng.uniform(15, 40);
      return {
        plan: { noise: 0.6, level: (d) => (d < warm ? from + ((to - from) * d) / warm : to), clamp: PERCENT },
        expected: none,
      };
    },
  },
  {
    name: 'rss-cache-cap',
    description: 's3fs RSS grows with its stat cache until max_stat_cache_size, then stays',
    build: (rng) => {
      const base = 9.4 * MIB;
      const cap = base + rng.uniform(20, 40) * MIB;
      const days = rng.uniform(1.5, 3);
      return {
        plan: { noise: 0.1 * MIB, level: (d) => Math.min(cap, base + ((cap - base) * d) / days) },
        expected: none,
      };
    },
  },
  {
    name: 'single-level-shift',
    description: 'memory steps up once (a new workload) and stays there',
    build: (rng) => {
      const at = rng.uniform(3, 11);
      const from = rng.uniform(10, 40);
      const step = rng.uniform(8, 30);
      return {
        plan: { noise: 0.8, level: (d) => (d < at ? from : from + step), clamp: PERCENT },
        expected: none,
      };
    },
  },
  {
    name: 'two-level-shifts',
    description: 'two unrelated steps up a week apart',
    build: (rng) => {
      const first = rng.uniform(2, 5);
      const second = first + rng.uniform(5, 8);
      const from = rng.uniform(10, 30);
      return {
        plan: {
          noise: 0.8,
          level: (d) => from + (d >= first ? 12 : 0) + (d >= second ? 10 : 0),
          clamp: PERCENT,
        },
        expected: none,
      };
    },
  },
  {
    name: 'random-walk',
    description: 'memory wandering up and down without a trend (a mean-reverting walk)',
    build: (rng) => {
      let level = rng.uniform(30, 60);
      const mean = level;
      return {
        plan: {
          noise: 0.2,
          level: () => {
            level += 0.15 * rng.normal() - 0.002 * (level - mean);
            return level;
          },
          clamp: PERCENT,
        },
        expected: none,
      };
    },
  },
  {
    name: 'decline',
    description: 'memory slowly falling',
    build: (rng) => {
      const slope = rng.uniform(0.5, 2);
      return { plan: { noise: 0.8, level: (d) => 60 - slope * d, clamp: PERCENT }, expected: none };
    },
  },
  {
    name: 'negligible-drift',
    description: "a drift of 0.01–0.05 points a day: real but not worth anyone's time",
    build: (rng) => {
      const slope = rng.uniform(0.01, 0.05);
      return { plan: { noise: 0.1, level: (d) => 30 + slope * d, clamp: PERCENT }, expected: none };
    },
  },
  {
    name: 'recently-restarted',
    description: 'a leak, but the host restarted 8–30 h ago: too soon to say',
    build: (rng) => {
      const slope = rng.uniform(2, 5);
      const restart = 14 - rng.uniform(8, 30) / 24;
      return {
        plan: {
          noise: 0.5,
          level: (d) => (d < restart ? 10 + slope * d : 8 + slope * (d - restart)),
          clamp: PERCENT,
        },
        expected: insufficient,
      };
    },
  },
  {
    name: 'two-days-only',
    description: 'a new instance with 1.5–2.5 days of data',
    build: (rng) => ({
      plan: { days: rng.uniform(1.5, 2.5), noise: 0.5, level: (d) => 10 + 3 * d, clamp: PERCENT },
      expected: insufficient,
    }),
  },
];

/** Every family: the first ones, then the situations common on real fleets (issue 9). Order fixes the seeds. */
export const MEMORY_FAMILIES: readonly MemoryFamily[] = [...FIRST_FAMILIES, ...FLEET_MEMORY_FAMILIES];

export function memoryScenario(family: MemoryFamily, seed: number, rng: Random): MemoryScenario {
  const { plan, expected } = family.build(rng);
  return {
    family: family.name,
    seed,
    description: family.description,
    series: renderMemory(plan, rng),
    expected,
  };
}

function renderMemory(plan: MemoryPlan, rng: Random): MetricSeries {
  const period = (plan.periodMinutes ?? 5) * MS_PER_MINUTE;
  const start = START + rng.int(0, 23) * 3_600_000;
  const end = start + (plan.days ?? 14) * MS_PER_DAY;
  const timestamps: number[] = [];
  const values: number[] = [];
  for (let t = start; t < end; t += period) {
    if (rng.chance(plan.missingFraction ?? 0)) continue;
    let value = plan.level((t - start) / MS_PER_DAY) + rng.normal(0, plan.noise);
    if (plan.clamp !== undefined) value = Math.min(plan.clamp[1], Math.max(plan.clamp[0], value));
    timestamps.push(t);
    values.push(value);
  }
  // CloudWatch returns newest first.
  return { timestamps: timestamps.reverse(), values: values.reverse() };
}
