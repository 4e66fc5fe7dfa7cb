/**
 * What to change on an instance, decided from the diagnose document's report: which mounts updatedb
 * crawls, which filesystem types or paths to add to PRUNEFS / PRUNEPATHS, which s3fs mounts to restart,
 * and when the crawl would run (for verification). Pure: the diagnosis is validated at the edge.
 */
import type { FindingKind } from '../assessment.ts';

/** The parts of the diagnose document's JSON output (shared/ssm/README.md) a plan is made from. */
export interface Diagnosis {
  readonly status: string;
  readonly locate: { readonly implementation: string | null };
  readonly schedule: {
    readonly effective: string | null;
    readonly crontabDailyTime?: string | null;
    readonly systemdTimer?: {
      readonly onCalendar?: string | null;
      readonly randomizedDelaySec?: string | null;
    } | null;
    readonly anacron?: { readonly randomDelay?: string | number | null } | null;
  };
  readonly config: { readonly exists: boolean; readonly error?: string | null };
  readonly mounts: readonly {
    readonly mountPoint: string;
    readonly type: string;
    readonly source?: string | null;
    /** null: diagnose could not tell (the config was not parsed). */
    readonly crawled: boolean | null;
    readonly crawlReason?: string | null;
  }[];
}

/** When updatedb runs on the host, for verification. */
export type CrawlSchedule =
  | { readonly kind: 'cron-daily'; readonly minuteOfDay: number; readonly jitterMinutes: number }
  | { readonly kind: 'systemd-timer'; readonly randomDelayMinutes: number }
  | { readonly kind: 'unknown' };

export interface RemediationPlan {
  /** `patch`: prune what is crawled (then restart if asked); `not-updatedb`: nothing updatedb crawls is ours. */
  readonly action: 'patch' | 'not-updatedb' | 'escalate';
  readonly reason: string;
  readonly pruneFsTypes: readonly string[];
  readonly prunePaths: readonly string[];
  /** Mount points of the crawled s3fs mounts to restart; empty: no restart. */
  readonly restartMounts: readonly string[];
  readonly restartReason: string | null;
  /** Every crawled network mount, pruned by this plan or not. */
  readonly crawled: readonly {
    readonly mountPoint: string;
    readonly type: string;
    readonly pruned: boolean;
  }[];
  readonly schedule: CrawlSchedule;
}

export interface PlanOptions {
  /** Restart s3fs even without memory growth (the policy asks). */
  readonly alwaysRestart: boolean;
}

// Object-storage FUSE mounts whose crawl costs requests: crawlguard prunes their type. Types as /proc/mounts
// shows them (DOMAIN.md); a plain `fuse` mount is pruned by its path (pruning `fuse` would hide every FUSE).
const OBJECT_STORAGE_TYPES = new Set([
  'fuse.s3fs',
  'fuse.goofys',
  'fuse.gcsfuse',
  'fuse.rclone',
  'fuse.juicefs',
  'fuse.mountpoint-s3',
  'fuse.blobfuse',
  'fuse.blobfuse2',
]);
const PLAIN_FUSE = new Set(['fuse', 'fuseblk']);
// What the patch document's PrunePaths allows (allowedPattern): a path of plain segments.
const PRUNABLE_PATH = /^(\/\.?[A-Za-z0-9_@+-]+(\.[A-Za-z0-9_@+-]+)*){1,16}$/;
const MEMORY_KINDS: readonly FindingKind[] = ['memory-growth', 'updatedb-crawl'];

