/**
 * The remediation workflows, run locally from the same ASL files the template deploys, by
 * aws-local-stepfunctions. Every Task state is bound by its Resource to what it would call in AWS:
 * `lambda:invoke` to the function's handler through the Lambda emulator, `aws-sdk:ssm:*` to the SSM client
 * (with Step Functions' error names, e.g. `Ssm.InvocationDoesNotExistException`), `states:startExecution.sync:2`
 * to a nested local execution, `.waitForTaskToken` to a token this runner holds until SendTaskSuccess or
 * SendTaskFailure (or its timeout on the injected clock). Wait states are overridden to 0: the step that
 * schedules a wait returns `waitUntil`, and its binding sleeps until then on the injected clock.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as ssm from '@aws-sdk/client-ssm';
import { ExecutionError, StateMachine } from 'aws-local-stepfunctions';
import type { Clock } from '#shared/clock.ts';
import type { Invocation } from './lambda.ts';

/** The definitions this project deploys, by the template's logical id of their state machine. */
export const STATE_MACHINES = {
  remediation: 'remediation.asl.json',
  runCommand: 'run-command.asl.json',
} as const;
export type StateMachineName = keyof typeof STATE_MACHINES;

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
interface Retrier {
  readonly ErrorEquals: readonly string[];
  readonly IntervalSeconds?: number;
  readonly MaxAttempts?: number;
  readonly BackoffRate?: number;
  readonly MaxDelaySeconds?: number;
  readonly JitterStrategy?: 'FULL' | 'NONE';
}

// States.ALL matches every error but States.Runtime; States.TaskFailed every error of a task but a timeout.
function retrierMatches(retrier: Retrier, name: string): boolean {
  return retrier.ErrorEquals.some(
    (equals) =>
      equals === name ||
      (equals === 'States.ALL' && name !== 'States.Runtime') ||
      (equals === 'States.TaskFailed' && name !== 'States.Timeout' && name !== 'States.Runtime'),
  );
}

type Definition = { StartAt: string; States: Record<string, Record<string, Json>> } & Record<string, Json>;

/** A definition file with its `${...}` substitutions made, as DefinitionSubstitutions makes them. */
export function loadDefinition(
  root: string,
  name: StateMachineName,
  substitutions: Readonly<Record<string, string>>,
): Definition {
  const text = readFileSync(join(root, STATE_MACHINES[name]), 'utf8').replace(
    /\$\{(\w+)\}/g,
    (_whole, key: string) => {
      const value = substitutions[key];
      if (value === undefined)
        throw new Error(`${STATE_MACHINES[name]} uses \${${key}}, which no substitution provides`);
      return value;
    },
  );
  return JSON.parse(text) as Definition;
}

/** One local execution, as DescribeExecution would report it. */
export interface LocalExecution {
  readonly stateMachine: StateMachineName;
  readonly name: string;
  readonly executionArn: string;
  readonly input: string;
  readonly startDate: Date;
  status: 'RUNNING' | 'SUCCEEDED' | 'FAILED' | 'TIMED_OUT' | 'ABORTED';
  stopDate: Date | null;
  output: unknown;
  error: string | null;
  cause: string | null;
  /** History events so far (Step Functions caps an execution at 25,000). */
  events: number;
  /** Settles when the execution ends (never rejects). */
  readonly done: Promise<void>;
}

export interface LocalStepFunctionsOptions {
  readonly root: string;
  readonly region: string;
  readonly accountId: string;
  /** `${...}` values of the definitions (the template's DefinitionSubstitutions). */
  readonly substitutions: Readonly<Record<string, string>>;
  /** Lambda functions by ARN: what `lambda:invoke` reaches, run through the emulator. */
  readonly lambdas: Readonly<Record<string, (payload: unknown) => Promise<Invocation<unknown>>>>;
  /** What `aws-sdk:ssm:*` reaches. */
  readonly ssm: ssm.SSMClient;
  readonly clock: Clock;
  /** Called for every execution event (progress, tests). */
  readonly onEvent?: (
    execution: LocalExecution,
    event: { readonly type: string; readonly state?: string },
  ) => void;
}

