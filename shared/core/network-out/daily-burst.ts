import { roundTo } from '../format.ts';
import { quantile, robustSpread } from '../stats.ts';
import { formatClock, formatDay } from '../time-zone.ts';
import type { Burst } from './bursts.ts';
import type { DailyBurst } from './types.ts';
import { MIN_LONG_END_SPREAD_MINUTES, workingWeek } from './windows.ts';

// A burst is comparable on its day when it carries at least this share of the day's largest.
const DOMINANCE = 0.3;
// The day's largest burst belongs to the pattern when its size is within this factor of the typical one.
const SIZE_BAND = 2;
const MIN_DAYS = 5;
const MIN_DAY_FRACTION = 0.6;
// A multi-hour plateau must recur (nearly) every day: a working-day cycle skips weekends.
const MIN_LONG_DAY_FRACTION = 0.85;
const MAX_BURSTS_PER_DAY = 1.25;
// Consecutive daily bursts are a day apart on average even with a random delay; a job every 17 h is not.
const DAILY_GAP_HOURS: readonly [number, number] = [20, 28];
const MAX_SIZE_SPREAD = 0.35;
const MAX_DURATION_SPREAD = 0.5;
// Without a fixed time to vouch for it, a daily burst must stand well clear of the threshold.
const MIN_DAILY_BURST_STRENGTH = 1.5;
const MAX_P_STILL_ACTIVE = 0.01;
// A random delay spreads the starts wider than a recurring window.
const MIN_START_SPREAD_MINUTES = 90;

/** A daily burst found in the data: still running, or over since `lastSeenDay`. */
export interface DailyBurstPattern {
  readonly burst: DailyBurst;
  readonly active: boolean;
  /** Observed days after the last burst (none with it). */
  readonly daysAbsent: number;
  readonly pStillActive: number;
  /** Grid row of the last burst. */
  readonly lastDay: number;
}

/**
 * One burst a day at a varying time (a systemd timer with a random delay): the day's largest burst, of a
 * consistent size and length, about a day apart, well clear of the threshold, on most observed days from
 * the first such day on; still running unless its absence since the last one is too unlikely. Or why not.
 */
