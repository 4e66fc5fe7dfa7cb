import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { EC2Client } from '@aws-sdk/client-ec2';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { SQSClient } from '@aws-sdk/client-sqs';
import { SSMClient } from '@aws-sdk/client-ssm';
import { runtimeClock } from '#shared/clock.ts';
import type { FleetScanConfig, ScanConfig } from '#shared/config.ts';
import { CloudWatchMetrics } from './cloudwatch.ts';
import { Ec2Instances } from './ec2.ts';
import { EventBridgeFindings } from './eventbridge.ts';
import { SqsShardQueue } from './sqs.ts';
import { SsmInstances } from './ssm.ts';

/**
 * The adapters of a scanning function, built once per cold start. The CloudWatch client makes a single
 * attempt per call: its adapter paces and retries on the runtime clock, and two retry loops would
 * multiply each other.
 */
export function scanAdapters(config: ScanConfig) {
  const cloudwatch = new CloudWatchMetrics(new CloudWatchClient({ maxAttempts: 1 }), {
    clock: runtimeClock,
    getMetricDataLimits: config.metricsLimits,
  });
  return {
    instances: new Ec2Instances(new EC2Client({}), { clock: runtimeClock }),
    managed: new SsmInstances(new SSMClient({}), { clock: runtimeClock }),
    catalog: cloudwatch,
    metrics: cloudwatch,
    alarmTags: cloudwatch,
    publisher: new EventBridgeFindings(new EventBridgeClient({}), {
      busName: config.findingsBusName,
      clock: runtimeClock,
    }),
  };
}

/** The shard queue of fleet-scan. */
export function shardQueue(config: FleetScanConfig): SqsShardQueue {
  return new SqsShardQueue(new SQSClient({}), { queueUrl: config.shardQueueUrl, clock: runtimeClock });
}
