import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  EARLIEST_INSTANT_MS,
  END_OF_INSTANTS_MS,
  isoInstantMs,
  isPlausibleInstant,
  parseIsoInstant,
} from '#core/instant.ts';

describe('isoInstantMs', () => {
  it.each<[string, number]>([
    ['2026-11-04T06:25:00Z', Date.UTC(2026, 10, 4, 6, 25)],
    ['2026-11-04T06:25:00+00:00', Date.UTC(2026, 10, 4, 6, 25)],
    ['2026-11-04T06:25:00+0000', Date.UTC(2026, 10, 4, 6, 25)],
    ['2026-11-04T06:25Z', Date.UTC(2026, 10, 4, 6, 25)],
    ['2026-11-04T06:25:07.5Z', Date.UTC(2026, 10, 4, 6, 25, 7, 500)],
    ['2026-11-04T06:25:07.12Z', Date.UTC(2026, 10, 4, 6, 25, 7, 120)],
    ['2026-11-04T06:25:07.999999999Z', Date.UTC(2026, 10, 4, 6, 25, 7, 999)],
    ['2026-11-04T06:25:00+05:30', Date.UTC(2026, 10, 4, 0, 55)],
    ['2026-11-04T06:25:00-0930', Date.UTC(2026, 10, 4, 15, 55)],
    ['2026-01-01T00:00:00+23:59', Date.UTC(2025, 11, 31, 0, 1)],
    ['2024-02-29T00:00:00Z', Date.UTC(2024, 1, 29)],
    ['2000-02-29T00:00:00Z', Date.UTC(2000, 1, 29)],
    ['0000-01-01T00:00:00Z', -62_167_219_200_000],
    ['9999-12-31T23:59:59Z', 253_402_300_799_000],
  ])('%s', (text, expected) => {
    expect(isoInstantMs(text)).toBe(expected);
  });

  it.each([
    ['a day past the end of February (Date.parse rolls it to March 2)', '2026-02-30T00:00:00Z'],
    ['February 29 of a common year', '2025-02-29T00:00:00Z'],
    ['February 29 of 2100 (not a leap year)', '2100-02-29T00:00:00Z'],
    ['April 31', '2026-04-31T00:00:00Z'],
    ['day 0', '2026-01-00T00:00:00Z'],
    ['month 0', '2026-00-10T00:00:00Z'],
    ['month 13', '2026-13-10T00:00:00Z'],
    ['hour 24 (Date.parse takes it as the next midnight)', '2026-01-01T24:00:00Z'],
    ['minute 60', '2026-01-01T00:60:00Z'],
    ['a leap second', '2026-12-31T23:59:60Z'],
    ['an offset of 24 hours', '2026-01-01T00:00:00+24:00'],
    ['an offset minute of 60', '2026-01-01T00:00:00-00:60'],
    ['no zone', '2026-01-01T00:00:00'],
    ['a date alone', '2026-01-01'],
    ['a space for T', '2026-01-01 00:00:00Z'],
    ['a lower-case z', '2026-01-01T00:00:00z'],
    ['an empty fraction', '2026-01-01T00:00:00.Z'],
    ['a fraction without seconds', '2026-01-01T00:00.5Z'],
    ['a two-digit year', '26-01-01T00:00:00Z'],
    ['a five-digit year', '+02026-01-01T00:00:00Z'],
    ['an offset with one digit', '2026-01-01T00:00:00+1:00'],
    ['trailing text', '2026-01-01T00:00:00Zjunk'],
    ['epoch seconds', '1700000000'],
    ['non-ASCII digits', '２026-01-01T00:00:00Z'],
    ['nothing', ''],
  ])('refuses %s', (_name, text) => {
    expect(isoInstantMs(text)).toBeNaN();
  });

  it('agrees with Date.parse on every date-time that exists', () => {
    const instant = fc.record({
      ms: fc.integer({ min: Date.UTC(1970, 0, 1), max: Date.UTC(2200, 0, 1) }),
      seconds: fc.boolean(),
      fractionDigits: fc.integer({ min: 0, max: 9 }),
      offsetMinutes: fc.integer({ min: -(23 * 60 + 59), max: 23 * 60 + 59 }),
      zone: fc.constantFrom('Z', '+HH:MM', '+HHMM'),
    });
    fc.assert(
      fc.property(instant, ({ ms, seconds, fractionDigits, offsetMinutes, zone }) => {
        const offset = zone === 'Z' ? 0 : offsetMinutes;
        const local = new Date(ms + offset * 60_000).toISOString();
        const sign = offset < 0 ? '-' : '+';
        const hh = String(Math.floor(Math.abs(offset) / 60)).padStart(2, '0');
        const mm = String(Math.abs(offset) % 60).padStart(2, '0');
        const suffix = zone === 'Z' ? 'Z' : zone === '+HH:MM' ? `${sign}${hh}:${mm}` : `${sign}${hh}${mm}`;
        const fraction =
          fractionDigits === 0 ? '' : `.${`${local.slice(20, 23)}987654`.slice(0, fractionDigits)}`;
        const text = `${local.slice(0, seconds || fractionDigits > 0 ? 19 : 16)}${fraction}${suffix}`;
        expect(isoInstantMs(text)).toBe(Date.parse(text));
      }),
    );
  });

  it('never accepts what Date.parse refuses', () => {
    fc.assert(
      fc.property(
        fc.stringMatching(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,4})?)?(Z|[+-]\d{2}:?\d{2})$/),
        (text) => {
          const ms = isoInstantMs(text);
          if (!Number.isNaN(ms)) expect(ms).toBe(Date.parse(text));
        },
      ),
    );
  });

  it('reads codes in place, between start and end', () => {
    const bytes = new TextEncoder().encode('["2026-11-04T06:25:00+00:00"]');
    expect(parseIsoInstant(bytes, 2, bytes.length - 2)).toBe(Date.UTC(2026, 10, 4, 6, 25));
    expect(parseIsoInstant(bytes, 2, bytes.length - 1)).toBeNaN();
  });
});

describe('isPlausibleInstant', () => {
  it.each<[string, boolean]>([
    ['1999-12-31T23:59:59.999Z', false],
    ['2000-01-01T00:00:00Z', true],
    ['2026-11-04T06:25:00Z', true],
    ['2100-12-31T23:59:59.999Z', true],
    ['2101-01-01T00:00:00Z', false],
    ['0000-01-01T00:00:00Z', false],
    ['9999-12-31T23:59:59Z', false],
  ])('%s: %s', (text, plausible) => {
    expect(isPlausibleInstant(isoInstantMs(text))).toBe(plausible);
  });

  it('names its bounds exactly', () => {
    expect(new Date(EARLIEST_INSTANT_MS).toISOString()).toBe('2000-01-01T00:00:00.000Z');
    expect(new Date(END_OF_INSTANTS_MS).toISOString()).toBe('2101-01-01T00:00:00.000Z');
    expect(isPlausibleInstant(Number.NaN)).toBe(false);
  });
});
