import { formatBytes, roundedOrZero } from '../format.ts';
import { cleanSeries, type MetricSeries } from '../series.ts';
import { finiteMedian } from '../stats.ts';
import { formatDay, MS_PER_MINUTE } from '../time-zone.ts';
import { dayCycleBaseline, shortTermNoise } from './baseline.ts';
import { type Burst, findBursts } from './bursts.ts';
import { type DailyBurstPattern, findDailyBurst } from './daily-burst.ts';
import { binMinutesFor, coverageOf, rateGrid } from './grid.ts';
import { resolveOptions, type Settings } from './options.ts';
import type {
  NetworkOutAnalysis,
  NetworkOutEvidence,
  NetworkOutOptions,
  PastPattern,
  RecurringWindow,
  ScheduleChange,
} from './types.ts';
import {
  type EpisodeSummary,
  findEpisodes,
  summarizeEpisode,
  WINDOW_WIDTH_MINUTES,
  type WindowSearch,
} from './windows.ts';

// A window that starts at most this many days after a past one stopped took over from it.
const MAX_MOVE_GAP_DAYS = 2;

/**
 * Decides whether a NetworkOut series (bytes per period, `Sum`) shows a daily crawl running now: a burst
 * recurring at the same time of day (cron), one burst a day at a varying time (systemd timer with a random
 * delay), or neither — and which such patterns ran in the period and stopped. Pure: no clock, no
 * environment; "now" is the last datapoint, and the time zone only changes how days are cut and reported.
 * @throws InvalidSeriesError, InvalidOptionError
 */
