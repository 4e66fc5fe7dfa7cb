import { describe, expect, it } from 'vitest';
import { formatBytes, roundedOrZero, roundTo } from '#core/format.ts';

describe('formatBytes', () => {
  it.each([
    [0, '0 B'],
    [999, '999 B'],
    [1_000, '1.0 kB'],
    [640_000, '640 kB'],
    [1_300_000_000, '1.3 GB'],
    [-2_500_000, '-2.5 MB'],
    [5e15, '5000 TB'],
  ])('%d bytes is %s', (bytes, text) => {
    expect(formatBytes(bytes)).toBe(text);
  });
});

describe('roundTo and roundedOrZero', () => {
  it('round to the given decimals, and non-finite values to 0', () => {
    expect(roundTo(0.12345, 3)).toBe(0.123);
    expect(roundTo(2.5, 0)).toBe(3);
    expect(roundTo(2e305, 4)).toBe(2e305);
    expect(roundedOrZero(41.6)).toBe(42);
    expect(roundedOrZero(Number.NaN)).toBe(0);
    expect(roundedOrZero(Number.POSITIVE_INFINITY)).toBe(0);
  });
});
