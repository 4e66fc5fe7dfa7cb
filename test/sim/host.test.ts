import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { DEFAULT_S3FS_MEMORY, HostHistoryError, SimHost } from '#shared/sim/host.ts';
import {
  CONF_PATH,
  crawlVerdict,
  DEFAULT_CONFS,
  MALFORMED_CONF,
  type MountEntry,
  NOT_PRUNED_REASON,
  planPatch,
  type UpdatedbConfState,
} from '#shared/sim/host-config.ts';
import { DISTROS } from '#shared/sim/host-distros.ts';
import { distroConf, s3fsMount } from '#shared/sim/host-rosters.ts';
import { HostZone, PLOCATE_TIMER } from '#shared/sim/host-schedule.ts';
import { FIXTURE_DIR } from '#test/helpers/distro-fixtures.ts';
import { parseConf } from '#test/helpers/updatedb-conf-oracle.ts';
import { assessAt, DAY, HOUR, hostSpec, START, seriesAt, sumBetween } from './host-support.ts';

const patched = (
  host: SimHost,
  at: number,
  request = { pruneFs: ['fuse.s3fs'], prunePaths: [] as string[] },
) => {
  const conf = host.configAt(at);
  if (conf.kind !== 'file') throw new Error(`expected a plain file, got ${conf.kind}`);
  host.setConfig(at, { kind: 'file', conf: planPatch(conf.conf, request).after });
};

describe('when updatedb runs', () => {
  const runsOver = (host: SimHost, days: number) =>
    host.runs(START).filter((run) => run.start >= START - days * DAY);

  it('cron.daily starts at 06:25 local time every day, in the host zone', () => {
    const host = new SimHost(hostSpec({ timeZone: 'Europe/Paris' }));
    const zone = new HostZone('Europe/Paris', START - 20 * DAY, START);
    const runs = runsOver(host, 14);
    expect(runs).toHaveLength(14);
    for (const run of runs) expect(zone.localMinute(run.start)).toBe(6 * 60 + 25);
    // Summer time ends on 25 October: 04:25 UTC before, 05:25 UTC after.
    expect(new Date(runs[0]?.start ?? 0).toISOString()).toBe('2026-10-21T04:25:00.000Z');
    expect(new Date(runs.at(-1)?.start ?? 0).toISOString()).toBe('2026-11-03T05:25:00.000Z');
  });

  it('anacron (Amazon Linux 2) starts between 03:06 and 03:51 with a different delay each day', () => {
    const host = new SimHost(
      hostSpec({ distro: 'amazon-linux-2', mounts: [s3fsMount('/data/media', 60_000)] }),
    );
    const minutes = runsOver(host, 14).map((run) => host.zone.localMinute(run.start));
    expect(minutes).toHaveLength(14);
    for (const minute of minutes) expect(minute).toBeGreaterThanOrEqual(3 * 60 + 6);
    for (const minute of minutes) expect(minute).toBeLessThan(3 * 60 + 51);
    expect(new Set(minutes.map(Math.round)).size).toBeGreaterThan(7);
  });

  it("plocate's timer (RandomizedDelaySec=12h) starts anywhere in the first half of the day", () => {
    const host = new SimHost(hostSpec({ distro: 'debian-12', mounts: [s3fsMount('/mnt/media', 60_000)] }));
    expect(host.schedule).toEqual(PLOCATE_TIMER);
    const minutes = runsOver(host, 14).map((run) => host.zone.localMinute(run.start));
    expect(minutes).toHaveLength(14);
    for (const minute of minutes) expect(minute).toBeLessThan(12 * 60 + 20);
    expect(Math.max(...minutes) - Math.min(...minutes)).toBeGreaterThan(6 * 60);
  });

  it("RHEL's timer (AccuracySec=24h, no random delay) lands at one stable time of day per host", () => {
    const at = (seed: number) => {
      const host = new SimHost(hostSpec({ seed, distro: 'rhel-9', mounts: [s3fsMount('/srv/s3', 60_000)] }));
      return runsOver(host, 10).map((run) => Math.round(host.zone.localMinute(run.start)));
    };
    expect(new Set(at(1)).size).toBe(1);
    expect(at(1)[0]).not.toBe(at(2)[0]);
  });

  it('nothing runs without a locate, or with no schedule', () => {
    expect(new SimHost(hostSpec({ distro: 'amazon-linux-2023' })).runs(START)).toEqual([]);
    expect(new SimHost(hostSpec({ schedule: { kind: 'none' } })).runs(START)).toEqual([]);
  });
});

