import { describe, expect, it } from 'vitest';
import { assessInstance } from '#core/assessment.ts';
import { analyzeMemory } from '#core/memory.ts';
import { analyzeNetworkOut, type NetworkOutAnalysis } from '#core/network-out/index.ts';
import { savingsOf } from '#core/remediation/savings.ts';
import {
  buildReport,
  commandReport,
  estimatedSavings,
  heatmapOf,
  instanceReport,
  memoryReport,
  networkOutReport,
  summarizeFleet,
} from '#shared/report/build.ts';
import {
  DETECTION_DAYS,
  FIXTURE_START,
  fixtureModel,
  memorySeries,
  networkSeries,
} from '#test/support/report-fixture.ts';

const DAY = 86_400_000;

describe('networkOutReport', () => {
  it('marks a cron window from its start to the time its bursts had ended, as minutes of the day', () => {
    // Prepare
    const analysis = analyzeNetworkOut(
      networkSeries(DETECTION_DAYS, { minuteOfDay: 385, minutes: 40, bytesPerMin: 2_500_000 }),
      { includeProfile: true },
    );

    // Act
    const report = networkOutReport(analysis);

    // Assess
    expect(analysis.verdict).toBe('recurring-window');
    expect(report.windows).toEqual([
      expect.objectContaining({
        kind: 'recurring-window',
        startMinute: 385,
        endMinute: 425,
        bytesPerDay: analysis.windows[0]?.extraBytesPerDay,
      }),
    ]);
    expect(report.windows[0]?.label).toMatch(/^06:25–07:05: 14\/14 days, /);
  });

  it('marks a window that crosses midnight with an end before its start', () => {
    const analysis = analyzeNetworkOut(
      networkSeries(DETECTION_DAYS, { minuteOfDay: 1370, minutes: 90, bytesPerMin: 2_000_000 }),
    );

    const report = networkOutReport(analysis);

    expect(report.windows.map((w) => [w.startMinute, w.endMinute])).toEqual([[1370, 20]]);
  });

  it('marks a daily burst from its earliest start to its latest start plus its typical length', () => {
    const analysis = {
      ...analyzeNetworkOut(networkSeries(DETECTION_DAYS, null)),
      verdict: 'daily-burst',
      windows: [],
      dailyBurst: {
        earliestStart: '02:08',
        latestStart: '23:30',
        startSpreadMinutes: 1282,
        typicalDurationMinutes: 85,
        typicalBytes: 195_000_000,
        sizeSpread: 0.1,
        daysWithBurst: 14,
        daysObserved: 14,
        confidence: 1,
        firstSeenDay: '2026-10-21',
        lastSeenDay: '2026-11-03',
      },
    } satisfies NetworkOutAnalysis;

    const report = networkOutReport(analysis);

    expect(report.windows).toEqual([
      expect.objectContaining({
        kind: 'daily-burst',
        startMinute: 128,
        endMinute: 55,
        bytesPerDay: 195_000_000,
      }),
    ]);
  });

  it('draws the heatmap from the given profile (a longer series) and keeps the detection windows', () => {
    const detection = analyzeNetworkOut(
      networkSeries(DETECTION_DAYS, { minuteOfDay: 385, minutes: 40, bytesPerMin: 2_500_000 }),
    );
    const longer = analyzeNetworkOut(
      networkSeries(18, { minuteOfDay: 385, minutes: 40, bytesPerMin: 2_500_000 }),
      {
        includeProfile: true,
      },
    );

    const report = networkOutReport(detection, longer.profile ?? null);

    expect(report.heatmap?.rows).toHaveLength(18);
    expect(report.windows[0]?.startMinute).toBe(385);
  });

  it('has no heatmap when the analysis ran without a profile', () => {
    expect(networkOutReport(analyzeNetworkOut(networkSeries(DETECTION_DAYS, null))).heatmap).toBeNull();
  });
});

describe('heatmapOf', () => {
  it('keeps one row a local day and one cell a slot, rounds, and turns missing data into null', () => {
    const profile = {
      firstDay: '2026-11-30',
      binMinutes: 720,
      slotsPerDay: 2,
      excessBytesPerMin: Float64Array.from([1.4, Number.NaN, -2.6, 1e6]),
      validDays: [false, true],
    };

    expect(heatmapOf(profile)).toEqual({
      binMinutes: 720,
      slotsPerDay: 2,
      rows: [
        { day: '2026-11-30', valid: false, excessBytesPerMin: [1, null] },
        { day: '2026-12-01', valid: true, excessBytesPerMin: [-3, 1_000_000] },
      ],
    });
  });
});

