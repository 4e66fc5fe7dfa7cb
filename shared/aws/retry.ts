import { isServerError, isThrottlingError, isTransientError } from '@smithy/core/retry';
import { CrawlguardError } from '#core/errors.ts';
import type { Clock } from '#shared/clock.ts';

/** Bounded exponential backoff with full jitter. */
export interface RetryPolicy {
  readonly maxAttempts: number;
  readonly baseDelayMs: number;
  readonly maxDelayMs: number;
  readonly clock: Clock;
  /** Uniform in [0, 1); the clock's by default. */
  readonly random?: () => number;
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
  const random = policy.random ?? (() => policy.clock.random());
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
      const ceiling = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (attempt - 1));
      await policy.clock.sleep(random() * ceiling, signal);
    }
  }
}

function errorName(error: unknown): string {
  return error instanceof Error ? error.name : typeof error;
}
