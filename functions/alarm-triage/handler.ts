import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import { scanAdapters } from '#aws/wiring.ts';
import { runtimeClock } from '#shared/clock.ts';
import { loadScanConfig } from '#shared/config.ts';
import { ALARM_STATE_CHANGE, AlarmStateChangeSchema } from '#shared/events/alarm.ts';
import { parseEvent } from '#shared/events/parse.ts';
import { logger } from '#shared/logger.ts';
import { type TriageResult, triageAlarm } from '#shared/scan/triage.ts';

const config = loadScanConfig();
const adapters = scanAdapters(config);
const RESERVE_MS = 5_000;

/** Alarm path: confirm an alarm that went into ALARM with the detectors, publish a finding if confirmed. */
export const handler = middy<unknown, TriageResult>()
  .use(injectLambdaContext(logger))
  .handler(async (event, context, { signal }) => {
    const alarm = parseEvent(AlarmStateChangeSchema, event, ALARM_STATE_CHANGE);
    const result = await triageAlarm(
      alarm,
      { optIn: config.optIn, lookbackDays: config.lookbackDays, region: config.region },
      {
        ...adapters,
        clock: runtimeClock,
        deadline: { remainingMs: () => context.getRemainingTimeInMillis() },
        concurrency: config.metricsConcurrency,
        reserveMs: RESERVE_MS,
      },
      signal,
    );
    logger.info('alarm triaged', { ...result });
    return result;
  });
