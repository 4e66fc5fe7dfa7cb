import { existsSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { AwsClients } from '#aws/clients.ts';
import { CrawlguardError } from '#core/errors.ts';
import { escapeControl } from '#core/text.ts';
import { systemClock } from '#shared/clock.ts';
import { FUNCTIONS, type FunctionName, isFunctionName } from '#shared/local/functions.ts';
import { type Invocation, invokeLambda } from '#shared/local/lambda.ts';
import { LOG_LEVELS, LocalLogger, type LogLevel } from '#shared/local/logger.ts';
import { startLocalStack } from '#shared/local/stack.ts';
import { EmfPipelineMetrics, RecordingPipelineMetrics } from '#shared/metrics.ts';
import type { HandlerRuntime } from '#shared/runtime.ts';
import { awsDryRun, type WithheldRequest, withholdInstanceChanges } from '#shared/sim/dry-run.ts';
import { SIMULATED_ACCOUNT, SIMULATED_REGION, type SimulatedFleet } from '#shared/sim/fleet.ts';
import { type FunctionSettings, functionSettings } from '#shared/tooling/function-settings.ts';
import { parseCommandLine, UsageError } from './command-line.ts';

/** Lambda takes at most 6 MB of payload (synchronous invocation); no event file is read beyond it. */
export const MAX_EVENT_BYTES = 6 * 1024 * 1024;

export const PROJECT_ROOT = resolve(import.meta.dirname, '../..');

export const USAGE = `usage: npm run --silent invoke -- <function> <event-file> [--aws] [options]

  <function>        a folder under functions/ (fleet-scan, scan-worker, alarm-triage, ...)
  <event-file>      a JSON event, e.g. one of events/<function>/*.json
  --aws             use real AWS (default credential chain) instead of the embedded simulated fleet
  --env-file FILE   environment for --aws, in sam local's --env-vars format: {"<LogicalId>": {...}} or
                    {"Parameters": {...}}; variables already set in the shell win
  --instances N     size of the simulated fleet (default 40, plus the well-known instances the samples name)
  --seed N          seed of the simulated fleet (default 1)
  --log-level L     the handler's log level: DEBUG, INFO, WARN, ERROR or SILENT (default: the template's)
  --account ID      the account the function runs in (its context's ARN); default: the simulated fleet's,
                    or with --aws the credentials' account (STS GetCallerIdentity)

The handler runs as Lambda runs it: same middleware, a context with the template's timeout as deadline.
Its result is printed as JSON on stdout; logs go to stderr. Nothing that would change an instance is
sent: SSM Run Command (and, with --aws, findings and shard messages) is printed as the request it would
be, and answered locally.
exit codes: 0 the handler returned, 1 it threw (bad event, configuration, failure), 2 bad arguments`;

export interface InvokeIo {
  readFile(path: string): string;
  stdout(text: string): void;
  stderr(text: string): void;
}

/** What an invocation did: for the exit code, and for tests that check what was (not) sent. */
export interface InvokeReport {
  readonly exitCode: 0 | 1 | 2;
  readonly result?: unknown;
  /** The simulated fleet's record (embedded default only), read before it was removed. */
  readonly simulation?: Pick<SimulatedFleet, 'requests' | 'published' | 'queued'>;
  readonly withheld: readonly WithheldRequest[];
}

/** The event file cannot be used: unreadable or not JSON. */
class EventFileError extends CrawlguardError {
  override readonly name = 'EventFileError';
}

interface Options {
  readonly functionName: FunctionName;
  readonly eventFile: string;
  readonly aws: boolean;
  readonly envFile: string | undefined;
  readonly instances: number;
  readonly seed: number;
  readonly logLevel: LogLevel | undefined;
  readonly account: string | undefined;
}

/** Runs one handler with one event, as Lambda would; every expected problem is one line on stderr. */
export async function runInvoke(
  argv: readonly string[],
  io: InvokeIo,
  root = PROJECT_ROOT,
): Promise<InvokeReport> {
  let options: Options | 'help';
  let settings: FunctionSettings;
  let event: unknown;
  try {
    options = parseOptions(argv, root);
    if (options === 'help') {
      io.stdout(`${USAGE}\n`);
      return { exitCode: 0, withheld: [] };
    }
    settings = settingsOf(root, options.functionName);
  } catch (error) {
    return fail(io, 2, error);
  }
  let fromEnvFile: Record<string, string>;
  try {
    fromEnvFile = options.aws ? envFileVariables(io, options.envFile, settings.logicalId) : {};
  } catch (error) {
    return fail(io, 2, error);
  }
  try {
    event = readEvent(io, options.eventFile);
  } catch (error) {
    return fail(io, 1, error, options.functionName);
  }
  // Logs and dry-run lines carry text from the event: escaped before they reach a terminal.
  const print = (line: string): void => io.stderr(`${escapeControl(line)}\n`);
  const name = options.functionName;
  const logLevel = options.logLevel ?? logLevelOf(settings.environment.POWERTOOLS_LOG_LEVEL);
  const logger = new LocalLogger(print, logLevel);
  let target: Target | undefined;
  let invocation: Invocation<unknown>;
  try {
    target = options.aws
      ? awsTarget(settings, options, fromEnvFile, print)
      : await localTarget(name, options, print);
    // Building the handler reads its configuration: a missing variable fails here, as at a cold start.
    // Metrics as EMF lines among the logs, as Lambda would print them (none when logs are silenced).
    const pipelineMetrics =
      logLevel === 'SILENT' ? new RecordingPipelineMetrics() : new EmfPipelineMetrics(print, logger);
    const handler = FUNCTIONS[name](target.environment, { ...target.runtime, logger, pipelineMetrics });
    invocation = await invokeLambda(handler, event, {
      functionName: name,
      timeoutSeconds: settings.timeoutSeconds,
      memorySizeMb: settings.memorySizeMb,
      region: target.region,
      accountId: await target.accountId(),
      clock: target.runtime.clock,
    });
  } catch (error) {
    return { ...fail(io, 1, error, name), ...report(1, target) };
  } finally {
    await target?.close();
  }
  if (invocation.outcome === 'returned') {
    io.stdout(`${JSON.stringify(invocation.result, null, 2)}\n`);
    if (target.fleet !== undefined) print(summary(target.fleet, target.withheld, target.executions ?? 0));
    return report(0, target, invocation.result);
  }
  const error =
    invocation.outcome === 'threw'
      ? invocation.error
      : new CrawlguardError(`task timed out after ${settings.timeoutSeconds} seconds`);
  return { ...fail(io, 1, error, name), ...report(1, target) };
}

/** Where a handler runs: its environment variables, clients and clock, and the account it runs in. */
interface Target {
  readonly environment: Record<string, string>;
  readonly runtime: Omit<HandlerRuntime<AwsClients>, 'logger' | 'pipelineMetrics'>;
  readonly region: string;
  /** Resolved once the handler is built: a configuration error comes first. */
  readonly accountId: () => Promise<string>;
  readonly withheld: readonly WithheldRequest[];
  readonly fleet?: SimulatedFleet;
  /** Remediation executions the invocation started (the embedded default runs them to their end). */
  readonly executions?: number;
  /** Stops what the target started. */
  close(): Promise<void>;
}

/**
 * The embedded default: the local stack (the simulated fleet, the ledger on an in-process DynamoDB, the
 * workflows on the local Step Functions runner), with SSM Run Command withheld.
 */
async function localTarget(
  name: FunctionName,
  options: Options,
  print: (line: string) => void,
): Promise<Target> {
  const stack = await startLocalStack({ instances: options.instances, seed: options.seed });
  const withheld: WithheldRequest[] = [];
  withholdInstanceChanges(stack.fleet.mocks.ssm, withheld, print);
  const target: Target = {
    environment: stack.environment(name),
    runtime: { clients: stack.clients, clock: stack.fleet.clock },
    region: SIMULATED_REGION,
    accountId: async () => options.account ?? SIMULATED_ACCOUNT,
    withheld,
    fleet: stack.fleet,
    get executions() {
      return stack.workflows.executions.filter((execution) => execution.stateMachine === 'remediation')
        .length;
    },
    close: () => stack.close(),
  };
  return target;
}

/** Real AWS through the default credential chain, with every changing request withheld. */
function awsTarget(
  settings: FunctionSettings,
  options: Options,
  fromEnvFile: Record<string, string>,
  print: (line: string) => void,
): Target {
  const dryRun = awsDryRun(print);
  // What the shell already set wins, as with sam local's --env-vars.
  const environment = { ...settings.environment, ...fromEnvFile, ...shellEnvironment(settings) };
  return {
    environment,
    runtime: { clients: dryRun.clients, clock: systemClock },
    region: environment.AWS_REGION ?? environment.AWS_DEFAULT_REGION ?? 'us-east-1',
    accountId: async () => options.account ?? (await dryRun.accountId()),
    withheld: dryRun.withheld,
    close: async () => undefined,
  };
}

/** The shell's values of the variables the function reads. */
function shellEnvironment(settings: FunctionSettings): Record<string, string> {
  const names = [
    ...Object.keys(settings.environment),
    ...settings.fromStack,
    'AWS_REGION',
    'AWS_DEFAULT_REGION',
  ];
  return Object.fromEntries(
    names.flatMap((name) => {
      const value = process.env[name];
      return value === undefined ? [] : [[name, value]];
    }),
  );
}

function logLevelOf(value: string | undefined): LogLevel {
  const upper = value?.toUpperCase();
  return LOG_LEVELS.find((level) => level === upper) ?? 'INFO';
}

function parseOptions(argv: readonly string[], root: string): Options | 'help' {
  const { values, positionals } = parse(argv);
  if (values.help) return 'help';
  const known = functionNames(root);
  const [functionName, eventFile, ...extra] = positionals;
  if (functionName === undefined || eventFile === undefined || extra.length > 0) {
    throw new UsageError(`expected <function> <event-file>; functions: ${known.join(', ')}`);
  }
  if (!known.includes(functionName) || !isFunctionName(functionName)) {
    throw new UsageError(`unknown function '${functionName.slice(0, 60)}'; functions: ${known.join(', ')}`);
  }
  return {
    functionName,
    eventFile,
    aws: values.aws ?? false,
    envFile: values['env-file'],
    instances: wholeNumber('--instances', values.instances ?? '40', 0, 100_000),
    seed: wholeNumber('--seed', values.seed ?? '1', 0, 2 ** 31 - 1),
    logLevel: logLevel(values['log-level']),
    account: accountId(values.account),
  };
}

function parse(argv: readonly string[]) {
  return parseCommandLine(argv, {
    aws: { type: 'boolean' },
    'env-file': { type: 'string' },
    instances: { type: 'string' },
    seed: { type: 'string' },
    'log-level': { type: 'string' },
    account: { type: 'string' },
    help: { type: 'boolean', short: 'h' },
  });
}

/** Folder names under functions/ that hold a handler: the only names accepted (no paths). */
function functionNames(root: string): string[] {
  return readdirSync(join(root, 'functions'), { withFileTypes: true })
    .filter((entry) => entry.isDirectory() && existsSync(join(root, 'functions', entry.name, 'handler.ts')))
    .map((entry) => entry.name)
    .sort();
}

function settingsOf(root: string, name: string): FunctionSettings {
  const settings = functionSettings(join(root, 'template.yaml'), name);
  if (settings === undefined)
    throw new UsageError(`template.yaml declares no function with handler functions/${name}/handler.handler`);
  return settings;
}

function logLevel(text: string | undefined): LogLevel | undefined {
  if (text === undefined) return undefined;
  const level = LOG_LEVELS.find((candidate) => candidate === text.toUpperCase());
  if (level === undefined) {
    throw new UsageError(`--log-level must be one of ${LOG_LEVELS.join(', ')}, got '${text.slice(0, 20)}'`);
  }
  return level;
}

function accountId(text: string | undefined): string | undefined {
  if (text === undefined || /^\d{12}$/.test(text)) return text;
  throw new UsageError(`--account must be a 12-digit AWS account id, got '${text.slice(0, 20)}'`);
}

function wholeNumber(name: string, text: string, min: number, max: number): number {
  const value = Number(text);
  if (!/^\d+$/.test(text) || value < min || value > max) {
    throw new UsageError(`${name} must be a whole number from ${min} to ${max}, got '${text.slice(0, 40)}'`);
  }
  return value;
}

function readEvent(io: InvokeIo, file: string): unknown {
  let text: string;
  try {
    text = io.readFile(file);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
    throw new EventFileError(`cannot read the event file ${file} (${code})`, { cause: error });
  }
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new EventFileError(`the event file ${file} is not JSON (${(error as Error).message})`, {
      cause: error,
    });
  }
}

