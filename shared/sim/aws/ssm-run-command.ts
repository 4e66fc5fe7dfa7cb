/**
 * SSM Run Command on the simulated fleet: SendCommand, GetCommandInvocation, ListCommands, CancelCommand
 * and DescribeDocument for the stack's three documents, answered on the shared core (request log,
 * quotas, `fleet.inject`) with the real API's limits and errors (the SDK's own exception classes).
 *
 * Each invocation moves over simulated time as the service moves it: unknown to GetCommandInvocation for
 * the first moment (`InvocationDoesNotExist`), Pending, Delayed while the instance is down, InProgress
 * while the script runs, then Success or Failed (ResponseCode: the script's exit code; stdout: its JSON,
 * cut at 24,000 characters), TimedOut (`DeliveryTimedOut` when it never reached the instance before the
 * command expired, `ExecutionTimedOut` when the script outlived its step's `timeoutSeconds`),
 * Cancelling then Cancelled after CancelCommand, or (injected) Undeliverable and Terminated. The script
 * runs on the instance's {@link SimHost} (ssm-run-command-scripts.ts) and its changes land on the host at
 * the instant they happen: a patched host stops being crawled from its next scheduled run, a remounted
 * s3fs starts again from its base RSS, a restart killed between its umount and its mount leaves the mount
 * missing. Nothing happens by itself: every call (and every metric read of a host) first settles what
 * the elapsed simulated time has done.
 */
import {
  CancelCommandCommand,
  type CancelCommandCommandInput,
  type Command,
  DescribeDocumentCommand,
  type DescribeDocumentCommandInput,
  DuplicateInstanceId,
  GetCommandInvocationCommand,
  type GetCommandInvocationCommandInput,
  type GetCommandInvocationCommandOutput,
  InvalidCommandId,
  InvalidDocument,
  InvalidDocumentVersion,
  InvalidFilterKey,
  InvalidInstanceId,
  InvalidNextToken,
  InvalidParameters,
  InvalidPluginName,
  InvocationDoesNotExist,
  ListCommandsCommand,
  type ListCommandsCommandInput,
  SendCommandCommand,
  type SendCommandCommandInput,
  SSMServiceException,
  ThrottlingException,
} from '@aws-sdk/client-ssm';
import type { SsmDocumentName } from '#shared/ssm/build.ts';
import { mix } from '../fleet-model.ts';
import type { SimHost } from '../host.ts';
import type { SimulatedInstances } from '../instances.ts';
import { type Random, seededRandom } from '../random.ts';
import { type ClientMock, opaqueId, paginate, type SimulatedAws, serviceError } from './core.ts';
import {
  type DocumentVersion,
  publishVersion,
  resolveVersion,
  type SimDocument,
  stackDocuments,
} from './ssm-run-command-documents.ts';
import { runScript, type ScriptRun } from './ssm-run-command-scripts.ts';

/** Limits of the API (SendCommand and Command reference). */
export const RUN_COMMAND_LIMITS = {
  maxInstanceIds: 50,
  maxCommentLength: 100,
  minTimeoutSeconds: 30,
  maxTimeoutSeconds: 2_592_000,
  stdoutChars: 24_000,
  stderrChars: 8_000,
  listCommandsMaxResults: 50,
} as const;

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

export type InvocationStatus =
  | 'Pending'
  | 'Delayed'
  | 'InProgress'
  | 'Success'
  | 'Failed'
  | 'TimedOut'
  | 'Cancelling'
  | 'Cancelled';

/** How an injected fault ends the invocations it matches. */
export type RunCommandFaultOutcome =
  /** Never delivered: Failed, StatusDetails Undeliverable, within a minute. */
  | 'Undeliverable'
  /** Never delivered: TimedOut, DeliveryTimedOut, when the command expires. */
  | 'DeliveryTimedOut'
  /**
   * Delivered; the script hangs at its start until its step's timeout: TimedOut, ExecutionTimedOut,
   * ResponseCode 137, nothing changed (with `leavesUnmounted`, a restart hangs after its umount: an outage).
   */
  | 'ExecutionTimedOut'
  /** The script dies half-way (segfault): Failed, ResponseCode 139, stdout a cut JSON; no change made. */
  | 'FailedGarbage'
  /** Someone else cancels it before it runs: Cancelling, then Cancelled, ResponseCode -1. */
  | 'Cancelled'
  /** Cancelled by the system before delivery (the parent command hit MaxErrors): Failed, Terminated. */
  | 'Terminated'
  /** InvocationDoesNotExist for much longer than usual, then normal. */
  | 'SlowToAppear';

/** Makes the next `times` invocations matching `instanceId` and `document` end as `outcome`. */
export interface RunCommandFault {
  readonly outcome: RunCommandFaultOutcome;
  readonly instanceId?: string;
  /** The document's full (`crawlguard-diagnose`) or short (`diagnose`) name. */
  readonly document?: string;
  times: number;
  /** SlowToAppear: how long the invocation stays unknown (default 45 s). */
  readonly invisibleMs?: number;
  /** ExecutionTimedOut on restart-s3fs: hang after the umount instead of at the start (the mount stays missing). */
  readonly leavesUnmounted?: boolean;
}

