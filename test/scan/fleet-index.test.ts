import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  type MetricIdentity,
  metricsPerCall,
  metricWindow,
  selectMetrics,
  shardByMetrics,
} from '#core/metrics.ts';
import { FleetIndex, PackedIds } from '#shared/scan/fleet-index.ts';
import { buildShards, planShards } from '#shared/scan/shards.ts';

const id = (n: number) => `i-0${n.toString(16).padStart(16, '0')}`;
const run = { runId: 'run-1', scheduledAt: '2026-11-04T00:00:00Z', via: 'eventbridge-scheduler' as const };
const window = metricWindow(Date.UTC(2026, 10, 4, 0, 0, 30), 14);

// Metrics as ListMetrics lists them: each instance's own series, agent sets with extra dimensions
// (several per instance: the index must keep the simplest), procstat selectors, and foreign series.
const listedMetric = fc.oneof(
  fc.record({ n: fc.nat(30) }).map(
    ({ n }): MetricIdentity => ({
      namespace: 'AWS/EC2',
      metricName: 'NetworkOut',
      dimensions: [{ name: 'InstanceId', value: id(n) }],
    }),
  ),
  fc.record({ n: fc.nat(30), extra: fc.subarray(['ImageId', 'InstanceType', 'AutoScalingGroupName']) }).map(
    ({ n, extra }): MetricIdentity => ({
      namespace: 'CWAgent',
      metricName: 'mem_used_percent',
      dimensions: [
        ...extra.map((name) => ({ name, value: `${name}-${n % 3}` })),
        { name: 'InstanceId', value: id(n) },
      ],
    }),
  ),
  fc.record({ n: fc.nat(30), selector: fc.constantFrom('exe', 'pattern', 'process_name') }).map(
    ({ n, selector }): MetricIdentity => ({
      namespace: 'CWAgent',
      metricName: 'procstat_memory_rss',
      dimensions: [
        { name: 'InstanceId', value: id(n) },
        { name: selector, value: 's3fs' },
        { name: 'pid_finder', value: 'native' },
      ],
    }),
  ),
  fc.record({ n: fc.nat(30) }).map(
    ({ n }): MetricIdentity => ({
      namespace: 'AWS/EC2',
      metricName: 'NetworkOut',
      dimensions: [
        { name: 'InstanceId', value: id(n) },
        { name: 'InstanceType', value: 'm5.large' },
      ],
    }),
  ),
);

describe('FleetIndex', () => {
  it('chooses for every eligible instance what selectMetrics chooses from the whole listing', () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(fc.nat(30), { maxLength: 20 }),
        fc.array(listedMetric, { maxLength: 120 }),
        (eligible, listed) => {
          const index = new FleetIndex();
          for (const n of eligible) index.addInstance(id(n), '123456789012');
          for (const metric of listed) index.addMetric(metric);
          const expected = selectMetrics(listed, new Set(eligible.map(id)));
          expect([...index.targets()]).toEqual(
            eligible.map((n) => ({
              instanceId: id(n),
              ownerId: '123456789012',
              metrics: expected.byInstance.get(id(n)) ?? {},
            })),
          );
          expect(index.ambiguous).toBe(expected.ambiguous);
        },
      ),
    );
  });

  it('keeps instances once, in the order added, and ignores metrics of instances it does not hold', () => {
    const index = new FleetIndex();
    expect(index.addInstance(id(2), null)).toBe(true);
    expect(index.addInstance(id(1), '111111111111')).toBe(true);
    expect(index.addInstance(id(2), '222222222222')).toBe(false);
    index.addMetric({
      namespace: 'AWS/EC2',
      metricName: 'NetworkOut',
      dimensions: [{ name: 'InstanceId', value: id(3) }],
    });
    expect([...index.targets()]).toEqual([
      { instanceId: id(2), ownerId: null, metrics: {} },
      { instanceId: id(1), ownerId: '111111111111', metrics: {} },
    ]);
    expect(index.metrics).toBe(0);
  });

  it('grows its arrays by a fixed few bytes an instance, whatever the number of metrics listed', () => {
    const index = new FleetIndex();
    for (let n = 0; n < 50_000; n += 1) {
      index.addInstance(id(n), '123456789012');
      for (const extra of ['ImageId', 'InstanceType'])
        index.addMetric({
          namespace: 'CWAgent',
          metricName: 'mem_used_percent',
          dimensions: [
            { name: 'InstanceId', value: id(n) },
            { name: extra, value: 'shared' },
          ],
        });
    }
    // The packed id (12 bytes), owner, three dimension-set references and three candidate counts (19
    // bytes): 31 bytes, doubled at most; hash slots of 4 bytes, at most four per instance.
    expect(index.arrayBytes / index.size).toBeLessThanOrEqual(2 * 31 + 4 * 4 + 1);
    expect(index.ambiguous).toBe(50_000);
  });
});