export function analyzeNetworkOut(series: MetricSeries, options: NetworkOutOptions = {}): NetworkOutAnalysis {
  const settings = resolveOptions(options);
  const clean = cleanSeries(series);
  const n = clean.timestamps.length;
  const periodMinutes = clean.periodMs / MS_PER_MINUTE;
  const baseEvidence = {
    datapoints: n,
    invalidDatapoints: clean.invalidPoints,
    duplicateDatapoints: clean.duplicatePoints,
    periodSeconds: clean.periodMs / 1000,
  };
  const binMinutes = binMinutesFor(periodMinutes);
  if (n === 0 || binMinutes === undefined) {
    const reason =
      n === 0
        ? 'no usable datapoints'
        : `period of ${Math.round(periodMinutes)} min is too coarse to see a daily burst`;
    return insufficient(settings, reason, { ...baseEvidence, ...emptyCounts(null, null, 0, 0) });
  }

  // 1. Mean rate (bytes/min) per bin of the local-time grid, and which days have data at which hours.
  const grid = rateGrid(clean, settings.timeZone, binMinutes);
  const { slotsPerDay, firstDay, lastDay, dayCount, rate, validDays, daysObserved, filledBins } = grid;
  const coverage = coverageOf(grid);

  // 2. Baseline per bin (the day cycle and the level under it) and short-term noise per day.
  const baseline = dayCycleBaseline(rate, firstDay, dayCount, slotsPerDay, binMinutes);
  const excess = baseline.excess;
  const noise = shortTermNoise(rate, dayCount, slotsPerDay, binMinutes);
  const baselineLevel = baseline.typical;
  const noiseLevel = finiteMedian(noise.byDay);
  const firstDayLabel = formatDay(firstDay);
  const lastDayLabel = formatDay(lastDay);
  const profile = settings.includeProfile
    ? { profile: { firstDay: firstDayLabel, binMinutes, slotsPerDay, excessBytesPerMin: excess, validDays } }
    : {};
  const levels = {
    baselineBytesPerMin: roundedOrZero(baselineLevel),
    noiseBytesPerMin: roundedOrZero(noiseLevel),
    daysWithDataAtBestHour: coverage.mostDaysAtAnyHour,
    profileBlocksRemoved: baseline.blocksRemoved,
  };

  // A day counts for the times of day at which it has data: an instance stopped at night still has its
  // days, and four days of data starting at noon still cover each hour only four times.
  if (coverage.mostDaysAtAnyHour < settings.minDays) {
    const daysOfData = filledBins / slotsPerDay;
    return {
      ...insufficient(
        settings,
        `only ${daysOfData.toFixed(1)} days of data, at most ${coverage.mostDaysAtAnyHour} day(s) with data ` +
          `at any hour; need ${settings.minDays}`,
        { ...baseEvidence, ...emptyCounts(firstDayLabel, lastDayLabel, daysObserved, 0), ...levels },
      ),
      ...profile,
    };
  }

  // 3. Bursts: runs of hot bins that start at once, merged across short gaps, on the continuous timeline
  //    (so a crawl may cross midnight).
  const found = findBursts(excess, rate, noise, slotsPerDay, binMinutes, settings);
  const bursts = found.bursts;
  const daysWithBursts = new Set(bursts.map((burst) => burst.day)).size;

  // 4. Recurring windows (cron, anacron), each on its own span of days, still running or over; then one
  //    burst a day at a varying time (systemd timers).
  const search = findEpisodes(bursts, coverage, settings.maxBurstMinutes);
  const summaries = search.episodes.map((episode) => ({
    episode,
    summary: summarizeEpisode(episode, coverage),
  }));
  const activeWindows = summaries.filter(({ episode }) => episode.active);
  const windowBursts = new Set(search.episodes.flatMap((episode) => episode.items.map((item) => item.burst)));
  // Only a window still running owns its bursts: a timer's random times can line up for a few days by
  // chance, and such a past cluster must not hide the one-burst-a-day pattern it is part of.
  const activeWindowBursts = new Set(
    activeWindows.flatMap(({ episode }) => episode.items.map((item) => item.burst)),
  );
  const daily = findDailyBurst(
    bursts.filter((burst) => !activeWindowBursts.has(burst)),
    validDays,
    firstDay,
    settings.maxBurstMinutes,
  );
  const pastPatterns: PastPattern[] = [
    ...summaries
      .filter(({ episode }) => !episode.active)
      .map(({ episode, summary }) => pastWindow(summary, episode)),
    ...(daily.pattern !== null && !daily.pattern.active ? [pastDailyBurst(daily.pattern)] : []),
  ].sort((a, b) => (a.lastSeenDay < b.lastSeenDay ? -1 : a.lastSeenDay > b.lastSeenDay ? 1 : 0));
  const windows = activeWindows
    .map(({ summary }) => toWindow(summary))
    .sort((a, b) => b.extraBytesPerDay * b.daysWithSpike - a.extraBytesPerDay * a.daysWithSpike);
  const evidence: NetworkOutEvidence = {
    ...baseEvidence,
    firstDay: firstDayLabel,
    lastDay: lastDayLabel,
    daysObserved,
    ...levels,
    bursts: bursts.length,
    burstsBelowFloor: found.belowFloor,
    sustainedRises: found.sustained,
    gradualRises: found.gradual,
    daysWithBursts,
    shareInWindows: shareInWindows(bursts, windowBursts),
  };
  const seen = [
    ...summaries.map(({ summary }) => summary.lastSeenDay),
    ...pastPatterns.map((p) => p.lastSeenDay),
  ];
  if (daily.pattern?.active === true) seen.push(daily.pattern.burst.lastSeenDay);
  const lastSeenDay = [...seen].sort().at(-1) ?? null;
  const history = { lastSeenDay, pastPatterns };

  if (windows.length > 0) {
    const top = windows[0] as RecurringWindow;
    const scheduleChange = movedFrom(top, pastPatterns);
    const since =
      top.firstSeenDay > firstDayLabel && top.daysObserved < daysObserved ? ` since ${top.firstSeenDay}` : '';
    return {
      metric: 'network-out',
      verdict: 'recurring-window',
      reason:
        `a burst starts ${top.start === top.latestStart ? `at ${top.start}` : `between ${top.start} and ${top.latestStart}`} ` +
        `(${settings.timeZone}) on ${top.daysWithSpike} of ${top.daysObserved} days${since}, ` +
        `${formatBytes(top.extraBytesPerDay)} over baseline each time, last on ${top.lastSeenDay}` +
        (scheduleChange === null
          ? ''
          : `; it moved from ${scheduleChange.from} (last there on ${scheduleChange.lastDayBefore})`) +
        (windows.length > 1 ? `; ${windows.length - 1} more window(s)` : ''),
      timeZone: settings.timeZone,
      windows,
      dailyBurst: null,
      active: true,
      ...history,
      scheduleChange,
      evidence,
      ...profile,
    };
  }
  if (daily.pattern?.active === true) {
    const burst = daily.pattern.burst;
    return {
      metric: 'network-out',
      verdict: 'daily-burst',
      reason:
        `one burst a day on ${burst.daysWithBurst} of ${burst.daysObserved} days, starting anywhere from ` +
        `${burst.earliestStart} to ${burst.latestStart} (${settings.timeZone}), ` +
        `typically ${burst.typicalDurationMinutes} min and ${formatBytes(burst.typicalBytes)}, last on ${burst.lastSeenDay}`,
      timeZone: settings.timeZone,
      windows: [],
      dailyBurst: burst,
      active: true,
      ...history,
      scheduleChange: null,
      evidence,
      ...profile,
    };
  }
  return {
    metric: 'network-out',
    verdict: 'none',
    reason: noneReason(evidence, search, pastPatterns, daily.rejection, settings),
    timeZone: settings.timeZone,
    windows: [],
    dailyBurst: null,
    active: false,
    ...history,
    scheduleChange: null,
    evidence,
    ...profile,
  };
}

