/**
 * crawlguard's three document scripts as they behave on a simulated host: what each prints (the JSON of
 * shared/ssm/README.md), its exit code, how long it takes, and the changes it makes to the host at
 * which instant of its run. The decisions follow the real scripts (diagnose.sh, patch-updatedb-conf.sh,
 * restart-s3fs.sh), reading the host's state at the instant the script runs.
 */
import type { SsmDocumentName } from '#shared/ssm/build.ts';
import type { MountSpec, SimHost } from '../host.ts';
import { CONF_PATH, planPatch, type UpdatedbConf } from '../host-config.ts';
import { crontabTime } from '../host-schedule.ts';
import type { Random } from '../random.ts';
import {
  type DiagnoseOutput,
  type Diagnosis,
  PATCH_EXIT_CODES,
  type PatchOutput,
  RESTART_EXIT_CODES,
  type RestartMount,
  type RestartOutput,
} from './ssm-run-command-outputs.ts';

/** A change a script makes to its host, `offsetMs` after the script started. */
export interface ScriptEffect {
  readonly offsetMs: number;
  readonly label: string;
  readonly apply: (at: number) => void;
}

/** What one run of a script does. */
export interface ScriptRun {
  readonly exitCode: number;
  readonly output: DiagnoseOutput | PatchOutput | RestartOutput;
  readonly durationMs: number;
  /** In time order. */
  readonly effects: readonly ScriptEffect[];
  /** Where the script stops making progress if it hangs (ms after start): later effects never happen. */
  readonly hangAtMs: number;
  /** What a real script printed (an external host's run), shown as is instead of `output`'s JSON. */
  readonly printed?: { readonly stdout: string; readonly stderr: string };
}

export interface ScriptContext {
  readonly host: SimHost;
  /** The instant the script starts. */
  readonly at: number;
  readonly rng: Random;
  /** Parameters with the document's defaults filled in. */
  readonly parameters: Readonly<Record<string, string>>;
  /** Another patch run holds the lock on this host now. */
  readonly patchLockHeld: boolean;
}

/** Runs one of crawlguard's documents on a simulated host. */
export function runScript(document: SsmDocumentName, context: ScriptContext): ScriptRun {
  switch (document) {
    case 'diagnose':
      return diagnose(context);
    case 'patch-updatedb-conf':
      return patch(context);
    case 'restart-s3fs':
      return restart(context);
  }
}

// diagnose.sh's NETWORK_TYPES.
const NETWORK_TYPES = /^(fuse|fuse\..+|nfs|nfs4|cifs|smb3|smbfs|ceph|glusterfs|lustre|afs|ncpfs|davfs|9p)$/;

