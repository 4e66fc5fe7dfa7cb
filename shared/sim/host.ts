/**
 * A simulated EC2 host: what is installed and mounted on it, what runs when, and how its CloudWatch
 * metrics follow from that over simulated time. A {@link HostSpec} is the host as it was launched; a
 * {@link SimHost} adds what happened to it since (an edited /etc/updatedb.conf, s3fs remounted, updatedb
 * stopped), each change stamped with the simulated instant it happened, so that metrics before a change
 * stay as they were and metrics after it follow the new state. Deterministic from the spec's seed; no
 * clock of its own (every query names its instant).
 *
 * Magnitudes come from LAB.md and the e2e run on a real mount: a crawl costs ~1.06 S3 requests per object
 * (3,181 for 3,000 objects), 557 bytes of NetworkOut per request (1,771,476 B on the veth), every day in
 * full (no folder markers); s3fs RSS starts at ~9.4 MB, the first crawl adds ~1.1 kB per cached object
 * (20,000 objects: +22 MB), each later crawl ~370 B per object, the stat cache holding at most
 * `max_stat_cache_size` (default 100,000) entries; a remount brings RSS back to the base.
 */
import type { InstanceSeries } from '#core/assessment.ts';
import type { MetricSeries } from '#core/series.ts';
import { MS_PER_DAY } from '#core/time-zone.ts';
import type { SsmDocumentName } from '#shared/ssm/build.ts';
import type { CommandDocument } from '#shared/ssm/document-schema.ts';
import type { Behaviour } from './fleet-model.ts';
import {
  type CrawlVerdict,
  crawlVerdict,
  MALFORMED_CONF,
  type MalformedDefect,
  type MountEntry,
  type UpdatedbConf,
  type UpdatedbConfState,
  withValues,
} from './host-config.ts';
import { DISTROS, type Distro, type DistroFacts, type LocateImplementation } from './host-distros.ts';
import { HostZone, hashUnit, scheduledStart, type UpdatedbSchedule } from './host-schedule.ts';

export type { UpdatedbConfState } from './host-config.ts';
export type { Distro, LocateImplementation } from './host-distros.ts';
export type { UpdatedbSchedule } from './host-schedule.ts';

const FIVE_MINUTES = 300_000;
const MIB = 1_048_576;

/** How a mount was made: what restart-s3fs.sh reads to mount it again the same way. */
export type MountMethod = 'fstab' | 'systemdMount' | 'systemdService' | 'process';

export interface MountSpec {
  readonly mountPoint: string;
  /** As /proc/mounts shows it: `fuse.s3fs`, `nfs4`, `fuse.rclone`, `fuse` (goofys, mountpoint-s3). */
  readonly type: string;
  /** /proc/mounts' source field (s3fs shows `s3fs`; NFS `fs-…:/`). */
  readonly source: string;
  /** The bucket (s3fs) or export: what the fstab line and the command line name. */
  readonly bucket: string;
  readonly mountedBy: MountMethod;
  /** `-o` options (`allow_other`, `max_stat_cache_size=500000`, ...). */
  readonly options?: readonly string[];
  /** Objects (files and directories) below the mount: what one crawl visits. */
  readonly objects: number;
}

/** A process holding a file on a mount (a writer), during [fromMs, toMs). */
export interface HolderSpec {
  readonly pid: number;
  readonly command: string;
  readonly mountPoint: string;
  readonly fromMs: number;
  readonly toMs: number;
}

/** Baseline NetworkOut: a level, a day/night swing (peak at 15:00 local) and noise. */
export interface TrafficSpec {
  readonly baseBytesPerMinute: number;
  /** Amplitude of the day/night cycle as a fraction of the base. */
  readonly diurnal: number;
  /** Coefficient of variation of each 5-minute datapoint. */
  readonly noiseCv: number;
}

/** A daily job that is not updatedb (a backup upload at 02:00). */
export interface DailyJobSpec {
  readonly name: string;
  readonly minuteOfDay: number;
  readonly jitterMinutes: number;
  readonly durationMinutes: number;
  readonly bytesPerMinute: number;
  /** Runs only from this instant on (a job added later: a crawl that moved). Default: always. */
  readonly fromMs?: number;
}

export interface S3fsMemorySpec {
  readonly baseRssBytes: number;
  /** RSS added by the first crawl after s3fs started, per object it caches. */
  readonly firstCrawlBytesPerObject: number;
  /** RSS added by each later crawl, per object. */
  readonly laterCrawlBytesPerObject: number;
}

export interface MemorySpec {
  readonly totalBytes: number;
  /** mem_used_percent without s3fs and without any leak. */
  readonly basePercent: number;
  readonly noisePercent: number;
  /** A leak that is not s3fs's (the application's), in percentage points a day since boot. */
  readonly leakPercentPerDay: number;
  readonly s3fs: S3fsMemorySpec;
}

