import { describe, expect, it } from 'vitest';
import { type Diagnosis, planFromDiagnosis } from '#core/remediation/plan.ts';

type Mount = Diagnosis['mounts'][number];
const mount = (mountPoint: string, type: string, crawled: boolean | null, source = 'bucket'): Mount => ({
  mountPoint,
  type,
  source,
  crawled,
  crawlReason: crawled ? 'not pruned' : 'pruned',
});
const diagnosis = (mounts: Mount[], overrides: Partial<Diagnosis> = {}): Diagnosis => ({
  status: 'ok',
  locate: { implementation: 'plocate' },
  schedule: { effective: 'cronDaily', crontabDailyTime: '25 6 * * *', anacron: null, systemdTimer: null },
  config: { exists: true, error: null },
  mounts,
  ...overrides,
});
const apply = { alwaysRestart: false };

describe('planFromDiagnosis', () => {
  it('prunes a crawled s3fs mount by type and restarts it when memory grew', () => {
    const plan = planFromDiagnosis(
      diagnosis([mount('/mnt/data', 'fuse.s3fs', true)]),
      ['updatedb-crawl'],
      apply,
    );
    expect(plan).toMatchObject({
      action: 'patch',
      pruneFsTypes: ['fuse.s3fs'],
      prunePaths: [],
      restartMounts: ['/mnt/data'],
      schedule: { kind: 'cron-daily', minuteOfDay: 385, jitterMinutes: 0 },
    });
  });

  it('patches without a restart when only the NetworkOut burst was found, unless the policy asks', () => {
    const d = diagnosis([mount('/mnt/data', 'fuse.s3fs', true)]);
    expect(planFromDiagnosis(d, ['daily-network-burst'], apply)).toMatchObject({
      action: 'patch',
      restartMounts: [],
      restartReason: 'no memory growth was found: s3fs keeps running',
    });
    expect(planFromDiagnosis(d, ['daily-network-burst'], { alwaysRestart: true }).restartMounts).toEqual([
      '/mnt/data',
    ]);
  });

  it('restarts only the crawled s3fs mounts, explicitly', () => {
    const plan = planFromDiagnosis(
      diagnosis([
        mount('/mnt/a', 'fuse.s3fs', true),
        mount('/mnt/b', 'fuse.s3fs', false),
        mount('/mnt/c', 'fuse.rclone', true),
      ]),
      ['memory-growth'],
      apply,
    );
    expect(plan.pruneFsTypes).toEqual(['fuse.rclone', 'fuse.s3fs']);
    expect(plan.restartMounts).toEqual(['/mnt/a']);
  });

  it('prunes an old-style `s3fs#bucket` fuse mount by its path, never the whole `fuse` type', () => {
    const plan = planFromDiagnosis(
      diagnosis([mount('/srv/s3', 'fuse', true, 's3fs#bucket')]),
      ['updatedb-crawl'],
      apply,
    );
    expect(plan).toMatchObject({ pruneFsTypes: [], prunePaths: ['/srv/s3'], restartMounts: ['/srv/s3'] });
  });

  it('is not updatedb when no updatedb is installed, or nothing crawled is object storage', () => {
    expect(
      planFromDiagnosis(
        diagnosis([mount('/mnt/data', 'fuse.s3fs', true)], { locate: { implementation: 'none' } }),
        ['updatedb-crawl'],
        apply,
      ),
    ).toMatchObject({ action: 'not-updatedb', reason: expect.stringContaining('no updatedb is installed') });
    expect(
      planFromDiagnosis(diagnosis([mount('/mnt/data', 'fuse.s3fs', false)]), ['daily-network-burst'], apply),
    ).toMatchObject({
      action: 'not-updatedb',
    });
    expect(
      planFromDiagnosis(diagnosis([mount('/home', 'nfs4', true)]), ['daily-network-burst'], apply),
    ).toMatchObject({
      action: 'not-updatedb',
      reason: expect.stringContaining('/home (nfs4)'),
    });
  });

  it('leaves a crawled mount whose path cannot be passed safely, and says so', () => {
    const plan = planFromDiagnosis(
      diagnosis([mount('/mnt/my data', 'fuse', true, 's3fs#b')]),
      ['updatedb-crawl'],
      apply,
    );
    expect(plan).toMatchObject({
      action: 'not-updatedb',
      crawled: [{ mountPoint: '/mnt/my data', pruned: false }],
    });
  });

  it('escalates a config updatedb already rejects (the patch would refuse it)', () => {
    expect(
      planFromDiagnosis(
        diagnosis([mount('/mnt/data', 'fuse.s3fs', true)], {
          config: { exists: true, error: "variable 'PRUNEFS' was already defined" },
        }),
        ['updatedb-crawl'],
        apply,
      ),
    ).toMatchObject({ action: 'escalate', reason: expect.stringContaining('already defined') });
  });

  it('escalates when diagnose could not tell what is crawled (a config too big to parse), never closes as not-updatedb', () => {
    const plan = planFromDiagnosis(
      diagnosis([mount('/mnt/data', 'fuse.s3fs', null), mount('/mnt/nfs', 'nfs4', false)], {
        config: { exists: true, error: '/etc/updatedb.conf is over 65536 bytes: not parsed' },
      }),
      ['updatedb-crawl'],
      apply,
    );
    expect(plan).toMatchObject({ action: 'escalate', pruneFsTypes: [], restartMounts: [] });
    expect(plan.reason).toContain('/mnt/data');
    expect(plan.reason).toContain('over 65536 bytes');
  });

  it.each([
    [
      { effective: 'systemdTimer', systemdTimer: { onCalendar: 'daily', randomizedDelaySec: '12h' } },
      { kind: 'systemd-timer', randomDelayMinutes: 720 },
    ],
    [
      { effective: 'systemdTimer', systemdTimer: { onCalendar: 'daily', randomizedDelaySec: '1h 30min' } },
      { kind: 'systemd-timer', randomDelayMinutes: 90 },
    ],
    [
      { effective: 'systemdTimer', systemdTimer: { onCalendar: 'daily', randomizedDelaySec: '3600' } },
      { kind: 'systemd-timer', randomDelayMinutes: 60 },
    ],
    [
      { effective: 'cronDaily', crontabDailyTime: '25 6 * * *', anacron: { randomDelay: '45' } },
      { kind: 'cron-daily', minuteOfDay: 385, jitterMinutes: 45 },
    ],
    [{ effective: 'cronDaily', crontabDailyTime: 'garbage' }, { kind: 'unknown' }],
    [{ effective: 'none' }, { kind: 'unknown' }],
  ])('reads the schedule %j as %j', (schedule, expected) => {
    expect(
      planFromDiagnosis(
        diagnosis([mount('/mnt/d', 'fuse.s3fs', true)], { schedule }),
        ['updatedb-crawl'],
        apply,
      ).schedule,
    ).toEqual(expected);
  });
});
