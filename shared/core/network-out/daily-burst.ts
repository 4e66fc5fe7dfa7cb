import { roundTo } from '../format.ts';
import { quantile, robustSpread } from '../stats.ts';
import { formatClock } from '../time-zone.ts';
import type { Burst } from './bursts.ts';
import type { DailyBurst } from './types.ts';
import { MIN_DAY_FRACTION } from './windows.ts';

const MAX_BURSTS_PER_DAY = 1.25;
// Consecutive daily bursts are a day apart on average even with a random delay; a job every 17 h is not.
const DAILY_GAP_HOURS: readonly [number, number] = [20, 28];
const MAX_SIZE_SPREAD = 0.35;
const MAX_DURATION_SPREAD = 0.5;
// Without a fixed time to vouch for it, a daily burst must stand well clear of the threshold.
const MIN_DAILY_BURST_STRENGTH = 2;

/**
 * One dominant burst a day at a varying time (a systemd timer with a random delay): on enough days,
 * about a day apart, of consistent size and length, well clear of the threshold; or why not.
 */
export function findDailyBurst(
  dominant: readonly Burst[],
  daysObserved: number,
): { burst: DailyBurst | null; rejection: string } {
  const top = new Map<number, Burst>();
  for (const burst of dominant) {
    const current = top.get(burst.day);
    if (current === undefined || burst.excessBytes > current.excessBytes) top.set(burst.day, burst);
  }
  const days = top.size;
  const needed = Math.max(3, Math.ceil(MIN_DAY_FRACTION * daysObserved));
  if (days < needed) return { burst: null, rejection: `bursts on only ${days} of ${daysObserved} days` };
  const perDay = dominant.length / daysObserved;
  if (perDay > MAX_BURSTS_PER_DAY) {
    return { burst: null, rejection: `${perDay.toFixed(1)} comparable bursts a day, not one` };
  }
  const tops = [...top.values()].sort((a, b) => a.day - b.day || a.startMinute - b.startMinute);
  const gaps = tops.slice(1).map((burst, k) => {
    const previous = tops[k] as Burst;
    return ((burst.day - previous.day) * 1440 + burst.startMinute - previous.startMinute) / 60;
  });
  const typicalGap = quantile(gaps, 0.5);
  if (!(typicalGap >= DAILY_GAP_HOURS[0] && typicalGap <= DAILY_GAP_HOURS[1])) {
    return { burst: null, rejection: `bursts come every ${typicalGap.toFixed(1)} h, not daily` };
  }
  const strength = quantile(
    tops.map((burst) => burst.strength),
    0.5,
  );
  if (strength < MIN_DAILY_BURST_STRENGTH) {
    return { burst: null, rejection: `bursts barely clear the noise (${strength.toFixed(1)}× threshold)` };
  }
  const sizeSpread = robustSpread(tops.map((burst) => burst.excessBytes));
  if (sizeSpread > MAX_SIZE_SPREAD) {
    return { burst: null, rejection: `burst sizes vary too much (IQR/median ${sizeSpread.toFixed(2)})` };
  }
  const durationSpread = robustSpread(tops.map((burst) => burst.durationMinutes));
  if (durationSpread > MAX_DURATION_SPREAD) {
    return {
      burst: null,
      rejection: `burst lengths vary too much (IQR/median ${durationSpread.toFixed(2)})`,
    };
  }
  const starts = tops.map((burst) => burst.startMinute);
  const earliest = quantile(starts, 0.1);
  const latest = quantile(starts, 0.9);
  return {
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
      daysObserved,
      confidence: roundTo(Math.min(1, days / daysObserved) * Math.max(0, 1 - sizeSpread), 3),
    },
    rejection: '',
  };
}
