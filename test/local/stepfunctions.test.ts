/**
 * The local Step Functions runner's own behaviour where it differs from the library it wraps: a Task
 * without a timeout never times out in real time (Step Functions' default is 99999999 s; the library's
 * is 60 s, which a loaded machine reaches).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SSMClient } from '@aws-sdk/client-ssm';
import { afterEach, expect, it, vi } from 'vitest';
import type { Invocation } from '#shared/local/lambda.ts';
import { LocalStepFunctions } from '#shared/local/stepfunctions.ts';
import { VirtualClock } from '#shared/sim/virtual-clock.ts';

const FUNCTION = 'arn:aws:lambda:us-east-1:123456789012:function:slow';
let root: string | undefined;
afterEach(() => {
  vi.useRealTimers();
  if (root !== undefined) rmSync(root, { recursive: true, force: true });
});

it('lets a task run longer than 60 s of real time, as Step Functions does', async () => {
  root = mkdtempSync(join(tmpdir(), 'crawlguard-sfn-'));
  const task = {
    StartAt: 'Slow',
    States: {
      Slow: {
        Type: 'Task',
        Resource: 'arn:aws:states:::lambda:invoke',
        Parameters: { FunctionName: FUNCTION, Payload: { n: 1 } },
        End: true,
      },
    },
  };
  for (const file of ['remediation.asl.json', 'run-command.asl.json'])
    writeFileSync(join(root, file), JSON.stringify(task));
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
  let finish: (value: Invocation<unknown>) => void = () => undefined;
  const workflows = new LocalStepFunctions({
    root,
    region: 'us-east-1',
    accountId: '123456789012',
    substitutions: {},
    lambdas: {
      [FUNCTION]: () =>
        new Promise((resolve) => {
          finish = resolve;
        }),
    },
    ssm: new SSMClient({ region: 'us-east-1' }),
    clock: new VirtualClock(Date.UTC(2026, 10, 4)),
  });
  const execution = workflows.start('remediation', 'slow-1', '{}');
  await vi.advanceTimersByTimeAsync(5 * 60_000);
  expect(execution.status).toBe('RUNNING');
  finish({ outcome: 'returned', result: { done: true }, durationMs: 300_000 });
  await vi.advanceTimersByTimeAsync(1);
  await execution.done;
  expect(execution).toMatchObject({ status: 'SUCCEEDED', error: null });
});
