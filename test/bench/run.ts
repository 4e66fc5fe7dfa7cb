/**
 * `npm run --silent bench [-- --json] [--series N]`: throughput of the detectors on one core.
 * The last line of --json output is one flat JSON object (a stable interface: fields are only added).
 */
import { parseArgs } from 'node:util';
import { benchDetectors } from './detectors.ts';

const { values } = parseArgs({
  options: { json: { type: 'boolean', default: false }, series: { type: 'string', default: '10000' } },
});
const series = Number(values.series);
if (!Number.isInteger(series) || series < 1) {
  console.error(`bench: --series must be a whole number ≥ 1, got '${values.series}'`);
  process.exit(2);
}

const detectors = benchDetectors(series);
const figures = {
  series,
  pointsPerSeries: detectors.network.pointsPerSeries,
  networkPointsPerSec: detectors.network.pointsPerSec,
  networkSeconds: round(detectors.network.seconds),
  memoryPointsPerSec: detectors.memory.pointsPerSec,
  memorySeconds: round(detectors.memory.seconds),
  node: process.version,
};

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
}

function round(value: number): number {
  return Math.round(value * 1000) / 1000;
}
