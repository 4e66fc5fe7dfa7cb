/**
 * What a fresh instance of each distribution has that matters to crawlguard: its locate, the default
 * /etc/updatedb.conf, what starts updatedb each day and the facts diagnose.sh reports about it (DOMAIN.md's
 * table; Ubuntu's files are taken as Debian's, which DOMAIN.md marks unverified).
 */
import { DEFAULT_CONFS, type UpdatedbConf } from './host-config.ts';
import {
  ANACRON_AL2,
  CRON_DAILY_0625,
  MLOCATE_TIMER,
  PLOCATE_TIMER,
  type UpdatedbSchedule,
} from './host-schedule.ts';

export type Distro =
  | 'debian-12'
  | 'ubuntu-20.04'
  | 'ubuntu-22.04'
  | 'ubuntu-24.04'
  | 'amazon-linux-2'
  | 'amazon-linux-2023'
  | 'rhel-8'
  | 'rhel-9';

export type LocateImplementation = 'plocate' | 'mlocate' | 'none';

export interface DistroFacts {
  readonly osId: string;
  readonly osVersionId: string;
  readonly osPrettyName: string;
  readonly kernel: string;
  readonly locate: LocateImplementation;
  readonly updatedbPath: string;
  readonly updatedbVersion: string;
  /** The comm of a running updatedb (15 characters at most, as /proc/PID/comm shows it). */
  readonly updatedbComm: string;
  readonly database: string;
  readonly conf: UpdatedbConf | null;
  readonly schedule: UpdatedbSchedule;
  /** /etc/cron.daily's locate script: whether it exits under systemd, whether it adds `-f nodevs`. */
  readonly cronDaily: {
    readonly script: string | null;
    readonly exitsUnderSystemd: boolean;
    readonly addsNodevFilesystems: boolean;
  };
  readonly crontabDaily: boolean;
  readonly anacron: {
    readonly line: string;
    readonly startHoursRange: string;
    readonly randomDelay: string;
  } | null;
  readonly cronDaemon: 'running' | 'installed' | 'absent';
  /** /proc/filesystems' nodev types (what `-f "$nodevs"` prunes on RHEL and Amazon Linux). */
  readonly nodevTypes: readonly string[];
}

const NODEV_TYPES = [
  'sysfs',
  'tmpfs',
  'bdev',
  'proc',
  'cgroup',
  'cgroup2',
  'cpuset',
  'devtmpfs',
  'debugfs',
  'tracefs',
  'securityfs',
  'sockfs',
  'bpf',
  'pipefs',
  'ramfs',
  'hugetlbfs',
  'devpts',
  'autofs',
  'mqueue',
  'pstore',
  'fuse',
  'fusectl',
  'nfs',
  'nfs4',
  'rpc_pipefs',
];

const plocate = {
  locate: 'plocate' as const,
  updatedbPath: '/usr/sbin/updatedb',
  updatedbComm: 'updatedb.plocat',
  database: '/var/lib/plocate/plocate.db',
  conf: DEFAULT_CONFS.debian,
  schedule: PLOCATE_TIMER,
  cronDaily: { script: '/etc/cron.daily/plocate', exitsUnderSystemd: true, addsNodevFilesystems: false },
  crontabDaily: true,
  anacron: null,
  cronDaemon: 'running' as const,
  nodevTypes: [],
};
const mlocateRhel = {
  locate: 'mlocate' as const,
  updatedbPath: '/usr/bin/updatedb',
  updatedbVersion: 'updatedb (mlocate) 0.26',
  updatedbComm: 'updatedb',
  database: '/var/lib/mlocate/mlocate.db',
  nodevTypes: NODEV_TYPES,
};

