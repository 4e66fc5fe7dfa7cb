import { afterEach, describe, expect, it } from 'vitest';
import { FindingDetailSchema } from '#shared/events/finding.ts';
import { ForeignEventError } from '#shared/events/home.ts';
import type { TriageResult } from '#shared/scan/triage.ts';
import { createSimulatedFleet, type SimulatedFleet, WELL_KNOWN } from '#shared/sim/fleet.ts';
import { type Json, readEvent, simulatedFunction } from '#test/support/handlers.ts';

let fleet: SimulatedFleet | undefined;
afterEach(() => {
  fleet?.restore();
  fleet = undefined;
});

async function triage(file: string): Promise<{ result: TriageResult; fleet: SimulatedFleet }> {
  fleet = createSimulatedFleet({ instances: 10, seed: 1 });
  const result = await simulatedFunction<TriageResult>(
    'alarm-triage',
    fleet,
  )(readEvent(`events/alarm-triage/${file}`));
  return { result, fleet };
}
const commands = (f: SimulatedFleet) => [...new Set(f.requests.map((r) => r.command))].sort();

describe('alarm-triage', () => {
  it.each([
    ['single-metric.json', 'ServerCpuTooHigh'],
    ['metric-math.json', 'TotalNetworkTrafficTooHigh'],
    ['anomaly-detection.json', 'EC2 CPU Utilization Anomaly'],
    ['crawled-instance.json', 's3fs-egress-i-12345678901234567'],
  ])(
    '%s: confirms the crawl of the instance the alarm watches and publishes the finding',
    async (file, alarmName) => {
      const { result, fleet: f } = await triage(file);
      expect(result).toMatchObject({
        status: 'confirmed',
        alarmName,
        instanceId: WELL_KNOWN.crawled,
        finding: { kind: 'updatedb-crawl' },
      });
      expect(f.published).toHaveLength(1);
      const finding = FindingDetailSchema.parse(f.published[0]?.detail);
      expect(finding.trigger).toMatchObject({ type: 'alarm', alarmName });
      expect(finding.evidence.networkOut?.verdict).toBe('recurring-window');
      // One instance: its own metrics listed, no fleet-wide listing.
      for (const r of f.requests.filter((r) => r.command === 'ListMetrics')) {
        expect(r.input).toMatchObject({ Dimensions: [{ Name: 'InstanceId', Value: WELL_KNOWN.crawled }] });
      }
    },
  );

  it('finds the instance of a SEARCH-expression alarm from its crawlguard:instance-id tag', async () => {
    const { result, fleet: f } = await triage('search-expression-tagged.json');
    expect(result).toMatchObject({
      status: 'confirmed',
      instanceId: WELL_KNOWN.crawledSystemd,
      finding: { kind: 'updatedb-crawl' },
    });
    expect(f.count('ListTagsForResource')).toBe(1);
  });

  it('confirms a leak as memory-growth', async () => {
    const { result } = await triage('leaking-instance.json');
    expect(result).toMatchObject({
      status: 'confirmed',
      instanceId: WELL_KNOWN.leaking,
      finding: { kind: 'memory-growth' },
    });
  });

  it('says "not confirmed" for a healthy instance, and publishes nothing', async () => {
    const { result, fleet: f } = await triage('healthy-instance.json');
    expect(result).toMatchObject({
      status: 'not-confirmed',
      instanceId: WELL_KNOWN.healthy,
      verdict: 'healthy',
    });
    expect((result as { reason: string }).reason).toMatch(/^NetworkOut: no burst above baseline/);
    expect(f.count('PutEvents')).toBe(0);
  });

  it.each<[string, string, string, string[]]>([
    ['not-opted-in-instance.json', WELL_KNOWN.untagged, 'not-opted-in', ['DescribeInstances']],
    [
      'unmanaged-instance.json',
      WELL_KNOWN.unmanaged,
      'not-managed',
      ['DescribeInstanceInformation', 'DescribeInstances'],
    ],
  ])('%s: leaves %s alone (%s) and reads no metric', async (file, instanceId, reason, called) => {
    const { result, fleet: f } = await triage(file);
    expect(result).toMatchObject({ status: 'skipped', instanceId, reason });
    expect(commands(f)).toEqual(called);
  });

  it.each([
    [
      'composite-with-suppressor.json',
      'a composite alarm has no metric dimensions, and the alarm has no crawlguard:instance-id tag',
    ],
    [
      'search-expression-untagged.json',
      'none of the alarm metrics has an InstanceId dimension, and the alarm has no crawlguard:instance-id tag',
    ],
  ])('%s: says clearly that no instance could be found', async (file, reason) => {
    const { result, fleet: f } = await triage(file);
    expect(result).toMatchObject({ status: 'no-instance', reason });
    expect(commands(f)).toEqual(['ListTagsForResource']);
  });

  it('ignores a transition that is not into ALARM, without a single call', async () => {
    const { result, fleet: f } = await triage('back-to-ok.json');
    expect(result).toEqual({
      status: 'ignored',
      alarmName: 's3fs-egress-i-12345678901234567',
      reason: 'transition ALARM → OK is not into ALARM',
    });
    expect(f.requests).toEqual([]);
  });
});

describe('alarm-triage: alarms of another account or region', () => {
  const forged = (account: string, region: string) => {
    const event = readEvent('events/alarm-triage/crawled-instance.json') as Json;
    event.account = account;
    event.region = region;
    event.resources = [`arn:aws:cloudwatch:${region}:${account}:alarm:${event.detail.alarmName}`];
    return event;
  };

  it.each([
    ['another account', '210987654321', 'us-east-1'],
    ['another region', '123456789012', 'eu-west-1'],
  ])('refuses an alarm from %s in one line, before any call', async (_, account, region) => {
    fleet = createSimulatedFleet({ instances: 5, seed: 1 });
    const error = await simulatedFunction(
      'alarm-triage',
      fleet,
    )(forged(account, region)).then(
      () => null,
      (caught: unknown) => caught,
    );
    expect(error).toBeInstanceOf(ForeignEventError);
    expect((error as Error).message).toBe(
      `alarm "s3fs-egress-i-12345678901234567" is in account ${account}, region ${region}; ` +
        'this function serves account "123456789012", region "us-east-1" only',
    );
    expect(fleet.requests).toEqual([]);
    expect(fleet.published).toEqual([]);
  });
});