/** What one crawl costs (defaults measured, see the module comment). */
export interface CrawlCost {
  readonly requestsPerObject: number;
  readonly bytesPerRequest: number;
  /** updatedb stats one path at a time: one S3 round trip each, ~25 ms in region. */
  readonly requestsPerSecond: number;
  /** Time updatedb spends on local filesystems before and after the mounts. */
  readonly localSeconds: number;
}

/** The CloudWatch agent's configuration, as far as the metrics' dimension sets go. */
export interface AgentSpec {
  /** mem_used_percent with `[InstanceId]`, with the appended `[InstanceId, ImageId, InstanceType]`, or both. */
  readonly memory: 'instance' | 'appended' | 'both' | null;
  /** procstat for s3fs, selected by `exe` or `pattern` (null: not collected). */
  readonly procstat: 'exe' | 'pattern' | null;
}

/** The initial /etc/updatedb.conf: parsed values, a broken file, or none. */
export type ConfSpec =
  | {
      readonly kind: 'parsed';
      readonly pruneFs: readonly string[];
      readonly prunePaths: readonly string[];
      readonly pruneBindMounts: string | null;
      /** The file is a symbolic link to this path. */
      readonly symlinkTo?: string;
    }
  | { readonly kind: 'malformed'; readonly defect: MalformedDefect }
  | { readonly kind: 'absent' };

/** Failure modes a host brings with it. */
export interface HostQuirks {
  /** SSM's view: `unmanaged` (no agent or role: InvalidInstanceId). Default Online. */
  readonly ssm?: 'Online' | 'ConnectionLost' | 'Inactive' | 'unmanaged';
  readonly stopsAtMs?: number;
  /** A stopped host starts again (a boot: s3fs fresh, fstab and systemd mounts back, bare ones gone). */
  readonly startsAgainAtMs?: number;
  readonly terminatesAtMs?: number;
  /** Member of this Auto Scaling group (tag `aws:autoscaling:groupName`). */
  readonly autoScalingGroup?: string;
  /** A login script prints a banner (this text, or a short one): every document's stdout carries it before its JSON. */
  readonly noisyShell?: boolean | string;
  /** Documents whose script hangs until the step's timeout (restart-s3fs: after its umount, an outage). */
  readonly hangs?: readonly SsmDocumentName[];
}

export interface HostSpec {
  readonly instanceId: string;
  /** The Name tag. */
  readonly name: string;
  /** What the detectors should make of this host (the roster's intent; tests check it). */
  readonly behaviour: Behaviour;
  readonly seed: number;
  /** The opt-in tag's value; null: no tag. */
  readonly optIn: string | null;
  readonly distro: Distro;
  /** The host's zone (cron's 06:25 is local). Default UTC. */
  readonly timeZone?: string;
  /** Overrides the distribution's locate (`none`: not installed). */
  readonly locate?: LocateImplementation;
  /** Overrides the distribution's schedule. */
  readonly schedule?: UpdatedbSchedule;
  /** Default: the distribution's file. */
  readonly config?: ConfSpec;
  readonly mounts: readonly MountSpec[];
  readonly holders?: readonly HolderSpec[];
  readonly traffic: TrafficSpec;
  readonly jobs?: readonly DailyJobSpec[];
  readonly memory: MemorySpec;
  /** null: no CloudWatch agent (NetworkOut only). */
  readonly agent: AgentSpec | null;
  readonly crawl?: Partial<CrawlCost>;
  /** Boot: s3fs mounted, memory at its base. */
  readonly launchedAtMs: number;
  readonly quirks?: HostQuirks;
  /**
   * A real machine behind this host (the e2e's instance in a network namespace): its metrics and the
   * scripts Run Command sends are answered by it, not by the model; EC2 and SSM still see the spec.
   */
  readonly external?: ExternalHost;
}

/** What a real machine standing in for a simulated host answers (see {@link HostSpec.external}). */
export interface ExternalHost {
  /** A metric's datapoints in [startMs, endMs) that exist by `nowMs`, as {@link SimHost.series} gives them. */
  series(kind: HostMetric['kind'], startMs: number, endMs: number, nowMs: number): MetricSeries;
  /**
   * Runs a command's document as the SSM agent's aws:runShellScript does (the first step's `runCommand`
   * written to a script, each parameter as `SSM_<Name>`), to completion; how long it took is real time.
   */
  runShellScript(command: ExternalCommand): ExternalScriptResult;
}

export interface ExternalCommand {
  readonly commandId: string;
  readonly documentName: string;
  readonly content: CommandDocument;
  /** Parameters with the document's defaults filled in. */
  readonly parameters: Readonly<Record<string, string>>;
}

export interface ExternalScriptResult {
  readonly exitCode: number;
  readonly stdout: string;
  readonly stderr: string;
  readonly durationMs: number;
}

