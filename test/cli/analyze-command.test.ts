import { describe, expect, it } from 'vitest';
import { runAnalyze } from '#shared/cli/analyze-command.ts';
import { bytesSource, InputFileError } from '#shared/cli/read-input.ts';
import { networkHost } from '#test/core/build-series.ts';

const MB = 1_000_000;

/** A get-metric-data document for the given labelled series, newest first, as aws-cli prints it. */
function document(results: { label: string; timestamps: number[]; values: number[] }[]): string {
  return JSON.stringify({
    MetricDataResults: results.map((result, index) => ({
      Id: `m${index}`,
      Label: result.label,
      Timestamps: [...result.timestamps]
        .reverse()
        .map((t) => new Date(t).toISOString().replace('.000Z', '+00:00')),
      Values: [...result.values].reverse(),
      StatusCode: 'Complete',
    })),
    Messages: [],
  });
}

function run(argv: string[], files: Record<string, string>) {
  let stdout = '';
  let stderr = '';
  const code = runAnalyze(argv, {
    openFile: (path) => {
      const text = files[path];
      if (text === undefined) throw new InputFileError(`cannot read ${path} (ENOENT)`, 'ENOENT');
      // Small, uneven chunks: every token of the document crosses a buffer boundary somewhere.
      return bytesSource(Buffer.from(text), 4093);
    },
    stdout: (text) => {
      stdout += text;
    },
    stderr: (text) => {
      stderr += text;
    },
  });
  return { code, stdout, stderr };
}

const crawled = networkHost({ bursts: [{ startMinute: 385, minutes: 60, bytesPerMinute: 2 * MB }] });
const quiet = networkHost({ noise: 0.2 });
const FILES = {
  'fleet.json': document([
    { label: 'i-0aaaaaaaaaaaaaaa1', ...crawled },
    { label: 'i-0bbbbbbbbbbbbbbb2', ...quiet },
  ]),
};

describe('analyze --json', () => {
  it('prints one result per label with the verdict and its windows', () => {
    const { code, stdout, stderr } = run(['--metric', 'network-out', '--json', 'fleet.json'], FILES);

    expect(code).toBe(0);
    expect(stderr).toBe('');
    const { results } = JSON.parse(stdout);
    expect(results).toHaveLength(2);
    expect(results[0]).toMatchObject({
      label: 'i-0aaaaaaaaaaaaaaa1',
      metric: 'network-out',
      verdict: 'recurring-window',
      windows: [{ start: '06:25', end: '07:25', daysWithSpike: 14, daysObserved: 14 }],
    });
    expect(results[0]).not.toHaveProperty('profile');
    expect(results[1]).toMatchObject({ label: 'i-0bbbbbbbbbbbbbbb2', verdict: 'none', windows: [] });
  });

  it('reports windows in the zone given by --tz', () => {
    const { stdout } = run(['--metric', 'network-out', '--tz', 'Asia/Seoul', '--json', 'fleet.json'], FILES);

    expect(JSON.parse(stdout).results[0].windows[0].start).toBe('15:25');
  });

  it('gives memory results a slope per day', () => {
    const series = {
      timestamps: crawled.timestamps,
      values: crawled.timestamps.map((_, i) => 6 + (64 * i) / 4032),
    };
    const { code, stdout } = run(['--metric', 'memory', '--json', 'mem.json'], {
      'mem.json': document([{ label: 'i-0ccccccccccccccc3', ...series }]),
    });

    expect(code).toBe(0);
    const [result] = JSON.parse(stdout).results;
    expect(result).toMatchObject({ label: 'i-0ccccccccccccccc3', metric: 'memory', verdict: 'growth' });
    expect(result.slopePerDay).toBeCloseTo(64 / 14, 1);
  });

  it('merges the pages of one label found in several files', () => {
    const half = crawled.timestamps.length / 2;
    const { stdout } = run(['--metric', 'network-out', '--json', 'a.json', 'b.json'], {
      'a.json': document([
        {
          label: 'i-0aaaaaaaaaaaaaaa1',
          timestamps: crawled.timestamps.slice(0, half),
          values: crawled.values.slice(0, half),
        },
      ]),
      'b.json': document([
        {
          label: 'i-0aaaaaaaaaaaaaaa1',
          timestamps: crawled.timestamps.slice(half),
          values: crawled.values.slice(half),
        },
      ]),
    });

    const { results } = JSON.parse(stdout);
    expect(results).toHaveLength(1);
    expect(results[0]).toMatchObject({
      ids: ['m0'],
      verdict: 'recurring-window',
      evidence: { datapoints: 4032 },
    });
  });
});