describe("updatedb's rules: which mounts a run crawls", () => {
  const table = (...mounts: MountEntry[]): MountEntry[] => [
    { mountPoint: '/', type: 'ext4' },
    { mountPoint: '/run', type: 'tmpfs' },
    ...mounts,
  ];
  const file = (pruneFs: string[], prunePaths: string[] = []): UpdatedbConfState => ({
    kind: 'file',
    conf: { ...DEFAULT_CONFS.debian, pruneFs, prunePaths },
  });
  const s3fs = { mountPoint: '/srv/media', type: 'fuse.s3fs' };
  const verdict = (state: UpdatedbConfState, mount: MountEntry = s3fs, nodevTypes: string[] = []) =>
    crawlVerdict(mount, table(mount), state, { locateInstalled: true, nodevTypes });

  it.each([
    ['Debian default', file(DEFAULT_CONFS.debian.pruneFs), true, NOT_PRUNED_REASON],
    ['fuse.s3fs in PRUNEFS', file(['nfs', 'fuse.s3fs']), false, 'PRUNEFS has fuse.s3fs'],
    ['FUSE.S3FS (case-insensitive)', file(['FUSE.S3FS']), false, 'PRUNEFS has fuse.s3fs'],
    ['plain fuse does not match fuse.s3fs', file(['fuse']), true, NOT_PRUNED_REASON],
    ['s3fs does not match fuse.s3fs', file(['s3fs']), true, NOT_PRUNED_REASON],
    ['exact path', file([], ['/srv/media']), false, 'PRUNEPATHS has /srv/media'],
    ['a parent path', file([], ['/srv']), false, 'PRUNEPATHS has /srv'],
    ['a trailing slash does not match', file([], ['/srv/media/']), true, NOT_PRUNED_REASON],
    ['a prefix that is not a parent', file([], ['/srv/med']), true, NOT_PRUNED_REASON],
    ['no file: built-in defaults prune nothing', { kind: 'absent' } as const, true, NOT_PRUNED_REASON],
  ])('%s', (_, state, crawled, reason) => {
    expect(verdict(state)).toEqual({ crawled, reason });
  });

  it('a file updatedb rejects indexes nothing; no updatedb crawls nothing', () => {
    const broken: UpdatedbConfState = { kind: 'malformed', error: MALFORMED_CONF['duplicate-prunefs'] };
    expect(verdict(broken)).toEqual({
      crawled: false,
      reason: `updatedb rejects its configuration and indexes nothing: ${MALFORMED_CONF['duplicate-prunefs']}`,
    });
    expect(crawlVerdict(s3fs, table(s3fs), file([]), { locateInstalled: false, nodevTypes: [] })).toEqual({
      crawled: false,
      reason: 'no updatedb installed',
    });
  });

  it("the RHEL/AL2 daily job's -f nodevs prunes plain fuse (goofys), never fuse.s3fs", () => {
    const nodev = DISTROS['amazon-linux-2'].nodevTypes as string[];
    const goofys = { mountPoint: '/srv/goofys', type: 'fuse' };
    expect(verdict(file([]), goofys, nodev)).toEqual({
      crawled: false,
      reason: 'the daily job adds fuse (a nodev filesystem) with -f',
    });
    expect(verdict(file([]), s3fs, nodev).crawled).toBe(true);
  });

  it('nothing below a pruned filesystem is crawled', () => {
    const below = { mountPoint: '/run/user/s3', type: 'fuse.s3fs' };
    expect(verdict(file(['tmpfs']), below)).toEqual({
      crawled: false,
      reason: 'below /run (tmpfs), which is pruned',
    });
  });

  it('RHEL prunes /mnt by path: an s3fs mount there is not crawled, one under /srv is', () => {
    const host = new SimHost(
      hostSpec({ distro: 'rhel-8', mounts: [s3fsMount('/mnt/data', 10), s3fsMount('/srv/data', 10)] }),
    );
    expect(host.crawlVerdictAt({ mountPoint: '/mnt/data', type: 'fuse.s3fs' }, START)).toEqual({
      crawled: false,
      reason: 'PRUNEPATHS has /mnt',
    });
    expect(host.crawlVerdictAt({ mountPoint: '/srv/data', type: 'fuse.s3fs' }, START).crawled).toBe(true);
  });
});

