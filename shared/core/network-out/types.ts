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
  /** Share of each day's dominant bursts that fall in the reported windows (best window when none), averaged over days. */
  readonly shareInWindows: number;
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
  /** Ordered by bytes per day, largest first; empty unless the verdict is 'recurring-window'. */
  readonly windows: readonly RecurringWindow[];
  readonly dailyBurst: DailyBurst | null;
  readonly evidence: NetworkOutEvidence;
  readonly profile?: NetworkOutProfile;
}
