/** Base class of every error crawlguard raises on purpose; anything else is a bug. */
export class CrawlguardError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** A metric series that cannot be analysed: mismatched lengths, values that are not numbers. */
export class InvalidSeriesError extends CrawlguardError {}

/** A detector option out of range, or a time zone that does not exist. */
export class InvalidOptionError extends CrawlguardError {}