function diagnose({ host, at, rng }: ScriptContext): ScriptRun {
  const distro = host.distro;
  const conf = host.configAt(at);
  const installed = host.locate !== 'none';
  const parsed = conf.kind === 'file' || conf.kind === 'symlink' ? conf.conf : null;
  const schedule = host.schedule;
  const triggers = host.triggersAround(at);
  const mountsNow = host.mountsAt(at);
  const running = host.updatedbAt(at);
  const lastRun = installed ? host.lastRunAt(at) : null;

  const network = mountsNow.filter((m) => m.mounted && NETWORK_TYPES.test(m.spec.type)).reverse();
  const mounts = network.map((m) => {
    const verdict = host.crawlVerdictAt(m.spec, at);
    const method = mountMethod(m.spec);
    return {
      mountPoint: m.spec.mountPoint,
      type: m.spec.type,
      source: m.spec.source,
      mountedBy: method.method,
      unit: method.unit,
      fstabLine: m.spec.mountedBy === 'fstab' ? fstabLine(m.spec) : null,
      daemonPid: m.daemonPid,
      crawled: verdict.crawled,
      crawlReason: verdict.reason,
    };
  });
  const processes = mountsNow
    .filter((m) => m.daemonPid !== null)
    .sort((a, b) => String(a.daemonPid).localeCompare(String(b.daemonPid)))
    .map((m) => ({
      pid: m.daemonPid as number,
      mountPoint: m.spec.mountPoint,
      rssKiB: Math.round((host.rssBytesAt(m.spec.mountPoint, at) ?? 0) / 1024),
      maxStatCacheSize: numericOption(m.spec, 'max_stat_cache_size'),
      statCacheExpire: numericOption(m.spec, 'stat_cache_expire'),
      optionNames: processOptions(m.spec).map((option) => option.split('=')[0] ?? option),
    }));
  const timer =
    schedule.kind === 'systemdTimer'
      ? {
          unit: schedule.unit,
          unitFile: schedule.unitFile,
          onCalendar: 'daily',
          randomizedDelaySec: schedule.randomizedDelaySec > 0 ? timeSpan(schedule.randomizedDelaySec) : null,
          persistent: schedule.persistent ? 'true' : 'false',
          source: 'systemctl' as const,
          enabled: 'enabled',
          active: 'active',
          lastTrigger: triggers.last === null ? null : systemdTime(triggers.last, host.zone.timeZone),
          nextElapse: triggers.next === null ? null : systemdTime(triggers.next, host.zone.timeZone),
        }
      : null;
  const effective =
    !installed || schedule.kind === 'none'
      ? ('none' as const)
      : schedule.kind === 'systemdTimer'
        ? ('systemdTimer' as const)
        : ('cronDaily' as const);
  const crontabMinute = schedule.kind === 'cronDaily' ? schedule.minuteOfDay : 6 * 60 + 25;
  const output: Diagnosis = {
    document: 'crawlguard-diagnose',
    outputVersion: 1,
    status: 'ok',
    summary: {
      networkMounts: mounts.length,
      s3fsMounts: mounts.filter((m) => m.type === 'fuse.s3fs').length,
      crawledMounts: mounts.filter((m) => m.crawled).length,
      updatedbRunning: running !== null,
    },
    host: {
      hostname: hostname(host),
      kernel: distro.kernel,
      osId: distro.osId,
      osVersionId: distro.osVersionId,
      osPrettyName: distro.osPrettyName,
      initSystem: 'systemd',
    },
    locate: {
      implementation: host.locate,
      updatedbPath: installed ? distro.updatedbPath : null,
      // updatedb parses its config before --version: a malformed one leaves only the executable's name.
      version: installed && conf.kind !== 'malformed' ? distro.updatedbVersion : null,
      identifiedBy: installed ? (conf.kind === 'malformed' ? 'executable' : 'version') : null,
    },
    schedule: {
      cronDaily: installed
        ? distro.cronDaily
        : { script: null, exitsUnderSystemd: false, addsNodevFilesystems: false },
      crontabDailyTime: distro.crontabDaily ? crontabTime(crontabMinute) : null,
      anacron: {
        present: distro.anacron !== null,
        line: distro.anacron?.line ?? null,
        startHoursRange: distro.anacron?.startHoursRange ?? null,
        randomDelay: distro.anacron?.randomDelay ?? null,
      },
      cronDaemon: distro.cronDaemon,
      systemdTimer: installed ? timer : null,
      effective,
    },
    lastRun:
      lastRun === null
        ? null
        : { database: distro.database, modified: new Date(lastRun).toISOString().replace(/\.\d+Z$/, 'Z') },
    config: {
      path: CONF_PATH,
      exists: conf.kind !== 'absent',
      fileType: conf.kind === 'absent' ? 'absent' : 'regular',
      pruneFs: (parsed?.pruneFs ?? []).slice(0, 120),
      pruneFsTruncated: (parsed?.pruneFs.length ?? 0) > 120,
      prunePaths: (parsed?.prunePaths ?? []).slice(0, 60),
      prunePathsTruncated: (parsed?.prunePaths.length ?? 0) > 60,
      pruneNames: (parsed?.pruneNames ?? []).slice(0, 30),
      pruneBindMounts: parsed?.pruneBindMounts ?? null,
      error: conf.kind === 'malformed' ? conf.error : null,
    },
    mounts: mounts.slice(0, 40),
    mountsTruncated: mounts.length > 40,
    s3fsProcesses: processes.slice(0, 20),
    s3fsProcessesTruncated: processes.length > 20,
    updatedbRunning:
      running === null
        ? []
        : [
            {
              pid: running.run.pid,
              command: distro.updatedbComm,
              cwd: '/',
              crawlingMount: running.crawlingMount,
            },
          ],
    exitCode: 0,
  };
  const durationMs = rng.uniform(1_200, 3_500);
  // Over 23,000 characters the script keeps the verdicts and drops the lists (SSM cuts stdout at 24,000).
  const fits = JSON.stringify(output).length <= 23_000;
  const { document, outputVersion, status, summary, locate, schedule: when } = output;
  const cut: DiagnoseOutput = {
    document,
    outputVersion,
    status,
    summary,
    locate,
    schedule: when,
    outputTruncated: true,
    exitCode: 0,
  };
  return { exitCode: 0, output: fits ? output : cut, durationMs, effects: [], hangAtMs: durationMs * 0.3 };
}

