/**
 * The NetworkOut detector: a daily crawl seen as a burst recurring at the same time of day (cron) or one
 * burst a day at a varying time (a systemd timer). The steps, in order: grid.ts (the series on a
 * local-time grid), baseline.ts (baseline and noise), bursts.ts (runs of hot bins), windows.ts (recurring
 * windows), daily-burst.ts (one burst a day), analyze.ts (the verdict and its reason).
 */
export { analyzeNetworkOut } from './analyze.ts';
export type {
  DailyBurst,
  NetworkOutAnalysis,
  NetworkOutEvidence,
  NetworkOutOptions,
  NetworkOutProfile,
  NetworkOutVerdict,
  RecurringWindow,
} from './types.ts';
