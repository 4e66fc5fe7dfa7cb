import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import type { AwsClients } from '#aws/clients.ts';
import { dynamoDbClient, ec2Client, sfnClient, snsClient, ssmClient } from '#aws/clients.ts';
import { gatePorts, type RemediationClients } from '#aws/remediation-wiring.ts';
import { type Env, loadRemediationConfig, type RemediationConfig } from '#shared/config.ts';
import { requireHome } from '#shared/events/home.ts';
import { parseEvent } from '#shared/events/parse.ts';
import { GATE_EVENT, GateEventSchema } from '#shared/events/remediation.ts';
import { type GateResult, runGate } from '#shared/remediation/gate.ts';
import { type HandlerRuntime, homeOf, runtimeWithDefaults } from '#shared/runtime.ts';

type Clients = RemediationClients & Pick<AwsClients, 'sfn'>;
export interface RemediateHandlerDeps extends HandlerRuntime<Clients> {
  readonly config: RemediationConfig;
}

/**
 * The gate: a finding from the bus (or an operator's request) → the policy on the instance as it is now
 * → one claimed episode → the remediation workflow, started by the episode's name.
 */
export function createHandler({ config, clients, clock, logger, pipelineMetrics }: RemediateHandlerDeps) {
  const ports = gatePorts(clients, config, clock);
  return middy<unknown, GateResult>()
    .use(injectLambdaContext(logger))
    .handler(async (event, context, { signal }) => {
      const trigger = requireHome(parseEvent(GateEventSchema, event, GATE_EVENT), homeOf(context));
      const result = await runGate(trigger, config, { ...ports, clock }, signal);
      pipelineMetrics.gateDecided(result);
      logger.info('remediation gate', { ...result });
      return result;
    });
}

/** Dependencies as deployed: configuration from the environment, real clients, the system clock. */
export function depsFromEnv(env?: Env, runtime: Partial<HandlerRuntime<Clients>> = {}): RemediateHandlerDeps {
  return {
    config: loadRemediationConfig(env),
    ...runtimeWithDefaults(runtime, () => ({
      ec2: ec2Client(),
      ssm: ssmClient(),
      dynamodb: dynamoDbClient(),
      sfn: sfnClient(),
      sns: snsClient(),
    })),
  };
}
