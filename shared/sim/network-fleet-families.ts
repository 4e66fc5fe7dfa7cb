/**
 * NetworkOut situations common on real fleets (issue 9), each with negatives that look like it: new
 * mounts, crawls that stopped or moved, huge buckets, busy web hosts, crawls that are not the day's
 * largest transfer, instances that only run part of the day, office traffic. Hosts vary in level, noise,
 * period (1 or 5 minutes), time zone and gaps.
 */
import {
  CRON_DAILY,
  type HostPlan,
  MB,
  type NetworkExpectation,
  type NetworkFamily,
  officeBursts,
  type PlannedBurst,
  poisson,
  recurring,
  typicalBase,
  verdictOnly,
} from './network-host.ts';
import type { Random } from './random.ts';

/** Days 0..13 are whole days of data; day 14 is the partial day on which the data ends. */
const LAST_DAY = 14;

const stoppedWindow = (timeZone: string, windowStart: number): NetworkExpectation => ({
  ...verdictOnly('none'),
  timeZone,
  stopped: windowStart,
});

/**
 * A bucket crawl of a stable size: a sharp start, a plateau of request traffic whose rate drifts over the
 * crawl (listing-heavy then stat-heavy phases), a sharp end. Lengths and rates vary ±10 % / ±15 % a day.
 */
function crawlOf(rng: Random, size: { minutes: [number, number]; rate: [number, number]; drift?: number }) {
  const minutes = rng.uniform(...size.minutes);
  const rate = rng.uniform(...size.rate);
  const drift = rng.uniform(-(size.drift ?? 0.2), size.drift ?? 0.2);
  return (startMinute: number): PlannedBurst => ({
    startMinute,
    durationMinutes: minutes * rng.uniform(0.9, 1.1),
    bytesPerMinute: rate * rng.uniform(0.85, 1.15),
    drift,
    tag: 'crawl',
  });
}

/** anacron's start of cron.daily: 06:25 plus a delay of 0–45 min on a share of hosts, fixed otherwise. */
function cronStart(rng: Random): (rng: Random) => number {
  return rng.chance(0.5) ? () => CRON_DAILY : (r) => CRON_DAILY + r.uniform(0, 45);
}

const logistic = (x: number, center: number, scale: number): number =>
  1 / (1 + Math.exp(-(x - center) / scale));

/** Per-day jitter, drawn once per plan so that the profile is a pure function of the day. */
function perDay(rng: Random, draw: (rng: Random) => number): (dayIndex: number) => number {
  const values = Array.from({ length: LAST_DAY + 3 }, () => draw(rng));
  return (dayIndex) => values[Math.max(0, Math.min(values.length - 1, dayIndex + 1))] as number;
}

/**
 * A public web service: a night trough at `night` of the peak, a morning ramp (logistic, 10–90 % over
 * 50–130 min) centred 06:30–08:30 that moves ±10 min from day to day, an evening bump, a late decline;
 * weekends lower. Multiplier of the peak level.
 */
function webDay(rng: Random): NonNullable<HostPlan['profile']> {
  const night = rng.uniform(0.2, 0.45);
  const rampCenter = rng.uniform(390, 510);
  const rampScale = rng.uniform(12, 30);
  const evening = rng.uniform(0, 0.15);
  const declineCenter = rng.uniform(1290, 1410);
  const declineScale = rng.uniform(30, 60);
  const weekend = rng.uniform(0.6, 0.9);
  const shift = perDay(rng, (r) => r.uniform(-10, 10));
  const level = perDay(rng, (r) => r.uniform(0.93, 1.07));
  return (minute, weekday, dayIndex) => {
    const up = logistic(minute, rampCenter + shift(dayIndex), rampScale);
    const down = logistic(minute, declineCenter, declineScale);
    const bump = evening * Math.exp(-(((minute - 1230) / 90) ** 2));
    const day = Math.max(0, up - down) + bump;
    const scale = (weekday === 0 || weekday === 6 ? weekend : 1) * level(dayIndex);
    return night + (1 - night) * day * scale;
  };
}

/**
 * Office traffic: people arrive over `arrival` minutes (10–90 %) around 08:00–09:00, a lunch dip of
 * 25–50 % around 12:30, people leave around 17:00–18:00; weekends nearly idle. Multiplier of the base.
 */
