/**
 * The Lambda emulator of the local commands and the tests: a handler runs as Lambda runs it — the event and
 * the result cross a JSON boundary, the context carries the function's identity and a deadline from the
 * template's Timeout on the injected clock, and what the handler returned or threw is captured as Lambda
 * would report it.
 */
import { createHash } from 'node:crypto';
import type { Context } from 'aws-lambda';
import type { Clock } from '#shared/clock.ts';

/** A Lambda handler as the runtime calls it. */
export type LambdaHandler<R = unknown> = (event: unknown, context: Context) => Promise<R>;

/** Where and how a function runs. */
export interface LambdaEnvironment {
  /** The folder name under functions/ (the deployed name is `crawlguard-<name>`). */
  readonly functionName: string;
  readonly timeoutSeconds: number;
  readonly memorySizeMb: number;
  readonly region: string;
  readonly accountId: string;
  readonly clock: Clock;
}

/** What one invocation came to, as Lambda reports it. */
export type Invocation<R> =
  | { readonly outcome: 'returned'; readonly result: R; readonly durationMs: number }
  | {
      readonly outcome: 'threw';
      /** What the handler threw (the object itself, for `instanceof`). */
      readonly error: unknown;
      /** Lambda's errorType and errorMessage. */
      readonly errorType: string;
      readonly errorMessage: string;
      readonly durationMs: number;
    }
  | { readonly outcome: 'timed-out'; readonly durationMs: number };

let invocations = 0;

/** A Lambda context whose deadline runs on the environment's clock. */
export function lambdaContext(environment: LambdaEnvironment): Context {
  const { clock } = environment;
  const deadline = clock.now() + environment.timeoutSeconds * 1000;
  invocations += 1;
  const hash = createHash('sha256')
    .update(`${environment.functionName}\n${clock.now()}\n${invocations}`)
    .digest('hex');
  const requestId = `${hash.slice(0, 8)}-${hash.slice(8, 12)}-${hash.slice(12, 16)}-${hash.slice(16, 20)}-${hash.slice(20, 32)}`;
  const name = `crawlguard-${environment.functionName}`;
  return {
    callbackWaitsForEmptyEventLoop: false,
    functionName: name,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:${environment.region}:${environment.accountId}:function:${name}`,
    memoryLimitInMB: String(environment.memorySizeMb),
    awsRequestId: requestId,
    logGroupName: `/aws/lambda/${name}`,
    logStreamName: `${new Date(clock.now()).toISOString().slice(0, 10).replaceAll('-', '/')}/[$LATEST]${hash.slice(0, 32)}`,
    getRemainingTimeInMillis: () => Math.max(0, deadline - clock.now()),
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
}

/**
 * Invokes `handler` with `event` as Lambda would. A handler that is still running at its deadline (on the
 * environment's clock) is reported as timed out, whatever it did after.
 */
export async function invokeLambda<R>(
  handler: LambdaHandler<R>,
  event: unknown,
  environment: LambdaEnvironment,
): Promise<Invocation<R>> {
  const { clock } = environment;
  const context = lambdaContext(environment);
  const started = clock.now();
  const deadline = started + environment.timeoutSeconds * 1000;
  // The event arrives as JSON: what cannot be serialised never reaches a handler.
  const payload: unknown = JSON.parse(JSON.stringify(event) ?? 'null');
  try {
    const result = await handler(payload, context);
    const durationMs = clock.now() - started;
    if (clock.now() > deadline) return { outcome: 'timed-out', durationMs };
    return { outcome: 'returned', result: JSON.parse(JSON.stringify(result) ?? 'null') as R, durationMs };
  } catch (error) {
    const durationMs = clock.now() - started;
    if (clock.now() > deadline) return { outcome: 'timed-out', durationMs };
    return {
      outcome: 'threw',
      error,
      errorType: error instanceof Error ? error.name : typeof error,
      errorMessage: error instanceof Error ? error.message : String(error),
      durationMs,
    };
  }
}
