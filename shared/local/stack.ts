/**
 * The whole stack, locally: the simulated account (EC2, SSM with Run Command, CloudWatch, EventBridge,
 * SQS), a real DynamoDB-protocol server (dynalite) holding the ledger, and the real state machine
 * definitions run by the local Step Functions runner, whose `lambda:invoke` tasks reach the functions'
 * own handlers through the Lambda emulator. Every function is built with `createHandler` from the
 * environment the template gives it plus what only a deployed stack knows (table name, ARNs).
 */
import { resolve } from 'node:path';
import type { Logger } from '@aws-lambda-powertools/logger';
import type { AwsClients } from '#aws/clients.ts';
import type { RemediationMode } from '#core/remediation/types.ts';
import { RecordingPipelineMetrics } from '#shared/metrics.ts';
import type { PipelineMetrics } from '#shared/ports.ts';
import { simulateStepFunctions } from '#shared/sim/aws/stepfunctions.ts';
import {
  createSimulatedFleet,
  SIMULATED_ACCOUNT,
  SIMULATED_REGION,
  type SimulatedFleet,
  type SimulatedFleetOptions,
} from '#shared/sim/fleet.ts';
import { functionSettings } from '#shared/tooling/function-settings.ts';
import { startLocalDynamoDb } from './dynamodb.ts';
import { FUNCTIONS, type FunctionName } from './functions.ts';
import { type Invocation, invokeLambda } from './lambda.ts';
import { silentLogger } from './logger.ts';
import {
  LocalStepFunctions,
  type LocalStepFunctionsOptions,
  STATE_MACHINES,
  type StateMachineName,
} from './stepfunctions.ts';

export const PROJECT_ROOT = resolve(import.meta.dirname, '../..');
/** The stack name the local resources are named after (`sam deploy`'s default in samconfig.toml). */
export const LOCAL_STACK_NAME = 'crawlguard';

export interface LocalStackOptions extends SimulatedFleetOptions {
  /** The RemediationMode stack parameter (default: the template's, dry-run). */
  readonly mode?: RemediationMode;
  /** Where every function logs (default: nowhere). */
  readonly logger?: Logger;
  /** Where every function's pipeline metrics go (default: a recorder nobody reads). */
  readonly pipelineMetrics?: PipelineMetrics;
  /** Variables overriding the template's for every function (the parameters a deploy would set). */
  readonly parameters?: Readonly<Record<string, string>>;
  readonly onExecutionEvent?: LocalStepFunctionsOptions['onEvent'];
}

export interface LocalStack {
  readonly fleet: SimulatedFleet;
  /** The fleet's clients, with DynamoDB pointed at the local server. */
  readonly clients: AwsClients;
  readonly workflows: LocalStepFunctions;
  readonly tableName: string;
  /** The environment a function gets in this stack. */
  environment(name: FunctionName): Record<string, string>;
  /** Invokes a function as Lambda would (one execution environment per function and stack). */
  invoke(name: FunctionName, event: unknown): Promise<Invocation<unknown>>;
  /**
   * Delivers what the bus accepted since the last call to the rules' targets, as EventBridge would: each
   * `crawlguard.finding` to the remediate function (one invocation each, in order).
   */
  deliverFindings(): Promise<Invocation<unknown>[]>;
  /** Stops what this stack started: the local DynamoDB server and the fleet's mocks. */
  close(): Promise<void>;
}

