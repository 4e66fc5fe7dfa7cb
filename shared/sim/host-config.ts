/**
 * /etc/updatedb.conf on a simulated host, and updatedb's rules for it: which mounts a daily run crawls,
 * and what crawlguard's patch changes. The rules mirror `shared/ssm/lib/updatedb-conf.sh` and
 * `diagnose.sh` (mlocate's conf.c grammar; PRUNEFS case-insensitive and exact, PRUNEPATHS exact, nothing
 * below a pruned filesystem; a file updatedb rejects makes it index nothing). Pure.
 */

/** The variables updatedb.conf knows, in the order crawlguard's patch visits them. */
export type ConfVariable = 'PRUNE_BIND_MOUNTS' | 'PRUNENAMES' | 'PRUNEPATHS' | 'PRUNEFS';

/** A well-formed updatedb.conf as updatedb parses it, and where each variable is (for the patch's report). */
export interface UpdatedbConf {
  readonly pruneFs: readonly string[];
  readonly prunePaths: readonly string[];
  readonly pruneNames: readonly string[];
  /** `yes`, `no`, `1` or `0`; null when the file does not set it. */
  readonly pruneBindMounts: string | null;
  /** 1-based line of each variable the file sets. */
  readonly lines: Readonly<Partial<Record<ConfVariable, number>>>;
  /** Lines in the file. */
  readonly lineCount: number;
}

/** The file as it is on the host. */
export type UpdatedbConfState =
  | { readonly kind: 'file'; readonly conf: UpdatedbConf }
  /** A symbolic link (e.g. managed by configuration management): updatedb reads it, the patch refuses it. */
  | { readonly kind: 'symlink'; readonly target: string; readonly conf: UpdatedbConf }
  /** A file updatedb rejects (exit 1, no database): nothing is indexed, and the patch refuses it. */
  | { readonly kind: 'malformed'; readonly error: string }
  /** No file: updatedb uses its built-in defaults, which prune nothing. */
  | { readonly kind: 'absent' };

export const CONF_PATH = '/etc/updatedb.conf';

/** Ways a real updatedb.conf is broken, with the message crawlguard's parser gives for each. */
export const MALFORMED_CONF = {
  'duplicate-prunefs': 'line 5: variable PRUNEFS is already defined on line 4',
  'append-operator':
    'line 5: `+=` is not valid in updatedb.conf (each name is set once): PRUNEFS+="fuse.s3fs"',
  'missing-quote': 'line 4: missing closing quote: PRUNEFS="NFS nfs nfs4 fuse.sshfs',
  'unknown-variable': 'line 5: unknown variable PRUNE_FS',
} as const;
export type MalformedDefect = keyof typeof MALFORMED_CONF;

// Distribution defaults (shared/data/updatedb-conf and test/fixtures/updatedb-conf; a test compares them).
const DEBIAN_PRUNEFS =
  'NFS afs autofs binfmt_misc ceph cgroup cgroup2 cifs coda configfs curlftpfs debugfs devfs devpts devtmpfs ecryptfs ftpfs fuse.ceph fuse.cryfs fuse.encfs fuse.glusterfs fuse.gocryptfs fuse.gvfsd-fuse fuse.mfs fuse.rclone fuse.rozofs fuse.sshfs fusectl fusesmb hugetlbfs iso9660 lustre lustre_lite mfs mqueue ncpfs nfs nfs4 ocfs ocfs2 proc pstore rpc_pipefs securityfs shfs smbfs sysfs tmpfs tracefs udev udf usbfs';
const DEBIAN_PRUNEPATHS =
  '/tmp /var/spool /media /var/lib/os-prober /var/lib/ceph /home/.ecryptfs /var/lib/schroot';
const RHEL7_PRUNEFS =
  '9p afs anon_inodefs auto autofs bdev binfmt_misc cgroup cifs coda configfs cpuset debugfs devpts ecryptfs exofs fuse fuse.sshfs fusectl gfs gfs2 gpfs hugetlbfs inotifyfs iso9660 jffs2 lustre mqueue ncpfs nfs nfs4 nfsd pipefs proc ramfs rootfs rpc_pipefs securityfs selinuxfs sfs sockfs sysfs tmpfs ubifs udf usbfs fuse.glusterfs ceph fuse.ceph';
const RHEL8_PRUNEFS =
  '9p afs anon_inodefs auto autofs bdev binfmt_misc cgroup cifs coda configfs cpuset debugfs devpts ecryptfs exofs fuse fuse.sshfs fusectl gfs gfs2 gpfs hugetlbfs inotifyfs iso9660 jffs2 lustre mqueue ncpfs nfs nfs4 nfsd pipefs proc ramfs rootfs rpc_pipefs securityfs selinuxfs sfs sockfs sysfs tmpfs ubifs udf usbfs ceph fuse.ceph';