/** A fault that hit an invocation, and when a caller first saw its effect. */
export interface InjectedRunCommandFault {
  readonly outcome: RunCommandFaultOutcome;
  readonly commandId: string;
  readonly instanceId: string;
  readonly document: string;
  readonly at: number;
  /** When GetCommandInvocation or ListCommands first returned the fault's status (or, for SlowToAppear, InvocationDoesNotExist past the usual delay); null: nobody looked. */
  observedAt: number | null;
}

/** What a command sent to CloudWatch Logs (CloudWatchOutputConfig), in full. */
export interface CloudWatchOutputRecord {
  readonly logGroup: string;
  readonly logStream: string;
  readonly at: number;
  readonly text: string;
}

interface Transition {
  readonly at: number;
  readonly status: InvocationStatus;
  readonly details: string;
}

/** One instance's copy of a command. */
export interface SimInvocation {
  readonly command: SimCommand;
  readonly instanceId: string;
  readonly host: SimHost;
  /** Seeds the invocation's random timings. */
  readonly seed: number;
  readonly visibleAt: number;
  readonly fault: RunCommandFault | null;
  /** Status changes so far, in order. */
  readonly history: Transition[];
  startedAt: number | null;
  endedAt: number | null;
  responseCode: number;
  stdout: string;
  stderr: string;
  /** The script's run, once delivered. */
  run: ScriptRun | null;
  /** When the agent killed the script (cancel, timeout): its later changes never happen. */
  killedAt: number | null;
  cancelRequestedAt: number | null;
  /** Changes the script made to the host, in order. */
  readonly applied: string[];
}

/** A command as sent. */
export interface SimCommand {
  readonly commandId: string;
  readonly document: SimDocument;
  /** As requested (`$DEFAULT` when none was given). */
  readonly documentVersion: string;
  readonly version: DocumentVersion;
  readonly comment: string;
  readonly parameters: Readonly<Record<string, string[]>>;
  /** With the document's defaults filled in. */
  readonly resolved: Readonly<Record<string, string>>;
  readonly requestedAt: number;
  readonly timeoutSeconds: number;
  readonly expiresAt: number;
  readonly maxConcurrency: string;
  readonly maxErrors: string;
  readonly cloudWatchOutputConfig:
    | { CloudWatchLogGroupName?: string; CloudWatchOutputEnabled?: boolean }
    | undefined;
  readonly invocations: SimInvocation[];
}

