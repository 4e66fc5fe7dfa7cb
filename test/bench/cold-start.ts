/**
 * Cold start and memory of every function as deployed: `npm run build` bundles each one
 * (shared/tooling/build.ts, the template's settings), then a fresh Node process per run loads the bundle
 * with the function's environment from template.yaml (NODE_OPTIONS included) and serves its first
 * invocation of a sample event from events/<function>/. The AWS it talks to is the local stack (the
 * simulated account, dynalite, the local Step Functions) behind {@link startSimulatedEndpoint} on
 * 127.0.0.1: nothing leaves loopback. The child measures itself: `loadMs` is the bundle's import,
 * `initMs` the import plus the first invocation until it returns, `peakRssMiB` its peak RSS.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { AwsClients } from '#aws/clients.ts';
import { type LocalStack, startLocalStack } from '#shared/local/stack.ts';
import { SIMULATED_ACCOUNT, SIMULATED_REGION } from '#shared/sim/fleet.ts';
import { buildAll } from '#shared/tooling/build.ts';
import { functionSettings } from '#shared/tooling/function-settings.ts';
import { startSimulatedEndpoint } from './aws-endpoint.ts';

const ROOT = resolve(import.meta.dirname, '../..');
const TEMPLATE = join(ROOT, 'template.yaml');

/** The sample event each function's first invocation serves. */
export const SAMPLE_EVENTS: Readonly<Record<string, string>> = {
  'fleet-scan': 'events/fleet-scan/scheduler-input.json',
  'scan-worker': 'events/scan-worker/shard.json',
  'alarm-triage': 'events/alarm-triage/crawled-instance.json',
  remediate: 'events/remediate/finding-updatedb-crawl.json',
  'workflow-step': 'events/workflow-step/prepare.json',
};

/** What one child process measured. */
export interface ChildRun {
  readonly loadMs: number;
  /** From the start of the import to the first invocation's return, wall clock. */
  readonly initMs: number;
  /** Epoch milliseconds (timeOrigin + now) of the import's start and the first invocation's return. */
  readonly startEpochMs: number;
  readonly firstDoneEpochMs: number;
  /** The clock's sleeps (node:timers/promises) until the first invocation returned, as epoch intervals. */
  readonly sleeps?: readonly (readonly [number, number])[];
  readonly cpuMs: number;
  /** Bytes the process wrote to stdout and stderr (what Lambda ships to CloudWatch Logs). */
  readonly logBytes: number;
  /** The last 4,000 characters it logged on stdout, to tell why it failed. */
  readonly logTail: string;
  /** A second invocation of the same event in the same process. */
  readonly warmMs?: number;
  readonly peakRssMiB: number;
  /** 'returned', or the error's name and message. */
  readonly outcome: string;
  /** A short account of what the handler returned (its status or outcome field, when it has one). */
  readonly result: string;
}

