import type { Clock } from '#shared/clock.ts';
import type { GatePorts, RemediationPorts } from '#shared/ports.ts';
import type { AwsClients } from './clients.ts';
import { CloudWatchMetrics } from './cloudwatch.ts';
import { DynamoDbLedger } from './dynamodb-ledger.ts';
import { EventBridgeFindings } from './eventbridge.ts';
import { SnsNotifier } from './sns.ts';
import { SsmDocuments } from './ssm.ts';
import { StepFunctionsWorkflows } from './stepfunctions.ts';
import { discoveryPorts } from './wiring.ts';

/** The clients of the remediation functions. */
export type RemediationClients = Pick<AwsClients, 'ec2' | 'ssm' | 'dynamodb' | 'sns'>;
/** The workflow-step function's clients: verification reads CloudWatch and publishes on the bus. */
export type WorkflowStepClients = RemediationClients & Pick<AwsClients, 'cloudwatch' | 'eventbridge'>;

// Verification reads one instance at a time: a small share of the account's GetMetricData quota.
const VERIFY_METRICS_LIMITS = { requestsPerSecond: 5, datapointsPerSecond: 20_000 };

/** The workflow-step function's ports. */
export function remediationPorts(
  clients: WorkflowStepClients,
  config: {
    readonly ledgerTableName: string;
    readonly findingsBusName: string;
    readonly notifyTopicArn: string;
  },
  clock: Clock,
): RemediationPorts {
  const cloudwatch = new CloudWatchMetrics(clients.cloudwatch, {
    clock,
    getMetricDataLimits: VERIFY_METRICS_LIMITS,
  });
  return {
    ...discoveryPorts(clients, clock),
    ledger: new DynamoDbLedger(clients.dynamodb, { tableName: config.ledgerTableName, clock }),
    documents: new SsmDocuments(clients.ssm, { clock }),
    catalog: cloudwatch,
    metrics: cloudwatch,
    verdicts: new EventBridgeFindings(clients.eventbridge, { busName: config.findingsBusName, clock }),
    notifier: new SnsNotifier(clients.sns, { topicArn: config.notifyTopicArn, clock }),
  };
}

/** The gate's ports. */
export function gatePorts(
  clients: RemediationClients & Pick<AwsClients, 'sfn'>,
  config: {
    readonly ledgerTableName: string;
    readonly stateMachineArn: string;
    readonly notifyTopicArn: string;
  },
  clock: Clock,
): GatePorts {
  return {
    ...discoveryPorts(clients, clock),
    ledger: new DynamoDbLedger(clients.dynamodb, { tableName: config.ledgerTableName, clock }),
    workflows: new StepFunctionsWorkflows(clients.sfn, { stateMachineArn: config.stateMachineArn, clock }),
    notifier: new SnsNotifier(clients.sns, { topicArn: config.notifyTopicArn, clock }),
  };
}
