import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { InvalidSeriesError } from '#core/errors.ts';
import { cleanSeries, droppedPoints } from '#core/series.ts';

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

  it.each<[string, number[], number[], number[]]>([
    ['oldest first', [1000, 2000, 2000, 3000], [10, 20, 99, 30], [10, 20, 30]],
    ['newest first, as CloudWatch returns them', [3000, 2000, 2000, 1000], [30, 20, 99, 10], [10, 20, 30]],
    [
      'newest first, the second page overlapping the first',
      [4000, 3000, 2000, 2000, 1000],
      [40, 30, 20, 99, 10],
      [10, 20, 30, 40],
    ],
    ['in no order', [2000, 3000, 1000, 2000], [20, 30, 10, 99], [10, 20, 30]],
  ])(
    'keeps the first in input order of points sharing a timestamp: %s',
    (_order, timestamps, values, kept) => {
      const clean = cleanSeries({ timestamps, values });

      expect(Array.from(clean.values)).toEqual(kept);
      expect(clean.duplicatePoints).toBe(1);
      expect(clean.conflictingDuplicatePoints).toBe(1);
    },
  );

  it('counts duplicates with another value apart from exact repeats', () => {
    const clean = cleanSeries({ timestamps: [1000, 1000, 2000, 2000, 2000], values: [1, 1, 2, 5, 2] });

    expect(clean.duplicatePoints).toBe(3);
    expect(clean.conflictingDuplicatePoints).toBe(1);
  });

  it('counts negative values among the invalid points', () => {
    const clean = cleanSeries({ timestamps: [1000, 2000, 3000, 4000], values: [-5, Number.NaN, -0.5, 1] });

    expect(clean.invalidPoints).toBe(3);
    expect(clean.negativePoints).toBe(2);
  });
});

describe('droppedPoints', () => {
  it('is nothing for a series ordered strictly either way with valid values', () => {
    const none = { invalidPoints: 0, negativePoints: 0, duplicatePoints: 0, conflictingDuplicatePoints: 0 };
    expect(droppedPoints({ timestamps: [3000, 2000, 1000], values: [3, 2, 1] })).toEqual(none);
    expect(
      droppedPoints({ timestamps: new Float64Array([1000, 2000]), values: new Float64Array([0, 1]) }),
    ).toEqual(none);
    expect(droppedPoints({ timestamps: [], values: [] })).toEqual(none);
  });

  it('counts what cleanSeries drops, for any series', () => {
    const point = fc.tuple(
      fc.oneof(
        fc.integer({ min: 0, max: 20 }).map((k) => k * 1000),
        fc.constant(Number.NaN),
      ),
      fc.oneof(fc.integer({ min: -3, max: 5 }), fc.constant(Number.POSITIVE_INFINITY)),
    );
    fc.assert(
      fc.property(fc.array(point, { maxLength: 30 }), (points) => {
        const series = { timestamps: points.map(([t]) => t), values: points.map(([, v]) => v) };
        const { invalidPoints, negativePoints, duplicatePoints, conflictingDuplicatePoints } =
          cleanSeries(series);

        expect(droppedPoints(series)).toEqual({
          invalidPoints,
          negativePoints,
          duplicatePoints,
          conflictingDuplicatePoints,
        });
      }),
    );
  });
});
