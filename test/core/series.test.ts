import { describe, expect, it } from 'vitest';
import { InvalidSeriesError } from '#core/errors.ts';
import { cleanSeries } from '#core/series.ts';

describe('cleanSeries', () => {
  it('sorts newest-first input ascending and keeps values paired', () => {
    const clean = cleanSeries({ timestamps: [3000, 2000, 1000], values: [30, 20, 10] });

    expect(Array.from(clean.timestamps)).toEqual([1000, 2000, 3000]);
    expect(Array.from(clean.values)).toEqual([10, 20, 30]);
  });

  it('sorts shuffled input and drops duplicate timestamps, keeping the first in input order', () => {
    const clean = cleanSeries({ timestamps: [2000, 1000, 2000, 3000], values: [20, 10, 99, 30] });

    expect(Array.from(clean.timestamps)).toEqual([1000, 2000, 3000]);
    expect(Array.from(clean.values)).toEqual([10, 20, 30]);
    expect(clean.duplicatePoints).toBe(1);
  });

  it('drops NaN, infinite and negative points and counts them', () => {
    const clean = cleanSeries({
      timestamps: [1000, Number.NaN, 3000, 4000, 5000],
      values: [1, 2, Number.NaN, -1, 5],
    });

    expect(Array.from(clean.timestamps)).toEqual([1000, 5000]);
    expect(clean.invalidPoints).toBe(3);
  });

  it('finds the period as the most common gap, despite missing points', () => {
    const timestamps = [0, 300_000, 600_000, 1_500_000, 1_800_000, 2_100_000];

    expect(cleanSeries({ timestamps, values: timestamps.map(() => 1) }).periodMs).toBe(300_000);
    expect(cleanSeries({ timestamps: [0, 60_000, 120_000], values: [1, 1, 1] }).periodMs).toBe(60_000);
    expect(cleanSeries({ timestamps: [0], values: [1] }).periodMs).toBe(300_000);
  });

  it('rejects timestamps and values of different lengths', () => {
    expect(() => cleanSeries({ timestamps: [1, 2], values: [1] })).toThrow(InvalidSeriesError);
    expect(() => cleanSeries({ timestamps: [1, 2], values: [1] })).toThrow('2 timestamps but 1 values');
  });
});
