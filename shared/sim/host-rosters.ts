/**
 * Ready-made fleets of modelled hosts: {@link demoHosts} (a few dozen, one of each case an operator meets,
 * for `npm start`) and {@link faultHosts} (hundreds, mostly crawled, with variety, for a fault-injection
 * run). Each host says what the detectors should conclude (`behaviour`); test/sim/host-rosters.test.ts
 * runs the real detectors on every one.
 */
import { MS_PER_DAY } from '#core/time-zone.ts';
import { SIMULATED_START } from './fleet.ts';
import { type Behaviour, mix, OPT_IN_VALUE } from './fleet-model.ts';
import {
  type ConfSpec,
  DEFAULT_S3FS_MEMORY,
  type HostQuirks,
  type HostSpec,
  type MountSpec,
  type TrafficSpec,
} from './host.ts';
import { DEFAULT_CONFS } from './host-config.ts';
import { DISTROS, type Distro } from './host-distros.ts';
import { CRON_DAILY_0625 } from './host-schedule.ts';
import { type Random, seededRandom } from './random.ts';

const HOUR = 3_600_000;
const HOST_STREAM = 0x686f7374;
const GIB = 1_073_741_824;

/** An s3fs mount of `bucket` at `mountPoint` with `objects` objects. */
export function s3fsMount(
  mountPoint: string,
  objects: number,
  options: Partial<Omit<MountSpec, 'mountPoint' | 'objects'>> = {},
): MountSpec {
  return {
    mountPoint,
    type: 'fuse.s3fs',
    source: 's3fs',
    bucket: options.bucket ?? `acme-${mountPoint.split('/').at(-1) ?? 'data'}`,
    mountedBy: options.mountedBy ?? 'fstab',
    options: options.options ?? ['_netdev', 'allow_other', 'use_path_request_style'],
    objects,
  };
}

/** The distribution's /etc/updatedb.conf with more types and paths pruned (what an operator may have added). */
export function distroConf(
  distro: Distro,
  extra: { pruneFs?: readonly string[]; prunePaths?: readonly string[]; symlinkTo?: string } = {},
): ConfSpec {
  const base = DISTROS[distro].conf ?? DEFAULT_CONFS.debian;
  return {
    kind: 'parsed',
    pruneFs: [...base.pruneFs, ...(extra.pruneFs ?? [])],
    prunePaths: [...base.prunePaths, ...(extra.prunePaths ?? [])],
    pruneBindMounts: base.pruneBindMounts,
    ...(extra.symlinkTo === undefined ? {} : { symlinkTo: extra.symlinkTo }),
  };
}

interface Draft {
  readonly name: string;
  readonly behaviour: Behaviour;
  readonly distro: Distro;
  readonly mounts: readonly MountSpec[];
  readonly optIn?: string | null;
  readonly timeZone?: string;
  readonly config?: ConfSpec;
  readonly schedule?: HostSpec['schedule'];
  readonly locate?: HostSpec['locate'];
  readonly holders?: HostSpec['holders'];
  readonly jobs?: HostSpec['jobs'];
  readonly traffic?: Partial<TrafficSpec>;
  readonly leakPercentPerDay?: number;
  readonly totalBytes?: number;
  readonly agent?: HostSpec['agent'];
  readonly launchedDaysAgo?: number;
  readonly quirks?: HostQuirks;
}