describe('the distributions’ default files', () => {
  it.each([
    ['debian', 'debian-plocate.conf'],
    ['rhel7', 'rhel7-mlocate.conf'],
    ['rhel8', 'rhel8-mlocate.conf'],
    ['rhel9', 'rhel9-mlocate.conf'],
  ] as const)(
    '%s is test/fixtures/updatedb-conf/%s as updatedb parses it, with its line numbers',
    (name, fixture) => {
      const text = readFileSync(`${FIXTURE_DIR}${fixture}`, 'utf8');
      const parsed = parseConf(text);
      if (!parsed.ok) throw new Error(parsed.error);
      const conf = DEFAULT_CONFS[name];
      expect(conf.pruneFs).toEqual(parsed.vars.PRUNEFS ?? []);
      expect(conf.prunePaths).toEqual(parsed.vars.PRUNEPATHS ?? []);
      expect(conf.pruneNames).toEqual(parsed.vars.PRUNENAMES ?? []);
      expect(conf.pruneBindMounts).toBe(parsed.bindMounts ?? null);
      const lines = text.split('\n');
      for (const [variable, line] of Object.entries(conf.lines)) {
        expect(lines[(line as number) - 1], `${variable} on line ${line}`).toMatch(
          new RegExp(`^${variable}\\s*=`),
        );
      }
      expect(conf.lineCount).toBe(lines.filter((line, i) => line !== '' || i < lines.length - 1).length);
    },
  );
});

describe('the patch plan (patch-updatedb-conf.sh)', () => {
  it('edits the existing PRUNEFS line in place and appends PRUNEPATHS where the file has none', () => {
    const conf = { ...DEFAULT_CONFS.rhel8, lines: { PRUNE_BIND_MOUNTS: 1, PRUNEFS: 2 }, lineCount: 2 };
    const plan = planPatch(conf, { pruneFs: ['fuse.s3fs', 'FUSE', 'fuse.s3fs'], prunePaths: ['/srv/media'] });
    expect(plan.missingPruneFs).toEqual(['fuse.s3fs']);
    expect(plan.missingPrunePaths).toEqual(['/srv/media']);
    expect(plan.changes).toEqual([
      { variable: 'PRUNEFS', action: 'edited', line: 2, added: ['fuse.s3fs'] },
      { variable: 'PRUNEPATHS', action: 'added', line: 3, added: ['/srv/media'] },
    ]);
    expect(plan.after.lineCount).toBe(3);
    expect(planPatch(plan.after, { pruneFs: ['FUSE.S3FS'], prunePaths: ['/srv/media'] }).changes).toEqual([]);
  });

  it('creates a file (a header line, then the variables) where none existed', () => {
    const plan = planPatch(null, { pruneFs: ['fuse.s3fs'], prunePaths: ['/srv/a'] });
    expect(plan.changes).toEqual([
      { variable: 'PRUNEFS', action: 'added', line: 2, added: ['fuse.s3fs'] },
      { variable: 'PRUNEPATHS', action: 'added', line: 3, added: ['/srv/a'] },
    ]);
    expect(CONF_PATH).toBe('/etc/updatedb.conf');
  });
});

