/**
 * How fleet-scan's memory grows with the fleet: its bundle runs alone in a fresh process (as deployed:
 * minified, its own SDK clients) against a simulated fleet of N instances served on 127.0.0.1
 * (test/bench/aws-endpoint.ts), discovers the opted-in instances page by page and queues the shards; the
 * child's peak RSS is the function's alone, the simulated account living in the bench's process.
 * `node test/bench/fleet-scale.ts [N...]` prints one JSON line per size.
 */
import { readFileSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { AwsClients } from '#aws/clients.ts';
import { createSimulatedFleet, type SimulatedFleet } from '#shared/sim/fleet.ts';
import { type SimulatedEndpoint, startSimulatedEndpoint } from './aws-endpoint.ts';
import { buildBundles, bundleEnvironment, type ChildRun, runBundle } from './cold-start.ts';

const ROOT = resolve(import.meta.dirname, '../..');

/** What one fleet-scan run at a fleet size measured. */
export interface FleetScanRun {
  readonly instances: number;
  readonly peakRssMiB: number;
  /** Shards queued (SendMessageBatch entries). */
  readonly shards: number;
  /** Calls answered, by operation. */
  readonly calls: Readonly<Record<string, number>>;
  readonly seconds: number;
}

/** A simulated fleet of `instances` served on 127.0.0.1, its clock starting now; close it when done. */
export async function servedFleet(
  instances: number,
): Promise<{ fleet: SimulatedFleet; endpoint: SimulatedEndpoint; close(): Promise<void> }> {
  const periodMs = 300_000;
  const fleet = createSimulatedFleet({
    instances,
    seed: 7,
    wellKnown: false,
    // The bundles run on the system clock: the simulated account's time starts now.
    startMs: Math.floor(Date.now() / periodMs) * periodMs + 30_000,
    // No call fails by chance: what is measured is the functions' own memory and work.
    failures: { partialData: 0, internalError: 0, throttle: 0, putEventsEntryFailure: 0 },
    requestLogLimit: 100,
  });
  // The bundles pace their calls on the system clock: the account's quotas refill on its clock, kept at
  // real time (it runs ahead only by the calls' simulated latency).
  const realStart = Date.now();
  const simulatedStart = fleet.clock.now();
  const endpoint = await startSimulatedEndpoint(fleet.clients as AwsClients, () => {
    const behind = simulatedStart + (Date.now() - realStart) - fleet.clock.now();
    if (behind > 0) fleet.clock.advance(behind);
  });
  return {
    fleet,
    endpoint,
    close: async () => {
      await endpoint.close();
      fleet.restore();
    },
  };
}

/** Runs the fleet-scan bundle once on a simulated fleet of `instances`. */
export async function benchFleetScan(bundle: string, instances: number): Promise<FleetScanRun> {
  const { fleet, endpoint, close } = await servedFleet(instances);
  try {
    const run = await runFleetScanBundle(bundle, fleet, endpoint);
    if (run.result !== 'queued') throw new Error(`fleet-scan on ${instances} instances: ${run.result}`);
    return {
      instances,
      peakRssMiB: round(run.peakRssMiB),
      shards: fleet.queued.length,
      calls: Object.fromEntries(endpoint.requests),
      seconds: round((run.firstDoneEpochMs - run.startEpochMs) / 1000),
    };
  } finally {
    await close();
  }
}

/** One scheduled run of the fleet-scan bundle in a fresh process against `endpoint`. */
export async function runFleetScanBundle(
  bundle: string,
  fleet: SimulatedFleet,
  endpoint: SimulatedEndpoint,
): Promise<ChildRun> {
  const event = readFileSync(join(ROOT, 'events/fleet-scan/scheduler-input.json'), 'utf8');
  const env = bundleEnvironment('fleet-scan', fleet.environment, endpoint.url);
  const run = await runBundle('fleet-scan', bundle, event, env, { warm: false });
  if (run.outcome !== 'returned') throw new Error(`fleet-scan: ${run.outcome}`);
  return run;
}

/** Bytes of peak RSS each further instance costs, between two runs. */
export function bytesPerInstance(small: FleetScanRun, large: FleetScanRun): number {
  return Math.round(
    ((large.peakRssMiB - small.peakRssMiB) * 1024 ** 2) / (large.instances - small.instances),
  );
}

function round(value: number): number {
  return Math.round(value * 10) / 10;
}

if (import.meta.main) {
  const { dir, bundles } = await buildBundles();
  try {
    const bundle = bundles.get('fleet-scan') as string;
    for (const size of process.argv.slice(2).map(Number))
      console.log(JSON.stringify(await benchFleetScan(bundle, size)));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
