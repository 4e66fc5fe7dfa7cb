import { describe, expect, it } from 'vitest';
import { SimHost } from '#shared/sim/host.ts';
import { demoHosts, faultHosts } from '#shared/sim/host-rosters.ts';
import { assessAt, START } from './host-support.ts';

describe('demoHosts', () => {
  const specs = demoHosts(1, START);

  it('is a few dozen hosts, each one classified by the real detectors as the roster intends', () => {
    expect(specs.length).toBeGreaterThanOrEqual(24);
    expect(specs.length).toBeLessThanOrEqual(48);
    const wrong = specs.flatMap((spec) => {
      const verdict = assessAt(new SimHost(spec), START).verdict;
      return verdict === spec.behaviour ? [] : [`${spec.name}: ${verdict}, meant ${spec.behaviour}`];
    });
    expect(wrong).toEqual([]);
  });

  it('holds every case the demo must show', () => {
    const named = (name: string) => {
      const spec = specs.find((s) => s.name === name);
      if (spec === undefined) throw new Error(`no ${name}`);
      return new SimHost(spec);
    };
    const schedules = new Set(specs.map((s) => new SimHost(s).schedule.kind));
    expect([...schedules].sort()).toEqual(['anacron', 'cronDaily', 'none', 'systemdTimer']);
    expect(specs.filter((s) => s.behaviour === 'memory-growth').length).toBeGreaterThanOrEqual(1);
    expect(specs.some((s) => s.behaviour === 'daily-network-burst' && (s.jobs?.length ?? 0) > 0)).toBe(true);
    expect(specs.filter((s) => s.behaviour === 'healthy').length).toBeGreaterThanOrEqual(4);
    expect(specs.filter((s) => s.optIn === null)).toHaveLength(1);
    expect(named('writer-holds-mount').holdersAt('/mnt/ingest', START)).toHaveLength(1);
    expect(named('asg-member').spec.quirks?.autoScalingGroup).toBe('web-asg-blue');
    expect(named('conf-symlink').configAt(START).kind).toBe('symlink');
    expect(named('healthy-broken-conf').configAt(START).kind).toBe('malformed');
    expect(named('healthy-al2023').locate).toBe('none');
    expect(named('unmanaged').ssmPing).toBeNull();
    for (const mountedBy of ['fstab', 'systemdMount', 'systemdService', 'process']) {
      expect(specs.some((s) => s.mounts.some((m) => m.mountedBy === mountedBy))).toBe(true);
    }
  });

  it('is the same for the same seed and different ids for another', () => {
    expect(demoHosts(1, START)).toEqual(specs);
    const other = new Set(demoHosts(2, START).map((s) => s.instanceId));
    expect(specs.some((s) => other.has(s.instanceId))).toBe(false);
    expect(new Set(specs.map((s) => s.instanceId)).size).toBe(specs.length);
  });
});

describe('faultHosts', () => {
  it('gives at least 500 findings from 600 hosts, mostly crawled, each classified as intended', () => {
    const specs = faultHosts(600, 7, START);
    expect(new Set(specs.map((s) => s.instanceId)).size).toBe(600);
    const verdicts = specs.map((spec) => ({ spec, verdict: assessAt(new SimHost(spec), START).verdict }));
    expect(verdicts.filter((v) => v.verdict !== v.spec.behaviour).map((v) => v.spec.name)).toEqual([]);
    const findings = verdicts.filter((v) => v.verdict !== 'healthy' && v.verdict !== 'insufficient-data');
    expect(findings.length).toBeGreaterThanOrEqual(500);
    expect(specs.filter((s) => s.behaviour === 'updatedb-crawl').length / 600).toBeGreaterThan(0.8);
  }, 60_000);

  it('mixes distributions, schedules, mount methods and every quirk the fault run needs', () => {
    const specs = faultHosts(600, 7, START);
    expect(new Set(specs.map((s) => s.distro)).size).toBeGreaterThanOrEqual(6);
    const quirks = specs.map((s) => s.quirks ?? {});
    expect(quirks.filter((q) => q.autoScalingGroup !== undefined).length).toBeGreaterThan(10);
    expect(quirks.filter((q) => q.noisyShell === true).length).toBeGreaterThan(3);
    expect(quirks.filter((q) => (q.hangs?.length ?? 0) > 0).length).toBeGreaterThan(1);
    expect(quirks.filter((q) => q.ssm === 'unmanaged').length).toBeGreaterThan(1);
    expect(quirks.filter((q) => q.stopsAtMs !== undefined).length).toBeGreaterThan(1);
    expect(quirks.filter((q) => q.terminatesAtMs !== undefined).length).toBeGreaterThan(1);
    expect(specs.filter((s) => (s.holders?.length ?? 0) > 0).length).toBeGreaterThan(10);
    expect(
      specs.filter((s) => s.config?.kind === 'parsed' && s.config.symlinkTo !== undefined).length,
    ).toBeGreaterThan(2);
    expect(new Set(specs.flatMap((s) => s.mounts.map((m) => m.mountedBy))).size).toBe(4);
  });
});
