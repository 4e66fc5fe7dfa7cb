import { InvalidOptionError } from './errors.ts';

export const MS_PER_MINUTE = 60_000;
export const MS_PER_DAY = 86_400_000;

/** Maps instants to wall-clock time in one IANA time zone, over a bounded range of instants. */
export interface ZoneClock {
  readonly timeZone: string;
  /** Milliseconds to add to a UTC instant to get the wall-clock time of the zone. */
  offsetMs(instant: number): number;
}

const SAMPLE_STEP_MS = 6 * 3_600_000;

/**
 * Builds a clock for `timeZone` valid between `fromMs` and `toMs`. Offsets are read from Intl once per
 * six hours of the range and transitions located to the minute, so that mapping a point costs a lookup.
 * @throws InvalidOptionError for a zone that Intl does not know.
 */
export function zoneClock(timeZone: string, fromMs: number, toMs: number): ZoneClock {
  if (timeZone === 'UTC' || timeZone === 'Etc/UTC') return { timeZone, offsetMs: () => 0 };
  let format: Intl.DateTimeFormat;
  try {
    format = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
  } catch (error) {
    throw new InvalidOptionError(
      `unknown time zone '${timeZone}' (expected an IANA name such as Europe/Paris)`,
      {
        cause: error,
      },
    );
  }
  const offsetAt = (instant: number): number => {
    const parts: Record<string, number> = {};
    for (const part of format.formatToParts(instant)) parts[part.type] = Number(part.value);
    const wall = Date.UTC(
      parts.year ?? 1970,
      (parts.month ?? 1) - 1,
      parts.day ?? 1,
      parts.hour ?? 0,
      parts.minute ?? 0,
      parts.second ?? 0,
    );
    return wall - Math.floor(instant / 1000) * 1000;
  };
  // Transitions: (instant from which the offset applies, offset). Sorted by instant.
  const starts: number[] = [];
  const offsets: number[] = [];
  let previousInstant = fromMs - MS_PER_DAY;
  let previousOffset = offsetAt(previousInstant);
  starts.push(Number.NEGATIVE_INFINITY);
  offsets.push(previousOffset);
  for (let instant = previousInstant + SAMPLE_STEP_MS; ; instant += SAMPLE_STEP_MS) {
    const offset = offsetAt(instant);
    if (offset !== previousOffset) {
      // Bisect to the minute at which the offset changes.
      let lo = previousInstant;
      let hi = instant;
      while (hi - lo > MS_PER_MINUTE) {
        const mid = Math.floor((lo + hi) / 2 / MS_PER_MINUTE) * MS_PER_MINUTE;
        if (mid <= lo || mid >= hi) break;
        if (offsetAt(mid) === previousOffset) lo = mid;
        else hi = mid;
      }
      starts.push(hi);
      offsets.push(offset);
      previousOffset = offset;
    }
    previousInstant = instant;
    if (instant > toMs + MS_PER_DAY) break;
  }
  return {
    timeZone,
    offsetMs(instant: number): number {
      let i = starts.length - 1;
      while (i > 0 && instant < (starts[i] as number)) i -= 1;
      return offsets[i] as number;
    },
  };
}

/** 'HH:MM' for a minute of the day (taken modulo one day). */
export function formatClock(minuteOfDay: number): string {
  const minutes = ((Math.round(minuteOfDay) % 1440) + 1440) % 1440;
  const hh = Math.floor(minutes / 60);
  const mm = minutes % 60;
  return `${hh < 10 ? '0' : ''}${hh}:${mm < 10 ? '0' : ''}${mm}`;
}

/** 'YYYY-MM-DD' of a local day number (days since 1970-01-01 in the zone's calendar). */
export function formatDay(localDay: number): string {
  return new Date(localDay * MS_PER_DAY).toISOString().slice(0, 10);
}

/** The weekday (0 = Sunday) of a local day number. */
export function weekdayOf(localDay: number): number {
  return (((localDay + 4) % 7) + 7) % 7;
}