/** A complete spec from a draft: an instance id, traffic, memory and agent drawn from the seed. */
function build(draft: Draft, seed: number, index: number, startMs: number): HostSpec {
  // Another stream than the scenario fleet's mix(seed, index): a roster and a fleet of the same seed share no id.
  const hostSeed = mix(mix(seed, HOST_STREAM), index);
  const rng = seededRandom(hostSeed);
  const instanceId = `i-0${hex(rng, 8)}${hex(rng, 8)}`;
  const traffic: TrafficSpec = {
    baseBytesPerMinute: rng.logNormal(150_000, 0.5),
    diurnal: rng.uniform(0, 0.35),
    noiseCv: rng.uniform(0.05, 0.15),
    ...draft.traffic,
  };
  return {
    instanceId,
    name: draft.name,
    behaviour: draft.behaviour,
    seed: hostSeed,
    optIn: draft.optIn === undefined ? OPT_IN_VALUE : draft.optIn,
    distro: draft.distro,
    ...(draft.timeZone === undefined ? {} : { timeZone: draft.timeZone }),
    ...(draft.locate === undefined ? {} : { locate: draft.locate }),
    ...(draft.schedule === undefined ? {} : { schedule: draft.schedule }),
    ...(draft.config === undefined ? {} : { config: draft.config }),
    mounts: draft.mounts,
    ...(draft.holders === undefined ? {} : { holders: draft.holders }),
    traffic,
    ...(draft.jobs === undefined ? {} : { jobs: draft.jobs }),
    memory: {
      totalBytes: draft.totalBytes ?? 8 * GIB,
      basePercent: rng.uniform(12, 30),
      noisePercent: rng.uniform(0.2, 0.6),
      leakPercentPerDay: draft.leakPercentPerDay ?? 0,
      s3fs: DEFAULT_S3FS_MEMORY,
    },
    agent: draft.agent === undefined ? { memory: 'instance', procstat: 'exe' } : draft.agent,
    launchedAtMs: startMs - (draft.launchedDaysAgo ?? 30) * MS_PER_DAY - rng.uniform(0, 6) * HOUR,
    ...(draft.quirks === undefined ? {} : { quirks: draft.quirks }),
  };
}

function hex(rng: Random, n: number): string {
  return Math.floor(rng.next() * 2 ** 32)
    .toString(16)
    .padStart(8, '0')
    .slice(0, n);
}

const backup = {
  name: 'backup-upload',
  minuteOfDay: 120,
  jitterMinutes: 4,
  durationMinutes: 30,
  bytesPerMinute: 8e6,
};

/**
 * A few dozen hosts for `npm start`, one of each case an operator meets: crawled by cron.daily (06:25,
 * in UTC and in Paris time), by anacron (Amazon Linux 2), by plocate's systemd timer (12 h random delay)
 * and by RHEL's timer (a stable time per host); leaking for another reason; a 02:00 backup upload that
 * is not updatedb; healthy hosts of every distribution (already pruned, under /mnt on RHEL, no locate,
 * a config updatedb rejects so it indexes nothing); one not opted in and one with a hostile tag value;
 * one whose writer holds the s3fs mount for hours; one in an Auto Scaling group; one whose updatedb.conf
 * is a symbolic link (the patch refuses it); one SSM does not manage, one whose agent lost its
 * connection; one that stops and one that is terminated during the run; one whose shell prints a banner.
 * `startMs` is the fleet's start (its clock's first instant; default the fleet's default).
 */
