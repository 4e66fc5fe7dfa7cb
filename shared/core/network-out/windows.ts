import { roundTo } from '../format.ts';
import { binomialUpperTail, quantile } from '../stats.ts';
import { formatClock, formatDay, weekdayOf } from '../time-zone.ts';
import type { Burst } from './bursts.ts';
import type { Coverage } from './grid.ts';

export const WINDOW_WIDTH_MINUTES = 90;
// Rounds of the greedy search: active windows and stopped ones (a moved schedule has one of each).
const MAX_EPISODES = 4;
// A day counts for a window when its burst there carries at least this share of the window's typical
// burst; smaller bursts there (an hourly job's blip) neither count nor dilute it.
const HIT_SHARE = 0.2;
// A window holds bursts on at least this share of the days with data around it, from its first burst on
// (Monday–Friday jobs pass; every other day does not), on at least MIN_HITS days.
export const MIN_DAY_FRACTION = 0.65;
const MIN_HITS = 3;
const WEEK = 7;
// A multi-hour plateau must recur (nearly) every day over at least a week: a working-day cycle skips
// weekends.
const MIN_LONG_DAY_FRACTION = 0.85;
const MIN_LONG_SPAN_DAYS = 7;
// ... and not skip weekends: over all the data, its rate on weekend days must reach this share of its rate
// on weekdays (when at least two weekend days have data).
const MIN_LONG_WEEKEND_RATIO = 0.9;
// ... and not end at the same minute every day: a crawl's length follows the bucket and the network, a
// day cycle's end follows the clock.
export const MIN_LONG_END_SPREAD_MINUTES = 10;
// Bursts as large elsewhere near that time of day (3 h each side, on any day) set the chance that the
// window fills by luck; the window must beat it clearly, as the best of many windows and spans tried.
const NEIGHBOURHOOD_MINUTES = 180;
const MAX_P_VALUE = 1e-3;
// The p-value is multiplied by the number of windows tried (one per burst start, at least as many as fit
// in a day) and by the choices of first day (Bonferroni): the best of many is no evidence by itself.
const WINDOWS_PER_DAY = 1440 / WINDOW_WIDTH_MINUTES;
// A pattern is over when this few of its usual days in a row without it would be that unlikely.
const MAX_P_STILL_ACTIVE = 0.01;

/** A burst in a window, with the day of the window's cycle it belongs to. */
export interface WindowItem {
  readonly burst: Burst;
  /** A window straddling midnight spans two calendar days: bursts after midnight belong to the day before. */
  readonly cycleDay: number;
}

/** A time of day at which bursts recur on a run of days, and whether they still do. */
export interface Episode {
  /** The bursts of the days that count (one or more per day). */
  readonly items: readonly WindowItem[];
  readonly firstDay: number;
  readonly lastDay: number;
  readonly hits: number;
  /** Days with data around the window from firstDay to lastDay. */
  readonly daysInSpan: number;
  /** Days with data around the window after lastDay (none with the burst). */
  readonly daysAbsent: number;
  readonly pStillActive: number;
  readonly active: boolean;
  /** Chance per day that bursts from around that time of day fill the window by luck. */
  readonly chancePerDay: number;
  readonly pValue: number;
}

/** What the search found, and the best candidate for the reason when nothing passed. */
export interface WindowSearch {
  readonly episodes: readonly Episode[];
  /** Days holding bursts in the best 90-minute window, accepted or not. */
  readonly bestDays: number;
  /** Why that window is not a recurring window (null when it is one). */
  readonly bestRejection: string | null;
}

interface Candidate {
  readonly items: WindowItem[];
  readonly startMinute: number;
  /** Cycle day → the largest burst's bytes there. */
  readonly largest: Map<number, number>;
  readonly threshold: number;
  readonly typical: number;
}

/**
 * Greedy search over the bursts' start times for 90-minute windows that hold a burst on a run of days: at
 * each round, the candidate window with the most such days (then the largest bursts) that is also far
 * likelier than chance, judged on its own span of days — from its first burst to its last, the days with
 * data around it only. Its bursts are then taken out and the search goes on, so that a schedule that moved
 * shows as two episodes.
 */
