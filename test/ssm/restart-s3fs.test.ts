/**
 * restart-s3fs.sh offline: a fake root (mount table, fstab, /proc entries) and fake mount, umount,
 * fuser and kill. The real s3fs/FUSE behaviour (a held file really blocks umount, data really reaches
 * the bucket) is proven by test/e2e; these tests pin down the decisions and what is never done.
 */
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, rmSync, symlinkSync } from 'node:fs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Sandbox, SCRIPTS } from '#test/helpers/script-sandbox.ts';

const MNT = '/mnt/data';
const OLD_PID = 4100;
const NEW_PID = 5555;

let box: Sandbox;

function fakeProcess(
  pid: number,
  comm: string,
  argv: string[],
  rssKiB: number,
  state = 'S (sleeping)',
  uid = 0,
) {
  box.write(`proc/${pid}/comm`, `${comm}\n`);
  box.write(`proc/${pid}/cmdline`, `${argv.join('\0')}\0`);
  box.write(
    `proc/${pid}/status`,
    `Name:\t${comm}\nState:\t${state}\nUid:\t${uid}\t${uid}\t${uid}\t${uid}\nVmRSS:\t  ${rssKiB} kB\n`,
  );
  box.write(`proc/${pid}/environ`, 'AWS_REGION=eu-west-1\0');
}

function mounts(lines: string[]) {
  box.write('proc/self/mounts', `/dev/vda / ext4 rw 0 0\n${lines.map((l) => `${l}\n`).join('')}`);
}

const S3FS_MOUNT = `s3fs ${MNT} fuse.s3fs rw,nosuid,nodev,relatime,user_id=0,group_id=0 0 0`;

beforeEach(() => {
  box = new Sandbox();
  box.link('grep');
  mkdirSync(box.path(MNT), { recursive: true });
  box.write(`${MNT}/file.txt`, 'x');
  mounts([S3FS_MOUNT]);
  box.write('etc/fstab', `# static\nbucket ${MNT} fuse.s3fs _netdev,allow_other 0 0\n`);
  fakeProcess(OLD_PID, 's3fs', ['s3fs', 'bucket', MNT, '-o', 'rw,_netdev,allow_other,dev,suid'], 38_912);
  box.fake('fuser', 'if [[ -n $FAKE_HOLDERS ]]; then echo " $FAKE_HOLDERS"; exit 0; fi; exit 1');
  box.fake(
    'umount',
    `[[ $1 == -- ]] || { echo "unexpected umount arguments: $*" >&2; exit 64; }
    sleep "\${FAKE_UMOUNT_DELAY:-0}"
    if [[ -n \${FAKE_UMOUNT_BUSY:-} ]]; then echo "umount: $2: target is busy." >&2; exit 32; fi
    R=$CRAWLGUARD_TEST_ROOT
    kept=$(while IFS= read -r l; do [[ $l == *" $2 "* ]] || printf '%s\\n' "$l"; done <"$R/proc/self/mounts")
    printf '%s\\n' "$kept" >"$R/proc/self/mounts"
    rm -rf "$R/proc/${OLD_PID}"`,
  );
  box.fake(
    'mount',
    `[[ $1 == -- ]] || { echo "unexpected mount arguments: $*" >&2; exit 64; }
    if [[ -n \${FAKE_MOUNT_FAIL:-} ]]; then echo "mount: $2: cannot mount" >&2; exit 1; fi
    R=$CRAWLGUARD_TEST_ROOT
    # A daemon that outlives the script, as s3fs does, with every descriptor mount was given.
    if [[ -n \${FAKE_MOUNT_DAEMON:-} ]]; then sleep 30 </dev/null >/dev/null 2>&1 & echo $! >"$R/daemon.pid"; fi
    printf '%s\\n' "${S3FS_MOUNT}" >>"$R/proc/self/mounts"
    mkdir -p "$R/proc/${NEW_PID}"
    printf 's3fs\\n' >"$R/proc/${NEW_PID}/comm"
    printf 's3fs\\0bucket\\0${MNT}\\0' >"$R/proc/${NEW_PID}/cmdline"
    printf 'State:\\tS (sleeping)\\nUid:\\t0\\t0\\t0\\t0\\nVmRSS:\\t 9216 kB\\n' >"$R/proc/${NEW_PID}/status"`,
  );
  box.fake('kill', 'for pid; do :; done; rm -rf "$CRAWLGUARD_TEST_ROOT/proc/$pid"');
});