export const DEFAULT_CRAWL_COST: CrawlCost = {
  requestsPerObject: 1.06,
  bytesPerRequest: 557,
  requestsPerSecond: 40,
  localSeconds: 30,
};
export const DEFAULT_S3FS_MEMORY: S3fsMemorySpec = {
  baseRssBytes: 9.4e6,
  firstCrawlBytesPerObject: 1_100,
  laterCrawlBytesPerObject: 370,
};
/** s3fs's default `max_stat_cache_size`. */
export const DEFAULT_STAT_CACHE_ENTRIES = 100_000;

/** EC2 instance states (DescribeInstances). */
export type Ec2State = 'pending' | 'running' | 'stopping' | 'stopped' | 'shutting-down' | 'terminated';
export const EC2_STATE_CODES: Readonly<Record<Ec2State, number>> = {
  pending: 0,
  running: 16,
  'shutting-down': 32,
  terminated: 48,
  stopping: 64,
  stopped: 80,
};
const TRANSITION_MS = 30_000;

/** One daily updatedb run as it happened (or is happening). */
export interface UpdatedbRun {
  readonly pid: number;
  readonly start: number;
  /** When it stopped: done, stopped by SIGTERM, or the host stopped. */
  readonly end: number;
  /** When it would have finished undisturbed. */
  readonly naturalEnd: number;
  /** updatedb rejected its configuration and exited at once (no database written). */
  readonly failed: boolean;
  /** The crawled mounts in the order updatedb walks them, each during its own [start, end). */
  readonly mounts: readonly CrawledMount[];
  /** Requests made and NetworkOut bytes sent before the run ended. */
  readonly requests: number;
  readonly bytes: number;
}

export interface CrawledMount {
  readonly mountPoint: string;
  readonly objects: number;
  /** Requests of a complete crawl of the mount. */
  readonly requests: number;
  readonly start: number;
  /** When its crawl ended (earlier than planned when the run was stopped). */
  readonly end: number;
  /** Share of the mount's crawl done (1 unless the run was stopped). */
  readonly done: number;
}

/** A mount at an instant: whether it is mounted, and its s3fs daemon. */
export interface MountNow {
  readonly spec: MountSpec;
  readonly mounted: boolean;
  readonly daemonPid: number | null;
  readonly daemonSince: number | null;
}

type HostEvent =
  | { readonly at: number; readonly kind: 'config'; readonly state: UpdatedbConfState }
  | { readonly at: number; readonly kind: 'remount'; readonly mountPoint: string; readonly pid: number }
  | { readonly at: number; readonly kind: 'unmount'; readonly mountPoint: string }
  | { readonly at: number; readonly kind: 'updatedb-stopped' };

/** A daemon's life: it serves the mount with this pid during [from, to). */
interface DaemonSegment {
  readonly pid: number;
  readonly from: number;
  readonly to: number;
}

/** Thrown when a change is applied out of time order: history cannot be rewritten. */
export class HostHistoryError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'HostHistoryError';
  }
}

/** A metric a host publishes, and the kind of series it carries. */
export interface HostMetric {
  readonly kind: 'network-out' | 'mem-used-percent' | 's3fs-rss';
  readonly namespace: string;
  readonly metricName: string;
  readonly dimensions: readonly { readonly name: string; readonly value: string }[];
}

/** A host and everything that happened to it since launch. */
export class SimHost {
  readonly spec: HostSpec;
  readonly distro: DistroFacts;
  readonly zone: HostZone;
  readonly cost: CrawlCost;
  readonly locate: LocateImplementation;
  readonly schedule: UpdatedbSchedule;
  /** Backups the patch wrote next to /etc/updatedb.conf. */
  readonly backups: string[] = [];
  readonly #events: HostEvent[] = [];
  readonly #initialConf: UpdatedbConfState;
  #version = 0;
  #nextPid: number;
  #runsCache: { version: number; untilDay: number; runs: UpdatedbRun[] } | null = null;

  constructor(spec: HostSpec) {
    this.spec = spec;
    this.distro = DISTROS[spec.distro];
    this.zone = new HostZone(
      spec.timeZone ?? 'UTC',
      spec.launchedAtMs - 2 * MS_PER_DAY,
      spec.launchedAtMs + 400 * MS_PER_DAY,
    );
    this.cost = { ...DEFAULT_CRAWL_COST, ...spec.crawl };
    this.locate = spec.locate ?? this.distro.locate;
    this.schedule = this.locate === 'none' ? { kind: 'none' } : (spec.schedule ?? this.distro.schedule);
    this.#initialConf = initialConf(spec.config, this.distro);
    this.#nextPid = 20_000 + Math.floor(hashUnit(spec.seed, 11) * 9_000);
  }

  get instanceId(): string {
    return this.spec.instanceId;
  }

  /** Changes so far: a cache key for anything derived from the host's history. */
  get version(): number {
    return this.#version;
  }

