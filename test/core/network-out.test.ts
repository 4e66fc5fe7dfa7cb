import { describe, expect, it } from 'vitest';
import { InvalidOptionError, InvalidSeriesError } from '#core/errors.ts';
import { analyzeNetworkOut } from '#core/network-out/index.ts';
import { DAY, MINUTE, MONDAY, networkHost, type TestBurst, type TestHost } from './build-series.ts';

const MB = 1_000_000;
const CRON = { startMinute: 6 * 60 + 25, minutes: 60, bytesPerMinute: 2 * MB };
const WEEKDAYS = [0, 1, 2, 3, 4, 7, 8, 9, 10, 11];

describe('analyzeNetworkOut: recurring windows', () => {
  it('reports a cron crawl at 06:25 with its exact size, length and days', () => {
    const analysis = analyzeNetworkOut(networkHost({ bursts: [CRON] }));

    expect(analysis.verdict).toBe('recurring-window');
    expect(analysis.windows).toHaveLength(1);
    expect(analysis.windows[0]).toMatchObject({
      start: '06:25',
      latestStart: '06:25',
      end: '07:25',
      daysWithSpike: 14,
      daysObserved: 14,
      typicalDurationMinutes: 60,
      typicalExcessBytesPerMin: 2 * MB,
      extraBytesPerDay: 120 * MB,
      firstSeenDay: '2026-10-19',
      lastSeenDay: '2026-11-01',
    });
    expect(analysis.windows[0]?.confidence).toBeGreaterThan(0.99);
    expect(analysis.windows[0]?.pValue).toBeLessThan(1e-6);
    expect(analysis.reason).toContain('06:25');
    expect(analysis).toMatchObject({
      active: true,
      lastSeenDay: '2026-11-01',
      pastPatterns: [],
      scheduleChange: null,
    });
    expect(analysis.evidence).toMatchObject({ daysObserved: 14, bursts: 14, baselineBytesPerMin: 100_000 });
  });

  it.each<[string, TestHost, Record<string, unknown>]>([
    ['1-minute datapoints', { periodMinutes: 1, bursts: [CRON] }, { start: '06:25', daysWithSpike: 14 }],
    [
      'missing datapoints and whole missing days',
      { bursts: [CRON], missingDays: [3, 9], dropEvery: 7 },
      { start: '06:25', daysWithSpike: 12, daysObserved: 12 },
    ],
    [
      'weekday-only jobs',
      { bursts: [{ ...CRON, days: WEEKDAYS }] },
      { start: '06:25', daysWithSpike: 10, daysObserved: 14 },
    ],
    [
      'a tiny, exactly flat baseline',
      { baseBytesPerMinute: 500, bursts: [{ ...CRON, minutes: 30, bytesPerMinute: 200_000 }] },
      { start: '06:25', daysWithSpike: 14, extraBytesPerDay: 6 * MB },
    ],
    [
      'crawls of varying length',
      {
        bursts: [
          { ...CRON, minutes: 20, days: [0, 4, 8, 12] },
          { ...CRON, minutes: 60, days: [1, 5, 9, 13] },
          { ...CRON, minutes: 120, days: [2, 6, 10] },
          { ...CRON, minutes: 240, days: [3, 7, 11] },
        ],
      },
      { start: '06:25', daysWithSpike: 14, typicalDurationMinutes: 60 },
    ],
    [
      'a noisy busy host with a day/night cycle',
      { baseBytesPerMinute: 2 * MB, noise: 0.1, diurnal: 0.5, bursts: [{ ...CRON, bytesPerMinute: 4 * MB }] },
      { start: '06:25', daysWithSpike: 14 },
    ],
  ])('survives %s', (_name, host, expected) => {
    const analysis = analyzeNetworkOut(networkHost(host));

    expect(analysis.verdict).toBe('recurring-window');
    expect(analysis.windows[0]).toMatchObject(expected);
  });

  it('reports a window that crosses midnight in UTC, and at 06:25 in the host zone', () => {
    // cron.daily at 06:25 KST is 21:25 UTC; a 4-hour crawl ends at 01:25 UTC the next day.
    const series = networkHost({
      bursts: [{ startMinute: 21 * 60 + 25, minutes: 240, bytesPerMinute: 1 * MB }],
    });

    const inUtc = analyzeNetworkOut(series);
    const inSeoul = analyzeNetworkOut(series, { timeZone: 'Asia/Seoul' });

    expect(inUtc.windows[0]).toMatchObject({
      start: '21:25',
      end: '01:25',
      daysWithSpike: 14,
      typicalDurationMinutes: 240,
    });
    expect(inSeoul.timeZone).toBe('Asia/Seoul');
    // Seoul's first local day starts at 09:00 and has no data at 06:25; its last one ends at 09:00 and
    // holds that day's crawl: a day counts for the times of day at which it has data.
    expect(inSeoul.windows[0]).toMatchObject({
      start: '06:25',
      end: '10:25',
      daysWithSpike: 14,
      daysObserved: 14,
    });
  });

  it('counts a job whose start straddles midnight once per day', () => {
    const lateEvenings = [0, 2, 4, 6, 8, 10, 12];
    const series = networkHost({
      bursts: [
        { startMinute: 23 * 60 + 50, minutes: 45, bytesPerMinute: 2 * MB, days: lateEvenings },
        { startMinute: 24 * 60 + 15, minutes: 45, bytesPerMinute: 2 * MB, days: [1, 3, 5, 7, 9, 11] },
      ],
    });

    const analysis = analyzeNetworkOut(series);

    expect(analysis.verdict).toBe('recurring-window');
    expect(analysis.windows[0]).toMatchObject({ earliestStart: '23:50', daysWithSpike: 13 });
  });

  it('reports two windows a day, largest first', () => {
    const evening = { startMinute: 18 * 60 + 10, minutes: 45, bytesPerMinute: 1.5 * MB };

    const analysis = analyzeNetworkOut(networkHost({ bursts: [evening, CRON] }));

    expect(analysis.verdict).toBe('recurring-window');
    expect(analysis.windows.map((window) => [window.start, window.extraBytesPerDay])).toEqual([
      ['06:25', 120 * MB],
      ['18:10', 67.5 * MB],
    ]);
  });

  it('keeps the local time of a cron job across a daylight-saving change', () => {
    // 06:25 in New York: 10:25 UTC before 1 November 2026, 11:25 UTC after.
    const bursts = Array.from({ length: 14 }, (_, day) => ({
      startMinute: day < 13 ? 10 * 60 + 25 : 11 * 60 + 25,
      minutes: 60,
      bytesPerMinute: 2 * MB,
      days: [day],
    }));

    const analysis = analyzeNetworkOut(networkHost({ start: Date.UTC(2026, 9, 19), bursts }), {
      timeZone: 'America/New_York',
    });

    expect(analysis.windows[0]).toMatchObject({ start: '06:25', latestStart: '06:25' });
  });

  it('gives the same answer for newest-first datapoints with duplicates', () => {
    const forward = networkHost({ bursts: [CRON] });
    const order = forward.timestamps.map((_, i) => i).reverse();
    const duplicated = [...order, ...order.slice(0, 50)];
    const shuffled = {
      timestamps: duplicated.map((i) => forward.timestamps[i] as number),
      values: duplicated.map((i) => forward.values[i] as number),
    };

    const analysis = analyzeNetworkOut(shuffled);

    expect(analysis.windows).toEqual(analyzeNetworkOut(forward).windows);
    expect(analysis.evidence.duplicateDatapoints).toBe(50);
  });
});

