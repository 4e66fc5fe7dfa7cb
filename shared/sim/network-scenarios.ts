import type { MetricSeries } from '#core/series.ts';
import { MS_PER_DAY, MS_PER_MINUTE, weekdayOf, zoneClock } from '#core/time-zone.ts';
import type { Random } from './random.ts';

/** What a NetworkOut scenario should be judged as, and where its crawl windows start (local minutes). */
export interface NetworkExpectation {
  readonly verdict: 'recurring-window' | 'daily-burst' | 'none' | 'insufficient-data';
  /** Time zone to analyse in (the host's cron zone, or UTC to test reporting across midnight). */
  readonly timeZone: string;
  /** For 'recurring-window': the nominal start minute of each window, in `timeZone`. */
  readonly windowStarts: readonly number[];
}

export interface NetworkScenario {
  readonly family: string;
  readonly seed: number;
  readonly description: string;
  readonly series: MetricSeries;
  readonly expected: NetworkExpectation;
}

/** A burst of traffic, in the host's local time. */
interface PlannedBurst {
  readonly startMinute: number;
  readonly durationMinutes: number;
  readonly bytesPerMinute: number;
}

interface HostPlan {
  readonly days?: number;
  readonly periodMinutes?: 1 | 5;
  /** The host's zone: where cron's 06:25 is. */
  readonly hostZone?: string;
  readonly baseBytesPerMinute: number;
  readonly noiseCv?: number;
  /** Amplitude of a smooth day/night cycle, as a fraction of the base (peak at 15:00 local). */
  readonly diurnal?: number;
  /** Lognormal noise instead of normal: a heavy right tail. */
  readonly heavyTail?: boolean;
  readonly missingFraction?: number;
  readonly missingDays?: number;
  readonly newestFirstWithDuplicates?: boolean;
  /** A multiplicative level shift from this day on. */
  readonly levelShift?: { readonly day: number; readonly factor: number };
  /** First and last usable day index when only some days have data. */
  readonly daysWithData?: readonly number[];
  readonly bursts: (dayIndex: number, weekday: number) => readonly PlannedBurst[];
}

const START = Date.UTC(2026, 9, 20);
const CRON_DAILY = 6 * 60 + 25;

type Family = {
  readonly name: string;
  readonly description: string;
  readonly build: (rng: Random) => { plan: HostPlan; expected: NetworkExpectation };
};

const recurring = (timeZone: string, ...windowStarts: number[]): NetworkExpectation => ({
  verdict: 'recurring-window',
  timeZone,
  windowStarts,
});
const verdictOnly = (verdict: NetworkExpectation['verdict']): NetworkExpectation => ({
  verdict,
  timeZone: 'UTC',
  windowStarts: [],
});

/** A crawl of a bucket: same size every day, within ±15 %. */
function crawl(rng: Random, size: { minutes: [number, number]; rate: [number, number] }) {
  const minutes = rng.uniform(...size.minutes);
  const rate = rng.uniform(...size.rate);
  return (startMinute: number): PlannedBurst => ({
    startMinute,
    durationMinutes: minutes * rng.uniform(0.9, 1.1),
    bytesPerMinute: rate * rng.uniform(0.85, 1.15),
  });
}

const typicalBase = (rng: Random): number => rng.logNormal(150_000, 0.8);
const typicalHost = (rng: Random): Omit<HostPlan, 'bursts'> => ({ baseBytesPerMinute: typicalBase(rng) });
const MB = 1_000_000;

/**
 * A family whose host crawls its bucket once a day at `start(rng)` (minutes, host local time). Random draws
 * happen in a fixed order (crawl size, host, then one start per day) so that seeds replay.
 */
