/**
 * Step Functions' API over a workflow engine (the local runner of the real definitions): StartExecution
 * with its naming rules, DescribeExecution, and the task-token callbacks. The engine is given, so that the
 * simulated account knows nothing of how executions run.
 */
import {
  DescribeExecutionCommand,
  type DescribeExecutionCommandInput,
  ExecutionAlreadyExists,
  ExecutionDoesNotExist,
  InvalidArn,
  InvalidExecutionInput,
  InvalidName,
  InvalidToken,
  SendTaskFailureCommand,
  type SendTaskFailureCommandInput,
  SendTaskSuccessCommand,
  type SendTaskSuccessCommandInput,
  StartExecutionCommand,
  type StartExecutionCommandInput,
  StateMachineDoesNotExist,
  TaskTimedOut,
} from '@aws-sdk/client-sfn';
import type { ClientMock, SimulatedAws } from './core.ts';

/** What the fake needs from whatever runs executions. */
export interface WorkflowEngine<Machine extends string = string> {
  stateMachineArn(name: Machine): string;
  start(
    stateMachine: Machine,
    name: string,
    input: string,
  ): { readonly executionArn: string; readonly startDate: Date };
  describe(
    stateMachine: Machine,
    name: string,
  ):
    | {
        readonly executionArn: string;
        readonly name: string;
        readonly input: string;
        readonly status: string;
        readonly startDate: Date;
        readonly stopDate: Date | null;
        readonly output: unknown;
        readonly error: string | null;
        readonly cause: string | null;
      }
    | undefined;
  sendTaskSuccess(token: string, output: never): void;
  sendTaskFailure(token: string, error: string, cause: string): void;
}

const meta = { $metadata: { httpStatusCode: 400 } };
// Execution names: 1-80 characters, none of whitespace, brackets, wildcards, or control characters.
const VALID_NAME = /^[^\s<>{}[\]?*"#%\\^|~`$&,;:/]{1,80}$/;
const hasControl = (name: string) =>
  [...name].some(
    (c) =>
      (c.codePointAt(0) ?? 0) < 0x20 || ((c.codePointAt(0) ?? 0) >= 0x7f && (c.codePointAt(0) ?? 0) <= 0x9f),
  );
const MAX_INPUT = 256 * 1024;

/** Registers Step Functions' execution API on `mock`, served by `engine`. */
export function simulateStepFunctions<Machine extends string>(
  aws: SimulatedAws,
  mock: ClientMock,
  engine: WorkflowEngine<Machine>,
  machines: readonly Machine[],
): void {
  const machineOf = (arn: string | undefined): Machine => {
    const found = machines.find((name) => engine.stateMachineArn(name) === arn);
    if (found === undefined)
      throw new StateMachineDoesNotExist({ ...meta, message: `State Machine Does Not Exist: '${arn}'` });
    return found;
  };
  const executionOf = (arn: string | undefined): { machine: Machine; name: string } => {
    const match = /^(arn:aws[a-z-]*:states:[a-z0-9-]+:\d{12}):execution:([^:]+):([^:]+)$/.exec(arn ?? '');
    if (match === null) throw new InvalidArn({ ...meta, message: `Invalid Arn: '${arn}'` });
    return { machine: machineOf(`${match[1]}:stateMachine:${match[2]}`), name: match[3] as string };
  };

  mock.on(StartExecutionCommand).callsFake((input: StartExecutionCommandInput) =>
    aws.serve('sfn', 'StartExecution', input, () => {
      const machine = machineOf(input.stateMachineArn);
      const name = input.name ?? aws.rng.next().toString(36).slice(2);
      if (!VALID_NAME.test(name) || hasControl(name))
        throw new InvalidName({ ...meta, message: `Invalid Name: '${name}'` });
      const body = input.input ?? '{}';
      if (Buffer.byteLength(body) > MAX_INPUT)
        throw new InvalidExecutionInput({ ...meta, message: 'input exceeds 256 KB' });
      try {
        JSON.parse(body);
      } catch {
        throw new InvalidExecutionInput({ ...meta, message: 'input is not JSON' });
      }
      try {
        const started = engine.start(machine, name, body);
        return { executionArn: started.executionArn, startDate: started.startDate, $metadata: {} };
      } catch (error) {
        if ((error as Error).name === 'ExecutionAlreadyExists')
          throw new ExecutionAlreadyExists({ ...meta, message: (error as Error).message });
        throw error;
      }
    }),
  );
  mock.on(DescribeExecutionCommand).callsFake((input: DescribeExecutionCommandInput) =>
    aws.serve('sfn', 'DescribeExecution', input, () => {
      const { machine, name } = executionOf(input.executionArn);
      const execution = engine.describe(machine, name);
      if (execution === undefined)
        throw new ExecutionDoesNotExist({
          ...meta,
          message: `Execution Does Not Exist: '${input.executionArn}'`,
        });
      return {
        executionArn: execution.executionArn,
        stateMachineArn: engine.stateMachineArn(machine),
        name: execution.name,
        status: execution.status,
        startDate: execution.startDate,
        ...(execution.stopDate === null ? {} : { stopDate: execution.stopDate }),
        input: execution.input,
        ...(execution.status === 'SUCCEEDED' ? { output: JSON.stringify(execution.output) } : {}),
        ...(execution.error === null ? {} : { error: execution.error, cause: execution.cause ?? '' }),
        $metadata: {},
      };
    }),
  );
  const callback =
    <I extends { taskToken?: string | undefined }>(
      command: string,
      answer: (input: I, token: string) => void,
    ) =>
    (input: I) =>
      aws.serve('sfn', command, input, () => {
        const token = input.taskToken ?? '';
        if (token === '') throw new InvalidToken({ ...meta, message: 'Invalid Token' });
        try {
          answer(input, token);
        } catch (error) {
          if ((error as Error).name === 'TaskTimedOut')
            throw new TaskTimedOut({ ...meta, message: 'Task Timed Out' });
          throw error;
        }
        return { $metadata: {} };
      });
  mock
    .on(SendTaskSuccessCommand)
    .callsFake(
      callback<SendTaskSuccessCommandInput>('SendTaskSuccess', (input, token) =>
        engine.sendTaskSuccess(token, JSON.parse(input.output ?? 'null') as never),
      ),
    );
  mock
    .on(SendTaskFailureCommand)
    .callsFake(
      callback<SendTaskFailureCommandInput>('SendTaskFailure', (input, token) =>
        engine.sendTaskFailure(token, input.error ?? 'States.TaskFailed', input.cause ?? ''),
      ),
    );
}