const daysFrom = (first: number, last: number): number[] =>
  Array.from({ length: last - first + 1 }, (_, k) => first + k);

describe('analyzeNetworkOut: the present, not only the period (issue 9)', () => {
  it('finds a new mount crawled on the last four days, and says since when', () => {
    const analysis = analyzeNetworkOut(networkHost({ bursts: [{ ...CRON, days: daysFrom(10, 13) }] }));

    expect(analysis.verdict).toBe('recurring-window');
    expect(analysis.windows[0]).toMatchObject({
      start: '06:25',
      daysWithSpike: 4,
      daysObserved: 4,
      firstSeenDay: '2026-10-29',
      lastSeenDay: '2026-11-01',
    });
    expect(analysis.reason).toContain('since 2026-10-29');
  });

  it('does not call the same time on scattered days a window', () => {
    const analysis = analyzeNetworkOut(networkHost({ bursts: [{ ...CRON, days: [1, 5, 8, 12] }] }));

    expect(analysis.verdict).toBe('none');
    expect(analysis.active).toBe(false);
  });

  it('reports a crawl that stopped five days ago as past: not active, when it was last seen, its window', () => {
    const analysis = analyzeNetworkOut(networkHost({ bursts: [{ ...CRON, days: daysFrom(0, 8) }] }));

    expect(analysis.verdict).toBe('none');
    expect(analysis).toMatchObject({
      active: false,
      lastSeenDay: '2026-10-27',
      windows: [],
      scheduleChange: null,
    });
    expect(analysis.pastPatterns).toHaveLength(1);
    expect(analysis.pastPatterns[0]).toMatchObject({
      kind: 'recurring-window',
      start: '06:25',
      end: '07:25',
      firstSeenDay: '2026-10-19',
      lastSeenDay: '2026-10-27',
      daysWithSpike: 9,
      daysAbsent: 5,
    });
    expect(analysis.pastPatterns[0]?.pStillActive).toBeLessThan(0.01);
    expect(analysis.reason).toMatch(/has stopped: none on the 5 day\(s\) with data since/);
  });

  it('still calls a crawl that skipped its last day active', () => {
    const analysis = analyzeNetworkOut(networkHost({ bursts: [{ ...CRON, days: daysFrom(0, 12) }] }));

    expect(analysis).toMatchObject({ verdict: 'recurring-window', active: true, lastSeenDay: '2026-10-31' });
  });

  it('reports a systemd crawl that stopped as a past daily burst', () => {
    const starts = [30, 400, 120, 610, 250, 700, 15, 330, 200];
    const bursts = starts.map((startMinute, day) => ({
      startMinute,
      minutes: 60,
      bytesPerMinute: 2 * MB,
      days: [day],
    }));

    const analysis = analyzeNetworkOut(networkHost({ bursts }));

    expect(analysis).toMatchObject({ verdict: 'none', active: false, lastSeenDay: '2026-10-27' });
    expect(analysis.pastPatterns[0]).toMatchObject({ kind: 'daily-burst', daysWithSpike: 9, end: null });
  });

  it('reports a schedule that moved: the window now, the one before, and when it moved', () => {
    const analysis = analyzeNetworkOut(
      networkHost({
        bursts: [
          { ...CRON, days: daysFrom(0, 6) },
          { ...CRON, startMinute: 2 * 60 + 10, days: daysFrom(7, 13) },
        ],
      }),
    );

    expect(analysis.verdict).toBe('recurring-window');
    expect(analysis.windows.map((window) => window.start)).toEqual(['02:10']);
    expect(analysis.scheduleChange).toEqual({
      from: '06:25',
      to: '02:10',
      lastDayBefore: '2026-10-25',
      firstDayAfter: '2026-10-26',
    });
    expect(analysis.pastPatterns).toMatchObject([
      { kind: 'recurring-window', start: '06:25', lastSeenDay: '2026-10-25' },
    ]);
    expect(analysis.reason).toContain('moved from 06:25');
  });

  it('finds the crawl of a huge bucket lasting 9–11 hours, and not a working-day plateau', () => {
    const lengths = [600, 560, 640, 590, 620, 545, 655, 600, 575, 630, 610, 565, 645, 595];
    const huge = lengths.map((minutes, day) => ({ ...CRON, minutes, days: [day] }));
    const office = [{ startMinute: 540, minutes: 540, bytesPerMinute: 2 * MB, days: WEEKDAYS }];

    const crawl = analyzeNetworkOut(networkHost({ bursts: huge }));
    const workingDays = analyzeNetworkOut(networkHost({ bursts: office }));

    expect(crawl.verdict).toBe('recurring-window');
    expect(crawl.windows[0]).toMatchObject({
      start: '06:25',
      daysWithSpike: 14,
      typicalDurationMinutes: 600,
    });
    expect(workingDays.verdict).toBe('none');
    expect(workingDays.reason).toMatch(/working week|multi-hour plateau/);
  });

  it('finds a crawl of a few MB/min in the morning ramp of a web server swinging 30 MB/min', () => {
    // Night 8 MB/min, day 40 MB/min, the ramp steepest at 06:45; the crawl adds 4 MB/min from 06:25.
    const web = (minute: number): number => 0.2 + 0.8 / (1 + Math.exp(-(minute - 405) / 20));
    const analysis = analyzeNetworkOut(
      networkHost({
        baseBytesPerMinute: 40 * MB,
        noise: 0.02,
        profile: web,
        bursts: [{ ...CRON, minutes: 90, bytesPerMinute: 4 * MB }],
      }),
    );

    expect(analysis.verdict).toBe('recurring-window');
    expect(analysis.windows).toHaveLength(1);
    expect(analysis.windows[0]?.daysWithSpike).toBeGreaterThanOrEqual(13);
    expect(analysis.windows[0]?.start).toMatch(/^06:2[0-5]$/);
  });

  it("judges recurrence at the crawl's time, whatever larger transfers happen elsewhere", () => {
    const backups: TestBurst[] = [0, 2, 3, 6, 8, 9, 11, 13].map((day, k) => ({
      startMinute: 700 + 97 * k,
      minutes: 60,
      bytesPerMinute: 10 * MB,
      days: [day],
    }));
    const hourly = Array.from({ length: 24 }, (_, hour) => ({
      startMinute: hour * 60 + 45,
      minutes: 5,
      bytesPerMinute: 1 * MB,
    }));

    const analysis = analyzeNetworkOut(networkHost({ bursts: [CRON, ...backups, ...hourly] }));

    expect(analysis.verdict).toBe('recurring-window');
    expect(analysis.windows).toHaveLength(1);
    expect(analysis.windows[0]).toMatchObject({ start: '06:25', daysWithSpike: 14 });
  });

  it('counts the days of an instance that runs 07:00–17:00 for the hours it runs', () => {
    const analysis = analyzeNetworkOut(
      networkHost({ online: [420, 1020], bursts: [{ ...CRON, startMinute: 7 * 60 + 20, minutes: 45 }] }),
    );

    expect(analysis.verdict).toBe('recurring-window');
    expect(analysis.windows[0]).toMatchObject({ start: '07:20', daysWithSpike: 14, daysObserved: 14 });
    expect(analysis.evidence.daysWithDataAtBestHour).toBe(14);
  });

  it('does not take office traffic (arrival ramp, lunch dip) for a window at the morning rise', () => {
    const office = (minute: number, day: number): number => {
      const weekday = (day + 1) % 7;
      if (weekday === 0 || weekday === 6) return 1;
      const present = 1 / (1 + Math.exp(-(minute - 510) / 15)) - 1 / (1 + Math.exp(-(minute - 1050) / 20));
      const lunch = 1 - 0.4 * Math.exp(-(((minute - 750) / 35) ** 2));
      return 1 + 5 * Math.max(0, present) * lunch;
    };

    const analysis = analyzeNetworkOut(networkHost({ noise: 0.1, profile: office }));

    expect(analysis.verdict).toBe('none');
  });

  it('keeps its numbers for values near the float limit (sums of them would overflow)', () => {
    // 1-minute datapoints of about 3e307 bytes: an hour's sum exceeds the largest double.
    const flat = networkHost({ baseBytesPerMinute: 3e307, noise: 0.1, periodMinutes: 1 });
    // 1e305 bytes per 5 minutes, and a 40-minute crawl of 1e307 per 5 minutes at 06:25.
    const crawled = networkHost({ baseBytesPerMinute: 2e304, noise: 0.1 });
    for (let i = 0; i < crawled.values.length; i += 1) {
      if (i % 288 >= 77 && i % 288 < 85) crawled.values[i] = 1e307;
    }

    const quiet = analyzeNetworkOut(flat);
    const crawl = analyzeNetworkOut(crawled);

    expect(quiet.verdict).toBe('none');
    expect(quiet.evidence.baselineBytesPerMin).toBeGreaterThan(2e307);
    expect(quiet.evidence.noiseBytesPerMin).toBeGreaterThan(1e306);
    expect(crawl.evidence.baselineBytesPerMin).toBeGreaterThan(1e304);
    expect(crawl.windows[0]).toMatchObject({ start: '06:25', daysWithSpike: 14 });
  });

  it('answers for a year of 1-minute datapoints (more than the stack allows as arguments)', () => {
    const year = networkHost({ days: 200, periodMinutes: 1, bursts: [CRON] });

    const analysis = analyzeNetworkOut(year);

    expect(year.values.length).toBeGreaterThan(200_000);
    expect(analysis.verdict).toBe('recurring-window');
  });
});

