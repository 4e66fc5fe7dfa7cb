import { type ParseArgsConfig, parseArgs } from 'node:util';
import { CrawlguardError } from '#core/errors.ts';

/** Wrong arguments to a local command: reported in one line, exit code 2. */
export class UsageError extends CrawlguardError {
  override readonly name = 'UsageError';
}

type Options = NonNullable<ParseArgsConfig['options']>;

/** Strict parseArgs with positionals; Node's own message, as a UsageError pointing at --help. */
export function parseCommandLine<const T extends Options>(argv: readonly string[], options: T) {
  try {
    return parseArgs({ args: [...argv], allowPositionals: true, strict: true, options });
  } catch (error) {
    throw new UsageError(`${(error as Error).message} (see --help)`, { cause: error });
  }
}
