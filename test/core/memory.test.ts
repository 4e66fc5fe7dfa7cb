import { describe, expect, it } from 'vitest';
import { InvalidOptionError, InvalidSeriesError } from '#core/errors.ts';
import { analyzeMemory } from '#core/memory.ts';
import { DAY, MONDAY, memoryHost } from './build-series.ts';

const MIB = 1_048_576;
const fraction = (day: number): number => day - Math.floor(day);

describe('analyzeMemory: growth', () => {
  it('measures the creep from 6 % to 70 % in two weeks and projects 90 %', () => {
    const slope = 64 / 14;

    const analysis = analyzeMemory(memoryHost((day) => 6 + slope * day));

    expect(analysis.verdict).toBe('growth');
    expect(analysis.unit).toBe('percent');
    expect(analysis.slopePerDay).toBeCloseTo(slope, 1);
    expect(analysis.significance?.pValue).toBeLessThan(1e-6);
    expect(analysis.significance?.kendallTau).toBeGreaterThan(0.9);
    expect(analysis.restarts).toEqual([]);
    expect(analysis.segment?.days).toBeCloseTo(14, 1);
    expect(analysis.projection?.threshold).toBe(90);
    expect(analysis.projection?.daysToThreshold).toBeCloseTo((90 - 70) / slope, 0);
    expect(analysis.reason).toMatch(/rises 4\.\d+ pp\/day over 14 days/);
  });

  it('calls an s3fs RSS staircase (one step per daily crawl) growth, in bytes', () => {
    const crawlsBy = (day: number): number => Math.floor(day - 6.42 / 24) + 1;

    const analysis = analyzeMemory(
      memoryHost((day) => 9.4 * MIB + 3 * MIB * crawlsBy(day), { noise: 0.02 * MIB }),
    );

    expect(analysis.verdict).toBe('growth');
    expect(analysis.unit).toBe('bytes');
    expect((analysis.slopePerDay ?? 0) / MIB).toBeCloseTo(3, 0);
    expect(analysis.projection).toBeNull();
    expect(
      analyzeMemory(
        memoryHost((day) => 9.4 * MIB + 3 * MIB * crawlsBy(day)),
        { thresholdBytes: 100 * MIB },
      ).projection?.threshold,
    ).toBe(100 * MIB);
  });

  it('judges only the growth since the last restart', () => {
    const restartDay = 8.5;

    const analysis = analyzeMemory(
      memoryHost((day) => (day < restartDay ? 10 + 6 * day : 8 + 2 * (day - restartDay))),
    );

    expect(analysis.verdict).toBe('growth');
    expect(analysis.restarts).toHaveLength(1);
    expect(Date.parse(analysis.restarts[0]?.at ?? '')).toBe(MONDAY + restartDay * DAY);
    expect(analysis.restarts[0]?.from).toBeCloseTo(61, 0);
    expect(analysis.restarts[0]?.to).toBeCloseTo(8, 0);
    expect(analysis.slopePerDay).toBeCloseTo(2, 1);
    expect(analysis.segment?.days).toBeCloseTo(14 - restartDay, 1);
  });

  it('finds a leak that began in the middle of the window', () => {
    const analysis = analyzeMemory(memoryHost((day) => 20 + (day > 6 ? 3 * (day - 6) : 0)));

    expect(analysis.verdict).toBe('growth');
    expect(analysis.slopePerDay).toBeCloseTo(3, 0);
    expect(analysis.reason).toMatch(/middle of the segment/);
  });

  it('calls rising peaks across daily restarts growth', () => {
    const analysis = analyzeMemory(memoryHost((day) => 20 + 2 * day + 15 * fraction(day + 0.1)));

    expect(analysis.verdict).toBe('growth');
    expect(analysis.restarts.length).toBeGreaterThanOrEqual(12);
    expect(analysis.reason).toMatch(/peak before each rises/);
    expect(analysis.slopePerDay).toBeCloseTo(2, 0);
  });

  it('does not take a one-datapoint dip for a restart', () => {
    const series = memoryHost((day) => 15 + 3 * day);
    series.values[2000] = 0.5;

    const analysis = analyzeMemory(series);

    expect(analysis.restarts).toEqual([]);
    expect(analysis.verdict).toBe('growth');
  });
});

/** A level of `size` between `from` and `to` (days): a spike, a batch, a dip when negative. */
const excursion = (from: number, to: number, size: number) => (day: number) =>
  day >= from && day < to ? size : 0;