describe('analyze, points it drops', () => {
  it('says how many negative values it dropped, in the report and in the evidence', () => {
    const values = crawled.values.map((v, i) => (i % 1000 === 7 ? -v : v));
    const input = { 'neg.json': document([{ label: 'i-1', timestamps: crawled.timestamps, values }]) };

    const report = run(['--metric', 'network-out', 'neg.json'], input).stdout;
    const json = JSON.parse(run(['--metric', 'network-out', '--json', 'neg.json'], input).stdout);

    expect(report).toContain('\n  dropped: 5 negative values\n');
    expect(json.results[0].evidence).toMatchObject({ invalidDatapoints: 5, negativeDatapoints: 5 });
  });

  it('keeps the first of datapoints sharing a timestamp, in the order of the files, and says how many disagreed', () => {
    const overlap = 600;
    const pageA = {
      label: 'i-1',
      timestamps: crawled.timestamps.slice(0, 2000),
      values: crawled.values.slice(0, 2000),
    };
    const pageB = {
      label: 'i-1',
      timestamps: crawled.timestamps.slice(2000 - overlap),
      // The overlap holds other values: a page exported before its last periods were complete.
      values: crawled.values.slice(2000 - overlap).map((v, i) => (i < overlap && i % 2 === 0 ? v / 2 : v)),
    };
    const input = { 'a.json': document([pageA]), 'b.json': document([pageB]) };

    const first = JSON.parse(run(['--metric', 'network-out', '--json', 'a.json', 'b.json'], input).stdout);
    const report = run(['--metric', 'network-out', 'a.json', 'b.json'], input).stdout;
    const reversed = JSON.parse(run(['--metric', 'network-out', '--json', 'b.json', 'a.json'], input).stdout);

    expect(first.results[0].evidence).toMatchObject({
      datapoints: 4032,
      duplicateDatapoints: overlap,
      conflictingDuplicateDatapoints: overlap / 2,
    });
    expect(report).toContain(
      '\n  dropped: 600 repeated timestamps, 300 of them with another value (the first given was kept)\n',
    );
    expect(reversed.results[0].evidence.conflictingDuplicateDatapoints).toBe(overlap / 2);
  });

  it('says nothing when nothing was dropped', () => {
    expect(run(['--metric', 'network-out', 'fleet.json'], FILES).stdout).not.toContain('dropped');
    const json = JSON.parse(run(['--metric', 'network-out', '--json', 'fleet.json'], FILES).stdout);
    expect(json.results[0].evidence).toMatchObject({
      negativeDatapoints: 0,
      conflictingDuplicateDatapoints: 0,
    });
  });
});

describe('analyze, long series', () => {
  it('answers for one result of 200,000 points (a year of 1-minute data paged into one file)', () => {
    const long = networkHost({ days: 139, periodMinutes: 1, noise: 0.2 });
    expect(long.timestamps.length).toBeGreaterThan(200_000);

    const { code, stdout, stderr } = run(['--metric', 'network-out', '--json', 'year.json'], {
      'year.json': document([{ label: 'i-0aaaaaaaaaaaaaaa1', ...long }]),
    });

    expect(stderr).toBe('');
    expect(code).toBe(0);
    expect(JSON.parse(stdout).results[0]).toMatchObject({
      verdict: 'none',
      evidence: { datapoints: long.timestamps.length },
    });
  });

  it('joins pages of 150,000 points each', () => {
    const long = networkHost({ days: 209, periodMinutes: 1, noise: 0.2 });
    const half = Math.floor(long.timestamps.length / 2);
    const page = (from: number, to: number) =>
      document([
        { label: 'i-1', timestamps: long.timestamps.slice(from, to), values: long.values.slice(from, to) },
      ]);

    const { code, stdout } = run(['--metric', 'memory', '--json', 'a.json', 'b.json'], {
      'a.json': page(0, half),
      'b.json': page(half, long.timestamps.length),
    });

    expect(code).toBe(0);
    expect(JSON.parse(stdout).results[0].evidence.datapoints).toBe(long.timestamps.length);
  });
});