  // --- lifecycle ----------------------------------------------------------------------------------------

  /** Intervals during which the host runs, in order. */
  runningIntervals(): { from: number; to: number }[] {
    const { stopsAtMs, startsAgainAtMs, terminatesAtMs } = this.spec.quirks ?? {};
    const end = terminatesAtMs ?? Number.POSITIVE_INFINITY;
    const intervals = [{ from: this.spec.launchedAtMs, to: Math.min(stopsAtMs ?? end, end) }];
    if (stopsAtMs !== undefined && startsAgainAtMs !== undefined && startsAgainAtMs < end) {
      intervals.push({ from: startsAgainAtMs, to: end });
    }
    return intervals.filter((interval) => interval.to > interval.from);
  }

  /** EC2's state at an instant (with 30-second transitions after a stop, a start and a termination). */
  stateAt(t: number): Ec2State {
    const { terminatesAtMs } = this.spec.quirks ?? {};
    if (terminatesAtMs !== undefined && t >= terminatesAtMs) {
      return t < terminatesAtMs + TRANSITION_MS ? 'shutting-down' : 'terminated';
    }
    if (t < this.spec.launchedAtMs) return 'pending';
    const intervals = this.runningIntervals();
    for (const interval of intervals) {
      if (t >= interval.from && t < interval.to) {
        const starting = interval.from !== this.spec.launchedAtMs && t < interval.from + TRANSITION_MS;
        return starting ? 'pending' : 'running';
      }
    }
    let stoppedAt = Number.NEGATIVE_INFINITY;
    for (const interval of intervals) if (interval.to <= t) stoppedAt = interval.to;
    return t < stoppedAt + TRANSITION_MS ? 'stopping' : 'stopped';
  }

  /** True while the host runs (its agent answers, its jobs run, it publishes metrics). */
  isUp(t: number): boolean {
    return this.stateAt(t) === 'running';
  }

  /** SSM's PingStatus while running; null when SSM does not manage the host. */
  get ssmPing(): 'Online' | 'ConnectionLost' | 'Inactive' | null {
    const ssm = this.spec.quirks?.ssm ?? 'Online';
    return ssm === 'unmanaged' ? null : ssm;
  }

  /** The last boot at or before `t`. */
  bootAt(t: number): number {
    let boot = this.spec.launchedAtMs;
    for (const interval of this.runningIntervals()) if (interval.from <= t) boot = interval.from;
    return boot;
  }

  // --- changes ------------------------------------------------------------------------------------------