export interface RunCommandSimulator {
  readonly documents: readonly SimDocument[];
  /** Every command accepted, oldest first. */
  readonly commands: readonly SimCommand[];
  readonly faultLog: readonly InjectedRunCommandFault[];
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

const INSTANCE_ID = /(^i-(\w{8}|\w{17})$)|(^mi-\w{17}$)/;
const DOCUMENT_NAME = /^[a-zA-Z0-9_\-.:/]{3,128}$/;
const DOCUMENT_VERSION = /^([$]LATEST|[$]DEFAULT|[1-9][0-9]*)$/;
const MAX_CONCURRENCY = /^([1-9][0-9]*|[1-9][0-9]%|[1-9]%|100%)$/;
const MAX_ERRORS = /^([1-9][0-9]*|[0]|[1-9][0-9]%|[0-9]%|100%)$/;
const LOG_GROUP = /^[.\-_/#A-Za-z0-9]{1,512}$/;
const FILTER_KEYS = ['InvokedAfter', 'InvokedBefore', 'Status', 'ExecutionStage', 'DocumentName'];
const LIST_STATUSES = [
  'Pending',
  'InProgress',
  'Success',
  'Cancelled',
  'Failed',
  'TimedOut',
  'AccessDenied',
  'DeliveryTimedOut',
  'ExecutionTimedOut',
  'Incomplete',
  'NoInstancesInTag',
  'LimitExceeded',
];
const TERMINAL: ReadonlySet<InvocationStatus> = new Set(['Success', 'Failed', 'TimedOut', 'Cancelled']);
// The agent's exit code for a script it stopped (timeout, cancel): 128 + SIGKILL.
const STOPPED_PREEMPTIVELY = 137;
const DELIVERY_RETRY_MS = 30_000;

/** One of the SDK's SSM exceptions, as the SDK builds it from a 400 response. */
const exception = <E extends Error>(Exception: new (options: never) => E, message: string): E =>
  new (Exception as unknown as new (options: object) => E)({ $metadata: { httpStatusCode: 400 }, message });
const validation = (message: string) =>
  serviceError(SSMServiceException, 'ValidationException', `1 validation error detected: ${message}`);
/** A request the simulation cannot answer (not an AWS error: a test set-up to fix). */
const notSimulated = (message: string) => Object.assign(new Error(message), { name: 'NotSimulated' });

interface QueuedEvent {
  readonly at: number;
  readonly seq: number;
  readonly run: () => void;
}

/** Registers Run Command on the fleet's SSM client mock. */
export function simulateRunCommand(
  aws: SimulatedAws,
  mock: ClientMock,
  options: RunCommandOptions,
): RunCommandSimulator {
  const documents = stackDocuments(options.stackName, aws.clock.now() - 30 * 86_400_000);
  const commands: SimCommand[] = [];
  const byId = new Map<string, SimCommand>();
  const faults: RunCommandFault[] = [];
  const faultLog: InjectedRunCommandFault[] = [];
  const faultOf = new Map<SimInvocation, InjectedRunCommandFault>();
  const cloudWatchLogs: CloudWatchOutputRecord[] = [];
  const queue: QueuedEvent[] = [];
  // Invocations whose script runs now (the patch's lock is held while one of them runs).
  const running = new Set<SimInvocation>();
  let seq = 0;
  let serial = 0;
  const throttle = () => exception(ThrottlingException, 'Rate exceeded');

  const schedule = (at: number, run: () => void): void => {
    const event = { at, seq: seq++, run };
    let low = 0;
    let high = queue.length;
    while (low < high) {
      const mid = (low + high) >>> 1;
      const other = queue[mid] as QueuedEvent;
      if (other.at < at || (other.at === at && other.seq < event.seq)) low = mid + 1;
      else high = mid;
    }
    queue.splice(low, 0, event);
  };
  const settle = (nowMs: number = aws.clock.now()): void => {
    while (queue.length > 0 && (queue[0] as QueuedEvent).at <= nowMs) (queue.shift() as QueuedEvent).run();
  };

  const findDocument = (name: string | undefined): SimDocument | undefined =>
    documents.find((d) => d.name === name);

  // --- an invocation's life ---------------------------------------------------------------------------

  const move = (invocation: SimInvocation, at: number, status: InvocationStatus, details: string): void => {
    invocation.history.push({ at, status, details });
  };
  const statusAt = (invocation: SimInvocation, t: number): Transition => {
    let current = invocation.history[0] as Transition;
    for (const transition of invocation.history) if (transition.at <= t) current = transition;
    return current;
  };
  const isTerminal = (invocation: SimInvocation): boolean =>
    TERMINAL.has((invocation.history.at(-1) as Transition).status);

  const finish = (
    invocation: SimInvocation,
    at: number,
    status: InvocationStatus,
    details: string,
    result: { responseCode: number; stdout?: string; stderr?: string },
  ): void => {
    if (isTerminal(invocation)) return;
    invocation.endedAt = invocation.startedAt === null ? null : at;
    invocation.responseCode = result.responseCode;
    invocation.stdout = result.stdout ?? '';
    invocation.stderr = result.stderr ?? '';
    move(invocation, at, status, details);
    const config = invocation.command.cloudWatchOutputConfig;
    if (config?.CloudWatchOutputEnabled === true && invocation.startedAt !== null) {
      const logGroup = config.CloudWatchLogGroupName ?? `/aws/ssm/${invocation.command.document.name}`;
      const stream = `${invocation.command.commandId}/${invocation.instanceId}/${invocation.command.document.stepName}`;
      if (invocation.stdout !== '')
        cloudWatchLogs.push({ logGroup, logStream: `${stream}/stdout`, at, text: invocation.stdout });
      if (invocation.stderr !== '')
        cloudWatchLogs.push({ logGroup, logStream: `${stream}/stderr`, at, text: invocation.stderr });
    }
  };

  const deliver = (invocation: SimInvocation, at: number): void => {
    if (isTerminal(invocation) || invocation.cancelRequestedAt !== null) return;
    const { command, host, fault } = invocation;
    const rng = rngFor(invocation);
    const state = host.stateAt(at);
    if (fault?.outcome === 'Undeliverable' || state === 'terminated' || state === 'shutting-down') {
      const gaveUp = at + rng.uniform(20_000, 60_000);
      schedule(gaveUp, () => finish(invocation, gaveUp, 'Failed', 'Undeliverable', { responseCode: -1 }));
      return;
    }
    if (fault?.outcome === 'Terminated') {
      finish(invocation, at, 'Failed', 'Terminated', { responseCode: -1 });
      return;
    }
    if (fault?.outcome === 'DeliveryTimedOut' || !host.isUp(at)) {
      if (
        fault?.outcome !== 'DeliveryTimedOut' &&
        (invocation.history.at(-1) as Transition).status !== 'Delayed'
      ) {
        move(invocation, at, 'Delayed', 'Delayed');
      }
      const retry = at + DELIVERY_RETRY_MS;
      if (fault?.outcome !== 'DeliveryTimedOut' && retry < command.expiresAt) {
        schedule(retry, () => deliver(invocation, retry));
      } else {
        schedule(command.expiresAt, () =>
          finish(invocation, command.expiresAt, 'TimedOut', 'DeliveryTimedOut', { responseCode: -1 }),
        );
      }
      return;
    }
    move(invocation, at, 'InProgress', 'InProgress');
    const start = at + rng.uniform(50, 300);
    invocation.startedAt = start;
    const lockHeld = [...running.values()].some(
      (other) =>
        other !== invocation &&
        other.host === host &&
        other.command.document.short === 'patch-updatedb-conf' &&
        (other.startedAt ?? Number.POSITIVE_INFINITY) <= start &&
        (other.endedAt ?? Number.POSITIVE_INFINITY) > start &&
        (other.killedAt ?? Number.POSITIVE_INFINITY) > start,
    );
    const run = runScript(command.document.short, {
      host,
      at: start,
      rng,
      parameters: command.resolved,
      patchLockHeld: lockHeld && command.document.short === 'patch-updatedb-conf',
    });
    invocation.run = run;
    running.add(invocation);
    const hangsHere = (host.spec.quirks?.hangs ?? []).includes(command.document.short);
    if (fault?.outcome === 'ExecutionTimedOut' || hangsHere) {
      const end = start + command.document.stepTimeoutSeconds * 1000;
      invocation.endedAt = end;
      // A host's own hang is where its script is fragile (a restart: in mount, after the umount).
      const hangAt = hangsHere || fault?.leavesUnmounted === true ? run.hangAtMs : 0;
      scheduleEffects(invocation, start, hangAt);
      schedule(end, () => {
        invocation.killedAt = end;
        running.delete(invocation);
        finish(invocation, end, 'TimedOut', 'ExecutionTimedOut', {
          responseCode: STOPPED_PREEMPTIVELY,
          stderr: `Command execution timed out after ${command.document.stepTimeoutSeconds} seconds\nfailed to run commands: signal: killed`,
        });
      });
      return;
    }
    if (fault?.outcome === 'FailedGarbage') {
      const end = start + run.durationMs * 0.6;
      invocation.endedAt = end;
      const json = JSON.stringify(run.output);
      schedule(end, () => {
        running.delete(invocation);
        finish(invocation, end, 'Failed', 'Failed', {
          responseCode: 139,
          stdout: `${json.slice(0, Math.floor(json.length * 0.6))}\n`,
          stderr: `bash: line 1: ${host.allocatePid()} Segmentation fault (core dumped) /var/lib/amazon/ssm/${invocation.instanceId}/document/orchestration/${command.commandId}/${command.document.stepName}/_script.sh\nfailed to run commands: exit status 139`,
        });
      });
      return;
    }
    const end = start + run.durationMs;
    invocation.endedAt = end;
    scheduleEffects(invocation, start, Number.POSITIVE_INFINITY);
    schedule(end, () => {
      if (invocation.killedAt !== null && invocation.killedAt <= end) return;
      running.delete(invocation);
      const banner = noisyBanner(host);
      finish(
        invocation,
        end,
        run.exitCode === 0 ? 'Success' : 'Failed',
        run.exitCode === 0 ? 'Success' : 'Failed',
        {
          responseCode: run.exitCode,
          stdout: `${banner}${JSON.stringify(run.output)}\n`,
          stderr: run.exitCode === 0 ? '' : `failed to run commands: exit status ${run.exitCode}`,
        },
      );
    });
  };

  const scheduleEffects = (invocation: SimInvocation, start: number, hangAtMs: number): void => {
    for (const effect of invocation.run?.effects ?? []) {
      if (effect.offsetMs >= hangAtMs) break;
      const at = start + effect.offsetMs;
      schedule(at, () => {
        if (invocation.killedAt !== null && invocation.killedAt <= at) return;
        effect.apply(at);
        invocation.applied.push(effect.label);
      });
    }
  };

  /** CancelCommand reaching one invocation at `at`. */
  const requestCancel = (invocation: SimInvocation, at: number): void => {
    if (isTerminal(invocation) || invocation.cancelRequestedAt !== null) return;
    invocation.cancelRequestedAt = at;
    move(invocation, at, 'Cancelling', 'Cancelling');
    const rng = rngFor(invocation, 7);
    const killAt = at + rng.uniform(500, 2_000);
    schedule(killAt, () => {
      if (isTerminal(invocation)) return;
      // A script that is already running is killed; one that never started is dropped.
      const wasRunning = invocation.startedAt !== null && invocation.startedAt <= killAt;
      invocation.killedAt = killAt;
      running.delete(invocation);
      finish(invocation, killAt, 'Cancelled', 'Cancelled', {
        responseCode: wasRunning ? STOPPED_PREEMPTIVELY : -1,
      });
    });
  };

  // Each invocation draws from its own stream: its timing does not depend on what else is running.
  const rngFor = (invocation: SimInvocation, salt = 0): Random => seededRandom(mix(invocation.seed, salt));

  // --- SendCommand ---------------------------------------------------------------------------------------

  const sendCommand = (input: SendCommandCommandInput) => {
    const now = aws.clock.now();
    settle(now);
    const name = input.DocumentName;
    if (name === undefined || !DOCUMENT_NAME.test(name)) {
      throw validation(
        `Value '${name}' at 'documentName' failed to satisfy constraint: Member must satisfy regular expression pattern: ^[a-zA-Z0-9_\\-.:/]{3,128}$`,
      );
    }
    if (input.Targets !== undefined && input.Targets.length > 0) {
      throw notSimulated('the simulated fleet runs commands by InstanceIds only, not by Targets');
    }
    const ids = input.InstanceIds ?? [];
    if (ids.length === 0)
      throw exception(InvalidParameters, 'Either InstanceIds or Targets must be specified');
    if (ids.length > RUN_COMMAND_LIMITS.maxInstanceIds) {
      throw validation(
        `Value '[${ids.join(', ')}]' at 'instanceIds' failed to satisfy constraint: Member must have length less than or equal to ${RUN_COMMAND_LIMITS.maxInstanceIds}`,
      );
    }
    for (const id of ids) {
      if (!INSTANCE_ID.test(id)) {
        throw validation(
          `Value '${id}' at 'instanceIds' failed to satisfy constraint: Member must satisfy regular expression pattern: (^i-(\\w{8}|\\w{17})$)|(^mi-\\w{17}$)`,
        );
      }
    }
    if (new Set(ids).size !== ids.length)
      throw exception(DuplicateInstanceId, 'Duplicate instance IDs in the request');
    const comment = input.Comment ?? '';
    if (comment.length > RUN_COMMAND_LIMITS.maxCommentLength) {
      throw validation(
        `Value '${comment}' at 'comment' failed to satisfy constraint: Member must have length less than or equal to ${RUN_COMMAND_LIMITS.maxCommentLength}`,
      );
    }
    const timeoutSeconds = input.TimeoutSeconds ?? 3600;
    if (
      !Number.isInteger(timeoutSeconds) ||
      timeoutSeconds < RUN_COMMAND_LIMITS.minTimeoutSeconds ||
      timeoutSeconds > RUN_COMMAND_LIMITS.maxTimeoutSeconds
    ) {
      const bound =
        timeoutSeconds < RUN_COMMAND_LIMITS.minTimeoutSeconds
          ? `greater than or equal to ${RUN_COMMAND_LIMITS.minTimeoutSeconds}`
          : `less than or equal to ${RUN_COMMAND_LIMITS.maxTimeoutSeconds}`;
      throw validation(
        `Value '${timeoutSeconds}' at 'timeoutSeconds' failed to satisfy constraint: Member must have value ${bound}`,
      );
    }
    if (input.DocumentVersion !== undefined && !DOCUMENT_VERSION.test(input.DocumentVersion)) {
      throw validation(
        `Value '${input.DocumentVersion}' at 'documentVersion' failed to satisfy constraint: Member must satisfy regular expression pattern: ([$]LATEST|[$]DEFAULT|^[1-9][0-9]*$)`,
      );
    }
    const maxConcurrency = input.MaxConcurrency ?? '50';
    if (!MAX_CONCURRENCY.test(maxConcurrency)) {
      throw validation(
        `Value '${maxConcurrency}' at 'maxConcurrency' failed to satisfy constraint: Member must satisfy regular expression pattern: ^([1-9][0-9]*|[1-9][0-9]%|[1-9]%|100%)$`,
      );
    }
    const maxErrors = input.MaxErrors ?? '0';
    if (!MAX_ERRORS.test(maxErrors)) {
      throw validation(
        `Value '${maxErrors}' at 'maxErrors' failed to satisfy constraint: Member must satisfy regular expression pattern: ^([1-9][0-9]*|[0]|[1-9][0-9]%|[0-9]%|100%)$`,
      );
    }
    const logGroup = input.CloudWatchOutputConfig?.CloudWatchLogGroupName;
    if (logGroup !== undefined && !LOG_GROUP.test(logGroup)) {
      throw validation(
        `Value '${logGroup}' at 'cloudWatchOutputConfig.cloudWatchLogGroupName' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\.\\-_/#A-Za-z0-9]+`,
      );
    }
    const document = findDocument(name);
    if (document === undefined)
      throw exception(InvalidDocument, `Document ${name} does not exist in your account`);
    const version = resolveVersion(document, input.DocumentVersion);
    if (version === undefined) {
      throw exception(
        InvalidDocumentVersion,
        `Document ${name} does not have version ${input.DocumentVersion}`,
      );
    }
    if (input.DocumentHash !== undefined && input.DocumentHash !== version.hash) {
      throw exception(InvalidDocument, `Document ${name} with hash ${input.DocumentHash} does not exist`);
    }
    const resolved = checkParameters(document, input.Parameters ?? {});
    const hosts: SimHost[] = [];
    for (const id of ids) {
      const instance = options.instances.get(id);
      const state = instance === undefined ? undefined : options.instances.stateOf(instance);
      // Valid states are running, pending, stopping and stopped (SendCommand's InvalidInstanceId).
      if (
        instance === undefined ||
        instance.ssm !== 'Online' ||
        state === 'terminated' ||
        state === 'shutting-down'
      ) {
        throw exception(
          InvalidInstanceId,
          `Instances [[${id}]] not in a valid state for account ${options.accountId}`,
        );
      }
      const host = options.hosts.get(id);
      if (host === undefined) {
        throw notSimulated(
          `${id} has no host model: the simulated fleet runs documents only on the hosts given in options.hosts`,
        );
      }
      hosts.push(host);
    }

    serial += 1;
    const commandId = opaqueId(`run-command ${options.seed}`, serial);
    const command: SimCommand = {
      commandId,
      document,
      documentVersion: input.DocumentVersion ?? '$DEFAULT',
      version,
      comment,
      parameters: Object.fromEntries(Object.entries(input.Parameters ?? {}).map(([k, v]) => [k, [...v]])),
      resolved,
      requestedAt: now,
      timeoutSeconds,
      expiresAt: now + (timeoutSeconds + document.stepTimeoutSeconds) * 1000,
      maxConcurrency,
      maxErrors,
      cloudWatchOutputConfig: input.CloudWatchOutputConfig,
      invocations: [],
    };
    commands.push(command);
    byId.set(commandId, command);
    hosts.forEach((host, index) => {
      const instanceId = ids[index] as string;
      const fault = takeFault(instanceId, document);
      const seed = mix(mix(options.seed, serial), index);
      const rng = seededRandom(mix(seed, 1));
      const visibleAt =
        now + (fault?.outcome === 'SlowToAppear' ? (fault.invisibleMs ?? 45_000) : rng.uniform(300, 1_200));
      const invocation: SimInvocation = {
        command,
        instanceId,
        host,
        seed,
        visibleAt,
        fault,
        history: [{ at: now, status: 'Pending', details: 'Pending' }],
        startedAt: null,
        endedAt: null,
        responseCode: -1,
        stdout: '',
        stderr: '',
        run: null,
        killedAt: null,
        cancelRequestedAt: null,
        applied: [],
      };
      command.invocations.push(invocation);
      if (fault !== null) {
        const record: InjectedRunCommandFault = {
          outcome: fault.outcome,
          commandId,
          instanceId,
          document: document.name,
          at: now,
          observedAt: null,
        };
        faultLog.push(record);
        faultOf.set(invocation, record);
      }
      const deliverAt = visibleAt + rng.uniform(300, 1_500);
      if (fault?.outcome === 'Cancelled') {
        const by = visibleAt + (deliverAt - visibleAt) / 2;
        schedule(by, () => requestCancel(invocation, by));
      }
      schedule(deliverAt, () => deliver(invocation, deliverAt));
    });
    return { Command: describeCommand(command, now), $metadata: {} };
  };

  const takeFault = (instanceId: string, document: SimDocument): RunCommandFault | null => {
    const fault = faults.find(
      (f) =>
        f.times > 0 &&
        (f.instanceId === undefined || f.instanceId === instanceId) &&
        (f.document === undefined || f.document === document.name || f.document === document.short),
    );
    if (fault === undefined) return null;
    fault.times -= 1;
    return fault;
  };

  // --- reads ---------------------------------------------------------------------------------------------

  const observe = (invocation: SimInvocation, t: number, what: 'status' | 'missing'): void => {
    const record = faultOf.get(invocation);
    if (record === undefined || record.observedAt !== null) return;
    const shown =
      what === 'missing'
        ? record.outcome === 'SlowToAppear' && t - invocation.command.requestedAt > 1_500
        : record.outcome !== 'SlowToAppear' &&
          isTerminal(invocation) &&
          (invocation.history.at(-1) as Transition).at <= t;
    if (shown) record.observedAt = t;
  };

  const getCommandInvocation = (
    input: GetCommandInvocationCommandInput,
  ): GetCommandInvocationCommandOutput => {
    const now = aws.clock.now();
    settle(now);
    const commandId = input.CommandId ?? '';
    if (commandId.length !== 36) {
      throw validation(
        `Value '${commandId}' at 'commandId' failed to satisfy constraint: Member must have length ${commandId.length < 36 ? 'greater than or equal to' : 'less than or equal to'} 36`,
      );
    }
    const instanceId = input.InstanceId ?? '';
    if (!INSTANCE_ID.test(instanceId)) {
      throw validation(
        `Value '${instanceId}' at 'instanceId' failed to satisfy constraint: Member must satisfy regular expression pattern: (^i-(\\w{8}|\\w{17})$)|(^mi-\\w{17}$)`,
      );
    }
    const command = byId.get(commandId);
    const invocation = command?.invocations.find((i) => i.instanceId === instanceId);
    if (command === undefined || invocation === undefined || now < invocation.visibleAt) {
      if (invocation !== undefined) observe(invocation, now, 'missing');
      throw exception(
        InvocationDoesNotExist,
        'An error occurred (InvocationDoesNotExist) when calling the GetCommandInvocation operation',
      );
    }
    if (input.PluginName !== undefined && input.PluginName !== command.document.stepName) {
      throw exception(
        InvalidPluginName,
        `Plugin ${input.PluginName} is not a step of ${command.document.name}`,
      );
    }
    observe(invocation, now, 'status');
    const current = statusAt(invocation, now);
    const terminal = TERMINAL.has(current.status);
    const started = invocation.startedAt !== null && invocation.startedAt <= now;
    const ended = terminal && invocation.endedAt !== null;
    return {
      CommandId: commandId,
      InstanceId: instanceId,
      Comment: command.comment,
      DocumentName: command.document.name,
      DocumentVersion: command.documentVersion,
      PluginName: command.document.stepName,
      ResponseCode: terminal ? invocation.responseCode : -1,
      ExecutionStartDateTime: started ? new Date(invocation.startedAt as number).toISOString() : '',
      ExecutionElapsedTime: started
        ? `PT${(((ended ? (invocation.endedAt as number) : now) - (invocation.startedAt as number)) / 1000).toFixed(3)}S`
        : '',
      ExecutionEndDateTime: ended ? new Date(invocation.endedAt as number).toISOString() : '',
      Status: current.status,
      StatusDetails: current.details,
      StandardOutputContent: terminal ? invocation.stdout.slice(0, RUN_COMMAND_LIMITS.stdoutChars) : '',
      StandardOutputUrl: '',
      StandardErrorContent: terminal ? invocation.stderr.slice(0, RUN_COMMAND_LIMITS.stderrChars) : '',
      StandardErrorUrl: '',
      CloudWatchOutputConfig: {
        CloudWatchLogGroupName: command.cloudWatchOutputConfig?.CloudWatchLogGroupName ?? '',
        CloudWatchOutputEnabled: command.cloudWatchOutputConfig?.CloudWatchOutputEnabled ?? false,
      },
      $metadata: {},
    };
  };

  /** A command's aggregate status at `t` (one invocation: its own; Undeliverable counts as Failed). */
  const commandStatus = (command: SimCommand, t: number): { status: Command['Status']; details: string } => {
    const states = command.invocations.map((i) => statusAt(i, t));
    const all = (s: string) => states.every((x) => x.details === s);
    if (states.some((x) => !TERMINAL.has(x.status))) {
      if (states.some((x) => x.status === 'Cancelling'))
        return { status: 'Cancelling', details: 'Cancelling' };
      if (states.some((x) => x.status === 'InProgress' || TERMINAL.has(x.status)))
        return { status: 'InProgress', details: 'InProgress' };
      return { status: 'Pending', details: 'Pending' };
    }
    if (all('Success')) return { status: 'Success', details: 'Success' };
    if (states.some((x) => x.status === 'Cancelled')) return { status: 'Cancelled', details: 'Cancelled' };
    if (all('DeliveryTimedOut')) return { status: 'TimedOut', details: 'DeliveryTimedOut' };
    if (all('ExecutionTimedOut')) return { status: 'TimedOut', details: 'ExecutionTimedOut' };
    const errors = states.filter((x) => x.details === 'Failed' || x.details === 'ExecutionTimedOut').length;
    const limit = maxErrorsOf(command);
    if (errors > limit || states.every((x) => x.status === 'Failed'))
      return { status: 'Failed', details: 'Failed' };
    return { status: 'Success', details: 'Incomplete' };
  };
  const maxErrorsOf = (command: SimCommand): number =>
    command.maxErrors.endsWith('%')
      ? Math.floor((Number(command.maxErrors.slice(0, -1)) / 100) * command.invocations.length)
      : Number(command.maxErrors);

  const describeCommand = (command: SimCommand, t: number): Command => {
    const { status, details } = commandStatus(command, t);
    const states = command.invocations.map((i) => statusAt(i, t));
    return {
      CommandId: command.commandId,
      DocumentName: command.document.name,
      DocumentVersion: command.documentVersion,
      Comment: command.comment,
      ExpiresAfter: new Date(command.expiresAt),
      Parameters: command.parameters,
      InstanceIds: command.invocations.map((i) => i.instanceId),
      Targets: [],
      RequestedDateTime: new Date(command.requestedAt),
      Status: status,
      StatusDetails: details,
      OutputS3Region: '',
      OutputS3BucketName: '',
      OutputS3KeyPrefix: '',
      MaxConcurrency: command.maxConcurrency,
      MaxErrors: command.maxErrors,
      TargetCount: command.invocations.length,
      CompletedCount: states.filter((x) => TERMINAL.has(x.status)).length,
      ErrorCount: states.filter((x) => x.details === 'Failed' || x.details === 'ExecutionTimedOut').length,
      DeliveryTimedOutCount: states.filter((x) => x.details === 'DeliveryTimedOut').length,
      ServiceRole: '',
      NotificationConfig: { NotificationArn: '', NotificationEvents: [], NotificationType: undefined },
      CloudWatchOutputConfig: {
        CloudWatchLogGroupName: command.cloudWatchOutputConfig?.CloudWatchLogGroupName ?? '',
        CloudWatchOutputEnabled: command.cloudWatchOutputConfig?.CloudWatchOutputEnabled ?? false,
      },
      TimeoutSeconds: command.timeoutSeconds,
    };
  };

  const listCommands = (input: ListCommandsCommandInput) => {
    const now = aws.clock.now();
    settle(now);
    const max = input.MaxResults ?? RUN_COMMAND_LIMITS.listCommandsMaxResults;
    if (!Number.isInteger(max) || max < 1 || max > RUN_COMMAND_LIMITS.listCommandsMaxResults) {
      throw validation(
        `Value '${max}' at 'maxResults' failed to satisfy constraint: Member must have value between 1 and ${RUN_COMMAND_LIMITS.listCommandsMaxResults}`,
      );
    }
    if (input.CommandId !== undefined && input.CommandId.length !== 36) {
      throw validation(
        `Value '${input.CommandId}' at 'commandId' failed to satisfy constraint: Member must have length 36`,
      );
    }
    if (input.InstanceId !== undefined && !INSTANCE_ID.test(input.InstanceId)) {
      throw exception(InvalidInstanceId, `Instance ${input.InstanceId} is not valid`);
    }
    const filters = (input.Filters ?? []).map((filter) => {
      const key = filter.key ?? '';
      const value = filter.value ?? '';
      if (!FILTER_KEYS.includes(key)) throw exception(InvalidFilterKey, `Filter key ${key} is not valid`);
      if ((key === 'InvokedAfter' || key === 'InvokedBefore') && Number.isNaN(Date.parse(value))) {
        throw serviceError(
          SSMServiceException,
          'InvalidFilterValue',
          `${value} is not a valid timestamp for ${key}`,
        );
      }
      if (key === 'Status' && !LIST_STATUSES.includes(value)) {
        throw serviceError(SSMServiceException, 'InvalidFilterValue', `${value} is not a valid Status`);
      }
      if (key === 'ExecutionStage' && value !== 'Executing' && value !== 'Complete') {
        throw serviceError(
          SSMServiceException,
          'InvalidFilterValue',
          `${value} is not a valid ExecutionStage`,
        );
      }
      if (key === 'Status' && value === 'Pending' && input.InstanceId !== undefined) {
        throw serviceError(
          SSMServiceException,
          'InvalidFilter',
          'InstanceId cannot be combined with Status = Pending',
        );
      }
      return { key, value };
    });
    let found: SimCommand[];
    if (input.CommandId !== undefined) {
      const command = byId.get(input.CommandId);
      if (command === undefined)
        throw exception(InvalidCommandId, `Command ${input.CommandId} does not exist`);
      found = [command];
    } else {
      found = [...commands].reverse();
    }
    found = found.filter((command) => {
      if (
        input.InstanceId !== undefined &&
        !command.invocations.some((i) => i.instanceId === input.InstanceId)
      )
        return false;
      const { status, details } = commandStatus(command, now);
      return filters.every(({ key, value }) => {
        switch (key) {
          case 'InvokedAfter':
            return command.requestedAt >= Date.parse(value);
          case 'InvokedBefore':
            return command.requestedAt <= Date.parse(value);
          case 'DocumentName':
            return command.document.name === value;
          case 'ExecutionStage':
            return (
              (value === 'Complete') ===
              (status !== 'Pending' && status !== 'InProgress' && status !== 'Cancelling')
            );
          default:
            return status === value || details === value;
        }
      });
    });
    const { page, nextToken } = paginate(found, input.NextToken, max, 'list-commands', () =>
      exception(InvalidNextToken, 'The specified token is not valid.'),
    );
    for (const command of page)
      for (const invocation of command.invocations) observe(invocation, now, 'status');
    return {
      Commands: page.map((command) => describeCommand(command, now)),
      NextToken: nextToken,
      $metadata: {},
    };
  };

  const cancelCommand = (input: CancelCommandCommandInput) => {
    const now = aws.clock.now();
    settle(now);
    const commandId = input.CommandId ?? '';
    if (commandId.length !== 36) {
      throw validation(
        `Value '${commandId}' at 'commandId' failed to satisfy constraint: Member must have length 36`,
      );
    }
    const command = byId.get(commandId);
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
      if (ids.length === 0 || ids.includes(invocation.instanceId)) requestCancel(invocation, now);
    }
    return { $metadata: {} };
  };

  const describeDocument = (input: DescribeDocumentCommandInput) => {
    const document = findDocument(input.Name);
    if (document === undefined)
      throw exception(InvalidDocument, `Document with name ${input.Name} does not exist.`);
    if (input.DocumentVersion !== undefined && !DOCUMENT_VERSION.test(input.DocumentVersion)) {
      throw validation(
        `Value '${input.DocumentVersion}' at 'documentVersion' failed to satisfy constraint: Member must satisfy regular expression pattern: ([$]LATEST|[$]DEFAULT|^[1-9][0-9]*$)`,
      );
    }
    const version = resolveVersion(document, input.DocumentVersion);
    if (version === undefined) {
      throw exception(
        InvalidDocumentVersion,
        `Document ${input.Name} does not have version ${input.DocumentVersion}`,
      );
    }
    return {
      Document: {
        Name: document.name,
        Hash: version.hash,
        HashType: 'Sha256' as const,
        Owner: options.accountId,
        CreatedDate: new Date(version.createdAt),
        Status: 'Active' as const,
        DocumentVersion: version.version,
        Description: document.description,
        Parameters: document.parameters.map((p) => ({
          Name: p.name,
          Type: 'String' as const,
          Description: p.description,
          DefaultValue: p.defaultValue,
        })),
        PlatformTypes: ['Linux' as const],
        DocumentType: 'Command' as const,
        SchemaVersion: '2.2',
        LatestVersion: document.versions.at(-1)?.version,
        DefaultVersion: document.defaultVersion,
        DocumentFormat: 'JSON' as const,
        TargetType: '/AWS::EC2::Instance',
        Tags: [],
      },
      $metadata: {},
    };
  };

  // --- registration ----------------------------------------------------------------------------------------

  const rates = options.rates;
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
    commands,
    faultLog,
    cloudWatchLogs,
    failNext: (fault) => {
      faults.push(fault);
    },
    publishVersion: (short) => {
      const document = documents.find((d) => d.short === short);
      if (document === undefined) throw new RangeError(`no document ${short}`);
      return publishVersion(document, aws.clock.now()).version;
    },
    settle,
    invocation: (commandId, instanceId) =>
      byId.get(commandId)?.invocations.find((i) => i.instanceId === instanceId),
  };
}