function toWindow(summary: EpisodeSummary): RecurringWindow {
  return {
    start: summary.start,
    end: summary.end,
    latestStart: summary.latestStart,
    earliestStart: summary.earliestStart,
    daysWithSpike: summary.daysWithSpike,
    daysObserved: summary.daysObserved,
    typicalExcessBytesPerMin: summary.typicalExcessBytesPerMin,
    extraBytesPerDay: summary.extraBytesPerDay,
    typicalDurationMinutes: summary.typicalDurationMinutes,
    pValue: summary.pValue,
    confidence: summary.confidence,
    firstSeenDay: summary.firstSeenDay,
    lastSeenDay: summary.lastSeenDay,
  };
}

function pastWindow(
  summary: EpisodeSummary,
  episode: { readonly daysAbsent: number; readonly pStillActive: number },
): PastPattern {
  return {
    kind: 'recurring-window',
    start: summary.start,
    latestStart: summary.latestStart,
    end: summary.end,
    firstSeenDay: summary.firstSeenDay,
    lastSeenDay: summary.lastSeenDay,
    daysWithSpike: summary.daysWithSpike,
    daysObserved: summary.daysObserved,
    daysAbsent: episode.daysAbsent,
    pStillActive: episode.pStillActive,
    extraBytesPerDay: summary.extraBytesPerDay,
  };
}

function pastDailyBurst(pattern: DailyBurstPattern): PastPattern {
  const burst = pattern.burst;
  return {
    kind: 'daily-burst',
    start: burst.earliestStart,
    latestStart: burst.latestStart,
    end: null,
    firstSeenDay: burst.firstSeenDay,
    lastSeenDay: burst.lastSeenDay,
    daysWithSpike: burst.daysWithBurst,
    daysObserved: burst.daysObserved,
    daysAbsent: pattern.daysAbsent,
    pStillActive: pattern.pStillActive,
    extraBytesPerDay: burst.typicalBytes,
  };
}

/** The past window an active one took over from: the latest that stopped just before it began. */
function movedFrom(window: RecurringWindow, past: readonly PastPattern[]): ScheduleChange | null {
  const began = Date.parse(`${window.firstSeenDay}T00:00:00Z`);
  let chosen: PastPattern | null = null;
  for (const pattern of past) {
    if (pattern.kind !== 'recurring-window') continue;
    const gapDays = (began - Date.parse(`${pattern.lastSeenDay}T00:00:00Z`)) / 86_400_000;
    if (
      gapDays >= 0 &&
      gapDays <= MAX_MOVE_GAP_DAYS &&
      (chosen === null || pattern.lastSeenDay > chosen.lastSeenDay)
    )
      chosen = pattern;
  }
  return chosen === null
    ? null
    : {
        from: chosen.start,
        to: window.start,
        lastDayBefore: chosen.lastSeenDay,
        firstDayAfter: window.firstSeenDay,
      };
}

