import { describe, expect, it } from 'vitest';
import { type MetricWindow, metricWindow } from '#core/metrics.ts';
import type { FindingDetail } from '#shared/events/finding.ts';
import type { BatchResult, FindingPublisher, MetricData } from '#shared/ports.ts';
import { DeadlineError } from '#shared/scan/errors.ts';
import { type ScanTarget, scanInstances } from '#shared/scan/scan.ts';
import { seriesOf } from '#shared/sim/fleet-model.ts';
import { VirtualClock } from '#shared/sim/virtual-clock.ts';

const NOW = Date.UTC(2026, 10, 4, 0, 0, 30);
const window = metricWindow(NOW, 14);
const id = (n: number) => `i-0${n.toString(16).padStart(16, '0')}`;
const network = (instanceId: string) => ({
  namespace: 'AWS/EC2',
  metricName: 'NetworkOut',
  dimensions: [{ name: 'InstanceId', value: instanceId }],
});
const memory = (instanceId: string) => ({
  namespace: 'CWAgent',
  metricName: 'mem_used_percent',
  dimensions: [{ name: 'InstanceId', value: instanceId }],
});
const families: Record<string, { network: string; memory: string }> = {};
const targets = (n: number, crawled: (i: number) => boolean): ScanTarget[] =>
  Array.from({ length: n }, (_, i) => {
    families[id(i)] = crawled(i)
      ? { network: 'cron-0625', memory: 'linear-leak-percent' }
      : { network: 'flat-noise', memory: 'flat-noise' };
    return {
      instanceId: id(i),
      ownerId: '123456789012',
      metrics: { 'network-out': network(id(i)), 'mem-used-percent': memory(id(i)) },
    };
  });

/** Metrics from the scenario generators; records batches and series alive at once. */
function fakeMetrics(options: { failEvery?: number } = {}) {
  const calls: number[] = [];
  const source: MetricData & { calls: number[] } = {
    calls,
    async fetch(batch, w: MetricWindow): Promise<BatchResult> {
      calls.push(batch.queries.length);
      const series = new Map();
      const failed = new Map();
      for (const [k, query] of batch.queries.entries()) {
        if (options.failEvery !== undefined && k % options.failEvery === 0) {
          failed.set(query.id, 'InternalError');
          continue;
        }
        const f = families[query.instanceId];
        const generator = query.kind === 'network-out' ? 'network' : 'memory';
        const family = query.kind === 'network-out' ? f?.network : f?.memory;
        const s = seriesOf(
          { ...query.metric, source: { generator, family: family ?? 'flat-noise', seed: 11 } },
          w.endMs,
        );
        series.set(query.id, {
          timestamps: Float64Array.from(s.timestamps),
          values: Float64Array.from(s.values),
        });
      }
      return { series, failed };
    },
  };
  return source;
}

function recorder(): FindingPublisher & { sent: FindingDetail[][] } {
  const sent: FindingDetail[][] = [];
  return { sent, publish: async (findings) => void sent.push([...findings]) };
}

const trigger = { type: 'schedule' as const, runId: 'run-1', scheduledAt: '2026-11-04T00:00:00.000Z' };
function deps(
  overrides: { metrics?: ReturnType<typeof fakeMetrics>; deadline?: { remainingMs(): number } } = {},
) {
  return {
    metrics: overrides.metrics ?? fakeMetrics(),
    publisher: recorder(),
    clock: new VirtualClock(NOW),
    deadline: overrides.deadline ?? { remainingMs: () => 300_000 },
    concurrency: 3,
    reserveMs: 30_000,
  };
}

describe('scanInstances', () => {
  it('fetches in packed calls, judges every instance, publishes the findings once', async () => {
    const d = deps();
    const outcome = await scanInstances(
      { targets: targets(30, (i) => i % 10 === 0), window, trigger, region: 'us-east-1' },
      d,
      new AbortController().signal,
    );
    expect(d.metrics.calls).toEqual([25, 25, 10]);
    expect(outcome.getMetricDataBatches).toBe(outcome.minimumBatches);
    expect(outcome.verdicts).toEqual({
      'updatedb-crawl': 3,
      'daily-network-burst': 0,
      'memory-growth': 0,
      healthy: 27,
      'insufficient-data': 0,
    });
    expect(d.publisher.sent).toHaveLength(1);
    expect(d.publisher.sent[0]?.map((f) => f.instanceId)).toEqual([id(0), id(10), id(20)]);
    expect(d.publisher.sent[0]?.[0]).toMatchObject({
      kind: 'updatedb-crawl',
      accountId: '123456789012',
      region: 'us-east-1',
      trigger,
    });
  });

  it('publishes nothing when no instance has a finding', async () => {
    const d = deps();
    await scanInstances(
      { targets: targets(3, () => false), window, trigger, region: null },
      d,
      new AbortController().signal,
    );
    expect(d.publisher.sent).toEqual([]);
  });

  it('judges an instance without metrics at once, as insufficient data', async () => {
    const d = deps();
    const outcome = await scanInstances(
      { targets: [{ instanceId: id(1), ownerId: null, metrics: {} }], window, trigger, region: null },
      d,
      new AbortController().signal,
    );
    expect(d.metrics.calls).toEqual([]);
    expect(outcome.instanceVerdicts).toEqual([
      { instanceId: id(1), verdict: 'insufficient-data', reason: 'no NetworkOut series', findingId: null },
    ]);
  });

  it('counts metrics CloudWatch failed and judges their instance without them', async () => {
    const d = deps({ metrics: fakeMetrics({ failEvery: 2 }) });
    const outcome = await scanInstances(
      { targets: targets(2, () => true), window, trigger, region: null },
      d,
      new AbortController().signal,
    );
    // Queries 0 and 2 (both NetworkOut) failed: the leaks are still seen.
    expect(outcome.failedMetrics).toBe(2);
    expect(outcome.verdicts['memory-growth']).toBe(2);
  });

  it('stops before the deadline and publishes nothing of the unfinished scan', async () => {
    let left = 100_000;
    const d = deps({ deadline: { remainingMs: () => (left -= 30_000) } });
    const run = scanInstances(
      { targets: targets(60, () => true), window, trigger, region: null },
      d,
      new AbortController().signal,
    );
    await expect(run).rejects.toBeInstanceOf(DeadlineError);
    await expect(run).rejects.toThrow(
      /before the Lambda deadline, after \d+ of 5 GetMetricData batches; nothing was published/,
    );
    expect(d.publisher.sent).toEqual([]);
    expect(d.metrics.calls.length).toBeLessThan(5);
  });
});
