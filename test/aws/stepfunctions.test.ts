import 'aws-sdk-client-mock-vitest/extend';
import {
  DescribeExecutionCommand,
  ExecutionAlreadyExists,
  ExecutionDoesNotExist,
  SendTaskFailureCommand,
  SendTaskSuccessCommand,
  SFNClient,
  SFNServiceException,
  StartExecutionCommand,
} from '@aws-sdk/client-sfn';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { RetriesExhaustedError } from '#aws/retry.ts';
import { ExecutionNameTakenError, StepFunctionsWorkflows } from '#aws/stepfunctions.ts';
import { VirtualClock } from '#shared/sim/virtual-clock.ts';

const sfn = mockClient(SFNClient);
const MACHINE = 'arn:aws:states:eu-west-1:123456789012:stateMachine:crawlguard-remediation';
const EXECUTION = 'arn:aws:states:eu-west-1:123456789012:execution:crawlguard-remediation:i-0abc-3';
const signal = () => new AbortController().signal;
const input = { schemaVersion: 1, instanceId: 'i-0abc', episode: 3 };
let clock: VirtualClock;
let workflows: StepFunctionsWorkflows;
beforeEach(() => {
  sfn.reset();
  clock = new VirtualClock(0, 3);
  workflows = new StepFunctionsWorkflows(new SFNClient({}), { stateMachineArn: MACHINE, clock });
});
const taken = () => new ExecutionAlreadyExists({ message: 'Execution Already Exists', $metadata: {} });
const throttled = () =>
  new SFNServiceException({
    name: 'ThrottlingException',
    $fault: 'client',
    message: 'Rate exceeded',
    $metadata: { httpStatusCode: 400 },
  });

describe('StepFunctionsWorkflows.start', () => {
  it('starts an execution named for the episode, with the input as JSON', async () => {
    sfn
      .on(StartExecutionCommand)
      .resolves({ executionArn: EXECUTION, startDate: new Date(Date.UTC(2026, 10, 2)) });

    const started = await workflows.start('i-0abc-3', input, signal());

    expect(started).toEqual({
      executionArn: EXECUTION,
      startedAt: '2026-11-02T00:00:00.000Z',
      alreadyStarted: false,
    });
    expect(sfn).toHaveReceivedCommandWith(StartExecutionCommand, {
      stateMachineArn: MACHINE,
      name: 'i-0abc-3',
      input: JSON.stringify(input),
    });
  });

  it('answers a retried start of a running execution with the same input as that execution', async () => {
    sfn.on(StartExecutionCommand).rejects(taken());
    sfn.on(DescribeExecutionCommand).resolves({
      executionArn: EXECUTION,
      status: 'RUNNING',
      input: JSON.stringify(input),
      startDate: new Date(5),
    });

    const started = await workflows.start('i-0abc-3', input, signal());

    expect(started).toEqual({
      executionArn: EXECUTION,
      startedAt: '1970-01-01T00:00:00.005Z',
      alreadyStarted: true,
    });
    expect(sfn).toHaveReceivedCommandWith(DescribeExecutionCommand, { executionArn: EXECUTION });
  });

  it.each([
    ['a running execution with another input', { status: 'RUNNING' as const, input: '{"other":true}' }],
    [
      'an ended execution with the same input',
      { status: 'SUCCEEDED' as const, input: JSON.stringify(input) },
    ],
  ])('refuses the name when it is taken by %s', async (_, described) => {
    sfn.on(StartExecutionCommand).rejects(taken());
    sfn.on(DescribeExecutionCommand).resolves({ executionArn: EXECUTION, ...described });

    const error = await workflows.start('i-0abc-3', input, signal()).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(ExecutionNameTakenError);
    expect((error as Error).name).toBe('ExecutionNameTakenError');
    expect((error as Error).cause).toBeInstanceOf(ExecutionAlreadyExists);
    expect((error as Error).message).toContain(described.status);
  });

  it('retries throttling with backoff on the clock, then gives up with the last error as cause', async () => {
    sfn.on(StartExecutionCommand).rejects(throttled());
    const before = clock.now();

    const error = await workflows.start('i-0abc-3', input, signal()).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(RetriesExhaustedError);
    expect(sfn.commandCalls(StartExecutionCommand).length).toBeGreaterThan(1);
    expect(clock.now()).toBeGreaterThan(before);
  });

  it('does not retry a validation error', async () => {
    sfn.on(StartExecutionCommand).rejects(
      new SFNServiceException({
        name: 'InvalidName',
        $fault: 'client',
        message: 'bad name',
        $metadata: {},
      }),
    );

    await expect(workflows.start('bad name!', input, signal())).rejects.toThrow('bad name');
    expect(sfn.commandCalls(StartExecutionCommand)).toHaveLength(1);
  });
});

describe('StepFunctionsWorkflows.status and task tokens', () => {
  it('reads an execution status, and null for one that does not exist', async () => {
    sfn
      .on(DescribeExecutionCommand)
      .resolvesOnce({ executionArn: EXECUTION, status: 'ABORTED' })
      .rejects(new ExecutionDoesNotExist({ message: 'Execution Does Not Exist', $metadata: {} }));

    expect(await workflows.status('i-0abc-3', signal())).toBe('ABORTED');
    expect(await workflows.status('i-0abc-3', signal())).toBeNull();
  });

  it('answers a waiting task with its output as JSON, or with an error and a cause', async () => {
    sfn.on(SendTaskSuccessCommand).resolves({});
    sfn.on(SendTaskFailureCommand).resolves({});

    await workflows.sendTaskSuccess('token-1', { approved: true }, signal());
    await workflows.sendTaskFailure('token-2', 'Denied', 'denied by ops', signal());

    expect(sfn).toHaveReceivedCommandWith(SendTaskSuccessCommand, {
      taskToken: 'token-1',
      output: '{"approved":true}',
    });
    expect(sfn).toHaveReceivedCommandWith(SendTaskFailureCommand, {
      taskToken: 'token-2',
      error: 'Denied',
      cause: 'denied by ops',
    });
  });
});
