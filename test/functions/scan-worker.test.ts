import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { afterEach, describe, expect, it } from 'vitest';
import { FindingDetailSchema } from '#shared/events/finding.ts';
import { InvalidEventError } from '#shared/events/parse.ts';
import {
  createSimulatedFleet,
  type SimulatedFleet,
  type SimulatedFleetOptions,
  WELL_KNOWN,
} from '#shared/sim/fleet.ts';
import { type Json, readEvent, simulatedFunction } from '#test/support/handlers.ts';

let fleet: SimulatedFleet | undefined;
afterEach(() => {
  fleet?.restore();
  fleet = undefined;
});

function setUp(options: SimulatedFleetOptions = {}) {
  fleet = createSimulatedFleet({ instances: 40, seed: 1, ...options });
  return { fleet, handler: simulatedFunction<SQSBatchResponse>('scan-worker', fleet) };
}
const sample = () => readEvent('events/scan-worker/shard.json') as SQSEvent;
const body = (event: SQSEvent, i = 0) => JSON.parse(event.Records[i]?.body ?? '') as Record<string, Json>;
const withBody = (event: SQSEvent, i: number, message: unknown, messageId?: string): SQSEvent => {
  const records = [...event.Records];
  const record = records[i];
  if (record !== undefined)
    records[i] = {
      ...record,
      body: typeof message === 'string' ? message : JSON.stringify(message),
      ...(messageId === undefined ? {} : { messageId }),
    };
  return { Records: records };
};
const instancesAsked = (f: SimulatedFleet) =>
  f.requests
    .filter((r) => r.command === 'GetMetricData')
    .flatMap(
      (r) =>
        (r.input as { MetricDataQueries: { MetricStat: { Metric: { Dimensions: { Value: string }[] } } }[] })
          .MetricDataQueries,
    )
    .map((q) => q.MetricStat.Metric.Dimensions[0]?.Value);

describe('scan-worker', () => {
  it('scans the sample shard: findings for the crawled and leaking instances; the untagged, stopped and unmanaged ones are not read', async () => {
    const { fleet: f, handler } = setUp();
    const response = await handler(sample());
    expect(response).toEqual({ batchItemFailures: [] });
    const published = f.published.map((p) => FindingDetailSchema.parse(p.detail));
    expect(Object.fromEntries(published.map((p) => [p.instanceId, p.kind]))).toEqual({
      [WELL_KNOWN.crawled]: 'updatedb-crawl',
      [WELL_KNOWN.crawledSystemd]: 'updatedb-crawl',
      [WELL_KNOWN.leaking]: 'memory-growth',
    });
    expect(published[0]?.trigger).toEqual({
      type: 'schedule',
      runId: 'sample-run-20261104',
      scheduledAt: '2026-11-04T00:00:00.000Z',
    });
    const asked = new Set(instancesAsked(f));
    for (const skipped of [WELL_KNOWN.untagged, WELL_KNOWN.stopped, WELL_KNOWN.unmanaged])
      expect(asked.has(skipped)).toBe(false);
    // The worker re-checks tags and state itself, and never lists metrics (the fleet scan did, once).
    expect(f.count('DescribeInstances')).toBe(1);
    expect(f.count('ListMetrics')).toBe(0);
  });

  it('reports a bad record as a batch item failure and scans the good one', async () => {
    const { fleet: f, handler } = setUp();
    const two = {
      Records: [
        ...sample().Records,
        { ...(sample().Records[0] as SQSEvent['Records'][number]), messageId: 'bad-one' },
      ],
    };
    const hostile = body(two, 1);
    hostile.instances[0].metrics['network-out'][0].value = WELL_KNOWN.healthy;
    const response = await handler(withBody(two, 1, hostile));
    expect(response).toEqual({ batchItemFailures: [{ itemIdentifier: 'bad-one' }] });
    expect(f.published.length).toBe(3);
  });

  it('refuses a batch with no usable record, naming the problem, and calls nothing', async () => {
    const { fleet: f, handler } = setUp();
    const bad = body(sample());
    bad.window.start = '2026-09-04T00:00:00.000Z';
    await expect(handler(withBody(sample(), 0, bad))).rejects.toThrow(
      new InvalidEventError('record 0: shard message window spans 61.00 days, not the configured 14'),
    );
    await expect(handler(withBody(sample(), 0, '{"kind":'))).rejects.toThrow(
      'got a record 0 body that is not JSON',
    );
    expect(f.requests).toEqual([]);
  });

  it('fails the records it has no time for, after finishing the ones it started', async () => {
    // Publishing the first shard's findings takes 280 of the worker's 300 seconds.
    const { fleet: f, handler } = setUp({ latencyMs: { PutEvents: 280_000 } });
    const two = {
      Records: [
        ...sample().Records,
        { ...(sample().Records[0] as SQSEvent['Records'][number]), messageId: 'late' },
      ],
    };
    const response = await handler(two);
    expect(response).toEqual({ batchItemFailures: [{ itemIdentifier: 'late' }] });
    // The late shard published nothing: every finding is from the first one.
    expect(new Set(f.published.map((p) => (p.detail as { findingId: string }).findingId)).size).toBe(
      f.published.length,
    );
  });
});
