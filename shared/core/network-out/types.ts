/** How to read a NetworkOut series. Every field has a default. */
export interface NetworkOutOptions {
  /** IANA zone in which days are cut and windows reported. Default 'UTC'. */
  readonly timeZone?: string;
  /** A burst must carry at least this many bytes over baseline to count. Default 1,000,000. */
  readonly minBurstBytes?: number;
  /** Fewer valid days than this gives 'insufficient-data'. Default 5. */
  readonly minDays?: number;
  /** A rise that lasts longer is a day cycle or level shift, not a crawl. Default 420 (7 h). */
  readonly maxBurstMinutes?: number;
  /** Attach the day × time-of-day excess matrix (for pictures). Default false. */
  readonly includeProfile?: boolean;
}

export type NetworkOutVerdict = 'recurring-window' | 'daily-burst' | 'none' | 'insufficient-data';

/** A time of day at which a burst recurs. Times are 'HH:MM' in the analysis' time zone. */
export interface RecurringWindow {
  /** 90 % of the window's bursts start between `start` and `latestStart`. */
  readonly start: string;
  /** Time by which 90 % of the window's bursts had ended (may be past midnight, i.e. before start). */
  readonly end: string;
  readonly latestStart: string;
  /** The earliest start seen in this window. */
  readonly earliestStart: string;
  readonly daysWithSpike: number;
  readonly daysObserved: number;
  /** Median over the window's bursts of their excess rate over baseline. */
  readonly typicalExcessBytesPerMin: number;
  /** Median over the days with a burst of the bytes sent over baseline in this window. */
  readonly extraBytesPerDay: number;
  readonly typicalDurationMinutes: number;
  /** Chance that bursts elsewhere in the day would fill this window on as many days by luck. */
  readonly pValue: number;
  /** 0..1: the share of observed days with the burst, discounted by that chance. */
  readonly confidence: number;
  /** Local day ('YYYY-MM-DD') of the window's first burst: the start of its span (a new mount starts late). */
  readonly firstSeenDay: string;
  /** Local day of its latest burst. */
  readonly lastSeenDay: string;
}

/** One dominant burst a day of similar size and length, at a time of day that varies. */
export interface DailyBurst {
  readonly earliestStart: string;
  readonly latestStart: string;
  readonly startSpreadMinutes: number;
  readonly typicalDurationMinutes: number;
  readonly typicalBytes: number;
  /** Interquartile range over median of the bursts' sizes. */
  readonly sizeSpread: number;
  readonly daysWithBurst: number;
  readonly daysObserved: number;
  readonly confidence: number;
  readonly firstSeenDay: string;
  readonly lastSeenDay: string;
}

/**
 * A crawl-like pattern seen in the period that no longer runs: bursts recurred (at a time of day, or once a
 * day) until `lastSeenDay`, and the days since, with data, are too many to be chance gaps.
 */
export interface PastPattern {
  readonly kind: 'recurring-window' | 'daily-burst';
  /** A window's start (10 % of its starts) or a daily burst's earliest start, 'HH:MM'. */
  readonly start: string;
  readonly latestStart: string;
  /** When 90 % of a window's bursts had ended; null for a daily burst. */
  readonly end: string | null;
  readonly firstSeenDay: string;
  readonly lastSeenDay: string;
  readonly daysWithSpike: number;
  /** Days with data in its span (first to last day seen). */
  readonly daysObserved: number;
  /** Days with data after `lastSeenDay`, none with the burst. */
  readonly daysAbsent: number;
  /** Chance of that many absent days in a row if the pattern still ran at its usual rate. */
  readonly pStillActive: number;
  readonly extraBytesPerDay: number;
}

/** A window that took over from a past one: the schedule moved (an edited crontab). */
export interface ScheduleChange {
  readonly from: string;
  readonly to: string;
  /** Last day at the old time, and first day at the new one. */
  readonly lastDayBefore: string;
  readonly firstDayAfter: string;
}

/** The numbers behind a verdict. Rates are bytes per minute. */
export interface NetworkOutEvidence {
  readonly datapoints: number;
  readonly invalidDatapoints: number;
  readonly duplicateDatapoints: number;
  readonly periodSeconds: number;
  readonly firstDay: string | null;
  readonly lastDay: string | null;
  readonly daysObserved: number;
  readonly baselineBytesPerMin: number;
  readonly noiseBytesPerMin: number;
  /** Bursts over threshold, no longer than maxBurstMinutes, at least minBurstBytes. */
  readonly bursts: number;
  readonly burstsBelowFloor: number;
  /** Rises longer than maxBurstMinutes (day cycles, level shifts). */
  readonly sustainedRises: number;
  /** Days with at least one burst. */
  readonly daysWithBursts: number;
  /** Share of each day's bursts that fall in the reported windows, averaged over the days with bursts. */
  readonly shareInWindows: number;
  /** Runs over baseline that built up instead of starting at once (day cycles, arrivals, wander). */
  readonly gradualRises: number;
  /** The most days with data around any hour of the day (an instance stopped at night counts its hours). */
  readonly daysWithDataAtBestHour: number;
  /** Sharp-edged blocks (daily crawls, hourly jobs) cut out of the time-of-day profile behind the baseline. */
  readonly profileBlocksRemoved: number;
}

export interface NetworkOutProfile {
  readonly firstDay: string;
  readonly binMinutes: number;
  readonly slotsPerDay: number;
  /** days × slotsPerDay, excess bytes per minute over baseline; NaN where no data. */
  readonly excessBytesPerMin: Float64Array;
  readonly validDays: readonly boolean[];
}

export interface NetworkOutAnalysis {
  readonly metric: 'network-out';
  readonly verdict: NetworkOutVerdict;
  /** One sentence with the numbers that decided the verdict. */
  readonly reason: string;
  readonly timeZone: string;
  /** Active windows, ordered by bytes per day, largest first; empty unless the verdict is 'recurring-window'. */
  readonly windows: readonly RecurringWindow[];
  /** The active daily burst; null unless the verdict is 'daily-burst'. */
  readonly dailyBurst: DailyBurst | null;
  /** A crawl-like pattern runs now: true exactly when the verdict is 'recurring-window' or 'daily-burst'. */
  readonly active: boolean;
  /** The latest day with a burst of any pattern found, active or past; null when none was found. */
  readonly lastSeenDay: string | null;
  /** Patterns that ran in the period and stopped (oldest first): what a fix leaves behind. */
  readonly pastPatterns: readonly PastPattern[];
  /** Set when an active window took over from a past one within two days. */
  readonly scheduleChange: ScheduleChange | null;
  readonly evidence: NetworkOutEvidence;
  readonly profile?: NetworkOutProfile;
}