/**
 * The document's parameters with defaults filled in.
 * @throws InvalidParameters for an unknown parameter, more than one value, or a value its allowedPattern refuses.
 */
function checkParameters(document: SimDocument, given: Record<string, string[]>): Record<string, string> {
  const resolved: Record<string, string> = {};
  for (const [name, values] of Object.entries(given)) {
    const parameter = document.parameters.find((p) => p.name === name);
    if (parameter === undefined) {
      throw exception(InvalidParameters, `Parameter "${name}" is not defined in document ${document.name}`);
    }
    if (values.length !== 1) {
      throw exception(
        InvalidParameters,
        `Parameter "${name}" of type String takes exactly one value, got ${values.length}`,
      );
    }
    const value = values[0] as string;
    if (!parameter.allowedPattern.test(value)) {
      throw exception(
        InvalidParameters,
        `Parameter "${name}" "${value}" failed to satisfy constraint: Member must satisfy regular expression pattern: ${parameter.allowedPatternSource}`,
      );
    }
    resolved[name] = value;
  }
  for (const parameter of document.parameters) resolved[parameter.name] ??= parameter.defaultValue;
  return resolved;
}

/** What a login script on a noisy host prints before anything else ('' on a quiet host). */
function noisyBanner(host: SimHost): string {
  const noisy = host.spec.quirks?.noisyShell;
  if (typeof noisy === 'string') return noisy;
  if (noisy !== true) return '';
  return `Welcome to ${host.distro.osPrettyName} (GNU/Linux ${host.distro.kernel})\n\n * Support: https://example.com/it-helpdesk\n\n`;
}
