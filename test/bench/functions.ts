/**
 * The figures of the deployed functions, from their bundles run as Lambda runs them (test/bench/
 * cold-start.ts): size, cold start and peak memory of each; fleet-scan's memory at 10,000 and 100,000
 * instances; and the monthly cost of 1,000 instances — a day's scan measured end to end (fleet-scan,
 * then scan-worker on every shard, batch by batch), remediation episodes measured on the local stack
 * (test/bench/remediation-usage.ts), priced by test/bench/cost.ts.
 */
import { rmSync } from 'node:fs';
import { resolve } from 'node:path';
import { readTemplate } from '#shared/tooling/cfn-yaml.ts';
import { functionSettings } from '#shared/tooling/function-settings.ts';
import {
  benchColdStarts,
  buildBundles,
  bundleEnvironment,
  type ChildRun,
  type ColdStart,
  runBundle,
} from './cold-start.ts';
import {
  addUsage,
  type CostItem,
  DAYS_PER_MONTH,
  fixedBill,
  monthlyBill,
  NO_USAGE,
  total,
  type Usage,
} from './cost.ts';
import {
  benchFleetScan,
  bytesPerInstance,
  type FleetScanRun,
  runFleetScanBundle,
  servedFleet,
} from './fleet-scale.ts';
import { measureRemediation, type RemediationUsage } from './remediation-usage.ts';

const TEMPLATE = resolve(import.meta.dirname, '../../template.yaml');
/** Instances the variable cost is given for. */
export const COST_INSTANCES = 1000;
/** Remediation episodes a month per 1,000 opted-in instances: new instances from images that crawl, and
 * the few that regress (a package update rewriting updatedb.conf): 2 % of the fleet. */
export const EPISODES_PER_1000_INSTANCES_MONTH = 20;
/** Latency of one AWS API call, added to the billed duration for each call (the local endpoint answers at once). */
export const AWS_CALL_MS = 100;

/** The figures, flat (bench -- --json), and the lines of the report. */
export interface FunctionFigures {
  readonly flat: Readonly<Record<string, number>>;
  readonly lines: readonly string[];
}

/** A day's scan of `instances` with the bundles: fleet-scan, then scan-worker on every batch of shards. */
export async function measureDailyScan(
  bundles: ReadonlyMap<string, string>,
  instances: number,
): Promise<{ usage: Usage; scanWorkerPeakRssMiB: number; invocations: Record<string, number> }> {
  const { fleet, endpoint, close } = await servedFleet(instances);
  try {
    const callsSoFar = () =>
      [...endpoint.requests].filter(([op]) => !op.includes('.')).reduce((sum, [, n]) => sum + n, 0);
    const runs: { name: string; run: ChildRun; calls: number }[] = [];
    let before = callsSoFar();
    const measured = (name: string, run: ChildRun) => {
      runs.push({ name, run, calls: callsSoFar() - before });
      before = callsSoFar();
    };
    measured('fleet-scan', await runFleetScanBundle(bundles.get('fleet-scan') as string, fleet, endpoint));
    const batchSize = scanWorkerBatchSize();
    const env = bundleEnvironment('scan-worker', fleet.environment, endpoint.url);
    for (let i = 0; i < fleet.queued.length; i += batchSize) {
      const event = JSON.stringify(fleet.sqsEvent(fleet.queued.slice(i, i + batchSize)));
      const run = await runBundle('scan-worker', bundles.get('scan-worker') as string, event, env, {
        warm: false,
      });
      if (run.outcome !== 'returned' || run.result !== '0 failed records')
        throw new Error(`scan-worker: ${run.outcome} ${run.result}\n${run.logTail}`);
      measured('scan-worker', run);
    }
    const calls = (operation: string) => endpoint.requests.get(operation) ?? 0;
    // Billed: from the import to the return (a cold start each), plus each call's latency in AWS.
    const gbSeconds = runs.reduce(
      (sum, { name, run, calls: made }) =>
        sum +
        ((run.firstDoneEpochMs - run.startEpochMs + made * AWS_CALL_MS) / 1000) * (memorySizeMb(name) / 1024),
      0,
    );
    return {
      usage: {
        ...NO_USAGE,
        lambdaInvocations: runs.length,
        lambdaGbSeconds: gbSeconds,
        metricsRequested: calls('GetMetricData.metrics'),
        cloudWatchRequests: calls('ListMetrics') + calls('ListTagsForResource'),
        logBytes: runs.reduce((sum, { run }) => sum + run.logBytes, 0),
        events: calls('PutEvents.entries'),
        // Sending the shards, and deleting each batch once processed (the event source mapping does).
        queueRequests: calls('SendMessageBatch') + runs.length - 1,
      },
      scanWorkerPeakRssMiB: Math.max(
        0,
        ...runs.filter((r) => r.name === 'scan-worker').map((r) => r.run.peakRssMiB),
      ),
      invocations: {
        'fleet-scan': runs.filter((r) => r.name === 'fleet-scan').length,
        'scan-worker': runs.filter((r) => r.name === 'scan-worker').length,
      },
    };
  } finally {
    await close();
  }
}

