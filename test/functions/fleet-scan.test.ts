import { afterEach, describe, expect, it } from 'vitest';
import { metricKey } from '#core/metrics.ts';
import { type FindingDetail, FindingDetailSchema } from '#shared/events/finding.ts';
import { InvalidEventError } from '#shared/events/parse.ts';
import { ShardMessageSchema } from '#shared/events/shard.ts';
import { DeadlineError } from '#shared/scan/errors.ts';
import type { FleetScanResult } from '#shared/scan/fleet-scan.ts';
import {
  createSimulatedFleet,
  type SimulatedFleet,
  type SimulatedFleetOptions,
  WELL_KNOWN,
} from '#shared/sim/fleet.ts';
import { readEvent, simulatedFunction } from '#test/support/handlers.ts';

let fleet: SimulatedFleet | undefined;
afterEach(() => {
  fleet?.restore();
  fleet = undefined;
});

function setUp(
  options: SimulatedFleetOptions = {},
  env: Record<string, string> = {},
  timeoutSeconds?: number,
) {
  fleet = createSimulatedFleet(options);
  const handler = simulatedFunction<FleetScanResult>('fleet-scan', fleet, {
    env,
    ...(timeoutSeconds === undefined ? {} : { timeoutSeconds }),
  });
  return { fleet, handler };
}

type QueryInput = {
  MetricDataQueries: {
    MetricStat: {
      Metric: { Namespace: string; MetricName: string; Dimensions: { Name: string; Value: string }[] };
    };
  }[];
  NextToken?: string;
};
/** Every metric GetMetricData was asked for, first pages only (continuations repeat the request). */
function requestedMetrics(f: SimulatedFleet): string[] {
  return f.requests
    .filter(
      (r) =>
        r.command === 'GetMetricData' &&
        r.outcome === 'ok' &&
        (r.input as QueryInput).NextToken === undefined,
    )
    .flatMap((r) =>
      (r.input as QueryInput).MetricDataQueries.map((q) =>
        metricKey({
          namespace: q.MetricStat.Metric.Namespace,
          metricName: q.MetricStat.Metric.MetricName,
          dimensions: q.MetricStat.Metric.Dimensions.map((d) => ({ name: d.Name, value: d.Value })),
        }),
      ),
    );
}
const findings = (f: SimulatedFleet) => f.published.map((p) => FindingDetailSchema.parse(p.detail));
const byInstance = (list: readonly FindingDetail[]) =>
  Object.fromEntries(list.map((f) => [f.instanceId, f.kind]));

