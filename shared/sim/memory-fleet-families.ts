/**
 * Memory situations common on real fleets (issue 9), each with negatives that look like it: a leak under a
 * weekly batch cycle, a leak that began a few days ago with one step per daily crawl, a leak with a short
 * spike or dip that is not a restart.
 */
import type { MemoryExpectation, MemoryFamily, MemoryPlan } from './memory-scenarios.ts';
import type { Random } from './random.ts';

const MIB = 1_048_576;
const PERCENT: [number, number] = [0, 100];
const growth = (slopePerDay: number): MemoryExpectation => ({ verdict: 'growth', slopePerDay });
const none: MemoryExpectation = { verdict: 'none' };

/**
 * A weekly batch: from `first` (days) every 7 days for `duration` days it holds `size` more memory, reached
 * over `rise` days (or built up over the whole batch when `gradual`), and released within minutes at its end.
 */
function weeklyBatch(
  rng: Random,
  options: { size: [number, number]; duration: [number, number]; gradual?: boolean },
): (day: number) => number {
  const first = rng.uniform(0.5, 6.5);
  const duration = rng.uniform(...options.duration);
  const size = rng.uniform(...options.size);
  const rise = rng.uniform(0.02, 0.1);
  return (day) => {
    const into = (((day - first) % 7) + 7) % 7;
    if (day < first || into >= duration) return 0;
    return options.gradual ? (size * into) / duration : size * Math.min(1, into / rise);
  };
}

/** Short excursions of `size` (negative for dips) lasting 30–90 min, at `count` random times in [from, to). */
function excursions(rng: Random, count: number, from: number, to: number, size: [number, number]) {
  const list = Array.from({ length: count }, () => ({
    at: rng.uniform(from, to),
    length: rng.uniform(30, 90) / 1440,
    size: rng.uniform(...size),
  }));
  return (day: number): number =>
    list.reduce((sum, e) => sum + (day >= e.at && day < e.at + e.length ? e.size : 0), 0);
}

/** A staircase: `step` more at each daily crawl time from day `from` on (`phase` sets the time of day). */
function dailySteps(rng: Random, from: number, step: number): (day: number) => number {
  const phase = rng.uniform(0, 1);
  return (day) => (day < from ? 0 : step * (Math.floor(day - from + phase) + 1));
}

const plan = (p: MemoryPlan): MemoryPlan => p;