/** The month of `instances`: a scan a day, and the remediation episodes of a typical month. */
export function monthOf(
  dailyScan: Usage,
  episode: RemediationUsage,
  warm: ReadonlyMap<string, number>,
  instances: number,
): Usage {
  const episodes = (EPISODES_PER_1000_INSTANCES_MONTH * instances) / 1000;
  // Each Lambda task and remediate invocation billed at its function's warm duration (measured).
  const episodeGbSeconds =
    (episode.lambdaTasks * (warm.get('workflow-step') ?? 0) * memorySizeMb('workflow-step') +
      episode.remediateInvocations * (warm.get('remediate') ?? 0) * memorySizeMb('remediate')) /
    1000 /
    1024;
  const perEpisode: Usage = {
    ...NO_USAGE,
    lambdaInvocations: episode.lambdaTasks + episode.remediateInvocations,
    lambdaGbSeconds: episodeGbSeconds,
    stateTransitions: episode.stateTransitions,
    tableWriteUnits: episode.tableWriteUnits,
    events: episode.events,
    logBytes: episode.logBytes,
  };
  return addUsage(addUsage(NO_USAGE, dailyScan, DAYS_PER_MONTH), perEpisode, episodes);
}

function memorySizeMb(name: string): number {
  const settings = functionSettings(TEMPLATE, name);
  if (settings === undefined) throw new Error(`template.yaml has no function ${name}`);
  return settings.memorySizeMb;
}

