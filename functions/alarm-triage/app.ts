import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import { cloudWatchClient, ec2Client, eventBridgeClient, ssmClient } from '#aws/clients.ts';
import { type ScanClients, scanPorts } from '#aws/wiring.ts';
import { systemClock } from '#shared/clock.ts';
import { type Env, loadScanConfig, type ScanConfig } from '#shared/config.ts';
import { ALARM_STATE_CHANGE, AlarmStateChangeSchema, requireHomeAlarm } from '#shared/events/alarm.ts';
import { parseEvent } from '#shared/events/parse.ts';
import { createLogger, type HandlerRuntime, homeOf, lambdaDeadline } from '#shared/runtime.ts';
import { type TriageResult, triageAlarm } from '#shared/scan/triage.ts';

export interface AlarmTriageHandlerDeps extends HandlerRuntime<ScanClients> {
  readonly config: ScanConfig;
}

const RESERVE_MS = 5_000;

/** Alarm path: confirm an alarm that went into ALARM with the detectors, publish a finding if confirmed. */
export function createHandler({ config, clients, clock, logger }: AlarmTriageHandlerDeps) {
  const ports = scanPorts(clients, config, clock);
  return middy<unknown, TriageResult>()
    .use(injectLambdaContext(logger))
    .handler(async (event, context, { signal }) => {
      const alarm = requireHomeAlarm(
        parseEvent(AlarmStateChangeSchema, event, ALARM_STATE_CHANGE),
        homeOf(context),
      );
      const result = await triageAlarm(
        alarm,
        config,
        {
          ...ports,
          clock,
          deadline: lambdaDeadline(context),
          concurrency: config.metricsConcurrency,
          reserveMs: RESERVE_MS,
        },
        signal,
      );
      logger.info('alarm triaged', { ...result });
      return result;
    });
}

/** Dependencies as deployed: configuration from the environment, real clients, the system clock. */
export function depsFromEnv(
  env?: Env,
  runtime: Partial<HandlerRuntime<ScanClients>> = {},
): AlarmTriageHandlerDeps {
  return {
    config: loadScanConfig(env),
    clients: runtime.clients ?? {
      ec2: ec2Client(),
      ssm: ssmClient(),
      cloudwatch: cloudWatchClient(),
      eventbridge: eventBridgeClient(),
    },
    clock: runtime.clock ?? systemClock,
    logger: runtime.logger ?? createLogger(),
  };
}
