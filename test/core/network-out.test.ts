import { describe, expect, it } from 'vitest';
import { InvalidOptionError, InvalidSeriesError } from '#core/errors.ts';
import { analyzeNetworkOut } from '#core/network-out/index.ts';
import { DAY, MINUTE, MONDAY, networkHost, type TestHost } from './build-series.ts';

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
      confidence: 1,
    });
    expect(analysis.windows[0]?.pValue).toBeLessThan(1e-6);
    expect(analysis.reason).toContain('06:25');
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
    // Seoul's last local day holds only 9 hours of data: not an observed day, so its crawl is not counted.
    expect(inSeoul.windows[0]).toMatchObject({
      start: '06:25',
      end: '10:25',
      daysWithSpike: 13,
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
      /longer than 420 min/,
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
    ['irregular bursts in working hours', { bursts: irregular }, /no time of day with bursts on most days/],
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

  it('lets the magnitude floor and the longest burst be set', () => {
    const small = networkHost({ bursts: [{ ...CRON, minutes: 10, bytesPerMinute: 40_000 }] });
    const long = networkHost({ bursts: [{ ...CRON, minutes: 480 }] });

    expect(analyzeNetworkOut(small).verdict).toBe('none');
    expect(analyzeNetworkOut(small, { minBurstBytes: 100_000 }).verdict).toBe('recurring-window');
    expect(analyzeNetworkOut(long).verdict).toBe('none');
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