/** Every figure of the functions (several minutes: fleet-scan at 100,000 instances is most of it). */
export async function benchFunctions(options: { readonly runs: number }): Promise<FunctionFigures> {
  const { dir, bundles } = await buildBundles();
  try {
    const coldStarts = await benchColdStarts(options.runs, bundles);
    const scale: FleetScanRun[] = [];
    for (const size of FLEET_SIZES)
      scale.push(await benchFleetScan(bundles.get('fleet-scan') as string, size));
    const daily = await measureDailyScan(bundles, COST_INSTANCES);
    const episode = await measureRemediation();
    const warm = new Map(coldStarts.map((c) => [c.name, c.warmMs]));
    const bill = monthlyBill(monthOf(daily.usage, episode, warm, COST_INSTANCES));
    const fixed = fixedBill(
      (readTemplate(TEMPLATE) as { Resources: Record<string, { Type?: unknown; Properties?: unknown }> })
        .Resources,
    );
    return assemble(coldStarts, scale, daily, episode, bill, fixed);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The fleet sizes fleet-scan runs at, the slope taken between the first two. */
export const FLEET_SIZES = [10_000, 100_000] as const;

/**
 * The flat figures and the report from what was measured.
 * @throws when a function's peak RSS for its largest input reaches its MemorySize (the claim the
 * template's sizes rest on).
 */
export function assemble(
  coldStarts: readonly ColdStart[],
  scale: readonly FleetScanRun[],
  daily: Awaited<ReturnType<typeof measureDailyScan>>,
  episode: RemediationUsage,
  bill: readonly CostItem[],
  fixed: readonly CostItem[],
): FunctionFigures {
  const [small, large] = scale as [FleetScanRun, FleetScanRun];
  // The largest input each function is expected to take: fleet-scan the largest fleet, scan-worker a
  // batch of full shards, the others one event (an alarm, a finding, a workflow step) as in events/.
  const peak = new Map(coldStarts.map((c) => [c.name, c.peakRssMiB]));
  peak.set('fleet-scan', large.peakRssMiB);
  peak.set('scan-worker', Math.max(peak.get('scan-worker') ?? 0, daily.scanWorkerPeakRssMiB));
  for (const c of coldStarts) {
    const peakMiB = peak.get(c.name) ?? 0;
    if (peakMiB * 1.25 > memorySizeMb(c.name))
      throw new Error(
        `${c.name}: peak RSS ${peakMiB.toFixed(0)} MiB leaves less than a quarter of its MemorySize ${memorySizeMb(c.name)} MB free`,
      );
  }
  const flat: Record<string, number> = {};
  for (const c of coldStarts) {
    flat[`bundleBytes.${c.name}`] = c.bundleBytes;
    flat[`sourceMapBytes.${c.name}`] = c.sourceMapBytes;
    flat[`initMs.${c.name}`] = round(c.initMs);
    flat[`loadMs.${c.name}`] = round(c.loadMs);
    flat[`initWallMs.${c.name}`] = round(c.initWallMs);
    flat[`peakRssMiB.${c.name}`] = round(peak.get(c.name) ?? 0);
    flat[`memorySizeMb.${c.name}`] = memorySizeMb(c.name);
  }
  for (const run of scale) flat[`fleetScanPeakRssMiB.${run.instances}`] = run.peakRssMiB;
  flat.fleetScanBytesPerInstance = bytesPerInstance(small, large);
  flat.costPer1000InstancesMonthUsd = total(bill);
  flat.costFixedMonthUsd = total(fixed);
  flat.remediationStateTransitionsPerEpisode = round(episode.stateTransitions);

  const lines: string[] = [];
  const n = (value: number) => value.toLocaleString('en-US');
  lines.push(
    'functions, as deployed (minified bundle, fresh process, template environment, local AWS endpoint):',
  );
  lines.push(
    `${'function'.padEnd(14)}  ${'bundle kB'.padStart(9)}  ${'map kB'.padStart(7)}  ${'load ms'.padStart(7)}  ${'init ms'.padStart(7)}  ${'wall ms'.padStart(7)}  ${'peak MiB'.padStart(8)}  ${'memory MB'.padStart(9)}`,
  );
  for (const c of coldStarts)
    lines.push(
      `${c.name.padEnd(14)}  ${(c.bundleBytes / 1000).toFixed(0).padStart(9)}  ${(c.sourceMapBytes / 1000).toFixed(0).padStart(7)}  ${c.loadMs.toFixed(0).padStart(7)}  ${c.initMs.toFixed(0).padStart(7)}  ${c.initWallMs.toFixed(0).padStart(7)}  ${(peak.get(c.name) ?? 0).toFixed(0).padStart(8)}  ${String(memorySizeMb(c.name)).padStart(9)}`,
    );
  lines.push(
    'targets: bundle ≤ 1,000 kB; init ≤ 150 ms (median: import + first invocation, less its waits on AWS and on the pacing clock)',
  );
  lines.push('');
  lines.push('fleet-scan alone, its bundle in a fresh process, on a simulated fleet:');
  for (const run of scale)
    lines.push(
      `  ${n(run.instances).padStart(7)} instances: peak RSS ${run.peakRssMiB} MiB, ${n(run.shards)} shards queued, ${run.seconds} s`,
    );
  lines.push(`  slope: ${n(flat.fleetScanBytesPerInstance)} bytes an instance (target ≤ 200)`);
  lines.push('');
  lines.push(
    `monthly cost of ${n(COST_INSTANCES)} opted-in instances: a scan a day (${daily.invocations['fleet-scan']} fleet-scan + ${daily.invocations['scan-worker']} scan-worker invocations, measured), ${EPISODES_PER_1000_INSTANCES_MONTH} remediation episodes (${round(episode.stateTransitions)} transitions, ${round(episode.lambdaTasks)} Lambda tasks each, measured on ${episode.episodes})`,
  );
  for (const item of bill)
    lines.push(`  ${item.item.padEnd(28)} ${item.quantity.padStart(22)}  $${item.usd.toFixed(4)}`);
  lines.push(`  ${'total'.padEnd(28)} ${''.padStart(22)}  $${total(bill).toFixed(4)} (target ≤ $1)`);
  lines.push('fixed monthly cost (does not grow with the fleet):');
  for (const item of fixed)
    lines.push(`  ${item.item.padEnd(28)} ${item.quantity.padStart(22)}  $${item.usd.toFixed(4)}`);
  lines.push(`  ${'total'.padEnd(28)} ${''.padStart(22)}  $${total(fixed).toFixed(4)}`);
  return { flat, lines };
}

function round(value: number): number {
  return Math.round(value * 10) / 10;
}

function scanWorkerBatchSize(): number {
  const template = readTemplate(TEMPLATE) as {
    Resources: {
      ScanWorkerFunction: { Properties: { Events: { Shards: { Properties: { BatchSize: number } } } } };
    };
  };
  return template.Resources.ScanWorkerFunction.Properties.Events.Shards.Properties.BatchSize;
}