describe('analyzeNetworkOut: one burst a day at a varying time', () => {
  it('reports a systemd timer with a random delay as a daily burst', () => {
    const starts = [30, 400, 120, 610, 250, 700, 15, 330, 500, 90, 660, 200, 450, 380];
    const bursts = starts.map((startMinute, day) => ({
      startMinute,
      minutes: 60,
      bytesPerMinute: 2 * MB,
      days: [day],
    }));

    const analysis = analyzeNetworkOut(networkHost({ bursts }));

    expect(analysis.verdict).toBe('daily-burst');
    expect(analysis.windows).toEqual([]);
    expect(analysis.dailyBurst).toMatchObject({
      typicalDurationMinutes: 60,
      typicalBytes: 120 * MB,
      sizeSpread: 0,
      daysWithBurst: 14,
      daysObserved: 14,
    });
    expect(analysis.dailyBurst?.startSpreadMinutes).toBeGreaterThan(400);
  });
});

describe('analyzeNetworkOut: none', () => {
  const irregular = [
    { startMinute: 600, minutes: 30, bytesPerMinute: 3 * MB, days: [0] },
    { startMinute: 800, minutes: 10, bytesPerMinute: 0.5 * MB, days: [0, 3] },
    { startMinute: 700, minutes: 80, bytesPerMinute: 2 * MB, days: [1, 8] },
    { startMinute: 540, minutes: 15, bytesPerMinute: 6 * MB, days: [2, 9, 11] },
    { startMinute: 1000, minutes: 40, bytesPerMinute: 0.3 * MB, days: [4, 7] },
    { startMinute: 900, minutes: 20, bytesPerMinute: 8 * MB, days: [10] },
  ];
  it.each<[string, TestHost, RegExp]>([
    ['flat noisy traffic', { noise: 0.3 }, /no burst above baseline|bursts on only/],
    ['an all-zero series', { baseBytesPerMinute: 0 }, /no burst above baseline/],
    ['a smooth day/night cycle', { diurnal: 0.8, noise: 0.05 }, /no burst above baseline/],
    [
      'a 09:00–18:00 business-hours plateau',
      { bursts: [{ startMinute: 540, minutes: 540, bytesPerMinute: 300_000, days: WEEKDAYS }] },
      /multi-hour plateau/,
    ],
    ['one-off spikes', { bursts: [{ ...CRON, startMinute: 800, days: [5] }] }, /bursts on only 1 of 14 days/],
    ['a weekly job', { bursts: [{ ...CRON, days: [6, 13] }] }, /bursts on only 2 of 14 days/],
    [
      'an hourly job',
      {
        bursts: Array.from({ length: 24 }, (_, hour) => ({
          startMinute: hour * 60 + 10,
          minutes: 5,
          bytesPerMinute: 2 * MB,
        })),
      },
      /many times of day/,
    ],
    ['a level shift', { levelShift: { day: 6, factor: 5 } }, /longer than 420 min|bursts on only/],
    [
      'irregular bursts in working hours',
      { bursts: irregular },
      /no time of day with bursts on most days|scattered days/,
    ],
    [
      'a daily job of a few kB on an idle host',
      { baseBytesPerMinute: 300, bursts: [{ ...CRON, minutes: 10, bytesPerMinute: 5_000 }] },
      /below the 1\.0 MB floor/,
    ],
  ])('for %s', (_name, host, reason) => {
    const analysis = analyzeNetworkOut(networkHost(host));

    expect(analysis.verdict).toBe('none');
    expect(analysis.windows).toEqual([]);
    expect(analysis.dailyBurst).toBeNull();
    expect(analysis.reason).toMatch(reason);
  });
});

