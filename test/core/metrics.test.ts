import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { InvalidOptionError } from '#core/errors.ts';
import {
  classifyMetric,
  type InstanceMetrics,
  MAX_DATAPOINTS_PER_CALL,
  MAX_QUERIES_PER_CALL,
  type MetricIdentity,
  metricKey,
  metricsPerCall,
  metricWindow,
  minimumCalls,
  planBatches,
  selectMetrics,
  shardByMetrics,
} from '#core/metrics.ts';

const NOW = Date.UTC(2026, 10, 4, 0, 7, 31);
const id = (n: number) => `i-0${n.toString(16).padStart(16, '0')}`;
const network = (instanceId: string): MetricIdentity => ({
  namespace: 'AWS/EC2',
  metricName: 'NetworkOut',
  dimensions: [{ name: 'InstanceId', value: instanceId }],
});
const memory = (instanceId: string, extra: { name: string; value: string }[] = []): MetricIdentity => ({
  namespace: 'CWAgent',
  metricName: 'mem_used_percent',
  dimensions: [{ name: 'InstanceId', value: instanceId }, ...extra],
});
const procstat = (instanceId: string, selector: { name: string; value: string }): MetricIdentity => ({
  namespace: 'CWAgent',
  metricName: 'procstat_memory_rss',
  dimensions: [{ name: 'InstanceId', value: instanceId }, selector, { name: 'pid_finder', value: 'native' }],
});

describe('metricWindow', () => {
  it.each([
    [1, 300, 288],
    [14, 300, 4032],
    [63, 300, 18_144],
    [64, 3600, 1536],
    [455, 3600, 10_920],
  ])('%i days → %i-s period, %i datapoints per metric', (days, period, datapoints) => {
    const window = metricWindow(NOW, days);
    expect(window.periodSeconds).toBe(period);
    expect(window.datapointsPerMetric).toBe(datapoints);
    expect(window.endMs % (period * 1000)).toBe(0);
    expect(window.endMs).toBeLessThanOrEqual(NOW);
    expect(NOW - window.endMs).toBeLessThan(period * 1000);
  });

  it.each([0, -1, 1.5, 456, Number.NaN])('refuses a lookback of %s days', (days) => {
    expect(() => metricWindow(NOW, days)).toThrow(InvalidOptionError);
  });
});

describe('metricsPerCall and minimumCalls', () => {
  it('fits 25 metrics of 14 days at 5 minutes in one call (25 × 4032 = 100,800)', () => {
    expect(metricsPerCall(metricWindow(NOW, 14))).toBe(25);
  });

  it('is bounded by the 500 queries when metrics are short', () => {
    // One day of hourly data would be 24 points; the lookback floor is one day at 5 minutes: 288 points.
    expect(metricsPerCall(metricWindow(NOW, 1))).toBe(350);
    expect(minimumCalls(1_000, metricWindow(NOW, 1))).toBe(3);
  });

  it('takes the larger of the query and datapoint bounds', () => {
    const window = metricWindow(NOW, 14);
    expect(minimumCalls(0, window)).toBe(0);
    expect(minimumCalls(25, window)).toBe(1);
    expect(minimumCalls(26, window)).toBe(2);
    expect(minimumCalls(20_000, window)).toBe(800);
  });

  it('counts whole metrics: 19 metrics of 421 days (10,104 points each) need 3 calls, not the 2 their points suggest', () => {
    // fast-check found this: 19 × 10,104 = 191,976 points fit in 2 × 100,800, but only 9 metrics fit in one.
    const window = metricWindow(NOW, 421);
    expect(metricsPerCall(window)).toBe(9);
    expect(minimumCalls(18, window)).toBe(2);
    expect(minimumCalls(19, window)).toBe(3);
  });
});

describe('planBatches', () => {
  it('packs 26 instances × 3 metrics into the minimum number of calls, each within both limits', () => {
    const window = metricWindow(NOW, 14);
    const instances: [string, InstanceMetrics][] = Array.from({ length: 26 }, (_, n) => [
      id(n),
      {
        'network-out': network(id(n)),
        'mem-used-percent': memory(id(n)),
        's3fs-rss': procstat(id(n), { name: 'exe', value: 's3fs' }),
      },
    ]);
    const batches = planBatches(instances, window);
    expect(batches).toHaveLength(minimumCalls(78, window));
    expect(batches.map((b) => b.queries.length)).toEqual([25, 25, 25, 3]);
    for (const batch of batches) {
      expect(batch.datapoints).toBeLessThanOrEqual(MAX_DATAPOINTS_PER_CALL);
      expect(new Set(batch.queries.map((q) => q.id)).size).toBe(batch.queries.length);
      for (const query of batch.queries) expect(query.id).toMatch(/^[a-z][a-zA-Z0-9_]*$/);
    }
    // Statistics follow the metric: bytes sent are summed, levels averaged.
    expect(batches[0]?.queries.slice(0, 3).map((q) => [q.kind, q.stat])).toEqual([
      ['network-out', 'Sum'],
      ['mem-used-percent', 'Average'],
      ['s3fs-rss', 'Average'],
    ]);
  });

  it('never requests a metric twice, even when two instances name the same one', () => {
    const window = metricWindow(NOW, 14);
    const shared = network(id(1));
    const batches = planBatches(
      [
        [id(1), { 'network-out': shared }],
        [id(1), { 'network-out': { ...shared, dimensions: [...shared.dimensions] } }],
      ],
      window,
    );
    expect(batches.flatMap((b) => b.queries)).toHaveLength(1);
  });

  it('meets the minimum and both limits for any fleet and lookback (property)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.record({ memory: fc.boolean(), rss: fc.boolean() }), { maxLength: 400 }),
        fc.integer({ min: 1, max: 455 }),
        (fleet, days) => {
          const window = metricWindow(NOW, days);
          const instances: [string, InstanceMetrics][] = fleet.map((shape, n) => [
            id(n),
            {
              'network-out': network(id(n)),
              ...(shape.memory ? { 'mem-used-percent': memory(id(n)) } : {}),
              ...(shape.rss ? { 's3fs-rss': procstat(id(n), { name: 'pattern', value: 's3fs' }) } : {}),
            },
          ]);
          const total = instances.reduce((sum, [, m]) => sum + Object.keys(m).length, 0);
          const batches = planBatches(instances, window);
          expect(batches).toHaveLength(minimumCalls(total, window));
          expect(batches.reduce((sum, b) => sum + b.queries.length, 0)).toBe(total);
          for (const batch of batches) {
            expect(batch.queries.length).toBeLessThanOrEqual(MAX_QUERIES_PER_CALL);
            expect(batch.datapoints).toBeLessThanOrEqual(MAX_DATAPOINTS_PER_CALL);
          }
        },
      ),
      { numRuns: 60 },
    );
  });
});

