/**
 * A report model as the pipeline would build it, from series made here and run through the real
 * detectors, plan, verification and savings: a crawled instance fixed in apply mode and verified, one
 * checked in a dry run, a memory-only finding without NetworkOut, a flagged instance whose label and tags
 * are hostile, and a healthy one.
 */
import { assessInstance } from '#core/assessment.ts';
import { analyzeNetworkOut } from '#core/network-out/index.ts';
import type { CommandResult } from '#core/remediation/command.ts';
import { type Diagnosis, planFromDiagnosis } from '#core/remediation/plan.ts';
import { combineVerdicts, verifyMemory, verifyNetwork } from '#core/remediation/verify.ts';
import type { MetricSeries } from '#core/series.ts';
import {
  buildReport,
  commandReport,
  decisionReport,
  diagnosisReport,
  instanceReport,
  measuredSavings,
  networkOutReport,
  verificationReport,
} from '#shared/report/build.ts';
import type { InstanceReport, ReportModel } from '#shared/report/model.ts';

const DAY = 86_400_000;
const MINUTE = 60_000;
const STEP = 5 * MINUTE;
/** 2026-11-02 00:00 UTC, a Monday. */
export const FIXTURE_START = Date.UTC(2026, 10, 2);
export const DETECTION_DAYS = 14;
export const TOTAL_DAYS = 18;
/** The crawled instance is patched on day 14 at 10:00 UTC and restarted five minutes later. */
export const FIXED_AT = FIXTURE_START + DETECTION_DAYS * DAY + 10 * 60 * MINUTE;

/** Strings meant to break out of HTML text, attributes and SVG, or to reorder what is shown. */
export const HOSTILE = {
  label: 'i-0bad<img src=x onerror=alert(1)>"\'&',
  name: '</svg><script>alert("name")</script>',
  key: '"><img src=x onerror=alert(2)>',
  value: '\u202eevil\u202c & <b>bold</b> \u001b[2J',
} as const;

interface Crawl {
  readonly minuteOfDay: number;
  readonly minutes: number;
  readonly bytesPerMin: number;
}

/** NetworkOut (bytes per 5 minutes): a day/night baseline with a small wobble, and a daily crawl until `until`. */
export function networkSeries(
  days: number,
  crawl: Crawl | null,
  until = Number.POSITIVE_INFINITY,
): MetricSeries {
  const timestamps: number[] = [];
  const values: number[] = [];
  for (let t = FIXTURE_START; t < FIXTURE_START + days * DAY; t += STEP) {
    const minute = ((t - FIXTURE_START) % DAY) / MINUTE;
    // Real series are never smooth: a deterministic wobble of a few per cent, as any host has.
    const jitter = 0.04 * (((Math.imul(t / STEP, 2_654_435_761) >>> 0) / 2 ** 32) * 2 - 1);
    let rate =
      (150_000 + 50_000 * Math.sin((2 * Math.PI * minute) / 1440)) * (1 + jitter) +
      8_000 * Math.sin(t / 7_777_777);
    if (
      crawl !== null &&
      t < until &&
      // A crawl may run past midnight into the next day.
      (minute - crawl.minuteOfDay + 1440) % 1440 < crawl.minutes
    )
      rate += crawl.bytesPerMin;
    timestamps.push(t);
    values.push(Math.round(rate * 5));
  }
  return { timestamps, values };
}

/** A memory series rising `perDay` a day from `start`, back to `restartTo` at `restartAt`, flat after. */
export function memorySeries(
  days: number,
  start: number,
  perDay: number,
  restart: { readonly at: number; readonly to: number } | null = null,
): MetricSeries {
  const timestamps: number[] = [];
  const values: number[] = [];
  for (let t = FIXTURE_START; t < FIXTURE_START + days * DAY; t += STEP) {
    const wobble = 0.02 * Math.abs(start) * Math.sin(t / 3_333_333) * 0.05;
    const level =
      restart !== null && t >= restart.at ? restart.to : start + (perDay * (t - FIXTURE_START)) / DAY;
    timestamps.push(t);
    values.push(level + wobble);
  }
  return { timestamps, values };
}