/** Per day with bursts, the share of them in the windows; averaged over those days. */
function shareInWindows(bursts: readonly Burst[], inWindows: ReadonlySet<Burst>): number {
  const perDay = new Map<number, { all: number; inside: number }>();
  for (const burst of bursts) {
    const entry = perDay.get(burst.day) ?? { all: 0, inside: 0 };
    entry.all += 1;
    if (inWindows.has(burst)) entry.inside += 1;
    perDay.set(burst.day, entry);
  }
  let sum = 0;
  for (const entry of perDay.values()) sum += entry.inside / entry.all;
  return perDay.size === 0 ? 0 : sum / perDay.size;
}

function noneReason(
  evidence: NetworkOutEvidence,
  search: WindowSearch,
  past: readonly PastPattern[],
  dailyRejection: string,
  settings: Settings,
): string {
  const days = evidence.daysObserved;
  const last = past[past.length - 1];
  if (last !== undefined) {
    const what =
      last.kind === 'recurring-window'
        ? `a burst at ${last.start} (${settings.timeZone})`
        : `one burst a day (${last.start}–${last.latestStart}, ${settings.timeZone})`;
    return (
      `${what} on ${last.daysWithSpike} of ${last.daysObserved} days from ${last.firstSeenDay} to ${last.lastSeenDay} ` +
      `has stopped: none on the ${last.daysAbsent} day(s) with data since ` +
      `(p=${last.pStillActive.toPrecision(2)} if it still ran)`
    );
  }
  if (evidence.bursts === 0) {
    const parts = [`no burst above baseline on ${days} days`];
    if (evidence.burstsBelowFloor > 0) {
      parts.push(`${evidence.burstsBelowFloor} below the ${formatBytes(settings.minBurstBytes)} floor`);
    }
    if (evidence.sustainedRises > 0) {
      parts.push(
        `${evidence.sustainedRises} rise(s) longer than ${settings.maxBurstMinutes} min without a crawl's plateau (day cycle or level shift)`,
      );
    }
    if (evidence.gradualRises > 0)
      parts.push(`${evidence.gradualRises} gradual rise(s) (day cycle, not a crawl)`);
    return parts.join('; ');
  }
  if (search.bestDays >= 3 && search.bestRejection !== null) {
    return (
      `a ${WINDOW_WIDTH_MINUTES}-min window holds bursts on ${search.bestDays} days, but ` +
      `${search.bestRejection}; no daily burst either: ${dailyRejection}`
    );
  }
  return `no time of day with bursts on most days (best: ${search.bestDays} of ${days}); ${dailyRejection}`;
}

function insufficient(
  settings: Settings,
  reason: string,
  evidence: Omit<
    NetworkOutEvidence,
    'baselineBytesPerMin' | 'noiseBytesPerMin' | 'daysWithDataAtBestHour' | 'profileBlocksRemoved'
  > &
    Partial<
      Pick<
        NetworkOutEvidence,
        'baselineBytesPerMin' | 'noiseBytesPerMin' | 'daysWithDataAtBestHour' | 'profileBlocksRemoved'
      >
    >,
): NetworkOutAnalysis {
  return {
    metric: 'network-out',
    verdict: 'insufficient-data',
    reason,
    timeZone: settings.timeZone,
    windows: [],
    dailyBurst: null,
    active: false,
    lastSeenDay: null,
    pastPatterns: [],
    scheduleChange: null,
    evidence: {
      baselineBytesPerMin: 0,
      noiseBytesPerMin: 0,
      daysWithDataAtBestHour: 0,
      profileBlocksRemoved: 0,
      ...evidence,
    },
  };
}

function emptyCounts(firstDay: string | null, lastDay: string | null, daysObserved: number, bursts: number) {
  return {
    firstDay,
    lastDay,
    daysObserved,
    bursts,
    burstsBelowFloor: 0,
    sustainedRises: 0,
    gradualRises: 0,
    daysWithBursts: 0,
    shareInWindows: 0,
  };
}