describe('metrics of a modelled host', () => {
  it('a crawl sends objects × 1.06 requests × 557 bytes of NetworkOut over the baseline, every day', () => {
    const crawled = new SimHost(hostSpec());
    // The same host (same seed: the same baseline and noise) with the mount pruned.
    const pruned = new SimHost(hostSpec({ config: distroConf('ubuntu-20.04', { pruneFs: ['fuse.s3fs'] }) }));
    const a = seriesAt(crawled, START)['network-out'];
    const b = seriesAt(pruned, START)['network-out'];
    if (a === undefined || b === undefined) throw new Error('no NetworkOut');
    const expected = Math.round(60_000 * 1.06) * 557;
    for (let day = 1; day <= 13; day += 1) {
      const from = START - day * DAY;
      const excess = sumBetween(a, from, from + DAY) - sumBetween(b, from, from + DAY);
      expect(excess / expected).toBeCloseTo(1, 3);
    }
    const run = crawled.runs(START).at(-1);
    expect(run?.requests).toBe(Math.round(60_000 * 1.06));
    expect(run?.mounts[0]?.end ?? 0).toBeGreaterThan((run?.mounts[0]?.start ?? 0) + 25 * 60_000);
  });

  it('s3fs RSS: the first crawl adds 1.1 kB per object, later ones 370 B, at most max_stat_cache_size objects', () => {
    const host = new SimHost(hostSpec({ launchedAtMs: START - 5 * DAY - HOUR }));
    const [first, second] = host.runs(START).map((run) => run.end);
    const base = DEFAULT_S3FS_MEMORY.baseRssBytes;
    expect(host.rssBytesAt('/srv/media', (first ?? 0) + 1)).toBeCloseTo(base + 60_000 * 1_100, -3);
    expect(host.rssBytesAt('/srv/media', (second ?? 0) + 1)).toBeCloseTo(base + 60_000 * (1_100 + 370), -3);
    const huge = new SimHost(
      hostSpec({ mounts: [s3fsMount('/srv/media', 300_000)], launchedAtMs: START - 5 * DAY - HOUR }),
    );
    const end = huge.runs(START)[0]?.end ?? 0;
    expect(huge.rssBytesAt('/srv/media', end + 1)).toBeCloseTo(base + 100_000 * 1_100, -3);
    const capped = new SimHost(
      hostSpec({
        mounts: [s3fsMount('/srv/media', 300_000, { options: ['max_stat_cache_size=20000'] })],
        launchedAtMs: START - 5 * DAY - HOUR,
      }),
    );
    expect(capped.rssBytesAt('/srv/media', end + 1)).toBeCloseTo(base + 20_000 * 1_100, -3);
  });

  it('mem_used_percent carries the s3fs RSS share and an application leak, which a reboot resets', () => {
    const host = new SimHost(
      hostSpec({
        memory: { ...hostSpec().memory, noisePercent: 0, leakPercentPerDay: 2 },
        quirks: { stopsAtMs: START - 3 * DAY, startsAgainAtMs: START - 2 * DAY },
      }),
    );
    const series = seriesAt(host, START)['mem-used-percent'];
    if (series === undefined) throw new Error('no mem_used_percent');
    const at = (t: number) => {
      const i = Array.from(series.timestamps).findIndex((x) => x >= t);
      return series.values[i] as number;
    };
    const rss = host.rssBytesAt('/srv/media', START - 4 * DAY) ?? 0;
    const expected =
      20 + 2 * ((START - 4 * DAY - (START - 30 * DAY)) / DAY) + (rss / (8 * 1_073_741_824)) * 100;
    expect(at(START - 4 * DAY)).toBeCloseTo(expected, 1);
    // After the reboot: the leak starts again from 0 and s3fs from its base.
    expect(at(START - 2 * DAY + HOUR)).toBeLessThan(21);
  });

  it('publishes nothing while stopped; a Persistent= timer catches up a missed run after the boot, cron does not', () => {
    const quirks = { stopsAtMs: START - 3 * DAY + 2 * HOUR, startsAgainAtMs: START - 2 * DAY + 20 * HOUR };
    const timer = new SimHost(
      hostSpec({ distro: 'debian-12', mounts: [s3fsMount('/mnt/media', 60_000)], quirks }),
    );
    const series = seriesAt(timer, START)['network-out'];
    const during = Array.from(series?.timestamps ?? []).filter(
      (t) => t >= quirks.stopsAtMs && t < quirks.startsAgainAtMs,
    );
    expect(during).toEqual([]);
    expect(timer.stateAt(quirks.stopsAtMs + 10_000)).toBe('stopping');
    expect(timer.stateAt(quirks.stopsAtMs + HOUR)).toBe('stopped');
    expect(timer.stateAt(quirks.startsAgainAtMs + 10_000)).toBe('pending');
    const caughtUp = timer.runs(START).filter((run) => run.start === quirks.startsAgainAtMs + 60_000);
    const missedByCron = new SimHost(hostSpec({ quirks }))
      .runs(START)
      .filter((run) => run.start >= quirks.stopsAtMs && run.start < quirks.startsAgainAtMs + DAY / 4);
    const cronRunDuringStop = new SimHost(hostSpec())
      .runs(START)
      .some((run) => run.start >= quirks.stopsAtMs && run.start < quirks.startsAgainAtMs);
    expect(cronRunDuringStop).toBe(true);
    expect(missedByCron).toEqual([]);
    // Whether the timer had a run to miss depends on its random delay; if it had, it caught up.
    const wouldHave = new SimHost(
      hostSpec({ distro: 'debian-12', mounts: [s3fsMount('/mnt/media', 60_000)] }),
    )
      .runs(START)
      .some((run) => run.start >= quirks.stopsAtMs && run.start < quirks.startsAgainAtMs);
    expect(caughtUp).toHaveLength(wouldHave ? 1 : 0);
  });

  it('only complete 5-minute periods before now, aligned, in the window asked for', () => {
    const host = new SimHost(hostSpec());
    const now = START + 7 * 60_000;
    const series = host.series('network-out', START - HOUR + 1, START + HOUR, now);
    const times = Array.from(series.timestamps);
    expect(times.every((t) => t % 300_000 === 0)).toBe(true);
    expect(times[0]).toBe(Math.ceil((START - HOUR + 1) / 300_000) * 300_000);
    expect(Math.max(...times) + 300_000).toBeLessThanOrEqual(now);
  });
});