describe('analyze, readable report', () => {
  it('draws a day × time-of-day heatmap with the crawl in the 06:00 column', () => {
    const { code, stdout } = run(['--metric', 'network-out', 'fleet.json'], FILES);

    expect(code).toBe(0);
    expect(stdout).toContain('i-0aaaaaaaaaaaaaaa1  network-out  RECURRING-WINDOW');
    const rows = stdout.split('\n').filter((line) => /^ {2}\d\d-\d\d \w{3} /.test(line));
    expect(rows.length).toBeGreaterThanOrEqual(14);
    const firstRow = rows[0] ?? '';
    const cells = firstRow.slice(firstRow.length - 48);
    expect(cells[12]).toBe('█');
    expect(cells.slice(0, 12).trim()).toBe('');
  });

  it('draws a sparkline and the fitted trend for memory', () => {
    const series = {
      timestamps: crawled.timestamps,
      values: crawled.timestamps.map((_, i) => 6 + (64 * i) / 4032),
    };
    const { stdout } = run(['--metric', 'memory', 'm.json'], {
      'm.json': document([{ label: 'i-1', ...series }]),
    });

    expect(stdout).toMatch(/ {2}data {2}▁.*█/);
    expect(stdout).toMatch(/ {2}trend ▁.*█/);
  });
});

/** True when `text` holds a character that acts on a terminal: a control other than the line feeds between lines, DEL, C1, bidi, LS/PS. */
function unsafe(text: string): boolean {
  for (let i = 0; i < text.length; i += 1) {
    const c = text.charCodeAt(i);
    if ((c < 0x20 && c !== 0x0a) || (c >= 0x7f && c <= 0x9f) || c === 0x061c || c === 0x200e || c === 0x200f)
      return true;
    if ((c >= 0x2028 && c <= 0x202e) || (c >= 0x2066 && c <= 0x2069)) return true;
  }
  return false;
}