export const FLEET_MEMORY_FAMILIES: readonly MemoryFamily[] = [
  // A leak under a weekly batch cycle: the end of a batch is not a restart.
  {
    name: 'leak-under-weekly-batch',
    description: 'a leak of 1–3 points a day under a weekly batch holding 10–25 points for 10–36 h',
    build: (rng) => {
      const slope = rng.uniform(1, 3);
      const start = rng.uniform(20, 35);
      const batch = weeklyBatch(rng, { size: [10, 25], duration: [0.4, 1.5] });
      return {
        plan: plan({
          noise: rng.uniform(0.4, 1),
          level: (d) => start + slope * d + batch(d),
          clamp: PERCENT,
        }),
        expected: growth(slope),
      };
    },
  },
  {
    name: 'leak-under-weekly-batch-1min',
    description:
      'a leak of 1.5–3 points a day under a weekly batch that builds up 8–15 points over 1–2 days and frees them at once; 1-minute data, 10 % missing',
    build: (rng) => {
      const slope = rng.uniform(1.5, 3);
      const start = rng.uniform(15, 30);
      const batch = weeklyBatch(rng, { size: [8, 15], duration: [1, 2], gradual: true });
      return {
        plan: plan({
          periodMinutes: 1,
          missingFraction: 0.1,
          noise: rng.uniform(0.5, 1),
          level: (d) => start + slope * d + batch(d),
          clamp: PERCENT,
        }),
        expected: growth(slope),
      };
    },
  },
  {
    name: 'weekly-batch-no-leak',
    description: 'a weekly batch holding 10–25 points for 10–36 h, released at its end; no leak',
    build: (rng) => {
      const start = rng.uniform(20, 50);
      const batch = weeklyBatch(rng, { size: [10, 25], duration: [0.4, 1.5] });
      return {
        plan: plan({ noise: rng.uniform(0.4, 1), level: (d) => start + batch(d), clamp: PERCENT }),
        expected: none,
      };
    },
  },

  // A late-onset leak: one equal step per daily crawl over the last few days.
  {
    name: 'late-staircase-rss',
    description: 's3fs RSS flat for 9–11 days, then one step of 1.5–4 MiB at each daily crawl (a new mount)',
    build: (rng) => {
      const base = rng.uniform(9, 10) * MIB;
      const step = rng.uniform(1.5, 4) * MIB;
      const steps = dailySteps(rng, rng.uniform(9, 11), step);
      return {
        plan: plan({ noise: 0.05 * MIB, level: (d) => base + steps(d) }),
        expected: growth(step),
      };
    },
  },
  {
    name: 'late-staircase-percent',
    description: 'mem_used_percent flat for 9–11 days, then one step of 1–3 points a day',
    build: (rng) => {
      const base = rng.uniform(15, 40);
      const step = rng.uniform(1, 3);
      const steps = dailySteps(rng, rng.uniform(9, 11), step);
      return {
        plan: plan({ noise: rng.uniform(0.2, 0.5), level: (d) => base + steps(d), clamp: PERCENT }),
        expected: growth(step),
      };
    },
  },
  {
    name: 'late-level-shift',
    description: 'flat, then one step up of 8–20 points 2–4 days before the end, flat since',
    build: (rng) => {
      const base = rng.uniform(15, 40);
      const at = 14 - rng.uniform(2, 4);
      const size = rng.uniform(8, 20);
      return {
        plan: plan({
          noise: rng.uniform(0.3, 0.8),
          level: (d) => base + (d >= at ? size : 0),
          clamp: PERCENT,
        }),
        expected: none,
      };
    },
  },

  // A short spike or dip is not a restart.
  {
    name: 'leak-with-hour-spike',
    description:
      'a leak of 1–4 points a day with one or two 30–90 min spikes of 10–30 points, one in the last 4 days',
    build: (rng) => {
      const slope = rng.uniform(1, 4);
      const start = rng.uniform(10, 25);
      const early = excursions(rng, rng.int(0, 1), 1, 10, [10, 30]);
      const late = excursions(rng, 1, 10, 13.8, [10, 30]);
      return {
        plan: plan({
          noise: rng.uniform(0.3, 1),
          level: (d) => start + slope * d + early(d) + late(d),
          clamp: PERCENT,
        }),
        expected: growth(slope),
      };
    },
  },
  {
    name: 'leak-with-hour-spike-rss',
    description:
      's3fs RSS stepping up at each daily crawl, with a 30–90 min spike of 20–60 MiB in the last 3 days',
    build: (rng) => {
      const base = rng.uniform(9, 10) * MIB;
      const step = rng.uniform(1.5, 4) * MIB;
      const steps = dailySteps(rng, 0, step);
      const spike = excursions(rng, 1, 11, 13.8, [20 * MIB, 60 * MIB]);
      return {
        plan: plan({ noise: 0.05 * MIB, level: (d) => base + steps(d) + spike(d) }),
        expected: growth(step),
      };
    },
  },
  {
    name: 'leak-with-hour-dip',
    description:
      'a leak of 1.5–4 points a day with a 30–90 min dip of 10–25 points (caches dropped) in the last 4 days',
    build: (rng) => {
      const slope = rng.uniform(1.5, 4);
      const start = rng.uniform(30, 40);
      const dip = excursions(rng, 1, 10, 13.8, [-25, -10]);
      return {
        plan: plan({ noise: rng.uniform(0.3, 1), level: (d) => start + slope * d + dip(d), clamp: PERCENT }),
        expected: growth(slope),
      };
    },
  },
  {
    name: 'restart-then-flat',
    description: 'a leak for 8–10 days, then a restart with the fix: back to the start level and flat since',
    build: (rng) => {
      const slope = rng.uniform(2, 4);
      const start = rng.uniform(10, 25);
      const restart = rng.uniform(8, 10);
      return {
        plan: plan({
          noise: rng.uniform(0.3, 1),
          level: (d) => (d < restart ? start + slope * d : start + rng.uniform(-0.1, 0.1)),
          clamp: PERCENT,
        }),
        expected: none,
      };
    },
  },
  {
    name: 'spikes-on-flat',
    description: 'steady memory with two to four 30–90 min spikes of 10–30 points',
    build: (rng) => {
      const level = rng.uniform(15, 50);
      const spikes = excursions(rng, rng.int(2, 4), 0.5, 13.8, [10, 30]);
      return {
        plan: plan({ noise: rng.uniform(0.3, 1), level: (d) => level + spikes(d), clamp: PERCENT }),
        expected: none,
      };
    },
  },
];
