import type { LogItem } from '@aws-lambda-powertools/logger';
import { Logger } from '@aws-lambda-powertools/logger';

/** Log levels a local run accepts (Powertools' names). */
export const LOG_LEVELS = ['DEBUG', 'INFO', 'WARN', 'ERROR', 'SILENT'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/**
 * A Powertools logger that hands each JSON line to `write` instead of the process's stdout: a local run
 * keeps stdout for its own output (Lambda's logs are its stdout; here they go to stderr or a list).
 */
export class LocalLogger extends Logger {
  readonly #write: (line: string) => void;

  constructor(write: (line: string) => void, logLevel: LogLevel = 'INFO') {
    super({ serviceName: 'crawlguard', logLevel });
    this.#write = write;
  }

  protected override printLog(_logLevel: number, log: LogItem): void {
    // The base constructor may log (a warning) before this class's fields exist.
    if (!(#write in this)) return;
    log.prepareForPrint();
    this.#write(JSON.stringify(log.getAttributes()));
  }
}

/** A logger that prints nothing (tests that check outcomes, not logs). */
export function silentLogger(): Logger {
  return new LocalLogger(() => undefined, 'SILENT');
}
