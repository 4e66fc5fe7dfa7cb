import { describe, expect, it } from 'vitest';
import { crawlCost, savingsOf } from '#core/remediation/savings.ts';
import { combineVerdicts, verifyMemory, verifyNetwork } from '#core/remediation/verify.ts';
import { seededRandom } from '#shared/sim/random.ts';

const DAY = 86_400_000;
const MIN = 60_000;
const START = Date.UTC(2026, 9, 21);
const FIX = START + 7 * DAY + 12 * 60 * MIN; // day 7, noon
const CRAWL = { startMinute: 6 * 60 + 25, lengthMinutes: 180, timeZone: 'UTC' };

/** 14 days of NetworkOut at 5 minutes: a base with noise, a crawl per day where `crawlAt(day)` says. */
function network(
  crawlAt: (day: number) => number | null,
  options: { gap?: (t: number) => boolean; days?: number } = {},
) {
  const rng = seededRandom(7);
  const timestamps: number[] = [];
  const values: number[] = [];
  const days = options.days ?? 14;
  for (let t = START; t < START + days * DAY; t += 5 * MIN) {
    if (options.gap?.(t)) continue;
    const day = Math.floor((t - START) / DAY);
    const minute = ((t - START) % DAY) / MIN;
    const at = crawlAt(day);
    const crawling = at !== null && minute >= at && minute < at + 120;
    values.push((150_000 * (1 + 0.1 * rng.normal()) + (crawling ? 3_000_000 : 0)) * 5);
    timestamps.push(t);
  }
  return { timestamps, values };
}
const now = START + 14 * DAY;
const before = (day: number) => (day <= 7 ? 385 : null);

describe('verifyNetwork', () => {
  it('is resolved when the expected crawl days after the fix are quiet', () => {
    const result = verifyNetwork({ series: network(before), fixedAt: FIX, now, window: CRAWL });
    expect(result.verdict).toBe('resolved');
    expect(result.beforeBytesPerDay).toBeGreaterThan(300_000_000);
    expect(result.afterBytesPerDay).toBeLessThan(0.1 * (result.beforeBytesPerDay ?? 0));
    expect(result.days.filter((d) => d.afterFix)).toHaveLength(6);
    // The day the fix cut through counts for neither side.
    expect(result.days.some((d) => d.day === '2026-10-28')).toBe(true);
  });

  it('is resolved for a systemd timer (a 12 h random delay) on a host with a day cycle, and not while it still runs', () => {
    // A 25-minute crawl of 25 MB once a day at a random time between 00:00 and 12:00, on traffic that swings
    // ±40 % through the day: the 12-hour window spans the day cycle.
    const rng = seededRandom(11);
    const startOf = Array.from({ length: 14 }, () => Math.floor(rng.next() * 144) * 5);
    const timer = (fixed: boolean) => {
      const noise = seededRandom(3);
      const timestamps: number[] = [];
      const values: number[] = [];
      for (let t = START; t < START + 14 * DAY; t += 5 * MIN) {
        const day = Math.floor((t - START) / DAY);
        const minute = ((t - START) % DAY) / MIN;
        const at = startOf[day] as number;
        const crawling = (!fixed || t < FIX) && minute >= at && minute < at + 25;
        const base = 150_000 * (1 + 0.4 * Math.sin((2 * Math.PI * (minute - 360)) / 1440));
        values.push((base * (1 + 0.05 * noise.normal()) + (crawling ? 1_000_000 : 0)) * 5);
        timestamps.push(t);
      }
      return { timestamps, values };
    };
    const window = { startMinute: 0, lengthMinutes: 12 * 60 + 25, timeZone: 'UTC' };

    const fixed = verifyNetwork({ series: timer(true), fixedAt: FIX, now, window });
    const still = verifyNetwork({ series: timer(false), fixedAt: FIX, now, window });

    expect(fixed.verdict).toBe('resolved');
    expect(fixed.beforeBytesPerDay).toBeGreaterThan(20_000_000);
    expect(still.verdict).toBe('not-resolved');
  });

  it('is not resolved when the crawl is still there', () => {
    const result = verifyNetwork({ series: network(() => 385), fixedAt: FIX, now, window: CRAWL });
    expect(result).toMatchObject({ verdict: 'not-resolved', reason: expect.stringContaining('still there') });
  });

  it('is not resolved when the burst moved to another time of day', () => {
    const moved = (day: number) => (day <= 7 ? 385 : 14 * 60);
    const result = verifyNetwork({ series: network(moved), fixedAt: FIX, now, window: CRAWL });
    expect(result).toMatchObject({ verdict: 'not-resolved', moved: { startsAt: '14:00' } });
  });

  it('is inconclusive without data after the fix (a stopped instance), or before it', () => {
    const stopped = verifyNetwork({
      series: network(before, { gap: (t) => t > FIX }),
      fixedAt: FIX,
      now,
      window: CRAWL,
    });
    expect(stopped.verdict).toBe('inconclusive');
    const tooEarly = verifyNetwork({ series: network(before), fixedAt: FIX, now: FIX + DAY, window: CRAWL });
    expect(tooEarly).toMatchObject({
      verdict: 'inconclusive',
      reason: expect.stringContaining('1 expected crawl day'),
    });
    const noCrawl = verifyNetwork({ series: network(() => null), fixedAt: FIX, now, window: CRAWL });
    expect(noCrawl).toMatchObject({
      verdict: 'inconclusive',
      reason: expect.stringContaining('nothing to compare'),
    });
    expect(
      verifyNetwork({ series: { timestamps: [], values: [] }, fixedAt: FIX, now, window: CRAWL }).verdict,
    ).toBe('inconclusive');
  });

  it('needs two quiet days: one gap day leaves a verdict waiting, not guessed', () => {
    const gaps = (t: number) => t > FIX && t < now - 1.5 * DAY;
    expect(
      verifyNetwork({ series: network(before, { gap: gaps }), fixedAt: FIX, now, window: CRAWL }).verdict,
    ).toBe('inconclusive');
  });

  it('follows a systemd timer by its whole random-delay window', () => {
    const rng = seededRandom(3);
    const starts = Array.from({ length: 14 }, () => Math.floor(rng.uniform(0, 600)));
    const timer = (day: number) => (day <= 7 ? (starts[day] as number) : null);
    const window = { startMinute: 0, lengthMinutes: 12 * 60 + 120, timeZone: 'UTC' };
    expect(verifyNetwork({ series: network(timer), fixedAt: FIX, now, window }).verdict).toBe('resolved');
    expect(
      verifyNetwork({ series: network((d) => starts[d] as number), fixedAt: FIX, now, window }).verdict,
    ).toBe('not-resolved');
  });
});