function dailyCrawl(
  name: string,
  description: string,
  size: { minutes: [number, number]; rate: [number, number] },
  start: (rng: Random) => number,
  expected: NetworkExpectation,
  host: (rng: Random) => Omit<HostPlan, 'bursts'> = typicalHost,
): Family {
  return {
    name,
    description,
    build: (rng) => {
      const daily = crawl(rng, size);
      return { plan: { ...host(rng), bursts: () => [daily(start(rng))] }, expected };
    },
  };
}

export const NETWORK_FAMILIES: readonly Family[] = [
  dailyCrawl(
    'cron-0625',
    'cron.daily at 06:25 UTC crawls the bucket for 30–240 min',
    { minutes: [30, 240], rate: [1 * MB, 5 * MB] },
    () => CRON_DAILY,
    recurring('UTC', CRON_DAILY),
  ),
  dailyCrawl(
    'anacron-jitter',
    'anacron runs cron.daily 0–45 min after 06:25, a different delay every day',
    { minutes: [30, 180], rate: [1 * MB, 4 * MB] },
    (rng) => CRON_DAILY + rng.uniform(0, 45),
    recurring('UTC', CRON_DAILY),
  ),
  dailyCrawl(
    'cron-1min-period',
    'detailed monitoring: 1-minute datapoints, cron crawl at 06:25',
    { minutes: [20, 120], rate: [1 * MB, 4 * MB] },
    () => CRON_DAILY,
    recurring('UTC', CRON_DAILY),
    (rng) => ({ periodMinutes: 1, baseBytesPerMinute: typicalBase(rng), noiseCv: 0.3 }),
  ),
  dailyCrawl(
    'kst-crosses-midnight-utc',
    'cron 06:25 KST (21:25 UTC), 3–5 h crawl across UTC midnight, analysed in UTC',
    { minutes: [180, 300], rate: [1 * MB, 5 * MB] },
    () => CRON_DAILY,
    recurring('UTC', 21 * 60 + 25),
    (rng) => ({ hostZone: 'Asia/Seoul', baseBytesPerMinute: typicalBase(rng) }),
  ),
  dailyCrawl(
    'kst-local-zone',
    'cron 06:25 KST with anacron delay, analysed in Asia/Seoul',
    { minutes: [60, 270], rate: [1 * MB, 5 * MB] },
    (rng) => CRON_DAILY + rng.uniform(0, 45),
    recurring('Asia/Seoul', CRON_DAILY),
    (rng) => ({ hostZone: 'Asia/Seoul', baseBytesPerMinute: typicalBase(rng) }),
  ),
  dailyCrawl(
    'missing-points-and-days',
    'cron crawl with 15 % of datapoints and 2–3 whole days missing',
    { minutes: [30, 180], rate: [1 * MB, 4 * MB] },
    (rng) => CRON_DAILY + rng.uniform(0, 20),
    recurring('UTC', CRON_DAILY),
    (rng) => ({ baseBytesPerMinute: typicalBase(rng), missingFraction: 0.15, missingDays: rng.int(2, 3) }),
  ),
  {
    name: 'weekday-only',
    description: 'a crawl at 06:25 on Monday–Friday only',
    build: (rng) => {
      const daily = crawl(rng, { minutes: [30, 180], rate: [1 * MB, 4 * MB] });
      return {
        plan: {
          baseBytesPerMinute: typicalBase(rng),
          bursts: (_day, weekday) => (weekday >= 1 && weekday <= 5 ? [daily(CRON_DAILY)] : []),
        },
        expected: recurring('UTC', CRON_DAILY),
      };
    },
  },
  {
    name: 'two-windows',
    description: 'cron.daily at 06:25 and a second daily crawl (another mount, within 3× the size) at 18:10',
    build: (rng) => {
      const morningMinutes = rng.uniform(40, 120);
      const morningRate = rng.uniform(1.5 * MB, 4 * MB);
      const morning = crawl(rng, {
        minutes: [morningMinutes, morningMinutes],
        rate: [morningRate, morningRate],
      });
      // The second crawl carries 0.4–2.5× the first one's bytes.
      const eveningMinutes = rng.uniform(40, 120);
      const eveningRate = (rng.uniform(0.4, 2.5) * morningMinutes * morningRate) / eveningMinutes;
      const evening = crawl(rng, {
        minutes: [eveningMinutes, eveningMinutes],
        rate: [eveningRate, eveningRate],
      });
      const second = 18 * 60 + 10;
      return {
        plan: { baseBytesPerMinute: typicalBase(rng), bursts: () => [morning(CRON_DAILY), evening(second)] },
        expected: recurring('UTC', CRON_DAILY, second),
      };
    },
  },
  {
    name: 'varying-length',
    description: 'cron crawl whose length varies 20–240 min from day to day (bucket churn)',
    build: (rng) => {
      const rate = rng.uniform(1 * MB, 4 * MB);
      return {
        plan: {
          baseBytesPerMinute: typicalBase(rng),
          bursts: () => [
            { startMinute: CRON_DAILY, durationMinutes: rng.uniform(20, 240), bytesPerMinute: rate },
          ],
        },
        expected: recurring('UTC', CRON_DAILY),
      };
    },
  },
  {
    name: 'tiny-baseline',
    description: 'idle host (≈500 B/min, often constant) with a 30–60 min crawl of 100–500 kB/min',
    build: (rng) => {
      const daily = crawl(rng, { minutes: [30, 60], rate: [100_000, 500_000] });
      return {
        plan: {
          baseBytesPerMinute: rng.uniform(200, 800),
          noiseCv: rng.chance(0.5) ? 0 : 0.1,
          bursts: () => [daily(CRON_DAILY + rng.uniform(0, 10))],
        },
        expected: recurring('UTC', CRON_DAILY),
      };
    },
  },
  {
    name: 'busy-diurnal-host',
    description: 'busy host with a ±50 % day/night cycle; crawl adds 1.5–3× base for 1–3 h',
    build: (rng) => {
      const base = rng.uniform(1 * MB, 4 * MB);
      const daily = crawl(rng, { minutes: [60, 180], rate: [1.5 * base, 3 * base] });
      return {
        plan: { baseBytesPerMinute: base, diurnal: 0.5, noiseCv: 0.1, bursts: () => [daily(CRON_DAILY)] },
        expected: recurring('UTC', CRON_DAILY),
      };
    },
  },
  {
    name: 'crawl-with-office-noise',
    description: 'cron crawl plus 0–4 smaller irregular bursts a day during working hours',
    build: (rng) => {
      const daily = crawl(rng, { minutes: [60, 180], rate: [2 * MB, 5 * MB] });
      return {
        plan: {
          baseBytesPerMinute: typicalBase(rng),
          bursts: (_day, weekday) => [
            daily(CRON_DAILY),
            ...officeBursts(rng, weekday, { perDay: 2, medianBytes: 15 * MB }),
          ],
        },
        expected: recurring('UTC', CRON_DAILY),
      };
    },
  },
  dailyCrawl(
    'newest-first-duplicates',
    'cron crawl; datapoints newest first (as CloudWatch returns them) with 5 % duplicates',
    { minutes: [30, 180], rate: [1 * MB, 4 * MB] },
    () => CRON_DAILY,
    recurring('UTC', CRON_DAILY),
    (rng) => ({ baseBytesPerMinute: typicalBase(rng), newestFirstWithDuplicates: true }),
  ),
  dailyCrawl(
    'dst-new-york',
    'cron 06:25 America/New_York across the 1 November DST change, analysed in that zone',
    { minutes: [30, 180], rate: [1 * MB, 4 * MB] },
    () => CRON_DAILY,
    recurring('America/New_York', CRON_DAILY),
    (rng) => ({ hostZone: 'America/New_York', baseBytesPerMinute: typicalBase(rng) }),
  ),
  {
    name: 'short-daily-spike',
    description:
      'one 5-min spike a day at 03:05–03:45 on a tiny baseline (as NAB ec2_cpu_utilization_24ae8d)',
    build: (rng) => {
      const size = rng.uniform(1 * MB, 3 * MB);
      return {
        plan: {
          baseBytesPerMinute: rng.uniform(20_000, 60_000),
          noiseCv: 0.05,
          bursts: () => [{ startMinute: 185 + 5 * rng.int(0, 8), durationMinutes: 5, bytesPerMinute: size }],
        },
        expected: recurring('UTC', 185),
      };
    },
  },
  dailyCrawl(
    'long-crawl',
    'large bucket: a 5–6.5 h crawl from 06:25',
    { minutes: [300, 370], rate: [2 * MB, 6 * MB] },
    () => CRON_DAILY,
    recurring('UTC', CRON_DAILY),
  ),
  dailyCrawl(
    'systemd-1h-delay',
    'upstream plocate timer: daily at 00:00 with RandomizedDelaySec=1h',
    { minutes: [20, 120], rate: [1 * MB, 4 * MB] },
    (rng) => rng.uniform(0, 60),
    recurring('UTC', 0),
  ),
  dailyCrawl(
    'jitter-across-midnight',
    'a daily job at 23:40 with 0–45 min delay: starts straddle midnight',
    { minutes: [30, 120], rate: [1 * MB, 4 * MB] },
    (rng) => 23 * 60 + 40 + rng.uniform(0, 45),
    recurring('UTC', 23 * 60 + 40),
  ),
  dailyCrawl(
    'systemd-12h-random',
    "Debian's plocate-updatedb.timer: daily with RandomizedDelaySec=12h",
    { minutes: [30, 180], rate: [1 * MB, 4 * MB] },
    (rng) => rng.uniform(0, 720),
    verdictOnly('daily-burst'),
  ),
  dailyCrawl(
    'systemd-12h-1min-gaps',
    'systemd random-delay crawl, 1-minute datapoints with 10 % missing',
    { minutes: [20, 120], rate: [1 * MB, 4 * MB] },
    (rng) => rng.uniform(0, 720),
    verdictOnly('daily-burst'),
    (rng) => ({ periodMinutes: 1, baseBytesPerMinute: typicalBase(rng), noiseCv: 0.3, missingFraction: 0.1 }),
  ),
  {
    name: 'systemd-12h-busy-host',
    description: 'systemd random-delay crawl on a busy host with a day/night cycle',
    build: (rng) => {
      const base = rng.uniform(1 * MB, 3 * MB);
      const daily = crawl(rng, { minutes: [60, 180], rate: [2 * base, 4 * base] });
      return {
        plan: {
          baseBytesPerMinute: base,
          diurnal: 0.4,
          noiseCv: 0.1,
          bursts: () => [daily(rng.uniform(0, 720))],
        },
        expected: verdictOnly('daily-burst'),
      };
    },
  },
  {
    name: 'crawl-plus-hourly-job',
    description:
      'cron crawl at 06:25 plus a small sync job every hour at :10 (as NAB ec2_cpu_utilization_53ea38)',
    build: (rng) => {
      const daily = crawl(rng, { minutes: [30, 120], rate: [2 * MB, 5 * MB] });
      const hourlyRate = rng.uniform(0.2 * MB, 0.6 * MB);
      return {
        plan: {
          baseBytesPerMinute: typicalBase(rng),
          bursts: () => [
            daily(CRON_DAILY),
            ...Array.from({ length: 24 }, (_, hour) => ({
              startMinute: hour * 60 + 10,
              durationMinutes: 5,
              bytesPerMinute: hourlyRate,
            })),
          ],
        },
        expected: recurring('UTC', CRON_DAILY),
      };
    },
  },
  dailyCrawl(
    'dst-new-york-in-utc',
    'cron 06:25 America/New_York analysed in UTC: 10:25 before the DST change, 11:25 after',
    { minutes: [30, 180], rate: [1 * MB, 4 * MB] },
    () => CRON_DAILY,
    recurring('UTC', 10 * 60 + 25),
    (rng) => ({ hostZone: 'America/New_York', baseBytesPerMinute: typicalBase(rng) }),
  ),
  {
    name: 'systemd-12h-with-background',
    description: 'systemd random-delay crawl plus small irregular bursts during working hours',
    build: (rng) => {
      const daily = crawl(rng, { minutes: [60, 180], rate: [2 * MB, 5 * MB] });
      return {
        plan: {
          baseBytesPerMinute: typicalBase(rng),
          bursts: (_day, weekday) => [
            daily(rng.uniform(0, 720)),
            ...officeBursts(rng, weekday, { perDay: 1.5, medianBytes: 10 * MB }),
          ],
        },
        expected: verdictOnly('daily-burst'),
      };
    },
  },
  {
    name: 'flat-noise',
    description: 'steady traffic with normal noise (CV 10–40 %)',
    build: (rng) => ({
      plan: { baseBytesPerMinute: typicalBase(rng), noiseCv: rng.uniform(0.1, 0.4), bursts: () => [] },
      expected: verdictOnly('none'),
    }),
  },
  {
    name: 'all-zero',
    description: 'an instance that sends nothing',
    build: () => ({
      plan: { baseBytesPerMinute: 0, noiseCv: 0, bursts: () => [] },
      expected: verdictOnly('none'),
    }),
  },
  {
    name: 'smooth-day-night',
    description: 'a smooth ±60–90 % day/night cycle, no crawl',
    build: (rng) => ({
      plan: {
        baseBytesPerMinute: rng.uniform(0.5 * MB, 5 * MB),
        diurnal: rng.uniform(0.6, 0.9),
        noiseCv: 0.05,
        bursts: () => [],
      },
      expected: verdictOnly('none'),
    }),
  },
  {
    name: 'business-hours-plateau',
    description: '4× traffic from 09:00 to 18:00 on weekdays (as NAB art_daily_*)',
    build: (rng) => {
      const base = typicalBase(rng);
      return {
        plan: {
          baseBytesPerMinute: base,
          bursts: (_day, weekday) =>
            (weekday >= 1 && weekday <= 5) || rng.chance(0.3)
              ? [
                  {
                    startMinute: 9 * 60 + rng.uniform(-10, 10),
                    durationMinutes: 540 + rng.uniform(-20, 20),
                    bytesPerMinute: 3 * base,
                  },
                ]
              : [],
        },
        expected: verdictOnly('none'),
      };
    },
  },
  {
    name: 'one-off-spikes',
    description: 'one or two large one-off spikes in two weeks (a deploy, a backup)',
    build: (rng) => {
      const days = new Set([rng.int(0, 13), rng.int(0, 13)]);
      return {
        plan: {
          baseBytesPerMinute: typicalBase(rng),
          bursts: (day) =>
            days.has(day)
              ? [
                  {
                    startMinute: rng.uniform(0, 1380),
                    durationMinutes: rng.uniform(10, 120),
                    bytesPerMinute: rng.uniform(2 * MB, 10 * MB),
                  },
                ]
              : [],
        },
        expected: verdictOnly('none'),
      };
    },
  },
  {
    name: 'irregular-office-bursts',
    description: '0–5 bursts a day of very different sizes at random working hours',
    build: (rng) => ({
      plan: {
        baseBytesPerMinute: typicalBase(rng),
        bursts: (_day, weekday) => officeBursts(rng, weekday, { perDay: 2.5, medianBytes: 40 * MB }),
      },
      expected: verdictOnly('none'),
    }),
  },
  {
    name: 'weekly-job',
    description: 'a crawl-sized job every Sunday at 03:00',
    build: (rng) => {
      const weekly = crawl(rng, { minutes: [60, 180], rate: [1 * MB, 4 * MB] });
      return {
        plan: {
          baseBytesPerMinute: typicalBase(rng),
          bursts: (_day, weekday) => (weekday === 0 ? [weekly(180)] : []),
        },
        expected: verdictOnly('none'),
      };
    },
  },
  {
    name: 'hourly-job',
    description: 'a 5–10 min sync job at :10 every hour',
    build: (rng) => {
      const rate = rng.uniform(0.5 * MB, 2 * MB);
      const minutes = rng.uniform(5, 10);
      return {
        plan: {
          baseBytesPerMinute: typicalBase(rng),
          bursts: () =>
            Array.from({ length: 24 }, (_, hour) => ({
              startMinute: hour * 60 + 10,
              durationMinutes: minutes,
              bytesPerMinute: rate * rng.uniform(0.8, 1.2),
            })),
        },
        expected: verdictOnly('none'),
      };
    },
  },
  {
    name: 'level-shift',
    description: 'traffic steps up 3–10× on one day and stays there',
    build: (rng) => ({
      plan: {
        baseBytesPerMinute: typicalBase(rng),
        levelShift: { day: rng.int(3, 10), factor: rng.uniform(3, 10) },
        bursts: () => [],
      },
      expected: verdictOnly('none'),
    }),
  },
  {
    name: 'idle-kb-blips',
    description: 'an idle host whose daily 06:25 job sends a few kB: not news',
    build: (rng) => ({
      plan: {
        baseBytesPerMinute: rng.uniform(100, 500),
        noiseCv: 0.1,
        bursts: () => [
          {
            startMinute: CRON_DAILY,
            durationMinutes: rng.uniform(5, 15),
            bytesPerMinute: rng.uniform(2_000, 20_000),
          },
        ],
      },
      expected: verdictOnly('none'),
    }),
  },
  {
    name: 'heavy-tailed-noise',
    description: 'bursty traffic with lognormal noise, no crawl',
    build: (rng) => ({
      plan: {
        baseBytesPerMinute: typicalBase(rng),
        heavyTail: true,
        noiseCv: rng.uniform(0.5, 0.9),
        bursts: () => [],
      },
      expected: verdictOnly('none'),
    }),
  },
  {
    name: 'non-daily-period',
    description: 'crawl-sized bursts every 17 h (not a daily schedule, as NAB art_increase_spike_density)',
    build: (rng) => {
      const burst = crawl(rng, { minutes: [30, 90], rate: [1 * MB, 4 * MB] });
      const phase = rng.uniform(0, 1020);
      return {
        plan: {
          baseBytesPerMinute: typicalBase(rng),
          bursts: (day) => {
            const result: PlannedBurst[] = [];
            for (
              let minute = phase + Math.ceil((day * 1440 - phase) / 1020) * 1020;
              minute < (day + 1) * 1440;
              minute += 1020
            ) {
              result.push(burst(minute - day * 1440));
            }
            return result;
          },
        },
        expected: verdictOnly('none'),
      };
    },
  },
  dailyCrawl(
    'three-days-only',
    'a new instance: 3–4 days of metrics with a cron crawl',
    { minutes: [30, 180], rate: [1 * MB, 4 * MB] },
    () => CRON_DAILY,
    verdictOnly('insufficient-data'),
    (rng) => ({ days: rng.int(3, 4), baseBytesPerMinute: typicalBase(rng) }),
  ),
  dailyCrawl(
    'sparse-days',
    'two weeks in which only 4 days have datapoints (instance mostly stopped)',
    { minutes: [30, 180], rate: [1 * MB, 4 * MB] },
    () => CRON_DAILY,
    verdictOnly('insufficient-data'),
    (rng) => ({ baseBytesPerMinute: typicalBase(rng), daysWithData: [1, 5, 8, 12] }),
  ),
];