  #record(event: HostEvent): void {
    const last = this.#events.at(-1);
    if (last !== undefined && event.at < last.at) {
      throw new HostHistoryError(
        `${this.instanceId}: a change at ${new Date(event.at).toISOString()} cannot follow one at ${new Date(last.at).toISOString()}`,
      );
    }
    this.#events.push(event);
    this.#version += 1;
  }

  /** /etc/updatedb.conf rewritten at `at` (crawlguard's patch). */
  setConfig(at: number, state: UpdatedbConfState): void {
    this.#record({ at, kind: 'config', state });
  }

  /** A running updatedb got SIGTERM at `at` (restart-s3fs stops a crawl of the mount it restarts). */
  stopUpdatedb(at: number): void {
    this.#record({ at, kind: 'updatedb-stopped' });
  }

  /** s3fs mounted (again) at `at`: a new daemon, RSS back to its base. Returns its pid. */
  remount(at: number, mountPoint: string, pid: number = this.allocatePid()): number {
    this.#record({ at, kind: 'remount', mountPoint, pid });
    return pid;
  }

  /** Unmounted at `at` and not mounted again (a restart killed half-way: an outage). */
  unmount(at: number, mountPoint: string): void {
    this.#record({ at, kind: 'unmount', mountPoint });
  }

  /** A fresh process id on this host. */
  allocatePid(): number {
    this.#nextPid += 1 + Math.floor(hashUnit(this.spec.seed, this.#nextPid, 3) * 40);
    return this.#nextPid;
  }

  // --- on-instance state --------------------------------------------------------------------------------

  /** /etc/updatedb.conf as of `t`. */
  configAt(t: number): UpdatedbConfState {
    let state = this.#initialConf;
    for (const event of this.#events) {
      if (event.at > t) break;
      if (event.kind === 'config') state = event.state;
    }
    return state;
  }

  /** The root filesystem and the usual tmpfs mounts, then the spec's mounts mounted at `t`. */
  mountTable(t: number): MountEntry[] {
    const rootType = this.distro.osId === 'rhel' || this.distro.osId === 'amzn' ? 'xfs' : 'ext4';
    const base: MountEntry[] = [
      { mountPoint: '/', type: rootType },
      { mountPoint: '/run', type: 'tmpfs' },
      { mountPoint: '/dev/shm', type: 'tmpfs' },
    ];
    return [...base, ...this.mountsAt(t).flatMap((m) => (m.mounted ? [m.spec] : []))];
  }

  /** Each spec mount at `t`: mounted or not, and its s3fs daemon. */
  mountsAt(t: number): MountNow[] {
    return this.spec.mounts.map((spec) => {
      const segment = this.#daemonSegments(spec).find((s) => t >= s.from && t < s.to);
      return {
        spec,
        mounted: segment !== undefined,
        daemonPid: segment !== undefined && spec.type === 'fuse.s3fs' ? segment.pid : null,
        daemonSince: segment?.from ?? null,
      };
    });
  }

  /** Whether the daily run would crawl `mount` with the configuration of `t` (diagnose.sh's verdict). */
  crawlVerdictAt(mount: MountEntry, t: number): CrawlVerdict {
    return crawlVerdict(mount, this.mountTable(t), this.configAt(t), {
      locateInstalled: this.locate !== 'none',
      nodevTypes: this.distro.cronDaily.addsNodevFilesystems ? this.distro.nodevTypes : [],
    });
  }

  /** Processes holding files on a mount at `t` (the spec's writers). */
  holdersAt(mountPoint: string, t: number): HolderSpec[] {
    return (this.spec.holders ?? []).filter(
      (holder) => holder.mountPoint === mountPoint && t >= holder.fromMs && t < holder.toMs && this.isUp(t),
    );
  }

  /** The updatedb running at `t`, and the mount it is inside of, if any. */
  updatedbAt(t: number): { run: UpdatedbRun; crawlingMount: string | null } | null {
    const run = this.runs(t).find((r) => t >= r.start && t < r.end);
    if (run === undefined) return null;
    const inside = run.mounts.find((m) => t >= m.start && t < m.end);
    return { run, crawlingMount: inside?.mountPoint ?? null };
  }

  /** When the last successful run finished (the database's mtime), or null. */
  lastRunAt(t: number): number | null {
    let last: number | null = null;
    for (const run of this.runs(t)) if (!run.failed && run.end <= t) last = run.end;
    return last;
  }

  /** The last and next scheduled start around `t` (a systemd timer's LastTrigger and NextElapse). */
  triggersAround(t: number): { last: number | null; next: number | null } {
    const day = this.zone.localDay(t);
    let last: number | null = null;
    let next: number | null = null;
    for (let d = day - 2; d <= day + 2; d += 1) {
      const start = scheduledStart(this.schedule, d, this.spec.seed, this.zone);
      if (start === null) continue;
      if (start <= t) last = start;
      else if (next === null) next = start;
    }
    return { last, next };
  }

  /** RSS of a mount's s3fs daemon at `t`, or null when no daemon serves it. */
  rssBytesAt(mountPoint: string, t: number): number | null {
    const spec = this.spec.mounts.find((m) => m.mountPoint === mountPoint);
    if (spec === undefined || spec.type !== 'fuse.s3fs') return null;
    const segment = this.#daemonSegments(spec).find((s) => t >= s.from && t < s.to);
    if (segment === undefined) return null;
    return this.#rssSweep(spec, segment, [t])[0] ?? null;
  }

  // --- the daily runs -----------------------------------------------------------------------------------

  /** Every daily run that started by `untilMs`, in order, as the history stands now. */
  runs(untilMs: number): UpdatedbRun[] {
    const untilDay = this.zone.localDay(untilMs) + 1;
    const cached = this.#runsCache;
    let runs: UpdatedbRun[];
    if (cached !== null && cached.version === this.#version && cached.untilDay >= untilDay) {
      runs = cached.runs;
    } else {
      runs = [];
      for (let day = this.zone.localDay(this.spec.launchedAtMs) - 1; day <= untilDay; day += 1) {
        const run = this.#runOn(day);
        if (run !== null) runs.push(run);
      }
      this.#runsCache = { version: this.#version, untilDay, runs };
    }
    return runs.filter((run) => run.start <= untilMs);
  }

  #runOn(day: number): UpdatedbRun | null {
    let start = scheduledStart(this.schedule, day, this.spec.seed, this.zone);
    if (start === null || start < this.spec.launchedAtMs) return null;
    if (!this.isUp(start)) {
      // A Persistent= timer catches up a missed run a minute after the next boot (before the next run).
      const missed = start;
      const boot = this.runningIntervals().find((interval) => interval.from > missed)?.from;
      const following = scheduledStart(this.schedule, day + 1, this.spec.seed, this.zone);
      const persistent = this.schedule.kind === 'systemdTimer' && this.schedule.persistent;
      if (!persistent || boot === undefined || (following !== null && boot + 60_000 >= following))
        return null;
      start = boot + 60_000;
    }
    const pid = 30_000 + Math.floor(hashUnit(this.spec.seed, day, 5) * 30_000);
    if (this.configAt(start).kind === 'malformed') {
      const end = start + 1_000;
      return { pid, start, end, naturalEnd: end, failed: true, mounts: [], requests: 0, bytes: 0 };
    }
    const local = (this.cost.localSeconds * 1000) / 2;
    let cursor = start + local;
    const planned: { mountPoint: string; objects: number; requests: number; start: number; end: number }[] =
      [];
    for (const now of this.mountsAt(start)) {
      if (!now.mounted || !this.crawlVerdictAt(now.spec, start).crawled) continue;
      const requests = Math.round(now.spec.objects * this.cost.requestsPerObject);
      const end = cursor + (requests / this.cost.requestsPerSecond) * 1000;
      planned.push({
        mountPoint: now.spec.mountPoint,
        objects: now.spec.objects,
        requests,
        start: cursor,
        end,
      });
      cursor = end;
    }
    const naturalEnd = cursor + local;
    let end = naturalEnd;
    for (const event of this.#events) {
      if (event.kind === 'updatedb-stopped' && event.at >= start && event.at < end) end = event.at;
    }
    const hostStops = this.runningIntervals().find((i) => start >= i.from && start < i.to)?.to;
    if (hostStops !== undefined) end = Math.min(end, hostStops);
    const mounts: CrawledMount[] = [];
    let requests = 0;
    for (const m of planned) {
      if (m.start >= end) break;
      const done = m.end <= end ? 1 : (end - m.start) / (m.end - m.start);
      requests += m.requests * done;
      mounts.push({ ...m, end: Math.min(m.end, end), done });
    }
    return {
      pid,
      start,
      end,
      naturalEnd,
      failed: false,
      mounts,
      requests: Math.round(requests),
      bytes: Math.round(requests * this.cost.bytesPerRequest),
    };
  }

  // --- s3fs daemons and their memory --------------------------------------------------------------------

  /** A mount's daemon lifetimes: from each boot, split by remounts, ended by unmounts and stops. */
  #daemonSegments(spec: MountSpec): DaemonSegment[] {
    const segments: DaemonSegment[] = [];
    const index = this.spec.mounts.indexOf(spec);
    this.runningIntervals().forEach((interval, boot) => {
      // A mount made by hand does not come back after a reboot.
      let open: { pid: number; from: number } | null =
        boot > 0 && spec.mountedBy === 'process'
          ? null
          : {
              pid: 700 + index * 37 + boot * 4_000 + Math.floor(hashUnit(this.spec.seed, index, boot) * 300),
              from: interval.from,
            };
      for (const event of this.#events) {
        if (event.at < interval.from || event.at >= interval.to) continue;
        if (event.kind === 'remount' && event.mountPoint === spec.mountPoint) {
          if (open !== null) segments.push({ pid: open.pid, from: open.from, to: event.at });
          open = { pid: event.pid, from: event.at };
        } else if (event.kind === 'unmount' && event.mountPoint === spec.mountPoint && open !== null) {
          segments.push({ pid: open.pid, from: open.from, to: event.at });
          open = null;
        }
      }
      if (open !== null) segments.push({ pid: open.pid, from: open.from, to: interval.to });
    });
    return segments;
  }

  /** RSS of one daemon at each of `times` (ascending, within the segment). */
  #rssSweep(spec: MountSpec, segment: DaemonSegment, times: readonly number[]): number[] {
    const memory = this.spec.memory.s3fs;
    const cached = Math.min(spec.objects, statCacheEntries(spec));
    const growth: { start: number; end: number; bytes: number }[] = [];
    const until = Number.isFinite(segment.to) ? segment.to : (times.at(-1) ?? segment.from);
    for (const run of this.runs(until)) {
      for (const m of run.mounts) {
        if (m.mountPoint !== spec.mountPoint || m.start < segment.from || m.start >= segment.to) continue;
        const perObject =
          growth.length === 0 ? memory.firstCrawlBytesPerObject : memory.laterCrawlBytesPerObject;
        growth.push({
          start: m.start,
          end: Math.max(m.end, m.start + 1),
          bytes: cached * perObject * m.done,
        });
      }
    }
    const out: number[] = [];
    let completed = 0;
    let next = 0;
    for (const t of times) {
      while (next < growth.length && (growth[next] as { end: number }).end <= t) {
        completed += (growth[next] as { bytes: number }).bytes;
        next += 1;
      }
      let partial = 0;
      for (let i = next; i < growth.length; i += 1) {
        const g = growth[i] as { start: number; end: number; bytes: number };
        if (g.start >= t) break;
        partial += (g.bytes * (t - g.start)) / (g.end - g.start);
      }
      out.push(memory.baseRssBytes + completed + partial);
    }
    return out;
  }

  // --- metrics ------------------------------------------------------------------------------------------

  /** The series this host publishes, with the dimension sets its agent uses. */
  metrics(): HostMetric[] {
    const id = { name: 'InstanceId', value: this.instanceId };
    const metrics: HostMetric[] = [
      { kind: 'network-out', namespace: 'AWS/EC2', metricName: 'NetworkOut', dimensions: [id] },
    ];
    const agent = this.spec.agent;
    if (agent === null) return metrics;
    const asg = this.spec.quirks?.autoScalingGroup;
    const appended = [
      id,
      { name: 'ImageId', value: 'ami-0abcdef1234567890' },
      { name: 'InstanceType', value: 't3.large' },
      ...(asg === undefined ? [] : [{ name: 'AutoScalingGroupName', value: asg }]),
    ];
    const memory = (dimensions: HostMetric['dimensions']): HostMetric => ({
      kind: 'mem-used-percent',
      namespace: 'CWAgent',
      metricName: 'mem_used_percent',
      dimensions,
    });
    if (agent.memory === 'instance' || agent.memory === 'both') metrics.push(memory([id]));
    if (agent.memory === 'appended' || agent.memory === 'both') metrics.push(memory(appended));
    if (agent.procstat !== null && this.spec.mounts.some((m) => m.type === 'fuse.s3fs')) {
      const selector =
        agent.procstat === 'exe'
          ? { name: 'exe', value: 's3fs' }
          : { name: 'pattern', value: '/usr/bin/s3fs' };
      metrics.push({
        kind: 's3fs-rss',
        namespace: 'CWAgent',
        metricName: 'procstat_memory_rss',
        dimensions: [id, selector, { name: 'pid_finder', value: 'native' }],
      });
    }
    return metrics;
  }

  /**
   * Every metric kind the host publishes over the `days` before `endMs` (on the 5-minute grid), as a scan
   * at `nowMs` reads them: the first series of each kind.
   */
  lookback(endMs: number, nowMs: number, days: number): InstanceSeries {
    const end = Math.floor(endMs / 300_000) * 300_000;
    const series: InstanceSeries = {};
    for (const metric of this.metrics())
      series[metric.kind] ??= this.series(metric.kind, end - days * MS_PER_DAY, end, nowMs);
    return series;
  }

  /**
   * A metric's 5-minute datapoints in [startMs, endMs) that exist by `nowMs` (a period is published once
   * it is over, and only while the host runs). NetworkOut is bytes per period (`Sum`); mem_used_percent
   * and s3fs RSS (bytes; the average over the s3fs daemons, as CloudWatch averages the agent's points)
   * are levels.
   */
  series(kind: HostMetric['kind'], startMs: number, endMs: number, nowMs: number): MetricSeries {
    if (this.spec.external !== undefined) return this.spec.external.series(kind, startMs, endMs, nowMs);
    const first = Math.ceil(startMs / FIVE_MINUTES) * FIVE_MINUTES;
    const last = Math.min(endMs - 1, nowMs - FIVE_MINUTES);
    const times: number[] = [];
    for (let t = first; t <= last; t += FIVE_MINUTES) if (this.isUp(t)) times.push(t);
    const values =
      kind === 'network-out'
        ? this.#networkOut(times, nowMs)
        : kind === 'mem-used-percent'
          ? this.#memUsedPercent(times)
          : this.#s3fsRss(times);
    const keptTimes: number[] = [];
    const keptValues: number[] = [];
    for (let i = 0; i < times.length; i += 1) {
      const v = values[i] as number;
      if (!Number.isFinite(v)) continue;
      keptTimes.push(times[i] as number);
      keptValues.push(v);
    }
    return { timestamps: Float64Array.from(keptTimes), values: Float64Array.from(keptValues) };
  }

  #networkOut(times: readonly number[], nowMs: number): number[] {
    const { baseBytesPerMinute, diurnal, noiseCv } = this.spec.traffic;
    const values = times.map((t) => {
      const minute = this.zone.localMinute(t);
      const cycle = 1 + diurnal * Math.cos((2 * Math.PI * (minute + 2.5 - 15 * 60)) / 1440);
      const noise = Math.max(0.05, 1 + noiseCv * normalAt(this.spec.seed, t / FIVE_MINUTES, 1));
      return baseBytesPerMinute * 5 * cycle * noise;
    });
    if (times.length === 0) return values;
    const from = times[0] as number;
    const to = (times.at(-1) as number) + FIVE_MINUTES;
    const index = new Map(times.map((t, i) => [t, i]));
    const spread = (start: number, end: number, bytes: number): void => {
      if (end <= start || bytes <= 0 || end < from || start > to) return;
      const rate = bytes / (end - start);
      for (let bin = Math.floor(start / FIVE_MINUTES) * FIVE_MINUTES; bin < end; bin += FIVE_MINUTES) {
        const i = index.get(bin);
        if (i === undefined) continue;
        const overlap = Math.min(end, bin + FIVE_MINUTES) - Math.max(start, bin);
        values[i] = (values[i] as number) + overlap * rate;
      }
    };
    for (const run of this.runs(Math.min(nowMs, to))) {
      for (const m of run.mounts) spread(m.start, m.end, m.requests * m.done * this.cost.bytesPerRequest);
    }
    for (const [j, job] of (this.spec.jobs ?? []).entries()) {
      for (let day = this.zone.localDay(from) - 1; day <= this.zone.localDay(to); day += 1) {
        const jitter = hashUnit(this.spec.seed, day, 40 + j) * job.jitterMinutes;
        const start = this.zone.instantOf(day, job.minuteOfDay + jitter);
        if (!this.isUp(start) || (job.fromMs !== undefined && start < job.fromMs)) continue;
        spread(start, start + job.durationMinutes * 60_000, job.durationMinutes * job.bytesPerMinute);
      }
    }
    return values;
  }

  #memUsedPercent(times: readonly number[]): number[] {
    const { totalBytes, basePercent, noisePercent, leakPercentPerDay } = this.spec.memory;
    const rss = new Array<number>(times.length).fill(0);
    for (const spec of this.spec.mounts) {
      if (spec.type !== 'fuse.s3fs') continue;
      this.#eachDaemon(spec, times, (i, bytes) => {
        rss[i] = (rss[i] as number) + bytes;
      });
    }
    return times.map((t, i) => {
      const leak = (leakPercentPerDay * (t - this.bootAt(t))) / MS_PER_DAY;
      const level = basePercent + leak + ((rss[i] as number) / totalBytes) * 100;
      return Math.min(100, Math.max(0, level + noisePercent * normalAt(this.spec.seed, t / FIVE_MINUTES, 2)));
    });
  }

  #s3fsRss(times: readonly number[]): number[] {
    const sums = new Array<number>(times.length).fill(0);
    const counts = new Array<number>(times.length).fill(0);
    for (const spec of this.spec.mounts) {
      if (spec.type !== 'fuse.s3fs') continue;
      this.#eachDaemon(spec, times, (i, bytes) => {
        sums[i] = (sums[i] as number) + bytes;
        counts[i] = (counts[i] as number) + 1;
      });
    }
    return times.map((t, i) => {
      const n = counts[i] as number;
      if (n === 0) return Number.NaN;
      return (sums[i] as number) / n + 0.05 * MIB * normalAt(this.spec.seed, t / FIVE_MINUTES, 3);
    });
  }

  /** Calls `add(i, rss)` for each of `times` at which a daemon serves the mount. */
  #eachDaemon(spec: MountSpec, times: readonly number[], add: (i: number, bytes: number) => void): void {
    for (const segment of this.#daemonSegments(spec)) {
      const indices: number[] = [];
      for (let i = 0; i < times.length; i += 1) {
        const t = times[i] as number;
        if (t >= segment.from && t < segment.to) indices.push(i);
      }
      if (indices.length === 0) continue;
      const values = this.#rssSweep(
        spec,
        segment,
        indices.map((i) => times[i] as number),
      );
      indices.forEach((i, k) => {
        add(i, values[k] as number);
      });
    }
  }
}

