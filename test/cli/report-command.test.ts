import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { bytesSource } from '#shared/cli/read-input.ts';
import { instanceOfLabel, type ReportIo, runReport } from '#shared/cli/report-command.ts';
import { writeFilesAtomically } from '#shared/cli/write-files.ts';
import type { ReportModel } from '#shared/report/model.ts';
import { DETECTION_DAYS, memorySeries, networkSeries } from '#test/support/report-fixture.ts';

const ROOT = new URL('../..', import.meta.url).pathname;
const NETWORK = join(ROOT, 'events/metrics/network-out.json');
const MEMORY = join(ROOT, 'events/metrics/memory.json');

/** get-metric-data output of the given series, one result per label. */
function metricFile(
  results: Record<string, { timestamps: ArrayLike<number>; values: ArrayLike<number> }>,
): string {
  return JSON.stringify({
    MetricDataResults: Object.entries(results).map(([label, series], index) => ({
      Id: `m${index}`,
      Label: label,
      Timestamps: Array.from(series.timestamps, (t) => new Date(t).toISOString()),
      Values: Array.from(series.values),
      StatusCode: 'Complete',
    })),
    Messages: [],
  });
}

/** A command run with files in memory (or the real ones under ROOT), writes kept, output captured. */
function run(argv: string[], files: Record<string, string> = {}, failWrite = false) {
  const written = new Map<string, string>();
  let stdout = '';
  let stderr = '';
  const io: ReportIo = {
    cwd: '/work/here',
    now: () => new Date('2026-11-20T12:00:00Z'),
    openFile: (path) => {
      const content = files[path] ?? readFileSync(path, 'utf8');
      return bytesSource(Buffer.from(content));
    },
    writeFiles: (list) => {
      if (failWrite) throw Object.assign(new Error('EACCES'), { code: 'EACCES', path: list[0]?.path });
      for (const file of list) written.set(file.path, file.content);
    },
    stdout: (text) => {
      stdout += text;
    },
    stderr: (text) => {
      stderr += text;
    },
  };
  const code = runReport(argv, io);
  return { code, stdout, stderr, written };
}