const within = (series: MetricSeries, end: number): MetricSeries => {
  const keep = Array.from(series.timestamps).map((t, i) => [t, series.values[i] as number] as const);
  const kept = keep.filter(([t]) => t < end);
  return { timestamps: kept.map(([t]) => t), values: kept.map(([, v]) => v) };
};

const DIAGNOSIS: Diagnosis = {
  status: 'ok',
  locate: { implementation: 'plocate' },
  schedule: { effective: 'cron.daily', crontabDailyTime: '06:25' },
  config: { exists: true },
  mounts: [
    {
      mountPoint: '/mnt/assets',
      type: 'fuse.s3fs',
      source: 's3fs',
      crawled: true,
      crawlReason: 'fuse.s3fs not in PRUNEFS',
    },
  ],
};

const result = (step: CommandResult['step'], scriptStatus: string, reason: string): CommandResult => ({
  step,
  outcome: 'succeeded',
  scriptStatus,
  exitCode: 0,
  output: { status: scriptStatus, exitCode: 0 },
  reason,
  commandId: `cmd-${step}`,
  attempts: 1,
});

const iso = (ms: number) => new Date(ms).toISOString();
const detectionEnd = FIXTURE_START + DETECTION_DAYS * DAY;
const CRAWL: Crawl = { minuteOfDay: 6 * 60 + 25, minutes: 40, bytesPerMin: 2_500_000 };

/** The crawled instance, patched and restarted in apply mode, verified four days later. */
function fixedInstance(): InstanceReport {
  const network = networkSeries(TOTAL_DAYS, CRAWL, FIXED_AT);
  const memory = memorySeries(TOTAL_DAYS, 30, 2, { at: FIXED_AT + 5 * MINUTE, to: 24 });
  const assessment = assessInstance(
    'i-0c1a77e1d0c5a00aa',
    { 'network-out': within(network, detectionEnd), 'mem-used-percent': within(memory, detectionEnd) },
    { network: { includeProfile: true } },
  );
  const plan = planFromDiagnosis(DIAGNOSIS, ['updatedb-crawl'], { alwaysRestart: false });
  const now = FIXTURE_START + TOTAL_DAYS * DAY;
  const networkVerdict = verifyNetwork({
    series: network,
    fixedAt: FIXED_AT,
    now,
    window: { startMinute: CRAWL.minuteOfDay - 10, lengthMinutes: CRAWL.minutes + 20, timeZone: 'UTC' },
  });
  const memoryVerdict = verifyMemory({
    series: memory,
    unit: 'percent',
    restartedAt: FIXED_AT + 5 * MINUTE,
    now,
  });
  const base = instanceReport(
    assessment,
    { 'mem-used-percent': memory },
    {
      name: 'assets-web-1',
      tags: [
        { key: 'Name', value: 'assets-web-1' },
        { key: 'crawlguard:enabled', value: 'true' },
      ],
      dataPath: 'nat-gateway',
    },
  );
  const verdict = combineVerdicts([networkVerdict.verdict, memoryVerdict.verdict]);
  return {
    ...base,
    // The heatmap runs on past the fix: the days after it show the crawl gone.
    networkOut: networkOutReport(
      assessment.networkOut ?? analyzeNetworkOut(network),
      analyzeNetworkOut(network, { includeProfile: true }).profile ?? null,
    ),
    diagnosis: diagnosisReport(DIAGNOSIS, plan),
    decision: decisionReport(
      {
        action: 'remediate',
        rule: 'default',
        reason: 'an updatedb-crawl finding on an opted-in, online instance',
      },
      'apply',
      { outcome: 'remediated', reason: 'PRUNEFS patched, s3fs restarted' },
    ),
    commands: [
      commandReport({
        step: 'diagnose',
        document: 'crawlguard-diagnose',
        parameters: {},
        result: result('diagnose', 'ok', 'diagnose ok'),
        at: iso(FIXED_AT - 2 * MINUTE),
      }),
      commandReport({
        step: 'patch',
        document: 'crawlguard-patch-updatedb-conf',
        parameters: { Mode: ['apply'], PruneFsTypes: ['fuse.s3fs'] },
        result: result('patch', 'patched', 'patch patched'),
        at: iso(FIXED_AT),
      }),
      commandReport({
        step: 'restart',
        document: 'crawlguard-restart-s3fs',
        parameters: { Mode: ['apply'], Mounts: ['/mnt/assets'] },
        result: result('restart', 'restarted', 'restart restarted'),
        at: iso(FIXED_AT + 5 * MINUTE),
      }),
    ],
    fix: { patchedAt: iso(FIXED_AT), restartedAt: iso(FIXED_AT + 5 * MINUTE) },
    verification: verificationReport(
      verdict,
      `NetworkOut ${networkVerdict.verdict}, memory ${memoryVerdict.verdict}`,
      networkVerdict,
      memoryVerdict,
      iso(now),
    ),
    savings: measuredSavings(networkVerdict, 'nat-gateway'),
  };
}