export function demoHosts(seed: number, startMs: number = SIMULATED_START): HostSpec[] {
  const crawled = 'updatedb-crawl' as const;
  const drafts: Draft[] = [
    {
      name: 'cron-media-1',
      behaviour: crawled,
      distro: 'ubuntu-20.04',
      mounts: [s3fsMount('/srv/media', 60_000)],
    },
    {
      name: 'cron-media-paris',
      behaviour: crawled,
      distro: 'ubuntu-20.04',
      timeZone: 'Europe/Paris',
      mounts: [s3fsMount('/srv/assets', 45_000)],
      agent: { memory: 'both', procstat: 'pattern' },
    },
    {
      name: 'cron-small-ram',
      behaviour: crawled,
      distro: 'ubuntu-20.04',
      mounts: [s3fsMount('/data/archive', 80_000, { mountedBy: 'systemdMount' })],
      totalBytes: 2 * GIB,
      agent: { memory: 'instance', procstat: null },
    },
    {
      name: 'anacron-al2',
      behaviour: crawled,
      distro: 'amazon-linux-2',
      mounts: [s3fsMount('/data/uploads', 50_000)],
    },
    {
      name: 'anacron-al2-service',
      behaviour: crawled,
      distro: 'amazon-linux-2',
      mounts: [s3fsMount('/srv/exports', 35_000, { mountedBy: 'systemdService' })],
    },
    {
      name: 'timer-debian-1',
      behaviour: crawled,
      distro: 'debian-12',
      mounts: [s3fsMount('/mnt/media', 40_000)],
    },
    {
      name: 'timer-ubuntu-2204',
      behaviour: crawled,
      distro: 'ubuntu-22.04',
      mounts: [s3fsMount('/mnt/reports', 30_000, { mountedBy: 'process' })],
    },
    {
      name: 'timer-ubuntu-2404',
      behaviour: crawled,
      distro: 'ubuntu-24.04',
      mounts: [
        s3fsMount('/var/www/static', 70_000),
        { ...s3fsMount('/mnt/rclone', 5_000), type: 'fuse.rclone', source: 'remote:' },
      ],
    },
    {
      name: 'timer-rhel9',
      behaviour: crawled,
      distro: 'rhel-9',
      mounts: [s3fsMount('/srv/s3', 55_000)],
    },
    {
      name: 'two-mounts-one-pruned',
      behaviour: crawled,
      distro: 'debian-12',
      config: distroConf('debian-12', { prunePaths: ['/srv/cold'] }),
      mounts: [s3fsMount('/srv/hot', 40_000), s3fsMount('/srv/cold', 200_000)],
    },
    // Leaking for another reason: the application's memory, no crawl (s3fs already pruned, or none).
    {
      name: 'app-leak',
      behaviour: 'memory-growth',
      distro: 'debian-12',
      mounts: [],
      leakPercentPerDay: 2.5,
      launchedDaysAgo: 18,
      agent: { memory: 'instance', procstat: null },
    },
    {
      name: 'app-leak-pruned-s3fs',
      behaviour: 'memory-growth',
      distro: 'ubuntu-22.04',
      config: distroConf('ubuntu-22.04', { pruneFs: ['fuse.s3fs'] }),
      mounts: [s3fsMount('/mnt/logs', 30_000)],
      leakPercentPerDay: 1.8,
      launchedDaysAgo: 20,
    },
    // A daily job that is not updatedb: a recurring window, no memory growth.
    {
      name: 'backup-0200',
      behaviour: 'daily-network-burst',
      distro: 'amazon-linux-2',
      mounts: [s3fsMount('/mnt/backup', 20_000)],
      jobs: [backup],
    },
    {
      name: 'backup-0200-no-s3fs',
      behaviour: 'daily-network-burst',
      distro: 'debian-12',
      mounts: [],
      jobs: [{ ...backup, bytesPerMinute: 5e6, durationMinutes: 40 }],
      agent: { memory: 'instance', procstat: null },
    },
    // Healthy.
    {
      name: 'healthy-pruned',
      behaviour: 'healthy',
      distro: 'debian-12',
      config: distroConf('debian-12', { pruneFs: ['fuse.s3fs'] }),
      mounts: [s3fsMount('/srv/media', 60_000)],
    },
    {
      name: 'healthy-rhel-mnt',
      behaviour: 'healthy',
      distro: 'rhel-8',
      mounts: [s3fsMount('/mnt/data', 40_000)],
    },
    {
      name: 'healthy-al2023',
      behaviour: 'healthy',
      distro: 'amazon-linux-2023',
      mounts: [s3fsMount('/srv/media', 60_000)],
    },
    {
      name: 'healthy-nfs',
      behaviour: 'healthy',
      distro: 'ubuntu-22.04',
      mounts: [
        {
          mountPoint: '/srv/efs',
          type: 'nfs4',
          source: 'fs-0123456789abcdef0.efs.us-east-1.amazonaws.com:/',
          bucket: 'fs-0123456789abcdef0',
          mountedBy: 'fstab',
          objects: 100_000,
        },
      ],
      agent: { memory: 'instance', procstat: null },
    },
    { name: 'healthy-web', behaviour: 'healthy', distro: 'debian-12', mounts: [], traffic: { diurnal: 0.5 } },
    { name: 'healthy-no-agent', behaviour: 'healthy', distro: 'ubuntu-24.04', mounts: [], agent: null },
    {
      name: 'healthy-broken-conf',
      behaviour: 'healthy',
      distro: 'ubuntu-20.04',
      config: { kind: 'malformed', defect: 'duplicate-prunefs' },
      mounts: [s3fsMount('/srv/media', 60_000)],
    },
    // Crawled, with a twist for the remediation.
    {
      name: 'not-opted-in',
      behaviour: crawled,
      distro: 'ubuntu-20.04',
      optIn: null,
      mounts: [s3fsMount('/srv/media', 50_000)],
    },
    {
      name: 'hostile-tag',
      behaviour: crawled,
      distro: 'ubuntu-20.04',
      optIn: 'true; reboot',
      mounts: [s3fsMount('/srv/media', 50_000)],
    },
    {
      name: 'writer-holds-mount',
      behaviour: crawled,
      distro: 'debian-12',
      mounts: [s3fsMount('/mnt/ingest', 45_000)],
      holders: [
        {
          pid: 4242,
          command: 'python3',
          mountPoint: '/mnt/ingest',
          fromMs: startMs - 2 * HOUR,
          toMs: startMs + 6 * HOUR,
        },
      ],
    },
    {
      name: 'asg-member',
      behaviour: crawled,
      distro: 'amazon-linux-2',
      mounts: [s3fsMount('/data/shared', 40_000)],
      agent: { memory: 'appended', procstat: 'exe' },
      quirks: { autoScalingGroup: 'web-asg-blue' },
    },
    {
      name: 'conf-symlink',
      behaviour: crawled,
      distro: 'ubuntu-20.04',
      config: distroConf('ubuntu-20.04', { symlinkTo: '/etc/puppet/files/updatedb.conf' }),
      mounts: [s3fsMount('/srv/media', 50_000)],
    },
    {
      name: 'unmanaged',
      behaviour: crawled,
      distro: 'ubuntu-20.04',
      mounts: [s3fsMount('/srv/media', 50_000)],
      quirks: { ssm: 'unmanaged' },
    },
    {
      name: 'agent-connection-lost',
      behaviour: crawled,
      distro: 'debian-12',
      mounts: [s3fsMount('/mnt/media', 40_000)],
      quirks: { ssm: 'ConnectionLost' },
    },
    {
      name: 'stops-mid-run',
      behaviour: crawled,
      distro: 'ubuntu-20.04',
      mounts: [s3fsMount('/srv/media', 50_000)],
      quirks: { stopsAtMs: startMs + 1 * HOUR },
    },
    {
      name: 'terminated-mid-run',
      behaviour: crawled,
      distro: 'amazon-linux-2',
      mounts: [s3fsMount('/data/media', 50_000)],
      quirks: { terminatesAtMs: startMs + 2 * HOUR, autoScalingGroup: 'batch-asg' },
    },
    {
      name: 'noisy-shell',
      behaviour: crawled,
      distro: 'ubuntu-20.04',
      mounts: [s3fsMount('/srv/media', 50_000)],
      quirks: { noisyShell: true },
    },
  ];
  return drafts.map((draft, index) => build(draft, seed, index, startMs));
}

