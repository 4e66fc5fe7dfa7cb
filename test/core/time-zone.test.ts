import { describe, expect, it } from 'vitest';
import { InvalidOptionError } from '#core/errors.ts';
import { formatClock, formatDay, weekdayOf, zoneClock } from '#core/time-zone.ts';

const HOUR = 3_600_000;

describe('zoneClock', () => {
  it('finds the daylight-saving change of America/New_York to the minute', () => {
    const change = Date.UTC(2026, 10, 1, 6, 0);
    const clock = zoneClock('America/New_York', Date.UTC(2026, 9, 20), Date.UTC(2026, 10, 10));

    expect(clock.offsetMs(change - 60_000)).toBe(-4 * HOUR);
    expect(clock.offsetMs(change)).toBe(-5 * HOUR);
  });

  it('knows zones without daylight saving and half-hour zones', () => {
    expect(zoneClock('Asia/Seoul', 0, HOUR).offsetMs(0)).toBe(9 * HOUR);
    expect(zoneClock('Asia/Kolkata', 0, HOUR).offsetMs(0)).toBe(5.5 * HOUR);
    expect(zoneClock('UTC', 0, HOUR).offsetMs(12345)).toBe(0);
  });

  it('rejects a zone that does not exist', () => {
    expect(() => zoneClock('Europe/Atlantis', 0, HOUR)).toThrow(InvalidOptionError);
  });
});

describe('formatting', () => {
  it('writes clock times modulo a day and local days as dates', () => {
    expect(formatClock(385)).toBe('06:25');
    expect(formatClock(1440 + 85)).toBe('01:25');
    expect(formatClock(-35)).toBe('23:25');
    expect(formatDay(0)).toBe('1970-01-01');
    expect(weekdayOf(0)).toBe(4);
  });
});
