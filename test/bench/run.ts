/**
 * `npm run --silent bench [-- --json] [--series N] [--instances N] [--analyze-series N] [--cold-start-runs N]`:
 * throughput of
 * the detectors on one core, then the fleet scan of N simulated instances (test/bench/fleet.ts, in its
 * own process so that its peak RSS is the scan's), then the analyze command end to end on a generated
 * get-metric-data file (test/bench/analyze.ts, in child processes), then the deployed functions
 * (test/bench/functions.ts: bundle size, cold start and peak memory of each, fleet-scan's memory at
 * 10,000 and 100,000 instances, the monthly cost). The last line of --json output is one flat JSON
 * object (a stable interface: fields are only added).
 */
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { benchAnalyze } from './analyze.ts';
import { benchDetectors } from './detectors.ts';
import { benchFunctions } from './functions.ts';

const { values } = parseArgs({
  options: {
    json: { type: 'boolean', default: false },
    series: { type: 'string', default: '10000' },
    instances: { type: 'string', default: '10000' },
    'analyze-series': { type: 'string', default: '1000' },
    'cold-start-runs': { type: 'string', default: '5' },
  },
});
const series = Number(values.series);
if (!Number.isInteger(series) || series < 1) {
  console.error(`bench: --series must be a whole number ≥ 1, got '${values.series}'`);
  process.exit(2);
}

const analyzeSeries = Number(values['analyze-series']);
if (!Number.isInteger(analyzeSeries) || analyzeSeries < 1) {
  console.error(`bench: --analyze-series must be a whole number ≥ 1, got '${values['analyze-series']}'`);
  process.exit(2);
}

const coldStartRuns = Number(values['cold-start-runs']);
if (!Number.isInteger(coldStartRuns) || coldStartRuns < 1) {
  console.error(`bench: --cold-start-runs must be a whole number ≥ 1, got '${values['cold-start-runs']}'`);
  process.exit(2);
}

const detectors = benchDetectors(series);
const fleetOutput = execFileSync(
  process.execPath,
  [fileURLToPath(new URL('./fleet.ts', import.meta.url)), '--instances', values.instances],
  { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] },
);
const fleet = JSON.parse(fleetOutput.trim().split('\n').at(-1) ?? '{}') as {
  fleetInstances: number;
  fleetShards: number;
  fleetMetrics: number;
  fleetDatapoints: number;
  fleetGetMetricDataCalls: number;
  fleetGetMetricDataThrottled: number;
  fleetMinimumCalls: number;
  fleetSimulatedSeconds: number;
  fleetFindings: number;
  fleetDeadLettered: number;
  fleetRealSeconds: number;
  scanPeakRssMiB: number;
};
const figures = {
  series,
  pointsPerSeries: detectors.network.pointsPerSeries,
  networkPointsPerSec: detectors.network.pointsPerSec,
  networkSeconds: round(detectors.network.seconds),
  memoryPointsPerSec: detectors.memory.pointsPerSec,
  memorySeconds: round(detectors.memory.seconds),
  node: process.version,
  ...fleet,
  ...benchAnalyze(analyzeSeries),
};
const functions = await benchFunctions({ runs: coldStartRuns });
Object.assign(figures, functions.flat);

if (values.json) {
  console.log(JSON.stringify(figures));
} else {
  console.log(
    `crawlguard bench: ${series} series × ${figures.pointsPerSeries} points (14 days at 5 min), one core, ${process.version}\n`,
  );
  const rows: [string, string, string][] = [
    ['detector', 'points/s', 'seconds'],
    ['network-out', figures.networkPointsPerSec.toLocaleString('en-US'), String(figures.networkSeconds)],
    ['memory', figures.memoryPointsPerSec.toLocaleString('en-US'), String(figures.memorySeconds)],
  ];
  for (const [a, b, c] of rows) console.log(`${a.padEnd(12)}  ${b.padStart(12)}  ${c.padStart(8)}`);
  console.log('\ntarget: ≥ 5,000,000 points/s each');

  const n = (value: number) => value.toLocaleString('en-US');
  console.log(
    `\nfleet scan: ${n(fleet.fleetInstances)} simulated instances, ${n(fleet.fleetShards)} shards, ` +
      `${n(fleet.fleetMetrics)} metrics, ${n(fleet.fleetDatapoints)} datapoints\n`,
  );
  const fleetRows: [string, string, string][] = [
    ['figure', 'measured', 'target'],
    [
      'GetMetricData calls',
      n(fleet.fleetGetMetricDataCalls),
      `≤ ${n(Math.floor(fleet.fleetMinimumCalls * 1.05))}`,
    ],
    ['minimum calls', n(fleet.fleetMinimumCalls), ''],
    ['throttled calls', n(fleet.fleetGetMetricDataThrottled), ''],
    ['simulated seconds', String(fleet.fleetSimulatedSeconds), '≤ 300'],
    ['findings', n(fleet.fleetFindings), ''],
    ['dead-lettered shards', n(fleet.fleetDeadLettered), '0'],
    ['peak RSS (MiB)', n(fleet.scanPeakRssMiB), ''],
    ['real seconds', String(fleet.fleetRealSeconds), ''],
  ];
  for (const [a, b, c] of fleetRows) console.log(`${a.padEnd(22)}  ${b.padStart(10)}  ${c.padStart(8)}`);

  const fileMiB = figures.analyzeFileBytes / 1024 ** 2;
  console.log(
    `\nanalyze end to end: ${n(figures.analyzeSeries)} series × ${n(figures.analyzePointsPerSeries)} points, ` +
      `${fileMiB.toFixed(0)} MiB of get-metric-data output, spawn to exit (median of 3)\n`,
  );
  const analyzeRows: [string, string, string][] = [
    ['figure', 'measured', 'target'],
    ['points/s', n(figures.analyzePointsPerSec), '≥ 3,000,000'],
    ['seconds', String(figures.analyzeSeconds), ''],
    ['CPU seconds', String(figures.analyzeCpuSeconds), ''],
    ['peak RSS (MiB)', n(figures.analyzePeakRssMiB), `≤ ${n(Math.floor(2 * fileMiB))}`],
  ];
  for (const [a, b, c] of analyzeRows) console.log(`${a.padEnd(22)}  ${b.padStart(10)}  ${c.padStart(12)}`);
  console.log('');
  for (const line of functions.lines) console.log(line);
}

function round(value: number): number {
  return Math.round(value * 1000) / 1000;
}
