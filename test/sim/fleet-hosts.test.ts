/**
 * Modelled hosts in the simulated fleet: what EC2, SSM and CloudWatch say about them, the real fleet
 * scan on the demo roster, and the remediation's effects as the detectors see them days later.
 */
import { GetMetricDataCommand, ListMetricsCommand } from '@aws-sdk/client-cloudwatch';
import { DescribeInstancesCommand } from '@aws-sdk/client-ec2';
import { DescribeInstanceInformationCommand } from '@aws-sdk/client-ssm';
import { afterEach, describe, expect, it } from 'vitest';
import { type FindingDetail, FindingDetailSchema } from '#shared/events/finding.ts';
import type { FleetScanResult } from '#shared/scan/fleet-scan.ts';
import type { SimulatedFleet } from '#shared/sim/fleet.ts';
import { simulatedFunction } from '#test/support/handlers.ts';
import { DAY, HOUR, START } from './host-support.ts';
import { hostFleet, idOf, run } from './run-command-support.ts';

let fleet: SimulatedFleet | undefined;
afterEach(() => {
  fleet?.restore();
  fleet = undefined;
});
const install = (): SimulatedFleet => {
  fleet = hostFleet();
  return fleet;
};

/** The fleet scan as deployed, scheduled now. */
async function scan(f: SimulatedFleet): Promise<FindingDetail[]> {
  const before = f.published.length;
  const handler = simulatedFunction<FleetScanResult>('fleet-scan', f);
  const result = await handler({
    crawlguard: 'fleet-scan',
    schemaVersion: 1,
    scheduledTime: new Date(f.clock.now()).toISOString().replace(/\.\d+Z$/, 'Z'),
    executionId: '5b4c7f36-3f6e-4a8a-9d7e-0c1e2f3a4b5c',
  });
  if (result.status !== 'scanned') throw new Error(`expected an inline scan, got ${result.status}`);
  return f.published.slice(before).map((p) => FindingDetailSchema.parse(p.detail));
}

/** The s3fs RSS of an instance (bytes, 5-minute averages) over the last hours, through GetMetricData. */
async function rssSeries(
  f: SimulatedFleet,
  instanceId: string,
  hours: number,
): Promise<{ at: number; value: number }[]> {
  const end = Math.floor(f.clock.now() / 300_000) * 300_000;
  const response = await f.clients.cloudwatch.send(
    new GetMetricDataCommand({
      StartTime: new Date(end - hours * HOUR),
      EndTime: new Date(end),
      ScanBy: 'TimestampAscending',
      MetricDataQueries: [
        {
          Id: 'rss',
          MetricStat: {
            Metric: {
              Namespace: 'CWAgent',
              MetricName: 'procstat_memory_rss',
              Dimensions: [
                { Name: 'InstanceId', Value: instanceId },
                { Name: 'exe', Value: 's3fs' },
                { Name: 'pid_finder', Value: 'native' },
              ],
            },
            Period: 300,
            Stat: 'Average',
          },
        },
      ],
    }),
  );
  const result = response.MetricDataResults?.[0];
  return (result?.Timestamps ?? []).map((t, i) => ({
    at: t.getTime(),
    value: result?.Values?.[i] ?? Number.NaN,
  }));
}

describe('EC2, SSM and CloudWatch on modelled hosts', () => {
  it('EC2 lists their tags (the opt-in tag, the Auto Scaling group) and states over time', async () => {
    const f = install();
    const describe = async (name: string) => {
      const out = await f.clients.ec2.send(new DescribeInstancesCommand({ InstanceIds: [idOf(f, name)] }));
      return out.Reservations?.[0]?.Instances?.[0];
    };
    expect((await describe('asg-member'))?.Tags).toEqual(
      expect.arrayContaining([
        { Key: 'crawlguard:enabled', Value: 'true' },
        { Key: 'aws:autoscaling:groupName', Value: 'web-asg-blue' },
      ]),
    );
    expect((await describe('not-opted-in'))?.Tags?.some((t) => t.Key === 'crawlguard:enabled')).toBe(false);
    expect((await describe('stops-mid-run'))?.State).toEqual({ Name: 'running', Code: 16 });
    f.clock.advance(3 * HOUR);
    expect((await describe('stops-mid-run'))?.State).toEqual({ Name: 'stopped', Code: 80 });
    expect((await describe('terminated-mid-run'))?.State).toEqual({ Name: 'terminated', Code: 48 });
  });

  it('SSM lists running, managed hosts with their PingStatus', async () => {
    const f = install();
    const listed = async () => {
      const ids: Record<string, string | undefined> = {};
      let token: string | undefined;
      do {
        const page = await f.clients.ssm.send(
          new DescribeInstanceInformationCommand({ MaxResults: 50, NextToken: token }),
        );
        for (const i of page.InstanceInformationList ?? []) ids[i.InstanceId ?? ''] = i.PingStatus;
        token = page.NextToken;
      } while (token !== undefined);
      return ids;
    };
    const now = await listed();
    expect(now[idOf(f, 'cron-media-1')]).toBe('Online');
    expect(now[idOf(f, 'agent-connection-lost')]).toBe('ConnectionLost');
    expect(idOf(f, 'unmanaged') in now).toBe(false);
    f.clock.advance(3 * HOUR);
    const later = await listed();
    expect(idOf(f, 'stops-mid-run') in later).toBe(false);
    expect(idOf(f, 'terminated-mid-run') in later).toBe(false);
  });

  it('CloudWatch lists the dimension sets their agents publish', async () => {
    const f = install();
    const sets = async (name: string, metricName: string) => {
      const out = await f.clients.cloudwatch.send(
        new ListMetricsCommand({
          MetricName: metricName,
          Dimensions: [{ Name: 'InstanceId', Value: idOf(f, name) }],
        }),
      );
      return (out.Metrics ?? []).map((m) => (m.Dimensions ?? []).map((d) => d.Name).join(','));
    };
    expect(await sets('asg-member', 'mem_used_percent')).toEqual([
      'InstanceId,ImageId,InstanceType,AutoScalingGroupName',
    ]);
    expect((await sets('cron-media-paris', 'mem_used_percent')).sort()).toEqual([
      'InstanceId',
      'InstanceId,ImageId,InstanceType',
    ]);
    expect(await sets('cron-media-paris', 'procstat_memory_rss')).toEqual(['InstanceId,pattern,pid_finder']);
    expect(await sets('healthy-no-agent', 'mem_used_percent')).toEqual([]);
    expect(await sets('healthy-no-agent', 'NetworkOut')).toEqual(['InstanceId']);
  });
});

