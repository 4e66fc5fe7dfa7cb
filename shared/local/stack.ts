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
import { DynamoDbLedger } from '#aws/dynamodb-ledger.ts';
import { CrawlguardError } from '#core/errors.ts';
import type { RemediationMode } from '#core/remediation/types.ts';
import { RecordingPipelineMetrics } from '#shared/metrics.ts';
import type { PipelineMetrics } from '#shared/ports.ts';
import type { PublishedEvent } from '#shared/sim/aws/eventbridge.ts';
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
  /** Called with every event a function is invoked with, before it runs (the sample events are recorded so). */
  readonly onInvoke?: (name: FunctionName, event: unknown) => void;
}

export interface LocalStack {
  readonly fleet: SimulatedFleet;
  /** The fleet's clients, with DynamoDB pointed at the local server. */
  readonly clients: AwsClients;
  readonly workflows: LocalStepFunctions;
  readonly tableName: string;
  /** The ledger on the local table, read as an operator (or a test) reads it. */
  readonly ledger: DynamoDbLedger;
  /** The environment a function gets in this stack. */
  environment(name: FunctionName): Record<string, string>;
  /** Invokes a function as Lambda would (one execution environment per function and stack). */
  invoke(name: FunctionName, event: unknown): Promise<Invocation<unknown>>;
  /**
   * Delivers what the bus accepted since the last call to the rules' targets, as EventBridge would: each
   * `crawlguard.finding` to the remediate function (one invocation each, in order). Given `entries`,
   * delivers those instead (once more: EventBridge delivers at least once) and leaves the position alone.
   */
  deliverFindings(entries?: readonly PublishedEvent[]): Promise<Invocation<unknown>[]>;
  /**
   * Makes the next `times` invocations of a function time out after doing their work (the result is
   * lost): what a deadline mid-way does to a step that Step Functions then retries.
   */
  timeOutNext(name: FunctionName, times: number): void;
  /**
   * Deploys again with these environment values on top of the current ones (an operator changing a
   * stack parameter): every function gets a fresh execution environment.
   */
  redeploy(parameters: Readonly<Record<string, string>>): void;
  /**
   * One scheduled scan at the clock's time (advanced to `at` first when given): fleet-scan queues its
   * shards, scan-worker drains them two messages a batch. Resolves with the findings it published.
   */
  scan(runId: string, at?: number): Promise<PublishedEvent[]>;
  /** Invocations that timed out because of {@link LocalStack.timeOutNext}. */
  readonly timedOut: number;
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
  let parameters: Record<string, string> = { ...options.parameters };
  // The template is read once per stack, as a deploy would: parsing it per invocation costs 100 ms.
  const settingsCache = new Map<FunctionName, ReturnType<typeof functionSettings>>();
  const settingsOf = (name: FunctionName) => {
    if (!settingsCache.has(name)) settingsCache.set(name, functionSettings(template, name));
    return settingsCache.get(name);
  };
  const environment = (name: FunctionName): Record<string, string> => {
    const settings = settingsOf(name);
    if (settings === undefined) throw new Error(`template.yaml has no function ${name}`);
    return { ...settings.environment, ...fromStack, ...parameters };
  };
  const handlers = new Map<FunctionName, ReturnType<(typeof FUNCTIONS)[FunctionName]>>();
  const timeouts = new Map<FunctionName, number>();
  let timedOut = 0;
  const invoke = async (name: FunctionName, event: unknown): Promise<Invocation<unknown>> => {
    options.onInvoke?.(name, event);
    const invocation = await invokeOnce(name, event);
    const left = timeouts.get(name) ?? 0;
    if (left <= 0) return invocation;
    timeouts.set(name, left - 1);
    timedOut += 1;
    return { outcome: 'timed-out', durationMs: invocation.durationMs };
  };
  const invokeOnce = (name: FunctionName, event: unknown): Promise<Invocation<unknown>> => {
    const settings = settingsOf(name);
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
  const deliverFindings = async (entries?: readonly PublishedEvent[]): Promise<Invocation<unknown>[]> => {
    const fresh = entries ?? fleet.published.slice(delivered);
    const first = delivered;
    if (entries === undefined) delivered = fleet.published.length;
    const results: Invocation<unknown>[] = [];
    for (const [index, entry] of fresh.entries()) {
      if (entry.source !== 'crawlguard' || entry.detailType !== 'crawlguard.finding') continue;
      // The envelope EventBridge wraps around a PutEvents entry.
      const envelope = {
        version: '0',
        // A re-delivery carries the event's original id, as EventBridge's does.
        id: eventId(entries === undefined ? first + index : fleet.published.indexOf(entry)),
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
  let queuedSeen = 0;
  const scan = async (runId: string, at?: number): Promise<PublishedEvent[]> => {
    if (at !== undefined && fleet.clock.now() < at) fleet.clock.advance(at - fleet.clock.now());
    const before = fleet.published.length;
    const run = await invoke('fleet-scan', {
      crawlguard: 'fleet-scan',
      schemaVersion: 1,
      scheduledTime: new Date(fleet.clock.now()).toISOString(),
      executionId: runId,
    });
    if (run.outcome !== 'returned') throw new LocalScanError(`fleet-scan ${runId}: ${run.outcome}`);
    const queued = fleet.queued.slice(queuedSeen);
    queuedSeen = fleet.queued.length;
    for (let i = 0; i < queued.length; i += 2) {
      const worker = await invoke('scan-worker', fleet.sqsEvent(queued.slice(i, i + 2)));
      if (worker.outcome !== 'returned') throw new LocalScanError(`scan-worker ${runId}: ${worker.outcome}`);
    }
    return fleet.published.slice(before).filter((p) => p.detailType === 'crawlguard.finding');
  };
  return {
    fleet,
    clients,
    scan,
    workflows,
    tableName: dynamo.tableName,
    ledger: new DynamoDbLedger(clients.dynamodb, { tableName: dynamo.tableName, clock: fleet.clock }),
    environment,
    invoke,
    deliverFindings,
    redeploy: (changed) => {
      parameters = { ...parameters, ...changed };
      handlers.clear();
      // The mode is a definition substitution: the workflow is deployed again with it.
      if (changed.REMEDIATION_MODE !== undefined) workflows.redeploy({ Mode: changed.REMEDIATION_MODE });
    },
    timeOutNext: (name, times) => timeouts.set(name, (timeouts.get(name) ?? 0) + times),
    get timedOut() {
      return timedOut;
    },
    close: async () => {
      await workflows.idle();
      fleet.restore();
      await dynamo.close();
    },
  };
}

/** A scan on the local stack did not complete (a function threw or timed out). */
export class LocalScanError extends CrawlguardError {
  override readonly name = 'LocalScanError';
}

/** A UUID-shaped, deterministic event id. */
function eventId(n: number): string {
  return `00000000-0000-4000-8000-${n.toString(16).padStart(12, '0')}`;
}