function patch({ host, at, rng, parameters, patchLockHeld }: ScriptContext): ScriptRun {
  const mode = parameters.Mode === 'apply' ? 'apply' : 'check';
  const pruneFs = splitList(parameters.PruneFsTypes ?? 'fuse.s3fs');
  const prunePaths = splitList(parameters.PrunePaths ?? '');
  const installed = host.locate !== 'none';
  const durationMs = mode === 'apply' ? rng.uniform(1_500, 3_000) : rng.uniform(700, 1_500);
  const base: PatchOutput = {
    document: 'crawlguard-patch-updatedb-conf',
    outputVersion: 1,
    mode,
    status: 'failed',
    compliant: false,
    changed: false,
    configPath: CONF_PATH,
    configExisted: false,
    locateImplementation: host.locate,
    updatedbPath: installed ? host.distro.updatedbPath : null,
    pruneFsRequested: pruneFs,
    prunePathsRequested: prunePaths,
    missingPruneFs: [],
    missingPrunePaths: [],
    changes: [],
    backupPath: null,
    validated: null,
    validation: null,
    restored: false,
    reason: null,
    updatedbMessage: null,
    exitCode: 1,
  };
  const finish = (
    status: PatchOutput['status'],
    fields: Partial<PatchOutput>,
    effects: ScriptEffect[] = [],
  ): ScriptRun => ({
    exitCode: PATCH_EXIT_CODES[status],
    output: { ...base, ...fields, status, exitCode: PATCH_EXIT_CODES[status] },
    durationMs,
    effects,
    hangAtMs: durationMs * 0.5,
  });

  if (!installed) {
    return finish('notInstalled', {
      compliant: true,
      reason: 'no updatedb is installed: nothing crawls the mounts, nothing to patch',
    });
  }
  if (patchLockHeld) return finish('busy', { reason: 'another crawlguard patch run holds the lock' });
  const conf = host.configAt(at);
  if (conf.kind === 'symlink') {
    return finish('refused', { reason: `${CONF_PATH} is a symbolic link: edit its target by hand` });
  }
  const existed = conf.kind !== 'absent';
  if (conf.kind === 'malformed') return finish('refused', { configExisted: true, reason: conf.error });
  const current: UpdatedbConf | null = conf.kind === 'file' ? conf.conf : null;
  const plan = planPatch(current, { pruneFs, prunePaths });
  const found = {
    configExisted: existed,
    missingPruneFs: [...plan.missingPruneFs],
    missingPrunePaths: [...plan.missingPrunePaths],
    validated: existed ? true : null,
    validation: existed ? ('parse' as const) : null,
  };
  if (plan.changes.length === 0) return finish('alreadyCompliant', { ...found, compliant: true });
  const changes = plan.changes.map((change) => ({ ...change, added: [...change.added] }));
  if (mode === 'check') {
    return finish('nonCompliant', {
      ...found,
      changes,
      reason: `would add to ${CONF_PATH}: ${plan.missingPruneFs.join(' ')} ${plan.missingPrunePaths.join(' ')}`,
    });
  }
  const writtenAt = durationMs * 0.6;
  const backupPath = existed ? backupName(host, at + writtenAt) : null;
  return finish(
    'patched',
    {
      ...found,
      changes,
      compliant: true,
      changed: true,
      backupPath,
      validated: true,
      validation: 'emptyRun',
    },
    [
      {
        offsetMs: writtenAt,
        label: `write ${CONF_PATH}`,
        apply: (when) => {
          if (backupPath !== null) host.backups.push(backupPath);
          host.setConfig(when, { kind: 'file', conf: plan.after });
        },
      },
    ],
  );
}

/** `/etc/updatedb.conf.crawlguard-<UTC timestamp>[.n]`, as the script names its backups. */
function backupName(host: SimHost, at: number): string {
  const stamp = new Date(at)
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d+Z$/, 'Z');
  const base = `${CONF_PATH}.crawlguard-${stamp}`;
  let name = base;
  for (let n = 1; host.backups.includes(name); n += 1) name = `${base}.${n}`;
  return name;
}

