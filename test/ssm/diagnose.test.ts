import { spawnSync } from 'node:child_process';
import { mkdirSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { readFixture } from '#test/helpers/distro-fixtures.ts';
import { Sandbox, SCRIPTS } from '#test/helpers/script-sandbox.ts';

let box: Sandbox;

function fakeProcess(pid: number, comm: string, argv: string[], rssKiB: number, uid = 0) {
  box.write(`proc/${pid}/comm`, `${comm}\n`);
  box.write(`proc/${pid}/cmdline`, `${argv.join('\0')}\0`);
  box.write(
    `proc/${pid}/status`,
    `Name:\t${comm}\nState:\tS (sleeping)\nUid:\t${uid}\t${uid}\t${uid}\t${uid}\nVmRSS:\t  ${rssKiB} kB\n`,
  );
}

beforeEach(() => {
  box = new Sandbox();
});

afterEach(() => {
  box.dispose();
});

type Mount = {
  mountPoint: string;
  crawled: boolean | null;
  crawlReason: string;
  mountedBy: string;
  daemonPid: number | null;
};
interface DiagnoseOutput {
  summary: Record<string, unknown>;
  host: Record<string, unknown>;
  locate: Record<string, unknown>;
  schedule: Record<string, unknown>;
  lastRun: Record<string, unknown> | null;
  config: { pruneFs: string[]; error: string | null };
  mounts: Mount[];
  s3fsProcesses: Record<string, unknown>[];
  updatedbRunning: Record<string, unknown>[];
}

describe('diagnose.sh', () => {
  it('on an Amazon Linux 2 style host: cron schedule, nodev pruning, which mounts get crawled, s3fs memory', () => {
    box.fake('updatedb', "echo 'updatedb (mlocate) 0.26'");
    box.fake('crond', 'exit 0');
    box.write(
      'etc/os-release',
      'NAME="Amazon Linux"\nVERSION_ID="2"\nID="amzn"\nPRETTY_NAME="Amazon Linux 2"\n',
    );
    box.write('etc/updatedb.conf', readFixture('rhel7-mlocate.conf'));
    box.write('etc/cron.daily/mlocate', readFixture('rhel7-mlocate.cron'), 0o700);
    box.write(
      'etc/crontab',
      'SHELL=/bin/bash\n# m h dom mon dow user command\n25 6 * * * root run-parts /etc/cron.daily\n',
    );
    box.write(
      'etc/anacrontab',
      'RANDOM_DELAY=45\nSTART_HOURS_RANGE=3-22\n1\t5\tcron.daily\tnice run-parts /etc/cron.daily\n',
    );
    box.write(
      'proc/filesystems',
      'nodev\tsysfs\nnodev\ttmpfs\n\text4\nnodev\tfuse\n\tfuseblk\nnodev\tfusectl\n',
    );
    box.write(
      'proc/self/mounts',
      [
        '/dev/xvda1 / xfs rw 0 0',
        'tmpfs /run tmpfs rw 0 0',
        'bucket /srv/s3 fuse.s3fs rw,nosuid,nodev 0 0',
        'other /mnt/s3 fuse.s3fs rw 0 0',
        'goofys /srv/goofys fuse rw 0 0',
        'fs-1.efs:/ /srv/efs nfs4 rw 0 0',
        'inner /run/user/s3 fuse.s3fs rw 0 0',
        '',
      ].join('\n'),
    );
    box.write('etc/fstab', 'bucket /srv/s3 fuse.s3fs _netdev,max_stat_cache_size=500000 0 0\n');
    fakeProcess(
      700,
      's3fs',
      ['s3fs', 'bucket', '/srv/s3', '-o', 'rw,max_stat_cache_size=500000,passwd_file=/etc/secret'],
      40_960,
    );
    fakeProcess(701, 's3fs', ['s3fs', 'other', '/mnt/s3'], 9_000);
    fakeProcess(900, 'updatedb', ['/usr/bin/updatedb', '-f', 'sysfs tmpfs fuse'], 3_000);
    mkdirSync(box.path('proc/900/fd'), { recursive: true });
    symlinkSync('/srv/s3/dir-04/sub', box.path('proc/900/fd/6'));
    symlinkSync('/', box.path('proc/900/cwd'));
    box.write('var/lib/mlocate/mlocate.db', 'db');

    const result = box.run(SCRIPTS.diagnose, {});
    expect(result.status).toBe(0);
    const json = result.json as unknown as DiagnoseOutput;
    expect(json.summary).toEqual({
      networkMounts: 5,
      s3fsMounts: 3,
      crawledMounts: 1,
      updatedbRunning: true,
    });
    expect(json.host).toMatchObject({ osId: 'amzn', osVersionId: '2', initSystem: 'other' });
    expect(json.locate).toMatchObject({ implementation: 'mlocate', version: 'updatedb (mlocate) 0.26' });
    expect(json.schedule).toMatchObject({
      cronDaily: { script: '/etc/cron.daily/mlocate', exitsUnderSystemd: false, addsNodevFilesystems: true },
      crontabDailyTime: '25 6 * * *',
      anacron: { present: true, startHoursRange: '3-22', randomDelay: '45' },
      cronDaemon: 'installed',
      systemdTimer: null,
      effective: 'cronDaily',
    });
    expect(json.lastRun).toMatchObject({
      database: '/var/lib/mlocate/mlocate.db',
      modified: expect.stringMatching(/Z$/),
    });
    expect(json.config.pruneFs).toContain('fuse');
    expect(json.config.pruneFs).not.toContain('fuse.s3fs');
    const byPath = Object.fromEntries((json.mounts as Mount[]).map((m) => [m.mountPoint, m]));
    expect(byPath['/srv/s3']).toMatchObject({ crawled: true, mountedBy: 'fstab', daemonPid: 700 });
    expect(byPath['/mnt/s3']).toMatchObject({
      crawled: false,
      crawlReason: 'PRUNEPATHS has /mnt',
      mountedBy: 'process',
    });
    expect(byPath['/srv/goofys']).toMatchObject({ crawled: false, crawlReason: 'PRUNEFS has fuse' });
    expect(byPath['/srv/efs']).toMatchObject({ crawled: false, crawlReason: 'PRUNEFS has nfs4' });
    expect(byPath['/run/user/s3']).toMatchObject({
      crawled: false,
      crawlReason: expect.stringMatching(/below \/run \(tmpfs\)/),
    });
    expect(json.s3fsProcesses).toContainEqual({
      pid: 700,
      mountPoint: '/srv/s3',
      rssKiB: 40_960,
      maxStatCacheSize: 500_000,
      statCacheExpire: null,
      optionNames: ['rw', 'max_stat_cache_size', 'passwd_file'],
    });
    expect(result.stdout).not.toContain('/etc/secret');
    expect(json.updatedbRunning).toEqual([
      { pid: 900, command: 'updatedb', cwd: '/', crawlingMount: '/srv/s3' },
    ]);
  });

  it('on a Debian 12 style host without systemd running: the timer read from unit files, fuse.s3fs crawled', () => {
    box.fake('updatedb', "echo 'updatedb (plocate) 1.1.18'");
    box.write('etc/updatedb.conf', readFixture('debian-plocate.conf'));
    box.write('etc/cron.daily/plocate', readFixture('debian-plocate.cron.daily'), 0o755);
    box.write(
      'lib/systemd/system/plocate-updatedb.timer',
      readFixture('debian12-installed.plocate-updatedb.timer'),
    );
    mkdirSync(box.path('etc/systemd/system/timers.target.wants'), { recursive: true });
    symlinkSync(
      '/lib/systemd/system/plocate-updatedb.timer',
      box.path('etc/systemd/system/timers.target.wants/plocate-updatedb.timer'),
    );
    box.write(
      'etc/systemd/system/plocate-updatedb.timer.d/override.conf',
      '[Timer]\nRandomizedDelaySec=30m\n',
    );
    box.write('proc/self/mounts', '/dev/vda / ext4 rw 0 0\nbucket /mnt/data fuse.s3fs rw 0 0\n');
    const json = box.run(SCRIPTS.diagnose, {}).json as unknown as DiagnoseOutput;
    expect(json.schedule).toMatchObject({
      cronDaily: { script: '/etc/cron.daily/plocate', exitsUnderSystemd: true },
      cronDaemon: 'absent',
      systemdTimer: {
        unit: 'plocate-updatedb.timer',
        onCalendar: 'daily',
        randomizedDelaySec: '30m',
        enabled: 'enabled',
        source: 'unitFiles',
      },
      effective: 'none',
    });
    expect(json.mounts).toEqual([
      expect.objectContaining({
        mountPoint: '/mnt/data',
        crawled: true,
        mountedBy: 'unknown',
        daemonPid: null,
      }),
    ]);
    expect(json.lastRun).toBeNull();
  });

  it('on a RHEL 8 style host: mlocate timer from its unit file, nodev types added by mlocate-run-updatedb', () => {
    box.fake('updatedb', "echo 'updatedb (mlocate) 0.26'");
    box.write('etc/updatedb.conf', readFixture('rhel8-mlocate.conf'));
    box.write(
      'usr/lib/systemd/system/mlocate-updatedb.timer',
      readFixture('rhel8-mlocate.mlocate-updatedb.timer'),
    );
    box.write('usr/libexec/mlocate-run-updatedb', readFixture('rhel8-mlocate.mlocate-run-updatedb'), 0o755);
    box.write('proc/filesystems', 'nodev\tsysfs\nnodev\tfuse\nnodev\tfuse.nothing\n');
    box.write(
      'proc/self/mounts',
      '/dev/sda1 / xfs rw 0 0\nbucket /srv/s3 fuse.s3fs rw 0 0\ngoofys /srv/g fuse rw 0 0\n',
    );
    const json = box.run(SCRIPTS.diagnose, {}).json as unknown as DiagnoseOutput;
    expect(json.schedule).toMatchObject({
      cronDaily: { script: null, addsNodevFilesystems: true },
      systemdTimer: {
        unit: 'mlocate-updatedb.timer',
        onCalendar: 'daily',
        randomizedDelaySec: null,
        enabled: 'disabled',
      },
    });
    expect(json.mounts.map((m) => [m.mountPoint, m.crawled])).toEqual([
      ['/srv/g', false],
      ['/srv/s3', true],
    ]);
  });

  it('on a host without any locate, cron or systemd', () => {
    box.write('proc/self/mounts', '/dev/vda / ext4 rw 0 0\nbucket /data fuse.s3fs rw 0 0\n');
    const result = box.run(SCRIPTS.diagnose, {});
    expect(result.status).toBe(0);
    expect(result.json).toMatchObject({
      status: 'ok',
      locate: { implementation: 'none', updatedbPath: null },
      schedule: { effective: 'none', systemdTimer: null, cronDaily: { script: null } },
      config: { exists: false, pruneFs: [] },
      summary: { crawledMounts: 0 },
      mounts: [{ crawled: false, crawlReason: 'no updatedb installed' }],
    });
  });

  it('says so when updatedb rejects its configuration (it then indexes nothing)', () => {
    box.fake('updatedb', "echo 'updatedb (plocate) 1.1.18'");
    box.write('etc/updatedb.conf', 'PRUNEFS="nfs"\nPRUNEFS="$PRUNEFS fuse.s3fs"\n');
    box.write('proc/self/mounts', 'bucket /data fuse.s3fs rw 0 0\n');
    const json = box.run(SCRIPTS.diagnose, {}).json as unknown as DiagnoseOutput;
    expect(json.config.error).toMatch(/line 2: variable PRUNEFS is already defined/);
    expect(json.mounts[0]).toMatchObject({
      crawled: false,
      crawlReason: expect.stringMatching(/rejects its configuration/),
    });
  });

  it('names as a mount`s daemon only an s3fs process of the user who mounted it', () => {
    box.write(
      'proc/self/mounts',
      'bucket /srv/s3 fuse.s3fs rw,user_id=0,group_id=0 0 0\nmine /home/u/s3 fuse.s3fs rw,user_id=1000 0 0\n',
    );
    fakeProcess(600, 's3fs', ['s3fs', 'bucket', '/srv/s3'], 100, 1000);
    fakeProcess(610, 's3fs', ['s3fs', 'mine', '/home/u/s3'], 100, 1000);
    fakeProcess(700, 's3fs', ['s3fs', 'bucket', '/srv/s3'], 100);
    const json = box.run(SCRIPTS.diagnose, {}).json as unknown as DiagnoseOutput;
    const byPath = Object.fromEntries(json.mounts.map((m) => [m.mountPoint, m]));
    expect(byPath['/srv/s3']?.daemonPid).toBe(700);
    expect(byPath['/home/u/s3']?.daemonPid).toBe(610);
  });

  it('is not hung by a FIFO at /etc/updatedb.conf (nor lets updatedb hang on it), and says what it is', () => {
    // Like the real updatedb, the fake opens /etc/updatedb.conf before anything else.
    box.fake(
      'updatedb',
      `cat "$CRAWLGUARD_TEST_ROOT/etc/updatedb.conf" >/dev/null; echo 'updatedb (plocate) 1.1.18'`,
    );
    mkdirSync(box.path('etc'), { recursive: true });
    spawnSync('mkfifo', [box.path('etc/updatedb.conf')]);
    box.write('proc/self/mounts', 'bucket /data fuse.s3fs rw,user_id=0 0 0\n');
    const result = box.run(SCRIPTS.diagnose, {}, {}, { timeoutMs: 15_000 });
    expect(result.status).toBe(0);
    expect(result.json.config).toMatchObject({
      exists: true,
      fileType: 'fifo',
      error: expect.stringMatching(/is a fifo, not a regular file/),
    });
    expect(box.calls('updatedb')).toEqual([]);
  });

  it('reads no input file without a bound: FIFOs in /etc do not hang it', () => {
    box.write('proc/self/mounts', 'bucket /data fuse.s3fs rw,user_id=0 0 0\n');
    mkdirSync(box.path('etc/cron.daily'), { recursive: true });
    for (const file of [
      'etc/os-release',
      'etc/crontab',
      'etc/anacrontab',
      'etc/fstab',
      'etc/cron.daily/plocate',
    ]) {
      spawnSync('mkfifo', [box.path(file)]);
    }
    const result = box.run(SCRIPTS.diagnose, {}, {}, { timeoutMs: 15_000 });
    expect(result.status).toBe(0);
    expect(result.json).toMatchObject({
      status: 'ok',
      host: { osId: null },
      schedule: { crontabDailyTime: null, anacron: { present: false } },
    });
  });

  it('does not parse an updatedb.conf larger than 64 KiB and says it cannot judge the mounts', () => {
    box.fake('updatedb', "echo 'updatedb (plocate) 1.1.18'");
    box.write('etc/updatedb.conf', `PRUNEFS="nfs"\n${'# padding\n'.repeat(7000)}`);
    box.write('proc/self/mounts', 'bucket /data fuse.s3fs rw,user_id=0 0 0\n');
    const json = box.run(SCRIPTS.diagnose, {}).json as unknown as DiagnoseOutput;
    expect(json.config.error).toMatch(/larger than 65536 bytes/);
    expect(json.mounts[0]).toMatchObject({
      crawled: null,
      crawlReason: expect.stringMatching(/cannot tell/),
    });
    expect(json.summary).toMatchObject({ crawledMounts: 0 });
  });

  describe('still names the locate implementation when updatedb rejects a malformed config', () => {
    // Like the real one, the fake parses /etc/updatedb.conf before anything, --version included.
    const REJECTING = `conf="$CRAWLGUARD_TEST_ROOT/etc/updatedb.conf"
      if [[ $(grep -c '^PRUNEFS' "$conf") -gt 1 ]]; then echo "$conf:2: variable PRUNEFS was already defined" >&2; exit 1; fi
      echo 'updatedb (VERSION) 1'`;
    const MALFORMED = 'PRUNEFS="nfs"\nPRUNEFS="$PRUNEFS fuse.s3fs"\n';

    beforeEach(() => {
      box.link('grep');
      box.write('etc/updatedb.conf', MALFORMED);
      box.write('proc/self/mounts', 'bucket /data fuse.s3fs rw,user_id=0 0 0\n');
    });

    it('from the executable`s real name (Debian/Ubuntu: updatedb -> alternatives -> updatedb.plocate)', () => {
      box.fake('updatedb.plocate', REJECTING.replace('VERSION', 'plocate'));
      symlinkSync('updatedb.plocate', join(box.bin, 'updatedb'));
      const json = box.run(SCRIPTS.diagnose, {}).json as unknown as DiagnoseOutput;
      expect(json.locate).toEqual({
        implementation: 'plocate',
        updatedbPath: join(box.bin, 'updatedb'),
        version: null,
        identifiedBy: 'executable',
      });
      expect(json.config.error).toMatch(/line 2: variable PRUNEFS is already defined/);
      // A well-formed file: --version answers.
      box.write('etc/updatedb.conf', 'PRUNEFS="nfs"\n');
      expect(box.run(SCRIPTS.diagnose, {}).json.locate).toMatchObject({
        implementation: 'plocate',
        version: 'updatedb (plocate) 1',
        identifiedBy: 'version',
      });
    });

    it('from the package that owns it (RHEL: /usr/bin/updatedb is mlocate`s own)', () => {
      box.fake('updatedb', REJECTING.replace('VERSION', 'mlocate'));
      box.fake('rpm', '[[ $1 == -qf ]] && echo mlocate');
      const json = box.run(SCRIPTS.diagnose, {}).json as unknown as DiagnoseOutput;
      expect(json.locate).toMatchObject({ implementation: 'mlocate', identifiedBy: 'package' });
      expect(box.calls('rpm')).toEqual([`-qf --queryformat %{NAME}\\n ${join(box.bin, 'updatedb')}`]);
      expect(json.config.error).toMatch(/already defined/);
    });

    it('says unknown only when nothing tells', () => {
      box.fake('updatedb', REJECTING.replace('VERSION', 'mlocate'));
      const json = box.run(SCRIPTS.diagnose, {}).json as unknown as DiagnoseOutput;
      expect(json.locate).toMatchObject({ implementation: 'unknown', identifiedBy: null });
    });
  });

  it('keeps its output under 24,000 characters with hundreds of mounts, flagging the cut', () => {
    box.write(
      'proc/self/mounts',
      Array.from(
        { length: 300 },
        (_, i) => `bucket-${i} /mnt/s3-${'x'.repeat(60)}-${i} fuse.s3fs rw 0 0\n`,
      ).join(''),
    );
    const result = box.run(SCRIPTS.diagnose, {});
    expect(result.stdout.length).toBeLessThan(24_000);
    expect(result.json.mountsTruncated).toBe(true);
    expect(result.json.summary).toMatchObject({ networkMounts: 300 });
  });

  it('runs read-only on this machine and prints one valid JSON document', () => {
    const result = spawnSync('bash', [SCRIPTS.diagnose], {
      encoding: 'utf8',
      env: { PATH: process.env.PATH },
    });
    expect(result.status).toBe(0);
    const lines = result.stdout.split('\n').filter(Boolean);
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0] ?? '')).toMatchObject({
      document: 'crawlguard-diagnose',
      status: 'ok',
      exitCode: 0,
    });
  });
});