describe('PackedIds', () => {
  it('gives each id its row in the order added and the same id back, EC2 ids packed, any other kept', () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(
          fc.oneof(
            fc.stringMatching(/^i-[0-9a-f]{17}$/),
            fc.stringMatching(/^i-[0-9a-f]{8}$/),
            fc.constantFrom('i-00000000', 'i-00000000000000000', 'i-fffffffffffffffff', 'i-0000000000000000'),
            fc.string({ maxLength: 20 }),
          ),
          { maxLength: 3000 },
        ),
        (ids) => {
          const packed = new PackedIds();
          ids.forEach((instanceId, row) => {
            expect(packed.row(instanceId)).toBeUndefined();
            expect(packed.add(instanceId)).toBe(row);
          });
          expect(packed.size).toBe(ids.length);
          ids.forEach((instanceId, row) => {
            expect(packed.row(instanceId)).toBe(row);
            expect(packed.id(row)).toBe(instanceId);
          });
        },
      ),
      { numRuns: 50 },
    );
  });

  it('tells apart ids that differ only in length or in their high digits', () => {
    const packed = new PackedIds();
    for (const instanceId of ['i-12345678', 'i-00000000012345678', 'i-10000000012345678', 'i-012345678'])
      packed.add(instanceId);
    expect(
      ['i-12345678', 'i-00000000012345678', 'i-10000000012345678', 'i-012345678'].map((i) => packed.row(i)),
    ).toEqual([0, 1, 2, 3]);
    expect(packed.row('i-20000000012345678')).toBeUndefined();
    expect(packed.id(3)).toBe('i-012345678');
  });
});

describe('planShards', () => {
  it('cuts the index into the groups shardByMetrics makes of the whole target list, built one at a time', () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(fc.nat(30), { minLength: 1, maxLength: 25 }),
        fc.array(listedMetric, { maxLength: 120 }),
        fc.integer({ min: 1, max: 80 }),
        (eligible, listed, shardMetrics) => {
          const index = new FleetIndex();
          for (const n of eligible) index.addInstance(id(n), '123456789012');
          for (const metric of listed) index.addMetric(metric);
          const targets = [...index.targets()];
          const perCall = metricsPerCall(window);
          const groups = shardByMetrics(
            targets.map((target) => ({
              target,
              metricCount: Math.max(1, Object.keys(target.metrics).length),
            })),
            Math.max(perCall, Math.floor(shardMetrics / perCall) * perCall),
          );
          const plan = planShards(run, window, index, shardMetrics, 7);
          const messages = [...plan.messages()];
          expect(plan.count).toBe(groups.length);
          expect(messages.map((m) => m.instances.map((i) => i.instanceId))).toEqual(
            groups.map((group) => group.map((g) => g.target.instanceId)),
          );
          messages.forEach((m, i) => {
            expect(m).toMatchObject({
              runId: 'run-1',
              optedIn: 7,
              shard: { index: i, count: groups.length },
            });
          });
          expect(plan.metricsPerShard).toEqual(
            groups.map((group) => group.reduce((n, g) => n + Object.keys(g.target.metrics).length, 0)),
          );
          expect(buildShards(run, window, targets, shardMetrics, 7)).toEqual(messages);
        },
      ),
    );
  });
});
