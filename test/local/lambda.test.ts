import type { Context } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import { CrawlguardError } from '#core/errors.ts';
import { invokeLambda, type LambdaEnvironment, lambdaContext } from '#shared/local/lambda.ts';
import { VirtualClock } from '#shared/sim/virtual-clock.ts';

const START = Date.UTC(2026, 10, 4);
const environment = (clock = new VirtualClock(START)): LambdaEnvironment => ({
  functionName: 'fleet-scan',
  timeoutSeconds: 60,
  memorySizeMb: 512,
  region: 'eu-west-3',
  accountId: '210987654321',
  clock,
});

describe('lambdaContext', () => {
  it('names the function as deployed and counts its deadline down on the clock it is given', async () => {
    const clock = new VirtualClock(START);
    const context = lambdaContext(environment(clock));
    expect(context).toMatchObject({
      functionName: 'crawlguard-fleet-scan',
      invokedFunctionArn: 'arn:aws:lambda:eu-west-3:210987654321:function:crawlguard-fleet-scan',
      memoryLimitInMB: '512',
    });
    expect(context.getRemainingTimeInMillis()).toBe(60_000);
    await clock.sleep(45_000);
    expect(context.getRemainingTimeInMillis()).toBe(15_000);
    await clock.sleep(30_000);
    expect(context.getRemainingTimeInMillis()).toBe(0);
  });

  it('gives every invocation its own request id', () => {
    const env = environment();
    expect(lambdaContext(env).awsRequestId).not.toBe(lambdaContext(env).awsRequestId);
  });
});

describe('invokeLambda', () => {
  it('passes the event across a JSON boundary and returns the result the same way', async () => {
    const seen: unknown[] = [];
    const invocation = await invokeLambda(
      async (event: unknown) => {
        seen.push(event);
        return { at: new Date(START), skipped: undefined };
      },
      { when: new Date(START), drop: () => 1 },
      environment(),
    );
    expect(seen).toEqual([{ when: '2026-11-04T00:00:00.000Z' }]);
    expect(invocation).toMatchObject({ outcome: 'returned', result: { at: '2026-11-04T00:00:00.000Z' } });
  });

  it('captures what the handler threw, with Lambda errorType and errorMessage', async () => {
    class PlannedFailure extends CrawlguardError {
      override readonly name = 'PlannedFailure';
    }
    const thrown = new PlannedFailure('nothing to do');
    const invocation = await invokeLambda(
      async () => {
        throw thrown;
      },
      {},
      environment(),
    );
    expect(invocation).toMatchObject({
      outcome: 'threw',
      error: thrown,
      errorType: 'PlannedFailure',
      errorMessage: 'nothing to do',
    });
  });

  it('reports a handler still running at its deadline as timed out, whatever it returned', async () => {
    const clock = new VirtualClock(START);
    const invocation = await invokeLambda(
      async (_event: unknown, context: Context) => {
        await clock.sleep(61_000);
        return context.getRemainingTimeInMillis();
      },
      {},
      environment(clock),
    );
    expect(invocation).toEqual({ outcome: 'timed-out', durationMs: 61_000 });
  });
});