describe('fleet-scan, inline (a fleet that fits one shard)', () => {
  it('finds the crawled and leaking instances, publishes each finding with its evidence, and no other', async () => {
    const { fleet: f, handler } = setUp({ instances: 40, seed: 1 });
    const result = await handler(readEvent('events/fleet-scan/scheduled-event.json'));
    if (result.status !== 'scanned') throw new Error(`expected scanned, got ${result.status}`);
    const published = findings(f);
    expect(byInstance(published)).toMatchObject({
      [WELL_KNOWN.crawled]: 'updatedb-crawl',
      [WELL_KNOWN.crawledSystemd]: 'updatedb-crawl',
      [WELL_KNOWN.leaking]: 'memory-growth',
    });
    for (const never of [
      WELL_KNOWN.healthy,
      WELL_KNOWN.untagged,
      WELL_KNOWN.hostileTag,
      WELL_KNOWN.unmanaged,
      WELL_KNOWN.stopped,
    ]) {
      expect(published.map((p) => p.instanceId)).not.toContain(never);
    }
    expect(published.map((p) => p.findingId).sort()).toEqual(
      result.scan.findings.map((p) => p.findingId).sort(),
    );
    expect(new Set(f.published.map((p) => p.eventBusName))).toEqual(new Set(['crawlguard-findings']));
    const cron = published.find((p) => p.instanceId === WELL_KNOWN.crawled);
    expect(cron?.evidence.networkOut?.windows[0]).toMatchObject({ start: '06:25', daysWithSpike: 14 });
    expect(cron?.evidence.s3fsRss?.verdict).toBe('growth');
    expect(cron?.trigger).toEqual({
      type: 'schedule',
      runId: '53dc4d37-cffa-4f76-80c9-8b7d4a4d2eaa',
      scheduledAt: '2015-10-08T16:53:06.000Z',
      // Opted-in instances of the run, SSM-managed or not: the remediation breaker's denominator.
      optedIn:
        (result.eligible ?? 0) +
        (result.skipped.byReason['not-managed'] ?? 0) +
        (result.skipped.byReason.offline ?? 0),
    });
    // Unmanaged and offline instances are reported, and never read.
    expect(result.skipped.instances).toContainEqual({
      instanceId: WELL_KNOWN.unmanaged,
      reason: 'not-managed',
      detail: 'not registered with SSM',
    });
    expect(requestedMetrics(f).some((key) => key.includes(WELL_KNOWN.unmanaged))).toBe(false);
  });

  it('lists metrics once for the fleet, asks for each metric once, in the fewest calls', async () => {
    const { fleet: f, handler } = setUp({ instances: 40, seed: 1, failures: { partialData: 0 } });
    const result = await handler(readEvent('events/fleet-scan/scheduler-input.json'));
    if (result.status !== 'scanned') throw new Error(result.status);
    expect(f.count('ListMetrics')).toBe(3);
    for (const request of f.requests.filter((r) => r.command === 'ListMetrics')) {
      expect(request.input).toMatchObject({ Dimensions: [{ Name: 'InstanceId' }] });
    }
    const keys = requestedMetrics(f);
    expect(new Set(keys).size).toBe(keys.length);
    expect(f.count('GetMetricData')).toBe(result.scan.minimumBatches);
    expect(result.scan.getMetricDataBatches).toBe(result.scan.minimumBatches);
    // The exact dimension set: an instance whose agent appends ImageId is asked for with it.
    const appended = f.instances.find((i) => {
      const sets = i.metrics.filter((m) => m.metricName === 'mem_used_percent');
      return (
        sets.length === 1 &&
        (sets[0]?.dimensions.length ?? 0) === 3 &&
        result.scan.instances > 0 &&
        f.stateOf(i.instanceId) === 'running' &&
        i.ssm === 'Online' &&
        i.tags.some((t) => t.Key === 'crawlguard:enabled' && t.Value === 'true')
      );
    });
    if (appended !== undefined)
      expect(keys.some((k) => k.includes(appended.instanceId) && k.includes('ImageId'))).toBe(true);
  });

  it('reports a fleet with nobody opted in, and reads no metric', async () => {
    const { fleet: f, handler } = setUp({ instances: 10 }, { OPT_IN_TAG_VALUE: 'nobody' });
    const result = await handler(readEvent('events/fleet-scan/scheduled-event.json'));
    expect(result).toMatchObject({ status: 'nothing-to-scan', skipped: { total: 0 } });
    expect(f.count('GetMetricData') + f.count('ListMetrics') + f.count('PutEvents')).toBe(0);
  });

  it('stops before the deadline, part-way, and publishes nothing', async () => {
    const { fleet: f, handler } = setUp({ instances: 300, seed: 2 }, { SHARD_METRICS: '100000' }, 34);
    const run = handler(readEvent('events/fleet-scan/scheduled-event.json'));
    await expect(run).rejects.toBeInstanceOf(DeadlineError);
    const message = await run.catch((error: Error) => error.message);
    const [, done, total] =
      /after (\d+) of (\d+) GetMetricData batches; nothing was published/.exec(String(message)) ?? [];
    expect(Number(done)).toBeGreaterThan(0);
    expect(Number(done)).toBeLessThan(Number(total));
    expect(f.count('PutEvents')).toBe(0);
    expect(f.published).toEqual([]);
  });
});