describe('analyzeMemory: excursions are not restarts (issue 9)', () => {
  it('keeps ten days of growth through a one-hour spike', () => {
    const spike = excursion(12.3, 12.3 + 1 / 24, 25);

    const analysis = analyzeMemory(memoryHost((day) => 15 + 1.5 * day + spike(day)));

    expect(analysis.restarts).toEqual([]);
    expect(analysis.verdict).toBe('growth');
    expect(analysis.slopePerDay).toBeCloseTo(1.5, 0);
    expect(analysis.segment?.days).toBeCloseTo(14, 0);
  });

  it('keeps growth through a one-hour dip (caches dropped)', () => {
    const dip = excursion(12.5, 12.5 + 1 / 24, -20);

    const analysis = analyzeMemory(memoryHost((day) => 40 + 2 * day + dip(day)));

    expect(analysis.restarts).toEqual([]);
    expect(analysis.verdict).toBe('growth');
  });

  it('does not take the end of a weekly batch for a restart', () => {
    // Batches hold 20 more points for a day from day 5.5 and from day 12.5 (ended 12 h before the end).
    const batch = (day: number): number => excursion(5.5, 6.5, 20)(day) + excursion(12.5, 13.5, 20)(day);

    const leaking = analyzeMemory(memoryHost((day) => 25 + 2 * day + batch(day)));
    const steady = analyzeMemory(memoryHost((day) => 35 + batch(day)));

    expect(leaking.restarts).toEqual([]);
    expect(leaking.verdict).toBe('growth');
    expect(leaking.slopePerDay).toBeCloseTo(2, 0);
    expect(steady.verdict).toBe('none');
  });

  it('finds a leak that began four days ago by one equal step a day', () => {
    const steps = (day: number): number => (day < 10.27 ? 0 : 3 * (Math.floor(day - 10.27) + 1));

    const analysis = analyzeMemory(memoryHost((day) => 9.5 * MIB + steps(day) * MIB, { noise: 0.03 * MIB }));

    expect(analysis.verdict).toBe('growth');
    expect((analysis.slopePerDay ?? 0) / MIB).toBeCloseTo(3, 0);
    expect(analysis.reason).toMatch(/flat before/);
  });

  it('does not take one late step for a leak', () => {
    const analysis = analyzeMemory(memoryHost((day) => 30 + (day >= 11.3 ? 12 : 0)));

    expect(analysis.verdict).toBe('none');
  });

  it('still finds a real restart: memory back where the process began', () => {
    const analysis = analyzeMemory(memoryHost((day) => (day < 9 ? 10 + 5 * day : 10 + 0.01 * (day - 9))));

    expect(analysis.restarts).toHaveLength(1);
    expect(analysis.verdict).toBe('none');
  });

  it('gives a finite slope for values near the float limit (their sums would overflow)', () => {
    const analysis = analyzeMemory(
      memoryHost((day) => 1e307 + 2e305 * day, { noise: 1e303 }),
      {
        unit: 'bytes',
      },
    );

    expect(analysis.verdict).toBe('growth');
    expect(analysis.slopePerDay).toBeGreaterThan(1e305);
    expect(analysis.slopePerDay).toBeLessThan(3e305);
    expect(analysis.segment?.levelNow).toBeGreaterThan(1e307);
  });
});

describe('analyzeMemory: none', () => {
  it.each<[string, (day: number) => number, RegExp]>([
    ['flat memory', () => 40, /no significant rise/],
    ['a daily sawtooth with a nightly restart', (day) => 30 + 15 * fraction(day + 0.1), /sawtooth/],
    [
      'a daily fill-and-drain cycle',
      (day) => 30 + 10 * (fraction(day) < 0.7 ? fraction(day) / 0.7 : (1 - fraction(day)) / 0.3),
      /no significant rise|negligible|steps|levelled|wander/,
    ],
    ['a plateau after warm-up', (day) => (day < 1.5 ? 10 + 20 * day : 40), /negligible|levelled off/],
    ['a plateau after a week of warm-up', (day) => (day < 7 ? 10 + 4 * day : 38), /levelled off/],
    ['one level shift', (day) => (day < 6.3 ? 25 : 45), /one step \(a level shift\)/],
    [
      'two level shifts',
      (day) => 20 + (day >= 3.2 ? 12 : 0) + (day >= 9.7 ? 10 : 0),
      /uneven|level shift|two days/,
    ],
    ['a decline', (day) => 60 - day, /falls/],
    ['a negligible drift', (day) => 30 + 0.03 * day, /negligible/],
  ])('for %s', (_name, level, reason) => {
    const analysis = analyzeMemory(memoryHost(level));

    expect(analysis.verdict).toBe('none');
    expect(analysis.projection).toBeNull();
    expect(analysis.reason).toMatch(reason);
  });
});

describe('analyzeMemory: insufficient data and options', () => {
  it('waits when the last restart was too recent', () => {
    const analysis = analyzeMemory(memoryHost((day) => (day < 13.5 ? 10 + 4 * day : 8 + 4 * (day - 13.5))));

    expect(analysis.verdict).toBe('insufficient-data');
    expect(analysis.restarts).toHaveLength(1);
    expect(analysis.reason).toMatch(/last restart 12 h ago/);
  });

  it('waits for three days of data', () => {
    expect(analyzeMemory(memoryHost((day) => 10 + 5 * day, { days: 2 })).verdict).toBe('insufficient-data');
    expect(analyzeMemory({ timestamps: [], values: [] }).reason).toMatch(/covers 0 day/);
  });

  it('projects to the threshold it is given', () => {
    const analysis = analyzeMemory(
      memoryHost((day) => 10 + 2 * day),
      { thresholdPercent: 50 },
    );

    expect(analysis.projection?.threshold).toBe(50);
    expect(analysis.projection?.daysToThreshold).toBeCloseTo((50 - 38) / 2, 0);
  });

  it('reads a series as bytes when told so, whatever its values', () => {
    expect(
      analyzeMemory(
        memoryHost((day) => 10 + 2 * day),
        { unit: 'bytes' },
      ).unit,
    ).toBe('bytes');
  });

  it.each([
    [{ thresholdPercent: 150 }, /thresholdPercent/],
    [{ thresholdBytes: -1 }, /thresholdBytes/],
    [{ minSegmentDays: 0 }, /minSegmentDays/],
    [{ minDays: 100 }, /minDays/],
    [{ unit: 'kilograms' as 'bytes' }, /unit/],
  ])('rejects the option %o', (options, message) => {
    expect(() =>
      analyzeMemory(
        memoryHost(() => 10),
        options,
      ),
    ).toThrow(InvalidOptionError);
    expect(() =>
      analyzeMemory(
        memoryHost(() => 10),
        options,
      ),
    ).toThrow(message);
  });

  it('rejects timestamps and values of different lengths', () => {
    expect(() => analyzeMemory({ timestamps: [1, 2, 3], values: [1, 2] })).toThrow(InvalidSeriesError);
  });
});