afterEach(() => {
  box.dispose();
});

type Mount = Record<string, unknown> & { holders: { pid: number; command: string }[] };
const firstMount = (json: Record<string, unknown>) => (json.mounts as Mount[])[0] as Mount;

describe('restart-s3fs.sh', () => {
  it('does nothing when there is no s3fs mount', () => {
    mounts([]);
    const result = box.run(SCRIPTS.restart, { Mode: 'apply', Mounts: '' });
    expect(result.status).toBe(0);
    expect(result.json).toMatchObject({ status: 'nothingToDo', mounts: [] });
    expect(box.calls('umount')).toEqual([]);
  });

  it('check mode reports the plan and RSS, and changes nothing', () => {
    const result = box.run(SCRIPTS.restart, { Mode: 'check', Mounts: '' });
    expect(result.status).toBe(0);
    expect(result.json.status).toBe('checked');
    expect(firstMount(result.json)).toMatchObject({
      mountPoint: MNT,
      status: 'ready',
      method: 'fstab',
      daemonPidBefore: OLD_PID,
      rssKiBBefore: 38_912,
      holders: [],
    });
    expect(box.calls('umount')).toEqual([]);
    expect(box.calls('mount')).toEqual([]);
  });

  it('defers, lists the holders and never unmounts while a process holds a file', () => {
    fakeProcess(4242, 'python3', ['python3', 'writer.py'], 1000);
    const result = box.run(SCRIPTS.restart, { Mode: 'apply', Mounts: MNT }, { FAKE_HOLDERS: '4242c' });
    expect(result.status).toBe(3);
    expect(result.json.status).toBe('deferred');
    expect(firstMount(result.json)).toMatchObject({
      status: 'deferred',
      holders: [{ pid: 4242, command: 'python3' }],
    });
    expect(box.calls('umount')).toEqual([]);
    expect(box.calls('kill')).toEqual([]);
  });

  it('finds a holder from /proc even when fuser misses it', () => {
    fakeProcess(4343, 'tail', ['tail', '-f', `${MNT}/file.txt`], 800);
    mkdirSync(box.path('proc/4343/fd'), { recursive: true });
    symlinkSync(`${MNT}/file.txt`, box.path('proc/4343/fd/3'));
    const result = box.run(SCRIPTS.restart, { Mode: 'apply', Mounts: '' });
    expect(result.status).toBe(3);
    expect(firstMount(result.json).holders).toEqual([{ pid: 4343, command: 'tail' }]);
    expect(box.calls('umount')).toEqual([]);
  });

  it('restarts with plain umount, waits for s3fs to leave by itself, remounts from fstab and verifies', () => {
    const result = box.run(SCRIPTS.restart, { Mode: 'apply', Mounts: '' });
    expect(result.status).toBe(0);
    expect(result.json.status).toBe('restarted');
    expect(firstMount(result.json)).toMatchObject({
      status: 'restarted',
      method: 'fstab',
      daemonPidBefore: OLD_PID,
      daemonPidAfter: NEW_PID,
      rssKiBBefore: 38_912,
      rssKiBAfter: 9216,
      oldDaemonExited: true,
      remountAttempts: 1,
      verified: true,
    });
    expect(box.calls('umount')).toEqual([`-- ${MNT}`]);
    expect(box.calls('mount')).toEqual([`-- ${MNT}`]);
    expect(box.calls('kill')).toEqual([]);
  });

  it('stops an updatedb crawling the mount (SIGTERM to updatedb only), then restarts', () => {
    fakeProcess(4400, 'updatedb.plocat', ['/usr/sbin/updatedb.plocate'], 2000, 'D (disk sleep)');
    mkdirSync(box.path('proc/4400/fd'), { recursive: true });
    symlinkSync(`${MNT}/dir-07`, box.path('proc/4400/fd/5'));
    const result = box.run(SCRIPTS.restart, { Mode: 'apply', Mounts: MNT });
    expect(result.status).toBe(0);
    expect(firstMount(result.json)).toMatchObject({ status: 'restarted', updatedbStopped: [4400] });
    expect(box.calls('kill')).toEqual(['-s TERM -- 4400']);
  });

  it('in check mode reports a crawling updatedb without stopping it', () => {
    fakeProcess(4400, 'updatedb.plocat', ['/usr/sbin/updatedb.plocate'], 2000);
    mkdirSync(box.path('proc/4400'), { recursive: true });
    symlinkSync(MNT, box.path('proc/4400/cwd'));
    const result = box.run(SCRIPTS.restart, { Mode: 'check', Mounts: MNT });
    expect(firstMount(result.json)).toMatchObject({
      status: 'deferred',
      updatedbCrawling: [4400],
      updatedbStopped: [],
    });
    expect(box.calls('kill')).toEqual([]);
  });

  it('defers and changes nothing when umount says busy', () => {
    const result = box.run(SCRIPTS.restart, { Mode: 'apply', Mounts: MNT }, { FAKE_UMOUNT_BUSY: '1' });
    expect(result.status).toBe(3);
    expect(firstMount(result.json)).toMatchObject({
      status: 'deferred',
      reason: expect.stringMatching(/busy/),
    });
    expect(box.calls('mount')).toEqual([]);
  });

  it('retries the remount with backoff and fails loudly when the mount stays missing', () => {
    const result = box.run(
      SCRIPTS.restart,
      { Mode: 'apply', Mounts: MNT },
      { FAKE_MOUNT_FAIL: '1', CRAWLGUARD_TEST_BACKOFF: '0 0 0' },
    );
    expect(result.status).toBe(1);
    expect(result.json, result.stderr).toMatchObject({
      status: 'failed',
      reason: expect.stringMatching(/mounts\[\]/),
    });
    expect(firstMount(result.json)).toMatchObject({
      status: 'failed',
      remountAttempts: 4,
      verified: false,
      reason: expect.stringMatching(/^OUTAGE: .*cannot mount/),
    });
    expect(box.calls('mount')).toHaveLength(4);
  });

  it('re-runs the command line of a bare s3fs process, with its environment', () => {
    box.write('etc/fstab', '# nothing here\n');
    // `env -i` gives the new s3fs the old one's environment only: the fake uses absolute paths.
    box.fake(
      's3fs',
      `printf '%s\\n' "$AWS_REGION" >${box.path('s3fs-env')}; CRAWLGUARD_TEST_ROOT=${box.root} exec ${box.bin}/mount -- "$2"`,
    );
    symlinkSync(`${box.bin}/s3fs`, box.path(`proc/${OLD_PID}/exe`));
    // An entry without `=` would be read by `env` as the command to run: it is dropped.
    box.write(`proc/${OLD_PID}/environ`, 'AWS_REGION=eu-west-1\0not-a-variable\0');
    const result = box.run(SCRIPTS.restart, { Mode: 'apply', Mounts: MNT });
    expect(result.json.status).toBe('restarted');
    expect(firstMount(result.json)).toMatchObject({ method: 'process', status: 'restarted' });
    expect(box.calls('s3fs')).toEqual([`bucket ${MNT} -o rw,_netdev,allow_other,dev,suid`]);
    expect(box.read('s3fs-env').toString()).toBe('eu-west-1\n');
  });

  it('never runs, as root, the command line of another user`s process that calls itself s3fs', () => {
    box.write('etc/fstab', '# nothing here\n');
    box.fake('s3fs', `CRAWLGUARD_TEST_ROOT=${box.root} exec ${box.bin}/mount -- "$2"`);
    symlinkSync(`${box.bin}/s3fs`, box.path(`proc/${OLD_PID}/exe`));
    // Mallory's process: a lower PID than root's s3fs, the same command line, her own executable.
    box.write('home/mallory/s3fs', `#!/bin/bash\ntouch ${box.path('pwned')}\n`, 0o755);
    fakeProcess(4000, 's3fs', ['s3fs', 'bucket', MNT], 100, 'S (sleeping)', 1000);
    symlinkSync(box.path('home/mallory/s3fs'), box.path('proc/4000/exe'));
    const result = box.run(SCRIPTS.restart, { Mode: 'apply', Mounts: MNT });
    expect(box.exists('pwned')).toBe(false);
    expect(result.json.status).toBe('restarted');
    expect(firstMount(result.json)).toMatchObject({ method: 'process', daemonPidBefore: OLD_PID });
    expect(box.calls('s3fs')).toHaveLength(1);
  });

  it('refuses to run an s3fs executable that a non-root user could have replaced', () => {
    box.write('etc/fstab', '# nothing here\n');
    box.write('srv/tools/s3fs', `#!/bin/bash\ntouch ${box.path('ran')}\n`, 0o755);
    chmodSync(box.path('srv/tools'), 0o777);
    symlinkSync(box.path('srv/tools/s3fs'), box.path(`proc/${OLD_PID}/exe`));
    for (const mode of ['check', 'apply']) {
      const result = box.run(SCRIPTS.restart, { Mode: mode, Mounts: MNT });
      expect(result.status).toBe(4);
      expect(firstMount(result.json)).toMatchObject({
        status: 'refused',
        reason: expect.stringMatching(/srv\/tools is writable by group or others/),
      });
    }
    expect(box.calls('umount')).toEqual([]);
    expect(box.exists('ran')).toBe(false);
  });

  it('leaves another user`s own s3fs mount alone: skipped in the default run, refused when named', () => {
    const userMount = 'bucket2 /home/u/s3 fuse.s3fs rw,nosuid,nodev,user_id=1000,group_id=1000 0 0';
    mounts([S3FS_MOUNT, userMount]);
    fakeProcess(4500, 's3fs', ['s3fs', 'bucket2', '/home/u/s3'], 100, 'S (sleeping)', 1000);
    const all = box.run(SCRIPTS.restart, { Mode: 'check', Mounts: '' });
    expect(all.status).toBe(0);
    expect(all.json.status).toBe('checked');
    expect((all.json.mounts as Mount[]).map((m) => [m.mountPoint, m.status])).toEqual([
      [MNT, 'ready'],
      ['/home/u/s3', 'skipped'],
    ]);
    const named = box.run(SCRIPTS.restart, { Mode: 'apply', Mounts: '/home/u/s3' });
    expect(named.status).toBe(4);
    expect(firstMount(named.json)).toMatchObject({
      status: 'refused',
      reason: expect.stringMatching(/uid 1000, not root/),
    });
    expect(box.calls('umount')).toEqual([]);
    mounts([userMount]);
    const onlyUsers = box.run(SCRIPTS.restart, { Mode: 'apply', Mounts: '' });
    expect(onlyUsers).toMatchObject({ status: 0, json: { status: 'nothingToDo' } });
    expect(box.calls('umount')).toEqual([]);
  });

  it('treats another user`s process named updatedb as a holder: defers, never signals it', () => {
    fakeProcess(4400, 'updatedb', ['updatedb'], 100, 'S (sleeping)', 1000);
    mkdirSync(box.path('proc/4400/fd'), { recursive: true });
    symlinkSync(`${MNT}/file.txt`, box.path('proc/4400/fd/3'));
    const result = box.run(SCRIPTS.restart, { Mode: 'apply', Mounts: MNT });
    expect(result.status).toBe(3);
    expect(firstMount(result.json)).toMatchObject({
      status: 'deferred',
      updatedbCrawling: [],
      holders: [{ pid: 4400, command: 'updatedb' }],
    });
    expect(box.calls('kill')).toEqual([]);
    expect(box.calls('umount')).toEqual([]);
  });

  it('is not hung by a FIFO at /etc/fstab', () => {
    box.write('etc/.keep', '');
    rmSync(box.path('etc/fstab'));
    spawnSync('mkfifo', [box.path('etc/fstab')]);
    box.fake('s3fs', 'exit 0');
    symlinkSync(`${box.bin}/s3fs`, box.path(`proc/${OLD_PID}/exe`));
    const result = box.run(SCRIPTS.restart, { Mode: 'check', Mounts: MNT }, {}, { timeoutMs: 15_000 });
    expect(firstMount(result.json)).toMatchObject({ method: 'process', status: 'ready' });
  });

  it('refuses to unmount what it could not mount again', () => {
    box.write('etc/fstab', '');
    box.write(`proc/${OLD_PID}/comm`, 'python3\n');
    const result = box.run(SCRIPTS.restart, { Mode: 'apply', Mounts: MNT });
    expect(result.status).toBe(4);
    expect(firstMount(result.json)).toMatchObject({ status: 'refused', method: 'unknown' });
    expect(box.calls('umount')).toEqual([]);
  });

  it('fails loudly for a requested mount that is not mounted, and refuses a non-s3fs one', () => {
    const missing = box.run(SCRIPTS.restart, { Mode: 'apply', Mounts: '/mnt/other' });
    expect(missing.status).toBe(1);
    expect(firstMount(missing.json)).toMatchObject({ status: 'notMounted' });
    const root = box.run(SCRIPTS.restart, { Mode: 'apply', Mounts: '/' });
    expect(root.status).toBe(2);
    mounts([S3FS_MOUNT, 'server:/export /mnt/nfs nfs4 rw 0 0']);
    const nfs = box.run(SCRIPTS.restart, { Mode: 'apply', Mounts: '/mnt/nfs' });
    expect(nfs.status).toBe(4);
    expect(firstMount(nfs.json)).toMatchObject({ status: 'refused', type: 'nfs4' });
    expect(box.calls('umount')).toEqual([]);
  });

  it('lets one restart run at a time: a second one answers busy at once and touches nothing', async () => {
    const first = box.start(SCRIPTS.restart, { Mode: 'apply', Mounts: MNT }, { FAKE_UMOUNT_DELAY: '3' });
    const deadline = Date.now() + 20_000;
    while (box.calls('umount').length === 0 && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    const second = box.run(SCRIPTS.restart, { Mode: 'apply', Mounts: MNT }, {}, { timeoutMs: 10_000 });
    expect(second.status).toBe(3);
    expect(second.json).toMatchObject({ status: 'busy', mounts: [] });
    const firstResult = await first.done;
    expect(firstResult.json.status).toBe('restarted');
    expect(box.calls('umount')).toHaveLength(1);
    expect(box.calls('mount')).toHaveLength(1);
  });

  it('answers busy in check mode too while a restart holds the lock', async () => {
    mkdirSync(box.path('run/crawlguard'), { mode: 0o700 });
    box.write('run/crawlguard/restart-s3fs.lock', '');
    const holder = spawn('flock', [box.path('run/crawlguard/restart-s3fs.lock'), 'sleep', '30']);
    try {
      await new Promise((resolve) => setTimeout(resolve, 300));
      const result = box.run(SCRIPTS.restart, { Mode: 'check', Mounts: '' }, {}, { timeoutMs: 10_000 });
      expect(result).toMatchObject({ status: 3, json: { status: 'busy' } });
      expect(box.calls('fuser')).toEqual([]);
    } finally {
      holder.kill();
    }
  });

  it('does not hand its lock to the s3fs daemon it starts (the next run is not busy)', () => {
    try {
      const first = box.run(SCRIPTS.restart, { Mode: 'apply', Mounts: MNT }, { FAKE_MOUNT_DAEMON: '1' });
      expect(first.json.status).toBe('restarted');
      expect(box.exists('daemon.pid')).toBe(true);
      const second = box.run(SCRIPTS.restart, { Mode: 'check', Mounts: MNT });
      expect(second.json.status).not.toBe('busy');
    } finally {
      if (box.exists('daemon.pid')) process.kill(Number(box.read('daemon.pid').toString()), 'SIGKILL');
    }
  });

  const hostile = [
    { Mode: 'apply;reboot', Mounts: '' },
    { Mode: 'apply', Mounts: '/mnt/data;reboot' },
    { Mode: 'apply', Mounts: '/mnt/$(reboot)' },
    { Mode: 'apply', Mounts: '/mnt/`reboot`' },
    { Mode: 'apply', Mounts: '/mnt/../etc' },
    { Mode: 'apply', Mounts: '/mnt/data\n' },
    { Mode: 'apply', Mounts: '/mnt/da ta' },
    { Mode: 'apply', Mounts: "/mnt/'data'" },
    { Mode: 'apply', Mounts: '/mnt/data/' },
    { Mode: 'apply', Mounts: ',/mnt/data' },
  ];
  for (const params of hostile) {
    it(`rejects ${JSON.stringify(params)} with exit 2 and touches nothing`, () => {
      const result = box.run(SCRIPTS.restart, params);
      expect(result.status).toBe(2);
      expect(result.json).toMatchObject({ status: 'badParameters', mounts: [] });
      expect(box.calls('umount')).toEqual([]);
      expect(box.calls('fuser')).toEqual([]);
    });
  }
});
