import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';
import { it } from 'vitest';

/** True when running in CI, where a missing requirement is a failure, never a skip. */
export const IN_CI = process.env.CI === 'true';

/** Absolute path of `command` on PATH (plus the sbin directories root uses), or undefined. */
export function which(command: string): string | undefined {
  const dirs = [...(process.env.PATH ?? '').split(delimiter), '/usr/local/sbin', '/usr/sbin', '/sbin'];
  for (const dir of dirs) {
    const candidate = join(dir, command);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not in this directory
    }
  }
  return undefined;
}

/** A reason string listing the commands that are missing, or null when all exist. */
export function missingCommands(commands: readonly string[]): string | null {
  const missing = commands.filter((command) => which(command) === undefined);
  return missing.length === 0 ? null : `missing command(s): ${missing.join(', ')}`;
}

export type TestDeclaration = (name: string, body: () => unknown, timeoutMs?: number) => void;

/**
 * `it` for tests that need something from the machine. When `missing` is null the test runs. Otherwise
 * it is skipped with the reason printed, except in CI (`CI=true`), where it runs and fails with the reason.
 */
export function itRequires(missing: string | null): TestDeclaration {
  if (missing === null) return (name, body, timeoutMs) => it(name, body, timeoutMs);
  if (IN_CI) {
    return (name) =>
      it(name, () => {
        throw new Error(`requirement missing in CI: ${missing}`);
      });
  }
  console.warn(`skipping tests that need: ${missing}`);
  return (name, body, timeoutMs) => it.skipIf(true)(name, body, timeoutMs);
}
