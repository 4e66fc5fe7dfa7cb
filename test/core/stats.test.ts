import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  binomialUpperTail,
  finiteMedian,
  mannKendall,
  median,
  medianAndMadInPlace,
  normalCdf,
  quantile,
  robustSpread,
  theilSenSlope,
} from '#core/stats.ts';

describe('finiteMedian', () => {
  it('ignores NaN and infinities, is NaN without finite values, and leaves its input untouched', () => {
    const values = Float64Array.from([5, Number.NaN, 1, Number.POSITIVE_INFINITY, 3]);
    expect(finiteMedian(values)).toBe(3);
    expect(Array.from(values)).toEqual([5, Number.NaN, 1, Number.POSITIVE_INFINITY, 3]);
    expect(finiteMedian([Number.NaN])).toBeNaN();
  });
});

describe('quantile', () => {
  it.each([
    [[5, 1, 3], 0.5, 3],
    [[4, 1, 3, 2], 0.5, 2.5],
    [[1, 2, 3, 4, 5], 0.1, 1.4],
    [[7], 0.9, 7],
  ])('of %o at %d is %d', (values, q, expected) => {
    expect(quantile(values, q)).toBeCloseTo(expected, 10);
  });

  it('is NaN for no values and leaves its input untouched', () => {
    const values = [3, 1, 2];
    expect(quantile([], 0.5)).toBeNaN();
    expect(median(values)).toBe(2);
    expect(values).toEqual([3, 1, 2]);
  });

  it('agrees with sorting on any input', () => {
    fc.assert(
      fc.property(
        fc.array(fc.double({ noNaN: true, min: -1e9, max: 1e9 }), { minLength: 1, maxLength: 200 }),
        fc.double({ min: 0, max: 1, noNaN: true }),
        (values, q) => {
          const sorted = [...values].sort((a, b) => a - b);
          const position = (sorted.length - 1) * q;
          const low = sorted[Math.floor(position)] as number;
          const high = sorted[Math.ceil(position)] as number;
          const expected = low + (high - low) * (position - Math.floor(position));
          expect(quantile(values, q)).toBeCloseTo(expected, 6);
        },
      ),
    );
  });
});

describe('robust scale', () => {
  it('gives median and scaled MAD', () => {
    const scratch = Float64Array.from([1, 2, 3, 4, 100]);
    expect(medianAndMadInPlace(scratch, 5)).toEqual({ median: 3, mad: 1.4826 });
  });

  it('gives IQR over median, infinite when the median is not positive', () => {
    expect(robustSpread([10, 10, 10])).toBe(0);
    expect(robustSpread([8, 10, 12])).toBeCloseTo(0.2, 10);
    expect(robustSpread([0, 0, 1])).toBe(Number.POSITIVE_INFINITY);
  });
});

describe('trend statistics', () => {
  it('Theil–Sen ignores an outlier that would tilt least squares', () => {
    const x = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9];
    const y = x.map((v) => 2 * v + 1);
    y[9] = 1000;
    expect(theilSenSlope(x, y)).toBe(2);
  });

  it('Mann–Kendall: a perfect rise is significant, a constant series is not', () => {
    const rising = mannKendall([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    expect(rising.s).toBe(45);
    expect(rising.tau).toBe(1);
    expect(rising.pIncreasing).toBeLessThan(0.001);
    expect(mannKendall([5, 5, 5, 5]).pIncreasing).toBeCloseTo(0.5, 6);
    expect(mannKendall([4, 3, 2, 1]).pIncreasing).toBeGreaterThan(0.9);
  });

  it('normal CDF and binomial tail match known values', () => {
    expect(normalCdf(0)).toBeCloseTo(0.5, 7);
    expect(normalCdf(1.959964)).toBeCloseTo(0.975, 6);
    expect(binomialUpperTail(10, 10, 0.5)).toBeCloseTo(1 / 1024, 12);
    expect(binomialUpperTail(10, 0, 0.3)).toBe(1);
    expect(binomialUpperTail(10, 11, 0.3)).toBe(0);
    expect(binomialUpperTail(14, 14, 0)).toBe(0);
  });
});

describe('tiny p-values', () => {
  it('keep their digits instead of rounding to zero', () => {
    const p = mannKendall(Array.from({ length: 56 }, (_, i) => i)).pIncreasing;
    expect(p).toBeGreaterThan(0);
    expect(p).toBeLessThan(1e-12);
  });
});