export function findEpisodes(
  bursts: readonly Burst[],
  coverage: Coverage,
  maxBurstMinutes: number,
): WindowSearch {
  let remaining = [...bursts].sort((a, b) => a.startMinute - b.startMinute);
  const episodes: Episode[] = [];
  let best: { days: number; rejection: string | null } | null = null;
  for (let round = 0; round < MAX_EPISODES && remaining.length > 0; round += 1) {
    const candidates = windowCandidates(remaining);
    let chosen: { episode: Episode; bytes: number } | null = null;
    for (const candidate of candidates) {
      const judged = judgeCandidate(candidate, remaining, coverage, maxBurstMinutes, candidates.length);
      if (round === 0 && (best === null || candidate.largest.size > best.days)) {
        best = { days: candidate.largest.size, rejection: judged.rejection };
      }
      const episode = judged.episode;
      if (episode === null) continue;
      if (
        chosen === null ||
        episode.hits > chosen.episode.hits ||
        (episode.hits === chosen.episode.hits && candidate.typical > chosen.bytes)
      ) {
        chosen = { episode, bytes: candidate.typical };
      }
    }
    if (chosen === null) break;
    episodes.push(chosen.episode);
    const taken = new Set(chosen.episode.items.map((item) => item.burst));
    remaining = remaining.filter((burst) => !taken.has(burst));
  }
  return { episodes, bestDays: best?.days ?? 0, bestRejection: best?.rejection ?? null };
}

/** Every 90-minute window starting at a burst's start (circular: late evening wraps to early morning). */
function windowCandidates(sorted: readonly Burst[]): Candidate[] {
  const m = sorted.length;
  const at = (k: number): Burst => sorted[k % m] as Burst;
  const minuteAt = (k: number): number => at(k).startMinute + (k >= m ? 1440 : 0);
  // Bursts after midnight in a window that started the evening before belong to that evening's cycle.
  const cycleAt = (k: number): number => at(k).day - (k >= m ? 1 : 0);
  const candidates: Candidate[] = [];
  let previousEnd = -1;
  let end = 0;
  for (let start = 0; start < m; start += 1) {
    if (end < start) end = start;
    while (end < start + m && minuteAt(end) < minuteAt(start) + WINDOW_WIDTH_MINUTES) end += 1;
    // A window that holds no burst the previous one did not is no new candidate.
    if (end === previousEnd && start > 0) continue;
    previousEnd = end;
    const items: WindowItem[] = [];
    const largest = new Map<number, number>();
    for (let k = start; k < end; k += 1) {
      const cycleDay = cycleAt(k);
      items.push({ burst: at(k), cycleDay });
      largest.set(cycleDay, Math.max(largest.get(cycleDay) ?? 0, at(k).excessBytes));
    }
    const typical = quantile([...largest.values()], 0.5);
    candidates.push({
      items,
      startMinute: at(start).startMinute,
      largest,
      threshold: HIT_SHARE * typical,
      typical,
    });
  }
  return candidates;
}

/** The best span of a candidate window, and whether it makes an episode. */
function judgeCandidate(
  candidate: Candidate,
  all: readonly Burst[],
  coverage: Coverage,
  maxBurstMinutes: number,
  tried: number,
): { episode: Episode | null; rejection: string | null } {
  const reject = (rejection: string) => ({ episode: null, rejection });
  const hitDays = [...candidate.largest]
    .filter(([, bytes]) => bytes >= candidate.threshold)
    .map(([day]) => day)
    .sort((a, b) => a - b);
  if (hitDays.length < MIN_HITS) return reject(`bursts of its size on only ${hitDays.length} days`);
  const start = candidate.startMinute;
  const covered = (day: number): boolean => coverage.around(day, start);
  const long =
    quantile(
      candidate.items.map((item) => item.burst.durationMinutes),
      0.5,
    ) > maxBurstMinutes;
  const minFraction = long ? MIN_LONG_DAY_FRACTION : MIN_DAY_FRACTION;
  // The span with the most hits at the required share of its covered days; the latest among equals.
  let spanFirst = -1;
  let spanLast = -1;
  let spanHits = 0;
  let spanDays = 0;
  const coveredBefore = new Map<number, number>();
  let count = 0;
  for (let day = (hitDays[0] as number) - 1; day <= (hitDays[hitDays.length - 1] as number); day += 1) {
    if (day >= 0 && covered(day)) count += 1;
    coveredBefore.set(day, count);
  }
  for (let i = 0; i < hitDays.length; i += 1) {
    for (let j = hitDays.length - 1; j >= i + MIN_HITS - 1; j -= 1) {
      const hits = j - i + 1;
      if (hits < spanHits) break;
      const first = hitDays[i] as number;
      const last = hitDays[j] as number;
      const days = Math.max(hits, (coveredBefore.get(last) ?? 0) - (coveredBefore.get(first - 1) ?? 0));
      // Less than a week of days (a new mount): every one of them, as a crawl since the mount would be.
      const needed = days < WEEK ? days : minFraction * days;
      if (hits >= needed && (hits > spanHits || (hits === spanHits && first > spanFirst))) {
        spanFirst = first;
        spanLast = last;
        spanHits = hits;
        spanDays = days;
      }
    }
  }
  if (spanHits < MIN_HITS) {
    return reject(`bursts of its size on ${hitDays.length} scattered days, no run of days where they recur`);
  }
  if (long) {
    if (spanDays < MIN_LONG_SPAN_DAYS) {
      return reject(`a multi-hour plateau on only ${spanDays} days (a crawl that long must hold for a week)`);
    }
    if (workingWeek(hitDays, coverage, covered)) {
      return reject('multi-hour plateaus on weekdays, mostly not at weekends: the working week');
    }
    const ends = endSpread(candidate.items.filter((item) => item.burst.excessBytes >= candidate.threshold));
    if (ends < MIN_LONG_END_SPREAD_MINUTES) {
      return reject('multi-hour plateaus ending at the same minute every day: a day cycle');
    }
  }
  const inSpan = (item: WindowItem): boolean =>
    item.cycleDay >= spanFirst && item.cycleDay <= spanLast && item.burst.excessBytes >= candidate.threshold;
  const items = candidate.items.filter(inSpan);
  const chancePerDay = chanceNearby(candidate, all, coverage);
  let firstDayChoices = 1;
  for (let day = 0; day < spanFirst; day += 1) if (covered(day)) firstDayChoices += 1;
  const pValue = Math.min(
    1,
    binomialUpperTail(spanDays, spanHits, chancePerDay) * Math.max(WINDOWS_PER_DAY, tried) * firstDayChoices,
  );
  if (pValue > MAX_P_VALUE) {
    return reject(`bursts as large come at many times of day nearby (p=${pValue.toPrecision(2)})`);
  }
  const absence = absenceAfter(spanFirst, spanLast, hitDays, coverage, start);
  const active = absence.pStillActive >= MAX_P_STILL_ACTIVE;
  // Still running, it is judged on every day since it began, the days since its last burst included.
  const sinceBegan = spanDays + absence.days;
  if (active && spanHits < (sinceBegan < WEEK ? sinceBegan - 1 : minFraction * sinceBegan)) {
    return reject(`bursts on only ${spanHits} of ${sinceBegan} days since they began`);
  }
  return {
    episode: {
      items,
      firstDay: spanFirst,
      lastDay: spanLast,
      hits: spanHits,
      daysInSpan: spanDays,
      daysAbsent: absence.days,
      pStillActive: absence.pStillActive,
      active,
      chancePerDay,
      pValue,
    },
    rejection: null,
  };
}