/**
 * `count` hosts for a fault-injection run, about 85 % of them crawled (every schedule, distribution and
 * mount method, buckets of 20,000 to 150,000 objects), the rest leaking, running a backup, or healthy;
 * with writers, Auto Scaling groups, symlinked configs, unmanaged and offline agents, stops,
 * terminations, noisy shells and hanging scripts sprinkled in. About 0.9 × `count` findings.
 */
export function faultHosts(count: number, seed: number, startMs: number = SIMULATED_START): HostSpec[] {
  const hosts: HostSpec[] = [];
  for (let index = 0; index < count; index += 1) {
    const rng = seededRandom(mix(seed ^ 0xfa17, index));
    hosts.push(build(faultDraft(rng, index, startMs), seed ^ 0xfa17, index, startMs));
  }
  return hosts;
}

function faultDraft(rng: Random, index: number, startMs: number): Draft {
  const roll = rng.next();
  const name = `fault-${String(index).padStart(4, '0')}`;
  if (roll >= 0.85) {
    if (roll < 0.9) {
      return {
        name,
        behaviour: 'memory-growth',
        distro: 'debian-12',
        mounts: [],
        leakPercentPerDay: rng.uniform(1.5, 3),
        launchedDaysAgo: 18,
        agent: { memory: 'instance', procstat: null },
      };
    }
    if (roll < 0.93) {
      return {
        name,
        behaviour: 'daily-network-burst',
        distro: 'amazon-linux-2',
        mounts: [s3fsMount('/mnt/backup', 20_000)],
        jobs: [backup],
      };
    }
    return {
      name,
      behaviour: 'healthy',
      distro: rng.pick(['debian-12', 'rhel-9', 'amazon-linux-2023'] as const),
      mounts: [],
    };
  }
  const distro = rng.pick([
    'ubuntu-20.04',
    'ubuntu-20.04',
    'amazon-linux-2',
    'debian-12',
    'ubuntu-22.04',
    'ubuntu-24.04',
    'rhel-9',
  ] as const);
  // RHEL and Amazon Linux prune /mnt: their crawled mounts live elsewhere.
  const prunesMnt = distro === 'rhel-9' || distro === 'amazon-linux-2';
  const mountPoint = `${prunesMnt ? rng.pick(['/srv', '/data']) : rng.pick(['/srv', '/data', '/mnt'])}/${rng.pick(['media', 'assets', 'exports', 'reports', 'ingest'])}`;
  const method = rng.pick(['fstab', 'fstab', 'fstab', 'systemdMount', 'systemdService', 'process'] as const);
  const mount = s3fsMount(mountPoint, Math.round(rng.uniform(20_000, 150_000)), { mountedBy: method });
  const twist = rng.next();
  const quirks: HostQuirks =
    twist < 0.05
      ? { autoScalingGroup: `asg-${index % 7}` }
      : twist < 0.07
        ? { noisyShell: true }
        : twist < 0.08
          ? { hangs: [rng.pick(['diagnose', 'patch-updatedb-conf', 'restart-s3fs'] as const)] }
          : twist < 0.09
            ? { ssm: 'unmanaged' }
            : twist < 0.1
              ? { ssm: 'ConnectionLost' }
              : twist < 0.11
                ? { stopsAtMs: startMs + rng.uniform(1, 12) * HOUR }
                : twist < 0.12
                  ? { terminatesAtMs: startMs + rng.uniform(1, 12) * HOUR }
                  : {};
  const writer =
    rng.next() < 0.05
      ? [
          {
            pid: 4000 + index,
            command: rng.pick(['python3', 'rsync', 'java']),
            mountPoint,
            fromMs: startMs - HOUR,
            toMs: startMs + rng.uniform(1, 8) * HOUR,
          },
        ]
      : undefined;
  const symlink = rng.next() < 0.02;
  return {
    name,
    behaviour: 'updatedb-crawl',
    distro,
    mounts: [mount],
    ...(distro === 'ubuntu-20.04' && rng.next() < 0.2 ? { schedule: CRON_DAILY_0625 } : {}),
    ...(symlink ? { config: distroConf(distro, { symlinkTo: '/etc/ansible/updatedb.conf' }) } : {}),
    ...(writer === undefined ? {} : { holders: writer }),
    quirks,
  };
}
