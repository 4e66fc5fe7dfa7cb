/**
 * Run Command's requests and responses as the API has them: the checks SendCommand, GetCommandInvocation,
 * ListCommands, CancelCommand and DescribeDocument make (limits, patterns, the SDK's exception classes),
 * and the shapes they answer with.
 */
import {
  type Command,
  type CommandFilter,
  DuplicateInstanceId,
  type GetCommandInvocationCommandOutput,
  InvalidDocument,
  InvalidDocumentVersion,
  InvalidFilterKey,
  InvalidInstanceId,
  InvalidParameters,
  type SendCommandCommandInput,
  SSMServiceException,
} from '@aws-sdk/client-ssm';
import { serviceError } from './core.ts';
import { type DocumentVersion, resolveVersion, type SimDocument } from './ssm-run-command-documents.ts';
import {
  type InvocationEngine,
  type InvocationTransition,
  type SimCommand,
  type SimInvocation,
  TERMINAL_STATUSES,
} from './ssm-run-command-invocations.ts';

/** Limits of the API (SendCommand, GetCommandInvocation and Command references). */
export const RUN_COMMAND_LIMITS = {
  maxInstanceIds: 50,
  maxCommentLength: 100,
  minTimeoutSeconds: 30,
  maxTimeoutSeconds: 2_592_000,
  stdoutChars: 24_000,
  stderrChars: 8_000,
  listCommandsMaxResults: 50,
} as const;

export const INSTANCE_ID = /(^i-(\w{8}|\w{17})$)|(^mi-\w{17}$)/;
const INSTANCE_ID_SOURCE = '(^i-(\\w{8}|\\w{17})$)|(^mi-\\w{17}$)';
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

/** One of the SDK's SSM exceptions, as the SDK builds it from a 400 response. */
export const exception = <E extends Error>(Exception: new (options: never) => E, message: string): E =>
  new (Exception as unknown as new (options: object) => E)({
    $metadata: { httpStatusCode: 400 },
    message,
    Message: message,
  });
/** The smithy validation error of a member that breaks its constraint. */
export const validation = (member: string, value: unknown, constraint: string) =>
  serviceError(
    SSMServiceException,
    'ValidationException',
    `1 validation error detected: Value '${String(value)}' at '${member}' failed to satisfy constraint: Member must ${constraint}`,
  );
/** A request the simulation cannot answer (not an AWS error: a test set-up to fix). */
export const notSimulated = (message: string) => Object.assign(new Error(message), { name: 'NotSimulated' });

/** An instance as SendCommand sees it: known or not, managed, its state, its host model. */
export interface TargetView {
  readonly known: boolean;
  readonly ssm: string | null;
  readonly state: string | undefined;
  readonly host: SimInvocation['host'] | undefined;
}

/** A SendCommand request that passed every check. */
export interface AcceptedSend {
  readonly document: SimDocument;
  readonly version: DocumentVersion;
  readonly instanceIds: readonly string[];
  readonly targets: readonly { readonly instanceId: string; readonly host: SimInvocation['host'] }[];
  readonly resolved: Record<string, string>;
  readonly comment: string;
  readonly timeoutSeconds: number;
  readonly maxConcurrency: string;
  readonly maxErrors: string;
}

/**
 * SendCommand's checks, in the order the service makes them: the request's members, the document and its
 * version, the parameters against their allowedPattern, then each instance.
 */