const RHEL7_PRUNEPATHS =
  '/afs /media /mnt /net /sfs /tmp /udev /var/cache/ccache /var/lib/yum/yumdb /var/spool/cups /var/spool/squid /var/tmp /var/lib/ceph';
const RHEL8_PRUNEPATHS =
  '/afs /media /mnt /net /sfs /tmp /udev /var/cache/ccache /var/lib/yum/yumdb /var/lib/dnf/yumdb /var/spool/cups /var/spool/squid /var/tmp /var/lib/ceph';
const RHEL9_PRUNEPATHS = `${RHEL8_PRUNEPATHS} /var/lib/mock /sysroot/ostree/deploy`;

const words = (text: string): string[] => text.split(/\s+/).filter((word) => word !== '');

/** The layouts of the distributions' files: Debian's sets PRUNEFS on line 4, RHEL's on line 2. */
export const DEFAULT_CONFS = {
  /** Debian 12 plocate (Ubuntu's plocate and mlocate files are close to it; none prunes fuse.s3fs). */
  debian: {
    pruneFs: words(DEBIAN_PRUNEFS),
    prunePaths: words(DEBIAN_PRUNEPATHS),
    pruneNames: [],
    pruneBindMounts: 'yes',
    lines: { PRUNE_BIND_MOUNTS: 1, PRUNEPATHS: 3, PRUNEFS: 4 },
    lineCount: 4,
  },
  /** RHEL 7 mlocate, also Amazon Linux 2's: plain `fuse` (not `fuse.s3fs`) and /mnt are pruned. */
  rhel7: {
    pruneFs: words(RHEL7_PRUNEFS),
    prunePaths: words(RHEL7_PRUNEPATHS),
    pruneNames: words('.git .hg .svn'),
    pruneBindMounts: 'yes',
    lines: { PRUNE_BIND_MOUNTS: 1, PRUNEFS: 2, PRUNENAMES: 3, PRUNEPATHS: 4 },
    lineCount: 4,
  },
  rhel8: {
    pruneFs: words(RHEL8_PRUNEFS),
    prunePaths: words(RHEL8_PRUNEPATHS),
    pruneNames: words('.git .hg .svn .bzr .arch-ids {arch} CVS'),
    pruneBindMounts: 'yes',
    lines: { PRUNE_BIND_MOUNTS: 1, PRUNEFS: 2, PRUNENAMES: 3, PRUNEPATHS: 4 },
    lineCount: 4,
  },
  rhel9: {
    pruneFs: words(RHEL8_PRUNEFS),
    prunePaths: words(RHEL9_PRUNEPATHS),
    pruneNames: words('.git .hg .svn .bzr .arch-ids {arch} CVS'),
    pruneBindMounts: 'yes',
    lines: { PRUNE_BIND_MOUNTS: 1, PRUNEFS: 2, PRUNENAMES: 3, PRUNEPATHS: 4 },
    lineCount: 4,
  },
} as const satisfies Record<string, UpdatedbConf>;

/** The same file with other values, keeping its layout (where a variable was absent, it is appended). */
export function withValues(
  base: UpdatedbConf,
  values: { pruneFs?: readonly string[]; prunePaths?: readonly string[]; pruneBindMounts?: string | null },
): UpdatedbConf {
  return {
    ...base,
    ...(values.pruneFs === undefined ? {} : { pruneFs: values.pruneFs }),
    ...(values.prunePaths === undefined ? {} : { prunePaths: values.prunePaths }),
    ...(values.pruneBindMounts === undefined ? {} : { pruneBindMounts: values.pruneBindMounts }),
  };
}

/** A mount as updatedb sees it in the mount table. */
export interface MountEntry {
  readonly mountPoint: string;
  readonly type: string;
}

/** What the daily run does with a mount, and the reason in diagnose.sh's words. */
export interface CrawlVerdict {
  readonly crawled: boolean;
  readonly reason: string;
}

export const NOT_PRUNED_REASON =
  'not pruned: updatedb lists every directory and file (for s3fs, each one an S3 request)';

/**
 * Whether updatedb crawls `mount` (diagnose.sh's crawl_verdict): no updatedb, a rejected file, PRUNEFS
 * (case-insensitive, exact), the daily job's `-f` list of nodev filesystems (RHEL, Amazon Linux),
 * PRUNEPATHS (exact paths and what is below them), or a pruned filesystem above the mount.
 */
