import {
  GetMetricDataCommand,
  type GetMetricDataCommandInput,
  ListMetricsCommand,
} from '@aws-sdk/client-cloudwatch';
import { DescribeInstancesCommand } from '@aws-sdk/client-ec2';
import { PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { SendMessageBatchCommand } from '@aws-sdk/client-sqs';
import { DescribeInstanceInformationCommand, ListCommandInvocationsCommand } from '@aws-sdk/client-ssm';
import { afterEach, describe, expect, it } from 'vitest';
import { assessInstance } from '#core/assessment.ts';
import { METRIC_SPECS, type MetricKind } from '#core/metrics.ts';
import { createSimulatedFleet, SIMULATED_START, type SimulatedFleet, WELL_KNOWN } from '#shared/sim/fleet.ts';
import { seriesOf } from '#shared/sim/fleet-model.ts';

let fleet: SimulatedFleet | undefined;
afterEach(() => {
  fleet?.restore();
  fleet = undefined;
});
const install = (options: Parameters<typeof createSimulatedFleet>[0] = {}) => {
  fleet = createSimulatedFleet(options);
  return fleet;
};
const DAY = 86_400_000;
const END = Math.floor(SIMULATED_START / 300_000) * 300_000;

function query(
  instanceId: string,
  n: number,
  kind: MetricKind = 'network-out',
  days = 14,
): GetMetricDataCommandInput {
  return {
    MetricDataQueries: Array.from({ length: n }, (_, i) => ({
      Id: `q${i}`,
      MetricStat: {
        Metric: {
          Namespace: METRIC_SPECS[kind].namespace,
          MetricName: METRIC_SPECS[kind].metricName,
          Dimensions: [{ Name: 'InstanceId', Value: instanceId }],
        },
        Period: 300,
        Stat: METRIC_SPECS[kind].stat,
      },
    })),
    StartTime: new Date(END - days * DAY),
    EndTime: new Date(END),
  };
}

describe('the simulated fleet', () => {
  it('is the same fleet for the same seed, and another for another seed', () => {
    const ids = install({ instances: 50, seed: 9 }).instances.map((i) => i.instanceId);
    fleet?.restore();
    expect(install({ instances: 50, seed: 9 }).instances.map((i) => i.instanceId)).toEqual(ids);
    fleet?.restore();
    expect(install({ instances: 50, seed: 10 }).instances.map((i) => i.instanceId)).not.toEqual(ids);
  });

  it('holds crawled, leaking and healthy instances, some not opted in, unmanaged or offline, and hostile tags', () => {
    const { instances } = install({ instances: 2000, seed: 4 });
    const share = (predicate: (i: (typeof instances)[number]) => boolean) =>
      instances.filter(predicate).length / instances.length;
    expect(share((i) => i.behaviour === 'updatedb-crawl')).toBeGreaterThan(0.06);
    expect(share((i) => i.behaviour === 'memory-growth')).toBeGreaterThan(0.02);
    expect(share((i) => i.behaviour === 'healthy')).toBeGreaterThan(0.8);
    expect(
      share((i) => !i.tags.some((t) => t.Key === 'crawlguard:enabled' && t.Value === 'true')),
    ).toBeGreaterThan(0.05);
    expect(share((i) => i.ssm === null)).toBeGreaterThan(0.01);
    expect(share((i) => i.ssm === 'ConnectionLost')).toBeGreaterThan(0.01);
    expect(instances.some((i) => i.tags.some((t) => t.Value.includes('rm -rf')))).toBe(true);
    expect(instances.some((i) => i.stopsAt !== null)).toBe(true);
    for (const id of Object.values(WELL_KNOWN)) expect(instances.some((i) => i.instanceId === id)).toBe(true);
  });

  it('gives each instance series that the detectors read as its behaviour', () => {
    const { instances } = install({ instances: 300, seed: 5, wellKnown: false });
    let agree = 0;
    for (const instance of instances) {
      const series: Partial<Record<MetricKind, ReturnType<typeof seriesOf>>> = {};
      for (const metric of instance.metrics) {
        const kind = (Object.keys(METRIC_SPECS) as MetricKind[]).find(
          (k) => METRIC_SPECS[k].metricName === metric.metricName,
        );
        if (
          kind !== undefined &&
          !(kind === 's3fs-rss' && !metric.dimensions.some((d) => d.value.includes('s3fs')))
        ) {
          series[kind] = seriesOf(metric, SIMULATED_START);
        }
      }
      if (assessInstance(instance.instanceId, series).verdict === instance.behaviour) agree += 1;
    }
    // Healthy instances without the agent cannot show a leak, and a few scenarios are hard on purpose.
    expect(agree / instances.length).toBeGreaterThan(0.95);
  });

  it('runs on its own simulated clock, and two fleets live side by side without sharing anything', async () => {
    const a = install({ instances: 5 });
    const b = createSimulatedFleet({ instances: 5, seed: 2 });
    try {
      expect(a.clock.now()).toBe(SIMULATED_START);
      await a.clients.ec2.send(new DescribeInstancesCommand({}));
      expect(a.count('DescribeInstances')).toBe(1);
      expect(b.count()).toBe(0);
      expect(a.clock.now()).toBeGreaterThan(SIMULATED_START);
      expect(b.clock.now()).toBe(SIMULATED_START);
    } finally {
      b.restore();
    }
  });
});

describe('simulated CloudWatch', () => {
  const client = () => (fleet as SimulatedFleet).clients.cloudwatch;

  it('refuses more than 500 queries in a call, as CloudWatch does', async () => {
    const f = install();
    await expect(
      client().send(new GetMetricDataCommand(query(WELL_KNOWN.crawled, 501))),
    ).rejects.toMatchObject({
      name: 'ValidationError',
      message: expect.stringContaining('less than or equal to 500'),
    });
    expect(f.requests.at(-1)).toMatchObject({ command: 'GetMetricData', outcome: 'ValidationError' });
  });

  it('paginates a request over 100,800 datapoints (PartialData + NextToken), or refuses it when strict', async () => {
    const f = install({ failures: { partialData: 0 } });
    // 26 metrics × 4032 = 104,832 datapoints (the same one 26 times: the fake does not mind).
    const first = await client().send(new GetMetricDataCommand(query(WELL_KNOWN.crawled, 26)));
    const returned = (first.MetricDataResults ?? []).reduce((sum, r) => sum + (r.Values?.length ?? 0), 0);
    expect(returned).toBeLessThanOrEqual(100_800);
    expect(first.NextToken).toBeDefined();
    expect(first.MetricDataResults?.at(-1)?.StatusCode).toBe('PartialData');
    const second = await client().send(
      new GetMetricDataCommand({ ...query(WELL_KNOWN.crawled, 26), NextToken: first.NextToken }),
    );
    expect(second.NextToken).toBeUndefined();
    expect(second.MetricDataResults?.at(-1)?.StatusCode).toBe('Complete');
    await expect(
      client().send(
        new GetMetricDataCommand({ ...query(WELL_KNOWN.crawled, 1), NextToken: first.NextToken }),
      ),
    ).rejects.toMatchObject({ name: 'InvalidNextToken' });
    f.restore();
    fleet = undefined;
    install({ strictDatapointLimit: true });
    await expect(
      client().send(new GetMetricDataCommand(query(WELL_KNOWN.crawled, 26))),
    ).rejects.toMatchObject({
      name: 'ValidationError',
      message: expect.stringContaining('104832 datapoints'),
    });
  });

  it('throttles above 50 calls in a second of simulated time', async () => {
    const f = install({ failures: { partialData: 0 } });
    const results = await Promise.allSettled(
      Array.from({ length: 60 }, () =>
        client().send(new GetMetricDataCommand(query(WELL_KNOWN.crawled, 1, 'network-out', 1))),
      ),
    );
    expect(
      results.filter((r) => r.status === 'rejected').map((r) => (r as PromiseRejectedResult).reason.name),
    ).toEqual(Array(10).fill('ThrottlingException'));
    expect(f.count('GetMetricData')).toBe(60);
  });

  it('throttles above 396,000 datapoints a second', async () => {
    install({ failures: { partialData: 0 } });
    // The crawled instance has 3,948 points in the window: 25 of them make 98,700 datapoints a call.
    const results = await Promise.allSettled(
      Array.from({ length: 5 }, () => client().send(new GetMetricDataCommand(query(WELL_KNOWN.crawled, 25)))),
    );
    expect(results.map((r) => r.status)).toEqual([
      'fulfilled',
      'fulfilled',
      'fulfilled',
      'fulfilled',
      'rejected',
    ]);
  });

  it('returns data only for a dimension set that was published, exactly', async () => {
    const f = install({ failures: { partialData: 0 } });
    const appendedOnly = f.instances.find((i) => {
      const sets = i.metrics.filter((m) => m.metricName === 'mem_used_percent');
      return sets.length === 1 && (sets[0]?.dimensions.length ?? 0) > 1;
    });
    expect(appendedOnly).toBeDefined();
    const id = appendedOnly?.instanceId ?? '';
    const plain = await client().send(new GetMetricDataCommand(query(id, 1, 'mem-used-percent')));
    expect(plain.MetricDataResults?.[0]).toMatchObject({ StatusCode: 'Complete', Values: [] });
    const exact = query(id, 1, 'mem-used-percent');
    const metric = appendedOnly?.metrics.find((m) => m.metricName === 'mem_used_percent');
    const stat = exact.MetricDataQueries?.[0]?.MetricStat;
    if (stat?.Metric !== undefined)
      stat.Metric.Dimensions = metric?.dimensions.map((d) => ({ Name: d.name, Value: d.value }));
    const result = await client().send(new GetMetricDataCommand(exact));
    expect(result.MetricDataResults?.[0]?.Values?.length).toBeGreaterThan(3000);
  });

  it('aggregates by the requested period and statistic, newest first unless asked otherwise', async () => {
    install({ failures: { partialData: 0 } });
    const hourly = query(WELL_KNOWN.crawled, 1);
    const stat = hourly.MetricDataQueries?.[0]?.MetricStat;
    if (stat !== undefined) stat.Period = 3600;
    const result = (await client().send(new GetMetricDataCommand(hourly))).MetricDataResults?.[0];
    const times = (result?.Timestamps ?? []).map((t) => t.getTime());
    expect(times.length).toBeGreaterThan(300);
    expect(times.length).toBeLessThanOrEqual(336);
    expect(times[0]).toBeGreaterThan(times[1] ?? 0);
    for (const t of times) expect((t - (END - 14 * DAY)) % 3_600_000).toBe(0);
  });

  it('lists metrics 500 a page and filters by dimension name', async () => {
    install({ instances: 400 });
    const pages: number[] = [];
    let token: string | undefined;
    do {
      const page = await client().send(
        new ListMetricsCommand({
          Namespace: 'AWS/EC2',
          MetricName: 'NetworkOut',
          Dimensions: [{ Name: 'InstanceId' }],
          NextToken: token,
        }),
      );
      pages.push(page.Metrics?.length ?? 0);
      for (const metric of page.Metrics ?? [])
        expect(metric.Dimensions?.some((d) => d.Name === 'InstanceId')).toBe(true);
      token = page.NextToken;
    } while (token !== undefined);
    expect(pages).toEqual([408]);
    const all = await client().send(
      new ListMetricsCommand({ Namespace: 'AWS/EC2', MetricName: 'NetworkOut' }),
    );
    expect(all.Metrics?.some((m) => m.Dimensions?.[0]?.Name === 'AutoScalingGroupName')).toBe(true);
  });
});

describe('simulated EC2 and SSM', () => {
  it('filters by tag exactly (wildcards only in the filter), by state, and pages by MaxResults', async () => {
    const f = install({ instances: 100 });
    const ec2 = f.clients.ec2;
    const tagged = await ec2.send(
      new DescribeInstancesCommand({
        Filters: [
          { Name: 'tag:crawlguard:enabled', Values: ['true'] },
          { Name: 'instance-state-name', Values: ['running'] },
        ],
        MaxResults: 5,
      }),
    );
    expect(tagged.Reservations).toHaveLength(5);
    expect(tagged.NextToken).toBeDefined();
    const ids = (r: typeof tagged) =>
      (r.Reservations ?? []).flatMap((x) => x.Instances ?? []).map((i) => i.InstanceId);
    expect(ids(tagged)).not.toContain(WELL_KNOWN.hostileTag);
    const wild = await ec2.send(
      new DescribeInstancesCommand({ Filters: [{ Name: 'tag:crawlguard:enabled', Values: ['true*'] }] }),
    );
    expect(ids(wild)).toContain(WELL_KNOWN.hostileTag);
    expect(f.count('DescribeInstances')).toBe(2);
  });

  it.each([
    [{ MaxResults: 1001 }, 'InvalidParameterValue'],
    [{ InstanceIds: ['i-0c0ffee0000000001'], MaxResults: 5 }, 'InvalidParameterCombination'],
    [{ InstanceIds: ['i-0000000000000dead'] }, 'InvalidInstanceID.NotFound'],
    [{ InstanceIds: ['i-1; reboot'] }, 'InvalidInstanceID.Malformed'],
    [
      { Filters: [{ Name: 'instance-id', Values: Array(201).fill('i-0c0ffee0000000001') }] },
      'FilterLimitExceeded',
    ],
    [{ Filters: [{ Name: 'owner', Values: ['me'] }] }, 'InvalidParameterValue'],
  ])('refuses DescribeInstances %j with %s', async (input, name) => {
    await expect(install().clients.ec2.send(new DescribeInstancesCommand(input))).rejects.toMatchObject({
      name,
    });
  });

  it('stops instances mid-scan: running at first, stopped later in simulated time', async () => {
    const f = install({ instances: 500, stopDuringScan: 0.2 });
    const stopping = f.instances.find((i) => i.stopsAt !== null);
    expect(stopping).toBeDefined();
    const id = stopping?.instanceId ?? '';
    expect(f.stateOf(id)).toBe('running');
    await f.clock.sleep((stopping?.stopsAt ?? 0) - f.clock.now());
    expect(f.stateOf(id)).toBe('stopped');
  });

  it('leaves unmanaged and stopped instances out of DescribeInstanceInformation', async () => {
    const ssm = install().clients.ssm;
    const ids = [WELL_KNOWN.healthy, WELL_KNOWN.unmanaged, WELL_KNOWN.stopped];
    const result = await ssm.send(
      new DescribeInstanceInformationCommand({
        Filters: [{ Key: 'InstanceIds', Values: ids }],
        MaxResults: 50,
      }),
    );
    expect(result.InstanceInformationList?.map((i) => [i.InstanceId, i.PingStatus])).toEqual([
      [WELL_KNOWN.healthy, 'Online'],
    ]);
    await expect(ssm.send(new DescribeInstanceInformationCommand({ MaxResults: 51 }))).rejects.toMatchObject({
      name: 'ValidationException',
    });
    await expect(
      ssm.send(
        new DescribeInstanceInformationCommand({ Filters: [{ Key: 'InstanceIds', Values: ['$(reboot)'] }] }),
      ),
    ).rejects.toMatchObject({ name: 'InvalidInstanceInformationFilterValue' });
  });
});

describe('simulated EventBridge and SQS', () => {
  it('records accepted events and refuses more than 10 entries', async () => {
    const f = install({ failures: { putEventsEntryFailure: 0 } });
    const eventbridge = f.clients.eventbridge;
    const entry = {
      Source: 'crawlguard',
      DetailType: 'crawlguard.finding',
      Detail: '{"a":1}',
      EventBusName: 'b',
    };
    const out = await eventbridge.send(
      new PutEventsCommand({ Entries: [entry, { ...entry, Detail: 'not json' }] }),
    );
    expect(out.FailedEntryCount).toBe(1);
    expect(f.published).toMatchObject([{ source: 'crawlguard', detail: { a: 1 }, eventBusName: 'b' }]);
    await expect(
      eventbridge.send(new PutEventsCommand({ Entries: Array(11).fill(entry) })),
    ).rejects.toMatchObject({ name: 'ValidationException' });
  });

  it('records queued messages and refuses oversized batches', async () => {
    const f = install();
    const sqs = f.clients.sqs;
    await sqs.send(new SendMessageBatchCommand({ QueueUrl: 'q', Entries: [{ Id: 'a', MessageBody: 'x' }] }));
    expect(f.queued).toMatchObject([{ queueUrl: 'q', body: 'x' }]);
    await expect(
      sqs.send(
        new SendMessageBatchCommand({
          QueueUrl: 'q',
          Entries: [{ Id: 'a', MessageBody: 'x'.repeat(262_145) }],
        }),
      ),
    ).rejects.toMatchObject({ name: 'BatchRequestTooLong' });
    expect(f.sqsEvent(f.queued).Records[0]).toMatchObject({ body: 'x', eventSource: 'aws:sqs' });
  });
});

describe('commands the fleet does not simulate', () => {
  it('fail with a message naming them, are recorded, and can be added through mocks', async () => {
    const f = install();
    const ssm = f.clients.ssm;
    const input = { CommandId: '0b3f6a86-94cf-4e0b-8a4e-6c1a2d3e4f50', Details: true };
    await expect(ssm.send(new ListCommandInvocationsCommand(input))).rejects.toThrow(
      'the simulated fleet does not simulate ssm ListCommandInvocations; add it with fleet.mocks.ssm.on(...)',
    );
    expect(f.requests.at(-1)).toMatchObject({
      service: 'ssm',
      command: 'ListCommandInvocations',
      outcome: 'NotSimulated',
      input,
    });
    f.mocks.ssm.on(ListCommandInvocationsCommand).resolves({ CommandInvocations: [] });
    expect((await ssm.send(new ListCommandInvocationsCommand(input))).CommandInvocations).toEqual([]);
    // The simulated commands are not disturbed.
    await expect(ssm.send(new DescribeInstanceInformationCommand({ MaxResults: 50 }))).resolves.toMatchObject(
      { InstanceInformationList: expect.any(Array) },
    );
  });
});

describe('injected faults', () => {
  it('fail the next calls of a command (those whose input matches), then let calls through, all recorded', async () => {
    const f = install({ instances: 5 });
    const throttled = () => Object.assign(new Error('Rate exceeded'), { name: 'RequestLimitExceeded' });
    f.inject({
      command: 'DescribeInstances',
      times: 2,
      matches: (input) => (input as { MaxResults?: number }).MaxResults === 5,
      error: throttled,
    });
    await expect(f.clients.ec2.send(new DescribeInstancesCommand({ MaxResults: 5 }))).rejects.toThrow(
      'Rate exceeded',
    );
    await expect(f.clients.ec2.send(new DescribeInstancesCommand({}))).resolves.toBeDefined();
    await expect(f.clients.ec2.send(new DescribeInstancesCommand({ MaxResults: 5 }))).rejects.toThrow(
      'Rate exceeded',
    );
    await expect(f.clients.ec2.send(new DescribeInstancesCommand({ MaxResults: 5 }))).resolves.toBeDefined();
    expect(f.requests.map((r) => r.outcome)).toEqual([
      'RequestLimitExceeded',
      'ok',
      'RequestLimitExceeded',
      'ok',
    ]);
  });
});
