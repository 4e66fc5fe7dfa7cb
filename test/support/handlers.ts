import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Context } from 'aws-lambda';

/** A Lambda handler as the runtime calls it. */
export type LambdaHandler<R = unknown> = (event: unknown, context: Context) => Promise<R>;

export const ROOT = resolve(import.meta.dirname, '../..');
export const FUNCTIONS = ['fleet-scan', 'scan-worker', 'alarm-triage'] as const;
export type FunctionName = (typeof FUNCTIONS)[number];

/**
 * Imports a function's handler module afresh (its configuration is read at import, from `env`). Each
 * call gets its own module instance, as a new Lambda execution environment would.
 */
export async function loadHandler<R = unknown>(
  name: FunctionName,
  env: Readonly<Record<string, string>>,
): Promise<LambdaHandler<R>> {
  Object.assign(process.env, env);
  const url = pathToFileURL(resolve(ROOT, 'functions', name, 'handler.ts'));
  url.search = `fresh=${fresh++}`;
  const module = (await import(/* @vite-ignore */ url.href)) as { handler: LambdaHandler<R> };
  return module.handler;
}
let fresh = 0;

/** A sample event from events/ (or any JSON file under the project), parsed afresh. */
export function readEvent(path: string): unknown {
  return JSON.parse(readFileSync(resolve(ROOT, path), 'utf8'));
}

/** A parsed JSON fixture, mutated one field at a time by the tests of bad events. */
// biome-ignore lint/suspicious/noExplicitAny: fixtures are free-form JSON; each test changes one known field
export type Json = any;
