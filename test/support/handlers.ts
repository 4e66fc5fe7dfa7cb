import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { FUNCTIONS, type FunctionName } from '#shared/local/functions.ts';
import { invokeLambda } from '#shared/local/lambda.ts';
import { silentLogger } from '#shared/local/logger.ts';
import { RecordingPipelineMetrics } from '#shared/metrics.ts';
import type { PipelineMetrics } from '#shared/ports.ts';
import { SIMULATED_ACCOUNT, SIMULATED_REGION, type SimulatedFleet } from '#shared/sim/fleet.ts';
import { functionSettings } from '#shared/tooling/function-settings.ts';

export const ROOT = resolve(import.meta.dirname, '../..');
export type { FunctionName } from '#shared/local/functions.ts';
export const FUNCTION_NAMES = Object.keys(FUNCTIONS) as FunctionName[];

/** A function invoked as Lambda invokes it: resolves with what it returned, rejects with what it threw. */
export type Invoke<R = unknown> = (event: unknown) => Promise<R>;

export interface FunctionOptions {
  /** Environment variables on top of the simulated fleet's. */
  readonly env?: Readonly<Record<string, string>>;
  /** Overrides the template's Timeout. */
  readonly timeoutSeconds?: number;
  /** Where the function's pipeline metrics go (default: a recorder nobody reads). */
  readonly pipelineMetrics?: PipelineMetrics;
}

/**
 * A function of the stack on a simulated fleet: its handler built from the fleet's clients and clock, and
 * each call run through the Lambda emulator (a new context with the template's timeout on simulated time).
 */
export function simulatedFunction<R = unknown>(
  name: FunctionName,
  fleet: SimulatedFleet,
  options: FunctionOptions = {},
): Invoke<R> {
  const settings = functionSettings(resolve(ROOT, 'template.yaml'), name);
  if (settings === undefined) throw new Error(`template.yaml has no function ${name}`);
  const handler = FUNCTIONS[name](
    { ...settings.environment, ...fleet.environment, ...options.env },
    {
      clients: fleet.clients,
      clock: fleet.clock,
      logger: silentLogger(),
      pipelineMetrics: options.pipelineMetrics ?? new RecordingPipelineMetrics(),
    },
  );
  return async (event) => {
    const invocation = await invokeLambda(handler, event, {
      functionName: name,
      timeoutSeconds: options.timeoutSeconds ?? settings.timeoutSeconds,
      memorySizeMb: settings.memorySizeMb,
      region: SIMULATED_REGION,
      accountId: SIMULATED_ACCOUNT,
      clock: fleet.clock,
    });
    if (invocation.outcome === 'returned') return invocation.result as R;
    if (invocation.outcome === 'threw') throw invocation.error;
    throw new Error(`${name} timed out`);
  };
}

/** A sample event from events/ (or any JSON file under the project), parsed afresh. */
export function readEvent(path: string): unknown {
  return JSON.parse(readFileSync(resolve(ROOT, path), 'utf8'));
}

/** A parsed JSON fixture, mutated one field at a time by the tests of bad events. */
// biome-ignore lint/suspicious/noExplicitAny: fixtures are free-form JSON; each test changes one known field
export type Json = any;