export const DISTROS: Readonly<Record<Distro, DistroFacts>> = {
  'debian-12': {
    ...plocate,
    osId: 'debian',
    osVersionId: '12',
    osPrettyName: 'Debian GNU/Linux 12 (bookworm)',
    kernel: '6.1.0-26-cloud-amd64',
    updatedbVersion: 'updatedb (plocate) 1.1.18',
  },
  'ubuntu-22.04': {
    ...plocate,
    osId: 'ubuntu',
    osVersionId: '22.04',
    osPrettyName: 'Ubuntu 22.04.5 LTS',
    kernel: '6.8.0-1018-aws',
    updatedbVersion: 'updatedb (plocate) 1.1.15',
  },
  'ubuntu-24.04': {
    ...plocate,
    osId: 'ubuntu',
    osVersionId: '24.04',
    osPrettyName: 'Ubuntu 24.04.1 LTS',
    kernel: '6.8.0-1018-aws',
    updatedbVersion: 'updatedb (plocate) 1.1.19',
  },
  'ubuntu-20.04': {
    // mlocate 0.26 from cron.daily at 06:25 (no timer, anacron not installed on a server image).
    locate: 'mlocate',
    updatedbPath: '/usr/bin/updatedb',
    updatedbVersion: 'updatedb (mlocate) 0.26',
    updatedbComm: 'updatedb.mlocat',
    database: '/var/lib/mlocate/mlocate.db',
    conf: DEFAULT_CONFS.debian,
    schedule: CRON_DAILY_0625,
    cronDaily: { script: '/etc/cron.daily/mlocate', exitsUnderSystemd: false, addsNodevFilesystems: false },
    crontabDaily: true,
    anacron: null,
    cronDaemon: 'running',
    nodevTypes: [],
    osId: 'ubuntu',
    osVersionId: '20.04',
    osPrettyName: 'Ubuntu 20.04.6 LTS',
    kernel: '5.15.0-1072-aws',
  },
  'amazon-linux-2': {
    ...mlocateRhel,
    conf: DEFAULT_CONFS.rhel7,
    schedule: ANACRON_AL2,
    cronDaily: { script: '/etc/cron.daily/mlocate', exitsUnderSystemd: false, addsNodevFilesystems: true },
    crontabDaily: false,
    anacron: {
      line: '1\t5\tcron.daily\t\tnice run-parts /etc/cron.daily',
      startHoursRange: '3-22',
      randomDelay: '45',
    },
    cronDaemon: 'running',
    osId: 'amzn',
    osVersionId: '2',
    osPrettyName: 'Amazon Linux 2',
    kernel: '5.10.228-219.884.amzn2.x86_64',
  },
  'amazon-linux-2023': {
    // No locate and no cron daemon by default.
    locate: 'none',
    updatedbPath: '',
    updatedbVersion: '',
    updatedbComm: '',
    database: '',
    conf: null,
    schedule: { kind: 'none' },
    cronDaily: { script: null, exitsUnderSystemd: false, addsNodevFilesystems: false },
    crontabDaily: false,
    anacron: null,
    cronDaemon: 'absent',
    nodevTypes: [],
    osId: 'amzn',
    osVersionId: '2023',
    osPrettyName: 'Amazon Linux 2023.6.20241121',
    kernel: '6.1.115-126.197.amzn2023.x86_64',
  },
  'rhel-8': {
    ...mlocateRhel,
    conf: DEFAULT_CONFS.rhel8,
    schedule: MLOCATE_TIMER,
    cronDaily: { script: null, exitsUnderSystemd: false, addsNodevFilesystems: true },
    crontabDaily: false,
    anacron: null,
    cronDaemon: 'running',
    osId: 'rhel',
    osVersionId: '8.10',
    osPrettyName: 'Red Hat Enterprise Linux 8.10 (Ootpa)',
    kernel: '4.18.0-553.27.1.el8_10.x86_64',
  },
  'rhel-9': {
    ...mlocateRhel,
    conf: DEFAULT_CONFS.rhel9,
    schedule: MLOCATE_TIMER,
    cronDaily: { script: null, exitsUnderSystemd: false, addsNodevFilesystems: true },
    crontabDaily: false,
    anacron: null,
    cronDaemon: 'running',
    osId: 'rhel',
    osVersionId: '9.5',
    osPrettyName: 'Red Hat Enterprise Linux 9.5 (Plow)',
    kernel: '5.14.0-503.14.1.el9_5.x86_64',
  },
};