/** A crawl without memory growth, checked in a dry run: the patch in check mode ran, the restart is withheld. */
function dryRunInstance(): InstanceReport {
  const network = networkSeries(DETECTION_DAYS, {
    minuteOfDay: 3 * 60 + 10,
    minutes: 30,
    bytesPerMin: 1_500_000,
  });
  const assessment = assessInstance(
    'i-0c1a77e1d0c5a00bb',
    { 'network-out': network, 'mem-used-percent': memorySeries(DETECTION_DAYS, 40, 0) },
    { network: { includeProfile: true } },
  );
  return {
    ...instanceReport(assessment, {}, { dataPath: 'gateway-endpoint' }),
    decision: decisionReport(
      {
        action: 'remediate',
        rule: 'default',
        reason: 'a daily-network-burst finding on an opted-in, online instance',
      },
      'dry-run',
      { outcome: 'checked', reason: 'check mode: PRUNEFS lacks fuse.s3fs' },
    ),
    commands: [
      commandReport({
        step: 'patch',
        document: 'crawlguard-patch-updatedb-conf',
        parameters: { Mode: ['check'], PruneFsTypes: ['fuse.s3fs'] },
        result: result('patch', 'nonCompliant', 'patch nonCompliant'),
      }),
      commandReport({
        step: 'restart',
        document: 'crawlguard-restart-s3fs',
        parameters: { Mode: ['apply'], Mounts: ['/mnt/data'] },
        result: null,
      }),
    ],
  };
}

/** s3fs RSS growing, no NetworkOut published at all. */
function memoryOnlyInstance(): InstanceReport {
  const rss = memorySeries(DETECTION_DAYS, 40 * 1_048_576, 3 * 1_048_576);
  const assessment = assessInstance('i-0c1a77e1d0c5a00cc', { 's3fs-rss': rss });
  return instanceReport(assessment, { 's3fs-rss': rss }, { dataPath: 'gateway-endpoint' });
}

function hostileInstance(): InstanceReport {
  const network = networkSeries(DETECTION_DAYS, {
    minuteOfDay: 22 * 60 + 50,
    minutes: 90,
    bytesPerMin: 2_000_000,
  });
  const assessment = assessInstance(
    HOSTILE.label,
    { 'network-out': network },
    { network: { includeProfile: true } },
  );
  return instanceReport(
    assessment,
    {},
    {
      name: HOSTILE.name,
      tags: [
        { key: HOSTILE.key, value: HOSTILE.value },
        { key: 'Name', value: HOSTILE.name },
      ],
      notes: [`${HOSTILE.label} (network-out): 1 negative value`],
      dataPath: 'gateway-endpoint',
    },
  );
}

function healthyInstance(): InstanceReport {
  const assessment = assessInstance(
    'i-0c1a77e1d0c5a00dd',
    {
      'network-out': networkSeries(DETECTION_DAYS, null),
      'mem-used-percent': memorySeries(DETECTION_DAYS, 35, 0),
    },
    { network: { includeProfile: true } },
  );
  return instanceReport(assessment, {}, { name: 'quiet', dataPath: 'gateway-endpoint' });
}

/** The whole fixture model. */
export function fixtureModel(): ReportModel {
  return buildReport({
    generatedAt: iso(FIXTURE_START + TOTAL_DAYS * DAY),
    source: 'test fixture: series made in test/support/report-fixture.ts',
    instances: [
      healthyInstance(),
      fixedInstance(),
      dryRunInstance(),
      memoryOnlyInstance(),
      hostileInstance(),
    ],
    notScanned: [{ instanceId: 'i-0c1a77e1d0c5a00ee', reason: `not opted in: ${HOSTILE.key}` }],
  });
}