describe('analyzeNetworkOut: insufficient data and options', () => {
  it.each<[string, TestHost]>([
    ['four days', { days: 4, bursts: [CRON] }],
    ['four days with data in two weeks', { bursts: [CRON], missingDays: [0, 1, 2, 3, 4, 5, 6, 7, 8, 9] }],
    ['four days starting at noon (five calendar days)', { days: 4, start: MONDAY + DAY / 2, bursts: [CRON] }],
  ])('says insufficient-data for %s', (_name, host) => {
    const analysis = analyzeNetworkOut(networkHost(host));

    expect(analysis.verdict).toBe('insufficient-data');
    expect(analysis.reason).toMatch(/need 5/);
  });

  it('says insufficient-data for an empty series and for hourly datapoints that are too coarse', () => {
    expect(analyzeNetworkOut({ timestamps: [], values: [] }).verdict).toBe('insufficient-data');
    const daily = { timestamps: [0, DAY, 2 * DAY], values: [1, 2, 3] };
    expect(analyzeNetworkOut(daily).reason).toMatch(/too coarse/);
  });

  it('lets the magnitude floor and the longest plain burst be set', () => {
    const small = networkHost({ bursts: [{ ...CRON, minutes: 10, bytesPerMinute: 40_000 }] });
    // Eight hours ending at the same minute every day: past maxBurstMinutes that is a day cycle.
    const long = networkHost({ bursts: [{ ...CRON, minutes: 480 }] });

    expect(analyzeNetworkOut(small).verdict).toBe('none');
    expect(analyzeNetworkOut(small, { minBurstBytes: 100_000 }).verdict).toBe('recurring-window');
    expect(analyzeNetworkOut(long).reason).toMatch(/ending at the same minute every day: a day cycle/);
    expect(analyzeNetworkOut(long, { maxBurstMinutes: 600 }).windows[0]?.typicalDurationMinutes).toBe(480);
  });

  it('drops unusable datapoints and says how many', () => {
    const series = networkHost({ bursts: [CRON] });
    series.values[10] = Number.NaN;
    series.values[11] = -5;
    series.timestamps[12] = Number.POSITIVE_INFINITY;

    const analysis = analyzeNetworkOut(series);

    expect(analysis.verdict).toBe('recurring-window');
    expect(analysis.evidence.invalidDatapoints).toBe(3);
  });

  it('attaches the day × time-of-day excess matrix on request', () => {
    const analysis = analyzeNetworkOut(networkHost({ bursts: [CRON] }), { includeProfile: true });

    expect(analysis.profile?.slotsPerDay).toBe(288);
    expect(analysis.profile?.excessBytesPerMin).toHaveLength(14 * 288);
    expect(analysis.profile?.excessBytesPerMin[77]).toBe(2 * MB);
    expect(analyzeNetworkOut(networkHost({ bursts: [CRON] })).profile).toBeUndefined();
  });

  it.each([
    [{ minBurstBytes: -1 }, /minBurstBytes/],
    [{ minDays: 0 }, /minDays/],
    [{ maxBurstMinutes: 2 }, /maxBurstMinutes/],
    [{ timeZone: 'Mars/Olympus_Mons' }, /unknown time zone 'Mars\/Olympus_Mons'/],
  ])('rejects the option %o', (options, message) => {
    expect(() => analyzeNetworkOut(networkHost({ bursts: [CRON] }), options)).toThrow(InvalidOptionError);
    expect(() => analyzeNetworkOut(networkHost({ bursts: [CRON] }), options)).toThrow(message);
  });

  it('rejects timestamps and values of different lengths', () => {
    expect(() => analyzeNetworkOut({ timestamps: [0, MINUTE], values: [1] })).toThrow(InvalidSeriesError);
  });
});
