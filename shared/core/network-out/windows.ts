import { roundTo } from '../format.ts';
import { binomialUpperTail, quantile } from '../stats.ts';
import { formatClock } from '../time-zone.ts';
import type { Burst } from './bursts.ts';
import type { RecurringWindow } from './types.ts';

export const WINDOW_WIDTH_MINUTES = 90;
const MAX_WINDOWS = 3;
// A pattern must hold on this share of the observed days (weekday-only jobs pass).
export const MIN_DAY_FRACTION = 0.6;
export const MIN_SHARE_IN_WINDOWS = 0.5;

export interface WindowSearch {
  readonly accepted: WindowItem[][];
  /** Distinct days in the best window found, accepted or not. */
  readonly bestDays: number;
  readonly share: number;
  readonly windowMinutesTotal: number;
}

/**
 * Greedy circular scan over each day's dominant bursts: the 90-min window of start times that holds
 * bursts on the most distinct days, then the next. The share of the dominant bursts that the accepted
 * windows explain tells a daily job from bursts at every hour or all day long.
 */
export function findWindows(
  dominant: readonly Burst[],
  dayCount: number,
  daysObserved: number,
): WindowSearch {
  const needed = Math.max(3, Math.ceil(MIN_DAY_FRACTION * daysObserved));
  const accepted: WindowItem[][] = [];
  let remaining = [...dominant].sort((a, b) => a.startMinute - b.startMinute);
  let bestDays = 0;
  let bestItems: WindowItem[] = [];
  for (let round = 0; round < MAX_WINDOWS && remaining.length > 0; round += 1) {
    const best = bestWindow(remaining, dayCount);
    if (round === 0) {
      bestDays = best.days;
      bestItems = best.items;
    }
    if (best.days < needed) break;
    accepted.push(best.items);
    const taken = new Set(best.items.map((item) => item.burst));
    remaining = remaining.filter((burst) => !taken.has(burst));
  }
  // Averaged per day, so that one day full of small bursts (a partial day without the crawl) weighs one day.
  const explained = new Set((accepted.length > 0 ? accepted.flat() : bestItems).map((item) => item.burst));
  const perDay = new Map<number, { all: number; explained: number }>();
  for (const burst of dominant) {
    const entry = perDay.get(burst.day) ?? { all: 0, explained: 0 };
    entry.all += 1;
    if (explained.has(burst)) entry.explained += 1;
    perDay.set(burst.day, entry);
  }
  let shareSum = 0;
  for (const entry of perDay.values()) shareSum += entry.explained / entry.all;
  const share = perDay.size === 0 ? 0 : shareSum / perDay.size;
  return {
    accepted,
    bestDays,
    share,
    windowMinutesTotal: Math.max(1, accepted.length) * WINDOW_WIDTH_MINUTES,
  };
}

/** A burst in a window, with the day of the window's cycle it belongs to. */
export interface WindowItem {
  readonly burst: Burst;
  /** A window straddling midnight spans two calendar days: bursts after midnight belong to the day before. */
  readonly cycleDay: number;
}

function bestWindow(sorted: readonly Burst[], dayCount: number): { days: number; items: WindowItem[] } {
  const m = sorted.length;
  // Index 0 is the cycle before the first day (a burst just after midnight on day 0).
  const perDay = new Uint16Array(dayCount + 1);
  let distinct = 0;
  let bestDays = 0;
  let bestStart = 0;
  let bestEnd = 0;
  let bestBytes = 0;
  let windowBytes = 0;
  let end = 0; // exclusive, over the doubled (circular) sequence
  const at = (k: number): Burst => sorted[k % m] as Burst;
  const minuteAt = (k: number): number => at(k).startMinute + (k >= m ? 1440 : 0);
  const slotAt = (k: number): number => at(k).day + (k >= m ? 0 : 1);
  for (let start = 0; start < m; start += 1) {
    if (end < start) end = start;
    while (end < start + m && minuteAt(end) < minuteAt(start) + WINDOW_WIDTH_MINUTES) {
      const slot = slotAt(end);
      if (perDay[slot] === 0) distinct += 1;
      perDay[slot] = (perDay[slot] as number) + 1;
      windowBytes += at(end).excessBytes;
      end += 1;
    }
    // Most distinct days first; among equals, the window carrying the most bytes (the crawl).
    if (distinct > bestDays || (distinct === bestDays && windowBytes > bestBytes)) {
      bestDays = distinct;
      bestStart = start;
      bestEnd = end;
      bestBytes = windowBytes;
    }
    windowBytes -= at(start).excessBytes;
    const leaving = slotAt(start);
    perDay[leaving] = (perDay[leaving] as number) - 1;
    if (perDay[leaving] === 0) distinct -= 1;
  }
  const items: WindowItem[] = [];
  for (let k = bestStart; k < bestEnd; k += 1) items.push({ burst: at(k), cycleDay: slotAt(k) - 1 });
  return { days: bestDays, items };
}

export function describeWindow(
  items: readonly WindowItem[],
  dominant: readonly Burst[],
  daysObserved: number,
  windowMinutesTotal: number,
): RecurringWindow {
  const bursts = items.map((item) => item.burst);
  const first = bursts[0] as Burst;
  // Unwrap start minutes relative to the window's first start (the window may straddle midnight).
  const unwrap = (minute: number): number => (minute < first.startMinute ? minute + 1440 : minute);
  const starts = bursts.map((burst) => unwrap(burst.startMinute));
  const ends = bursts.map((burst) => unwrap(burst.startMinute) + burst.durationMinutes);
  const perDay = new Map<number, number>();
  for (const item of items)
    perDay.set(item.cycleDay, (perDay.get(item.cycleDay) ?? 0) + item.burst.excessBytes);
  const days = perDay.size;
  // Background: dominant bursts outside all windows, as a rate per minute of the rest of the day.
  const inside = new Set(bursts);
  const outside = dominant.filter((burst) => !inside.has(burst)).length;
  const backgroundPerMinute = outside / (daysObserved * Math.max(1, 1440 - windowMinutesTotal));
  const chancePerDay = 1 - Math.exp(-backgroundPerMinute * WINDOW_WIDTH_MINUTES);
  const pValue = binomialUpperTail(daysObserved, days, chancePerDay);
  return {
    start: formatClock(quantile(starts, 0.1)),
    end: formatClock(quantile(ends, 0.9)),
    latestStart: formatClock(quantile(starts, 0.9)),
    earliestStart: formatClock(Math.min(...starts)),
    daysWithSpike: days,
    daysObserved,
    typicalExcessBytesPerMin: Math.round(
      quantile(
        bursts.map((b) => b.excessBytes / b.durationMinutes),
        0.5,
      ),
    ),
    extraBytesPerDay: Math.round(quantile([...perDay.values()], 0.5)),
    typicalDurationMinutes: Math.round(
      quantile(
        bursts.map((b) => b.durationMinutes),
        0.5,
      ),
    ),
    pValue,
    confidence: roundTo(Math.min(1, days / daysObserved) * (1 - chancePerDay), 3),
  };
}
