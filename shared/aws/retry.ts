import { isServerError, isThrottlingError, isTransientError } from '@smithy/core/retry';
import { CrawlguardError } from '#core/errors.ts';
import type { Clock } from '#shared/clock.ts';

/** Bounded exponential backoff with full jitter. */
export interface RetryPolicy {
  readonly maxAttempts: number;
  readonly baseDelayMs: number;
  readonly maxDelayMs: number;
  readonly clock: Clock;
  /** Called before each backoff, e.g. to count throttles. */
  readonly onRetry?: (error: unknown, attempt: number) => void;
}

/** Default policy: 6 attempts, 100 ms doubling to at most 5 s (≈ 10 s worst case in all). */
export function retryPolicy(clock: Clock, overrides: Partial<RetryPolicy> = {}): RetryPolicy {
  return { maxAttempts: 6, baseDelayMs: 100, maxDelayMs: 5_000, clock, ...overrides };
}

/** A call that was still throttled (or failing transiently) after the last attempt. */
export class RetriesExhaustedError extends CrawlguardError {
  override readonly name = 'RetriesExhaustedError';
}

/** True for errors worth another attempt: throttling, timeouts, 5xx. */
export function isRetryable(error: unknown): boolean {
  if (typeof error !== 'object' || error === null) return false;
  // biome-ignore lint/suspicious/noExplicitAny: the classifiers take the SDK's loosely typed errors
  const sdkError = error as any;
  return isThrottlingError(sdkError) || isTransientError(sdkError) || isServerError(sdkError);
}

/** The wait before retry number `attempt` (1-based): full jitter under a doubling, capped ceiling. */
export function backoffMs(policy: RetryPolicy, attempt: number): number {
  const ceiling = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (attempt - 1));
  return policy.clock.random() * ceiling;
}

/**
 * Runs `call`, retrying retryable errors with backoff; anything else is rethrown at once. The AWS SDK
 * retries too, but its backoff sleeps in real time inside the client: this one runs on the injected
 * clock, so the simulated fleet and the tests control it.
 * @throws RetriesExhaustedError (cause: the last error), or the first non-retryable error.
 */
export async function withRetry<T>(
  operation: string,
  call: () => Promise<T>,
  policy: RetryPolicy,
  signal: AbortSignal,
): Promise<T> {
  for (let attempt = 1; ; attempt += 1) {
    signal.throwIfAborted();
    try {
      return await call();
    } catch (error) {
      if (!isRetryable(error) || signal.aborted) throw error;
      if (attempt >= policy.maxAttempts) {
        throw new RetriesExhaustedError(
          `${operation} failed ${attempt} times (${errorName(error)}); giving up`,
          { cause: error },
        );
      }
      policy.onRetry?.(error, attempt);
      await policy.clock.sleep(backoffMs(policy, attempt), signal);
    }
  }
}

/** What one call of a batch API (PutEvents, SendMessageBatch) left undone. */
export interface BatchAttempt<E> {
  /** The entries the service did not accept; they are sent again. */
  readonly failed: readonly E[];
  /** The services' error codes for them. */
  readonly errorCodes: readonly string[];
}

/**
 * Sends a batch, then resends only the entries the service reports as failed, up to `attempts` calls in
 * all, backing off between them. Each call goes through `withRetry` inside `send`.
 * @returns the entries still not accepted after the last attempt (empty when all went through), with
 * the error codes of the last attempt.
 */
export async function resendFailedEntries<E>(
  batch: readonly E[],
  send: (pending: readonly E[]) => Promise<BatchAttempt<E>>,
  options: { readonly attempts: number; readonly policy: RetryPolicy; readonly signal: AbortSignal },
): Promise<BatchAttempt<E>> {
  let pending = batch;
  let errorCodes: readonly string[] = [];
  for (let attempt = 1; attempt <= options.attempts; attempt += 1) {
    if (attempt > 1) await options.policy.clock.sleep(backoffMs(options.policy, attempt), options.signal);
    const outcome = await send(pending);
    if (outcome.failed.length === 0) return { failed: [], errorCodes: [] };
    pending = outcome.failed;
    errorCodes = outcome.errorCodes;
  }
  return { failed: pending, errorCodes };
}

function errorName(error: unknown): string {
  return error instanceof Error ? error.name : typeof error;
}
