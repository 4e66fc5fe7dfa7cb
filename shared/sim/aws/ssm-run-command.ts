/**
 * SSM Run Command on the simulated fleet: SendCommand, GetCommandInvocation, ListCommands, CancelCommand
 * and DescribeDocument for the stack's three documents, answered on the shared core (request log,
 * quotas, `fleet.inject`) with the real API's limits and errors, as the SDK raises them.
 *
 * Each invocation moves over simulated time as the service moves it (ssm-run-command-invocations.ts):
 * unknown to GetCommandInvocation for the first moment (`InvocationDoesNotExist`), Pending, Delayed while
 * the instance is down, InProgress while the script runs, then Success or Failed (ResponseCode: the
 * script's exit code; stdout: its JSON, cut at 24,000 characters), TimedOut (`DeliveryTimedOut` when it
 * never reached the instance before the command expired, `ExecutionTimedOut` when the script outlived its
 * step's `timeoutSeconds`), Cancelling then Cancelled after CancelCommand, or (injected) Undeliverable and
 * Terminated. The script runs on the instance's SimHost (ssm-run-command-scripts.ts) and its changes
 * land on the host at the instant they happen: a patched host stops being crawled from its next
 * scheduled run, a remounted s3fs starts again from its base RSS, a restart killed between its umount and
 * its mount leaves the mount missing.
 */
import {
  CancelCommandCommand,
  type CancelCommandCommandInput,
  DescribeDocumentCommand,
  type DescribeDocumentCommandInput,
  DuplicateInstanceId,
  GetCommandInvocationCommand,
  type GetCommandInvocationCommandInput,
  InvalidCommandId,
  InvalidInstanceId,
  InvalidNextToken,
  InvalidPluginName,
  InvocationDoesNotExist,
  ListCommandsCommand,
  type ListCommandsCommandInput,
  SendCommandCommand,
  type SendCommandCommandInput,
  ThrottlingException,
} from '@aws-sdk/client-ssm';
import type { SsmDocumentName } from '#shared/ssm/build.ts';
import type { SimHost } from '../host.ts';
import type { SimulatedInstances } from '../instances.ts';
import { type ClientMock, opaqueId, paginate, type SimulatedAws } from './core.ts';
import { publishVersion, type SimDocument, stackDocuments } from './ssm-run-command-documents.ts';
import {
  type CloudWatchOutputRecord,
  type InjectedRunCommandFault,
  InvocationEngine,
  type RunCommandFault,
  type SimCommand,
  type SimInvocation,
} from './ssm-run-command-invocations.ts';
import {
  checkCommandId,
  checkInstanceId,
  checkListFilters,
  checkSend,
  commandView,
  documentView,
  exception,
  findVersion,
  INSTANCE_ID,
  invocationView,
  matchesFilters,
} from './ssm-run-command-requests.ts';

export type {
  CloudWatchOutputRecord,
  InjectedRunCommandFault,
  InvocationStatus,
  InvocationTransition,
  RunCommandFault,
  RunCommandFaultOutcome,
  SimCommand,
  SimInvocation,
} from './ssm-run-command-invocations.ts';
export { RUN_COMMAND_LIMITS } from './ssm-run-command-requests.ts';

/** Calls per second the simulated account allows (SSM does not publish these quotas; assumptions). */
export interface RunCommandRates {
  readonly sendCommandPerSecond: number;
  readonly getCommandInvocationPerSecond: number;
  readonly listCommandsPerSecond: number;
  readonly cancelCommandPerSecond: number;
  readonly describeDocumentPerSecond: number;
}
export const DEFAULT_RUN_COMMAND_RATES: RunCommandRates = {
  sendCommandPerSecond: 10,
  getCommandInvocationPerSecond: 20,
  listCommandsPerSecond: 10,
  cancelCommandPerSecond: 10,
  describeDocumentPerSecond: 10,
};

