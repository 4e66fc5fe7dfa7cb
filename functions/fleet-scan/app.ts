import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import { type AwsClients, scanClients, sqsClient } from '#aws/clients.ts';
import { fleetScanPorts, type ScanClients } from '#aws/wiring.ts';
import { type Env, type FleetScanConfig, loadFleetScanConfig } from '#shared/config.ts';
import { parseEvent } from '#shared/events/parse.ts';
import { SCHEDULE_TRIGGER, ScheduleTriggerSchema } from '#shared/events/schedule.ts';
import { type HandlerRuntime, runtimeWithDefaults, scanRuntime } from '#shared/runtime.ts';
import { type FleetScanResult, runFleetScan } from '#shared/scan/fleet-scan.ts';

type Clients = ScanClients & Pick<AwsClients, 'sqs'>;
export interface FleetScanHandlerDeps extends HandlerRuntime<Clients> {
  readonly config: FleetScanConfig;
}

// Kept back from the Lambda timeout: enough to publish findings and return.
const RESERVE_MS = 30_000;

/** Scheduled run: discover the opted-in fleet, then scan it inline or queue shards for scan-worker. */
export function createHandler({ config, clients, clock, logger, pipelineMetrics }: FleetScanHandlerDeps) {
  const ports = fleetScanPorts(clients, config, clock);
  return middy<unknown, FleetScanResult>()
    .use(injectLambdaContext(logger))
    .handler(async (event, context, { signal }) => {
      const run = parseEvent(ScheduleTriggerSchema, event, SCHEDULE_TRIGGER);
      const result = await runFleetScan(
        run,
        config,
        { ...ports, ...scanRuntime(config, clock, context, RESERVE_MS) },
        signal,
      );
      // Queued shards are counted by the workers that scan them.
      if (result.status !== 'queued')
        pipelineMetrics.findingsPublished(result.status === 'scanned' ? result.scan.verdicts : {});
      logger.info('fleet scan done', {
        status: result.status,
        runId: result.runId,
        skipped: result.skipped.byReason,
      });
      return result;
    });
}

/** Dependencies as deployed: configuration from the environment, real clients, the system clock. */
export function depsFromEnv(env?: Env, runtime: Partial<HandlerRuntime<Clients>> = {}): FleetScanHandlerDeps {
  return {
    config: loadFleetScanConfig(env),
    ...runtimeWithDefaults(runtime, () => ({ ...scanClients(), sqs: sqsClient() })),
  };
}
