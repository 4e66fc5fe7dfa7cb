/** Helpers for the host-model tests: a spec with defaults, and the detectors' verdict on a host. */
import { type Assessment, assessInstance, type InstanceSeries } from '#core/assessment.ts';
import { MS_PER_DAY } from '#core/time-zone.ts';
import { SIMULATED_START } from '#shared/sim/fleet.ts';
import { DEFAULT_S3FS_MEMORY, type HostSpec, type SimHost } from '#shared/sim/host.ts';
import { s3fsMount } from '#shared/sim/host-rosters.ts';

export const START = SIMULATED_START;
export const DAY = MS_PER_DAY;
export const HOUR = 3_600_000;
const GIB = 1_073_741_824;

/** A cron-crawled Ubuntu 20.04 host with one s3fs mount of 60,000 objects, launched 30 days before START. */
export function hostSpec(overrides: Partial<HostSpec> = {}): HostSpec {
  return {
    instanceId: 'i-0aaaabbbbccccdddd',
    name: 'test-host',
    behaviour: 'updatedb-crawl',
    seed: 1234,
    optIn: 'true',
    distro: 'ubuntu-20.04',
    mounts: [s3fsMount('/srv/media', 60_000)],
    traffic: { baseBytesPerMinute: 150_000, diurnal: 0.2, noiseCv: 0.1 },
    memory: {
      totalBytes: 8 * GIB,
      basePercent: 20,
      noisePercent: 0.3,
      leakPercentPerDay: 0,
      s3fs: DEFAULT_S3FS_MEMORY,
    },
    agent: { memory: 'instance', procstat: 'exe' },
    launchedAtMs: START - 30 * DAY,
    ...overrides,
  };
}

/** The series of every kind the host publishes over the 14 days before `nowMs` (the scan's window). */
export function seriesAt(host: SimHost, nowMs: number, days = 14): InstanceSeries {
  return host.lookback(nowMs, nowMs, days);
}

/** What the real detectors make of the host's last 14 days at `nowMs`. */
export function assessAt(host: SimHost, nowMs: number): Assessment {
  return assessInstance(host.instanceId, seriesAt(host, nowMs));
}

/** Sum of a series' values between two instants. */
export function sumBetween(
  series: { timestamps: ArrayLike<number>; values: ArrayLike<number> },
  from: number,
  to: number,
): number {
  let sum = 0;
  for (let i = 0; i < series.timestamps.length; i += 1) {
    const t = series.timestamps[i] as number;
    if (t >= from && t < to) sum += series.values[i] as number;
  }
  return sum;
}
