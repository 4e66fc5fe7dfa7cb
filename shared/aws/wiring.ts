import type { Clock } from '#shared/clock.ts';
import type { FleetScanConfig, ScanConfig } from '#shared/config.ts';
import type { AlarmTriagePorts, FleetDiscoveryPorts, FleetScanPorts } from '#shared/ports.ts';
import type { AwsClients } from './clients.ts';
import { CloudWatchMetrics } from './cloudwatch.ts';
import { Ec2Instances } from './ec2.ts';
import { EventBridgeFindings } from './eventbridge.ts';
import { SqsShardQueue } from './sqs.ts';
import { SsmInstances } from './ssm.ts';

/** The clients the scanning functions need. */
export type ScanClients = Pick<AwsClients, 'ec2' | 'ssm' | 'cloudwatch' | 'eventbridge'>;

/** Discovery and re-checks of instances: EC2 and SSM. */
export function discoveryPorts(clients: Pick<AwsClients, 'ec2' | 'ssm'>, clock: Clock): FleetDiscoveryPorts {
  return {
    instances: new Ec2Instances(clients.ec2, { clock }),
    managed: new SsmInstances(clients.ssm, { clock }),
  };
}

/** Everything scan-worker and alarm-triage talk to, built once per execution environment. */
export function scanPorts(clients: ScanClients, config: ScanConfig, clock: Clock): AlarmTriagePorts {
  const cloudwatch = new CloudWatchMetrics(clients.cloudwatch, {
    clock,
    getMetricDataLimits: config.metricsLimits,
  });
  return {
    ...discoveryPorts(clients, clock),
    catalog: cloudwatch,
    metrics: cloudwatch,
    alarmTags: cloudwatch,
    publisher: new EventBridgeFindings(clients.eventbridge, { busName: config.findingsBusName, clock }),
  };
}

/** fleet-scan adds the shard queue. */
export function fleetScanPorts(
  clients: ScanClients & Pick<AwsClients, 'sqs'>,
  config: FleetScanConfig,
  clock: Clock,
): FleetScanPorts {
  return {
    ...scanPorts(clients, config, clock),
    queue: new SqsShardQueue(clients.sqs, { queueUrl: config.shardQueueUrl, clock }),
  };
}