/**
 * The chance per day that bursts at least as large as the window's threshold would put one in the window
 * by luck: the larger of their rate within three hours either side (working-hours traffic is dense there)
 * and over the rest of the day (a daily job at a random time spreads thin). Poisson rates, with half a
 * burst added so that an empty day is not certainty.
 */
function chanceNearby(candidate: Candidate, all: readonly Burst[], coverage: Coverage): number {
  const inside = new Set(candidate.items.map((item) => item.burst));
  let before = 0;
  let after = 0;
  let elsewhere = 0;
  for (const burst of all) {
    if (inside.has(burst) || burst.excessBytes < candidate.threshold) continue;
    elsewhere += 1;
    const offset = (((burst.startMinute - candidate.startMinute) % 1440) + 1440) % 1440;
    if (offset >= WINDOW_WIDTH_MINUTES && offset < WINDOW_WIDTH_MINUTES + NEIGHBOURHOOD_MINUTES) after += 1;
    else if (offset >= 1440 - NEIGHBOURHOOD_MINUTES) before += 1;
  }
  let days = 0;
  for (let day = 0; day < coverage.dayCount; day += 1)
    if (coverage.around(day, candidate.startMinute)) days += 1;
  days = Math.max(1, days);
  const ratePerMinute = Math.max(
    (before + after + 0.5) / (days * 2 * NEIGHBOURHOOD_MINUTES),
    (elsewhere + 0.5) / (days * (1440 - WINDOW_WIDTH_MINUTES)),
  );
  return 1 - Math.exp(-ratePerMinute * WINDOW_WIDTH_MINUTES);
}

/** Interquartile range of the end times of a window's bursts, in minutes (unwrapped past midnight). */
function endSpread(items: readonly WindowItem[]): number {
  if (items.length === 0) return 0;
  const base = (items[0] as WindowItem).burst.startMinute;
  const ends = items.map((item) => {
    const start = item.burst.startMinute < base ? item.burst.startMinute + 1440 : item.burst.startMinute;
    return start + item.burst.durationMinutes;
  });
  return quantile(ends, 0.75) - quantile(ends, 0.25);
}

/**
 * True when a pattern holds on weekdays and mostly not at weekends (its weekend rate under
 * MIN_LONG_WEEKEND_RATIO of its weekday rate, at least two weekend days with data): the working week.
 */