describe('the fleet scan on the demo roster', () => {
  it('finds what each host does, only on opted-in, managed, running hosts', async () => {
    const f = install();
    const found = Object.fromEntries((await scan(f)).map((finding) => [finding.instanceId, finding.kind]));
    for (const host of f.hosts.values()) {
      const eligible = host.spec.optIn === 'true' && host.ssmPing === 'Online';
      const expected = host.spec.behaviour === 'healthy' || !eligible ? undefined : host.spec.behaviour;
      expect(found[host.instanceId], host.spec.name).toBe(expected);
    }
    expect(Object.values(found).filter((kind) => kind === 'updatedb-crawl').length).toBeGreaterThanOrEqual(
      15,
    );
  }, 60_000);
});

describe('remediation on a modelled host, as the detectors see it days later', () => {
  it('a cron-crawled host: a finding before; patch and restart through Run Command; no finding 7 days later', async () => {
    const f = install();
    const cron = idOf(f, 'cron-media-1');
    const timer = idOf(f, 'timer-debian-1');
    const before = await scan(f);
    expect(before.find((x) => x.instanceId === cron)?.kind).toBe('updatedb-crawl');
    const diagnosis = await run(f, cron, 'diagnose');
    expect(diagnosis.output).toMatchObject({
      schedule: { effective: 'cronDaily', crontabDailyTime: '25 6 * * *' },
      mounts: [{ mountPoint: '/srv/media', type: 'fuse.s3fs', mountedBy: 'fstab', crawled: true }],
    });
    const patch = await run(f, cron, 'patch-updatedb-conf', { Mode: 'apply', PruneFsTypes: 'fuse.s3fs' });
    expect(patch.output).toMatchObject({
      status: 'patched',
      changes: [{ variable: 'PRUNEFS', action: 'edited', line: 4, added: ['fuse.s3fs'] }],
      backupPath: expect.stringMatching(/^\/etc\/updatedb\.conf\.crawlguard-\d{8}T\d{6}Z$/),
    });
    const restart = await run(f, cron, 'restart-s3fs', { Mode: 'apply', Mounts: '/srv/media' });
    const mount = (
      restart.output as {
        mounts: {
          rssKiBBefore: number;
          rssKiBAfter: number;
          daemonPidBefore: number;
          daemonPidAfter: number;
        }[];
      }
    ).mounts[0];
    expect(mount?.rssKiBAfter).toBeLessThan((mount?.rssKiBBefore ?? 0) / 10);
    expect(mount?.daemonPidAfter).not.toBe(mount?.daemonPidBefore);
    const again = await run(f, cron, 'diagnose');
    expect(again.output).toMatchObject({
      mounts: [{ crawled: false, crawlReason: 'PRUNEFS has fuse.s3fs' }],
    });

    f.clock.advance(7 * DAY);
    const after = await scan(f);
    expect(after.find((x) => x.instanceId === cron)).toBeUndefined();
    // The host left alone is still crawled.
    expect(after.find((x) => x.instanceId === timer)?.kind).toBe('updatedb-crawl');
  }, 60_000);

  it("s3fs RSS drops to its base after a restart, in the agent's metric", async () => {
    const f = install();
    const id = idOf(f, 'cron-media-1');
    await run(f, id, 'restart-s3fs', { Mode: 'apply' });
    f.clock.advance(2 * HOUR);
    const points = await rssSeries(f, id, 4);
    const restartAt = f.runCommand.commands[0]?.invocations[0]?.startedAt ?? 0;
    const before = points.filter((p) => p.at < restartAt - 300_000).map((p) => p.value);
    const after = points.filter((p) => p.at > restartAt + 300_000).map((p) => p.value);
    expect(Math.min(...before)).toBeGreaterThan(300e6);
    expect(Math.max(...after)).toBeLessThan(10e6);
  });

  it('a writer holding the mount makes the restart defer, naming it, until it leaves', async () => {
    const f = install();
    const id = idOf(f, 'writer-holds-mount');
    const deferred = await run(f, id, 'restart-s3fs', { Mode: 'apply', Mounts: '/mnt/ingest' });
    expect(deferred.result.ResponseCode).toBe(3);
    expect(deferred.output).toMatchObject({
      status: 'deferred',
      mounts: [{ status: 'deferred', holders: [{ pid: 4242, command: 'python3' }], daemonPidAfter: null }],
    });
    expect(f.hosts.get(id)?.version).toBe(0);
    // The writer leaves six hours after the start.
    f.clock.advance(6 * HOUR);
    const done = await run(f, id, 'restart-s3fs', { Mode: 'apply', Mounts: '/mnt/ingest' });
    expect(done.output).toMatchObject({
      status: 'restarted',
      mounts: [{ status: 'restarted', holders: [] }],
    });
    expect(START).toBeLessThan(f.clock.now());
  });
});