function officeDay(rng: Random, arrival: [number, number] = [45, 120]): NonNullable<HostPlan['profile']> {
  const amplitude = rng.uniform(2, 7);
  const arriveCenter = rng.uniform(480, 540);
  const arriveScale = rng.uniform(...arrival) / 4.4;
  const lunchCenter = rng.uniform(735, 765);
  const lunchWidth = rng.uniform(30, 45);
  const lunchDepth = rng.uniform(0.25, 0.5);
  const leaveCenter = rng.uniform(1020, 1080);
  const leaveScale = rng.uniform(15, 40);
  const weekend = rng.uniform(0, 0.15);
  const shift = perDay(rng, (r) => r.uniform(-10, 10));
  const level = perDay(rng, (r) => r.uniform(0.85, 1.15));
  return (minute, weekday, dayIndex) => {
    const present =
      logistic(minute, arriveCenter + shift(dayIndex), arriveScale) -
      logistic(minute, leaveCenter, leaveScale);
    const lunch = 1 - lunchDepth * Math.exp(-(((minute - lunchCenter) / lunchWidth) ** 2));
    const busy = weekday === 0 || weekday === 6 ? weekend : level(dayIndex);
    return 1 + amplitude * Math.max(0, present) * lunch * busy;
  };
}

/** Bytes of a planned burst. */
const bytesOf = (burst: PlannedBurst): number => burst.bytesPerMinute * burst.durationMinutes;

/** A few large unrelated transfers (backups, deploys, log uploads) at random times on a share of days. */
function largeTransfers(rng: Random, crawlBytes: number, share: number): PlannedBurst[] {
  if (!rng.chance(share)) return [];
  const durationMinutes = rng.uniform(20, 120);
  return [
    {
      startMinute: rng.uniform(0, 1440 - durationMinutes),
      durationMinutes,
      bytesPerMinute: (rng.uniform(2, 8) * crawlBytes) / durationMinutes,
    },
  ];
}

