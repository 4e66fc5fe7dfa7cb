import { describe, expect, it } from 'vitest';
import { InvalidOptionError } from '#core/errors.ts';
import { Pacer } from '#core/pacing.ts';

describe('Pacer', () => {
  it('spaces calls by the request rate', () => {
    const pacer = new Pacer({ requestsPerSecond: 4 });
    expect([0, 0, 0, 0].map(() => pacer.reserve(1_000))).toEqual([0, 250, 500, 750]);
  });

  it('spaces calls by their datapoints when that is the tighter limit', () => {
    const pacer = new Pacer({ requestsPerSecond: 50, datapointsPerSecond: 201_600 });
    // 100,800 datapoints take half a second of the budget.
    expect(pacer.reserve(0, 100_800)).toBe(0);
    expect(pacer.reserve(0, 100_800)).toBe(500);
    expect(pacer.reserve(0, 100_800)).toBe(1_000);
  });

  it('does not hold back a call that comes after the budget refilled', () => {
    const pacer = new Pacer({ requestsPerSecond: 1 });
    pacer.reserve(0);
    expect(pacer.reserve(5_000)).toBe(0);
  });

  it('never lets more than the rate start in any second (sustained)', () => {
    const pacer = new Pacer({ requestsPerSecond: 45, datapointsPerSecond: 356_000 });
    const starts: number[] = [];
    for (let i = 0; i < 500; i += 1) starts.push(pacer.reserve(0, 25 * 4032));
    for (let i = 0; i < starts.length; i += 1) {
      const inSecond = starts.filter(
        (t) => t >= (starts[i] as number) && t < (starts[i] as number) + 1000,
      ).length;
      expect(inSecond * 25 * 4032).toBeLessThanOrEqual(356_000 + 25 * 4032);
    }
  });

  it.each([0, -1, Number.POSITIVE_INFINITY, Number.NaN])('refuses a rate of %s', (rate) => {
    expect(() => new Pacer({ requestsPerSecond: rate })).toThrow(InvalidOptionError);
    expect(() => new Pacer({ requestsPerSecond: 1, datapointsPerSecond: rate })).toThrow(InvalidOptionError);
  });
});
