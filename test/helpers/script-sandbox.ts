/**
 * Runs an SSM script offline against a fake root (`CRAWLGUARD_TEST_ROOT`) with a PATH that holds only
 * the real tools a minimal instance has, plus fake commands written by the test (as node-build's bats
 * helpers do). Nothing outside the sandbox directory is read or written by the scripts in this mode,
 * except the real tools themselves.
 */
import { spawn, spawnSync } from 'node:child_process';
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { which } from './requirements.ts';

export const SSM_DIR = fileURLToPath(new URL('../../shared/ssm/', import.meta.url));
export const SCRIPTS = {
  diagnose: join(SSM_DIR, 'diagnose/diagnose.sh'),
  patch: join(SSM_DIR, 'patch-updatedb-conf/patch-updatedb-conf.sh'),
  restart: join(SSM_DIR, 'restart-s3fs/restart-s3fs.sh'),
} as const;

/** Tools of a minimal Amazon Linux / RHEL / Debian / Ubuntu image that the scripts may use. */
export const BASE_TOOLS = [
  'bash',
  'cat',
  'chmod',
  'cmp',
  'cp',
  'date',
  'dirname',
  'env',
  'find',
  'flock',
  'head',
  'ln',
  'ls',
  'lsattr',
  'mkdir',
  'mktemp',
  'mv',
  'od',
  'readlink',
  'rm',
  'setsid',
  'sleep',
  'stat',
  'tail',
  'timeout',
  'tr',
  'wc',
] as const;

export interface ScriptResult {
  status: number;
  stdout: string;
  stderr: string;
  /** The single JSON document the script printed (the run throws unless there is exactly one line). */
  json: Record<string, unknown>;
}

export class Sandbox {
  readonly dir: string;
  readonly root: string;
  readonly bin: string;
  readonly logs: string;

  constructor(options: { awk?: string; tools?: readonly string[] } = {}) {
    this.dir = mkdtempSync(join(tmpdir(), 'crawlguard-sandbox-'));
    this.root = join(this.dir, 'root');
    this.bin = join(this.dir, 'bin');
    this.logs = join(this.dir, 'logs');
    // /run exists on every host: the scripts keep their lock in a root-only directory under it.
    for (const d of [this.root, this.bin, this.logs, join(this.root, 'run')]) {
      mkdirSync(d, { recursive: true, mode: 0o755 });
    }
    for (const tool of options.tools ?? BASE_TOOLS) this.link(tool);
    this.link('awk', options.awk ?? 'awk');
  }

  /** Puts the real `source` command (a name on PATH, or an absolute path) on the sandbox PATH as `name`. */
  link(name: string, source: string = name) {
    const real = source.startsWith('/') ? source : which(source);
    if (real === undefined) throw new Error(`the sandbox needs ${source}, which is not installed`);
    symlinkSync(real, join(this.bin, name));
  }

  /**
   * Writes a fake command; `$FAKE_LOG` is its own log file, one line of arguments per call. A real tool
   * linked under that name is unlinked first: writing through the link would overwrite the host's tool.
   */
  fake(name: string, body: string) {
    const path = join(this.bin, name);
    rmSync(path, { force: true });
    writeFileSync(
      path,
      `#!/bin/bash\nFAKE_LOG=${JSON.stringify(join(this.logs, name))}\nprintf '%s\\n' "$*" >>"$FAKE_LOG"\n${body}\n`,
      { flag: 'wx', mode: 0o755 },
    );
  }

  /** Argument lines the fake `name` was called with. */
  calls(name: string): string[] {
    const path = join(this.logs, name);
    return existsSync(path) ? readFileSync(path, 'utf8').split('\n').filter(Boolean) : [];
  }

  /** Path inside the fake root. */
  path(inRoot: string): string {
    return join(this.root, inRoot);
  }

