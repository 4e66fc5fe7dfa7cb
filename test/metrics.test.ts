import { describe, expect, it } from 'vitest';
import { FINDING_KINDS } from '#core/assessment.ts';
import { SKIP_CODES } from '#core/remediation/policy.ts';
import { EPISODE_OUTCOMES } from '#core/remediation/types.ts';
import { VERDICTS } from '#core/remediation/verify.ts';
import {
  closedEpisodePoints,
  DECISION_REASONS,
  decisionPoints,
  EmfPipelineMetrics,
  findingPoints,
  METRIC_NAMESPACE,
  METRIC_SERVICE,
  PIPELINE_METRICS,
  RecordingPipelineMetrics,
  SERVICE_DIMENSION,
} from '#shared/metrics.ts';

/** An EMF document as CloudWatch reads it. */
interface Emf {
  _aws: {
    Timestamp: number;
    CloudWatchMetrics: {
      Namespace: string;
      Dimensions: string[][];
      Metrics: { Name: string; Unit: string }[];
    }[];
  };
  [key: string]: unknown;
}

function emfLines(run: (metrics: EmfPipelineMetrics) => void): Emf[] {
  const lines: string[] = [];
  run(new EmfPipelineMetrics((line) => lines.push(line)));
  for (const line of lines) expect(line).not.toContain('\n');
  return lines.map((line) => JSON.parse(line) as Emf);
}

describe('the metric catalogue', () => {
  it('gives each metric a distinct name and at most one dimension, never an instance', () => {
    const specs = Object.values(PIPELINE_METRICS);
    expect(new Set(specs.map((s) => s.name)).size).toBe(specs.length);
    for (const spec of specs) {
      expect(spec.dimension ?? '').not.toMatch(/instance/i);
      expect(new Set(spec.values).size, spec.name).toBe(spec.values.length);
    }
  });

  it('bounds every dimension by the vocabulary it counts', () => {
    expect(PIPELINE_METRICS.findings.values).toEqual(FINDING_KINDS);
    expect(PIPELINE_METRICS.outcomes.values).toEqual(EPISODE_OUTCOMES);
    expect(PIPELINE_METRICS.verdicts.values).toEqual(VERDICTS);
    for (const code of SKIP_CODES) expect(DECISION_REASONS).toContain(code);
    // Metrics a month for the whole stack, whatever the fleet size.
    const metrics = Object.values(PIPELINE_METRICS).reduce((n, s) => n + Math.max(1, s.values.length), 0);
    expect(metrics).toBeLessThan(50);
  });
});

describe('what each event counts', () => {
  it('counts findings by kind, every kind present so that a scan that found nothing says 0', () => {
    expect(findingPoints({ 'updatedb-crawl': 3, healthy: 40 } as never)).toEqual([
      { name: 'Findings', dimension: { name: 'Kind', value: 'updatedb-crawl' }, value: 3 },
      { name: 'Findings', dimension: { name: 'Kind', value: 'daily-network-burst' }, value: 0 },
      { name: 'Findings', dimension: { name: 'Kind', value: 'memory-growth' }, value: 0 },
    ]);
  });

  it('reads the breaker off the gate decision: open on a breaker skip or trip, closed on a start, unknown otherwise', () => {
    const breaker = (d: Parameters<typeof decisionPoints>[0]) =>
      decisionPoints(d).find((p) => p.name === 'BreakerOpen')?.value ?? null;
    expect(breaker({ status: 'started' })).toBe(0);
    expect(breaker({ status: 'skipped', code: 'breaker-open' })).toBe(1);
    expect(breaker({ status: 'skipped', code: 'breaker-open', breakerOpened: true })).toBe(1);
    expect(breaker({ status: 'skipped', code: 'cooldown' })).toBeNull();
    expect(breaker({ status: 'joined' })).toBeNull();
    expect(decisionPoints({ status: 'escalated', code: 'repeated-failures' })).toEqual([
      { name: 'Decisions', dimension: { name: 'Decision', value: 'escalated' }, value: 1 },
      { name: 'DecisionReasons', dimension: { name: 'Reason', value: 'repeated-failures' }, value: 1 },
    ]);
  });

  it('counts an unknown reason code as other: a dimension never takes a value outside its list', () => {
    const points = decisionPoints({ status: 'skipped', code: 'i-0123456789abcdef0 is weird' });
    expect(points[1]).toEqual({
      name: 'DecisionReasons',
      dimension: { name: 'Reason', value: 'other' },
      value: 1,
    });
  });

  it('counts an episode outcome on its first close only; a close that opened the breaker says so', () => {
    expect(closedEpisodePoints({ outcome: 'remediated', closed: true, breakerOpened: false })).toEqual([
      { name: 'EpisodeOutcomes', dimension: { name: 'Outcome', value: 'remediated' }, value: 1 },
    ]);
    expect(closedEpisodePoints({ outcome: 'remediated', closed: false, breakerOpened: false })).toEqual([]);
    expect(
      closedEpisodePoints({ outcome: 'failed', closed: true, breakerOpened: true }).map((p) => p.name),
    ).toEqual(['EpisodeOutcomes', 'BreakerOpen']);
  });

  it('records what the port is told (the recorder the tests and the local stack use)', () => {
    const recorder = new RecordingPipelineMetrics();
    recorder.findingsPublished({ 'memory-growth': 2 });
    recorder.verified('resolved');
    recorder.verified('not-resolved');
    recorder.verified('resolved');
    expect(recorder.total('Findings')).toBe(2);
    expect(recorder.total('Verdicts', 'resolved')).toBe(2);
    expect(recorder.total('Verdicts')).toBe(3);
  });
});

