import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
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
});
