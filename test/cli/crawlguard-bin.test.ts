/** The `crawlguard` bin as a user runs it: a process, on the project's Node and on the machine's own. */
import { spawnSync } from 'node:child_process';
import {
  copyFileSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  realpathSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = new URL('../..', import.meta.url).pathname;
const BIN = join(ROOT, 'bin/crawlguard.mjs');
const METRICS = join(ROOT, 'events/metrics');

/** The machine's own node (the first on PATH that is not the project's Node 22), when there is one. */
function machineNode(): string | undefined {
  const own = realpathSync(process.execPath);
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    try {
      const candidate = realpathSync(join(dir, 'node'));
      if (candidate !== own) return candidate;
    } catch {
      // no node in this directory
    }
  }
  return undefined;
}

const machine = machineNode();
/** [who, node binary]: the project's Node 22 always, the machine's node (20 here) when it has one. */
const NODES: [string, string][] = [
  ["the project's Node 22", process.execPath],
  ...(machine === undefined ? [] : [[`the machine's node`, machine] as [string, string]]),
];

function crawlguard(args: string[], options: { cwd?: string; node?: string; bin?: string } = {}) {
  const result = spawnSync(options.node ?? process.execPath, [options.bin ?? BIN, ...args], {
    cwd: options.cwd ?? ROOT,
    encoding: 'utf8',
    timeout: 60_000,
  });
  return { code: result.status, signal: result.signal, stdout: result.stdout, stderr: result.stderr };
}

describe('crawlguard', () => {
  it.each(NODES)('explains every command with --help (run by %s)', (_who, node) => {
    const { code, stdout, stderr } = crawlguard(['--help'], { node });

    expect(stderr).toBe('');
    expect(code).toBe(0);
    for (const command of ['analyze', 'report', 'invoke', 'start', 'approve', 'deny', 'breaker', 'approvals'])
      expect(stdout).toMatch(new RegExp(`^  ${command} `, 'm'));
    expect(stdout).toMatch(/^exit codes: 0 done, 1 failed/m);
  });

  it.each(NODES)('refuses an unknown command with one line and exit 2 (run by %s)', (_who, node) => {
    const { code, stdout, stderr } = crawlguard(['scan\u001b[2J'], { node });

    expect(code).toBe(2);
    expect(stdout).toBe('');
    expect(stderr).toBe(
      "crawlguard: unknown command 'scan\\u001b[2J' (expected analyze, report, invoke, approve, deny, breaker, approvals, start, demo; see crawlguard --help)\n",
    );
  });

  it('prints its usage on stderr and exits 2 without a command', () => {
    const { code, stdout, stderr } = crawlguard([]);

    expect(code).toBe(2);
    expect(stdout).toBe('');
    expect(stderr).toMatch(/^usage: crawlguard <command>/);
  });

  it("passes 'help <command>' on as '<command> --help'", () => {
    const { code, stdout } = crawlguard(['help', 'report']);

    expect(code).toBe(0);
    expect(stdout).toMatch(/^usage: crawlguard report /);
  });

  it.each(NODES)(
    'writes the report of events/metrics/ to the working directory, last line its path (run by %s)',
    (_who, node) => {
      const cwd = mkdtempSync(join(tmpdir(), 'crawlguard-bin-'));

      const { code, stdout, stderr } = crawlguard(
        [
          'report',
          '--network-out',
          join(METRICS, 'network-out.json'),
          '--memory',
          join(METRICS, 'memory.json'),
        ],
        { cwd, node },
      );

      expect(stderr).toBe('');
      expect(code).toBe(0);
      const path = join(realpathSync(cwd), 'crawlguard-report.html');
      expect(stdout.trimEnd().split('\n').at(-1)).toBe(`report: ${path}`);
      expect(readFileSync(path, 'utf8').match(/<svg data-instance-id="/g)).toHaveLength(4);
    },
  );

  it('passes exit codes through: 2 for bad input (analyze), 1 for a refused event (invoke)', () => {
    const analyze = crawlguard(['analyze', '--metric', 'memory', join(ROOT, 'package.json')]);
    const invoke = crawlguard([
      'invoke',
      'alarm-triage',
      join(ROOT, 'test/fixtures/bad-events/alarm-instance-id-shell-injection.json'),
      '--log-level',
      'SILENT',
    ]);

    expect(analyze.code).toBe(2);
    expect(analyze.stderr).toMatch(/^analyze: .*package\.json: MetricDataResults: .*\n$/);
    expect(invoke.code).toBe(1);
    expect(invoke.stderr.trimEnd().split('\n')).toHaveLength(1);
  });

  it("keeps package.json's start script a plain 'node <script> [arguments]', which start runs", () => {
    const { scripts } = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
      scripts: Record<string, string>;
    };

    expect(scripts.start).toMatch(/^node \S+\.(ts|mjs|js)( [^\s"'`$&|;<>(){}\\*?~]+)*$/);
  });
});

describe('crawlguard start', () => {
  /** A project of its own: the bin, a package.json whose start runs `script`, the project's node linked in. */
  function project(start: string, script: string): string {
    const root = realpathSync(mkdtempSync(join(tmpdir(), 'crawlguard-project-')));
    mkdirSync(join(root, 'bin'));
    copyFileSync(BIN, join(root, 'bin/crawlguard.mjs'));
    mkdirSync(join(root, 'node_modules/node/bin'), { recursive: true });
    symlinkSync(process.execPath, join(root, 'node_modules/node/bin/node'));
    writeFileSync(join(root, 'package.json'), JSON.stringify({ type: 'module', scripts: { start } }));
    writeFileSync(join(root, 'start.mjs'), script);
    return root;
  }

  it('runs the start script in the project folder with its arguments and the user’s, and passes its exit code', () => {
    const root = project(
      'node start.mjs --fleet demo',
      'console.log(JSON.stringify({ args: process.argv.slice(2), cwd: process.cwd(), from: process.env.INIT_CWD, node: process.version })); process.exitCode = 3;',
    );
    const cwd = realpathSync(mkdtempSync(join(tmpdir(), 'crawlguard-user-')));

    for (const name of ['start', 'demo']) {
      const { code, stdout } = crawlguard([name, '--seed', '7'], {
        cwd,
        bin: join(root, 'bin/crawlguard.mjs'),
      });

      expect(code).toBe(3);
      expect(JSON.parse(stdout)).toEqual({
        args: ['--fleet', 'demo', '--seed', '7'],
        cwd: root,
        from: cwd,
        node: process.version,
      });
    }
  });

  it('dies of the signal that ended the script', () => {
    const root = project('node start.mjs', "process.kill(process.pid, 'SIGTERM');");

    const { code, signal } = crawlguard(['start'], { bin: join(root, 'bin/crawlguard.mjs') });

    expect([code, signal]).toEqual([null, 'SIGTERM']);
  });

  it('refuses a start script with shell syntax, in one line, rather than guess what a shell would do', () => {
    const root = project('node start.mjs && rm -rf /tmp/x', '');

    const { code, stdout, stderr } = crawlguard(['start'], { bin: join(root, 'bin/crawlguard.mjs') });

    expect(code).toBe(1);
    expect(stdout).toBe('');
    expect(stderr).toBe(
      "crawlguard: package.json's start script is not 'node <script> [arguments]': run 'npm start' instead\n",
    );
  });
});
