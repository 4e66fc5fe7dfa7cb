import type { Clock } from '#shared/clock.ts';
import type { GatePorts, RemediationPorts } from '#shared/ports.ts';
import type { AwsClients } from './clients.ts';
import { DynamoDbLedger } from './dynamodb-ledger.ts';
import { SsmDocuments } from './ssm.ts';
import { StepFunctionsWorkflows } from './stepfunctions.ts';
import { discoveryPorts } from './wiring.ts';

/** The clients of the remediation functions. */
export type RemediationClients = Pick<AwsClients, 'ec2' | 'ssm' | 'dynamodb'>;

/** The workflow-step function's ports. */
export function remediationPorts(
  clients: RemediationClients,
  config: { readonly ledgerTableName: string },
  clock: Clock,
): RemediationPorts {
  return {
    ...discoveryPorts(clients, clock),
    ledger: new DynamoDbLedger(clients.dynamodb, { tableName: config.ledgerTableName, clock }),
    documents: new SsmDocuments(clients.ssm, { clock }),
  };
}

/** The gate's ports. */
export function gatePorts(
  clients: RemediationClients & Pick<AwsClients, 'sfn'>,
  config: { readonly ledgerTableName: string; readonly stateMachineArn: string },
  clock: Clock,
): GatePorts {
  return {
    ...discoveryPorts(clients, clock),
    ledger: new DynamoDbLedger(clients.dynamodb, { tableName: config.ledgerTableName, clock }),
    workflows: new StepFunctionsWorkflows(clients.sfn, { stateMachineArn: config.stateMachineArn, clock }),
  };
}
