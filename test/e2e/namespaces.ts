/**
 * Isolation for the end-to-end test (see LAB.md "Isolation that works"): two network namespaces joined
 * by a veth pair (S3 server on one side, the "instance" on the other), and on the instance side a
 * long-lived private mount namespace with an overlay on /etc and /mnt, a tmpfs on /run and a temp dir
 * on /var/lib/plocate, so that nothing on the host changes. Everything started is ended by PID.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';

export class E2eError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'E2eError';
  }
}

export interface RunResult {
  status: number;
  stdout: string;
  stderr: string;
}

/** Runs a command to completion; throws E2eError when it cannot start or `check` and it exits non-zero. */
export function run(
  command: string,
  args: readonly string[],
  options: { check?: boolean; env?: NodeJS.ProcessEnv; input?: string; timeoutMs?: number } = {},
): RunResult {
  const result = spawnSync(command, args, {
    encoding: 'utf8',
    env: options.env ?? process.env,
    input: options.input,
    timeout: options.timeoutMs ?? 120_000,
    maxBuffer: 64 * 1024 * 1024,
  });
  if (result.error !== undefined) {
    throw new E2eError(`${command} ${args.join(' ')} did not run`, { cause: result.error });
  }
  const out = { status: result.status ?? -1, stdout: result.stdout, stderr: result.stderr };
  if ((options.check ?? true) && out.status !== 0) {
    throw new E2eError(`${command} ${args.join(' ')} exited ${out.status}: ${out.stderr.trim()}`);
  }
  return out;
}

/** Waits until `test` returns true, polling every `everyMs`; throws after `timeoutMs`. */
export async function waitFor(what: string, test: () => boolean, timeoutMs = 10_000, everyMs = 50) {
  const deadline = Date.now() + timeoutMs;
  while (!test()) {
    if (Date.now() > deadline) throw new E2eError(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, everyMs));
  }
}

/** Sends SIGTERM, then SIGKILL after `graceMs`, to one process we started; resolves when it has exited. */
export async function stopChild(child: ChildProcess, graceMs = 3_000) {
  if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  process.kill(child.pid, 'SIGTERM');
  const timer = setTimeout(() => {
    if (child.pid !== undefined && child.exitCode === null && child.signalCode === null) {
      process.kill(child.pid, 'SIGKILL');
    }
  }, graceMs);
  await exited;
  clearTimeout(timer);
}

/** Two network namespaces and a veth pair with RFC 2544 test addresses, unique per run. */
export class TestNetwork {
  readonly serverNs: string;
  readonly clientNs: string;
  readonly serverIf: string;
  readonly clientIf: string;
  readonly serverAddress = '198.18.0.1';
  readonly clientAddress = '198.18.0.2';
  #created: string[] = [];

  constructor(id: string) {
    this.serverNs = `cg-s3-${id}`;
    this.clientNs = `cg-fs-${id}`;
    this.serverIf = `cgs${id}`;
    this.clientIf = `cgc${id}`;
  }

  create() {
    for (const ns of [this.serverNs, this.clientNs]) {
      run('ip', ['netns', 'add', ns]);
      this.#created.push(ns);
      run('ip', ['-n', ns, 'link', 'set', 'lo', 'up']);
      // No IPv6 neighbour discovery chatter on the veth: its counters should carry the S3 traffic only.
      run('ip', ['netns', 'exec', ns, 'sysctl', '-q', '-w', 'net.ipv6.conf.all.disable_ipv6=1']);
      run('ip', ['netns', 'exec', ns, 'sysctl', '-q', '-w', 'net.ipv6.conf.default.disable_ipv6=1']);
    }
    // Created inside the server namespace, so that no interface ever exists on the host.
    run('ip', [
      '-n',
      this.serverNs,
      'link',
      'add',
      this.serverIf,
      'type',
      'veth',
      'peer',
      'name',
      this.clientIf,
    ]);
    run('ip', ['-n', this.serverNs, 'link', 'set', this.clientIf, 'netns', this.clientNs]);
    run('ip', ['-n', this.serverNs, 'addr', 'add', `${this.serverAddress}/30`, 'dev', this.serverIf]);
    run('ip', ['-n', this.clientNs, 'addr', 'add', `${this.clientAddress}/30`, 'dev', this.clientIf]);
    run('ip', ['-n', this.serverNs, 'link', 'set', this.serverIf, 'up']);
    run('ip', ['-n', this.clientNs, 'link', 'set', this.clientIf, 'up']);
  }