export function checkSend(
  input: SendCommandCommandInput,
  documents: readonly SimDocument[],
  target: (instanceId: string) => TargetView,
  accountId: string,
): AcceptedSend {
  const name = input.DocumentName;
  if (name === undefined || !DOCUMENT_NAME.test(name)) {
    throw validation('documentName', name, 'satisfy regular expression pattern: ^[a-zA-Z0-9_\\-.:/]{3,128}$');
  }
  if (input.Targets !== undefined && input.Targets.length > 0) {
    throw notSimulated('the simulated fleet runs commands by InstanceIds only, not by Targets');
  }
  const ids = input.InstanceIds ?? [];
  if (ids.length === 0) throw exception(InvalidParameters, 'Either InstanceIds or Targets must be specified');
  if (ids.length > RUN_COMMAND_LIMITS.maxInstanceIds) {
    throw validation(
      'instanceIds',
      `[${ids.join(', ')}]`,
      `have length less than or equal to ${RUN_COMMAND_LIMITS.maxInstanceIds}`,
    );
  }
  for (const id of ids) {
    if (!INSTANCE_ID.test(id))
      throw validation('instanceIds', id, `satisfy regular expression pattern: ${INSTANCE_ID_SOURCE}`);
  }
  if (new Set(ids).size !== ids.length)
    throw exception(DuplicateInstanceId, 'Duplicate instance IDs in the request');
  const comment = input.Comment ?? '';
  if (comment.length > RUN_COMMAND_LIMITS.maxCommentLength) {
    throw validation(
      'comment',
      comment,
      `have length less than or equal to ${RUN_COMMAND_LIMITS.maxCommentLength}`,
    );
  }
  const timeoutSeconds = input.TimeoutSeconds ?? 3600;
  if (!Number.isInteger(timeoutSeconds) || timeoutSeconds < RUN_COMMAND_LIMITS.minTimeoutSeconds) {
    throw validation(
      'timeoutSeconds',
      timeoutSeconds,
      `have value greater than or equal to ${RUN_COMMAND_LIMITS.minTimeoutSeconds}`,
    );
  }
  if (timeoutSeconds > RUN_COMMAND_LIMITS.maxTimeoutSeconds) {
    throw validation(
      'timeoutSeconds',
      timeoutSeconds,
      `have value less than or equal to ${RUN_COMMAND_LIMITS.maxTimeoutSeconds}`,
    );
  }
  checkVersionPattern(input.DocumentVersion);
  const maxConcurrency = input.MaxConcurrency ?? '50';
  if (!MAX_CONCURRENCY.test(maxConcurrency)) {
    throw validation(
      'maxConcurrency',
      maxConcurrency,
      `satisfy regular expression pattern: ${MAX_CONCURRENCY.source}`,
    );
  }
  const maxErrors = input.MaxErrors ?? '0';
  if (!MAX_ERRORS.test(maxErrors)) {
    throw validation('maxErrors', maxErrors, `satisfy regular expression pattern: ${MAX_ERRORS.source}`);
  }
  const logGroup = input.CloudWatchOutputConfig?.CloudWatchLogGroupName;
  if (logGroup !== undefined && !LOG_GROUP.test(logGroup)) {
    throw validation(
      'cloudWatchOutputConfig.cloudWatchLogGroupName',
      logGroup,
      'satisfy regular expression pattern: [\\.\\-_/#A-Za-z0-9]+',
    );
  }
  const { document, version } = findVersion(documents, name, input.DocumentVersion);
  if (input.DocumentHash !== undefined && input.DocumentHash !== version.hash) {
    throw exception(InvalidDocument, `Document ${name} with hash ${input.DocumentHash} does not exist`);
  }
  const resolved = checkParameters(document, input.Parameters ?? {});
  const targets = ids.map((instanceId) => {
    const view = target(instanceId);
    // Running, pending, stopping and stopped are valid states (SendCommand's InvalidInstanceId).
    if (
      !view.known ||
      view.ssm !== 'Online' ||
      view.state === 'terminated' ||
      view.state === 'shutting-down'
    ) {
      throw exception(
        InvalidInstanceId,
        `Instances [[${instanceId}]] not in a valid state for account ${accountId}`,
      );
    }
    if (view.host === undefined) {
      throw notSimulated(
        `${instanceId} has no host model: the simulated fleet runs documents only on the hosts given in options.hosts`,
      );
    }
    return { instanceId, host: view.host };
  });
  return {
    document,
    version,
    instanceIds: ids,
    targets,
    resolved,
    comment,
    timeoutSeconds,
    maxConcurrency,
    maxErrors,
  };
}

/**
 * The document's parameters with defaults filled in.
 * @throws InvalidParameters for an unknown parameter, more than one value, or a value its allowedPattern refuses.
 */