/** A task waiting for its token (`.waitForTaskToken`). */
interface Waiting {
  readonly resolve: (output: Json) => void;
  readonly reject: (error: Error) => void;
}

/** Step Functions' execution-level behaviour for the local definitions: start by name, describe, tokens. */
export class LocalStepFunctions {
  #options: LocalStepFunctionsOptions;
  #definitions: Record<StateMachineName, Definition>;
  readonly #executions = new Map<string, LocalExecution>();
  readonly #machines = new Map<StateMachineName, StateMachine>();
  readonly #waiting = new Map<string, Waiting>();
  #tokens = 0;

  constructor(options: LocalStepFunctionsOptions) {
    this.#options = options;
    this.#definitions = {
      remediation: loadDefinition(options.root, 'remediation', options.substitutions),
      runCommand: loadDefinition(options.root, 'runCommand', options.substitutions),
    };
  }

  /**
   * Deploys the definitions again with other substitutions (a stack parameter changed). As in Step
   * Functions, executions already running finish on the definition they started with.
   */
  redeploy(substitutions: Readonly<Record<string, string>>): void {
    this.#options = { ...this.#options, substitutions: { ...this.#options.substitutions, ...substitutions } };
    this.#definitions = {
      remediation: loadDefinition(this.#options.root, 'remediation', this.#options.substitutions),
      runCommand: loadDefinition(this.#options.root, 'runCommand', this.#options.substitutions),
    };
    this.#machines.clear();
  }

  /** The ARN a state machine gets in this account and region. */
  stateMachineArn(name: StateMachineName): string {
    return `arn:aws:states:${this.#options.region}:${this.#options.accountId}:stateMachine:crawlguard-${name}`;
  }

  /** Every execution so far, oldest first. */
  get executions(): readonly LocalExecution[] {
    return [...this.#executions.values()];
  }

  /**
   * Starts an execution. As Step Functions: the same name and input while it runs return it again;
   * another input, or a name that has ended, fails with ExecutionAlreadyExists.
   */
  start(stateMachine: StateMachineName, name: string, input: string): LocalExecution {
    const key = `${stateMachine}:${name}`;
    const existing = this.#executions.get(key);
    if (existing !== undefined) {
      if (existing.status === 'RUNNING' && existing.input === input) return existing;
      throw Object.assign(new Error(`Execution Already Exists: '${existing.executionArn}'`), {
        name: 'ExecutionAlreadyExists',
      });
    }
    const executionArn = `${this.stateMachineArn(stateMachine).replace(':stateMachine:', ':execution:')}:${name}`;
    let finish: () => void = () => undefined;
    const execution: LocalExecution = {
      stateMachine,
      name,
      executionArn,
      input,
      startDate: new Date(this.#options.clock.now()),
      status: 'RUNNING',
      stopDate: null,
      output: null,
      error: null,
      cause: null,
      events: 0,
      done: new Promise<void>((resolve) => {
        finish = resolve;
      }),
    };
    this.#executions.set(key, execution);
    void this.#run(execution, JSON.parse(input) as Json).finally(finish);
    return execution;
  }

  describe(stateMachine: StateMachineName, name: string): LocalExecution | undefined {
    return this.#executions.get(`${stateMachine}:${name}`);
  }

  /** Resumes the task waiting for `token` with `output`. @throws TaskTimedOut for an unknown token. */
  sendTaskSuccess(token: string, output: Json): void {
    this.#take(token).resolve(output);
  }

  /** Fails the task waiting for `token` with `error` (matched by the state's Catch). */
  sendTaskFailure(token: string, error: string, cause: string): void {
    this.#take(token).reject(Object.assign(new Error(cause), { name: error }));
  }

  /** Settles once no execution is running. */
  async idle(): Promise<void> {
    for (;;) {
      const running = this.executions.filter((e) => e.status === 'RUNNING');
      if (running.length === 0) return;
      await Promise.all(running.map((e) => e.done));
    }
  }

  #take(token: string): Waiting {
    const waiting = this.#waiting.get(token);
    if (waiting === undefined) {
      throw Object.assign(new Error('Task Timed Out or the token is not valid'), { name: 'TaskTimedOut' });
    }
    this.#waiting.delete(token);
    return waiting;
  }

  async #run(execution: LocalExecution, input: Json): Promise<void> {
    const definition = this.#definitions[execution.stateMachine];
    // Validated and built once per state machine (ajv compiles the ASL schema each time otherwise).
    let machine = this.#machines.get(execution.stateMachine);
    if (machine === undefined) {
      machine = new StateMachine(withoutTaskTimeouts(definition) as never, {
        validationOptions: { checkArn: true },
      });
      this.#machines.set(execution.stateMachine, machine);
    }
    this.#tokens += 1;
    const token = `local-token-${this.#tokens}-${execution.name}`;
    const run = machine.run(input as never, {
      overrides: {
        taskResourceLocalHandlers: this.#bindings(definition, token),
        waitTimeOverrides: Object.fromEntries(
          allStates(definition)
            .filter(([, state]) => state.Type === 'Wait')
            .map(([name]) => [name, 0]),
        ),
        retryIntervalOverrides: Object.fromEntries(
          allStates(definition)
            .filter(([, state]) => Array.isArray(state.Retry))
            .map(([name]) => [name, 0]),
        ),
      },
      context: {
        Execution: {
          Id: execution.executionArn,
          Name: execution.name,
          Input: input,
          StartTime: execution.startDate.toISOString(),
        },
        StateMachine: {
          Id: this.stateMachineArn(execution.stateMachine),
          Name: `crawlguard-${execution.stateMachine}`,
        },
        Task: { Token: token },
      } as never,
    });
    const counting = (async () => {
      for await (const event of run.eventLogs) {
        execution.events += 1;
        const state = (event as { state?: { name?: string } }).state?.name;
        this.#options.onEvent?.(execution, { type: event.type, ...(state === undefined ? {} : { state }) });
      }
    })();
    try {
      execution.output = await run.result;
      execution.status = 'SUCCEEDED';
    } catch (error) {
      execution.status = 'FAILED';
      const cause = error instanceof ExecutionError ? ((error as { cause?: unknown }).cause ?? error) : error;
      execution.error = cause instanceof Error ? cause.name : 'States.Runtime';
      execution.cause = cause instanceof Error ? cause.message : String(cause);
    }
    execution.stopDate = new Date(this.#options.clock.now());
    await counting.catch(() => undefined);
  }

  /** A local handler for every Task state, chosen by its Resource. */
  #bindings(definition: Definition, token: string): Record<string, (input: Json) => Promise<Json>> {
    const handlers: Record<string, (input: Json) => Promise<Json>> = {};
    for (const [name, state] of allStates(definition)) {
      if (state.Type !== 'Task') continue;
      const resource = String(state.Resource);
      if (resource === 'arn:aws:states:::lambda:invoke') handlers[name] = (input) => this.#invoke(input);
      else if (resource === 'arn:aws:states:::lambda:invoke.waitForTaskToken')
        handlers[name] = (input) => this.#invokeAndWait(input, token, state);
      else if (resource.startsWith('arn:aws:states:::aws-sdk:ssm:'))
        handlers[name] = (input) => this.#ssm(resource.slice('arn:aws:states:::aws-sdk:ssm:'.length), input);
      else if (resource === 'arn:aws:states:::states:startExecution.sync:2')
        handlers[name] = (input) => this.#child(input);
      else throw new Error(`state ${name}: no local binding for ${resource}`);
      handlers[name] = this.#retryIntervals(state, handlers[name] as (input: Json) => Promise<Json>);
    }
    return handlers;
  }

  /**
   * The engine retries at once (its intervals are overridden to 0, they would be real time): before a
   * failure reaches it, sleep the interval the state's matching retrier asks for on the injected clock,
   * so that throttling buckets refill and backoff costs simulated time as it would deployed.
   */
  #retryIntervals(
    state: Record<string, Json>,
    handler: (input: Json) => Promise<Json>,
  ): (input: Json) => Promise<Json> {
    const retriers = (Array.isArray(state.Retry) ? state.Retry : []) as unknown as readonly Retrier[];
    const attempts = retriers.map(() => 0);
    return async (input) => {
      try {
        const output = await handler(input);
        attempts.fill(0);
        return output;
      } catch (error) {
        const name = error instanceof Error ? error.name : '';
        const index = retriers.findIndex((retrier) => retrierMatches(retrier, name));
        const retrier = retriers[index];
        if (retrier !== undefined && (attempts[index] as number) < (retrier.MaxAttempts ?? 3)) {
          const n = attempts[index] as number;
          attempts[index] = n + 1;
          const ceiling = (retrier.IntervalSeconds ?? 1) * (retrier.BackoffRate ?? 2) ** n;
          const capped = Math.min(ceiling, retrier.MaxDelaySeconds ?? Number.POSITIVE_INFINITY);
          const seconds = retrier.JitterStrategy === 'FULL' ? this.#options.clock.random() * capped : capped;
          await this.#options.clock.sleep(seconds * 1000);
        }
        throw error;
      }
    };
  }

  async #invoke(input: Json): Promise<Json> {
    const { FunctionName, Payload } = input as { FunctionName: string; Payload: Json };
    const lambda = this.#options.lambdas[FunctionName];
    if (lambda === undefined)
      throw Object.assign(new Error(`Function not found: ${FunctionName}`), {
        name: 'Lambda.ResourceNotFoundException',
      });
    const invocation = await lambda(Payload);
    if (invocation.outcome === 'timed-out') {
      throw Object.assign(new Error('Task timed out'), { name: 'Sandbox.Timedout' });
    }
    if (invocation.outcome === 'threw') {
      // Step Functions reports a function's error by its errorType.
      throw Object.assign(new Error(invocation.errorMessage), { name: invocation.errorType });
    }
    await this.#sleepUntil(invocation.result);
    return { StatusCode: 200, ExecutedVersion: '$LATEST', Payload: toJson(invocation.result) };
  }

  /** The function stores the token and tells a person; the task waits for SendTaskSuccess/Failure or its timeout. */
  async #invokeAndWait(input: Json, token: string, state: Record<string, Json>): Promise<Json> {
    const decided = new Promise<Json>((resolve, reject) => this.#waiting.set(token, { resolve, reject }));
    try {
      await this.#invoke(input);
    } catch (error) {
      this.#waiting.delete(token);
      throw error;
    }
    const seconds = timeoutOf(state, input);
    if (seconds === null) return decided;
    const timeout = this.#options.clock.sleep(seconds * 1000).then(() => {
      if (!this.#waiting.has(token)) return null;
      this.#waiting.delete(token);
      throw Object.assign(new Error(`no answer within ${seconds} s`), { name: 'States.Timeout' });
    });
    return (await Promise.race([decided, timeout.then(() => decided)])) as Json;
  }

  async #ssm(action: string, input: Json): Promise<Json> {
    const commandName = `${action.charAt(0).toUpperCase()}${action.slice(1)}Command`;
    const Command = (ssm as unknown as Record<string, new (input: unknown) => unknown>)[commandName];
    if (Command === undefined) throw new Error(`@aws-sdk/client-ssm has no ${commandName}`);
    try {
      const output = await this.#options.ssm.send(new Command(input) as never);
      const { $metadata: _, ...rest } = output as unknown as Record<string, unknown>;
      return toJson(rest);
    } catch (error) {
      const name = error instanceof Error ? error.name : 'Error';
      // Step Functions names SDK errors <Service>.<Name>Exception (always with the suffix).
      throw Object.assign(new Error(error instanceof Error ? error.message : String(error)), {
        name: `Ssm.${name.endsWith('Exception') ? name : `${name}Exception`}`,
      });
    }
  }

  /** `startExecution.sync:2`: the child runs to its end; its output comes back as JSON. */
  async #child(input: Json): Promise<Json> {
    const { StateMachineArn, Name, Input } = input as { StateMachineArn: string; Name: string; Input: Json };
    const stateMachine = (Object.keys(STATE_MACHINES) as StateMachineName[]).find(
      (key) => this.stateMachineArn(key) === StateMachineArn,
    );
    if (stateMachine === undefined)
      throw Object.assign(new Error(`no state machine ${StateMachineArn}`), {
        name: 'StepFunctions.StateMachineDoesNotExistException',
      });
    let child: LocalExecution;
    try {
      child = this.start(stateMachine, Name, JSON.stringify(Input));
    } catch (error) {
      throw Object.assign(new Error((error as Error).message), {
        name: 'StepFunctions.ExecutionAlreadyExistsException',
      });
    }
    await child.done;
    if (child.status !== 'SUCCEEDED') {
      throw Object.assign(new Error(`${child.error}: ${child.cause}`), { name: 'States.TaskFailed' });
    }
    return { ExecutionArn: child.executionArn, Status: 'SUCCEEDED', Output: child.output as Json, Name };
  }

  /** A step that scheduled a wait returns `waitUntil`: the wait passes here, on the injected clock. */
  async #sleepUntil(result: unknown): Promise<void> {
    const until = (result as { waitUntil?: unknown } | null)?.waitUntil;
    if (typeof until !== 'string') return;
    const ms = Date.parse(until) - this.#options.clock.now();
    if (ms > 0) await this.#options.clock.sleep(ms);
  }
}

