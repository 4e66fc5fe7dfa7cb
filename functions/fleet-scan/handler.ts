import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import { scanAdapters, shardQueue } from '#aws/wiring.ts';
import { runtimeClock } from '#shared/clock.ts';
import { loadFleetScanConfig } from '#shared/config.ts';
import { parseEvent } from '#shared/events/parse.ts';
import { SCHEDULE_TRIGGER, ScheduleTriggerSchema } from '#shared/events/schedule.ts';
import { logger } from '#shared/logger.ts';
import { type FleetScanResult, runFleetScan } from '#shared/scan/fleet-scan.ts';

const config = loadFleetScanConfig();
const adapters = scanAdapters(config);
const queue = shardQueue(config);
// Kept back from the Lambda timeout: enough to publish findings and return.
const RESERVE_MS = 30_000;

/** Scheduled run: discover the opted-in fleet, then scan it inline or queue shards for scan-worker. */
export const handler = middy<unknown, FleetScanResult>()
  .use(injectLambdaContext(logger))
  .handler(async (event, context, { signal }) => {
    const run = parseEvent(ScheduleTriggerSchema, event, SCHEDULE_TRIGGER);
    const result = await runFleetScan(
      run,
      {
        optIn: config.optIn,
        lookbackDays: config.lookbackDays,
        shardMetrics: config.shardMetrics,
        region: config.region,
      },
      {
        ...adapters,
        queue,
        clock: runtimeClock,
        deadline: { remainingMs: () => context.getRemainingTimeInMillis() },
        concurrency: config.metricsConcurrency,
        reserveMs: RESERVE_MS,
      },
      signal,
    );
    logger.info('fleet scan done', {
      status: result.status,
      runId: result.runId,
      skipped: result.skipped.byReason,
    });
    return result;
  });
