import 'aws-sdk-client-mock-vitest/extend';
import {
  CloudWatchClient,
  CloudWatchServiceException,
  GetMetricDataCommand,
  ListMetricsCommand,
  ListTagsForResourceCommand,
  ResourceNotFoundException,
} from '@aws-sdk/client-cloudwatch';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { CloudWatchMetrics } from '#aws/cloudwatch.ts';
import { RetriesExhaustedError } from '#aws/retry.ts';
import { metricWindow, planBatches } from '#core/metrics.ts';
import { VirtualClock } from '#shared/sim/virtual-clock.ts';

const START = Date.UTC(2026, 10, 4);
const cw = mockClient(CloudWatchClient);
const error = (name: string, status = 400) =>
  new CloudWatchServiceException({
    name,
    $fault: 'client',
    $metadata: { httpStatusCode: status },
    message: name,
  });
const signal = () => new AbortController().signal;
const id = 'i-0c0ffee0000000001';
const window = metricWindow(START, 14);
const batch = () =>
  planBatches(
    [
      [
        id,
        {
          'network-out': {
            namespace: 'AWS/EC2',
            metricName: 'NetworkOut',
            dimensions: [{ name: 'InstanceId', value: id }],
          },
          'mem-used-percent': {
            namespace: 'CWAgent',
            metricName: 'mem_used_percent',
            dimensions: [
              { name: 'InstanceId', value: id },
              { name: 'ImageId', value: 'ami-1' },
            ],
          },
        },
      ],
    ],
    window,
  )[0] as ReturnType<typeof planBatches>[number];

let clock: VirtualClock;
let adapter: CloudWatchMetrics;
beforeEach(() => {
  cw.reset();
  clock = new VirtualClock(START, 7);
  adapter = new CloudWatchMetrics(new CloudWatchClient({}), {
    clock,
    getMetricDataLimits: { requestsPerSecond: 50, datapointsPerSecond: 201_600 },
  });
});

describe('CloudWatchMetrics.list', () => {
  it('lists per-instance series of one metric across every page', async () => {
    cw.on(ListMetricsCommand)
      .resolvesOnce({
        Metrics: [
          { Namespace: 'AWS/EC2', MetricName: 'NetworkOut', Dimensions: [{ Name: 'InstanceId', Value: id }] },
        ],
        NextToken: 'page2',
      })
      .resolvesOnce({
        Metrics: [
          {
            Namespace: 'AWS/EC2',
            MetricName: 'NetworkOut',
            Dimensions: [{ Name: 'InstanceId', Value: 'i-0c0ffee0000000002' }],
          },
        ],
      });
    const metrics = await adapter.list({ namespace: 'AWS/EC2', metricName: 'NetworkOut' }, signal());
    expect(metrics.map((m) => m.dimensions[0]?.value)).toEqual([id, 'i-0c0ffee0000000002']);
    expect(cw).toHaveReceivedCommandTimes(ListMetricsCommand, 2);
    expect(cw).toHaveReceivedNthCommandWith(ListMetricsCommand, 1, {
      Namespace: 'AWS/EC2',
      MetricName: 'NetworkOut',
      Dimensions: [{ Name: 'InstanceId' }],
      NextToken: undefined,
    });
    expect(cw).toHaveReceivedNthCommandWith(ListMetricsCommand, 2, { NextToken: 'page2' });
  });

  it('narrows to one instance for the alarm path', async () => {
    cw.on(ListMetricsCommand).resolves({ Metrics: [] });
    await adapter.list({ namespace: 'CWAgent', metricName: 'mem_used_percent', instanceId: id }, signal());
    expect(cw).toHaveReceivedCommandWith(ListMetricsCommand, {
      Dimensions: [{ Name: 'InstanceId', Value: id }],
    });
  });
});