describe('fleet-scan, sharded, then scan-worker', () => {
  it('queues shards that partition the fleet, and the workers publish what an inline scan would', async () => {
    const inline = setUp({ instances: 150, seed: 8 });
    await inline.handler(readEvent('events/fleet-scan/scheduler-input.json'));
    const expected = byInstance(findings(inline.fleet));
    inline.fleet.restore();

    const { fleet: f, handler } = setUp({ instances: 150, seed: 8 }, { SHARD_METRICS: '60' });
    const result = await handler(readEvent('events/fleet-scan/scheduler-input.json'));
    if (result.status !== 'queued') throw new Error(`expected queued, got ${result.status}`);
    expect(f.count('GetMetricData')).toBe(0);
    expect(f.queued).toHaveLength(result.shards);
    const shards = f.queued.map((m) => ShardMessageSchema.parse(JSON.parse(m.body)));
    const ids = shards.flatMap((s) => s.instances.map((i) => i.instanceId));
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids).toHaveLength(result.eligible);
    for (const shard of shards) {
      expect(shard.instances.reduce((n, i) => n + Object.keys(i.metrics).length, 0)).toBeLessThanOrEqual(50);
      expect(shard.shard.count).toBe(shards.length);
    }
    // Each shard is at most one partly filled call: 25 metrics a call, shards of 50.
    expect(result.plannedGetMetricDataCalls).toBeLessThanOrEqual(
      result.minimumGetMetricDataCalls + result.shards,
    );

    const worker = simulatedFunction<{ batchItemFailures: unknown[] }>('scan-worker', f);
    for (let i = 0; i < f.queued.length; i += 2) {
      const response = await worker(f.sqsEvent(f.queued.slice(i, i + 2)));
      expect(response.batchItemFailures).toEqual([]);
    }
    // Instances that stopped in between are skipped by the workers: the rest is the same.
    const sharded = byInstance(findings(f));
    for (const [instanceId, kind] of Object.entries(sharded)) expect(expected[instanceId]).toBe(kind);
    const stopped = Object.keys(expected).filter((id) => !(id in sharded));
    for (const id of stopped) expect(f.stateOf(id)).toBe('stopped');
  });

  it('streams discovery: each EC2 page is checked with SSM before the next is asked for; shards go ten at a time', async () => {
    const { fleet: f, handler } = setUp(
      { instances: 2500, seed: 3, stopDuringScan: 0 },
      { SHARD_METRICS: '50' },
    );
    const result = await handler(readEvent('events/fleet-scan/scheduler-input.json'));
    if (result.status !== 'queued') throw new Error(`expected queued, got ${result.status}`);
    const order = f.requests.map((r) => r.command);
    const describes = order.flatMap((command, i) => (command === 'DescribeInstances' ? [i] : []));
    expect(describes.length).toBeGreaterThanOrEqual(3);
    // Between two EC2 pages, the SSM status of the first page's instances was asked for.
    for (let page = 1; page < describes.length; page += 1) {
      const between = order.slice(describes[page - 1], describes[page]);
      expect(between).toContain('DescribeInstanceInformation');
    }
    // Metrics are listed once discovery is over, and no shard is sent before that.
    const lastDescribe = describes.at(-1) as number;
    expect(order.indexOf('ListMetrics')).toBeGreaterThan(lastDescribe);
    const sends = f.requests.filter((r) => r.command === 'SendMessageBatch');
    expect(sends.length).toBe(Math.ceil(result.shards / 10));
    for (const send of sends)
      expect((send.input as { Entries: unknown[] }).Entries.length).toBeLessThanOrEqual(10);
    const shards = f.queued.map((m) => ShardMessageSchema.parse(JSON.parse(m.body)));
    expect(shards.map((s) => s.shard.index)).toEqual(shards.map((_, i) => i));
    expect(shards.every((s) => s.shard.count === result.shards && s.optedIn !== undefined)).toBe(true);
    expect(shards.flatMap((s) => s.instances)).toHaveLength(result.eligible);
  });

  it('completes under throttling, retrying within the bound', async () => {
    const { fleet: f, handler } = setUp({ instances: 40, seed: 1, failures: { throttle: 0.3 } });
    const result = await handler(readEvent('events/fleet-scan/scheduled-event.json'));
    expect(result.status).toBe('scanned');
    expect(f.requests.filter((r) => r.outcome === 'ThrottlingException').length).toBeGreaterThan(0);
    expect(byInstance(findings(f))).toMatchObject({ [WELL_KNOWN.crawled]: 'updatedb-crawl' });
  });

  it('refuses an event meant for another function, before any call', async () => {
    const { fleet: f, handler } = setUp();
    await expect(handler(readEvent('events/alarm-triage/single-metric.json'))).rejects.toBeInstanceOf(
      InvalidEventError,
    );
    expect(f.requests).toEqual([]);
  });
});
