import { Logger } from '@aws-lambda-powertools/logger';
import type { Context } from 'aws-lambda';
import type { Clock } from './clock.ts';
import type { Deadline } from './ports.ts';

/**
 * What a handler runs with besides its configuration: SDK clients, time, and where its logs go. Lambda
 * gets real clients, the system clock and a Powertools logger; tests and the local commands inject theirs.
 */
export interface HandlerRuntime<Clients> {
  readonly clients: Clients;
  readonly clock: Clock;
  readonly logger: Logger;
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