describe('CloudWatchMetrics.fetch', () => {
  it('sends one GetMetricData with the exact queries, window and abort signal', async () => {
    cw.on(GetMetricDataCommand).resolves({
      MetricDataResults: [
        {
          Id: 'q0',
          Timestamps: [new Date(START - 600_000), new Date(START - 300_000)],
          Values: [5, 6],
          StatusCode: 'Complete',
        },
        { Id: 'q1', Timestamps: [], Values: [], StatusCode: 'Complete' },
      ],
    });
    const aborter = new AbortController();
    const result = await adapter.fetch(batch(), window, aborter.signal);
    expect(cw).toHaveReceivedCommandExactlyOnceWith(GetMetricDataCommand, {
      MetricDataQueries: [
        {
          Id: 'q0',
          MetricStat: {
            Metric: {
              Namespace: 'AWS/EC2',
              MetricName: 'NetworkOut',
              Dimensions: [{ Name: 'InstanceId', Value: id }],
            },
            Period: 300,
            Stat: 'Sum',
          },
          ReturnData: true,
        },
        {
          Id: 'q1',
          MetricStat: {
            Metric: {
              Namespace: 'CWAgent',
              MetricName: 'mem_used_percent',
              Dimensions: [
                { Name: 'InstanceId', Value: id },
                { Name: 'ImageId', Value: 'ami-1' },
              ],
            },
            Period: 300,
            Stat: 'Average',
          },
          ReturnData: true,
        },
      ],
      StartTime: new Date(window.startMs),
      EndTime: new Date(window.endMs),
      ScanBy: 'TimestampAscending',
      NextToken: undefined,
    });
    expect((cw.call(0).args as unknown[])[1]).toEqual({ abortSignal: aborter.signal });
    expect([...(result.series.get('q0')?.values ?? [])]).toEqual([5, 6]);
    expect(result.series.get('q1')?.values.length).toBe(0);
    expect(result.failed.size).toBe(0);
  });

  it('follows NextToken through PartialData and joins the pages; InternalError and Forbidden are failures', async () => {
    cw.on(GetMetricDataCommand)
      .resolvesOnce({
        MetricDataResults: [{ Id: 'q0', Timestamps: [new Date(1)], Values: [1], StatusCode: 'PartialData' }],
        NextToken: 'more',
      })
      .resolvesOnce({
        MetricDataResults: [
          { Id: 'q0', Timestamps: [new Date(2)], Values: [2], StatusCode: 'Complete' },
          { Id: 'q1', Timestamps: [], Values: [], StatusCode: 'InternalError' },
        ],
      });
    const result = await adapter.fetch(batch(), window, signal());
    expect(cw).toHaveReceivedCommandTimes(GetMetricDataCommand, 2);
    expect(cw).toHaveReceivedNthCommandWith(GetMetricDataCommand, 2, { NextToken: 'more' });
    expect([...(result.series.get('q0')?.timestamps ?? [])]).toEqual([1, 2]);
    expect(result.failed).toEqual(new Map([['q1', 'InternalError']]));
  });

  it('backs off on throttling, on the injected clock, and succeeds', async () => {
    cw.on(GetMetricDataCommand)
      .rejectsOnce(error('ThrottlingException'))
      .rejectsOnce(error('ThrottlingException'))
      .resolves({ MetricDataResults: [{ Id: 'q0', StatusCode: 'Complete', Timestamps: [], Values: [] }] });
    await adapter.fetch(batch(), window, signal());
    expect(cw).toHaveReceivedCommandTimes(GetMetricDataCommand, 3);
    // Two backoffs of at most 100 ms and 200 ms, plus the pacing of the retries (50 calls/s).
    expect(clock.now() - START).toBeLessThanOrEqual(300 + 40);
  });

  it('gives up after the bounded number of attempts, keeping the cause', async () => {
    cw.on(GetMetricDataCommand).rejects(error('ThrottlingException'));
    const failure = adapter.fetch(batch(), window, signal());
    await expect(failure).rejects.toBeInstanceOf(RetriesExhaustedError);
    await expect(failure).rejects.toMatchObject({
      message: 'GetMetricData failed 6 times (ThrottlingException); giving up',
      cause: { name: 'ThrottlingException' },
    });
    expect(cw).toHaveReceivedCommandTimes(GetMetricDataCommand, 6);
    // Bounded: 100 + 200 + 400 + 800 + 1600 ms at most.
    expect(clock.now() - START).toBeLessThanOrEqual(3_100 + 100);
  });

  it('does not retry what retrying cannot fix', async () => {
    cw.on(GetMetricDataCommand).rejects(error('ValidationError'));
    await expect(adapter.fetch(batch(), window, signal())).rejects.toMatchObject({ name: 'ValidationError' });
    expect(cw).toHaveReceivedCommandTimes(GetMetricDataCommand, 1);
  });

  it('sends nothing once the signal has aborted', async () => {
    const aborter = new AbortController();
    aborter.abort(new Error('deadline'));
    await expect(adapter.fetch(batch(), window, aborter.signal)).rejects.toThrow('deadline');
    expect(cw).toHaveReceivedCommandTimes(GetMetricDataCommand, 0);
  });

  it('spaces calls to stay within the datapoint quota it was given', async () => {
    const starts: number[] = [];
    cw.on(GetMetricDataCommand).callsFake(async () => {
      starts.push(clock.now() - START);
      return { MetricDataResults: [] };
    });
    const big = { ...batch(), datapoints: 100_800 };
    await Promise.all([
      adapter.fetch(big, window, signal()),
      adapter.fetch(big, window, signal()),
      adapter.fetch(big, window, signal()),
    ]);
    // 201,600 datapoints/s: one call of 100,800 every half second.
    expect(starts).toEqual([0, 500, 1000]);
  });
});

describe('CloudWatchMetrics.tagsOf', () => {
  it('reads the alarm tags', async () => {
    cw.on(ListTagsForResourceCommand).resolves({ Tags: [{ Key: 'crawlguard:instance-id', Value: id }] });
    const arn = 'arn:aws:cloudwatch:us-east-1:123456789012:alarm:x';
    expect(await adapter.tagsOf(arn, signal())).toEqual(new Map([['crawlguard:instance-id', id]]));
    expect(cw).toHaveReceivedCommandWith(ListTagsForResourceCommand, { ResourceARN: arn });
  });
});

describe('CloudWatchMetrics.tagsOf, for an alarm deleted since it fired', () => {
  it('reads no tags instead of failing', async () => {
    cw.on(ListTagsForResourceCommand).rejects(
      new ResourceNotFoundException({ $metadata: { httpStatusCode: 404 }, message: 'gone' }),
    );
    expect(await adapter.tagsOf('arn:aws:cloudwatch:us-east-1:123456789012:alarm:gone', signal())).toEqual(
      new Map(),
    );
  });

  it('still fails on anything else', async () => {
    cw.on(ListTagsForResourceCommand).rejects(error('AccessDenied'));
    await expect(
      adapter.tagsOf('arn:aws:cloudwatch:us-east-1:123456789012:alarm:x', signal()),
    ).rejects.toMatchObject({ name: 'AccessDenied' });
  });
});