// Runs in the child: import the bundle, invoke its handler once as Lambda would, report on fd 3. The
// sleeps of node:timers/promises (the clock's: pacing, retry backoff) are recorded as intervals, so that
// the time spent waiting on purpose can be told from the time spent working.
const RUNNER = `
import { readFileSync, writeSync } from 'node:fs';
import { syncBuiltinESMExports } from 'node:module';
import timers from 'node:timers/promises';
const sleeps = [];
const sleep = timers.setTimeout;
timers.setTimeout = async (...args) => {
  const from = performance.timeOrigin + performance.now();
  try { return await sleep(...args); } finally { sleeps.push([from, performance.timeOrigin + performance.now()]); }
};
syncBuiltinESMExports();
const [bundle, eventFile, name, timeoutMs, warm] = process.argv.slice(1);
const eventJson = readFileSync(eventFile, 'utf8');
// The peak RSS of this process image: VmHWM starts afresh at exec, where getrusage's maxRSS keeps the
// forked copy of the parent's (which would floor every figure at the bench's own size).
const peakRssKiB = () => {
  try { return Number(/^VmHWM:\\s*(\\d+) kB$/m.exec(readFileSync('/proc/self/status', 'utf8'))[1]); }
  catch { return process.resourceUsage().maxRSS; }
};
const report = (fields) => writeSync(3, JSON.stringify({ ...fields, cpuMs: (process.cpuUsage().user + process.cpuUsage().system) / 1000, peakRssMiB: peakRssKiB() / 1024 }));
const epoch = (at) => performance.timeOrigin + at;
const start = performance.now();
let handler;
try { ({ handler } = await import(bundle)); }
catch (error) { report({ loadMs: performance.now() - start, initMs: Number.NaN, startEpochMs: epoch(start), firstDoneEpochMs: epoch(performance.now()), outcome: 'init ' + error.name + ': ' + error.message, result: '' }); process.exit(0); }
const loaded = performance.now();
const deadline = Date.now() + Number(timeoutMs);
const context = {
  functionName: name, functionVersion: '$LATEST', memoryLimitInMB: process.env.AWS_LAMBDA_FUNCTION_MEMORY_SIZE,
  invokedFunctionArn: 'arn:aws:lambda:${SIMULATED_REGION}:${SIMULATED_ACCOUNT}:function:' + name,
  awsRequestId: '00000000-0000-4000-8000-000000000001', logGroupName: '/aws/lambda/' + name, logStreamName: 'bench',
  callbackWaitsForEmptyEventLoop: true, getRemainingTimeInMillis: () => deadline - Date.now(),
};
try {
  const result = await handler(JSON.parse(eventJson), context);
  const firstDone = performance.now();
  // The same event again in the same process (warm), unless only the first invocation is measured.
  let warmMs;
  if (warm === 'warm') {
    await handler(JSON.parse(eventJson), { ...context, awsRequestId: '00000000-0000-4000-8000-000000000002' });
    warmMs = performance.now() - firstDone;
  }
  const summary = result === undefined ? '' : String(result.status ?? result.outcome ?? result.action ?? (result.batchItemFailures ? result.batchItemFailures.length + ' failed records' : Object.keys(result).join(',')));
  report({ loadMs: loaded - start, initMs: firstDone - start, startEpochMs: epoch(start), firstDoneEpochMs: epoch(firstDone), sleeps: sleeps.filter(([from]) => from < epoch(firstDone)), warmMs, outcome: 'returned', result: summary });
} catch (error) {
  const failed = performance.now();
  console.error((await import('node:util')).inspect(error, { depth: 4 }));
  report({ loadMs: loaded - start, initMs: failed - start, startEpochMs: epoch(start), firstDoneEpochMs: epoch(failed), outcome: error.name + ': ' + error.message + (Array.isArray(error.errors) ? ' ' + error.errors.map((e) => e.name + ': ' + e.message).join('; ') : ''), result: '' });
}
process.exit(0);
`;

/**
 * The V8 heap limits Lambda's Node.js bootstrap derives from the function's memory when NODE_OPTIONS
 * sets none: 5 % of it for the young generation (three semi-spaces), the rest for the old one.
 */
export function lambdaHeapOptions(memorySizeMb: number): string {
  const newSpace = Math.floor(memorySizeMb * 0.05);
  return `--max-semi-space-size=${Math.floor(newSpace / 3)} --max-old-space-size=${memorySizeMb - newSpace}`;
}

