import { CrawlguardError } from '#core/errors.ts';

/** Stopped before the Lambda deadline; nothing of the unfinished work was published. */
export class DeadlineError extends CrawlguardError {
  override readonly name = 'DeadlineError';
}
