/**
 * The sample events crawlguard itself produces (a shard message, findings, workflow steps), generated from the simulated
 * fleet so that they stay true to the code. `npx node test/support/write-samples.ts` rewrites them;
 * test/events/samples.test.ts checks that the committed files are what the code produces.
 */

import { CloudWatchMetrics } from '#aws/cloudwatch.ts';
import { metricWindow } from '#core/metrics.ts';
import type { FindingDetail } from '#shared/events/finding.ts';
import { discoverMetrics } from '#shared/scan/discover-metrics.ts';
import { buildShards } from '#shared/scan/shards.ts';
import { createSimulatedFleet, SIMULATED_ACCOUNT, SIMULATED_REGION, WELL_KNOWN } from '#shared/sim/fleet.ts';
import { readEvent, simulatedFunction } from './handlers.ts';
import { generateWorkflowStepSamples } from './workflow-samples.ts';

/** Path under events/ → content. */
export async function generateSamples(): Promise<Record<string, unknown>> {
  const fleet = createSimulatedFleet({ instances: 40, seed: 1 });
  try {
    const samples: Record<string, unknown> = {};

    // A shard as fleet-scan would queue it, naming instances of every kind (crawled, leaking, healthy,
    // not opted in, stopped, unmanaged).
    const ids = [
      WELL_KNOWN.crawled,
      WELL_KNOWN.crawledSystemd,
      WELL_KNOWN.leaking,
      WELL_KNOWN.healthy,
      WELL_KNOWN.untagged,
      WELL_KNOWN.stopped,
      WELL_KNOWN.unmanaged,
    ];
    const cloudwatch = new CloudWatchMetrics(fleet.clients.cloudwatch, {
      clock: fleet.clock,
      getMetricDataLimits: { requestsPerSecond: 10 },
    });
    const selection = await discoverMetrics(cloudwatch, new Set(ids), new AbortController().signal);
    const [shard] = buildShards(
      { runId: 'sample-run-20261104', scheduledAt: '2026-11-04T00:00:00.000Z', via: 'eventbridge-scheduler' },
      metricWindow(fleet.clock.now(), 14),
      ids.map((instanceId) => ({
        instanceId,
        ownerId: null,
        metrics: selection.byInstance.get(instanceId) ?? {},
      })),
      1000,
    );
    samples['scan-worker/shard.json'] = fleet.sqsEvent([
      {
        queueUrl: fleet.environment.SHARD_QUEUE_URL ?? '',
        messageId: '9a1c2b3d-4e5f-4a6b-8c7d-0e1f2a3b4c5d',
        body: JSON.stringify(shard),
        at: fleet.clock.now(),
      },
    ]);

    // Findings as a subscriber of the bus receives them.
    await simulatedFunction('fleet-scan', fleet)(readEvent('events/fleet-scan/scheduler-input.json'));
    await simulatedFunction('alarm-triage', fleet)(readEvent('events/alarm-triage/crawled-instance.json'));
    const detail = (instanceId: string, pick: (f: FindingDetail) => boolean = () => true) =>
      fleet.published
        .map((p) => p.detail as FindingDetail)
        .find((f) => f.instanceId === instanceId && pick(f));
    const chosen: Record<string, FindingDetail | undefined> = {
      'findings/updatedb-crawl-cron.json': detail(WELL_KNOWN.crawled, (f) => f.trigger.type === 'schedule'),
      'findings/updatedb-crawl-systemd-timer.json': detail(WELL_KNOWN.crawledSystemd),
      'findings/memory-growth.json': detail(WELL_KNOWN.leaking),
      'findings/daily-network-burst.json': fleet.published
        .map((p) => p.detail as FindingDetail)
        .find((f) => f.kind === 'daily-network-burst'),
      'findings/updatedb-crawl-from-alarm.json': detail(
        WELL_KNOWN.crawled,
        (f) => f.trigger.type === 'alarm',
      ),
    };
    for (const [path, finding] of Object.entries(chosen)) {
      if (finding === undefined) throw new Error(`the simulated fleet published no finding for ${path}`);
      samples[path] = {
        version: '0',
        id: `${finding.findingId.slice(0, 8)}-${finding.findingId.slice(8, 12)}-4${finding.findingId.slice(13, 16)}-8${finding.findingId.slice(17, 20)}-${finding.findingId.slice(20, 32)}`,
        'detail-type': 'crawlguard.finding',
        source: 'crawlguard',
        account: SIMULATED_ACCOUNT,
        time: finding.detectedAt.replace(/\.\d{3}Z$/, 'Z'),
        region: SIMULATED_REGION,
        resources: [`arn:aws:ec2:${SIMULATED_REGION}:${SIMULATED_ACCOUNT}:instance/${finding.instanceId}`],
        detail: finding,
      };
    }
    // What the remediate function receives from the findings bus.
    samples['remediate/finding-updatedb-crawl.json'] = samples['findings/updatedb-crawl-cron.json'];
    samples['remediate/finding-memory-growth.json'] = samples['findings/memory-growth.json'];
    // What the remediation workflows send the workflow-step function, one sample per action.
    return { ...samples, ...(await generateWorkflowStepSamples()) };
  } finally {
    fleet.restore();
  }
}
