/**
 * Base class of every error crawlguard raises on purpose; anything else is a bug.
 *
 * Every subclass declares `override readonly name = '<ClassName>'`: the bundles are minified, which
 * renames classes, and callers (Step Functions Retry/Catch, the adapters, logs) match errors by name.
 */
export class CrawlguardError extends Error {
  override readonly name: string = 'CrawlguardError';
}

/** A metric series that cannot be analysed: mismatched lengths, values that are not numbers. */
export class InvalidSeriesError extends CrawlguardError {
  override readonly name = 'InvalidSeriesError';
}

/** A detector option out of range, or a time zone that does not exist. */
export class InvalidOptionError extends CrawlguardError {
  override readonly name = 'InvalidOptionError';
}
