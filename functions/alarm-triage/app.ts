import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import { scanClients } from '#aws/clients.ts';
import { type ScanClients, scanPorts } from '#aws/wiring.ts';
import { quote } from '#core/instances.ts';
import { type Env, loadScanConfig, type ScanConfig } from '#shared/config.ts';
import { ALARM_STATE_CHANGE, AlarmStateChangeSchema } from '#shared/events/alarm.ts';
import { requireHome } from '#shared/events/home.ts';
import { parseEvent } from '#shared/events/parse.ts';
import { type HandlerRuntime, homeOf, runtimeWithDefaults, scanRuntime } from '#shared/runtime.ts';
import { type TriageResult, triageAlarm } from '#shared/scan/triage.ts';

export interface AlarmTriageHandlerDeps extends HandlerRuntime<ScanClients> {
  readonly config: ScanConfig;
}

const RESERVE_MS = 5_000;

/** Alarm path: confirm an alarm that went into ALARM with the detectors, publish a finding if confirmed. */
export function createHandler({ config, clients, clock, logger, pipelineMetrics }: AlarmTriageHandlerDeps) {
  const ports = scanPorts(clients, config, clock);
  return middy<unknown, TriageResult>()
    .use(injectLambdaContext(logger))
    .handler(async (event, context, { signal }) => {
      const alarm = requireHome(
        parseEvent(AlarmStateChangeSchema, event, ALARM_STATE_CHANGE),
        homeOf(context),
        (parsed) => `alarm ${quote(parsed.detail.alarmName)}`,
      );
      const result = await triageAlarm(
        alarm,
        config,
        { ...ports, ...scanRuntime(config, clock, context, RESERVE_MS) },
        signal,
      );
      if (result.status === 'confirmed') pipelineMetrics.findingsPublished({ [result.finding.kind]: 1 });
      logger.info('alarm triaged', { ...result });
      return result;
    });
}

/** Dependencies as deployed: configuration from the environment, real clients, the system clock. */
export function depsFromEnv(
  env?: Env,
  runtime: Partial<HandlerRuntime<ScanClients>> = {},
): AlarmTriageHandlerDeps {
  return { config: loadScanConfig(env), ...runtimeWithDefaults(runtime, scanClients) };
}