/** Starts the local stack. Close it when done. */
export async function startLocalStack(options: LocalStackOptions = {}): Promise<LocalStack> {
  const fleet = createSimulatedFleet(options);
  const dynamo = await startLocalDynamoDb({ clock: fleet.clock });
  const clients: AwsClients = { ...fleet.clients, dynamodb: dynamo.client };
  const logger = options.logger ?? silentLogger();
  const pipelineMetrics = options.pipelineMetrics ?? new RecordingPipelineMetrics();
  const template = resolve(PROJECT_ROOT, 'template.yaml');
  const lambdaArn = (name: FunctionName) =>
    `arn:aws:lambda:${SIMULATED_REGION}:${SIMULATED_ACCOUNT}:function:${LOCAL_STACK_NAME}-${name}`;
  const stateMachineArn = (name: StateMachineName) =>
    `arn:aws:states:${SIMULATED_REGION}:${SIMULATED_ACCOUNT}:stateMachine:${LOCAL_STACK_NAME}-${name}`;
  // What `!Ref`/`!GetAtt` of the stack's resources give the functions once deployed.
  const fromStack: Record<string, string> = {
    ...fleet.environment,
    LEDGER_TABLE_NAME: dynamo.tableName,
    STATE_MACHINE_ARN: stateMachineArn('remediation'),
    DIAGNOSE_DOCUMENT: `${LOCAL_STACK_NAME}-diagnose`,
    PATCH_DOCUMENT: `${LOCAL_STACK_NAME}-patch-updatedb-conf`,
    RESTART_DOCUMENT: `${LOCAL_STACK_NAME}-restart-s3fs`,
    ...(options.mode === undefined ? {} : { REMEDIATION_MODE: options.mode }),
  };
  const environment = (name: FunctionName): Record<string, string> => {
    const settings = functionSettings(template, name);
    if (settings === undefined) throw new Error(`template.yaml has no function ${name}`);
    return { ...settings.environment, ...fromStack, ...options.parameters };
  };
  const handlers = new Map<FunctionName, ReturnType<(typeof FUNCTIONS)[FunctionName]>>();
  const invoke = (name: FunctionName, event: unknown): Promise<Invocation<unknown>> => {
    const settings = functionSettings(template, name);
    if (settings === undefined) throw new Error(`template.yaml has no function ${name}`);
    let handler = handlers.get(name);
    if (handler === undefined) {
      handler = FUNCTIONS[name](environment(name), { clients, clock: fleet.clock, logger, pipelineMetrics });
      handlers.set(name, handler);
    }
    return invokeLambda(handler, event, {
      functionName: name,
      timeoutSeconds: settings.timeoutSeconds,
      memorySizeMb: settings.memorySizeMb,
      region: SIMULATED_REGION,
      accountId: SIMULATED_ACCOUNT,
      clock: fleet.clock,
    });
  };
  const workflows = new LocalStepFunctions({
    root: PROJECT_ROOT,
    region: SIMULATED_REGION,
    accountId: SIMULATED_ACCOUNT,
    substitutions: {
      Mode: environment('remediate').REMEDIATION_MODE ?? 'dry-run',
      WorkflowStepFunctionArn: lambdaArn('workflow-step'),
      RunCommandStateMachineArn: stateMachineArn('runCommand'),
      CommandLogGroupName: `/crawlguard/${LOCAL_STACK_NAME}/commands`,
    },
    lambdas: { [lambdaArn('workflow-step')]: (payload) => invoke('workflow-step', payload) },
    ssm: clients.ssm,
    clock: fleet.clock,
    ...(options.onExecutionEvent === undefined ? {} : { onEvent: options.onExecutionEvent }),
  });
  simulateStepFunctions(
    fleet.aws,
    fleet.mocks.sfn,
    workflows,
    Object.keys(STATE_MACHINES) as StateMachineName[],
  );
  let delivered = 0;
  const deliverFindings = async (): Promise<Invocation<unknown>[]> => {
    const fresh = fleet.published.slice(delivered);
    const first = delivered;
    delivered = fleet.published.length;
    const results: Invocation<unknown>[] = [];
    for (const [index, entry] of fresh.entries()) {
      if (entry.source !== 'crawlguard' || entry.detailType !== 'crawlguard.finding') continue;
      // The envelope EventBridge wraps around a PutEvents entry.
      const envelope = {
        version: '0',
        id: eventId(first + index),
        'detail-type': entry.detailType,
        source: entry.source,
        account: SIMULATED_ACCOUNT,
        time: new Date(entry.at).toISOString().replace(/\.\d{3}Z$/, 'Z'),
        region: SIMULATED_REGION,
        resources: entry.resources,
        detail: entry.detail,
      };
      results.push(await invoke('remediate', envelope));
    }
    return results;
  };
  return {
    fleet,
    clients,
    workflows,
    tableName: dynamo.tableName,
    environment,
    invoke,
    deliverFindings,
    close: async () => {
      await workflows.idle();
      fleet.restore();
      await dynamo.close();
    },
  };
}

/** A UUID-shaped, deterministic event id. */
function eventId(n: number): string {
  return `00000000-0000-4000-8000-${n.toString(16).padStart(12, '0')}`;
}
