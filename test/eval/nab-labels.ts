/**
 * What each NAB series should be judged as, read by eye from the data (see test/fixtures/nab/README.md
 * and the handout's table). NetworkOut: the percent series scaled to bytes. Memory: the same series read
 * as a memory metric; none of them is a steady leak.
 */
export interface NabLabel {
  readonly verdict: string;
  readonly windowStart?: number;
  readonly why: string;
}

export const NAB_NETWORK_LABELS: Record<string, NabLabel> = {
  ec2_cpu_utilization_24ae8d: {
    verdict: 'recurring-window',
    windowStart: 3 * 60 + 5,
    why: 'one 5-min spike every day, 03:05–03:40',
  },
  ec2_cpu_utilization_53ea38: {
    verdict: 'recurring-window',
    windowStart: 3 * 60 + 10,
    why: 'hourly blips plus a larger spike at 03:10–03:45 on most days',
  },
  'iio_us-east-1_i-a2eb1cd9_NetworkIn': { verdict: 'insufficient-data', why: 'about 4 days of data' },
};
export const NAB_NETWORK_DEFAULT: NabLabel = {
  verdict: 'none',
  why: 'no daily recurrence (flat, noise, cycles, steps, irregular bursts)',
};

export const NAB_MEMORY_LABELS: Record<string, NabLabel> = {};
export const NAB_MEMORY_DEFAULT: NabLabel = {
  verdict: 'none',
  why: 'no steady rise: flat, cycles, steps, declines, drops',
};
