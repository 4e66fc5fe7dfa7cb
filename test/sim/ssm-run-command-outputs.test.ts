/**
 * The JSON each document prints, against the contract of shared/ssm/README.md (zod schemas in
 * shared/sim/aws/ssm-run-command-outputs.ts): the simulator's outputs on every demo host, and the real
 * scripts' outputs in the offline sandbox, both checked by the same schemas.
 */
import { mkdirSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import {
  diagnoseOutputSchema,
  OUTPUT_SCHEMAS,
  patchOutputSchema,
  restartOutputSchema,
} from '#shared/sim/aws/ssm-run-command-outputs.ts';
import type { SimulatedFleet } from '#shared/sim/fleet.ts';
import { readFixture } from '#test/helpers/distro-fixtures.ts';
import { Sandbox, SCRIPTS } from '#test/helpers/script-sandbox.ts';
import { hostFleet, run } from './run-command-support.ts';

let fleet: SimulatedFleet | undefined;
afterEach(() => {
  fleet?.restore();
  fleet = undefined;
});

type Short = keyof typeof OUTPUT_SCHEMAS;
const STEPS: [Short, Record<string, string>][] = [
  ['diagnose', {}],
  ['patch-updatedb-conf', { Mode: 'check' }],
  ['restart-s3fs', { Mode: 'check' }],
  ['patch-updatedb-conf', { Mode: 'apply' }],
  ['restart-s3fs', { Mode: 'apply' }],
  ['patch-updatedb-conf', { Mode: 'apply' }],
  ['diagnose', {}],
];

describe("the simulator's outputs follow the documented contract", () => {
  it('on every demo host, for every document and mode: one JSON object, its schema, its exit code as ResponseCode', async () => {
    fleet = hostFleet();
    const seen: Record<Short, Set<string>> = {
      diagnose: new Set(),
      'patch-updatedb-conf': new Set(),
      'restart-s3fs': new Set(),
    };
    let refused = 0;
    for (const host of fleet.hosts.values()) {
      if (host.ssmPing !== 'Online') {
        await expect(run(fleet, host.instanceId, 'diagnose')).rejects.toMatchObject({
          name: 'InvalidInstanceId',
        });
        refused += 1;
        continue;
      }
      for (const [short, parameters] of STEPS) {
        const { result } = await run(fleet, host.instanceId, short, parameters);
        let stdout = result.StandardOutputContent ?? '';
        if (host.spec.quirks?.noisyShell !== undefined) {
          // A login banner comes first: stdout is not one JSON object, its last line is.
          expect(() => JSON.parse(stdout)).toThrow();
          stdout = stdout.trimEnd().split('\n').at(-1) ?? '';
        }
        expect(stdout.endsWith('\n') || host.spec.quirks?.noisyShell !== undefined).toBe(true);
        const parsed = OUTPUT_SCHEMAS[short].safeParse(JSON.parse(stdout));
        expect(
          parsed.error?.issues ?? [],
          `${host.spec.name} ${short} ${JSON.stringify(parameters)}`,
        ).toEqual([]);
        const output = parsed.data as { status: string; exitCode: number };
        expect(result.ResponseCode).toBe(output.exitCode);
        expect(result.Status).toBe(output.exitCode === 0 ? 'Success' : 'Failed');
        seen[short].add(output.status);
      }
    }
    expect(refused).toBe(2);
    expect([...seen['patch-updatedb-conf']].sort()).toEqual([
      'alreadyCompliant',
      'nonCompliant',
      'notInstalled',
      'patched',
      'refused',
    ]);
    expect([...seen['restart-s3fs']].sort()).toEqual(['checked', 'deferred', 'nothingToDo', 'restarted']);
    expect([...seen.diagnose]).toEqual(['ok']);
  }, 120_000);
});

describe("the real scripts' outputs follow the same contract", () => {
  let box: Sandbox | undefined;
  afterEach(() => {
    box?.dispose();
    box = undefined;
  });

  it('diagnose.sh on a Debian host with an s3fs and an NFS mount', () => {
    box = new Sandbox();
    box.fake('updatedb', "echo 'updatedb (plocate) 1.1.18'");
    box.write('etc/updatedb.conf', readFixture('debian-plocate.conf'));
    box.write('etc/cron.daily/plocate', readFixture('debian-plocate.cron.daily'), 0o755);
    box.write('etc/crontab', '25 6 * * * root test -x /usr/sbin/anacron || run-parts /etc/cron.daily\n');
    box.write(
      'proc/self/mounts',
      '/dev/vda / ext4 rw 0 0\ns3fs /mnt/data fuse.s3fs rw 0 0\nfs-1:/ /srv/efs nfs4 rw 0 0\n',
    );
    box.write('etc/fstab', 'bucket /mnt/data fuse.s3fs _netdev,allow_other 0 0\n');
    box.write('proc/700/comm', 's3fs\n');
    box.write('proc/700/cmdline', 's3fs\0bucket\0/mnt/data\0-o\0rw,allow_other\0');
    box.write('proc/700/status', 'Name:\ts3fs\nState:\tS\nVmRSS:\t 40960 kB\n');
    const result = box.run(SCRIPTS.diagnose, {});
    expect(diagnoseOutputSchema.safeParse(result.json).error?.issues ?? []).toEqual([]);
    expect(result.json).toMatchObject({ summary: { crawledMounts: 1 } });
  });

  it('patch-updatedb-conf.sh: nonCompliant, patched, alreadyCompliant, refused, badParameters, notInstalled', () => {
    box = new Sandbox();
    box.link('grep');
    box.fake('updatedb', "case $1 in --version) echo 'updatedb (plocate) 1.1.18';; *) exit 0;; esac");
    box.write('etc/updatedb.conf', readFixture('debian-plocate.conf'));
    const runs = [
      box.run(SCRIPTS.patch, { Mode: 'check', PruneFsTypes: 'fuse.s3fs', PrunePaths: '/mnt/data' }),
      box.run(SCRIPTS.patch, { Mode: 'apply', PruneFsTypes: 'fuse.s3fs', PrunePaths: '' }),
      box.run(SCRIPTS.patch, { Mode: 'apply', PruneFsTypes: 'fuse.s3fs', PrunePaths: '' }),
      box.run(SCRIPTS.patch, { Mode: 'bogus', PruneFsTypes: 'fuse.s3fs', PrunePaths: '' }),
    ];
    box.write('etc/updatedb.conf', 'PRUNEFS="a"\nPRUNEFS="b"\n');
    runs.push(box.run(SCRIPTS.patch, { Mode: 'apply', PruneFsTypes: 'fuse.s3fs', PrunePaths: '' }));
    const bare = new Sandbox();
    try {
      runs.push(bare.run(SCRIPTS.patch, { Mode: 'apply', PruneFsTypes: 'fuse.s3fs', PrunePaths: '' }));
    } finally {
      bare.dispose();
    }
    for (const result of runs) {
      expect(patchOutputSchema.safeParse(result.json).error?.issues ?? []).toEqual([]);
      expect(result.status).toBe(result.json.exitCode);
    }
    expect(runs.map((r) => r.json.status)).toEqual([
      'nonCompliant',
      'patched',
      'alreadyCompliant',
      'badParameters',
      'refused',
      'notInstalled',
    ]);
  });

  it('restart-s3fs.sh: checked, deferred and nothingToDo', () => {
    box = new Sandbox();
    box.link('grep');
    mkdirSync(box.path('mnt/data'), { recursive: true });
    box.write('proc/self/mounts', '/dev/vda / ext4 rw 0 0\ns3fs /mnt/data fuse.s3fs rw,nosuid,nodev 0 0\n');
    box.write('etc/fstab', 'bucket /mnt/data fuse.s3fs _netdev,allow_other 0 0\n');
    box.write('proc/4100/comm', 's3fs\n');
    box.write('proc/4100/cmdline', 's3fs\0bucket\0/mnt/data\0-o\0rw,_netdev,allow_other\0');
    box.write('proc/4100/status', 'Name:\ts3fs\nState:\tS (sleeping)\nVmRSS:\t  38912 kB\n');
    box.write('proc/4242/comm', 'python3\n');
    box.write('proc/4242/cmdline', 'python3\0writer.py\0');
    box.write('proc/4242/status', 'Name:\tpython3\nState:\tS (sleeping)\nVmRSS:\t  1000 kB\n');
    box.fake('fuser', 'if [[ -n $FAKE_HOLDERS ]]; then echo " $FAKE_HOLDERS"; exit 0; fi; exit 1');
    const runs = [
      box.run(SCRIPTS.restart, { Mode: 'check', Mounts: '' }),
      box.run(SCRIPTS.restart, { Mode: 'apply', Mounts: '/mnt/data' }, { FAKE_HOLDERS: '4242c' }),
    ];
    box.write('proc/self/mounts', '/dev/vda / ext4 rw 0 0\n');
    runs.push(box.run(SCRIPTS.restart, { Mode: 'apply', Mounts: '' }));
    for (const result of runs) {
      expect(restartOutputSchema.safeParse(result.json).error?.issues ?? []).toEqual([]);
      expect(result.status).toBe(result.json.exitCode);
    }
    expect(runs.map((r) => r.json.status)).toEqual(['checked', 'deferred', 'nothingToDo']);
  });
});

describe('the schemas refuse what the contract does not allow', () => {
  const valid = {
    document: 'crawlguard-restart-s3fs',
    outputVersion: 1,
    mode: 'check',
    status: 'nothingToDo',
    mounts: [],
    mountsTruncated: false,
    reason: 'no fuse.s3fs mount on this host',
    exitCode: 0,
  };
  it.each([
    ['a missing field', { ...valid, mountsTruncated: undefined }],
    ['an extra field', { ...valid, extra: true }],
    ['a mistyped field', { ...valid, mountsTruncated: 'no' }],
    ['an unknown status', { ...valid, status: 'done' }],
    ['an exit code that does not match the status', { ...valid, exitCode: 3 }],
    ['another document', { ...valid, document: 'crawlguard-diagnose' }],
  ])('%s', (_, output) => {
    expect(restartOutputSchema.safeParse(valid).success).toBe(true);
    expect(restartOutputSchema.safeParse(output).success).toBe(false);
  });
});