/** The plan for an instance, from what diagnose saw and which findings the episode holds. */
export function planFromDiagnosis(
  diagnosis: Diagnosis,
  kinds: readonly FindingKind[],
  options: PlanOptions,
): RemediationPlan {
  const schedule = crawlSchedule(diagnosis);
  const empty = { pruneFsTypes: [], prunePaths: [], restartMounts: [], restartReason: null, schedule };
  const implementation = diagnosis.locate.implementation ?? 'unknown';
  const crawled = diagnosis.mounts.filter((mount) => mount.crawled === true);
  const unknown = diagnosis.mounts.filter((mount) => mount.crawled === null);
  if (implementation !== 'none' && unknown.length > 0) {
    const why = diagnosis.config.error ?? 'updatedb.conf was not parsed';
    return {
      action: 'escalate',
      reason: `cannot tell whether updatedb crawls ${unknown.map((m) => m.mountPoint).join(', ')}: ${why}`,
      crawled: [],
      ...empty,
    };
  }
  if (implementation === 'none' || crawled.length === 0) {
    const why =
      implementation === 'none'
        ? 'no updatedb is installed'
        : `updatedb (${implementation}) crawls none of the ${diagnosis.mounts.length} network mount(s)`;
    return { action: 'not-updatedb', reason: `${why}: the traffic is not updatedb's`, crawled: [], ...empty };
  }
  if (diagnosis.config.error != null && diagnosis.config.error !== '') {
    return {
      action: 'escalate',
      reason: `updatedb.conf cannot be patched safely: ${diagnosis.config.error}`,
      crawled: crawled.map((mount) => ({ mountPoint: mount.mountPoint, type: mount.type, pruned: false })),
      ...empty,
    };
  }
  const fsTypes = new Set<string>();
  const paths = new Set<string>();
  const unprunable: string[] = [];
  const marks = crawled.map((mount) => {
    const type = mount.type.toLowerCase();
    if (OBJECT_STORAGE_TYPES.has(type)) fsTypes.add(type);
    else if (PLAIN_FUSE.has(type) && isS3fsSource(mount.source) && PRUNABLE_PATH.test(mount.mountPoint))
      paths.add(mount.mountPoint);
    else {
      unprunable.push(`${mount.mountPoint} (${mount.type})`);
      return { mountPoint: mount.mountPoint, type: mount.type, pruned: false };
    }
    return { mountPoint: mount.mountPoint, type: mount.type, pruned: true };
  });
  if (fsTypes.size === 0 && paths.size === 0) {
    return {
      action: 'not-updatedb',
      reason: `updatedb crawls only mounts that are not object storage: ${unprunable.join(', ')}`,
      crawled: marks,
      ...empty,
    };
  }
  const s3fsCrawled = crawled
    .filter((mount) => mount.type.toLowerCase() === 'fuse.s3fs' || paths.has(mount.mountPoint))
    .map((mount) => mount.mountPoint);
  const growth = kinds.some((kind) => MEMORY_KINDS.includes(kind));
  const restart = s3fsCrawled.length > 0 && (growth || options.alwaysRestart);
  const pruned = [
    ...[...fsTypes].map((t) => `${t} in PRUNEFS`),
    ...[...paths].map((p) => `${p} in PRUNEPATHS`),
  ];
  return {
    action: 'patch',
    reason:
      `updatedb (${implementation}) crawls ${crawled.length} network mount(s); add ${pruned.join(' and ')}` +
      (unprunable.length > 0 ? `; left alone: ${unprunable.join(', ')}` : ''),
    pruneFsTypes: [...fsTypes].sort(),
    prunePaths: [...paths].sort(),
    restartMounts: restart ? s3fsCrawled : [],
    restartReason: restart
      ? growth
        ? `memory growth was found (${kinds.join(', ')}): restart s3fs to release its caches`
        : 'the policy restarts s3fs after every patch'
      : s3fsCrawled.length === 0
        ? 'no s3fs mount to restart'
        : 'no memory growth was found: s3fs keeps running',
    crawled: marks,
    schedule,
  };
}

/** The old fstab form names the bucket `s3fs#bucket`. */
function isS3fsSource(source: string | null | undefined): boolean {
  return typeof source === 'string' && /^s3fs(#|$)/.test(source);
}

/** When the crawl runs: a fixed cron.daily minute (anacron jitter), a systemd timer's random delay. */
export function crawlSchedule(diagnosis: Diagnosis): CrawlSchedule {
  const { schedule } = diagnosis;
  if (schedule.effective === 'systemdTimer') {
    return {
      kind: 'systemd-timer',
      randomDelayMinutes: durationMinutes(schedule.systemdTimer?.randomizedDelaySec),
    };
  }
  if (schedule.effective === 'cronDaily') {
    const match = /^(\d{1,2})\s+(\d{1,2})\s/.exec(schedule.crontabDailyTime ?? '');
    if (match !== null) {
      const minute = Number(match[1]);
      const hour = Number(match[2]);
      if (minute < 60 && hour < 24) {
        return {
          kind: 'cron-daily',
          minuteOfDay: hour * 60 + minute,
          // anacrontab's RANDOM_DELAY is in minutes.
          jitterMinutes: Math.max(0, Number(schedule.anacron?.randomDelay ?? 0) || 0),
        };
      }
    }
  }
  return { kind: 'unknown' };
}

/** systemd time spans (`12h`, `1h 30min`, `3600s`, a bare number of seconds), in minutes. */
function durationMinutes(value: string | null | undefined): number {
  if (value === null || value === undefined) return 0;
  let seconds = 0;
  const text = value.trim();
  if (/^\d+$/.test(text)) return Number(text) / 60;
  for (const [, amount, unit] of text.matchAll(
    /(\d+(?:\.\d+)?)\s*(h|hr|hours?|min|minutes?|m|s|sec|seconds?|d|days?)\b/g,
  )) {
    const n = Number(amount);
    const factor = /^d/.test(unit ?? '')
      ? 86_400
      : /^h/.test(unit ?? '')
        ? 3600
        : /^(m|min)/.test(unit ?? '')
          ? 60
          : 1;
    seconds += n * factor;
  }
  return seconds / 60;
}
