/**
 * Every function of the stack, by its folder name under functions/, built from explicit dependencies:
 * the local commands and the tests run the same `createHandler` that Lambda runs, with their own
 * clients, clock and logger.
 */

import type { Context } from 'aws-lambda';
import type { AwsClients } from '#aws/clients.ts';
import * as alarmTriage from '#functions/alarm-triage/app.ts';
import * as fleetScan from '#functions/fleet-scan/app.ts';
import * as remediate from '#functions/remediate/app.ts';
import * as scanWorker from '#functions/scan-worker/app.ts';
import * as workflowStep from '#functions/workflow-step/app.ts';
import type { Env } from '#shared/config.ts';
import type { HandlerRuntime } from '#shared/runtime.ts';
import type { LambdaHandler } from './lambda.ts';

/** Builds a function's handler from its environment variables and a runtime (clients, clock, logger). */
export type HandlerFactory = (env: Env, runtime: HandlerRuntime<AwsClients>) => LambdaHandler;

export const FUNCTIONS = {
  'alarm-triage': (env, runtime) => called(alarmTriage.createHandler(alarmTriage.depsFromEnv(env, runtime))),
  'fleet-scan': (env, runtime) => called(fleetScan.createHandler(fleetScan.depsFromEnv(env, runtime))),
  'scan-worker': (env, runtime) => called(scanWorker.createHandler(scanWorker.depsFromEnv(env, runtime))),
  remediate: (env, runtime) => called(remediate.createHandler(remediate.depsFromEnv(env, runtime))),
  'workflow-step': (env, runtime) =>
    called(workflowStep.createHandler(workflowStep.depsFromEnv(env, runtime))),
} satisfies Record<string, HandlerFactory>;

/** A middy handler as Lambda calls it: with the event and the context only. */
function called(handler: (event: unknown, context: Context) => Promise<unknown>): LambdaHandler {
  return (event, context) => handler(event, context);
}

export type FunctionName = keyof typeof FUNCTIONS;

export function isFunctionName(name: string): name is FunctionName {
  return Object.hasOwn(FUNCTIONS, name);
}