export function findDailyBurst(
  bursts: readonly Burst[],
  validDays: readonly boolean[],
  firstLocalDay: number,
  maxBurstMinutes: number,
): { pattern: DailyBurstPattern | null; rejection: string } {
  const largest = new Map<number, Burst>();
  for (const burst of bursts) {
    if (validDays[burst.day] !== true) continue;
    const current = largest.get(burst.day);
    if (current === undefined || burst.excessBytes > current.excessBytes) largest.set(burst.day, burst);
  }
  const typicalSize = quantile(
    [...largest.values()].map((burst) => burst.excessBytes),
    0.5,
  );
  const tops = [...largest.values()]
    .filter(
      (burst) => burst.excessBytes <= SIZE_BAND * typicalSize && burst.excessBytes >= typicalSize / SIZE_BAND,
    )
    .sort((a, b) => a.day - b.day);
  const observed = (from: number, to: number): number => {
    let days = 0;
    for (let day = Math.max(0, from); day <= Math.min(validDays.length - 1, to); day += 1)
      if (validDays[day]) days += 1;
    return days;
  };
  const daysObserved = observed(0, validDays.length - 1);
  if (tops.length < MIN_DAYS) {
    return { pattern: null, rejection: `bursts on only ${largest.size} of ${daysObserved} days` };
  }
  const first = (tops[0] as Burst).day;
  const last = (tops[tops.length - 1] as Burst).day;
  const days = tops.length;
  // Still running: judged on every day since it began; over: on its own span.
  const daysAbsent = observed(last + 1, validDays.length - 1);
  const rate = (days + 0.5) / (observed(first, last) + 1);
  const pStillActive = (1 - rate) ** daysAbsent;
  const active = pStillActive >= MAX_P_STILL_ACTIVE;
  const span = active ? observed(first, validDays.length - 1) : observed(first, last);
  const long =
    quantile(
      tops.map((burst) => burst.durationMinutes),
      0.5,
    ) > maxBurstMinutes;
  if (days < (long ? MIN_LONG_DAY_FRACTION : MIN_DAY_FRACTION) * span) {
    return { pattern: null, rejection: `bursts of one size on only ${days} of ${span} days` };
  }
  if (
    long &&
    workingWeek(
      tops.map((burst) => burst.day),
      { firstDay: firstLocalDay, dayCount: validDays.length },
      (day) => validDays[day] === true,
    )
  ) {
    return {
      pattern: null,
      rejection: 'multi-hour plateaus on weekdays, mostly not at weekends: the working week',
    };
  }
  const ends = tops.map((burst) => burst.startMinute + burst.durationMinutes);
  if (long && quantile(ends, 0.75) - quantile(ends, 0.25) < MIN_LONG_END_SPREAD_MINUTES) {
    return {
      pattern: null,
      rejection: 'multi-hour plateaus ending at the same minute every day: a day cycle',
    };
  }
  // Comparable: as large as a third of the day's largest, and standing as clear of the noise as half the
  // pattern's bursts do (a busy host's wander does not count against a crawl).
  const typicalStrength = quantile(
    tops.map((burst) => burst.strength),
    0.5,
  );
  let comparable = 0;
  for (const burst of bursts) {
    if (burst.day < first || burst.day > last || validDays[burst.day] !== true) continue;
    if (
      burst.excessBytes >= DOMINANCE * ((largest.get(burst.day) as Burst).excessBytes ?? 0) &&
      burst.strength >= 0.5 * typicalStrength
    )
      comparable += 1;
  }
  const perDay = comparable / Math.max(1, observed(first, last));
  if (perDay > MAX_BURSTS_PER_DAY) {
    return { pattern: null, rejection: `${perDay.toFixed(1)} comparable bursts a day, not one` };
  }
  const gaps = tops.slice(1).map((burst, k) => {
    const previous = tops[k] as Burst;
    return ((burst.day - previous.day) * 1440 + burst.startMinute - previous.startMinute) / 60;
  });
  const typicalGap = quantile(gaps, 0.5);
  if (!(typicalGap >= DAILY_GAP_HOURS[0] && typicalGap <= DAILY_GAP_HOURS[1])) {
    return { pattern: null, rejection: `bursts come every ${typicalGap.toFixed(1)} h, not daily` };
  }
  const strength = quantile(
    tops.map((burst) => burst.strength),
    0.5,
  );
  if (strength < MIN_DAILY_BURST_STRENGTH) {
    return { pattern: null, rejection: `bursts barely clear the noise (${strength.toFixed(1)}× threshold)` };
  }
  const sizeSpread = robustSpread(tops.map((burst) => burst.excessBytes));
  if (sizeSpread > MAX_SIZE_SPREAD) {
    return { pattern: null, rejection: `burst sizes vary too much (IQR/median ${sizeSpread.toFixed(2)})` };
  }
  const durationSpread = robustSpread(tops.map((burst) => burst.durationMinutes));
  if (durationSpread > MAX_DURATION_SPREAD) {
    return {
      pattern: null,
      rejection: `burst lengths vary too much (IQR/median ${durationSpread.toFixed(2)})`,
    };
  }
  const starts = tops.map((burst) => burst.startMinute);
  const earliest = quantile(starts, 0.1);
  const latest = quantile(starts, 0.9);
  // Starting at the same time each day, it is a window's business (and the window search said no).
  if (latest - earliest <= MIN_START_SPREAD_MINUTES) {
    return {
      pattern: null,
      rejection: `the bursts start within ${Math.round(latest - earliest)} min of each other: not a random delay`,
    };
  }
  return {
    pattern: {
      burst: {
        earliestStart: formatClock(earliest),
        latestStart: formatClock(latest),
        startSpreadMinutes: Math.round(latest - earliest),
        typicalDurationMinutes: Math.round(
          quantile(
            tops.map((burst) => burst.durationMinutes),
            0.5,
          ),
        ),
        typicalBytes: Math.round(
          quantile(
            tops.map((burst) => burst.excessBytes),
            0.5,
          ),
        ),
        sizeSpread: roundTo(sizeSpread, 3),
        daysWithBurst: days,
        daysObserved: span,
        confidence: roundTo(Math.min(1, days / span) * Math.max(0, 1 - sizeSpread), 3),
        firstSeenDay: formatDay(firstLocalDay + first),
        lastSeenDay: formatDay(firstLocalDay + last),
      },
      active,
      daysAbsent,
      pStillActive,
      lastDay: last,
    },
    rejection: '',
  };
}
