import { spawn, spawnSync } from 'node:child_process';
import {
  chmodSync,
  chownSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DISTRO_FIXTURES, readFixture } from '#test/helpers/distro-fixtures.ts';
import { itRequires, missingCommands, which } from '#test/helpers/requirements.ts';
import { Sandbox, SCRIPTS } from '#test/helpers/script-sandbox.ts';
import { parseConf } from '#test/helpers/updatedb-conf-oracle.ts';

const CONF = 'etc/updatedb.conf';
const APPLY = { Mode: 'apply', PruneFsTypes: 'fuse.s3fs', PrunePaths: '' };
const CHECK = { ...APPLY, Mode: 'check' };
const itAsRoot = itRequires(process.getuid?.() === 0 ? null : 'root (to chown a file to another user)');
const itInNamespace = itRequires(
  process.getuid?.() !== 0 ? 'root (a private mount namespace)' : missingCommands(['unshare', 'mount']),
);
const itImmutable = itRequires(chattrProblem());

/** Why chattr +i cannot be tried where the sandboxes live (not root, no chattr, a filesystem without it). */
function chattrProblem(): string | null {
  if (process.getuid?.() !== 0) return 'root (chattr +i)';
  const missing = missingCommands(['chattr', 'lsattr']);
  if (missing !== null) return missing;
  const dir = mkdtempSync(join(tmpdir(), 'crawlguard-chattr-'));
  try {
    writeFileSync(join(dir, 'f'), '');
    const set = spawnSync('chattr', ['+i', join(dir, 'f')]);
    spawnSync('chattr', ['-i', join(dir, 'f')]);
    return set.status === 0 ? null : `chattr +i on ${tmpdir()}: ${set.stderr.toString().trim()}`;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * A fake plocate updatedb: like the real one it first opens /etc/updatedb.conf (a FIFO there hangs it);
 * `--version` identifies it; a validation (`--help`, or an empty run `-U DIR -o DB`) fails when
 * FAKE_UPDATEDB_REJECT_CALL is its number among the validations.
 */
const FAKE_UPDATEDB = `
cat -- "$CRAWLGUARD_TEST_ROOT/etc/updatedb.conf" >/dev/null 2>&1 || true
n=$(grep -cE -- '^(--help|-U )' "$FAKE_LOG" || true)
case $1 in
  --version) echo 'updatedb (plocate) 1.1.18' ;;
  --help|-U) if [[ $n == "\${FAKE_UPDATEDB_REJECT_CALL:-0}" ]]; then echo "/etc/updatedb.conf:1: rejected" >&2; exit 1; fi ;;
  *) echo "unexpected call: $*" >&2; exit 99 ;;
esac`;

let box: Sandbox;

beforeEach(() => {
  box = new Sandbox();
  box.link('grep');
  box.fake('updatedb', FAKE_UPDATEDB);
});

afterEach(() => {
  box.dispose();
});

/** Every entry of the sandbox's /etc: name, inode, mode and content (the state a failed run must keep). */
function etcState(): string[] {
  return readdirSync(box.path('etc'))
    .sort()
    .map((name) => {
      const stat = lstatSync(box.path(`etc/${name}`));
      const content = stat.isFile() ? readFileSync(box.path(`etc/${name}`), 'utf8') : '';
      return `${name} ${stat.ino} ${stat.mode.toString(8)} ${content}`;
    });
}

/** The same, from inside a namespace: name, inode, mode, size and checksum of every entry of $R/etc. */
const SNAPSHOT = `(cd "$R/etc" && find . -mindepth 1 -printf '%P %i %m %s ' -exec sh -c 'cksum <"$1" 2>/dev/null || echo -' _ {} \\; | sort)`;

function listBackups(): string[] {
  if (!box.exists('etc')) return [];
  return readdirSync(box.path('etc')).filter((name) => name.startsWith('updatedb.conf.crawlguard-'));
}

describe('patch-updatedb-conf.sh on each distribution default', () => {
  for (const fixture of DISTRO_FIXTURES) {
    it(`${fixture.distro}${fixture.verified ? '' : ' (closest verified file)'}: edits only PRUNEFS, keeps a backup, then is idempotent`, () => {
      const original = readFixture(fixture.file);
      box.write(CONF, original, 0o640);

      const check = box.run(SCRIPTS.patch, CHECK);
      expect(check.status).toBe(0);
      expect(check.json).toMatchObject({
        status: 'nonCompliant',
        compliant: false,
        missingPruneFs: ['fuse.s3fs'],
      });
      expect(box.read(CONF).toString()).toBe(original);

      const apply = box.run(SCRIPTS.patch, APPLY);
      expect(apply.status).toBe(0);
      expect(apply.json).toMatchObject({
        status: 'patched',
        compliant: true,
        changed: true,
        validated: true,
        validation: 'emptyRun',
      });
      const after = box.read(CONF).toString();
      const before = original.split('\n');
      const now = after.split('\n');
      expect(now).toHaveLength(before.length);
      const changed = now.flatMap((line, i) => (line === before[i] ? [] : [[before[i], line]]));
      expect(changed).toHaveLength(1);
      const [old = '', edited = ''] = changed[0] ?? [];
      expect(old).toMatch(/^PRUNEFS ?= ?"/);
      expect(edited).toBe(old.replace(/"$/, ' fuse.s3fs"'));
      expect(statSync(box.path(CONF)).mode & 0o777).toBe(0o640);
      const backupPath = apply.json.backupPath as string;
      expect(box.read(backupPath.slice(box.root.length)).toString()).toBe(original);

      const again = box.run(SCRIPTS.patch, APPLY);
      expect(again.json).toMatchObject({ status: 'alreadyCompliant', changed: false, backupPath: null });
      expect(box.read(CONF).toString()).toBe(after);
      expect(listBackups()).toHaveLength(1);
    });
  }
});

describe('patch-updatedb-conf.sh edits', () => {
  const cases: [string, string, Record<string, string>, string][] = [
    [
      'appends to PRUNEPATHS too, keeping `NAME="v"` style',
      'PRUNEFS="nfs"\nPRUNEPATHS="/tmp"\n',
      { PrunePaths: '/mnt/data,/srv/s3' },
      'PRUNEFS="nfs fuse.s3fs"\nPRUNEPATHS="/tmp /mnt/data /srv/s3"\n',
    ],
    [
      'adds a missing PRUNEFS line at the end, in the file`s spacing style',
      '# comment\nPRUNEPATHS = "/tmp"\n',
      {},
      '# comment\nPRUNEPATHS = "/tmp"\nPRUNEFS = "fuse.s3fs"\n',
    ],
    [
      'keeps CRLF line ends and adds CRLF lines',
      'PRUNE_BIND_MOUNTS="yes"\r\nPRUNEPATHS="/tmp"\r\n',
      {},
      'PRUNE_BIND_MOUNTS="yes"\r\nPRUNEPATHS="/tmp"\r\nPRUNEFS="fuse.s3fs"\r\n',
    ],
    [
      'keeps a missing final newline',
      'PRUNEFS = "nfs"  # network',
      {},
      'PRUNEFS = "nfs fuse.s3fs"  # network',
    ],
    ['fills an empty value without a leading space', 'PRUNEFS=""\n', {}, 'PRUNEFS="fuse.s3fs"\n'],
    [
      'keeps tabs, trailing blanks and comments byte for byte',
      '\t# x "y"\n  PRUNEFS\t=\t"a\tb "\t#c\n\n',
      { PruneFsTypes: 'fuse.s3fs,fuse.goofys' },
      '\t# x "y"\n  PRUNEFS\t=\t"a\tb fuse.s3fs fuse.goofys"\t#c\n\n',
    ],
    [
      'adds the exact path when only a trailing-slash form is present (updatedb would not match it)',
      'PRUNEFS="fuse.s3fs"\nPRUNEPATHS="/mnt/data/"\n',
      { PrunePaths: '/mnt/data' },
      'PRUNEFS="fuse.s3fs"\nPRUNEPATHS="/mnt/data/ /mnt/data"\n',
    ],
    [
      'does not mistake plain fuse or s3fs for fuse.s3fs',
      'PRUNEFS="fuse s3fs"\n',
      {},
      'PRUNEFS="fuse s3fs fuse.s3fs"\n',
    ],
  ];
  for (const [name, before, params, expected] of cases) {
    it(name, () => {
      box.write(CONF, before);
      const result = box.run(SCRIPTS.patch, { ...APPLY, ...params });
      expect(result.json.status).toBe('patched');
      expect(result.status).toBe(0);
      expect(box.read(CONF).toString()).toBe(expected);
      expect(parseConf(expected).ok).toBe(true);
    });
  }

  it('treats fuse.s3fs in any case as present', () => {
    box.write(CONF, 'PRUNEFS="NFS FUSE.S3FS"\n');
    const result = box.run(SCRIPTS.patch, APPLY);
    expect(result.json).toMatchObject({ status: 'alreadyCompliant', changed: false, missingPruneFs: [] });
    expect(box.read(CONF).toString()).toBe('PRUNEFS="NFS FUSE.S3FS"\n');
  });

  it('creates a file when none exists, readable by all, and validates it', () => {
    box.write('etc/.keep', '');
    const result = box.run(SCRIPTS.patch, { ...APPLY, PrunePaths: '/mnt/data' });
    expect(result.json).toMatchObject({ status: 'patched', configExisted: false, backupPath: null });
    const text = box.read(CONF).toString();
    expect(text).toMatch(/^# .*crawlguard.*\nPRUNEFS = "fuse.s3fs"\nPRUNEPATHS = "\/mnt\/data"\n$/);
    expect(statSync(box.path(CONF)).mode & 0o777).toBe(0o644);
  });

  it('reports notInstalled, and creates nothing, where no updatedb exists', () => {
    const bare = new Sandbox();
    try {
      const result = bare.run(SCRIPTS.patch, APPLY);
      expect(result.status).toBe(0);
      expect(result.json).toMatchObject({
        status: 'notInstalled',
        compliant: true,
        locateImplementation: 'none',
      });
      expect(bare.exists(CONF)).toBe(false);
    } finally {
      bare.dispose();
    }
  });
});

describe('patch-updatedb-conf.sh refuses and rolls back', () => {
  const malformed: [string, string, RegExp][] = [
    [
      'a second PRUNEFS line',
      'PRUNEFS="nfs"\nPRUNEFS="$PRUNEFS fuse.s3fs"\n',
      /line 2: variable PRUNEFS is already defined on line 1/,
    ],
    ['PRUNEFS+=', 'PRUNEFS="nfs"\nPRUNEFS+=" fuse.s3fs"\n', /line 2: `\+=`/],
    ['an unterminated quote', 'PRUNEPATHS="/tmp\nPRUNEFS="nfs"\n', /line 1: missing closing quote/],
    ['an unknown variable', 'PRUNEFS="nfs"\nFOO="bar"\n', /line 2: unknown variable FOO/],
    ['a lower-case name', 'prunefs="nfs"\n', /unknown variable prunefs/],
    ['an unquoted value', 'PRUNEFS=nfs\n', /value in double quotes expected/],
    ['data after the value', 'PRUNEFS="nfs" x\n', /unexpected data after the value/],
    ['a bad PRUNE_BIND_MOUNTS', 'PRUNE_BIND_MOUNTS="true"\n', /PRUNE_BIND_MOUNTS must be 0, 1, no or yes/],
    ['shell syntax', 'export PRUNEFS="nfs"\n', /line 1/],
  ];
  for (const [name, text, reason] of malformed) {
    it(`refuses ${name}, with the reason and no change`, () => {
      box.write(CONF, text);
      const result = box.run(SCRIPTS.patch, APPLY);
      expect(result.status).toBe(4);
      expect(result.json).toMatchObject({ status: 'refused', changed: false, backupPath: null });
      expect(result.json.reason).toMatch(reason);
      expect(box.read(CONF).toString()).toBe(text);
      expect(listBackups()).toEqual([]);
      expect(parseConf(text).ok).toBe(false);
    });
  }

  it('refuses a file the real updatedb already rejects', () => {
    box.write(CONF, 'PRUNEFS="nfs"\n');
    const result = box.run(SCRIPTS.patch, APPLY, { FAKE_UPDATEDB_REJECT_CALL: '1' });
    expect(result.status).toBe(4);
    expect(result.json).toMatchObject({
      status: 'refused',
      validated: false,
      updatedbMessage: expect.stringMatching(/rejected/),
    });
    expect(box.read(CONF).toString()).toBe('PRUNEFS="nfs"\n');
  });

  it('puts the previous file back when updatedb rejects the edited one', () => {
    box.write(CONF, 'PRUNEFS="nfs"\n', 0o600);
    const result = box.run(SCRIPTS.patch, APPLY, { FAKE_UPDATEDB_REJECT_CALL: '2' });
    expect(result.status).toBe(1);
    expect(result.json).toMatchObject({ status: 'failed', validated: false, restored: true, changed: false });
    expect(box.read(CONF).toString()).toBe('PRUNEFS="nfs"\n');
    expect(statSync(box.path(CONF)).mode & 0o777).toBe(0o600);
    // The file as found is parsed (--help); the written file gets the empty run the daily job would make.
    const validations = box.calls('updatedb').filter((call) => call !== '--version');
    expect(validations[0]).toBe('--help');
    expect(validations[1]).toMatch(/^-U \S+\/root -o \S+\/validate\.db$/);
  });

  it('keeps the original file itself as the backup and puts that very file back on a rejection', () => {
    box.write(CONF, 'PRUNEFS="nfs"\n', 0o600);
    const found = lstatSync(box.path(CONF));
    const result = box.run(SCRIPTS.patch, APPLY, { FAKE_UPDATEDB_REJECT_CALL: '2' });
    expect(result.json).toMatchObject({ status: 'failed', restored: true, backupPath: null });
    expect(etcState()).toEqual([`updatedb.conf ${found.ino} 100600 PRUNEFS="nfs"\n`]);
  });

  it('leaves /etc exactly as found when the rename fails (mv on PATH fails, as rename(2) on a bind mount)', () => {
    box.write(CONF, 'PRUNEFS="nfs"\n');
    const before = etcState();
    box.fake('mv', 'echo "mv: cannot move: Device or resource busy" >&2; exit 1');
    const result = box.run(SCRIPTS.patch, APPLY);
    expect(result.status).toBe(1);
    expect(result.json).toMatchObject({
      status: 'failed',
      changed: false,
      backupPath: null,
      reason: expect.stringMatching(
        /writing .* failed, nothing changed: mv: cannot move: Device or resource busy/,
      ),
    });
    expect(etcState()).toEqual(before);
  });

  it('says where the previous file is when putting it back fails too', () => {
    box.write(CONF, 'PRUNEFS="nfs"\n');
    const realMv = which('mv');
    box.fake('mv', `[[ $3 == *.crawlguard-* ]] && { echo "mv: EIO" >&2; exit 1; }; exec ${realMv} "$@"`);
    const result = box.run(SCRIPTS.patch, APPLY, { FAKE_UPDATEDB_REJECT_CALL: '2' });
    expect(result.status).toBe(1);
    const backup = result.json.backupPath as string;
    expect(result.json).toMatchObject({ status: 'failed', restored: false, changed: true });
    expect(result.json.reason).toContain(`it is at ${backup}`);
    expect(box.read(backup.slice(box.root.length)).toString()).toBe('PRUNEFS="nfs"\n');
  });

  it('refuses, touching nothing, when /etc is writable by group or others', () => {
    box.write(CONF, 'PRUNEFS="nfs"\n');
    chmodSync(box.path('etc'), 0o775);
    const result = box.run(SCRIPTS.patch, APPLY);
    expect(result).toMatchObject({ status: 4, json: { status: 'refused', changed: false } });
    expect(result.json.reason).toMatch(/etc is writable by group or others/);
    expect(box.read(CONF).toString()).toBe('PRUNEFS="nfs"\n');
  });

  itImmutable('refuses an immutable file up front, in check and apply mode, creating nothing', () => {
    box.write(CONF, 'PRUNEFS="nfs"\n');
    const before = etcState();
    spawnSync('chattr', ['+i', box.path(CONF)]);
    try {
      for (const params of [CHECK, APPLY]) {
        const result = box.run(SCRIPTS.patch, params);
        expect(result.status).toBe(4);
        expect(result.json).toMatchObject({
          status: 'refused',
          changed: false,
          backupPath: null,
          reason: expect.stringMatching(/is immutable \(chattr \+i\)/),
        });
      }
      expect(etcState()).toEqual(before);
      // Already compliant: nothing to write, nothing to refuse.
      expect(box.run(SCRIPTS.patch, { ...APPLY, PruneFsTypes: 'nfs' }).json.status).toBe('alreadyCompliant');
    } finally {
      spawnSync('chattr', ['-i', box.path(CONF)]);
    }
  });

  itInNamespace('leaves a full /etc exactly as found (tmpfs filled to the last block)', () => {
    const result = box.run(
      SCRIPTS.patch,
      APPLY,
      {},
      {
        namespace: `mkdir -p "$R/etc" && mount -t tmpfs -o size=64k,mode=0755 crawlguard-full "$R/etc"
          printf 'PRUNEFS="nfs"\\n' >"$R/etc/updatedb.conf"
          dd if=/dev/zero of="$R/etc/filler" bs=4k 2>/dev/null || true
          ${SNAPSHOT} >"$R/../etc-before"`,
        afterInNamespace: `${SNAPSHOT} >"$R/../etc-after"`,
      },
    );
    expect(result.status).toBe(1);
    expect(result.json).toMatchObject({ status: 'failed', changed: false, backupPath: null });
    expect(result.json.reason).toMatch(/No space left on device/);
    const after = readFileSync(join(box.dir, 'etc-after'), 'utf8');
    expect(after).toBe(readFileSync(join(box.dir, 'etc-before'), 'utf8'));
    expect(after).toMatch(/^filler /m);
  });

  itInNamespace('refuses a read-only /etc up front (a read-only bind mount), in check and apply mode', () => {
    box.write(CONF, 'PRUNEFS="nfs"\n');
    const before = etcState();
    for (const params of [CHECK, APPLY]) {
      const result = box.run(
        SCRIPTS.patch,
        params,
        {},
        {
          namespace: 'mount --bind "$R/etc" "$R/etc" && mount -o remount,bind,ro "$R/etc"',
        },
      );
      expect(result.status).toBe(4);
      expect(result.json).toMatchObject({
        status: 'refused',
        reason: expect.stringMatching(/cannot be written/),
      });
    }
    expect(etcState()).toEqual(before);
  });

  it('refuses a symbolic link and a file with NUL bytes', () => {
    box.write('etc/real.conf', 'PRUNEFS="nfs"\n');
    symlinkSync('real.conf', box.path(CONF));
    expect(box.run(SCRIPTS.patch, APPLY).json).toMatchObject({
      status: 'refused',
      reason: expect.stringMatching(/symbolic link/),
    });
    expect(lstatSync(box.path(CONF)).isSymbolicLink()).toBe(true);

    const nul = new Sandbox();
    try {
      nul.fake('updatedb', FAKE_UPDATEDB);
      nul.link('grep');
      nul.write(CONF, Buffer.from('PRUNEFS="nfs"\n\0\n'));
      const result = nul.run(SCRIPTS.patch, APPLY);
      expect(result.json).toMatchObject({ status: 'refused', reason: expect.stringMatching(/NUL/) });
    } finally {
      nul.dispose();
    }
  });

  const special: [string, () => void, string][] = [
    ['a FIFO', () => spawnSync('mkfifo', [box.path(CONF)]), 'fifo'],
    ['a directory', () => mkdirSync(box.path(CONF), { recursive: true }), 'directory'],
  ];
  if (process.getuid?.() === 0) {
    special.push(['a device', () => spawnSync('mknod', [box.path(CONF), 'c', '1', '3']), 'characterDevice']);
  }
  for (const [name, make, type] of special) {
    it(`refuses ${name} at /etc/updatedb.conf at once, and never runs updatedb on it`, () => {
      mkdirSync(box.path('etc'), { recursive: true });
      make();
      for (const params of [CHECK, APPLY]) {
        const result = box.run(SCRIPTS.patch, params, {}, { timeoutMs: 15_000 });
        expect(result.status).toBe(4);
        expect(result.json).toMatchObject({
          status: 'refused',
          changed: false,
          configExisted: true,
          reason: expect.stringContaining(`is a ${type}, not a regular file`),
        });
      }
      expect(box.calls('updatedb')).toEqual([]);
      expect(listBackups()).toEqual([]);
    });
  }

  it('refuses a file over 64 KiB untouched (check and apply), and edits one of exactly 64 KiB', () => {
    const head = 'PRUNEFS="nfs"\n';
    const exact = `${head}${'#'.repeat(65_536 - head.length - 1)}\n`;
    const over = `${head}#${exact.slice(head.length)}`;
    expect([exact.length, over.length]).toEqual([65_536, 65_537]);
    box.write(CONF, over);
    for (const params of [CHECK, APPLY]) {
      const result = box.run(SCRIPTS.patch, params);
      expect(result.status).toBe(4);
      expect(result.json).toMatchObject({
        status: 'refused',
        changed: false,
        reason: expect.stringMatching(/is over 65536 bytes, the most this script edits/),
      });
    }
    expect(box.read(CONF).toString()).toBe(over);
    expect(box.calls('updatedb').filter((call) => call !== '--version')).toEqual([]);
    box.write(CONF, exact);
    expect(box.run(SCRIPTS.patch, APPLY).json.status).toBe('patched');
    expect(box.read(CONF).toString()).toBe(exact.replace('"nfs"', '"nfs fuse.s3fs"'));
  });

  it('refuses the findutils updatedb, which does not read updatedb.conf', () => {
    box.fake('updatedb', "echo 'updatedb (GNU findutils) 4.9.0'");
    box.write(CONF, 'PRUNEFS="nfs"\n');
    expect(box.run(SCRIPTS.patch, APPLY)).toMatchObject({ status: 4, json: { status: 'refused' } });
  });
});

describe('patch-updatedb-conf.sh lock and state directory (root-only, never a world-writable path)', () => {
  const OLD_LOCK = 'run/lock/crawlguard-patch-updatedb-conf.lock';
  const STATE = 'run/crawlguard';

  /** /run/lock as every host has it: world-writable and sticky, where any user may plant anything. */
  function worldWritableRunLock() {
    mkdirSync(box.path('run/lock'), { recursive: true });
    chmodSync(box.path('run/lock'), 0o1777);
  }

  it('creates nothing where a symbolic link planted in /run/lock points, even in check mode', () => {
    box.write(CONF, 'PRUNEFS="nfs"\n');
    worldWritableRunLock();
    symlinkSync(box.path('etc/cron.d/planted'), box.path(OLD_LOCK));
    mkdirSync(box.path('etc/cron.d'));
    const result = box.run(SCRIPTS.patch, CHECK);
    expect(result.json.status).toBe('nonCompliant');
    expect(box.exists('etc/cron.d/planted')).toBe(false);
  });

  it('is not hung by a FIFO nor broken by a directory planted in /run/lock', () => {
    box.write(CONF, 'PRUNEFS="nfs"\n');
    worldWritableRunLock();
    spawnSync('mkfifo', [box.path(OLD_LOCK)]);
    expect(box.run(SCRIPTS.patch, CHECK, {}, { timeoutMs: 15_000 }).json.status).toBe('nonCompliant');
    rmSync(box.path(OLD_LOCK));
    mkdirSync(box.path(OLD_LOCK));
    const result = box.run(SCRIPTS.patch, APPLY, {}, { timeoutMs: 15_000 });
    expect(result.json.status).toBe('patched');
  });

  it('is not kept busy by another user holding a lock file in /run/lock', async () => {
    box.write(CONF, 'PRUNEFS="nfs"\n');
    worldWritableRunLock();
    box.write(OLD_LOCK, '', 0o666);
    const holder = spawn('flock', [box.path(OLD_LOCK), 'sleep', '30']);
    try {
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect(box.run(SCRIPTS.patch, APPLY).json.status).toBe('patched');
    } finally {
      holder.kill();
    }
  });

  it('keeps its lock and work files in a 0700 directory under /run and leaves no work files', () => {
    box.write(CONF, 'PRUNEFS="nfs"\n');
    expect(box.run(SCRIPTS.patch, APPLY).json.status).toBe('patched');
    const state = lstatSync(box.path(STATE));
    expect(state.isDirectory()).toBe(true);
    expect(state.mode & 0o777).toBe(0o700);
    expect(readdirSync(box.path(STATE))).toEqual(['patch-updatedb-conf.lock']);
  });

  it('answers busy at once, changing nothing, while another run holds the lock', async () => {
    box.write(CONF, 'PRUNEFS="nfs"\n');
    mkdirSync(box.path(STATE), { mode: 0o700 });
    box.write(`${STATE}/patch-updatedb-conf.lock`, '', 0o600);
    const holder = spawn('flock', [box.path(`${STATE}/patch-updatedb-conf.lock`), 'sleep', '30']);
    try {
      await new Promise((resolve) => setTimeout(resolve, 300));
      const result = box.run(SCRIPTS.patch, APPLY, {}, { timeoutMs: 10_000 });
      expect(result.status).toBe(3);
      expect(result.json).toMatchObject({ status: 'busy', changed: false });
      expect(box.read(CONF).toString()).toBe('PRUNEFS="nfs"\n');
      expect(box.calls('updatedb')).toEqual([]);
    } finally {
      holder.kill();
    }
  });

  const badStates: [string, () => void, RegExp][] = [
    [
      'a symbolic link',
      () => {
        mkdirSync(box.path('tmp/elsewhere'), { recursive: true });
        symlinkSync(box.path('tmp/elsewhere'), box.path(STATE));
      },
      /symbolic link/,
    ],
    ['a FIFO', () => spawnSync('mkfifo', [box.path(STATE)]), /not a directory/],
    ['a regular file', () => box.write(STATE, ''), /not a directory/],
    ['a group-writable directory', () => mkdirSync(box.path(STATE), { mode: 0o770 }), /writable by group/],
    [
      'a directory under a world-writable /run',
      () => {
        chmodSync(box.path('run'), 0o777);
        mkdirSync(box.path(STATE), { mode: 0o700 });
      },
      /run is writable by group or others/,
    ],
  ];
  for (const [name, plant, reason] of badStates) {
    it(`refuses, touching nothing, when ${STATE} is ${name}`, () => {
      box.write(CONF, 'PRUNEFS="nfs"\n');
      plant();
      // chmod after mkdir: the umask would hide the group bit.
      if (name === 'a group-writable directory') chmodSync(box.path(STATE), 0o770);
      const result = box.run(SCRIPTS.patch, APPLY, {}, { timeoutMs: 15_000 });
      expect(result.status).toBe(4);
      expect(result.json).toMatchObject({ status: 'refused', changed: false });
      expect(result.json.reason).toMatch(reason);
      expect(box.read(CONF).toString()).toBe('PRUNEFS="nfs"\n');
      expect(box.exists('tmp/elsewhere/patch-updatedb-conf.lock')).toBe(false);
      expect(listBackups()).toEqual([]);
    });
  }

  itAsRoot('refuses a state directory owned by another user', () => {
    box.write(CONF, 'PRUNEFS="nfs"\n');
    mkdirSync(box.path(STATE), { mode: 0o700 });
    chownSync(box.path(STATE), 65534, 65534);
    const result = box.run(SCRIPTS.patch, APPLY);
    expect(result.json).toMatchObject({ status: 'refused', reason: expect.stringMatching(/uid 65534/) });
    expect(box.read(CONF).toString()).toBe('PRUNEFS="nfs"\n');
  });
});

describe('patch-updatedb-conf.sh parameters', () => {
  const hostile: Record<string, string>[] = [
    { Mode: 'apply; rm -rf /' },
    { Mode: 'APPLY' },
    { Mode: 'apply\n' },
    { PruneFsTypes: 'fuse.s3fs;id' },
    { PruneFsTypes: 'fuse.s3fs fuse.sshfs' },
    { PruneFsTypes: '$(id)' },
    { PruneFsTypes: '`id`' },
    { PruneFsTypes: 'fuse..s3fs' },
    { PruneFsTypes: "fuse.s3fs'" },
    { PruneFsTypes: 'fuse.s3fs,' },
    { PrunePaths: '/mnt/../etc' },
    { PrunePaths: '/mnt/data/' },
    { PrunePaths: 'mnt/data' },
    { PrunePaths: '/mnt/"data"' },
    { PrunePaths: '/mnt/da ta' },
    { PrunePaths: '/mnt/data\n/etc' },
    { PrunePaths: Array.from({ length: 21 }, (_, i) => `/m${i}`).join(',') },
    { PrunePaths: `/${'a'.repeat(2000)}` },
  ];
  for (const params of hostile) {
    it(`rejects ${JSON.stringify(params)} with exit 2 and no change`, () => {
      box.write(CONF, 'PRUNEFS="nfs"\n');
      const result = box.run(SCRIPTS.patch, { ...APPLY, ...params });
      expect(result.status).toBe(2);
      expect(result.json.status).toBe('badParameters');
      expect(box.read(CONF).toString()).toBe('PRUNEFS="nfs"\n');
      expect(box.calls('updatedb')).toEqual([]);
    });
  }

  it('fails loudly when SSM passed no parameters at all (agent older than 3.3.2746.0)', () => {
    const result = box.run(SCRIPTS.patch, {});
    expect(result.status).toBe(2);
    expect(result.json.reason).toMatch(/SSM_Mode is not set/);
  });

  it('keeps stdout to one JSON document under 24,000 characters', () => {
    box.write(CONF, `PRUNEFS="${'x'.repeat(30_000)}"\nFOO="y"\n`);
    const result = box.run(SCRIPTS.patch, APPLY);
    expect(result.stdout.length).toBeLessThan(24_000);
    expect(result.json.status).toBe('refused');
  });
});
