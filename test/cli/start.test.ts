import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runStart, type StartIo } from '#shared/cli/start-command.ts';
import { WriteFilesError, writeFilesAtomically } from '#shared/cli/write-files.ts';
import type { PipelineOptions } from '#shared/local/pipeline.ts';
import { ROOT } from '#test/support/handlers.ts';
import { fixtureModel } from '#test/support/report-fixture.ts';

const dir = mkdtempSync(join(tmpdir(), 'crawlguard-start-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** runStart with a pipeline that returns the report fixture, recording what it was asked and printed. */
function harness(overrides: Partial<StartIo> = {}) {
  const out: string[] = [];
  const err: string[] = [];
  const runs: PipelineOptions[] = [];
  const io: StartIo = {
    cwd: dir,
    run: async (options) => {
      runs.push(options);
      options.onProgress?.('2026-11-04: scan: 3 findings');
      return { model: fixtureModel(), summary: ['flagged: 4 of 5 scanned'], simulatedDays: 4 };
    },
    writeFiles: writeFilesAtomically,
    stdout: (text) => out.push(text),
    stderr: (text) => err.push(text),
    ...overrides,
  };
  return { io, out: () => out.join(''), err: () => err.join(''), runs };
}

describe('runStart', () => {
  it('prints progress, the summary and, last, the report path; writes the report relative to cwd', async () => {
    const h = harness();
    expect(await runStart(['--report', 'tour.html', '--seed', '3'], h.io)).toBe(0);
    const lines = h.out().trimEnd().split('\n');
    expect(lines[0]).toBe('2026-11-04: scan: 3 findings');
    expect(lines).toContain('flagged: 4 of 5 scanned');
    expect(lines.at(-1)).toBe(`report: ${join(dir, 'tour.html')}`);
    expect(readFileSync(join(dir, 'tour.html'), 'utf8')).toMatch(/^<!doctype html>/i);
    expect(h.runs[0]).toMatchObject({ seed: 3, dataPath: 'nat-gateway' });
  });

  it.each([
    [['--seed=-1'], /--seed must be a whole number/],
    [['--seed', 'x'], /--seed must be a whole number/],
    [['--data-path', 'internet'], /--data-path must be one of gateway-endpoint, nat-gateway/],
    [['--report', ''], /--report needs a file name/],
    [['extra'], /unexpected argument 'extra'/],
    [['--fleet', 'x'], /Unknown option '--fleet'/],
  ])('refuses %j in one line with exit 2, running nothing', async (argv, message) => {
    const h = harness();
    expect(await runStart(argv, h.io)).toBe(2);
    expect(h.err()).toMatch(message);
    expect(h.err().trimEnd().split('\n')).toHaveLength(1);
    expect(h.runs).toEqual([]);
  });

  it('fails in one line with exit 1 when the report cannot be written, and prints no report line', async () => {
    const h = harness();
    const missing = join(dir, 'no-such-dir', 'r.html');
    expect(await runStart(['--report', missing], h.io)).toBe(1);
    expect(h.err()).toBe(
      `start: ${new WriteFilesError(missing, Object.assign(new Error(), { code: 'ENOENT' })).message}\n`,
    );
    expect(h.out()).not.toMatch(/^report:/m);
    expect(existsSync(missing)).toBe(false);
  });

  it('explains itself with --help', async () => {
    const h = harness();
    expect(await runStart(['--help'], h.io)).toBe(0);
    expect(h.out()).toMatch(/^usage: npm start/);
    expect(h.runs).toEqual([]);
  });
});

describe('npm start (the script package.json names), as a newcomer runs it', () => {
  it('runs the pipeline and ends with the report line and nothing else after it', () => {
    const scripts = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).scripts as Record<
      string,
      string
    >;
    const [, script] = scripts.start?.split(' ') ?? [];
    const result = spawnSync(process.execPath, [join(ROOT, script ?? ''), '--report', 'report.html'], {
      cwd: ROOT,
      env: { ...process.env, INIT_CWD: dir },
      encoding: 'utf8',
      timeout: 120_000,
    });
    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
    const lines = result.stdout.trimEnd().split('\n');
    expect(lines.at(-1)).toBe(`report: ${join(dir, 'report.html')}`);
    expect(lines).toContainEqual(expect.stringMatching(/^flagged: \d+ of \d+ scanned/));
    expect(lines).toContainEqual(expect.stringMatching(/RemediationMode=apply/));
    const html = readFileSync(join(dir, 'report.html'), 'utf8');
    expect(html.match(/<svg data-instance-id="/g)?.length).toBeGreaterThanOrEqual(10);
  }, 180_000);
});