describe('changes over simulated time', () => {
  it('a patch stops the crawls that start after it and leaves the past as it was', () => {
    const before = new SimHost(hostSpec());
    const host = new SimHost(hostSpec());
    patched(host, START);
    const later = START + 7 * DAY;
    expect(
      host
        .runs(later)
        .filter((run) => run.start > START)
        .every((run) => run.mounts.length === 0),
    ).toBe(true);
    expect(host.runs(later).filter((run) => run.start > START)).toHaveLength(7);
    const past = (h: SimHost) => Array.from(h.series('network-out', START - 7 * DAY, START, later).values);
    expect(past(host)).toEqual(past(before));
    expect(host.lastRunAt(later)).toBeGreaterThan(START);
  });

  it('a remount brings RSS back to its base and a new daemon; an unmount leaves no daemon and nothing to crawl', () => {
    const host = new SimHost(hostSpec());
    const pidBefore = host.mountsAt(START)[0]?.daemonPid;
    expect(host.rssBytesAt('/srv/media', START)).toBeGreaterThan(300e6);
    const pid = host.remount(START + 60_000, '/srv/media');
    expect(pid).not.toBe(pidBefore);
    expect(host.mountsAt(START + 61_000)[0]).toMatchObject({ mounted: true, daemonPid: pid });
    expect(host.rssBytesAt('/srv/media', START + 61_000)).toBe(DEFAULT_S3FS_MEMORY.baseRssBytes);
    host.unmount(START + HOUR, '/srv/media');
    expect(host.mountsAt(START + 2 * HOUR)[0]).toMatchObject({ mounted: false, daemonPid: null });
    expect(host.rssBytesAt('/srv/media', START + 2 * HOUR)).toBeNull();
    const next = host.runs(START + 2 * DAY).filter((run) => run.start > START + HOUR);
    expect(next.length).toBeGreaterThan(0);
    expect(next.every((run) => run.mounts.length === 0)).toBe(true);
    expect(seriesAt(host, START + 2 * DAY)['s3fs-rss']?.timestamps.length).toBeLessThan(14 * 288);
  });

  it('stopping updatedb ends the crawl there: fewer requests and bytes', () => {
    const host = new SimHost(hostSpec());
    const run = host.runs(START + DAY).at(-1);
    if (run === undefined) throw new Error('no run');
    const half = (run.mounts[0]?.start ?? 0) + ((run.mounts[0]?.end ?? 0) - (run.mounts[0]?.start ?? 0)) / 2;
    expect(host.updatedbAt(half)).toMatchObject({ crawlingMount: '/srv/media' });
    host.stopUpdatedb(half);
    const stopped = host.runs(START + DAY).at(-1);
    expect(stopped?.end).toBe(half);
    expect(stopped?.requests).toBeCloseTo(run.requests / 2, -2);
    expect(host.updatedbAt(half + 1)).toBeNull();
  });

  it('refuses a change dated before the last one: history is not rewritten', () => {
    const host = new SimHost(hostSpec());
    host.stopUpdatedb(START + HOUR);
    expect(() => host.remount(START, '/srv/media')).toThrow(HostHistoryError);
  });
});