export interface RunCommandSimulator {
  readonly documents: readonly SimDocument[];
  /** Every command accepted, oldest first. */
  readonly commands: readonly SimCommand[];
  /** Faults that hit an invocation, and when a caller saw them. */
  readonly faultLog: readonly InjectedRunCommandFault[];
  /** What commands with CloudWatchOutputConfig sent to CloudWatch Logs, uncut. */
  readonly cloudWatchLogs: readonly CloudWatchOutputRecord[];
  /** Makes the next matching invocations end in a given way (see {@link RunCommandFault}). */
  failNext(fault: RunCommandFault): void;
  /** Deploys a changed version of a document (it becomes the default); returns its number. */
  publishVersion(document: SsmDocumentName): string;
  /** Applies what simulated time has done up to `nowMs` (default: the clock's now). */
  settle(nowMs?: number): void;
  invocation(commandId: string, instanceId: string): SimInvocation | undefined;
}

export interface RunCommandOptions {
  readonly stackName: string;
  readonly accountId: string;
  readonly seed: number;
  readonly instances: SimulatedInstances;
  readonly hosts: ReadonlyMap<string, SimHost>;
  readonly rates: RunCommandRates;
}

/** Registers Run Command on the fleet's SSM client mock. */
export function simulateRunCommand(
  aws: SimulatedAws,
  mock: ClientMock,
  options: RunCommandOptions,
): RunCommandSimulator {
  const documents = stackDocuments(options.stackName, aws.clock.now() - 30 * 86_400_000);
  const engine = new InvocationEngine(options.seed);
  const now = (): number => {
    const t = aws.clock.now();
    engine.settle(t);
    return t;
  };

  const sendCommand = (input: SendCommandCommandInput) => {
    const t = now();
    const accepted = checkSend(
      input,
      documents,
      (instanceId) => {
        const instance = options.instances.get(instanceId);
        return {
          known: instance !== undefined,
          ssm: instance?.ssm ?? null,
          state: instance === undefined ? undefined : options.instances.stateOf(instance),
          host: options.hosts.get(instanceId),
        };
      },
      options.accountId,
    );
    const command: SimCommand = {
      commandId: opaqueId(`run-command ${options.seed}`, engine.commands.length + 1),
      document: accepted.document,
      documentVersion: input.DocumentVersion ?? '$DEFAULT',
      version: accepted.version,
      comment: accepted.comment,
      parameters: Object.fromEntries(Object.entries(input.Parameters ?? {}).map(([k, v]) => [k, [...v]])),
      resolved: accepted.resolved,
      requestedAt: t,
      timeoutSeconds: accepted.timeoutSeconds,
      expiresAt: t + (accepted.timeoutSeconds + accepted.document.stepTimeoutSeconds) * 1000,
      maxConcurrency: accepted.maxConcurrency,
      maxErrors: accepted.maxErrors,
      cloudWatchOutputConfig: input.CloudWatchOutputConfig,
      invocations: [],
    };
    engine.start(command, accepted.targets);
    return { Command: commandView(command, t, engine), $metadata: {} };
  };

  const getCommandInvocation = (input: GetCommandInvocationCommandInput) => {
    const t = now();
    const commandId = checkCommandId(input.CommandId);
    const instanceId = checkInstanceId(input.InstanceId);
    const invocation = engine.invocation(commandId, instanceId);
    // Right after SendCommand the service does not know the invocation yet.
    if (invocation === undefined || t < invocation.visibleAt) {
      if (invocation !== undefined) engine.observe(invocation, t, 'missing');
      throw exception(
        InvocationDoesNotExist,
        'An error occurred (InvocationDoesNotExist) when calling the GetCommandInvocation operation',
      );
    }
    if (input.PluginName !== undefined && input.PluginName !== invocation.command.document.stepName) {
      throw exception(
        InvalidPluginName,
        `Plugin ${input.PluginName} is not a step of ${invocation.command.document.name}`,
      );
    }
    engine.observe(invocation, t, 'status');
    return invocationView(invocation, t, engine);
  };

  const listCommands = (input: ListCommandsCommandInput) => {
    const t = now();
    if (input.CommandId !== undefined) checkCommandId(input.CommandId);
    if (input.InstanceId !== undefined && !INSTANCE_ID.test(input.InstanceId)) {
      throw exception(InvalidInstanceId, `Instance ${input.InstanceId} is not valid`);
    }
    const { max, filters } = checkListFilters(input.MaxResults, input.Filters, input.InstanceId);
    let found: SimCommand[];
    if (input.CommandId === undefined) {
      found = [...engine.commands].reverse();
    } else {
      const command = engine.command(input.CommandId);
      if (command === undefined)
        throw exception(InvalidCommandId, `Command ${input.CommandId} does not exist`);
      found = [command];
    }
    found = found.filter(
      (command) =>
        (input.InstanceId === undefined ||
          command.invocations.some((i) => i.instanceId === input.InstanceId)) &&
        matchesFilters(command, filters, t, engine),
    );
    const { page, nextToken } = paginate(found, input.NextToken, max, 'list-commands', () =>
      exception(InvalidNextToken, 'The specified token is not valid.'),
    );
    for (const command of page)
      for (const invocation of command.invocations) engine.observe(invocation, t, 'status');
    return {
      Commands: page.map((command) => commandView(command, t, engine)),
      NextToken: nextToken,
      $metadata: {},
    };
  };

  const cancelCommand = (input: CancelCommandCommandInput) => {
    const t = now();
    const commandId = checkCommandId(input.CommandId);
    const command = engine.command(commandId);
    if (command === undefined) throw exception(InvalidCommandId, `Command ${commandId} does not exist`);
    const ids = input.InstanceIds ?? [];
    if (new Set(ids).size !== ids.length)
      throw exception(DuplicateInstanceId, 'Duplicate instance IDs in the request');
    for (const id of ids) {
      if (!command.invocations.some((i) => i.instanceId === id)) {
        throw exception(InvalidInstanceId, `Instance ${id} is not a target of command ${commandId}`);
      }
    }
    // No guarantee that the command stops: a finished invocation keeps its status.
    for (const invocation of command.invocations) {
      if (ids.length === 0 || ids.includes(invocation.instanceId)) engine.cancel(invocation, t);
    }
    return { $metadata: {} };
  };

  const describeDocument = (input: DescribeDocumentCommandInput) => {
    const { document, version } = findVersion(documents, input.Name, input.DocumentVersion);
    return { Document: documentView(document, version, options.accountId), $metadata: {} };
  };

  const throttle = () => exception(ThrottlingException, 'Rate exceeded');
  const { rates } = options;
  aws.limit('SendCommand', rates.sendCommandPerSecond);
  aws.limit('GetCommandInvocation', rates.getCommandInvocationPerSecond);
  aws.limit('ListCommands', rates.listCommandsPerSecond);
  aws.limit('CancelCommand', rates.cancelCommandPerSecond);
  aws.limit('DescribeDocument', rates.describeDocumentPerSecond);
  mock
    .on(SendCommandCommand)
    .callsFake((input: SendCommandCommandInput) =>
      aws.serve('ssm', 'SendCommand', input, () => sendCommand(input), { throttle }),
    );
  mock
    .on(GetCommandInvocationCommand)
    .callsFake((input: GetCommandInvocationCommandInput) =>
      aws.serve('ssm', 'GetCommandInvocation', input, () => getCommandInvocation(input), { throttle }),
    );
  mock
    .on(ListCommandsCommand)
    .callsFake((input: ListCommandsCommandInput) =>
      aws.serve('ssm', 'ListCommands', input, () => listCommands(input), { throttle }),
    );
  mock
    .on(CancelCommandCommand)
    .callsFake((input: CancelCommandCommandInput) =>
      aws.serve('ssm', 'CancelCommand', input, () => cancelCommand(input), { throttle }),
    );
  mock
    .on(DescribeDocumentCommand)
    .callsFake((input: DescribeDocumentCommandInput) =>
      aws.serve('ssm', 'DescribeDocument', input, () => describeDocument(input), { throttle }),
    );

  return {
    documents,
    commands: engine.commands,
    faultLog: engine.faultLog,
    cloudWatchLogs: engine.cloudWatchLogs,
    failNext: (fault) => engine.failNext(fault),
    publishVersion: (short) => {
      const document = documents.find((d) => d.short === short);
      if (document === undefined) throw new RangeError(`no document ${short}`);
      return publishVersion(document, aws.clock.now()).version;
    },
    settle: (nowMs = aws.clock.now()) => engine.settle(nowMs),
    invocation: (commandId, instanceId) => engine.invocation(commandId, instanceId),
  };
}