function restart({ host, at, rng, parameters }: ScriptContext): ScriptRun {
  const mode = parameters.Mode === 'apply' ? 'apply' : 'check';
  const requested = splitList(parameters.Mounts ?? '');
  const mountsNow = host.mountsAt(at);
  const targets =
    requested.length > 0
      ? requested
      : mountsNow.filter((m) => m.mounted && m.spec.type === 'fuse.s3fs').map((m) => m.spec.mountPoint);
  const output = (
    status: RestartOutput['status'],
    mounts: RestartMount[],
    reason: string | null,
  ): RestartOutput => ({
    document: 'crawlguard-restart-s3fs',
    outputVersion: 1,
    mode,
    status,
    mounts: mounts.slice(0, 20),
    mountsTruncated: mounts.length > 20,
    reason,
    exitCode: RESTART_EXIT_CODES[status],
  });
  if (targets.length === 0) {
    const durationMs = rng.uniform(300, 700);
    return {
      exitCode: 0,
      output: output('nothingToDo', [], 'no fuse.s3fs mount on this host'),
      durationMs,
      effects: [],
      hangAtMs: durationMs / 2,
    };
  }

  const effects: ScriptEffect[] = [];
  const results: RestartMount[] = [];
  let elapsed = rng.uniform(200, 400);
  let hangAtMs = elapsed;
  let worst = 0;
  const running = host.updatedbAt(at);
  for (const dir of targets) {
    const now = mountsNow.find((m) => m.spec.mountPoint === dir && m.mounted);
    const spec = now?.spec;
    const empty: RestartMount = {
      mountPoint: dir,
      source: spec?.source ?? null,
      type: spec?.type ?? null,
      status: 'notMounted',
      reason: null,
      method: 'unknown',
      unit: null,
      methodDetail: null,
      holders: [],
      holdersTruncated: false,
      holderSource: null,
      updatedbCrawling: [],
      updatedbStopped: [],
      daemonPidBefore: null,
      daemonPidAfter: null,
      rssKiBBefore: null,
      rssKiBAfter: null,
      oldDaemonExited: null,
      remountAttempts: 0,
      verified: false,
      warnings: [],
    };
    if (spec === undefined || now === undefined) {
      results.push({ ...empty, reason: `${dir} is not mounted: if it should be, this is an outage` });
      worst = 1;
      continue;
    }
    if (spec.type !== 'fuse.s3fs') {
      results.push({ ...empty, status: 'refused', reason: `${dir} is ${spec.type}, not fuse.s3fs` });
      if (worst !== 1) worst = 4;
      continue;
    }
    const method = mountMethod(spec);
    const pid = now.daemonPid;
    const rssBefore = host.rssBytesAt(dir, at + elapsed);
    const crawling = running !== null && running.crawlingMount === dir ? [running.run.pid] : [];
    const writers = host.holdersAt(dir, at + elapsed).map((h) => ({ pid: h.pid, command: h.command }));
    const updatedbHolders = crawling.map((p) => ({ pid: p, command: host.distro.updatedbComm }));
    const common: RestartMount = {
      ...empty,
      status: 'ready',
      method: method.method,
      unit: method.unit,
      methodDetail: method.detail,
      holders: [...writers, ...updatedbHolders].slice(0, 20),
      holderSource: 'fuser+proc',
      updatedbCrawling: crawling,
      daemonPidBefore: pid,
      rssKiBBefore: rssBefore === null ? null : Math.round(rssBefore / 1024),
    };
    elapsed += rng.uniform(150, 400);
    if (mode === 'check') {
      const status = writers.length > 0 || crawling.length > 0 ? 'deferred' : 'ready';
      const reason =
        writers.length > 0
          ? `${writers.length} process(es) hold files on ${dir}: unmounting now could lose their data`
          : crawling.length > 0
            ? `updatedb is crawling ${dir} (apply mode stops it)`
            : `no process holds ${dir}; apply would unmount it and mount it again (${method.method})`;
      results.push({ ...common, status, reason });
      if (status === 'deferred' && worst === 0) worst = 3;
      continue;
    }
    let stopped: number[] = [];
    if (crawling.length > 0) {
      // SIGTERM to the crawling updatedb only: it re-lists the mount, stopping it loses nothing.
      stopped = crawling;
      effects.push({
        offsetMs: elapsed,
        label: 'SIGTERM updatedb',
        apply: (when) => host.stopUpdatedb(when),
      });
      elapsed += rng.uniform(200, 800);
    }
    if (writers.length > 0) {
      results.push({
        ...common,
        status: 'deferred',
        holders: writers,
        updatedbStopped: stopped,
        reason: `${writers.length} process(es) hold files on ${dir}: unmounting now could lose their data`,
      });
      if (worst === 0) worst = 3;
      continue;
    }
    const umountAt = elapsed;
    effects.push({ offsetMs: umountAt, label: `umount ${dir}`, apply: (when) => host.unmount(when, dir) });
    hangAtMs = umountAt + 1;
    elapsed += rng.uniform(500, 3_000); // the old s3fs flushes and exits by itself
    elapsed += rng.uniform(400, 1_500); // mount, then a listing to verify
    const remountAt = elapsed;
    const newPid = host.allocatePid();
    effects.push({
      offsetMs: remountAt,
      label: `mount ${dir}`,
      apply: (when) => {
        host.remount(when, dir, newPid);
      },
    });
    elapsed += rng.uniform(150, 400);
    results.push({
      ...common,
      status: 'restarted',
      holders: [],
      updatedbStopped: stopped,
      daemonPidAfter: newPid,
      rssKiBAfter: Math.round((host.spec.memory.s3fs.baseRssBytes + rng.uniform(-0.2e6, 0.4e6)) / 1024),
      oldDaemonExited: true,
      remountAttempts: 1,
      verified: true,
    });
  }
  const durationMs = elapsed + rng.uniform(100, 300);
  const status: RestartOutput['status'] =
    worst === 1
      ? 'failed'
      : worst === 4
        ? 'refused'
        : worst === 3
          ? 'deferred'
          : mode === 'check'
            ? 'checked'
            : 'restarted';
  const reason =
    status === 'failed'
      ? 'at least one mount is missing or failed: see mounts[].reason'
      : status === 'refused'
        ? 'at least one mount was refused: see mounts[].reason'
        : status === 'deferred'
          ? 'at least one mount was deferred: see mounts[].holders'
          : null;
  return {
    exitCode: RESTART_EXIT_CODES[status],
    output: output(status, results, reason),
    durationMs,
    effects,
    hangAtMs,
  };
}