export function checkParameters(
  document: SimDocument,
  given: Record<string, string[]>,
): Record<string, string> {
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

function checkVersionPattern(version: string | undefined): void {
  if (version !== undefined && !DOCUMENT_VERSION.test(version)) {
    throw validation(
      'documentVersion',
      version,
      'satisfy regular expression pattern: ([$]LATEST|[$]DEFAULT|^[1-9][0-9]*$)',
    );
  }
}

/** A document of the account and one of its versions. @throws InvalidDocument, InvalidDocumentVersion, ValidationException */
export function findVersion(
  documents: readonly SimDocument[],
  name: string | undefined,
  requested: string | undefined,
): { document: SimDocument; version: DocumentVersion } {
  checkVersionPattern(requested);
  const document = documents.find((d) => d.name === name);
  if (document === undefined)
    throw exception(InvalidDocument, `Document ${name} does not exist in your account`);
  const version = resolveVersion(document, requested);
  if (version === undefined) {
    throw exception(InvalidDocumentVersion, `Document ${name} does not have version ${requested}`);
  }
  return { document, version };
}

/** A command id must be 36 characters long. @throws ValidationException */
export function checkCommandId(commandId: string | undefined): string {
  const id = commandId ?? '';
  if (id.length !== 36) throw validation('commandId', id, 'have length 36');
  return id;
}

/** An instance id must look like one. @throws ValidationException */
export function checkInstanceId(instanceId: string | undefined): string {
  const id = instanceId ?? '';
  if (!INSTANCE_ID.test(id))
    throw validation('instanceId', id, `satisfy regular expression pattern: ${INSTANCE_ID_SOURCE}`);
  return id;
}

/** ListCommands' MaxResults and filters. @throws ValidationException, InvalidFilterKey, InvalidFilterValue, InvalidFilter */
export function checkListFilters(
  maxResults: number | undefined,
  filters: readonly CommandFilter[] | undefined,
  instanceId: string | undefined,
): { max: number; filters: { key: string; value: string }[] } {
  const max = maxResults ?? RUN_COMMAND_LIMITS.listCommandsMaxResults;
  if (!Number.isInteger(max) || max < 1 || max > RUN_COMMAND_LIMITS.listCommandsMaxResults) {
    throw validation(
      'maxResults',
      max,
      `have value between 1 and ${RUN_COMMAND_LIMITS.listCommandsMaxResults}`,
    );
  }
  const filterValue = (message: string) => serviceError(SSMServiceException, 'InvalidFilterValue', message);
  return {
    max,
    filters: (filters ?? []).map((filter) => {
      const key = filter.key ?? '';
      const value = filter.value ?? '';
      if (!FILTER_KEYS.includes(key)) throw exception(InvalidFilterKey, `Filter key ${key} is not valid`);
      if ((key === 'InvokedAfter' || key === 'InvokedBefore') && Number.isNaN(Date.parse(value))) {
        throw filterValue(`${value} is not a valid timestamp for ${key}`);
      }
      if (key === 'Status' && !LIST_STATUSES.includes(value))
        throw filterValue(`${value} is not a valid Status`);
      if (key === 'ExecutionStage' && value !== 'Executing' && value !== 'Complete') {
        throw filterValue(`${value} is not a valid ExecutionStage`);
      }
      if (key === 'Status' && value === 'Pending' && instanceId !== undefined) {
        throw serviceError(
          SSMServiceException,
          'InvalidFilter',
          'InstanceId cannot be combined with Status = Pending',
        );
      }
      return { key, value };
    }),
  };
}

/** A command's aggregate status at `t` (one invocation: its own, Undeliverable and Terminated as Failed). */
export function commandStatus(
  command: SimCommand,
  t: number,
  engine: InvocationEngine,
): { status: NonNullable<Command['Status']>; details: string } {
  const states = command.invocations.map((i) => engine.statusAt(i, t));
  const all = (details: string) => states.every((x) => x.details === details);
  if (states.some((x) => !TERMINAL_STATUSES.has(x.status))) {
    if (states.some((x) => x.status === 'Cancelling')) return { status: 'Cancelling', details: 'Cancelling' };
    if (states.some((x) => x.status === 'InProgress' || TERMINAL_STATUSES.has(x.status))) {
      return { status: 'InProgress', details: 'InProgress' };
    }
    return { status: 'Pending', details: 'Pending' };
  }
  if (all('Success')) return { status: 'Success', details: 'Success' };
  if (states.some((x) => x.status === 'Cancelled')) return { status: 'Cancelled', details: 'Cancelled' };
  if (all('DeliveryTimedOut')) return { status: 'TimedOut', details: 'DeliveryTimedOut' };
  if (all('ExecutionTimedOut')) return { status: 'TimedOut', details: 'ExecutionTimedOut' };
  const limit = command.maxErrors.endsWith('%')
    ? Math.floor((Number(command.maxErrors.slice(0, -1)) / 100) * command.invocations.length)
    : Number(command.maxErrors);
  if (errorCount(states) > limit || states.every((x) => x.status === 'Failed')) {
    return { status: 'Failed', details: 'Failed' };
  }
  return { status: 'Success', details: 'Incomplete' };
}

const errorCount = (states: readonly InvocationTransition[]) =>
  states.filter((x) => x.details === 'Failed' || x.details === 'ExecutionTimedOut').length;

/** The `Command` that SendCommand and ListCommands return, as of `t`. */
export function commandView(command: SimCommand, t: number, engine: InvocationEngine): Command {
  const { status, details } = commandStatus(command, t, engine);
  const states = command.invocations.map((i) => engine.statusAt(i, t));
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
    CompletedCount: states.filter((x) => TERMINAL_STATUSES.has(x.status)).length,
    ErrorCount: errorCount(states),
    DeliveryTimedOutCount: states.filter((x) => x.details === 'DeliveryTimedOut').length,
    ServiceRole: '',
    NotificationConfig: { NotificationArn: '', NotificationEvents: [], NotificationType: undefined },
    CloudWatchOutputConfig: cloudWatchView(command),
    TimeoutSeconds: command.timeoutSeconds,
  };
}

