import {
  DescribeExecutionCommand,
  ExecutionAlreadyExists,
  ExecutionDoesNotExist,
  SendTaskFailureCommand,
  SendTaskSuccessCommand,
  type SFNClient,
  StartExecutionCommand,
} from '@aws-sdk/client-sfn';
import { CrawlguardError } from '#core/errors.ts';
import type { Clock } from '#shared/clock.ts';
import type { TaskTokens, Workflows } from '#shared/ports.ts';
import { type RetryPolicy, retryPolicy, withRetry } from './retry.ts';

/** The execution name is taken by an execution with another input, or one that has ended. */
export class ExecutionNameTakenError extends CrawlguardError {
  override readonly name = 'ExecutionNameTakenError';
}

/** Step Functions adapter for tasks waiting for their token (what an operator's approval answers). */
export class StepFunctionsTaskTokens implements TaskTokens {
  protected readonly client: SFNClient;
  protected readonly retry: RetryPolicy;

  constructor(client: SFNClient, options: { readonly clock: Clock; readonly retry?: Partial<RetryPolicy> }) {
    this.client = client;
    this.retry = retryPolicy(options.clock, options.retry);
  }

  async sendTaskSuccess(taskToken: string, output: unknown, signal: AbortSignal): Promise<void> {
    await withRetry(
      'SendTaskSuccess',
      () =>
        this.client.send(new SendTaskSuccessCommand({ taskToken, output: JSON.stringify(output) }), {
          abortSignal: signal,
        }),
      this.retry,
      signal,
    );
  }

  async sendTaskFailure(taskToken: string, error: string, cause: string, signal: AbortSignal): Promise<void> {
    await withRetry(
      'SendTaskFailure',
      () =>
        this.client.send(new SendTaskFailureCommand({ taskToken, error, cause }), { abortSignal: signal }),
      this.retry,
      signal,
    );
  }
}

/** Step Functions adapter: the remediation state machine's executions, and its waiting task tokens. */
export class StepFunctionsWorkflows extends StepFunctionsTaskTokens implements Workflows {
  readonly #stateMachineArn: string;

  constructor(
    client: SFNClient,
    options: {
      readonly stateMachineArn: string;
      readonly clock: Clock;
      readonly retry?: Partial<RetryPolicy>;
    },
  ) {
    super(client, options);
    this.#stateMachineArn = options.stateMachineArn;
  }

  async start(name: string, input: unknown, signal: AbortSignal) {
    const body = JSON.stringify(input);
    try {
      const started = await withRetry(
        'StartExecution',
        () =>
          this.client.send(
            new StartExecutionCommand({ stateMachineArn: this.#stateMachineArn, name, input: body }),
            {
              abortSignal: signal,
            },
          ),
        this.retry,
        signal,
      );
      return {
        executionArn: started.executionArn ?? this.#executionArn(name),
        startedAt: (started.startDate ?? new Date(0)).toISOString(),
        alreadyStarted: false,
      };
    } catch (error) {
      if (!(error instanceof ExecutionAlreadyExists)) throw error;
      // The same name and input while it runs is the same execution (a retried start); anything else is not.
      const existing = await this.#describe(name, signal);
      if (existing?.status === 'RUNNING' && existing.input === body) {
        return {
          executionArn: existing.executionArn ?? this.#executionArn(name),
          startedAt: (existing.startDate ?? new Date(0)).toISOString(),
          alreadyStarted: true,
        };
      }
      throw new ExecutionNameTakenError(
        `execution ${name} already exists (${existing?.status ?? 'unknown'}) with another input`,
        { cause: error },
      );
    }
  }

  async status(name: string, signal: AbortSignal): Promise<string | null> {
    return (await this.#describe(name, signal))?.status ?? null;
  }

  async #describe(name: string, signal: AbortSignal) {
    try {
      return await withRetry(
        'DescribeExecution',
        () =>
          this.client.send(new DescribeExecutionCommand({ executionArn: this.#executionArn(name) }), {
            abortSignal: signal,
          }),
        this.retry,
        signal,
      );
    } catch (error) {
      if (error instanceof ExecutionDoesNotExist) return null;
      throw error;
    }
  }

  /** `arn:…:stateMachine:NAME` → `arn:…:execution:NAME:EXECUTION`. */
  #executionArn(name: string): string {
    return `${this.#stateMachineArn.replace(':stateMachine:', ':execution:')}:${name}`;
  }
}