  /** Bytes and packets sent by the instance side of the veth: what CloudWatch reports as NetworkOut(Packets). */
  clientTx(): { bytes: number; packets: number } {
    const out = run('ip', ['-n', this.clientNs, '-s', '-j', 'link', 'show', 'dev', this.clientIf]).stdout;
    const [link] = JSON.parse(out) as [{ stats64?: { tx?: { bytes?: number; packets?: number } } }];
    const { bytes, packets } = link.stats64?.tx ?? {};
    if (typeof bytes !== 'number' || typeof packets !== 'number')
      throw new E2eError(`no tx counters in: ${out}`);
    return { bytes, packets };
  }

  /** Deletes the namespaces (which deletes the veth pair); safe to call after a partial create. */
  destroy() {
    for (const ns of this.#created.reverse()) run('ip', ['netns', 'del', ns], { check: false });
    this.#created = [];
  }
}

/** A long-lived `sleep` holding a private mount namespace inside the client network namespace. */
export class InstanceNamespace {
  #holder: ChildProcess | undefined;

  get pid(): number {
    const pid = this.#holder?.pid;
    if (pid === undefined) throw new E2eError('the namespace holder is not running');
    return pid;
  }

  /** Starts the holder, inside network namespace `netns` when given. */
  async start(netns?: string) {
    // `ip netns exec` and `unshare` both exec, so the PID we get is the sleep's.
    const unshare = ['unshare', '--mount', '--propagation', 'private', 'sleep', 'infinity'];
    const argv = netns === undefined ? unshare : ['ip', 'netns', 'exec', netns, ...unshare];
    const [command = 'unshare', ...args] = argv;
    this.#holder = spawn(command, args, { stdio: 'ignore' });
    const pid = this.pid;
    const hostMountNs = readlinkSafe('/proc/self/ns/mnt');
    await waitFor('the namespace holder', () => {
      try {
        const comm = readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
        return comm === 'sleep' && readlinkSafe(`/proc/${pid}/ns/mnt`) !== hostMountNs;
      } catch {
        return false;
      }
    });
  }

  /** argv prefix that runs a command inside the holder's mount and network namespaces. */
  enter(): string[] {
    return ['nsenter', '-t', String(this.pid), '-m', '-n', '--'];
  }

  /**
   * Makes the namespace look like a host whose /etc, /mnt, /run and /var/lib/plocate are its own:
   * overlays on /etc and /mnt (writes land in `dir`), a tmpfs on /run, a temp dir on /var/lib/plocate.
   */
  isolate(dir: string) {
    this.bash(
      `d=${quote(dir)}
      mkdir -p "$d/etc-upper" "$d/etc-work" "$d/mnt-upper" "$d/mnt-work" "$d/plocate"
      mount -t tmpfs -o mode=0755 crawlguard-run /run
      mount -t overlay crawlguard-etc -o "lowerdir=/etc,upperdir=$d/etc-upper,workdir=$d/etc-work" /etc
      mount -t overlay crawlguard-mnt -o "lowerdir=/mnt,upperdir=$d/mnt-upper,workdir=$d/mnt-work" /mnt
      if [[ -d /var/lib/plocate ]]; then mount --bind "$d/plocate" /var/lib/plocate; fi`,
    );
  }

  /** Runs a command inside the namespaces. */
  run(args: readonly string[], options: Parameters<typeof run>[2] = {}): RunResult {
    const [command, ...rest] = [...this.enter(), ...args];
    return run(command ?? 'nsenter', rest, options);
  }

  /** Runs a bash script inside the namespaces. */
  bash(script: string, options: Parameters<typeof run>[2] = {}): RunResult {
    return this.run(['bash', '-euo', 'pipefail', '-c', script], options);
  }

  /** PIDs of processes whose mount namespace is the instance's (our s3fs daemons, writers...). */
  members(): number[] {
    const ns = readlinkSafe(`/proc/${this.pid}/ns/mnt`);
    if (ns === undefined) return [];
    return readdirSync('/proc')
      .filter((name) => /^\d+$/.test(name))
      .map(Number)
      .filter((pid) => pid !== this.pid && readlinkSafe(`/proc/${pid}/ns/mnt`) === ns);
  }

  async stop() {
    if (this.#holder !== undefined) await stopChild(this.#holder);
    this.#holder = undefined;
  }
}

/** Quotes a string for bash. */
export function quote(value: string): string {
  return `'${value.replace(/'/g, `'\\''`)}'`;
}

function readlinkSafe(path: string): string | undefined {
  try {
    return readlinkSync(path);
  } catch {
    return undefined;
  }
}