describe('EMF through Powertools Metrics', () => {
  it('writes one EMF line per datapoint in the crawlguard namespace, dimensions service and the metric’s own', () => {
    const docs = emfLines((m) => {
      m.findingsPublished({ 'updatedb-crawl': 2 });
      m.gateDecided({ status: 'skipped', code: 'breaker-open' });
      m.episodeClosed({ outcome: 'checked', closed: true, breakerOpened: false });
      m.verified('inconclusive');
    });
    expect(docs).toHaveLength(3 + 3 + 1 + 1);
    for (const doc of docs) {
      const [directive, ...more] = doc._aws.CloudWatchMetrics;
      expect(more).toEqual([]);
      expect(directive?.Namespace).toBe(METRIC_NAMESPACE);
      expect(doc[SERVICE_DIMENSION]).toBe(METRIC_SERVICE);
      const [metric] = directive?.Metrics ?? [];
      const spec = Object.values(PIPELINE_METRICS).find((s) => s.name === metric?.Name);
      expect(spec, metric?.Name).toBeDefined();
      expect(metric?.Unit).toBe('Count');
      expect(typeof doc[metric?.Name ?? '']).toBe('number');
      expect(directive?.Dimensions).toEqual([
        spec?.dimension === null ? [SERVICE_DIMENSION] : [SERVICE_DIMENSION, spec?.dimension],
      ]);
      if (spec?.dimension) expect(spec.values).toContain(doc[spec.dimension]);
    }
    const crawl = docs.find((d) => d.Kind === 'updatedb-crawl');
    expect(crawl?.Findings).toBe(2);
    expect(
      docs.find((d) => d._aws.CloudWatchMetrics[0]?.Metrics[0]?.Name === 'BreakerOpen')?.BreakerOpen,
    ).toBe(1);
    expect(docs.find((d) => d.Verdict === 'inconclusive')?.Verdicts).toBe(1);
  });

  it('keeps no dimension from one datapoint to the next', () => {
    const docs = emfLines((m) => {
      m.gateDecided({ status: 'skipped', code: 'cooldown' });
      m.verified('resolved');
    });
    expect(docs.map((d) => d._aws.CloudWatchMetrics[0]?.Dimensions)).toEqual([
      [['service', 'Decision']],
      [['service', 'Reason']],
      [['service', 'Verdict']],
    ]);
    expect(docs[2]).not.toHaveProperty('Decision');
    expect(docs[2]).not.toHaveProperty('Reason');
  });

  it('writes nothing when Powertools metrics are turned off (POWERTOOLS_METRICS_DISABLED)', () => {
    const before = process.env.POWERTOOLS_METRICS_DISABLED;
    process.env.POWERTOOLS_METRICS_DISABLED = 'true';
    try {
      expect(emfLines((m) => m.verified('resolved'))).toEqual([]);
    } finally {
      if (before === undefined) delete process.env.POWERTOOLS_METRICS_DISABLED;
      else process.env.POWERTOOLS_METRICS_DISABLED = before;
    }
  });
});