/** Irregular working-hours bursts: Poisson count, lognormal sizes, 08:00–19:00, fewer at weekends. */
function officeBursts(
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

function poisson(rng: Random, mean: number): number {
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
export function networkScenario(family: Family, seed: number, rng: Random): NetworkScenario {
  const { plan, expected } = family.build(rng);
  return {
    family: family.name,
    seed,
    description: family.description,
    series: renderHost(plan, rng),
    expected,
  };
}

/** Turns a host plan into CloudWatch-like NetworkOut datapoints (Sum of bytes per period). */
function renderHost(plan: HostPlan, rng: Random): MetricSeries {
  const days = plan.days ?? 14;
  const period = plan.periodMinutes ?? 5;
  const periodMs = period * MS_PER_MINUTE;
  const start = START + rng.int(0, 23) * 3_600_000;
  const end = start + days * MS_PER_DAY;
  const clock = zoneClock(plan.hostZone ?? 'UTC', start, end);
  // Plan bursts per local day of the host, as UTC intervals.
  const intervals: { from: number; to: number; rate: number }[] = [];
  const firstLocalDay = Math.floor((start + clock.offsetMs(start)) / MS_PER_DAY) - 1;
  const lastLocalDay = Math.floor((end + clock.offsetMs(end)) / MS_PER_DAY);
  for (let localDay = firstLocalDay; localDay <= lastLocalDay; localDay += 1) {
    for (const burst of plan.bursts(localDay - firstLocalDay - 1, weekdayOf(localDay))) {
      const localStart = localDay * MS_PER_DAY + burst.startMinute * MS_PER_MINUTE;
      const from = localStart - clock.offsetMs(localStart);
      intervals.push({ from, to: from + burst.durationMinutes * MS_PER_MINUTE, rate: burst.bytesPerMinute });
    }
  }
  intervals.sort((a, b) => a.from - b.from);
  let firstOpen = 0;
  const missingDays = new Set<number>();
  for (let k = 0; k < (plan.missingDays ?? 0); k += 1) missingDays.add(rng.int(1, days - 2));
  const dataDays = plan.daysWithData === undefined ? null : new Set(plan.daysWithData);
  const timestamps: number[] = [];
  const values: number[] = [];
  const noiseCv = plan.noiseCv ?? 0.2;
  for (let t = start; t < end; t += periodMs) {
    const dayIndex = Math.floor((t - start) / MS_PER_DAY);
    if (missingDays.has(dayIndex) || (dataDays !== null && !dataDays.has(dayIndex))) continue;
    if (rng.chance(plan.missingFraction ?? 0)) continue;
    const localHour = ((((t + clock.offsetMs(t)) % MS_PER_DAY) + MS_PER_DAY) % MS_PER_DAY) / 3_600_000;
    let base =
      plan.baseBytesPerMinute * (1 + (plan.diurnal ?? 0) * Math.cos(((localHour - 15) / 24) * 2 * Math.PI));
    if (plan.levelShift !== undefined && dayIndex >= plan.levelShift.day) base *= plan.levelShift.factor;
    const noisy = plan.heavyTail
      ? base * Math.exp(noiseCv * rng.normal() - (noiseCv * noiseCv) / 2)
      : base * (1 + noiseCv * rng.normal());
    let bytes = Math.max(0, noisy) * period;
    // Bursts last under a day: skip those that began more than a day before this point.
    while (firstOpen < intervals.length && (intervals[firstOpen] as { from: number }).from < t - MS_PER_DAY)
      firstOpen += 1;
    for (let k = firstOpen; k < intervals.length; k += 1) {
      const interval = intervals[k] as { from: number; to: number; rate: number };
      if (interval.from >= t + periodMs) break;
      const overlap = Math.min(interval.to, t + periodMs) - Math.max(interval.from, t);
      if (overlap > 0) bytes += interval.rate * (overlap / MS_PER_MINUTE) * rng.uniform(0.8, 1.2);
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
      timestamps: order.map((i) => timestamps[i] as number),
      values: order.map((i) => values[i] as number),
    };
  }
  return { timestamps, values };
}