  write(inRoot: string, content: string | Buffer, mode?: number) {
    const path = this.path(inRoot);
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, content);
    if (mode !== undefined) chmodSync(path, mode);
  }

  read(inRoot: string): Buffer {
    return readFileSync(this.path(inRoot));
  }

  exists(inRoot: string): boolean {
    return existsSync(this.path(inRoot));
  }

  /**
   * Runs `script` with the SSM_* parameters given, the fake root and the sandbox PATH only.
   * `namespace`: bash run first as root in a private mount namespace (`unshare -m`), with the host's
   * PATH and `$R` the fake root, to mount read-only or full filesystems that only this run sees.
   */
  run(
    script: string,
    params: Record<string, string>,
    env: Record<string, string> = {},
    options: RunOptions = {},
  ): ScriptResult {
    const [command, args, fullEnv] = this.#command(script, params, env, options);
    // stdin is /dev/null, as under the SSM agent (on a socket, Debian's bash would read ~/.bashrc).
    const result = spawnSync(command, args, {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
      cwd: this.dir,
      timeout: options.timeoutMs ?? 60_000,
      env: fullEnv,
    });
    if (result.error !== undefined) throw result.error;
    return parseScriptResult(result.status ?? -1, result.stdout, result.stderr);
  }

  /** Starts `script` as {@link run} does and resolves when it exits; `child` is the running process. */
  start(script: string, params: Record<string, string>, env: Record<string, string> = {}) {
    const [command, args, fullEnv] = this.#command(script, params, env, {});
    const child = spawn(command, args, { cwd: this.dir, env: fullEnv, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
    });
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    const done = new Promise<ScriptResult>((resolve, reject) => {
      child.once('error', reject);
      child.once('close', (code) => {
        try {
          resolve(parseScriptResult(code ?? -1, stdout, stderr));
        } catch (error) {
          reject(error);
        }
      });
    });
    return { child, done };
  }

  #command(
    script: string,
    params: Record<string, string>,
    env: Record<string, string>,
    options: RunOptions,
  ): [string, string[], NodeJS.ProcessEnv] {
    const scriptEnv = {
      PATH: this.bin,
      CRAWLGUARD_TEST_ROOT: this.root,
      ...Object.fromEntries(Object.entries(params).map(([k, v]) => [`SSM_${k}`, v])),
      ...env,
    };
    const bash = join(this.bin, 'bash');
    if (options.namespace === undefined) return [bash, [script], scriptEnv];
    const unshare = which('unshare');
    if (unshare === undefined) throw new Error('the sandbox namespace needs unshare');
    const setup = [
      'set -euo pipefail',
      `R=${JSON.stringify(this.root)}`,
      options.namespace,
      `rc=0; PATH=${JSON.stringify(this.bin)} ${JSON.stringify(bash)} "$0" || rc=$?`,
      options.afterInNamespace ?? '',
      'exit "$rc"',
    ].join('\n');
    return [
      unshare,
      ['-m', '--propagation', 'private', bash, '-c', setup, script],
      { ...scriptEnv, PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' },
    ];
  }

  dispose() {
    rmSync(this.dir, { recursive: true, force: true });
  }
}

export interface RunOptions {
  /** Kills the script after this long (the run then throws); default 60 s. */
  timeoutMs?: number;
  /** Setup run as root in a private mount namespace before the script (see {@link Sandbox.run}). */
  namespace?: string;
  /** Bash run in that namespace after the script (to record what only it can see); not on stdout. */
  afterInNamespace?: string;
}

function parseScriptResult(status: number, stdout: string, stderr: string): ScriptResult {
  const lines = stdout.split('\n').filter((line) => line !== '');
  if (lines.length !== 1) {
    throw new Error(`expected one JSON line, got ${lines.length}:\n${stdout}\nstderr:\n${stderr}`);
  }
  return { status, stdout, stderr, json: JSON.parse(lines[0] ?? '') as Record<string, unknown> };
}

/** The awk implementations installed here, by name (mawk on Debian/Ubuntu, gawk on RHEL/Amazon Linux). */
export function installedAwks(): string[] {
  return ['mawk', 'gawk'].filter((awk) => which(awk) !== undefined);
}
