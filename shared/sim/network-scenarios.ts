/**
 * Labelled NetworkOut scenario families for the evaluation, the bench and the simulated fleet. Each family
 * draws a host and its bursts from a seeded {@link Random}; `networkScenario` renders one (network-host.ts).
 */
import { FLEET_NETWORK_FAMILIES } from './network-fleet-families.ts';
import {
  CRON_DAILY,
  crawl,
  dailyCrawl,
  MB,
  type NetworkFamily,
  officeBursts,
  type PlannedBurst,
  recurring,
  typicalBase,
  verdictOnly,
} from './network-host.ts';

export {
  type NetworkExpectation,
  type NetworkFamily,
  type NetworkScenario,
  networkScenario,
} from './network-host.ts';

/** The families the detector was first built against (seeds replay: their draws are unchanged). */
const FIRST_FAMILIES: readonly NetworkFamily[] = [
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

/** Every family: the first ones, then the situations common on real fleets (issue 9). Order fixes the seeds. */
export const NETWORK_FAMILIES: readonly NetworkFamily[] = [...FIRST_FAMILIES, ...FLEET_NETWORK_FAMILIES];
