import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import {
  cloudWatchClient,
  dynamoDbClient,
  ec2Client,
  eventBridgeClient,
  snsClient,
  ssmClient,
} from '#aws/clients.ts';
import { remediationPorts, type WorkflowStepClients } from '#aws/remediation-wiring.ts';
import { DEFAULT_COMMAND_LIMITS } from '#core/remediation/command.ts';
import { type Env, loadWorkflowStepConfig, type WorkflowStepConfig } from '#shared/config.ts';
import { parseEvent } from '#shared/events/parse.ts';
import type { Verification } from '#shared/events/workflow.ts';
import { STEP_PAYLOAD, StepPayloadSchema } from '#shared/events/workflow.ts';
import type { ClosedEpisode } from '#shared/ports.ts';
import { runStep } from '#shared/remediation/steps.ts';
import { type HandlerRuntime, runtimeWithDefaults } from '#shared/runtime.ts';

export interface WorkflowStepHandlerDeps extends HandlerRuntime<WorkflowStepClients> {
  readonly config: WorkflowStepConfig;
}

/**
 * The remediation workflows' Task states that decide: each payload names its action (prepare, plan,
 * track-command, close, ...); Step Functions keeps the waits, the retries and the sequence.
 */
export function createHandler({ config, clients, clock, logger, pipelineMetrics }: WorkflowStepHandlerDeps) {
  const ports = remediationPorts(clients, config, clock);
  const settings = { ...config, commandLimits: DEFAULT_COMMAND_LIMITS };
  return middy<unknown, unknown>()
    .use(injectLambdaContext(logger))
    .handler(async (event, _context, { signal }) => {
      const payload = parseEvent(StepPayloadSchema, event, STEP_PAYLOAD);
      const result = await runStep(payload, { ...ports, clock, settings }, signal);
      // close returns how the episode ended (test/functions/workflow-step.test.ts holds the shape).
      if (payload.action === 'close') pipelineMetrics.episodeClosed(result as ClosedEpisode);
      // A verdict is counted once: on the look that ends verification.
      const verdict = payload.action === 'verify' ? (result as Verification).verdict : null;
      if (verdict !== null) pipelineMetrics.verified(verdict);
      logger.info('workflow step', {
        action: payload.action,
        ...('execution' in payload ? { execution: payload.execution } : {}),
      });
      return result;
    });
}

/** Dependencies as deployed: configuration from the environment, real clients, the system clock. */
export function depsFromEnv(
  env?: Env,
  runtime: Partial<HandlerRuntime<WorkflowStepClients>> = {},
): WorkflowStepHandlerDeps {
  return {
    config: loadWorkflowStepConfig(env),
    ...runtimeWithDefaults(runtime, () => ({
      ec2: ec2Client(),
      ssm: ssmClient(),
      dynamodb: dynamoDbClient(),
      cloudwatch: cloudWatchClient(),
      eventbridge: eventBridgeClient(),
      sns: snsClient(),
    })),
  };
}