describe('classifyMetric and selectMetrics', () => {
  const me = id(7);

  it.each([
    ['per-instance NetworkOut', network(me), 'network-out'],
    [
      'mem_used_percent with appended dimensions',
      memory(me, [{ name: 'ImageId', value: 'ami-1' }]),
      'mem-used-percent',
    ],
    ['procstat of s3fs by exe', procstat(me, { name: 'exe', value: 's3fs' }), 's3fs-rss'],
    [
      'procstat of s3fs by command line',
      procstat(me, { name: 'pattern', value: '/usr/bin/s3fs mybucket /mnt/s3' }),
      's3fs-rss',
    ],
  ])('%s is ours', (_, metric, kind) => {
    expect(classifyMetric(metric)).toEqual({ kind, instanceId: me });
  });

  it.each([
    [
      'NetworkOut of an Auto Scaling group',
      {
        namespace: 'AWS/EC2',
        metricName: 'NetworkOut',
        dimensions: [{ name: 'AutoScalingGroupName', value: 'web' }],
      },
    ],
    [
      'NetworkOut with InstanceId and more',
      {
        ...network(me),
        dimensions: [...network(me).dimensions, { name: 'InstanceType', value: 'm5.large' }],
      },
    ],
    ['procstat of nginx', procstat(me, { name: 'exe', value: 'nginx' })],
    ['procstat of a name that only contains s3fs', procstat(me, { name: 'exe', value: 'nots3fsd' })],
    [
      'mem_used_percent by host only',
      {
        namespace: 'CWAgent',
        metricName: 'mem_used_percent',
        dimensions: [{ name: 'host', value: 'ip-10-0-0-1' }],
      },
    ],
    [
      'two InstanceId dimensions',
      {
        ...memory(me),
        dimensions: [
          { name: 'InstanceId', value: me },
          { name: 'InstanceId', value: id(8) },
        ],
      },
    ],
    [
      'CPUUtilization',
      { namespace: 'AWS/EC2', metricName: 'CPUUtilization', dimensions: [{ name: 'InstanceId', value: me }] },
    ],
  ])('%s is not', (_, metric) => {
    expect(classifyMetric(metric as MetricIdentity)).toBeNull();
  });

  it('keeps, per instance and kind, the dimension set with the fewest dimensions, and counts the ambiguity', () => {
    const appended = memory(me, [
      { name: 'ImageId', value: 'ami-1' },
      { name: 'InstanceType', value: 'm5.large' },
    ]);
    const selection = selectMetrics(
      [appended, memory(me), network(me), network(id(9)), procstat(me, { name: 'exe', value: 'nginx' })],
      new Set([me]),
    );
    expect(selection.byInstance.get(me)).toEqual({
      'mem-used-percent': memory(me),
      'network-out': network(me),
    });
    expect(selection.byInstance.has(id(9))).toBe(false);
    expect(selection.ambiguous).toBe(1);
  });

  it('keys a metric the same whatever the order of its dimensions', () => {
    const a = memory(me, [{ name: 'ImageId', value: 'ami-1' }]);
    const b = { ...a, dimensions: [...a.dimensions].reverse() };
    expect(metricKey(a)).toBe(metricKey(b));
    expect(metricKey(a)).not.toBe(metricKey(memory(me)));
  });
});

describe('shardByMetrics', () => {
  it('keeps instances whole and in order, within the capacity', () => {
    const items = [3, 3, 1, 2, 3, 1, 1].map((metricCount, n) => ({ n, metricCount }));
    const shards = shardByMetrics(items, 5);
    expect(shards.map((s) => s.map((i) => i.n))).toEqual([[0], [1, 2], [3, 4], [5, 6]]);
    for (const shard of shards)
      expect(shard.reduce((sum, i) => sum + i.metricCount, 0)).toBeLessThanOrEqual(5);
  });

  it('refuses a capacity that is not a positive whole number', () => {
    expect(() => shardByMetrics([], 0)).toThrow(InvalidOptionError);
    expect(() => shardByMetrics([], 2.5)).toThrow(InvalidOptionError);
  });
});
