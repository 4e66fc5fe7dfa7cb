import { Logger } from '@aws-lambda-powertools/logger';
import type { Context } from 'aws-lambda';
import { type Clock, systemClock } from './clock.ts';
import { lambdaPipelineMetrics } from './metrics.ts';
import type { Deadline, PipelineMetrics } from './ports.ts';
import type { ScanRuntime } from './scan/scan.ts';

/**
 * What a handler runs with besides its configuration: SDK clients, time, and where its logs and metrics
 * go. Lambda gets real clients, the system clock, a Powertools logger and EMF metrics on stdout; tests and
 * the local commands inject theirs.
 */
export interface HandlerRuntime<Clients> {
  readonly clients: Clients;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly pipelineMetrics: PipelineMetrics;
}

/**
 * A runtime with what was not injected filled in as deployed: `clients()`, the system clock, a Powertools
 * logger, EMF metrics on stdout.
 */
export function runtimeWithDefaults<Clients>(
  runtime: Partial<HandlerRuntime<Clients>>,
  clients: () => Clients,
): HandlerRuntime<Clients> {
  const logger = runtime.logger ?? createLogger();
  return {
    clients: runtime.clients ?? clients(),
    clock: runtime.clock ?? systemClock,
    logger,
    pipelineMetrics: runtime.pipelineMetrics ?? lambdaPipelineMetrics(logger),
  };
}

/** How a scan runs in one invocation: the handler's clock, its Lambda deadline less `reserveMs`. */
export function scanRuntime(
  config: { readonly metricsConcurrency: number },
  clock: Clock,
  context: Context,
  reserveMs: number,
): ScanRuntime {
  return { clock, deadline: lambdaDeadline(context), concurrency: config.metricsConcurrency, reserveMs };
}

/** The one kind of logger every function uses (structured JSON; level from POWERTOOLS_LOG_LEVEL). */
export function createLogger(): Logger {
  return new Logger({ serviceName: 'crawlguard' });
}

/** Time left in the invocation, as the Lambda context tells it. */
export function lambdaDeadline(context: Context): Deadline {
  return { remainingMs: () => context.getRemainingTimeInMillis() };
}

/** The account and region a function runs in, from its own ARN (`arn:aws:lambda:REGION:ACCOUNT:function:NAME`). */
export function homeOf(context: Context): { readonly accountId: string; readonly region: string } {
  const [, , , region = '', accountId = ''] = context.invokedFunctionArn.split(':');
  return { accountId, region };
}