/** ListCommands' filters on one command. */
export function matchesFilters(
  command: SimCommand,
  filters: readonly { key: string; value: string }[],
  t: number,
  engine: InvocationEngine,
): boolean {
  const { status, details } = commandStatus(command, t, engine);
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
}

/** GetCommandInvocation's answer for an invocation at `t` (outputs only once it is over, cut to their limits). */
export function invocationView(
  invocation: SimInvocation,
  t: number,
  engine: InvocationEngine,
): GetCommandInvocationCommandOutput {
  const { command } = invocation;
  const current = engine.statusAt(invocation, t);
  const terminal = TERMINAL_STATUSES.has(current.status);
  const startedAt = invocation.startedAt !== null && invocation.startedAt <= t ? invocation.startedAt : null;
  const endedAt = terminal ? invocation.endedAt : null;
  return {
    CommandId: command.commandId,
    InstanceId: invocation.instanceId,
    Comment: command.comment,
    DocumentName: command.document.name,
    DocumentVersion: command.documentVersion,
    PluginName: command.document.stepName,
    ResponseCode: terminal ? invocation.responseCode : -1,
    ExecutionStartDateTime: startedAt === null ? '' : new Date(startedAt).toISOString(),
    ExecutionElapsedTime: startedAt === null ? '' : `PT${(((endedAt ?? t) - startedAt) / 1000).toFixed(3)}S`,
    ExecutionEndDateTime: endedAt === null ? '' : new Date(endedAt).toISOString(),
    Status: current.status,
    StatusDetails: current.details,
    StandardOutputContent: terminal ? invocation.stdout.slice(0, RUN_COMMAND_LIMITS.stdoutChars) : '',
    StandardOutputUrl: '',
    StandardErrorContent: terminal ? invocation.stderr.slice(0, RUN_COMMAND_LIMITS.stderrChars) : '',
    StandardErrorUrl: '',
    CloudWatchOutputConfig: cloudWatchView(command),
    $metadata: {},
  };
}

function cloudWatchView(command: SimCommand) {
  return {
    CloudWatchLogGroupName: command.cloudWatchOutputConfig?.CloudWatchLogGroupName ?? '',
    CloudWatchOutputEnabled: command.cloudWatchOutputConfig?.CloudWatchOutputEnabled ?? false,
  };
}

/** DescribeDocument's `Document`. */
export function documentView(document: SimDocument, version: DocumentVersion, accountId: string) {
  return {
    Name: document.name,
    Hash: version.hash,
    HashType: 'Sha256' as const,
    Owner: accountId,
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
  };
}