/** The environment a bundle gets: the template's, the stack's resources, credentials, the endpoint. */
export function bundleEnvironment(
  name: string,
  stackEnvironment: Readonly<Record<string, string>>,
  endpointUrl: string,
  overrides: Readonly<Record<string, string>> = {},
): Record<string, string> {
  const settings = functionSettings(TEMPLATE, name);
  if (settings === undefined) throw new Error(`template.yaml has no function ${name}`);
  return {
    PATH: process.env.PATH ?? '',
    ...settings.environment,
    ...stackEnvironment,
    // A queue URL on the endpoint: the SQS client may send to the queue URL's host instead of the endpoint.
    SHARD_QUEUE_URL: `${endpointUrl}/${SIMULATED_ACCOUNT}/crawlguard-scan-shards`,
    AWS_REGION: SIMULATED_REGION,
    AWS_DEFAULT_REGION: SIMULATED_REGION,
    AWS_ACCESS_KEY_ID: 'AKIDBENCHLOCAL',
    AWS_SECRET_ACCESS_KEY: 'bench-local-secret',
    AWS_SESSION_TOKEN: 'bench-local-token',
    AWS_ENDPOINT_URL: endpointUrl,
    AWS_EC2_METADATA_DISABLED: 'true',
    AWS_LAMBDA_FUNCTION_NAME: name,
    AWS_LAMBDA_FUNCTION_MEMORY_SIZE: String(settings.memorySizeMb),
    NODE_OPTIONS: [settings.environment.NODE_OPTIONS, lambdaHeapOptions(settings.memorySizeMb)]
      .filter((option) => option !== undefined && option !== '')
      .join(' '),
    ...overrides,
  };
}

/** Runs `bundle` once in a fresh process against `endpointUrl`; resolves with what the child measured. */
export async function runBundle(
  name: string,
  bundle: string,
  event: string,
  env: Record<string, string>,
  options: { readonly warm?: boolean } = {},
): Promise<ChildRun> {
  const settings = functionSettings(TEMPLATE, name);
  const timeoutMs = (settings?.timeoutSeconds ?? 60) * 1000;
  // The event goes in a file: a batch of shards is larger than a command line may be.
  const eventDir = mkdtempSync(join(tmpdir(), 'crawlguard-bench-event-'));
  const eventFile = join(eventDir, 'event.json');
  writeFileSync(eventFile, event);
  const child = spawn(
    process.execPath,
    [
      '--input-type=module',
      '-e',
      RUNNER,
      pathToFileURL(bundle).href,
      eventFile,
      name,
      String(timeoutMs),
      options.warm === false ? 'cold' : 'warm',
    ],
    { env, stdio: ['ignore', 'pipe', 'pipe', 'pipe'] },
  );
  let report = '';
  let stderr = '';
  // What the function logs: Lambda sends its stdout and stderr to CloudWatch Logs.
  let logBytes = 0;
  let logTail = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    logBytes += chunk.length;
    logTail = (logTail + chunk.toString('utf8')).slice(-4000);
  });
  (child.stdio[3] as NodeJS.ReadableStream).on('data', (chunk: Buffer) => {
    report += chunk.toString('utf8');
  });
  child.stderr?.on('data', (chunk: Buffer) => {
    logBytes += chunk.length;
    stderr += chunk.toString('utf8');
    logTail = (logTail + chunk.toString('utf8')).slice(-4000);
  });
  const code = await new Promise<number | null>((done) => child.on('close', done));
  rmSync(eventDir, { recursive: true, force: true });
  if (report === '')
    throw new Error(`${name}: the child exited with ${code} and no report: ${stderr.slice(-2000)}`);
  return { ...(JSON.parse(report) as Omit<ChildRun, 'logBytes' | 'logTail'>), logBytes, logTail };
}

/** Bundles every function with the real build into a temporary folder; the caller removes it. */
export async function buildBundles(): Promise<{ dir: string; bundles: Map<string, string> }> {
  const dir = mkdtempSync(join(tmpdir(), 'crawlguard-bench-bundles-'));
  return { dir, bundles: await buildAll(dir) };
}

/** Size of what the function ships: the bundle, and its source map beside it. */
export function bundleSizes(bundle: string): { bundleBytes: number; sourceMapBytes: number } {
  let sourceMapBytes = 0;
  try {
    sourceMapBytes = statSync(`${bundle}.map`).size;
  } catch {
    // No source map: nothing more is shipped.
  }
  return { bundleBytes: statSync(bundle).size, sourceMapBytes };
}

/**
 * A local stack whose simulated time starts now (the bundles run on the system clock), with the
 * instances the sample events name and `instances` more.
 */