export const FLEET_NETWORK_FAMILIES: readonly NetworkFamily[] = [
  // A new mount: crawled every day since it was added a few days ago.
  {
    name: 'new-mount-cron',
    description: 'an s3fs mount added 3–5 days before the end, crawled by cron.daily every day since',
    build: (rng) => {
      const daily = crawlOf(rng, { minutes: [30, 180], rate: [1 * MB, 5 * MB] });
      const start = cronStart(rng);
      const mountDay = rng.int(9, 11);
      return {
        plan: {
          baseBytesPerMinute: typicalBase(rng),
          bursts: (day) => (day >= mountDay ? [daily(start(rng))] : []),
        },
        expected: recurring('UTC', CRON_DAILY),
      };
    },
  },
  {
    name: 'new-mount-1min-berlin',
    description:
      'a new mount crawled 06:25–07:10 Berlin time for the last 3–5 days; 1-minute data with 5 % missing, a ±30 % day cycle',
    build: (rng) => {
      const daily = crawlOf(rng, { minutes: [20, 90], rate: [0.5 * MB, 3 * MB] });
      const mountDay = rng.int(9, 11);
      return {
        plan: {
          periodMinutes: 1,
          hostZone: 'Europe/Berlin',
          baseBytesPerMinute: typicalBase(rng),
          diurnal: 0.3,
          missingFraction: 0.05,
          bursts: (day) => (day >= mountDay ? [daily(CRON_DAILY + rng.uniform(0, 45))] : []),
        },
        expected: recurring('Europe/Berlin', CRON_DAILY),
      };
    },
  },
  {
    name: 'new-mount-office-noise',
    description:
      'a new mount crawled at 06:25 for the last 4–6 days, among irregular working-hours transfers',
    build: (rng) => {
      const daily = crawlOf(rng, { minutes: [40, 150], rate: [1 * MB, 4 * MB] });
      const mountDay = rng.int(8, 10);
      return {
        plan: {
          baseBytesPerMinute: typicalBase(rng),
          bursts: (day, weekday) => [
            ...(day >= mountDay ? [daily(CRON_DAILY)] : []),
            ...officeBursts(rng, weekday, { perDay: 1.5, medianBytes: 30 * MB }),
          ],
        },
        expected: recurring('UTC', CRON_DAILY),
      };
    },
  },
  {
    name: 'scattered-same-time',
    description:
      'a report job at 06:25 ± 10 min that runs on 3–5 scattered days only (when upstream data arrives)',
    build: (rng) => {
      const job = crawlOf(rng, { minutes: [30, 150], rate: [1 * MB, 4 * MB] });
      const days = new Set<number>();
      while (days.size < rng.int(3, 5)) {
        const day = rng.int(0, 13);
        if (!days.has(day - 1) && !days.has(day + 1)) days.add(day);
      }
      return {
        plan: {
          baseBytesPerMinute: typicalBase(rng),
          bursts: (day) => (days.has(day) ? [job(CRON_DAILY + rng.uniform(-10, 10))] : []),
        },
        expected: verdictOnly('none'),
      };
    },
  },
  {
    name: 'recent-migration',
    description: 'a data migration run by hand on each of the last 2–4 days, at a different time each day',
    build: (rng) => {
      const first = LAST_DAY - rng.int(2, 4);
      const size = rng.uniform(0.5, 3) * 1000 * MB;
      return {
        plan: {
          baseBytesPerMinute: typicalBase(rng),
          bursts: (day) => {
            if (day < first || day >= LAST_DAY) return [];
            const durationMinutes = rng.uniform(60, 240);
            return [
              {
                startMinute: rng.uniform(8 * 60, 20 * 60),
                durationMinutes,
                bytesPerMinute: (size * rng.uniform(0.7, 1.3)) / durationMinutes,
              },
            ];
          },
        },
        expected: verdictOnly('none'),
      };
    },
  },

  // A crawl that stopped (the mount was pruned or removed): describe the present.
  {
    name: 'crawl-stopped',
    description: 'cron.daily crawled the bucket every day, then stopped 3–6 days before the end (the fix)',
    build: (rng) => {
      const daily = crawlOf(rng, { minutes: [30, 240], rate: [1 * MB, 5 * MB] });
      const start = cronStart(rng);
      const lastDay = 13 - rng.int(3, 6);
      return {
        plan: {
          baseBytesPerMinute: typicalBase(rng),
          bursts: (day) => (day <= lastDay ? [daily(start(rng))] : []),
        },
        expected: stoppedWindow('UTC', CRON_DAILY),
      };
    },
  },
  {
    name: 'crawl-stopped-systemd',
    description:
      "plocate's systemd timer (random delay up to 12 h) crawled daily, then stopped 3–6 days before the end",
    build: (rng) => {
      const daily = crawlOf(rng, { minutes: [30, 180], rate: [1 * MB, 4 * MB] });
      const lastDay = 13 - rng.int(3, 6);
      return {
        plan: {
          baseBytesPerMinute: typicalBase(rng),
          bursts: (day) => (day <= lastDay ? [daily(rng.uniform(0, 720))] : []),
        },
        expected: { ...verdictOnly('none'), stopped: 'daily-burst' },
      };
    },
  },
  {
    name: 'crawl-stopped-1min-gaps',
    description:
      'a crawl at 06:25 (anacron delay) that stopped 2–4 days ago; 1-minute data with 10 % missing',
    build: (rng) => {
      const daily = crawlOf(rng, { minutes: [20, 120], rate: [1 * MB, 4 * MB] });
      const lastDay = 13 - rng.int(2, 4);
      return {
        plan: {
          periodMinutes: 1,
          baseBytesPerMinute: typicalBase(rng),
          diurnal: 0.3,
          noiseCv: 0.3,
          missingFraction: 0.1,
          bursts: (day) => (day <= lastDay ? [daily(CRON_DAILY + rng.uniform(0, 45))] : []),
        },
        expected: stoppedWindow('UTC', CRON_DAILY),
      };
    },
  },
  {
    name: 'crawl-skipped-a-day',
    description: 'a daily crawl at 06:25 that skipped one of the last two days (a reboot): still running',
    build: (rng) => {
      const daily = crawlOf(rng, { minutes: [30, 180], rate: [1 * MB, 4 * MB] });
      const skipped = rng.int(12, 13);
      return {
        plan: {
          baseBytesPerMinute: typicalBase(rng),
          bursts: (day) => (day === skipped ? [] : [daily(CRON_DAILY)]),
        },
        expected: recurring('UTC', CRON_DAILY),
      };
    },
  },
  {
    name: 'weekday-crawl-ends-on-weekend',
    description: 'a Monday–Friday crawl at 06:25; the data ends on Sunday, two days after the last crawl',
    build: (rng) => {
      const daily = crawlOf(rng, { minutes: [30, 180], rate: [1 * MB, 4 * MB] });
      return {
        plan: {
          days: 12,
          baseBytesPerMinute: typicalBase(rng),
          bursts: (_day, weekday) => (weekday >= 1 && weekday <= 5 ? [daily(CRON_DAILY)] : []),
        },
        expected: recurring('UTC', CRON_DAILY),
      };
    },
  },

  // Huge buckets: crawls of millions of objects last many hours.
  {
    name: 'huge-bucket-cron',
    description: 'a bucket of millions of objects: the 06:25 crawl lasts 8–14 h at 2–10 MB/min',
    build: (rng) => {
      const daily = crawlOf(rng, { minutes: [480, 840], rate: [2 * MB, 10 * MB], drift: 0.3 });
      return {
        plan: { baseBytesPerMinute: typicalBase(rng), bursts: () => [daily(CRON_DAILY)] },
        expected: recurring('UTC', CRON_DAILY),
      };
    },
  },
  {
    name: 'huge-bucket-systemd',
    description: 'a huge bucket crawled by the systemd timer (random delay up to 12 h) for 7.5–11 h',
    build: (rng) => {
      const daily = crawlOf(rng, { minutes: [450, 660], rate: [2 * MB, 8 * MB] });
      return {
        plan: { baseBytesPerMinute: typicalBase(rng), bursts: () => [daily(rng.uniform(0, 720))] },
        expected: verdictOnly('daily-burst'),
      };
    },
  },
  {
    name: 'huge-bucket-kst-in-utc',
    description:
      'cron 06:25 KST (21:25 UTC): a 9–15 h crawl across UTC midnight on a host with a ±25 % day cycle, analysed in UTC',
    build: (rng) => {
      const daily = crawlOf(rng, { minutes: [540, 900], rate: [2 * MB, 8 * MB] });
      return {
        plan: {
          hostZone: 'Asia/Seoul',
          baseBytesPerMinute: rng.uniform(0.2 * MB, 1 * MB),
          diurnal: 0.25,
          noiseCv: 0.1,
          bursts: () => [daily(CRON_DAILY)],
        },
        expected: recurring('UTC', 21 * 60 + 25),
      };
    },
  },
  {
    name: 'huge-bucket-1min',
    description: 'a 7.5–12 h crawl from 06:25 (anacron delay), 1-minute data with 5 % missing',
    build: (rng) => {
      const daily = crawlOf(rng, { minutes: [450, 720], rate: [1 * MB, 6 * MB], drift: 0.3 });
      return {
        plan: {
          periodMinutes: 1,
          baseBytesPerMinute: typicalBase(rng),
          noiseCv: 0.3,
          missingFraction: 0.05,
          bursts: () => [daily(CRON_DAILY + rng.uniform(0, 45))],
        },
        expected: recurring('UTC', CRON_DAILY),
      };
    },
  },

  // Busy hosts: a crawl of a few MB/min on traffic that swings tens of MB/min through the day.
  {
    name: 'busy-web-morning-crawl',
    description:
      'a web server swinging 15–40 MB/min through the day; a 3–8 MB/min crawl for 1–3 h from 06:25, in the morning ramp',
    build: (rng) => {
      const peak = rng.uniform(15 * MB, 40 * MB);
      const daily = crawlOf(rng, { minutes: [60, 180], rate: [3 * MB, 8 * MB] });
      const start = cronStart(rng);
      return {
        plan: {
          baseBytesPerMinute: peak,
          profile: webDay(rng),
          noiseCv: rng.uniform(0.02, 0.04),
          wander: rng.uniform(0.02, 0.05),
          bursts: () => [daily(start(rng))],
        },
        expected: recurring('UTC', CRON_DAILY),
      };
    },
  },
  {
    name: 'busy-web-1min-paris',
    description: 'a busy web server in Paris, 1-minute data; a 3–8 MB/min crawl from 07:10 for 1–2 h',
    build: (rng) => {
      const peak = rng.uniform(15 * MB, 30 * MB);
      const daily = crawlOf(rng, { minutes: [60, 120], rate: [3 * MB, 8 * MB] });
      const at = 7 * 60 + 10;
      return {
        plan: {
          periodMinutes: 1,
          hostZone: 'Europe/Paris',
          baseBytesPerMinute: peak,
          profile: webDay(rng),
          noiseCv: rng.uniform(0.03, 0.06),
          wander: rng.uniform(0.02, 0.04),
          missingFraction: 0.02,
          bursts: () => [daily(at + rng.uniform(0, 5))],
        },
        expected: recurring('Europe/Paris', at),
      };
    },
  },
  {
    name: 'busy-web-systemd',
    description:
      'a busy web server crawled by the systemd timer: 1–3 h at 20–35 % of the peak traffic, random start',
    build: (rng) => {
      const peak = rng.uniform(10 * MB, 30 * MB);
      const daily = crawlOf(rng, { minutes: [60, 180], rate: [0.2 * peak, 0.35 * peak] });
      return {
        plan: {
          baseBytesPerMinute: peak,
          profile: webDay(rng),
          noiseCv: rng.uniform(0.02, 0.04),
          wander: rng.uniform(0.02, 0.04),
          bursts: () => [daily(rng.uniform(0, 720))],
        },
        expected: verdictOnly('daily-burst'),
      };
    },
  },
  {
    name: 'busy-web-no-crawl',
    description: 'a busy web server: day cycle, weekends lower, wander, an occasional deploy; no crawl',
    build: (rng) => {
      const peak = rng.uniform(15 * MB, 40 * MB);
      return {
        plan: {
          baseBytesPerMinute: peak,
          profile: webDay(rng),
          noiseCv: rng.uniform(0.02, 0.05),
          wander: rng.uniform(0.02, 0.06),
          bursts: () =>
            rng.chance(0.3)
              ? [
                  {
                    startMinute: rng.uniform(9 * 60, 17 * 60),
                    durationMinutes: rng.uniform(5, 30),
                    bytesPerMinute: rng.uniform(0.2, 0.5) * peak,
                  },
                ]
              : [],
        },
        expected: verdictOnly('none'),
      };
    },
  },
  {
    name: 'busy-web-1min-no-crawl',
    description: 'a busy web server in New York, 1-minute data, across the DST change; no crawl',
    build: (rng) => {
      const peak = rng.uniform(10 * MB, 30 * MB);
      return {
        plan: {
          periodMinutes: 1,
          hostZone: 'America/New_York',
          baseBytesPerMinute: peak,
          profile: webDay(rng),
          noiseCv: rng.uniform(0.03, 0.06),
          wander: rng.uniform(0.03, 0.06),
          bursts: () => [],
        },
        expected: { ...verdictOnly('none'), timeZone: 'America/New_York' },
      };
    },
  },

  // Not the day's largest burst: larger unrelated transfers, or hourly jobs around the crawl.
  {
    name: 'crawl-under-large-transfers',
    description:
      'a 06:25 crawl, and on 40–70 % of days an unrelated transfer 2–8× its size at a random time (backup, deploy, logs)',
    build: (rng) => {
      const daily = crawlOf(rng, { minutes: [40, 120], rate: [1 * MB, 3 * MB] });
      const share = rng.uniform(0.4, 0.7);
      return {
        plan: {
          baseBytesPerMinute: typicalBase(rng),
          bursts: () => {
            const crawl = daily(CRON_DAILY);
            return [crawl, ...largeTransfers(rng, bytesOf(crawl), share)];
          },
        },
        expected: recurring('UTC', CRON_DAILY),
      };
    },
  },
  {
    name: 'crawl-among-large-hourly-jobs',
    description:
      'a 06:25 crawl and a sync job every hour at :40–:50 sending 2–8 MB each (its 05:45 run lies just before the crawl)',
    build: (rng) => {
      const daily = crawlOf(rng, { minutes: [30, 120], rate: [1 * MB, 4 * MB] });
      const minute = rng.pick([40, 45, 50]);
      const bytes = rng.uniform(2 * MB, 8 * MB);
      return {
        plan: {
          baseBytesPerMinute: typicalBase(rng),
          bursts: () => [
            daily(CRON_DAILY),
            ...Array.from({ length: 24 }, (_, hour) => {
              const durationMinutes = rng.uniform(5, 10);
              return {
                startMinute: hour * 60 + minute + rng.uniform(-2, 2),
                durationMinutes,
                bytesPerMinute: (bytes * rng.uniform(0.7, 1.3)) / durationMinutes,
              };
            }),
          ],
        },
        expected: recurring('UTC', CRON_DAILY),
      };
    },
  },
  {
    name: 'crawl-and-nightly-backup',
    description:
      'a 06:25 crawl, a nightly backup at 01:00 3–10× larger, and deploys on some days: two windows',
    build: (rng) => {
      const daily = crawlOf(rng, { minutes: [30, 120], rate: [1 * MB, 4 * MB] });
      const backupMinutes = rng.uniform(30, 90);
      const backupRate = rng.uniform(10 * MB, 30 * MB);
      return {
        plan: {
          baseBytesPerMinute: typicalBase(rng),
          bursts: (_day, weekday) => [
            daily(CRON_DAILY),
            {
              startMinute: 60 + rng.uniform(0, 5),
              durationMinutes: backupMinutes * rng.uniform(0.9, 1.1),
              bytesPerMinute: backupRate * rng.uniform(0.9, 1.1),
            },
            ...officeBursts(rng, weekday, { perDay: 0.7, medianBytes: 100 * MB }),
          ],
        },
        expected: recurring('UTC', CRON_DAILY, 60),
      };
    },
  },
  {
    name: 'hourly-jobs-and-large-transfers',
    description: 'a sync job every hour and large transfers at random times on half the days; no daily job',
    build: (rng) => {
      const minute = rng.int(0, 59);
      const bytes = rng.uniform(2 * MB, 8 * MB);
      return {
        plan: {
          baseBytesPerMinute: typicalBase(rng),
          bursts: () => [
            ...Array.from({ length: 24 }, (_, hour) => ({
              startMinute: hour * 60 + minute + rng.uniform(-2, 2),
              durationMinutes: 8,
              bytesPerMinute: (bytes * rng.uniform(0.7, 1.3)) / 8,
            })),
            ...largeTransfers(rng, 100 * MB, 0.5),
          ],
        },
        expected: verdictOnly('none'),
      };
    },
  },

  // Instances that run only part of the day (stopped at night, at weekends).
  {
    name: 'workday-instance-anacron',
    description:
      'an instance started around 07:30–08:30 and stopped 9–11 h later; anacron runs cron.daily 6–50 min after boot',
    build: (rng) => {
      const boot = rng.uniform(450, 510);
      const hours = rng.uniform(9, 11);
      const weekdaysOnly = rng.chance(0.5);
      const daily = crawlOf(rng, { minutes: [30, 150], rate: [1 * MB, 4 * MB] });
      const bootAt = perDay(rng, (r) => boot + r.uniform(-10, 10));
      const runs = (_day: number, weekday: number) => !weekdaysOnly || (weekday >= 1 && weekday <= 5);
      return {
        plan: {
          baseBytesPerMinute: typicalBase(rng),
          online: (day, weekday, minute) =>
            runs(day, weekday) && minute >= bootAt(day) && minute < bootAt(day) + hours * 60,
          bursts: (day, weekday) => (runs(day, weekday) ? [daily(bootAt(day) + rng.uniform(6, 50))] : []),
        },
        expected: recurring('UTC', Math.round(boot + 6)),
      };
    },
  },
  {
    name: 'workday-instance-cron',
    description: 'an instance running 06:00–16:00 on weekdays only (10 h a day); cron.daily at 06:25',
    build: (rng) => {
      const daily = crawlOf(rng, { minutes: [30, 150], rate: [1 * MB, 4 * MB] });
      return {
        plan: {
          baseBytesPerMinute: typicalBase(rng),
          online: (_day, weekday, minute) => weekday >= 1 && weekday <= 5 && minute >= 360 && minute < 960,
          bursts: () => [daily(CRON_DAILY)],
        },
        expected: recurring('UTC', CRON_DAILY),
      };
    },
  },
  {
    name: 'workday-instance-1min-la',
    description:
      'Los Angeles, 1-minute data: the instance runs about 08:00–17:00 every day; anacron crawls 6–50 min after boot',
    build: (rng) => {
      const daily = crawlOf(rng, { minutes: [20, 90], rate: [1 * MB, 4 * MB] });
      const bootAt = perDay(rng, (r) => 480 + r.uniform(-10, 10));
      return {
        plan: {
          periodMinutes: 1,
          hostZone: 'America/Los_Angeles',
          baseBytesPerMinute: typicalBase(rng),
          noiseCv: 0.3,
          online: (day, _weekday, minute) => minute >= bootAt(day) && minute < bootAt(day) + 540,
          bursts: (day) => [daily(bootAt(day) + rng.uniform(6, 50))],
        },
        expected: recurring('America/Los_Angeles', 486),
      };
    },
  },
  {
    name: 'workday-instance-office',
    description:
      'an instance running 08:00–18:00 on weekdays with office traffic (arrival ramp, lunch dip); no crawl',
    build: (rng) => {
      const profile = officeDay(rng);
      return {
        plan: {
          baseBytesPerMinute: typicalBase(rng),
          noiseCv: rng.uniform(0.08, 0.2),
          wander: rng.uniform(0.03, 0.08),
          profile,
          online: (_day, weekday, minute) => weekday >= 1 && weekday <= 5 && minute >= 480 && minute < 1080,
          bursts: (_day, weekday) => officeBursts(rng, weekday, { perDay: 1, medianBytes: 10 * MB }),
        },
        expected: verdictOnly('none'),
      };
    },
  },
  {
    name: 'workday-instance-irregular',
    description: 'an instance running 9–10 h a day with irregular transfers at any time it runs; no crawl',
    build: (rng) => {
      const boot = rng.uniform(420, 540);
      return {
        plan: {
          baseBytesPerMinute: typicalBase(rng),
          online: (_day, _weekday, minute) => minute >= boot && minute < boot + 570,
          bursts: () =>
            Array.from({ length: poisson(rng, 2) }, () => {
              const durationMinutes = rng.uniform(10, 90);
              return {
                startMinute: boot + rng.uniform(0, 570 - durationMinutes),
                durationMinutes,
                bytesPerMinute: rng.logNormal(40 * MB, 1) / durationMinutes,
              };
            }),
        },
        expected: verdictOnly('none'),
      };
    },
  },

  // Office traffic: a morning rise and a lunch dip are not a crawl window.
  {
    name: 'office-lunch-dip',
    description:
      'office traffic 3–8× the night level: arrival over 45–120 min from 08:00–09:00, a lunch dip, weekends idle',
    build: (rng) => ({
      plan: {
        baseBytesPerMinute: typicalBase(rng),
        profile: officeDay(rng),
        noiseCv: rng.uniform(0.08, 0.2),
        wander: rng.uniform(0.03, 0.08),
        bursts: () => [],
      },
      expected: verdictOnly('none'),
    }),
  },
  {
    name: 'office-lunch-dip-1min-paris',
    description: 'office traffic in Paris, 1-minute data with gaps, across the October DST change',
    build: (rng) => ({
      plan: {
        periodMinutes: 1,
        hostZone: 'Europe/Paris',
        baseBytesPerMinute: typicalBase(rng),
        profile: officeDay(rng),
        noiseCv: rng.uniform(0.1, 0.3),
        wander: rng.uniform(0.03, 0.08),
        missingFraction: 0.05,
        bursts: (_day, weekday) => officeBursts(rng, weekday, { perDay: 1, medianBytes: 5 * MB }),
      },
      expected: { ...verdictOnly('none'), timeZone: 'Europe/Paris' },
    }),
  },
  {
    name: 'office-quick-arrival',
    description:
      'a call centre: staff log in over 20–40 min at 08:00–09:00, lunch dip, weekends idle; no crawl',
    build: (rng) => ({
      plan: {
        baseBytesPerMinute: typicalBase(rng),
        profile: officeDay(rng, [20, 40]),
        noiseCv: rng.uniform(0.08, 0.2),
        wander: rng.uniform(0.03, 0.06),
        bursts: () => [],
      },
      expected: verdictOnly('none'),
    }),
  },
  {
    name: 'office-host-crawled',
    description:
      'office traffic (arrival ramp, lunch dip) and a cron.daily crawl at 06:25 before people arrive',
    build: (rng) => {
      const base = typicalBase(rng);
      const profile = officeDay(rng);
      const daily = crawlOf(rng, { minutes: [30, 120], rate: [1 * MB, 4 * MB] });
      const start = cronStart(rng);
      return {
        plan: {
          baseBytesPerMinute: base,
          profile,
          noiseCv: rng.uniform(0.08, 0.2),
          wander: rng.uniform(0.03, 0.08),
          bursts: () => [daily(start(rng))],
        },
        expected: recurring('UTC', CRON_DAILY),
      };
    },
  },

  // A schedule moved mid-period (an edited crontab): the windows before and after, and when it moved.
  {
    name: 'schedule-moved',
    description: 'a crawl at 06:25 until day 5–9, then at another time of day (crontab edited)',
    build: (rng) => {
      const daily = crawlOf(rng, { minutes: [30, 180], rate: [1 * MB, 4 * MB] });
      const after = rng.pick([2 * 60 + 10, 4 * 60 + 40, 13 * 60 + 5, 22 * 60 + 30]);
      const moveDay = rng.int(5, 9);
      return {
        plan: {
          baseBytesPerMinute: typicalBase(rng),
          bursts: (day) => [daily(day < moveDay ? CRON_DAILY : after)],
        },
        expected: { ...recurring('UTC', after), movedFrom: CRON_DAILY },
      };
    },
  },
  {
    name: 'schedule-moved-recently',
    description: 'a crawl at 06:25 for 10–11 days, then at 03:15 for the last 3–4 days',
    build: (rng) => {
      const daily = crawlOf(rng, { minutes: [30, 150], rate: [1 * MB, 4 * MB] });
      const after = 3 * 60 + 15;
      const moveDay = rng.int(10, 11);
      return {
        plan: {
          baseBytesPerMinute: typicalBase(rng),
          bursts: (day) => [daily(day < moveDay ? CRON_DAILY + rng.uniform(0, 20) : after)],
        },
        expected: { ...recurring('UTC', after), movedFrom: CRON_DAILY },
      };
    },
  },
  {
    name: 'schedule-moved-1min-kolkata',
    description: 'Asia/Kolkata, 1-minute data: a crawl at 06:25 (anacron delay) moved to 23:40 on day 5–8',
    build: (rng) => {
      const daily = crawlOf(rng, { minutes: [20, 120], rate: [1 * MB, 4 * MB] });
      const after = 23 * 60 + 40;
      const moveDay = rng.int(5, 8);
      return {
        plan: {
          periodMinutes: 1,
          hostZone: 'Asia/Kolkata',
          baseBytesPerMinute: typicalBase(rng),
          noiseCv: 0.3,
          missingFraction: 0.05,
          bursts: (day) => [daily(day < moveDay ? CRON_DAILY + rng.uniform(0, 45) : after)],
        },
        expected: { ...recurring('Asia/Kolkata', after), movedFrom: CRON_DAILY },
      };
    },
  },
  {
    name: 'moved-then-stopped',
    description: 'a crawl at 06:25, moved to 14:30 on day 4–6, then stopped 3–5 days before the end',
    build: (rng) => {
      const daily = crawlOf(rng, { minutes: [30, 150], rate: [1 * MB, 4 * MB] });
      const after = 14 * 60 + 30;
      const moveDay = rng.int(4, 5);
      const lastDay = 13 - rng.int(3, 5);
      return {
        plan: {
          baseBytesPerMinute: typicalBase(rng),
          bursts: (day) => (day > lastDay ? [] : [daily(day < moveDay ? CRON_DAILY : after)]),
        },
        expected: stoppedWindow('UTC', after),
      };
    },
  },
];
