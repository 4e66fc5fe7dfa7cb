import { InvalidOptionError } from './errors.ts';

/** A share of an API quota: calls per second and, for GetMetricData, datapoints per second. */
export interface RateLimits {
  readonly requestsPerSecond: number;
  readonly datapointsPerSecond?: number;
}

/**
 * Spaces calls so that they stay under a quota instead of running into throttling: each call books its
 * start time, no earlier than the previous start plus the time its predecessor's cost takes at the
 * allowed rate. Pure: the caller passes the current time and waits the returned delay.
 */
export class Pacer {
  readonly #requestGapMs: number;
  readonly #msPerDatapoint: number;
  #nextRequestAt = Number.NEGATIVE_INFINITY;
  #nextDatapointAt = Number.NEGATIVE_INFINITY;

  constructor(limits: RateLimits) {
    if (!(limits.requestsPerSecond > 0) || !Number.isFinite(limits.requestsPerSecond)) {
      throw new InvalidOptionError(
        `requests per second must be a positive number, got ${limits.requestsPerSecond}`,
      );
    }
    const dps = limits.datapointsPerSecond;
    if (dps !== undefined && (!(dps > 0) || !Number.isFinite(dps))) {
      throw new InvalidOptionError(`datapoints per second must be a positive number, got ${dps}`);
    }
    this.#requestGapMs = 1000 / limits.requestsPerSecond;
    this.#msPerDatapoint = dps === undefined ? 0 : 1000 / dps;
  }

  /** Books a call costing `datapoints` and returns how long to wait before sending it. */
  reserve(nowMs: number, datapoints = 0): number {
    const start = Math.max(nowMs, this.#nextRequestAt, this.#nextDatapointAt);
    this.#nextRequestAt = start + this.#requestGapMs;
    this.#nextDatapointAt = start + datapoints * this.#msPerDatapoint;
    return start - nowMs;
  }
}