/** SAM's --env-vars file: variables for every function under "Parameters", then under the logical id. */
function envFileVariables(io: InvokeIo, file: string | undefined, logicalId: string): Record<string, string> {
  if (file === undefined) return {};
  let document: unknown;
  try {
    document = JSON.parse(io.readFile(file));
  } catch (error) {
    throw new UsageError(`cannot use --env-file ${file}: ${(error as Error).message}`, { cause: error });
  }
  const section = (name: string): Record<string, string> => {
    const value = (document as Record<string, unknown> | null)?.[name];
    if (value === undefined) return {};
    if (
      typeof value !== 'object' ||
      value === null ||
      Object.values(value).some((v) => typeof v !== 'string')
    ) {
      throw new UsageError(`--env-file ${file}: "${name}" must map variable names to strings`);
    }
    return value as Record<string, string>;
  };
  return { ...section('Parameters'), ...section(logicalId) };
}

function summary(fleet: SimulatedFleet, withheld: readonly WithheldRequest[], executions: number): string {
  const byCommand = new Map<string, number>();
  for (const request of fleet.requests)
    byCommand.set(request.command, (byCommand.get(request.command) ?? 0) + 1);
  const calls = [...byCommand].map(([command, count]) => `${command} ×${count}`).join(', ');
  return (
    `simulated fleet of ${fleet.instances.length} instances: ${fleet.requests.length} requests` +
    (calls === '' ? '' : ` (${calls})`) +
    `; ${fleet.published.length} finding(s) published, ${fleet.queued.length} shard message(s) queued` +
    (executions === 0 ? '' : `; ${executions} remediation execution(s) run locally`) +
    `; ${withheld.length} request(s) withheld by the dry run`
  );
}

function report(exitCode: 0 | 1, target: Target | undefined, result?: unknown): InvokeReport {
  const fleet = target?.fleet;
  return {
    exitCode,
    ...(result === undefined ? {} : { result }),
    ...(fleet === undefined
      ? {}
      : {
          simulation: {
            requests: [...fleet.requests],
            published: [...fleet.published],
            queued: [...fleet.queued],
          },
        }),
    withheld: [...(target?.withheld ?? [])],
  };
}

/** One line naming the problem; a stack only for what is not a known crawlguard error, and only on request. */
function fail(io: InvokeIo, exitCode: 1 | 2, error: unknown, functionName?: string): InvokeReport {
  const known = error instanceof CrawlguardError;
  const message = error instanceof Error ? error.message : String(error);
  const firstLine = escapeControl(message.split('\n')[0] ?? '');
  const prefix = functionName === undefined ? 'invoke' : `invoke: ${functionName}`;
  io.stderr(`${prefix}: ${known ? firstLine : `${(error as Error)?.name ?? 'Error'}: ${firstLine}`}\n`);
  if (!known && process.env.CRAWLGUARD_DEBUG === '1' && error instanceof Error) io.stderr(`${error.stack}\n`);
  return { exitCode, withheld: [] };
}
