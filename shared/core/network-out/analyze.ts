import { formatBytes, roundedOrZero } from '../format.ts';
import { cleanSeries, type MetricSeries } from '../series.ts';
import { finiteMedian } from '../stats.ts';
import { formatDay, MS_PER_MINUTE } from '../time-zone.ts';
import { noiseByDay, rollingBaseline } from './baseline.ts';
import { dominantBursts, findBursts } from './bursts.ts';
import { findDailyBurst } from './daily-burst.ts';
import { binMinutesFor, MIN_DAY_COVERAGE, rateGrid } from './grid.ts';
import { resolveOptions, type Settings } from './options.ts';
import type { NetworkOutAnalysis, NetworkOutEvidence, NetworkOutOptions, RecurringWindow } from './types.ts';
import {
  describeWindow,
  findWindows,
  MIN_SHARE_IN_WINDOWS,
  WINDOW_WIDTH_MINUTES,
  type WindowSearch,
} from './windows.ts';

/**
 * Decides whether a NetworkOut series (bytes per period, `Sum`) shows a daily crawl: a burst recurring at
 * the same time of day (cron), one burst a day at a varying time (systemd timer with a random delay), or
 * neither. Pure: no clock, no environment; the time zone only changes how days are cut and reported.
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
    return insufficient(settings, reason, { ...baseEvidence, ...emptyCounts(null, null, 0) });
  }

  // 1. Mean rate (bytes/min) per bin of the local-time grid.
  const grid = rateGrid(clean, settings.timeZone, binMinutes);
  const { slotsPerDay, firstDay, lastDay, dayCount, rate, validDays, daysObserved, filledBins } = grid;
  const binCount = rate.length;

  // 2. Baseline per bin and noise per day.
  const baseline = rollingBaseline(rate, binMinutes);
  const excess = new Float64Array(binCount);
  for (let bin = 0; bin < binCount; bin += 1) excess[bin] = (rate[bin] as number) - (baseline[bin] as number);
  const noise = noiseByDay(excess, validDays, slotsPerDay);
  const baselineLevel = finiteMedian(baseline);
  const noiseLevel = finiteMedian(noise);
  const firstDayLabel = formatDay(firstDay);
  const lastDayLabel = formatDay(lastDay);
  const profile = settings.includeProfile
    ? { profile: { firstDay: firstDayLabel, binMinutes, slotsPerDay, excessBytesPerMin: excess, validDays } }
    : {};

  // Both tests matter: 4 days of data starting at noon touch 5 calendar days, each more than half full.
  const daysOfData = filledBins / slotsPerDay;
  if (daysObserved < settings.minDays || daysOfData < settings.minDays) {
    return {
      ...insufficient(
        settings,
        `only ${daysOfData.toFixed(1)} days of data over ${daysObserved} day(s) with at least ` +
          `${MIN_DAY_COVERAGE * 100} % of datapoints; need ${settings.minDays}`,
        {
          ...baseEvidence,
          ...emptyCounts(firstDayLabel, lastDayLabel, daysObserved),
          baselineBytesPerMin: roundedOrZero(baselineLevel),
          noiseBytesPerMin: roundedOrZero(noiseLevel),
        },
      ),
      ...profile,
    };
  }

  // 3. Bursts: runs of hot bins, merged across short gaps, on the continuous timeline (so a crawl may
  //    cross midnight).
  const found = findBursts(excess, baseline, noise, slotsPerDay, binMinutes, settings);
  const bursts = found.bursts.filter((burst) => validDays[burst.day] === true);
  const daysWithBursts = new Set(bursts.map((burst) => burst.day)).size;
  const dominant = dominantBursts(bursts);
  const evidenceBase = {
    ...baseEvidence,
    firstDay: firstDayLabel,
    lastDay: lastDayLabel,
    daysObserved,
    baselineBytesPerMin: roundedOrZero(baselineLevel),
    noiseBytesPerMin: roundedOrZero(noiseLevel),
    bursts: bursts.length,
    burstsBelowFloor: found.belowFloor,
    sustainedRises: found.sustained,
    daysWithBursts,
  };

  // 4. Recurring windows (cron, anacron), then one burst a day at a varying time (systemd timers).
  const search = findWindows(dominant, dayCount, daysObserved);
  if (search.accepted.length > 0 && search.share >= MIN_SHARE_IN_WINDOWS) {
    const windows = search.accepted
      .map((items) => describeWindow(items, dominant, daysObserved, search.windowMinutesTotal))
      .sort((a, b) => b.extraBytesPerDay * b.daysWithSpike - a.extraBytesPerDay * a.daysWithSpike);
    const top = windows[0] as RecurringWindow;
    return {
      metric: 'network-out',
      verdict: 'recurring-window',
      reason:
        `a burst starts ${top.start === top.latestStart ? `at ${top.start}` : `between ${top.start} and ${top.latestStart}`} ` +
        `(${settings.timeZone}) on ` +
        `${top.daysWithSpike} of ${daysObserved} days, ${formatBytes(top.extraBytesPerDay)} over baseline each time` +
        (windows.length > 1 ? `; ${windows.length - 1} more window(s)` : ''),
      timeZone: settings.timeZone,
      windows,
      dailyBurst: null,
      evidence: { ...evidenceBase, shareInWindows: search.share },
      ...profile,
    };
  }
  const daily = findDailyBurst(dominant, daysObserved);
  const evidence = { ...evidenceBase, shareInWindows: search.share };
  if (daily.burst !== null) {
    const burst = daily.burst;
    return {
      metric: 'network-out',
      verdict: 'daily-burst',
      reason:
        `one burst a day on ${burst.daysWithBurst} of ${daysObserved} days, starting anywhere from ` +
        `${burst.earliestStart} to ${burst.latestStart} (${settings.timeZone}), ` +
        `typically ${burst.typicalDurationMinutes} min and ${formatBytes(burst.typicalBytes)}`,
      timeZone: settings.timeZone,
      windows: [],
      dailyBurst: burst,
      evidence,
      ...profile,
    };
  }
  return {
    metric: 'network-out',
    verdict: 'none',
    reason: noneReason(evidence, search, daily.rejection, settings),
    timeZone: settings.timeZone,
    windows: [],
    dailyBurst: null,
    evidence,
    ...profile,
  };
}

function noneReason(
  evidence: NetworkOutEvidence,
  search: WindowSearch,
  dailyRejection: string,
  settings: Settings,
): string {
  const days = evidence.daysObserved;
  if (evidence.bursts === 0) {
    const parts = [`no burst above baseline on ${days} days`];
    if (evidence.burstsBelowFloor > 0) {
      parts.push(`${evidence.burstsBelowFloor} below the ${formatBytes(settings.minBurstBytes)} floor`);
    }
    if (evidence.sustainedRises > 0) {
      parts.push(
        `${evidence.sustainedRises} rise(s) longer than ${settings.maxBurstMinutes} min (day cycle or level shift)`,
      );
    }
    return parts.join('; ');
  }
  if (search.accepted.length > 0) {
    return (
      `a ${WINDOW_WIDTH_MINUTES}-min window holds bursts on ${search.bestDays} of ${days} days but only ` +
      `${Math.round(search.share * 100)} % of the day's bursts: bursts come at many times of day`
    );
  }
  return `no time of day with bursts on most days (best: ${search.bestDays} of ${days}); ${dailyRejection}`;
}

function insufficient(
  settings: Settings,
  reason: string,
  evidence: Omit<NetworkOutEvidence, 'baselineBytesPerMin' | 'noiseBytesPerMin'> &
    Partial<Pick<NetworkOutEvidence, 'baselineBytesPerMin' | 'noiseBytesPerMin'>>,
): NetworkOutAnalysis {
  return {
    metric: 'network-out',
    verdict: 'insufficient-data',
    reason,
    timeZone: settings.timeZone,
    windows: [],
    dailyBurst: null,
    evidence: { baselineBytesPerMin: 0, noiseBytesPerMin: 0, ...evidence },
  };
}

function emptyCounts(firstDay: string | null, lastDay: string | null, daysObserved: number) {
  return {
    firstDay,
    lastDay,
    daysObserved,
    bursts: 0,
    burstsBelowFloor: 0,
    sustainedRises: 0,
    daysWithBursts: 0,
    shareInWindows: 0,
  };
}