describe('verifyMemory', () => {
  const RESTART = START + 7 * DAY;
  const memory = (after: (t: number) => number) => {
    const timestamps: number[] = [];
    const values: number[] = [];
    for (let t = START; t < START + 14 * DAY; t += 5 * MIN) {
      timestamps.push(t);
      values.push(t < RESTART ? 20 + ((t - START) / DAY) * 5 : after(t));
    }
    return { timestamps, values };
  };

  it('is resolved when memory came down at the restart and stayed flat', () => {
    const result = verifyMemory({
      series: memory(() => 20),
      unit: 'percent',
      restartedAt: RESTART,
      now: START + 14 * DAY,
    });
    expect(result).toMatchObject({ verdict: 'resolved' });
    expect(result.before).toBeGreaterThan(50);
  });

  it('is not resolved when memory grows again, or never came down', () => {
    const growing = memory((t) => 20 + ((t - RESTART) / DAY) * 5);
    expect(
      verifyMemory({ series: growing, unit: 'percent', restartedAt: RESTART, now: START + 14 * DAY }).verdict,
    ).toBe('not-resolved');
    const stuck = memory(() => 55);
    expect(
      verifyMemory({ series: stuck, unit: 'percent', restartedAt: RESTART, now: START + 14 * DAY }).verdict,
    ).toBe('not-resolved');
  });

  it('waits until the third day after the restart', () => {
    expect(
      verifyMemory({
        series: memory(() => 20),
        unit: 'percent',
        restartedAt: RESTART,
        now: RESTART + 2 * DAY,
      }).verdict,
    ).toBe('inconclusive');
  });

  it('combines verdicts: one not resolved is not resolved; resolved only if all are', () => {
    expect(combineVerdicts(['resolved', 'not-resolved'])).toBe('not-resolved');
    expect(combineVerdicts(['resolved', 'inconclusive'])).toBe('inconclusive');
    expect(combineVerdicts(['resolved', 'resolved'])).toBe('resolved');
    expect(combineVerdicts([])).toBe('inconclusive');
  });
});

describe('savings', () => {
  it('prices a crawl by its requests always, by its bytes only through a NAT gateway', () => {
    const cost = crawlCost(1_771_476, 'gateway-endpoint');
    expect(cost.requestsPerDay).toBe(3180);
    expect(cost.dataUsdPerMonth).toBe(0);
    expect(crawlCost(10e9, 'nat-gateway').dataUsdPerMonth).toBe(13.5);
    expect(crawlCost(0, 'nat-gateway')).toMatchObject({
      bytesPerDay: 0,
      requestsPerDay: 0,
      requestUsdPerMonth: 0,
      dataUsdPerMonth: 0,
    });
  });

  it('uses the object count when diagnose knew it, and saves the difference', () => {
    const saved = savingsOf(1e9, 0, 'nat-gateway', 1_000_000);
    expect(saved.before.requestsPerDay).toBe(1_294_333);
    expect(saved.after.requestsPerDay).toBe(0);
    expect(saved.savedUsdPerMonth).toBeCloseTo(
      saved.before.requestUsdPerMonth + saved.before.dataUsdPerMonth,
      2,
    );
  });
});