describe('crawlguard report', () => {
  it('writes the report of the recorded metrics to crawlguard-report.html in the working directory', () => {
    const { code, stdout, stderr, written } = run(['--network-out', NETWORK, '--memory', MEMORY]);

    expect(stderr).toBe('');
    expect(code).toBe(0);
    expect([...written.keys()]).toEqual(['/work/here/crawlguard-report.html']);
    const lines = stdout.trimEnd().split('\n');
    expect(lines.at(-1)).toBe('report: /work/here/crawlguard-report.html');
    expect(lines.slice(1, -1)).toEqual([
      '  i-0c1a77e1d0c5a0001  updatedb-crawl',
      '  i-0c1a77e1d0c5a0002  updatedb-crawl',
      '  i-0c1a77e1d0c5a0004  daily-network-burst',
      '  nab-ec2_cpu_utilization_24ae8d-as-bytes  daily-network-burst',
    ]);
    const page = written.get('/work/here/crawlguard-report.html') ?? '';
    expect([...page.matchAll(/<svg data-instance-id="([^"]*)"/g)].map((m) => m[1])).toEqual([
      'i-0c1a77e1d0c5a0001',
      'i-0c1a77e1d0c5a0002',
      'i-0c1a77e1d0c5a0004',
      'nab-ec2_cpu_utilization_24ae8d-as-bytes',
    ]);
    // Detection only: nothing was remediated, so no decision, command or verdict section.
    expect(page).not.toMatch(/data-section="(decision|commands|verdict)"/);
  });

  it('joins an instance across files by the instance id its labels start with, and writes the model', () => {
    const { code, written, stdout } = run([
      '--network-out',
      NETWORK,
      '--memory',
      MEMORY,
      '--report',
      'out/r.html',
      '--model',
      '/tmp/m.json',
      '--tz',
      'Asia/Seoul',
    ]);

    expect(code).toBe(0);
    expect(stdout.trimEnd().split('\n').slice(-2)).toEqual([
      'model: /tmp/m.json',
      'report: /work/here/out/r.html',
    ]);
    const model = JSON.parse(written.get('/tmp/m.json') ?? '') as ReportModel;
    const second = model.instances.find((instance) => instance.instanceId === 'i-0c1a77e1d0c5a0002');
    // NetworkOut under 'i-…0002', s3fs RSS under 'i-…0002-s3fs-rss': one instance, a crawl with memory growth.
    expect(second?.verdict).toBe('updatedb-crawl');
    expect(second?.memory.map((m) => m.metric)).toEqual(['s3fs-rss']);
    expect(second?.networkOut?.timeZone).toBe('Asia/Seoul');
    expect(model.fleet.scanned).toBe(6);
    expect(model.generatedAt).toBe('2026-11-20T12:00:00.000Z');
  });

  it('reports a memory-only instance, with a picture-less heatmap saying there is no NetworkOut', () => {
    const file = metricFile({ 'i-0123456789abcdef0': memorySeries(DETECTION_DAYS, 40, 2) });

    const { code, written } = run(['--memory', 'mem.json'], { 'mem.json': file });

    const page = written.get('/work/here/crawlguard-report.html') ?? '';
    expect(code).toBe(0);
    expect(page).toContain('<svg data-instance-id="i-0123456789abcdef0"');
    expect(page).toContain('no NetworkOut data to draw');
    expect(page).toContain('memory-growth');
  });

  it('escapes hostile labels on the terminal and in the page', () => {
    const label = 'evil\u001b]0;pwned\u0007<script>x</script>';
    const file = metricFile({
      [label]: networkSeries(DETECTION_DAYS, { minuteOfDay: 385, minutes: 40, bytesPerMin: 2_500_000 }),
    });

    const { code, stdout, written } = run(['--network-out', 'n.json'], { 'n.json': file });

    expect(code).toBe(0);
    expect(stdout).toContain('evil\\u001b]0;pwned\\u0007<script>x</script>  daily-network-burst');
    expect([stdout.includes('\u001b'), stdout.includes('\u0007')]).toEqual([false, false]);
    expect(written.get('/work/here/crawlguard-report.html')).toContain(
      'data-instance-id="evil\\u001b]0;pwned\\u0007&lt;script&gt;x&lt;/script&gt;"',
    );
  });

  it.each<[string, string[], Record<string, string>, string]>([
    [
      'no metrics',
      [],
      {},
      'report: no metrics given: pass --network-out FILE and/or --memory FILE (see --help)\n',
    ],
    [
      'a bare file name',
      ['n.json'],
      {},
      "report: unexpected argument 'n.json': name each file with --network-out or --memory (see --help)\n",
    ],
    [
      'an unknown option',
      ['--metric', 'memory'],
      {},
      `report: Unknown option '--metric'. To specify a positional argument starting with a '-', place it at the end of the command after '--', as in '-- "--metric" (see --help)\n`,
    ],
    [
      'an unknown data path',
      ['--network-out', NETWORK, '--data-path', 'vpn'],
      {},
      "report: --data-path must be gateway-endpoint or nat-gateway, got 'vpn'\n",
    ],
    [
      'an unknown time zone',
      ['--network-out', NETWORK, '--tz', 'Mars/Olympus'],
      {},
      "report: unknown time zone 'Mars/Olympus' (expected an IANA name such as Europe/Paris)\n",
    ],
    [
      'an empty --report',
      ['--network-out', NETWORK, '--report', ' '],
      {},
      'report: --report must name a file\n',
    ],
    [
      'the model over the report',
      ['--network-out', NETWORK, '--report', 'x.html', '--model', '/work/here/x.html'],
      {},
      'report: --model and --report name the same file\n',
    ],
    [
      'two labels for one instance and metric',
      ['--memory', 'a.json'],
      {
        'a.json': metricFile({
          'i-0123456789abcdef0': memorySeries(5, 30, 1),
          'i-0123456789abcdef0-again': memorySeries(5, 30, 1),
        }),
      },
      "report: labels 'i-0123456789abcdef0' and 'i-0123456789abcdef0-again' both give i-0123456789abcdef0 a mem-used-percent series: one label per instance and metric\n",
    ],
    [
      'a broken file',
      ['--network-out', 'bad.json'],
      { 'bad.json': '{"MetricDataResults": "nope"}' },
      'report: bad.json: MetricDataResults: expected array, received string (line 1, column 23)\n',
    ],
  ])('refuses %s with one line, exit 2 and nothing written', (_name, argv, files, message) => {
    const { code, stdout, stderr, written } = run(argv, files);

    expect(stderr).toBe(message);
    expect(code).toBe(2);
    expect(stdout).toBe('');
    expect(written.size).toBe(0);
  });

  it('exits 1 with one line when the report cannot be written', () => {
    const { code, stdout, stderr } = run(['--network-out', NETWORK], {}, true);

    expect(code).toBe(1);
    expect(stdout).toBe('');
    expect(stderr).toBe('report: cannot write /work/here/crawlguard-report.html (EACCES); nothing written\n');
  });

  it('prints its usage with --help', () => {
    const { code, stdout } = run(['--help']);

    expect(code).toBe(0);
    expect(stdout).toMatch(/^usage: crawlguard report /);
  });
});

describe('instanceOfLabel', () => {
  it.each([
    ['i-0123456789abcdef0', 'i-0123456789abcdef0'],
    ['i-0123456789abcdef0-s3fs-rss', 'i-0123456789abcdef0'],
    ['i-01234567 memory', 'i-01234567'],
    ['i-0123456789abcdef0123', 'i-0123456789abcdef0123'],
    ['i-0123456789', 'i-0123456789'],
    ['web-1', 'web-1'],
  ])('%s is %s', (label, instance) => {
    expect(instanceOfLabel(label)).toBe(instance);
  });
});

describe('writeFilesAtomically', () => {
  it('writes every file or none: a failure leaves the targets as they were and no temporary file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'crawlguard-report-'));
    writeFileSync(join(dir, 'a.html'), 'old');

    expect(() =>
      writeFilesAtomically([
        { path: join(dir, 'a.html'), content: 'new' },
        { path: join(dir, 'missing', 'b.json'), content: '{}' },
      ]),
    ).toThrow(`cannot write ${join(dir, 'missing', 'b.json')} (ENOENT)`);
    expect(readFileSync(join(dir, 'a.html'), 'utf8')).toBe('old');
    expect(readdirSync(dir)).toEqual(['a.html']);

    writeFilesAtomically([
      { path: join(dir, 'a.html'), content: 'new' },
      { path: join(dir, 'b.json'), content: '{}' },
    ]);
    expect(readdirSync(dir).sort()).toEqual(['a.html', 'b.json']);
    expect(readFileSync(join(dir, 'a.html'), 'utf8')).toBe('new');
  });
});