export function crawlVerdict(
  mount: MountEntry,
  table: readonly MountEntry[],
  state: UpdatedbConfState,
  options: { readonly locateInstalled: boolean; readonly nodevTypes: readonly string[] },
): CrawlVerdict {
  if (!options.locateInstalled) return { crawled: false, reason: 'no updatedb installed' };
  if (state.kind === 'malformed') {
    return {
      crawled: false,
      reason: `updatedb rejects its configuration and indexes nothing: ${state.error}`,
    };
  }
  const conf = state.kind === 'absent' ? null : state.conf;
  const pruned = prunedTypes(conf, options.nodevTypes);
  const how = pruned.get(mount.type.toUpperCase());
  if (how === 'prunefs') return { crawled: false, reason: `PRUNEFS has ${mount.type}` };
  if (how === 'nodev') {
    return { crawled: false, reason: `the daily job adds ${mount.type} (a nodev filesystem) with -f` };
  }
  for (const path of conf?.prunePaths ?? []) {
    if (mount.mountPoint === path || mount.mountPoint.startsWith(`${path}/`) || path === '/') {
      return { crawled: false, reason: `PRUNEPATHS has ${path}` };
    }
  }
  for (const above of table) {
    if (above.mountPoint === mount.mountPoint) continue;
    if (!(above.mountPoint === '/' || mount.mountPoint.startsWith(`${above.mountPoint}/`))) continue;
    if (pruned.has(above.type.toUpperCase())) {
      return { crawled: false, reason: `below ${above.mountPoint} (${above.type}), which is pruned` };
    }
  }
  return { crawled: true, reason: NOT_PRUNED_REASON };
}

function prunedTypes(
  conf: UpdatedbConf | null,
  nodevTypes: readonly string[],
): Map<string, 'prunefs' | 'nodev'> {
  const pruned = new Map<string, 'prunefs' | 'nodev'>();
  for (const type of conf?.pruneFs ?? []) pruned.set(type.toUpperCase(), 'prunefs');
  for (const type of nodevTypes) {
    if (type !== 'rootfs' && type !== 'zfs' && !pruned.has(type.toUpperCase()))
      pruned.set(type.toUpperCase(), 'nodev');
  }
  return pruned;
}

/** One edit the patch makes (or would make), as patch-updatedb-conf.sh reports it. */
export interface ConfChange {
  readonly variable: 'PRUNEFS' | 'PRUNEPATHS';
  readonly action: 'edited' | 'added';
  readonly line: number;
  readonly added: readonly string[];
}

/** What patch-updatedb-conf.sh would do to a well-formed file (or to no file). */
export interface PatchPlan {
  readonly missingPruneFs: readonly string[];
  readonly missingPrunePaths: readonly string[];
  readonly changes: readonly ConfChange[];
  /** The file after the patch. */
  readonly after: UpdatedbConf;
}

/** The header line the patch writes when no file existed. */
const CREATED_HEADER_LINES = 1;

/**
 * The patch's plan (the awk `patch` mode of updatedb-conf.sh): the requested types missing from PRUNEFS
 * (compared case-insensitively, each once), the paths missing from PRUNEPATHS (exactly), edits of the
 * existing lines, and lines appended for variables the file lacks. `conf` null: no file existed.
 */
export function planPatch(
  conf: UpdatedbConf | null,
  request: { readonly pruneFs: readonly string[]; readonly prunePaths: readonly string[] },
): PatchPlan {
  const base: UpdatedbConf = conf ?? {
    pruneFs: [],
    prunePaths: [],
    pruneNames: [],
    pruneBindMounts: null,
    lines: {},
    lineCount: CREATED_HEADER_LINES,
  };
  const missing = (have: readonly string[], want: readonly string[], key: (s: string) => string) => {
    const seen = new Set(have.map(key));
    const out: string[] = [];
    for (const item of want) {
      if (item === '' || seen.has(key(item))) continue;
      seen.add(key(item));
      out.push(item);
    }
    return out;
  };
  const missingPruneFs = missing(base.pruneFs, request.pruneFs, (s) => s.toUpperCase());
  const missingPrunePaths = missing(base.prunePaths, request.prunePaths, (s) => s);
  const changes: ConfChange[] = [];
  const lines = { ...base.lines };
  let appended = 0;
  for (const [variable, added] of [
    ['PRUNEFS', missingPruneFs],
    ['PRUNEPATHS', missingPrunePaths],
  ] as const) {
    if (added.length === 0) continue;
    const at = base.lines[variable];
    if (at !== undefined) {
      changes.push({ variable, action: 'edited', line: at, added });
    } else {
      appended += 1;
      lines[variable] = base.lineCount + appended;
      changes.push({ variable, action: 'added', line: base.lineCount + appended, added });
    }
  }
  return {
    missingPruneFs,
    missingPrunePaths,
    changes,
    after: {
      ...base,
      pruneFs: [...base.pruneFs, ...missingPruneFs],
      prunePaths: [...base.prunePaths, ...missingPrunePaths],
      lines,
      lineCount: base.lineCount + appended,
    },
  };
}
