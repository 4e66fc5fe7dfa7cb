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

// One attempt per SDK call: the adapters pace and retry on the runtime clock, and two retry loops would
// multiply each other (6 × 3 attempts).
const SINGLE_ATTEMPT = { maxAttempts: 1 };

/** The adapters of a scanning function, built once per cold start. */
export function scanAdapters(config: ScanConfig) {
  const cloudwatch = new CloudWatchMetrics(new CloudWatchClient(SINGLE_ATTEMPT), {
    clock: runtimeClock,
    getMetricDataLimits: config.metricsLimits,
  });
  return {
    instances: new Ec2Instances(new EC2Client(SINGLE_ATTEMPT), { clock: runtimeClock }),
    managed: new SsmInstances(new SSMClient(SINGLE_ATTEMPT), { clock: runtimeClock }),
    catalog: cloudwatch,
    metrics: cloudwatch,
    alarmTags: cloudwatch,
    publisher: new EventBridgeFindings(new EventBridgeClient(SINGLE_ATTEMPT), {
      busName: config.findingsBusName,
      clock: runtimeClock,
    }),
  };
}

/** The shard queue of fleet-scan. */
export function shardQueue(config: FleetScanConfig): SqsShardQueue {
  return new SqsShardQueue(new SQSClient(SINGLE_ATTEMPT), {
    queueUrl: config.shardQueueUrl,
    clock: runtimeClock,
  });
}