describe('analyze, hostile text in the input', () => {
  const hostile = 'i-1\u001b[2J\u001b]0;owned\u0007\n  verdict NONE\u009b31m\u202egnp';
  const files = { 'h.json': document([{ label: hostile, ...crawled }]) };

  it('escapes labels in the readable report: no screen clearing, retitling or forged lines', () => {
    const { code, stdout } = run(['--metric', 'network-out', 'h.json'], files);

    expect(code).toBe(0);
    expect(unsafe(stdout)).toBe(false);
    const first = stdout.split('\n')[0];
    expect(first).toBe(
      'i-1\\u001b[2J\\u001b]0;owned\\u0007\\n  verdict NONE\\u009b31m\\u202egnp  network-out  RECURRING-WINDOW',
    );
    expect(stdout.split('\n').filter((line) => line.startsWith('  verdict'))).toEqual([]);
  });

  it('escapes them in the memory report too', () => {
    const series = { timestamps: crawled.timestamps, values: crawled.timestamps.map(() => 40) };
    const { stdout } = run(['--metric', 'memory', 'm.json'], {
      'm.json': document([{ label: hostile, ...series }]),
    });

    expect(unsafe(stdout)).toBe(false);
    expect(stdout.split('\n')[0]).toMatch(/^i-1\\u001b\[2J.*\\u202egnp {2}memory {2}NONE$/);
  });

  it('keeps --json valid and the label intact, with C1 and bidi controls escaped', () => {
    const { stdout } = run(['--metric', 'network-out', '--json', 'h.json'], files);

    expect(unsafe(stdout)).toBe(false);
    expect(stdout).toContain('\\u009b31m\\u202egnp');
    expect(JSON.parse(stdout).results[0].label).toBe(hostile);
  });

  it.each<[string, string[], Record<string, string>, string]>([
    [
      'a timestamp with escape sequences',
      ['--metric', 'memory', 'x.json'],
      {
        'x.json':
          '{"MetricDataResults":[{"Id":"a","Label":"i-1","Timestamps":["\\u001b[2J\\u001b[H2026"],"Values":[1]}]}',
      },
      "analyze: x.json: MetricDataResults[0].Timestamps[0]: '\\u001b[2J\\u001b[H2026' is not an ISO 8601 time (line 1, column 61)\n",
    ],
    [
      'a file name with escape sequences',
      ['--metric', 'memory', 'x\u001b]0;owned\u0007\u202e.json'],
      {},
      'analyze: cannot read x\\u001b]0;owned\\u0007\\u202e.json (ENOENT)\n',
    ],
    [
      'a time zone with a line break',
      ['--metric', 'network-out', '--tz', 'UTC\nanalyze: all clear', 'h.json'],
      files,
      "analyze: unknown time zone 'UTC\\nanalyze: all clear' (expected an IANA name such as Europe/Paris)\n",
    ],
  ])('escapes %s in the error line', (_name, argv, input, expected) => {
    const { code, stderr } = run(argv, input);

    expect(code).toBe(2);
    expect(stderr).toBe(expected);
  });
});

describe('analyze, bad input', () => {
  const good = FILES['fleet.json'];
  it.each<[string, string[], Record<string, string>, RegExp]>([
    [
      'a file that is not JSON',
      ['--metric', 'network-out', 'x.json'],
      { 'x.json': '{"Metric' },
      /x\.json: not JSON/,
    ],
    [
      'the wrong shape',
      ['--metric', 'network-out', 'x.json'],
      { 'x.json': '{"Results": []}' },
      /MetricDataResults: expected array/,
    ],
    [
      'mismatched array lengths',
      ['--metric', 'network-out', 'x.json'],
      {
        'x.json':
          '{"MetricDataResults":[{"Id":"a","Label":"i-1","Timestamps":["2026-01-01T00:00:00Z"],"Values":[1,2]}]}',
      },
      /MetricDataResults\[0\]: 1 Timestamps but 2 Values/,
    ],
    [
      'a value that is not a number',
      ['--metric', 'network-out', 'x.json'],
      {
        'x.json':
          '{"MetricDataResults":[{"Id":"a","Label":"i-1","Timestamps":["2026-01-01T00:00:00Z"],"Values":["12"]}]}',
      },
      /Values\[0\]: not a number/,
    ],
    [
      'a timestamp that is not ISO 8601',
      ['--metric', 'network-out', 'x.json'],
      {
        'x.json': '{"MetricDataResults":[{"Id":"a","Label":"i-1","Timestamps":["1700000000"],"Values":[1]}]}',
      },
      /Timestamps\[0\]: '1700000000' is not an ISO 8601 time/,
    ],
    ['no --metric', ['fleet.json'], { 'fleet.json': good ?? '' }, /--metric is required/],
    [
      'an unknown metric',
      ['--metric', 'cpu', 'fleet.json'],
      { 'fleet.json': good ?? '' },
      /--metric must be network-out or memory/,
    ],
    [
      'an unknown option',
      ['--metric', 'memory', '--colour', 'fleet.json'],
      { 'fleet.json': good ?? '' },
      /Unknown option '--colour'/,
    ],
    ['no file', ['--metric', 'memory'], {}, /no FILE given/],
    ['a missing file', ['--metric', 'memory', 'gone.json'], {}, /cannot read gone\.json \(ENOENT\)/],
    [
      'an unknown time zone',
      ['--metric', 'network-out', '--tz', 'Moon/Base', 'fleet.json'],
      { 'fleet.json': good ?? '' },
      /unknown time zone/,
    ],
    [
      'a non-numeric floor',
      ['--metric', 'network-out', '--min-burst-bytes', 'lots', 'fleet.json'],
      { 'fleet.json': good ?? '' },
      /--min-burst-bytes must be a number/,
    ],
  ])('rejects %s with one line and exit code 2', (_name, argv, files, message) => {
    const { code, stdout, stderr } = run(argv, files);

    expect(code).toBe(2);
    expect(stdout).toBe('');
    expect(stderr).toMatch(message);
    expect(stderr.trimEnd().split('\n')).toHaveLength(1);
    expect(stderr).toMatch(/^analyze: /);
  });

  it('prints usage for --help', () => {
    const { code, stdout } = run(['--help'], {});
    expect(code).toBe(0);
    expect(stdout).toMatch(/^usage: npm run --silent analyze/);
  });
});