describe('the real detectors on modelled hosts', () => {
  it('cron.daily: a recurring window at 06:25 and s3fs growth (updatedb-crawl); none 7 days after a patch', () => {
    const host = new SimHost(hostSpec());
    const before = assessAt(host, START);
    expect(before.verdict).toBe('updatedb-crawl');
    expect(before.networkOut?.verdict).toBe('recurring-window');
    expect(before.networkOut?.windows[0]?.start).toBe('06:25');
    expect(before.s3fsRss?.verdict).toBe('growth');
    patched(host, START + 60_000);
    expect(assessAt(host, START + 7 * DAY).verdict).toBe('healthy');
  });

  it("plocate's timer: a daily burst at a varying time and s3fs growth (updatedb-crawl)", () => {
    const host = new SimHost(hostSpec({ distro: 'debian-12', mounts: [s3fsMount('/mnt/media', 40_000)] }));
    const result = assessAt(host, START);
    expect(result.verdict).toBe('updatedb-crawl');
    expect(result.networkOut?.verdict).toBe('daily-burst');
  });

  it('a 02:00 backup upload is a recurring window without memory growth (daily-network-burst)', () => {
    const job = {
      name: 'backup',
      minuteOfDay: 120,
      jitterMinutes: 4,
      durationMinutes: 30,
      bytesPerMinute: 8e6,
    };
    const host = new SimHost(hostSpec({ behaviour: 'daily-network-burst', mounts: [], jobs: [job] }));
    const result = assessAt(host, START);
    expect(result.verdict).toBe('daily-network-burst');
    expect(result.networkOut?.windows[0]?.start).toBe('02:00');
  });

  it('an already pruned mount is healthy; an application leak alone is memory-growth', () => {
    expect(
      assessAt(
        new SimHost(hostSpec({ config: distroConf('ubuntu-20.04', { pruneFs: ['fuse.s3fs'] }) })),
        START,
      ).verdict,
    ).toBe('healthy');
    const leak = new SimHost(
      hostSpec({
        mounts: [],
        memory: { ...hostSpec().memory, leakPercentPerDay: 2 },
        launchedAtMs: START - 20 * DAY,
      }),
    );
    expect(assessAt(leak, START).verdict).toBe('memory-growth');
  });

  it('a restart after the patch: no memory growth 3 days later, no burst and no finding a week later', () => {
    const host = new SimHost(hostSpec());
    patched(host, START + 60_000);
    host.remount(START + 120_000, '/srv/media');
    expect(assessAt(host, START + 3 * DAY).s3fsRss?.verdict).toBe('none');
    expect(assessAt(host, START + 7 * DAY).verdict).toBe('healthy');
  });
});
