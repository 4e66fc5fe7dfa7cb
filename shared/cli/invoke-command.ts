import { randomUUID } from 'node:crypto';
import { existsSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Context } from 'aws-lambda';
import { CrawlguardError } from '#core/errors.ts';
import {
  type DryRun,
  installAwsDryRun,
  type WithheldRequest,
  withholdInstanceChanges,
} from '#shared/sim/dry-run.ts';
import { installSimulatedFleet, type SimulatedFleet } from '#shared/sim/fleet.ts';
import { type FunctionSettings, functionSettings } from '#shared/tooling/function-settings.ts';
import { parseCommandLine, UsageError } from './command-line.ts';

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
  readonly functionName: string;
  readonly eventFile: string;
  readonly aws: boolean;
  readonly envFile: string | undefined;
  readonly instances: number;
  readonly seed: number;
  readonly logLevel: string | undefined;
}

type Handler = (event: unknown, context: Context) => Promise<unknown>;
let freshImports = 0;

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
  const withheld: WithheldRequest[] = [];
  const print = (line: string): void => io.stderr(`${line}\n`);
  let fleet: SimulatedFleet | undefined;
  let dryRun: DryRun | undefined;
  let environment: Record<string, string>;
  let context: Context;
  if (options.aws) {
    dryRun = installAwsDryRun(print);
    environment = { ...settings.environment, ...fromEnvFile };
    context = awsContext(options.functionName, settings);
  } else {
    fleet = installSimulatedFleet({ instances: options.instances, seed: options.seed });
    withholdInstanceChanges(fleet.mocks.ssm, withheld, print);
    environment = { ...settings.environment, ...fleet.environment };
    context = fleet.lambdaContext(options.functionName, settings.timeoutSeconds * 1000);
  }
  if (options.logLevel !== undefined) environment.POWERTOOLS_LOG_LEVEL = options.logLevel;
  const restoreEnvironment = applyEnvironment(environment, options.aws && options.logLevel === undefined);
  // Lambda's logs are the handler's stdout; here stdout carries only the result.
  const stdoutWrite = process.stdout.write;
  process.stdout.write = process.stderr.write.bind(process.stderr) as typeof process.stdout.write;
  try {
    const handler = await importHandler(root, options.functionName);
    const result = await handler(event, context);
    process.stdout.write = stdoutWrite;
    io.stdout(`${JSON.stringify(result, null, 2)}\n`);
    if (fleet !== undefined) print(summary(fleet, withheld));
    return report(0, fleet, [...withheld, ...(dryRun?.withheld ?? [])], result);
  } catch (error) {
    process.stdout.write = stdoutWrite;
    const outcome = fail(io, 1, error, options.functionName);
    return { ...outcome, ...report(1, fleet, [...withheld, ...(dryRun?.withheld ?? [])]) };
  } finally {
    process.stdout.write = stdoutWrite;
    restoreEnvironment();
    fleet?.restore();
    dryRun?.restore();
  }
}

function parseOptions(argv: readonly string[], root: string): Options | 'help' {
  const { values, positionals } = parse(argv);
  if (values.help) return 'help';
  const known = functionNames(root);
  const [functionName, eventFile, ...extra] = positionals;
  if (functionName === undefined || eventFile === undefined || extra.length > 0) {
    throw new UsageError(`expected <function> <event-file>; functions: ${known.join(', ')}`);
  }
  if (!known.includes(functionName)) {
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
  };
}

function parse(argv: readonly string[]) {
  return parseCommandLine(argv, {
    aws: { type: 'boolean' },
    'env-file': { type: 'string' },
    instances: { type: 'string' },
    seed: { type: 'string' },
    'log-level': { type: 'string' },
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

const LOG_LEVELS = ['DEBUG', 'INFO', 'WARN', 'ERROR', 'SILENT'];

function logLevel(text: string | undefined): string | undefined {
  if (text === undefined) return undefined;
  if (!LOG_LEVELS.includes(text.toUpperCase())) {
    throw new UsageError(`--log-level must be one of ${LOG_LEVELS.join(', ')}, got '${text.slice(0, 20)}'`);
  }
  return text.toUpperCase();
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

/** Sets the function's environment; in --aws mode what the shell already set wins. Returns the undo. */
function applyEnvironment(variables: Record<string, string>, shellWins: boolean): () => void {
  const previous = new Map<string, string | undefined>();
  for (const [key, value] of Object.entries(variables)) {
    if (shellWins && process.env[key] !== undefined) continue;
    previous.set(key, process.env[key]);
    process.env[key] = value;
  }
  return () => {
    for (const [key, value] of previous) {
      if (value === undefined) delete process.env[key];
      else process.env[key] = value;
    }
  };
}

/** A fresh module instance per invocation, as a new execution environment would load it. */
async function importHandler(root: string, name: string): Promise<Handler> {
  const url = pathToFileURL(join(root, 'functions', name, 'handler.ts'));
  freshImports += 1;
  url.search = `invoke=${freshImports}`;
  const module = (await import(/* @vite-ignore */ url.href)) as { handler?: unknown };
  if (typeof module.handler !== 'function')
    throw new UsageError(`functions/${name}/handler.ts exports no handler`);
  return module.handler as Handler;
}

function awsContext(name: string, settings: FunctionSettings): Context {
  const deadline = Date.now() + settings.timeoutSeconds * 1000;
  const region = process.env.AWS_REGION ?? process.env.AWS_DEFAULT_REGION ?? 'us-east-1';
  const requestId = randomUUID();
  return {
    callbackWaitsForEmptyEventLoop: true,
    functionName: `crawlguard-${name}`,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:${region}:000000000000:function:crawlguard-${name}`,
    memoryLimitInMB: String(settings.memorySizeMb),
    awsRequestId: requestId,
    logGroupName: `/aws/lambda/crawlguard-${name}`,
    logStreamName: `local/[$LATEST]${requestId.replace(/-/g, '')}`,
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
}

function summary(fleet: SimulatedFleet, withheld: readonly WithheldRequest[]): string {
  const byCommand = new Map<string, number>();
  for (const request of fleet.requests)
    byCommand.set(request.command, (byCommand.get(request.command) ?? 0) + 1);
  const calls = [...byCommand].map(([command, count]) => `${command} ×${count}`).join(', ');
  return (
    `simulated fleet of ${fleet.instances.length} instances: ${fleet.requests.length} requests` +
    (calls === '' ? '' : ` (${calls})`) +
    `; ${fleet.published.length} finding(s) published, ${fleet.queued.length} shard message(s) queued` +
    `; ${withheld.length} request(s) withheld by the dry run`
  );
}

function report(
  exitCode: 0 | 1,
  fleet: SimulatedFleet | undefined,
  withheld: readonly WithheldRequest[],
  result?: unknown,
): InvokeReport {
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
    withheld,
  };
}

/** One line naming the problem; a stack only for what is not a known crawlguard error, and only on request. */
function fail(io: InvokeIo, exitCode: 1 | 2, error: unknown, functionName?: string): InvokeReport {
  const known = error instanceof CrawlguardError;
  const message = error instanceof Error ? error.message : String(error);
  const firstLine = message.split('\n')[0] ?? '';
  const prefix = functionName === undefined ? 'invoke' : `invoke: ${functionName}`;
  io.stderr(`${prefix}: ${known ? firstLine : `${(error as Error)?.name ?? 'Error'}: ${firstLine}`}\n`);
  if (!known && process.env.CRAWLGUARD_DEBUG === '1' && error instanceof Error) io.stderr(`${error.stack}\n`);
  return { exitCode, withheld: [] };
}
