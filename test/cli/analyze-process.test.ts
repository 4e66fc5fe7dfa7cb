import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const ENTRY = new URL('../../shared/cli/analyze.ts', import.meta.url).pathname;

describe('analyze as a process', () => {
  it('analyses the recorded fleet metrics shipped in events/ (what npm start runs)', () => {
    const stdout = execFileSync(
      process.execPath,
      [ENTRY, '--metric', 'network-out', '--json', 'events/metrics/network-out.json'],
      {
        encoding: 'utf8',
      },
    );

    const verdicts = Object.fromEntries(
      JSON.parse(stdout).results.map((result: { label: string; verdict: string }) => [
        result.label,
        result.verdict,
      ]),
    );
    expect(verdicts).toEqual({
      'i-0c1a77e1d0c5a0001': 'recurring-window',
      'i-0c1a77e1d0c5a0002': 'daily-burst',
      'i-0c1a77e1d0c5a0003': 'none',
      'i-0c1a77e1d0c5a0004': 'recurring-window',
      'nab-ec2_network_in_257a54': 'none',
      'nab-ec2_cpu_utilization_24ae8d-as-bytes': 'recurring-window',
    });
  });

  it('exits 2 with one line on stderr for bad input', () => {
    const dir = mkdtempSync(join(tmpdir(), 'crawlguard-'));
    const file = join(dir, 'bad.json');
    writeFileSync(file, '{"MetricDataResults": "nope"}');

    const result = spawnSync(process.execPath, [ENTRY, '--metric', 'memory', file], { encoding: 'utf8' });

    expect(result.status).toBe(2);
    expect(result.stdout).toBe('');
    expect(result.stderr).toBe(
      `analyze: ${file}: MetricDataResults: expected array, received string (line 1, column 23)\n`,
    );
  });

  describe('refuses what is not a regular file, before reading it, and bounds every read', () => {
    const dir = mkdtempSync(join(tmpdir(), 'crawlguard-'));
    const fifo = join(dir, 'metrics.fifo');
    execFileSync('mkfifo', [fifo]);
    mkdirSync(join(dir, 'metrics.d'));
    const big = join(dir, 'big.json');
    writeFileSync(big, `{"MetricDataResults": []}${' '.repeat(2000)}`);

    it.each<[string, string[], string]>([
      [
        '/dev/zero',
        ['/dev/zero'],
        'analyze: cannot read /dev/zero: a character device, not a regular file\n',
      ],
      ['a FIFO (no hang)', [fifo], `analyze: cannot read ${fifo}: a FIFO, not a regular file\n`],
      [
        'a directory',
        [join(dir, 'metrics.d')],
        `analyze: cannot read ${join(dir, 'metrics.d')}: a directory, not a regular file\n`,
      ],
      [
        'a file larger than --max-bytes',
        ['--max-bytes', '1000', big],
        `analyze: cannot read ${big}: larger than the limit of 1000 bytes (1000 bytes); raise --max-bytes to read it\n`,
      ],
      [
        'a --max-bytes that is not a size',
        ['--max-bytes', '2GB', big],
        "analyze: --max-bytes must be a whole number of bytes ≥ 1, got '2GB'\n",
      ],
    ])('%s', (_name, args, stderr) => {
      // The timeout only stops a hang from stalling the suite; the assertions are about the outcome.
      const result = spawnSync(process.execPath, [ENTRY, '--metric', 'memory', ...args], {
        encoding: 'utf8',
        timeout: 60_000,
      });

      expect(result.signal).toBeNull();
      expect(result.status).toBe(2);
      expect(result.stdout).toBe('');
      expect(result.stderr).toBe(stderr);
    });

    it('reads a file of exactly --max-bytes', () => {
      const args = [ENTRY, '--metric', 'memory', '--json', '--max-bytes', '2025', big];
      const result = spawnSync(process.execPath, args, { encoding: 'utf8' });

      expect(result.stderr).toBe('');
      expect(result.stdout).toBe('{"results":[]}\n');
      expect(result.status).toBe(0);
    });
  });
});
