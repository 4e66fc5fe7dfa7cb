import { CloudWatchServiceException } from '@aws-sdk/client-cloudwatch';
import { describe, expect, it } from 'vitest';
import {
  isRetryable,
  RetriesExhaustedError,
  resendFailedEntries,
  retryPolicy,
  withRetry,
} from '#aws/retry.ts';
import { VirtualClock } from '#shared/sim/virtual-clock.ts';

const serviceError = (name: string, status = 400) =>
  new CloudWatchServiceException({
    name,
    $fault: status >= 500 ? 'server' : 'client',
    $metadata: { httpStatusCode: status },
  });

describe('isRetryable', () => {
  it.each([
    ['ThrottlingException', 400, true],
    ['Throttling', 400, true],
    ['RequestLimitExceeded', 503, true],
    ['TooManyRequestsException', 429, true],
    ['InternalFailure', 500, true],
    ['ServiceUnavailable', 503, true],
    ['ValidationError', 400, false],
    ['AccessDeniedException', 400, false],
    ['InvalidNextToken', 400, false],
  ])('%s (%i) → %s', (name, status, retryable) => {
    expect(isRetryable(serviceError(name, status))).toBe(retryable);
  });

  it('does not retry aborts or non-errors', () => {
    expect(isRetryable(new DOMException('aborted', 'AbortError'))).toBe(false);
    expect(isRetryable('Throttling')).toBe(false);
    expect(isRetryable(null)).toBe(false);
  });
});

describe('withRetry', () => {
  it('waits a jittered, doubling and capped delay between attempts, on the clock it is given', async () => {
    // The upper end of the jitter, so that each wait is its ceiling.
    const clock = Object.assign(new VirtualClock(0), { random: () => 0.999 });
    const waits: number[] = [];
    let last = 0;
    let calls = 0;
    const failure = withRetry(
      'X',
      async () => {
        waits.push(clock.now() - last);
        last = clock.now();
        calls += 1;
        throw serviceError('ThrottlingException');
      },
      retryPolicy(clock, { maxAttempts: 8, baseDelayMs: 100, maxDelayMs: 1000 }),
      new AbortController().signal,
    );
    await expect(failure).rejects.toBeInstanceOf(RetriesExhaustedError);
    expect(calls).toBe(8);
    expect(waits.slice(1).map(Math.round)).toEqual([100, 200, 400, 799, 999, 999, 999]);
  });

  it('stops waiting when the signal aborts', async () => {
    const clock = new VirtualClock(0);
    const aborter = new AbortController();
    let calls = 0;
    const failure = withRetry(
      'X',
      async () => {
        calls += 1;
        aborter.abort(new Error('deadline'));
        throw serviceError('ThrottlingException');
      },
      retryPolicy(clock),
      aborter.signal,
    );
    await expect(failure).rejects.toMatchObject({ name: 'ThrottlingException' });
    expect(calls).toBe(1);
  });
});

describe('resendFailedEntries', () => {
  it('resends only what failed, backing off on the clock, and returns what never went through', async () => {
    const clock = new VirtualClock(0);
    const sent: string[][] = [];
    const left = await resendFailedEntries(
      ['a', 'b', 'c'],
      async (pending) => {
        sent.push([...pending]);
        return { failed: pending.filter((entry) => entry !== 'a'), errorCodes: ['InternalFailure'] };
      },
      { attempts: 3, policy: retryPolicy(clock), signal: new AbortController().signal },
    );
    expect(sent).toEqual([
      ['a', 'b', 'c'],
      ['b', 'c'],
      ['b', 'c'],
    ]);
    expect(left).toEqual({ failed: ['b', 'c'], errorCodes: ['InternalFailure'] });
    expect(clock.now()).toBeGreaterThan(0);
  });

  it('stops at the first attempt where everything went through', async () => {
    const clock = new VirtualClock(0);
    let calls = 0;
    const left = await resendFailedEntries(
      [1, 2],
      async () => {
        calls += 1;
        return { failed: [], errorCodes: [] };
      },
      { attempts: 4, policy: retryPolicy(clock), signal: new AbortController().signal },
    );
    expect(left.failed).toEqual([]);
    expect(calls).toBe(1);
    expect(clock.now()).toBe(0);
  });
});
