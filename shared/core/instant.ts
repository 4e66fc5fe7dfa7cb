/**
 * The instants crawlguard accepts from outside (events, metric files): from 2000-01-01T00:00:00Z
 * (before CloudWatch existed) up to, not including, 2101-01-01T00:00:00Z. A fixed range, since the
 * core has no clock: it refuses year 0 or 9999 without refusing any real datapoint or event.
 */
export const EARLIEST_INSTANT_MS = 946_684_800_000;
/** The first instant past the plausible range (exclusive bound): 2101-01-01T00:00:00Z. */
export const END_OF_INSTANTS_MS = 4_133_980_800_000;
/** The plausible range in words, for error messages. */
export const PLAUSIBLE_YEARS = '2000–2100';

/** True when `ms` lies in the plausible range (see {@link EARLIEST_INSTANT_MS}). */
export function isPlausibleInstant(ms: number): boolean {
  return ms >= EARLIEST_INSTANT_MS && ms < END_OF_INSTANTS_MS;
}

const MS_PER_DAY = 86_400_000;
const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

/**
 * Epoch milliseconds of the ISO 8601 date-time with a zone held as character codes in
 * `codes[start, end)`: `YYYY-MM-DDTHH:MM`, optionally `:SS` and a fraction of any length (truncated to
 * milliseconds, as `Date.parse` does), then `Z`, `±HH:MM` or `±HHMM`. NaN when it is not one, or when
 * the date or time does not exist: 2026-02-30, 24:00, second 60, an offset beyond ±23:59 (`Date.parse`
 * rolls some of these over to another day). Takes codes so that a byte buffer is read in place; it runs
 * once per datapoint of a metrics file, hence the unrolled digits.
 */
export function parseIsoInstant(codes: Uint8Array, start: number, end: number): number {
  if (end - start < 17) return Number.NaN;
  const y0 = (codes[start] as number) - 0x30;
  const y1 = (codes[start + 1] as number) - 0x30;
  const y2 = (codes[start + 2] as number) - 0x30;
  const y3 = (codes[start + 3] as number) - 0x30;
  const mo0 = (codes[start + 5] as number) - 0x30;
  const mo1 = (codes[start + 6] as number) - 0x30;
  const d0 = (codes[start + 8] as number) - 0x30;
  const d1 = (codes[start + 9] as number) - 0x30;
  const h0 = (codes[start + 11] as number) - 0x30;
  const h1 = (codes[start + 12] as number) - 0x30;
  const mi0 = (codes[start + 14] as number) - 0x30;
  const mi1 = (codes[start + 15] as number) - 0x30;
  if (
    !(isDigitValue(y0) && isDigitValue(y1) && isDigitValue(y2) && isDigitValue(y3)) ||
    !(isDigitValue(mo0) && isDigitValue(mo1) && isDigitValue(d0) && isDigitValue(d1)) ||
    !(isDigitValue(h0) && isDigitValue(h1) && isDigitValue(mi0) && isDigitValue(mi1)) ||
    codes[start + 4] !== 0x2d ||
    codes[start + 7] !== 0x2d ||
    codes[start + 10] !== 0x54 ||
    codes[start + 13] !== 0x3a
  ) {
    return Number.NaN;
  }
  const year = y0 * 1000 + y1 * 100 + y2 * 10 + y3;
  const month = mo0 * 10 + mo1;
  const day = d0 * 10 + d1;
  const hour = h0 * 10 + h1;
  const minute = mi0 * 10 + mi1;
  if (month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month) || hour > 23 || minute > 59) {
    return Number.NaN;
  }
  let i = start + 16;
  let second = 0;
  let millisecond = 0;
  if (codes[i] === 0x3a && end - i >= 3) {
    const s0 = (codes[i + 1] as number) - 0x30;
    const s1 = (codes[i + 2] as number) - 0x30;
    if (!(isDigitValue(s0) && isDigitValue(s1))) return Number.NaN;
    second = s0 * 10 + s1;
    if (second > 59) return Number.NaN;
    i += 3;
    if (codes[i] === 0x2e) {
      i += 1;
      const fractionStart = i;
      for (; i < end && isDigitValue((codes[i] as number) - 0x30); i += 1) {
        if (i - fractionStart < 3) millisecond = millisecond * 10 + ((codes[i] as number) - 0x30);
      }
      const fractionDigits = i - fractionStart;
      if (fractionDigits === 0) return Number.NaN;
      if (fractionDigits < 3) millisecond *= fractionDigits === 1 ? 100 : 10;
    }
  }
  let offsetMinutes = 0;
  const zone = codes[i];
  const rest = end - i;
  if (zone === 0x5a && rest === 1) {
    offsetMinutes = 0;
  } else if ((zone === 0x2b || zone === 0x2d) && (rest === 6 || rest === 5)) {
    const colon = rest === 6 ? 1 : 0;
    const oh0 = (codes[i + 1] as number) - 0x30;
    const oh1 = (codes[i + 2] as number) - 0x30;
    const om0 = (codes[i + 3 + colon] as number) - 0x30;
    const om1 = (codes[i + 4 + colon] as number) - 0x30;
    if (
      (colon === 1 && codes[i + 3] !== 0x3a) ||
      !(isDigitValue(oh0) && isDigitValue(oh1) && isDigitValue(om0) && isDigitValue(om1))
    ) {
      return Number.NaN;
    }
    const offsetHour = oh0 * 10 + oh1;
    const offsetMinute = om0 * 10 + om1;
    if (offsetHour > 23 || offsetMinute > 59) return Number.NaN;
    offsetMinutes = (zone === 0x2b ? 1 : -1) * (offsetHour * 60 + offsetMinute);
  } else {
    return Number.NaN;
  }
  return (
    daysFromCivil(year, month, day) * MS_PER_DAY +
    ((hour * 60 + minute - offsetMinutes) * 60 + second) * 1000 +
    millisecond
  );
}

/** {@link parseIsoInstant} of a string; NaN for anything but ASCII. */
export function isoInstantMs(text: string): number {
  const codes = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i += 1) {
    const code = text.charCodeAt(i);
    if (code > 0x7f) return Number.NaN;
    codes[i] = code;
  }
  return parseIsoInstant(codes, 0, codes.length);
}

/** A code minus '0' that is a decimal digit. */
function isDigitValue(value: number): boolean {
  return value >>> 0 <= 9;
}

function daysInMonth(year: number, month: number): number {
  if (month === 2 && year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0)) return 29;
  return DAYS_IN_MONTH[month - 1] as number;
}

/**
 * Days from 1970-01-01 to a proleptic Gregorian date, for years 0 to 9999 (H. Hinnant's
 * days_from_civil, shifted by one 400-year era so that integer division truncates as floor would).
 */
function daysFromCivil(year: number, month: number, day: number): number {
  const y = (month <= 2 ? year - 1 : year) + 400;
  const era = (y / 400) | 0;
  const yearOfEra = y - era * 400;
  const dayOfYear = (((153 * (month > 2 ? month - 3 : month + 9) + 2) / 5) | 0) + day - 1;
  const dayOfEra = yearOfEra * 365 + ((yearOfEra / 4) | 0) - ((yearOfEra / 100) | 0) + dayOfYear;
  return (era - 1) * 146_097 + dayOfEra - 719_468;
}