/** s3fs's stat cache size for a mount: its `max_stat_cache_size` option, or the default. */
export function statCacheEntries(spec: MountSpec): number {
  const option = (spec.options ?? []).find((o) => o.startsWith('max_stat_cache_size='));
  const value = option === undefined ? Number.NaN : Number(option.slice('max_stat_cache_size='.length));
  return Number.isFinite(value) && value >= 0 ? value : DEFAULT_STAT_CACHE_ENTRIES;
}

/** A standard normal number from integers (Box–Muller on two hashed uniforms). */
function normalAt(seed: number, index: number, salt: number): number {
  const stream = (seed ^ Math.imul(salt, 0x9e3779b1)) >>> 0;
  const u = Math.max(hashUnit(stream, index, 1), 1e-12);
  const v = hashUnit(stream, index, 2);
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
}

function initialConf(spec: ConfSpec | undefined, distro: DistroFacts): UpdatedbConfState {
  const layout: UpdatedbConf | null = distro.conf;
  if (spec === undefined) return layout === null ? { kind: 'absent' } : { kind: 'file', conf: layout };
  if (spec.kind === 'absent') return { kind: 'absent' };
  if (spec.kind === 'malformed') return { kind: 'malformed', error: MALFORMED_CONF[spec.defect] };
  const base: UpdatedbConf = layout ?? {
    pruneFs: [],
    prunePaths: [],
    pruneNames: [],
    pruneBindMounts: null,
    lines: { PRUNE_BIND_MOUNTS: 1, PRUNEPATHS: 2, PRUNEFS: 3 },
    lineCount: 3,
  };
  const conf = withValues(base, spec);
  return spec.symlinkTo === undefined
    ? { kind: 'file', conf }
    : { kind: 'symlink', target: spec.symlinkTo, conf };
}
