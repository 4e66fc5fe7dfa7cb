import { analyzeMemory } from '#core/memory.ts';
import { analyzeNetworkOut } from '#core/network-out/index.ts';
import type { MetricSeries } from '#core/series.ts';
import { MEMORY_FAMILIES, memoryScenario } from '#shared/sim/memory-scenarios.ts';
import { NETWORK_FAMILIES, networkScenario } from '#shared/sim/network-scenarios.ts';
import { seededRandom } from '#shared/sim/random.ts';

/** A fleet-like mix: mostly healthy hosts, some crawled or leaking (family name → share). */
const NETWORK_MIX: Record<string, number> = {
  'flat-noise': 0.3,
  'smooth-day-night': 0.2,
  'irregular-office-bursts': 0.2,
  'cron-0625': 0.1,
  'anacron-jitter': 0.1,
  'systemd-12h-random': 0.1,
};
const MEMORY_MIX: Record<string, number> = {
  'flat-noise': 0.4,
  'daily-sawtooth-gradual': 0.2,
  'warm-up-plateau': 0.1,
  'linear-leak-percent': 0.15,
  's3fs-rss-staircase': 0.15,
};

export interface DetectorBench {
  readonly series: number;
  readonly pointsPerSeries: number;
  readonly seconds: number;
  readonly pointsPerSec: number;
}

function pool<F extends { name: string }>(
  families: readonly F[],
  mix: Record<string, number>,
  size: number,
  make: (family: F, seed: number) => MetricSeries,
): MetricSeries[] {
  const result: MetricSeries[] = [];
  for (const [name, share] of Object.entries(mix)) {
    const family = families.find((candidate) => candidate.name === name);
    if (family === undefined) throw new Error(`bench mix names an unknown family '${name}'`);
    for (let k = 0; k < Math.round(share * size); k += 1) {
      const series = make(family, k + 1);
      // Detectors receive what an adapter hands them: typed arrays, newest first as CloudWatch sends.
      result.push({
        timestamps: Float64Array.from(series.timestamps),
        values: Float64Array.from(series.values),
      });
    }
  }
  return result;
}

function time(
  series: number,
  inputs: readonly MetricSeries[],
  analyze: (input: MetricSeries) => unknown,
): DetectorBench {
  for (const input of inputs) analyze(input); // warm-up: JIT, not measured
  let points = 0;
  const started = performance.now();
  for (let i = 0; i < series; i += 1) {
    const input = inputs[i % inputs.length] as MetricSeries;
    analyze(input);
    points += input.values.length;
  }
  const seconds = (performance.now() - started) / 1000;
  return {
    series,
    pointsPerSeries: Math.round(points / series),
    seconds,
    pointsPerSec: Math.round(points / seconds),
  };
}

/** Analyses `series` NetworkOut and memory series of 14 days at 5 minutes, drawn from a pool of 200. */
export function benchDetectors(series: number): { network: DetectorBench; memory: DetectorBench } {
  const networkInputs = pool(
    NETWORK_FAMILIES,
    NETWORK_MIX,
    200,
    (family, seed) => networkScenario(family, seed, seededRandom(7_000 + seed)).series,
  );
  const memoryInputs = pool(
    MEMORY_FAMILIES,
    MEMORY_MIX,
    200,
    (family, seed) => memoryScenario(family, seed, seededRandom(9_000 + seed)).series,
  );
  return {
    network: time(series, networkInputs, (input) => analyzeNetworkOut(input)),
    memory: time(series, memoryInputs, (input) => analyzeMemory(input)),
  };
}