export function workingWeek(
  hitDays: Iterable<number>,
  coverage: { readonly firstDay: number; readonly dayCount: number },
  covered: (day: number) => boolean,
): boolean {
  const hits = new Set(hitDays);
  const tally = { weekday: [0, 0], weekend: [0, 0] };
  for (let day = 0; day < coverage.dayCount; day += 1) {
    if (!covered(day)) continue;
    const weekday = weekdayOf(coverage.firstDay + day);
    const entry = weekday === 0 || weekday === 6 ? tally.weekend : tally.weekday;
    entry[1] = (entry[1] as number) + 1;
    if (hits.has(day)) entry[0] = (entry[0] as number) + 1;
  }
  const [weekendHits, weekendDays] = tally.weekend as [number, number];
  const [weekdayHits, weekdayDays] = tally.weekday as [number, number];
  if (weekendDays < 2 || weekdayDays === 0 || weekdayHits === 0) return false;
  return weekendHits / weekendDays < MIN_LONG_WEEKEND_RATIO * (weekdayHits / weekdayDays);
}

/**
 * Days with data around the window after the last burst, and the chance of so many misses in a row if the
 * pattern still ran at its rate — weekdays and weekend days apart, so that a Monday–Friday job is not
 * declared over on a Sunday.
 */
function absenceAfter(
  firstDay: number,
  lastDay: number,
  hitDays: readonly number[],
  coverage: Coverage,
  startMinute: number,
): { days: number; pStillActive: number } {
  const hits = new Set(hitDays);
  const tally = { weekday: { hits: 0, days: 0 }, weekend: { hits: 0, days: 0 } };
  const kind = (day: number) => {
    const weekday = weekdayOf(coverage.firstDay + day);
    return weekday === 0 || weekday === 6 ? tally.weekend : tally.weekday;
  };
  for (let day = firstDay; day <= lastDay; day += 1) {
    if (!coverage.around(day, startMinute)) continue;
    const entry = kind(day);
    entry.days += 1;
    if (hits.has(day)) entry.hits += 1;
  }
  let days = 0;
  let pStillActive = 1;
  for (let day = lastDay + 1; day < coverage.dayCount; day += 1) {
    if (!coverage.around(day, startMinute)) continue;
    days += 1;
    const entry = kind(day);
    // Jeffreys' estimate of the daily rate: no certainty from a few days.
    const rate = (entry.hits + 0.5) / (entry.days + 1);
    pStillActive *= 1 - rate;
  }
  return { days, pStillActive };
}

/** A window's description as reported; `status` says whether it still runs. */
export interface EpisodeSummary {
  readonly start: string;
  readonly end: string;
  readonly latestStart: string;
  readonly earliestStart: string;
  readonly startMinute: number;
  readonly firstSeenDay: string;
  readonly lastSeenDay: string;
  readonly daysWithSpike: number;
  readonly daysObserved: number;
  readonly typicalExcessBytesPerMin: number;
  readonly extraBytesPerDay: number;
  readonly typicalDurationMinutes: number;
  readonly pValue: number;
  readonly confidence: number;
}

/** The numbers of an episode: 10–90 % start range, typical size and length, its days. */
export function summarizeEpisode(episode: Episode, coverage: Coverage): EpisodeSummary {
  const bursts = episode.items.map((item) => item.burst);
  // Unwrap start minutes relative to the window's earliest start (the window may straddle midnight).
  const firstItem = episode.items[0] as WindowItem;
  const base = firstItem.burst.startMinute;
  const unwrap = (minute: number): number => (minute < base ? minute + 1440 : minute);
  const starts = bursts.map((burst) => unwrap(burst.startMinute));
  const ends = bursts.map((burst) => unwrap(burst.startMinute) + burst.durationMinutes);
  const perDay = new Map<number, number>();
  for (const item of episode.items)
    perDay.set(item.cycleDay, (perDay.get(item.cycleDay) ?? 0) + item.burst.excessBytes);
  let earliest = Number.POSITIVE_INFINITY;
  for (const start of starts) if (start < earliest) earliest = start;
  const active = episode.active;
  // An active window is judged on every day since it began; a stopped one on its own span.
  const daysObserved = active ? episode.daysInSpan + episode.daysAbsent : episode.daysInSpan;
  return {
    start: formatClock(quantile(starts, 0.1)),
    end: formatClock(quantile(ends, 0.9)),
    latestStart: formatClock(quantile(starts, 0.9)),
    earliestStart: formatClock(earliest),
    startMinute: Math.round(quantile(starts, 0.1)) % 1440,
    firstSeenDay: formatDay(coverage.firstDay + episode.firstDay),
    lastSeenDay: formatDay(coverage.firstDay + episode.lastDay),
    daysWithSpike: episode.hits,
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
    pValue: episode.pValue,
    confidence: roundTo(
      Math.min(1, episode.hits / Math.max(1, daysObserved)) * (1 - episode.chancePerDay),
      3,
    ),
  };
}
