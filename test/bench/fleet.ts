/**
 * The fleet scan end to end on the simulated fleet: fleet-scan discovers and queues shards, then as many
 * scan-worker execution environments as the event source mapping's MaximumConcurrency drain the queue in
 * batches of its BatchSize, all on one simulated clock under the account's GetMetricData quotas.
 * `node test/bench/fleet.ts [--instances N]` prints one JSON object (run in its own process so that its
 * peak RSS is the scan's).
 */
import { parseArgs } from 'node:util';
import type { SQSBatchResponse } from 'aws-lambda';
import { MAX_DATAPOINTS_PER_CALL, MAX_QUERIES_PER_CALL } from '#core/metrics.ts';
import { createSimulatedFleet, type QueuedMessage } from '#shared/sim/fleet.ts';
import { readTemplate } from '#shared/tooling/cfn-yaml.ts';
import { simulatedFunction } from '#test/support/handlers.ts';

const { values } = parseArgs({ options: { instances: { type: 'string', default: '10000' } } });
const instances = Number(values.instances);
if (!Number.isInteger(instances) || instances < 1) {
  console.error(`bench: --instances must be a whole number ≥ 1, got '${values.instances}'`);
  process.exit(2);
}
// As deployed: the SQS event source's batch size and concurrency come from template.yaml.
const shards = (
  readTemplate(new URL('../../template.yaml', import.meta.url).pathname) as {
    Resources: {
      ScanWorkerFunction: {
        Properties: {
          Events: {
            Shards: { Properties: { BatchSize: number; ScalingConfig: { MaximumConcurrency: number } } };
          };
        };
      };
    };
  }
).Resources.ScanWorkerFunction.Properties.Events.Shards.Properties;
const BATCH_SIZE = shards.BatchSize;
const ENVIRONMENTS = shards.ScalingConfig.MaximumConcurrency;

const fleet = createSimulatedFleet({ instances, seed: 42, wellKnown: false });
const started = fleet.clock.now();
const realStarted = performance.now();

const scan = simulatedFunction<{ status: string }>('fleet-scan', fleet);
const scheduled = {
  version: '0',
  id: 'b3nch000-0000-4000-8000-000000000001',
  'detail-type': 'Scheduled Event',
  source: 'aws.events',
  account: '123456789012',
  time: new Date(started).toISOString().replace(/\.\d+Z$/, 'Z'),
  region: 'us-east-1',
  resources: ['arn:aws:events:us-east-1:123456789012:rule/crawlguard-fleet-scan'],
  detail: {},
};
const result = await scan(scheduled);
if (result.status !== 'queued') throw new Error(`expected the fleet to be sharded, got ${result.status}`);

// Each execution environment builds its own handler (its own adapters and pacers), as Lambda's would.
const workers = Array.from({ length: ENVIRONMENTS }, () =>
  simulatedFunction<SQSBatchResponse>('scan-worker', fleet),
);
const queue: { message: QueuedMessage; receives: number }[] = fleet.queued.map((message) => ({
  message,
  receives: 0,
}));
let deadLettered = 0;
await Promise.all(
  workers.map(async (worker) => {
    while (queue.length > 0) {
      const batch = queue.splice(0, BATCH_SIZE);
      for (const item of batch) item.receives += 1;
      const response = await worker(fleet.sqsEvent(batch.map((item) => item.message)));
      const failed = new Set(response.batchItemFailures.map((failure) => failure.itemIdentifier));
      for (const item of batch) {
        if (!failed.has(item.message.messageId)) continue;
        if (item.receives < 3) queue.push(item);
        else deadLettered += 1;
      }
    }
  }),
);

const gmd = fleet.requests.filter((r) => r.command === 'GetMetricData');
let metrics = 0;
let datapoints = 0;
for (const request of gmd) {
  const input = request.input as {
    MetricDataQueries: { MetricStat: { Period: number } }[];
    StartTime: Date;
    EndTime: Date;
    NextToken?: string;
  };
  if (input.NextToken !== undefined || request.outcome !== 'ok') continue;
  metrics += input.MetricDataQueries.length;
  const span = input.EndTime.getTime() - input.StartTime.getTime();
  for (const query of input.MetricDataQueries) datapoints += span / (query.MetricStat.Period * 1000);
}
const minimum = Math.max(
  Math.ceil(metrics / MAX_QUERIES_PER_CALL),
  Math.ceil(datapoints / MAX_DATAPOINTS_PER_CALL),
);
console.log(
  JSON.stringify({
    fleetInstances: fleet.instances.length,
    fleetShards: fleet.queued.length,
    fleetMetrics: metrics,
    fleetDatapoints: datapoints,
    fleetGetMetricDataCalls: gmd.length,
    fleetGetMetricDataThrottled: gmd.filter((r) => r.outcome !== 'ok').length,
    fleetMinimumCalls: minimum,
    fleetSimulatedSeconds: Math.round((fleet.clock.now() - started) / 100) / 10,
    fleetFindings: fleet.published.length,
    fleetDeadLettered: deadLettered,
    fleetRealSeconds: Math.round((performance.now() - realStarted) / 100) / 10,
    scanPeakRssMiB: Math.round(process.resourceUsage().maxRSS / 1024),
  }),
);
fleet.restore();