export async function benchStack(instances = 0): Promise<LocalStack> {
  const periodMs = 300_000;
  return startLocalStack({
    instances,
    seed: 1,
    startMs: Math.floor(Date.now() / periodMs) * periodMs + 30_000,
  });
}

export interface ColdStart {
  readonly name: string;
  readonly bundleBytes: number;
  readonly sourceMapBytes: number;
  readonly runs: readonly ChildRun[];
  /** Medians of the runs. */
  readonly loadMs: number;
  /**
   * Import plus first invocation, less the time it waited: for the local AWS endpoint to answer, or on
   * purpose (the clock's sleeps: request pacing under the account's quotas, retry backoff).
   */
  readonly initMs: number;
  /** Import plus first invocation, wall clock (waits included). */
  readonly initWallMs: number;
  /** Of the first invocation, the time some request was being answered or the clock slept. */
  readonly waitMs: number;
  readonly warmMs: number;
  readonly peakRssMiB: number;
}

/**
 * Each function's cold start, `runs` times: a fresh local stack and process per run, so that every run
 * sees the same account (no claim left by the previous one).
 */
export async function benchColdStarts(
  runs: number,
  built?: ReadonlyMap<string, string>,
): Promise<ColdStart[]> {
  const { dir, bundles } = built === undefined ? await buildBundles() : { dir: undefined, bundles: built };
  try {
    const results: ColdStart[] = [];
    for (const [name, bundle] of bundles) {
      const event = readFileSync(join(ROOT, SAMPLE_EVENTS[name] ?? ''), 'utf8');
      const measured: ChildRun[] = [];
      const waits: number[] = [];
      for (let run = 0; run < runs; run += 1) {
        const stack = await benchStack();
        const endpoint = await startSimulatedEndpoint(stack.clients as AwsClients);
        try {
          const env = bundleEnvironment(name, stack.environment(name as never), endpoint.url);
          const measuredRun = await runBundle(name, bundle, event, env);
          if (measuredRun.outcome !== 'returned')
            throw new Error(`${name}: the first invocation failed: ${measuredRun.outcome}`);
          measured.push(measuredRun);
          waits.push(
            coveredMs(
              [...endpoint.busy(), ...(measuredRun.sleeps ?? [])],
              [measuredRun.startEpochMs, measuredRun.firstDoneEpochMs],
            ),
          );
        } finally {
          await endpoint.close();
          await stack.close();
        }
      }
      results.push({
        name,
        ...bundleSizes(bundle),
        runs: measured,
        loadMs: median(measured.map((r) => r.loadMs)),
        initMs: median(measured.map((r, at) => r.initMs - (waits[at] as number))),
        initWallMs: median(measured.map((r) => r.initMs)),
        waitMs: median(waits),
        warmMs: median(measured.map((r) => r.warmMs ?? Number.NaN)),
        peakRssMiB: median(measured.map((r) => r.peakRssMiB)),
      });
    }
    return results;
  } finally {
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  }
}

/** Milliseconds of `window` covered by at least one of `intervals` (overlaps counted once). */
export function coveredMs(
  intervals: readonly (readonly [number, number])[],
  window: readonly [number, number],
): number {
  const clipped = intervals
    .map(([from, to]) => [Math.max(from, window[0]), Math.min(to, window[1])] as const)
    .filter(([from, to]) => to > from)
    .sort((a, b) => a[0] - b[0]);
  let covered = 0;
  let reach = Number.NEGATIVE_INFINITY;
  for (const [from, to] of clipped) {
    if (to <= reach) continue;
    covered += to - Math.max(from, reach);
    reach = to;
  }
  return covered;
}

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1
    ? (sorted[mid] as number)
    : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

if (import.meta.main) {
  for (const result of await benchColdStarts(Number(process.argv[2] ?? 3))) {
    console.log(
      JSON.stringify({
        ...result,
        runs: result.runs.map((r) => `${r.outcome} ${r.result} ${r.initMs.toFixed(0)}ms`),
      }),
    );
  }
}