/**
 * A task's timeout in seconds: `TimeoutSeconds`, or `TimeoutSecondsPath` read from the state's input,
 * which the binding sees as `Payload.state` (the approval tasks pass their whole input there).
 */
function timeoutOf(state: Record<string, Json>, input: Json): number | null {
  if (typeof state.TimeoutSeconds === 'number') return state.TimeoutSeconds;
  const path = state.TimeoutSecondsPath;
  if (typeof path !== 'string' || !path.startsWith('$.')) return null;
  let value: unknown = (input as { Payload?: { state?: unknown } }).Payload?.state;
  for (const key of path.slice(2).split('.'))
    value = (value as Record<string, unknown> | null | undefined)?.[key];
  return typeof value === 'number' ? value : null;
}

/**
 * The definition with its Task timeouts taken out: the bindings apply them on the injected clock (a
 * timeout of days must pass in simulated time), and the runner would evaluate TimeoutSecondsPath against
 * the task's processed input instead of the state's input. In their place every Task gets the longest
 * real-time timeout, so that a task slow in real time (a loaded machine) is not failed by the runner.
 */
const REAL_TIME_TASK_TIMEOUT_SECONDS = Math.floor(2_147_483_647 / 1000);

function withoutTaskTimeouts(definition: Definition): Definition {
  const states = Object.fromEntries(
    Object.entries(definition.States).map(([name, state]) => {
      if (state.Type === 'Parallel' && Array.isArray(state.Branches))
        return [
          name,
          { ...state, Branches: (state.Branches as unknown as Definition[]).map(withoutTaskTimeouts) },
        ];
      if (state.Type !== 'Task') return [name, state];
      const { TimeoutSeconds: _seconds, TimeoutSecondsPath: _path, ...rest } = state;
      // Without one the runner times a task out after 60 s of real time (Step Functions: 99999999 s);
      // this is the longest a real-time timer holds.
      return [name, { ...rest, TimeoutSeconds: REAL_TIME_TASK_TIMEOUT_SECONDS }];
    }),
  );
  return { ...definition, States: states } as Definition;
}

/**
 * Every state by name, those in Parallel branches too (the runner's overrides are by state name, and
 * it passes them to the branches; state names are unique across the whole definition).
 */
function allStates(definition: Definition): [string, Record<string, Json>][] {
  return Object.entries(definition.States).flatMap(([name, state]) => [
    [name, state] as [string, Record<string, Json>],
    ...(state.Type === 'Parallel' && Array.isArray(state.Branches)
      ? (state.Branches as unknown as Definition[]).flatMap(allStates)
      : []),
  ]);
}

/** What crosses a Step Functions boundary is JSON (Dates become ISO strings). */
function toJson(value: unknown): Json {
  return JSON.parse(JSON.stringify(value ?? null)) as Json;
}
