import { describe, expect, it } from 'vitest';
import { assessInstance, type InstanceSeries } from '#core/assessment.ts';
import { InvalidSeriesError } from '#core/errors.ts';
import { MEMORY_FAMILIES, memoryScenario } from '#shared/sim/memory-scenarios.ts';
import { NETWORK_FAMILIES, networkScenario } from '#shared/sim/network-scenarios.ts';
import { seededRandom } from '#shared/sim/random.ts';

const network = (family: string, seed = 3) => {
  const f = NETWORK_FAMILIES.find((candidate) => candidate.name === family);
  if (f === undefined) throw new Error(family);
  return networkScenario(f, seed, seededRandom(seed)).series;
};
const memory = (family: string, seed = 3) => {
  const f = MEMORY_FAMILIES.find((candidate) => candidate.name === family);
  if (f === undefined) throw new Error(family);
  return memoryScenario(f, seed, seededRandom(seed)).series;
};

describe('assessInstance', () => {
  it.each<[string, InstanceSeries, string]>([
    [
      'cron crawl + s3fs RSS staircase',
      {
        'network-out': network('cron-0625'),
        's3fs-rss': memory('s3fs-rss-staircase'),
        'mem-used-percent': memory('flat-noise'),
      },
      'updatedb-crawl',
    ],
    [
      'systemd crawl + mem_used_percent leak, no procstat',
      { 'network-out': network('systemd-12h-random'), 'mem-used-percent': memory('linear-leak-percent') },
      'updatedb-crawl',
    ],
    [
      'cron burst, memory flat',
      { 'network-out': network('cron-0625'), 'mem-used-percent': memory('flat-noise') },
      'daily-network-burst',
    ],
    ['cron burst, no agent at all', { 'network-out': network('cron-0625') }, 'daily-network-burst'],
    [
      'flat traffic, memory leaking',
      { 'network-out': network('flat-noise'), 'mem-used-percent': memory('linear-leak-percent') },
      'memory-growth',
    ],
    [
      'flat traffic, s3fs RSS capped by its cache',
      { 'network-out': network('flat-noise'), 's3fs-rss': memory('rss-cache-cap') },
      'healthy',
    ],
    [
      'office bursts, sawtooth memory',
      {
        'network-out': network('irregular-office-bursts'),
        'mem-used-percent': memory('daily-sawtooth-gradual'),
      },
      'healthy',
    ],
    [
      'three days of data',
      { 'network-out': network('three-days-only'), 'mem-used-percent': memory('flat-noise') },
      'insufficient-data',
    ],
    ['no series at all', {}, 'insufficient-data'],
  ])('%s → %s', (_, series, verdict) => {
    const assessment = assessInstance('i-0c0ffee0000000001', series);
    expect(assessment.verdict).toBe(verdict);
    expect(assessment.reason.length).toBeGreaterThan(10);
    expect(assessment.missing).toEqual(
      (['network-out', 'mem-used-percent', 's3fs-rss'] as const).filter((kind) => series[kind] === undefined),
    );
  });

  it('says what it saw in the reason: the window and the growth rate', () => {
    const assessment = assessInstance('i-0c0ffee0000000001', {
      'network-out': network('cron-0625'),
      's3fs-rss': memory('s3fs-rss-staircase'),
    });
    expect(assessment.reason).toMatch(
      /a burst starts (at 06:25|between 06:2\d and 06:\d\d) \(UTC\) on 1[34] of 1[34] days/,
    );
    expect(assessment.reason).toMatch(/s3fs RSS grows [\d.]+ MB\/day over [\d.]+ days/);
  });

  it('passes bad series on as the detectors report them', () => {
    expect(() =>
      assessInstance('i-0c0ffee0000000001', { 'network-out': { timestamps: [1, 2], values: [1] } }),
    ).toThrow(InvalidSeriesError);
  });
});
