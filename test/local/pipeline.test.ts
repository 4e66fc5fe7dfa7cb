import { beforeAll, describe, expect, it } from 'vitest';
import { type PipelineRun, runPipeline } from '#shared/local/pipeline.ts';
import type { InstanceReport } from '#shared/report/model.ts';

let run: PipelineRun;
const progress: string[] = [];
beforeAll(async () => {
  run = await runPipeline({ seed: 1, onProgress: (line) => progress.push(line) });
}, 120_000);
const named = (name: string): InstanceReport => {
  const instance = run.model.instances.find((i) => i.name === name);
  if (instance === undefined) throw new Error(`no instance ${name} in the report`);
  return instance;
};
const sent = (instance: InstanceReport) =>
  instance.commands.filter((c) => c.sent).map((c) => `${c.step}${c.mode === null ? '' : `:${c.mode}`}`);
const CRAWLED = [
  'cron-media-1',
  'cron-media-paris',
  'anacron-al2',
  'timer-debian-1',
  'timer-ubuntu-2204',
  'timer-rhel9',
  'two-mounts-one-pruned',
  'asg-member',
];

describe('runPipeline on the demo fleet', () => {
  it('flags the crawled, leaking and backup hosts for what they are, and no healthy one', () => {
    for (const name of CRAWLED) expect(named(name).verdict, name).toBe('updatedb-crawl');
    expect(named('app-leak').verdict).toBe('memory-growth');
    expect(named('backup-0200').verdict).toBe('daily-network-burst');
    const healthy = run.model.instances.filter((i) => i.name?.startsWith('healthy-'));
    expect(healthy.length).toBeGreaterThanOrEqual(4);
    for (const instance of healthy) expect(instance.flagged, instance.name ?? '').toBe(false);
    expect(named('cron-media-1').reason).toMatch(/^a burst starts at 06:25 \(UTC\) on 14 of 14 days/);
    expect(named('timer-debian-1').reason).toMatch(/^one burst a day on \d+ of 14 days, starting anywhere/);
  });

  it('leaves out what the scan does not read: not opted in (a hostile tag too), unmanaged, offline', () => {
    expect(run.model.fleet.notScanned.map((n) => n.reason).sort()).toEqual([
      'SSM PingStatus is ConnectionLost',
      'not opted in (tag value "true; reboot")',
      'not opted in (tag value null)',
      'not registered with SSM',
    ]);
  });

  it('checks in dry-run first, then fixes the crawled hosts in apply: patch and restart, each checked first', () => {
    for (const name of CRAWLED) {
      const instance = named(name);
      expect(instance.decision, name).toMatchObject({
        action: 'remediate',
        mode: 'apply',
        outcome: 'remediated',
      });
      expect(sent(instance), name).toEqual([
        'diagnose',
        'patch:check',
        'restart:check',
        'patch:apply',
        'restart:apply',
      ]);
      expect(instance.fix?.patchedAt, name).toMatch(/^2026-11-05T/);
      expect(
        instance.diagnosis?.mounts.some((m) => m.crawled === true),
        name,
      ).toBe(true);
      expect(instance.diagnosis?.plan?.pruneFsTypes, name).toContain('fuse.s3fs');
    }
    expect(progress.find((line) => line.startsWith('  dry run:'))).toMatch(/\d+ checked/);
    expect(progress.find((line) => line.startsWith('  apply:'))).toMatch(/\d+ remediated/);
  });

  it('verifies each fix on the metrics after it: resolved, with the crawl bytes measured before and after', () => {
    for (const name of [...CRAWLED, 'timer-ubuntu-2204', 'writer-holds-mount']) {
      const verification = named(name).verification;
      expect(verification?.verdict, name).toBe('resolved');
      expect(verification?.network?.beforeBytesPerDay, name).toBeGreaterThan(5_000_000);
      expect(verification?.network?.afterBytesPerDay, name).toBeLessThan(
        0.1 * (verification?.network?.beforeBytesPerDay ?? 0),
      );
      expect(Date.parse(verification?.at ?? ''), name).toBeGreaterThan(
        Date.parse(named(name).fix?.patchedAt ?? ''),
      );
      expect(named(name).savings?.basis, name).toBe('measured');
    }
    expect(run.summary.join('\n')).toMatch(/^verdicts: \d+ resolved/m);
    expect(progress.find((line) => / still flagged$/.test(line))).toMatch(
      /of the \d+ fixed, 0 still flagged$/,
    );
  });

  it('leaves alone what updatedb does not cause, and escalates what it must not touch', () => {
    for (const name of ['app-leak', 'backup-0200']) {
      expect(named(name).decision?.outcome, name).toBe('not-updatedb');
      expect(sent(named(name)), name).toEqual(['diagnose']);
      expect(named(name).fix, name).toBeNull();
    }
    const symlink = named('conf-symlink');
    expect(symlink.decision?.outcome).toBe('escalated');
    expect(symlink.decision?.outcomeReason).toMatch(/symbolic link/);
    expect(sent(symlink)).not.toContain('patch:apply');
  });

  it('shows what a dry run withheld, and sends nothing in apply mode for a dry-run episode', () => {
    const checkedOnly = run.model.instances.filter((i) => i.decision?.outcome === 'checked');
    expect(checkedOnly.length).toBeGreaterThan(0);
    for (const instance of checkedOnly) {
      expect(instance.decision?.mode).toBe('dry-run');
      expect(sent(instance)).not.toContain('patch:apply');
      const withheld = instance.commands.filter((c) => !c.sent);
      expect(withheld.map((c) => `${c.step}:${c.mode}`)).toContain('patch:apply');
      expect(withheld[0]?.parameters.PruneFsTypes).toEqual(['fuse.s3fs']);
    }
    expect(run.model.fleet.commands.wouldSend).toBe(
      checkedOnly.reduce((n, i) => n + i.commands.filter((c) => !c.sent).length, 0),
    );
  });

  it('sums it up in a few lines: flagged, outcomes, commands, verdicts, savings', () => {
    expect(run.summary[0]).toMatch(/^flagged: \d+ of \d+ scanned \(\d+ updatedb-crawl, /);
    expect(run.summary.join('\n')).toMatch(/^outcomes: .*\d+ remediated/m);
    expect(run.summary.join('\n')).toMatch(/^commands: \d+ sent, \d+ withheld$/m);
    expect(run.summary.join('\n')).toMatch(/^savings \(\w+\): \$\d+\.\d\d a month/m);
  });
});