// --- how mounts look from the instance ----------------------------------------------------------------------

/** restart-s3fs.sh's mount_method: how it would mount `spec` again. */
function mountMethod(spec: MountSpec): {
  method: RestartMount['method'];
  unit: string | null;
  detail: string | null;
} {
  if (spec.type !== 'fuse.s3fs') return { method: 'unknown', unit: null, detail: null };
  switch (spec.mountedBy) {
    case 'fstab':
      return { method: 'fstab', unit: null, detail: fstabLine(spec) };
    case 'systemdMount': {
      const unit = `${spec.mountPoint.replace(/^\//, '').replace(/-/g, '\\x2d').replace(/\//g, '-')}.mount`;
      return { method: 'systemdMount', unit, detail: `/etc/systemd/system/${unit}` };
    }
    case 'systemdService':
      return { method: 'systemdService', unit: `s3fs-${spec.bucket}.service`, detail: null };
    case 'process':
      return {
        method: 'process',
        unit: null,
        detail: `s3fs ${spec.bucket} ${spec.mountPoint} -o ${processOptions(spec).join(',')}`.slice(0, 500),
      };
  }
}

function fstabLine(spec: MountSpec): string {
  return `${spec.bucket} ${spec.mountPoint} ${spec.type} ${(spec.options ?? ['defaults']).join(',')} 0 0`;
}

/** The `-o` options on the s3fs command line (mount.fuse adds rw, dev and suid for fstab and unit mounts). */
function processOptions(spec: MountSpec): string[] {
  const options = [...(spec.options ?? [])];
  return spec.mountedBy === 'fstab' || spec.mountedBy === 'systemdMount'
    ? ['rw', ...options, 'dev', 'suid']
    : options;
}

function numericOption(spec: MountSpec, name: string): number | null {
  const option = (spec.options ?? []).find((o) => o.startsWith(`${name}=`));
  const value = option === undefined ? Number.NaN : Number(option.slice(name.length + 1));
  return Number.isInteger(value) ? value : null;
}

function hostname(host: SimHost): string {
  const seed = host.spec.seed >>> 0;
  return `ip-10-0-${(seed >>> 8) & 0xff}-${seed & 0xff}`;
}

/** A systemd time span as `systemctl show` prints a configured value (12h, 30min, 45s). */
function timeSpan(seconds: number): string {
  if (seconds % 3600 === 0) return `${seconds / 3600}h`;
  if (seconds % 60 === 0) return `${seconds / 60}min`;
  return `${seconds}s`;
}

/** A timestamp as systemctl shows it: `Tue 2026-11-03 07:12:01 UTC`, in the host's zone. */
function systemdTime(at: number, timeZone: string): string {
  const parts = Object.fromEntries(
    new Intl.DateTimeFormat('en-US', {
      timeZone,
      weekday: 'short',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
      hourCycle: 'h23',
      timeZoneName: 'short',
    })
      .formatToParts(at)
      .map((part) => [part.type, part.value]),
  );
  return `${parts.weekday} ${parts.year}-${parts.month}-${parts.day} ${parts.hour}:${parts.minute}:${parts.second} ${parts.timeZoneName}`;
}

function splitList(value: string): string[] {
  return value === '' ? [] : value.split(',');
}
