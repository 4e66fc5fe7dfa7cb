import { setTimeout as delay } from 'node:timers/promises';

/** Time as the adapters see it: for pacing, backoff and deadlines. */
export interface Clock {
  /** Epoch milliseconds. */
  now(): number;
  /** Resolves after `ms`; rejects with the signal's reason when it aborts first. */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
  /** Uniform in [0, 1), for backoff jitter: part of the clock so that a simulated run replays exactly. */
  random(): number;
}

/** Wall-clock time. */
export const systemClock: Clock = {
  now: () => Date.now(),
  sleep: async (ms, signal) => {
    if (ms <= 0) return signal?.throwIfAborted();
    await delay(ms, undefined, signal === undefined ? undefined : { signal });
  },
  random: () => Math.random(),
};
