import type { MetricSeries } from '#core/series.ts';
import { seededRandom } from '#shared/sim/random.ts';

export const DAY = 86_400_000;
export const MINUTE = 60_000;
/** Monday 2026-10-19 00:00 UTC. */
export const MONDAY = Date.UTC(2026, 9, 19);

export interface TestBurst {
  /** Start, minutes after midnight UTC (may be ≥ 1440 to start the next day). */
  readonly startMinute: number;
  readonly minutes: number;
  readonly bytesPerMinute: number;
  /** Day indexes that have this burst; every day when absent. */
  readonly days?: readonly number[];
}

export interface TestHost {
  readonly days?: number;
  readonly periodMinutes?: number;
  readonly start?: number;
  readonly baseBytesPerMinute?: number;
  /** Relative noise (normal), seeded; 0 gives an exactly flat baseline. */
  readonly noise?: number;
  readonly bursts?: readonly TestBurst[];
  /** Day indexes with no datapoint at all. */
  readonly missingDays?: readonly number[];
  /** Every k-th datapoint dropped. */
  readonly dropEvery?: number;
  /** A smooth day/night cycle of this relative amplitude, peaking at 15:00 UTC. */
  readonly diurnal?: number;
  /** The baseline is multiplied by `factor` from `day` on. */
  readonly levelShift?: { readonly day: number; readonly factor: number };
  /** The baseline's multiplier by minute of the day and day index (replaces `diurnal`). */
  readonly profile?: (minuteOfDay: number, day: number) => number;
  /** Minutes of the day (UTC) during which the instance runs; always when absent. */
  readonly online?: readonly [number, number];
}

/** A NetworkOut series (bytes per period) built exactly as described: the test's ground truth. */
export function networkHost(host: TestHost): MetricSeries & { timestamps: number[]; values: number[] } {
  const days = host.days ?? 14;
  const period = host.periodMinutes ?? 5;
  const start = host.start ?? MONDAY;
  const base = host.baseBytesPerMinute ?? 100_000;
  const rng = seededRandom(42);
  const timestamps: number[] = [];
  const values: number[] = [];
  let index = 0;
  for (let t = start; t < start + days * DAY; t += period * MINUTE) {
    index += 1;
    const day = Math.floor((t - start) / DAY);
    if (host.missingDays?.includes(day)) continue;
    if (host.dropEvery !== undefined && index % host.dropEvery === 0) continue;
    const minuteOfDay = (t - start - day * DAY) / MINUTE;
    if (host.online !== undefined && (minuteOfDay < host.online[0] || minuteOfDay >= host.online[1]))
      continue;
    const cycle =
      host.profile !== undefined
        ? host.profile(minuteOfDay, day)
        : 1 + (host.diurnal ?? 0) * Math.cos(((minuteOfDay - 900) / 1440) * 2 * Math.PI);
    const shift = host.levelShift !== undefined && day >= host.levelShift.day ? host.levelShift.factor : 1;
    let rate = base * cycle * shift * (1 + (host.noise ?? 0) * rng.normal());
    for (const burst of host.bursts ?? []) {
      for (const burstDay of [day, day - 1]) {
        if (burst.days !== undefined && !burst.days.includes(burstDay)) continue;
        const offset = minuteOfDay + (day - burstDay) * 1440 - burst.startMinute;
        if (offset >= 0 && offset < burst.minutes) rate += burst.bytesPerMinute;
      }
    }
    timestamps.push(t);
    values.push(Math.max(0, rate) * period);
  }
  return { timestamps, values };
}

/** A memory series (5-min) from a level function of days since the start, with seeded normal noise. */
export function memoryHost(
  level: (day: number) => number,
  options: { days?: number; noise?: number; periodMinutes?: number } = {},
): MetricSeries & { timestamps: number[]; values: number[] } {
  const rng = seededRandom(7);
  const timestamps: number[] = [];
  const values: number[] = [];
  const period = (options.periodMinutes ?? 5) * MINUTE;
  for (let t = MONDAY; t < MONDAY + (options.days ?? 14) * DAY; t += period) {
    timestamps.push(t);
    values.push(level((t - MONDAY) / DAY) + (options.noise ?? 0.3) * rng.normal());
  }
  return { timestamps, values };
}
