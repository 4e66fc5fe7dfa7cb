/**
 * The analyze command end to end: writes a get-metric-data file of `series` NetworkOut results ×
 * `points` datapoints (14 days at 5 minutes by default) in a temporary directory, then runs
 * `node shared/cli/analyze.ts --metric network-out --json FILE` in a child process, timed from spawn
 * to exit (median of `runs`), with the child's peak RSS and CPU time reported by the child itself.
 * `node test/bench/analyze.ts [--series N] [--points N] [--runs N] [--indent N]` prints one JSON object.
 */
import { spawnSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, rmSync, statSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { NETWORK_FAMILIES, networkScenario } from '#shared/sim/network-scenarios.ts';
import { seededRandom } from '#shared/sim/random.ts';

export interface AnalyzeBench {
  readonly analyzeSeries: number;
  readonly analyzePointsPerSeries: number;
  /** Datapoints per second of wall time, from spawn to exit (median run). */
  readonly analyzePointsPerSec: number;
  readonly analyzeSeconds: number;
  /** User + system CPU seconds of that run: steadier than wall time on a loaded machine. */
  readonly analyzeCpuSeconds: number;
  readonly analyzeFileBytes: number;
  readonly analyzePeakRssMiB: number;
}

const ENTRY = fileURLToPath(new URL('../../shared/cli/analyze.ts', import.meta.url));
const PERIOD_MS = 300_000;
const END = Date.UTC(2026, 10, 4);
const POOL = 100;
// Loaded before analyze.ts, writes the child's own peak RSS and CPU time to fd 3 as it exits.
const PROBE = `data:text/javascript,${encodeURIComponent(
  "import { writeSync } from 'node:fs';" +
    "process.on('exit', () => { const u = process.resourceUsage();" +
    ' writeSync(3, JSON.stringify({ maxRssKiB: u.maxRSS, cpuMicros: u.userCPUTime + u.systemCPUTime })); });',
)}`;

/**
 * Writes `series` results of `points` datapoints, newest first with `+00:00` offsets and whole byte
 * counts, as aws-cli prints them (compact unless `indent`). Values come from the simulated NetworkOut
 * families (crawled, noisy, office hours, ...), a pool of 100 series repeated under distinct labels.
 */
export function writeMetricFile(path: string, series: number, points: number, indent?: number): number {
  const pool = Array.from({ length: POOL }, (_, k) => {
    const family = NETWORK_FAMILIES[k % NETWORK_FAMILIES.length];
    if (family === undefined) throw new Error('no NetworkOut family to draw from');
    return networkScenario(family, k + 1, seededRandom(7_000 + k)).series.values;
  });
  const timestamps = Array.from({ length: points }, (_, i) =>
    new Date(END - (i + 1) * PERIOD_MS).toISOString().replace('.000Z', '+00:00'),
  );
  const fd = openSync(path, 'w');
  try {
    writeSync(fd, '{"MetricDataResults": [');
    for (let s = 0; s < series; s += 1) {
      const values = pool[s % POOL] as ArrayLike<number>;
      const result = {
        Id: `m${s}`,
        Label: `i-0c1a77e1d${s.toString(16).padStart(8, '0')}`,
        Timestamps: timestamps,
        Values: Array.from({ length: points }, (_, i) => Math.round(values[i % values.length] as number)),
        StatusCode: 'Complete',
      };
      writeSync(fd, `${s === 0 ? '' : ','}${JSON.stringify(result, null, indent)}`);
    }
    writeSync(fd, '], "Messages": []}\n');
  } finally {
    closeSync(fd);
  }
  return statSync(path).size;
}

/** Runs analyze on a generated file `runs` times; the figures of the median run. */
export function benchAnalyze(series = 1000, points = 4032, runs = 3, indent?: number): AnalyzeBench {
  const dir = mkdtempSync(join(tmpdir(), 'crawlguard-bench-analyze-'));
  try {
    const file = join(dir, 'metrics.json');
    const fileBytes = writeMetricFile(file, series, points, indent);
    const measured = Array.from({ length: runs }, () => runOnce(file, series));
    measured.sort((a, b) => a.seconds - b.seconds);
    const median = measured[Math.floor(measured.length / 2)] as ReturnType<typeof runOnce>;
    return {
      analyzeSeries: series,
      analyzePointsPerSeries: points,
      analyzePointsPerSec: Math.round((series * points) / median.seconds),
      analyzeSeconds: round(median.seconds),
      analyzeCpuSeconds: round(median.cpuSeconds),
      analyzeFileBytes: fileBytes,
      analyzePeakRssMiB: Math.round(median.maxRssKiB / 1024),
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function runOnce(file: string, series: number): { seconds: number; cpuSeconds: number; maxRssKiB: number } {
  const started = performance.now();
  const child = spawnSync(
    process.execPath,
    ['--import', PROBE, ENTRY, '--metric', 'network-out', '--json', file],
    { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe', 'pipe'], maxBuffer: 1 << 28 },
  );
  const seconds = (performance.now() - started) / 1000;
  if (child.status !== 0) throw new Error(`analyze exited ${child.status}: ${child.stderr}`);
  const analysed = (JSON.parse(child.stdout) as { results: unknown[] }).results.length;
  if (analysed !== series) throw new Error(`analyze returned ${analysed} results for ${series} series`);
  const probe = JSON.parse(String(child.output[3])) as { maxRssKiB: number; cpuMicros: number };
  return { seconds, cpuSeconds: probe.cpuMicros / 1e6, maxRssKiB: probe.maxRssKiB };
}

function round(value: number): number {
  return Math.round(value * 1000) / 1000;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const { values } = parseArgs({
    options: {
      series: { type: 'string', default: '1000' },
      points: { type: 'string', default: '4032' },
      runs: { type: 'string', default: '3' },
      indent: { type: 'string' },
    },
  });
  const numbers = [values.series, values.points, values.runs].map(Number);
  if (!numbers.every((n) => Number.isInteger(n) && n >= 1)) {
    console.error('bench: --series, --points and --runs must be whole numbers ≥ 1');
    process.exit(2);
  }
  const [series, points, runs] = numbers as [number, number, number];
  console.log(
    JSON.stringify(
      benchAnalyze(series, points, runs, values.indent === undefined ? undefined : Number(values.indent)),
    ),
  );
}
