import { describe, expect, it } from 'vitest';
import { runNab, runSuite, score } from './suite.ts';

// `npm run eval` prints the full table; this keeps the targets from regressing unnoticed.
describe('detector evaluation', () => {
  const suite = runSuite(4);
  const nab = runNab();

  it.each(['network-out', 'memory'] as const)(
    '%s meets precision and recall ≥ 0.95 on the scenario suite',
    (detector) => {
      const result = score(suite, detector);

      expect(result.cases).toBeGreaterThanOrEqual(4 * 30);
      expect(result.precision).toBeGreaterThanOrEqual(0.95);
      expect(result.recall).toBeGreaterThanOrEqual(0.95);
    },
  );

  it('covers at least 100 scenario families, with every situation of issue 9', () => {
    const families = new Set(suite.map((outcome) => outcome.family));
    expect(
      new Set(suite.map((outcome) => `${outcome.detector}/${outcome.family}`)).size,
    ).toBeGreaterThanOrEqual(100);
    for (const family of [
      'new-mount-cron',
      'crawl-stopped',
      'huge-bucket-cron',
      'busy-web-morning-crawl',
      'crawl-under-large-transfers',
      'workday-instance-anacron',
      'office-lunch-dip',
      'schedule-moved',
      'leak-under-weekly-batch',
      'late-staircase-rss',
      'leak-with-hour-spike',
    ]) {
      expect(families.has(family), family).toBe(true);
    }
  });

  it('describes the present: stopped crawls are past, last seen on the right day; moved schedules say so', () => {
    const history = suite.filter((outcome) =>
      /^(crawl-stopped|moved-then-stopped|schedule-moved)/.test(outcome.family),
    );
    expect(history.length).toBeGreaterThanOrEqual(4 * 7);
    expect(history.filter((outcome) => outcome.correct).length / history.length).toBeGreaterThanOrEqual(0.95);
    // A stopped pattern never yields a finding.
    expect(history.filter((outcome) => outcome.expected === 'none' && outcome.got !== 'none')).toEqual([]);
  });

  it('judges every NAB series as labelled: the daily spikes found, no recurrence claimed elsewhere', () => {
    expect(nab.filter((outcome) => !outcome.correct)).toEqual([]);
    const spikes = nab.find(
      (outcome) => outcome.family === 'ec2_cpu_utilization_24ae8d' && outcome.detector === 'network-out',
    );
    expect(spikes?.got).toBe('recurring-window');
    const claimed = nab
      .filter((o) => o.detector === 'network-out' && o.got === 'recurring-window')
      .map((o) => o.family);
    expect(claimed.sort()).toEqual(['ec2_cpu_utilization_24ae8d', 'ec2_cpu_utilization_53ea38']);
  });
});