describe('memoryReport', () => {
  it('keeps hourly means and the fitted trend of the judged segment', () => {
    const series = memorySeries(DETECTION_DAYS, 30, 2);
    const analysis = analyzeMemory(series, { unit: 'percent' });

    const report = memoryReport('mem-used-percent', analysis, series);

    expect(analysis.verdict).toBe('growth');
    expect(report.points).toHaveLength(DETECTION_DAYS * 24);
    expect(report.points[0]?.[0]).toBe(FIXTURE_START);
    // The first hour's mean of a line rising 2 points a day from 30 (12 points, 0..55 minutes).
    expect(report.points[0]?.[1]).toBeCloseTo(30 + (2 * 27.5) / 1440, 1);
    expect(report.trend).toEqual({
      start: analysis.segment?.start,
      end: analysis.segment?.end,
      from: analysis.segment?.levelAtStart,
      to: analysis.segment?.levelNow,
    });
    expect(report.projection?.threshold).toBe(90);
    expect(Date.parse(report.projection?.reachesAt ?? '')).toBeGreaterThan(
      FIXTURE_START + DETECTION_DAYS * DAY,
    );
  });

  it('has no trend and no projection without growth', () => {
    const series = memorySeries(DETECTION_DAYS, 35, 0);

    const report = memoryReport('mem-used-percent', analyzeMemory(series, { unit: 'percent' }), series);

    expect(report.verdict).toBe('none');
    expect(report.projection).toBeNull();
  });
});

describe('instanceReport', () => {
  it('draws pictures only for flagged instances and estimates what fixing the crawl would save', () => {
    const crawled = assessInstance(
      'i-0123456789abcdef0',
      {
        'network-out': networkSeries(DETECTION_DAYS, {
          minuteOfDay: 385,
          minutes: 40,
          bytesPerMin: 2_500_000,
        }),
      },
      { network: { includeProfile: true } },
    );
    const healthy = assessInstance(
      'i-0123456789abcdef1',
      {
        'network-out': networkSeries(DETECTION_DAYS, null),
        'mem-used-percent': memorySeries(DETECTION_DAYS, 30, 0),
      },
      { network: { includeProfile: true } },
    );

    const flagged = instanceReport(crawled, {}, { dataPath: 'nat-gateway' });
    const quiet = instanceReport(
      healthy,
      { 'mem-used-percent': memorySeries(DETECTION_DAYS, 30, 0) },
      { dataPath: 'nat-gateway' },
    );

    expect(flagged.flagged).toBe(true);
    expect(flagged.networkOut?.heatmap?.rows).toHaveLength(DETECTION_DAYS);
    expect(flagged.savings).toEqual({
      basis: 'estimated',
      dataPath: 'nat-gateway',
      ...savingsOf(crawled.networkOut?.windows[0]?.extraBytesPerDay ?? Number.NaN, 0, 'nat-gateway'),
    });
    expect(quiet.flagged).toBe(false);
    expect(quiet.networkOut?.heatmap).toBeNull();
    expect(quiet.memory.map((m) => m.points)).toEqual([[]]);
    expect(quiet.savings).toBeNull();
    expect([quiet.decision, quiet.verification, quiet.fix, quiet.diagnosis]).toEqual([
      null,
      null,
      null,
      null,
    ]);
  });
});

describe('estimatedSavings', () => {
  it('is null when no window carries bytes', () => {
    expect(
      estimatedSavings(
        networkOutReport(analyzeNetworkOut(networkSeries(DETECTION_DAYS, null))),
        'nat-gateway',
      ),
    ).toBeNull();
  });
});

describe('commandReport', () => {
  it('says what would have been sent when there is no result', () => {
    const report = commandReport({
      step: 'restart',
      document: 'crawlguard-restart-s3fs',
      parameters: { Mode: ['apply'], Mounts: ['/mnt/a'] },
      result: null,
    });

    expect(report).toMatchObject({ sent: false, outcome: null, mode: 'apply' });
  });
});

describe('summarizeFleet and buildReport', () => {
  const model = fixtureModel();

  it('counts what the instances say: flagged by kind, commands sent and withheld, verdicts, savings', () => {
    expect(model.fleet).toEqual({
      scanned: 5,
      flagged: 4,
      byKind: [
        { kind: 'updatedb-crawl', count: 1 },
        { kind: 'daily-network-burst', count: 2 },
        { kind: 'memory-growth', count: 1 },
      ],
      notScanned: [expect.objectContaining({ instanceId: 'i-0c1a77e1d0c5a00ee' })],
      commands: { sent: 4, wouldSend: 1 },
      verdicts: { resolved: 1, 'not-resolved': 0, inconclusive: 0 },
      savings: expect.objectContaining({ basis: 'mixed', instances: 3 }),
    });
    const perDay = model.instances
      .flatMap((instance) => (instance.savings === null ? [] : [instance.savings]))
      .reduce((total, s) => total + s.before.bytesPerDay - s.after.bytesPerDay, 0);
    expect(model.fleet.savings.bytesPerMonth).toBe(perDay * 30);
  });

  it('puts flagged instances first, in the order given', () => {
    expect(model.instances.map((instance) => instance.flagged)).toEqual([true, true, true, true, false]);
    expect(model.instances[0]?.instanceId).toBe('i-0c1a77e1d0c5a00aa');
  });

  it('is plain JSON: it survives a round trip unchanged', () => {
    expect(JSON.parse(JSON.stringify(model))).toEqual(model);
  });

  it('has no savings to total when no instance has any', () => {
    expect(summarizeFleet([]).savings).toEqual({
      basis: 'none',
      instances: 0,
      bytesPerMonth: 0,
      requestsPerMonth: 0,
      usdPerMonth: 0,
    });
    expect(buildReport({ generatedAt: 'x', source: 'y', instances: [] }).fleet.flagged).toBe(0);
  });
});
