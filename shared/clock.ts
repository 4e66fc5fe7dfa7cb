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

let active: Clock = systemClock;

/**
 * The clock handlers use. It is the system clock, unless the simulated fleet swapped in its virtual
 * time (`installSimulatedFleet`), so that a scan of hours of simulated throttling runs in seconds.
 */
export const runtimeClock: Clock = {
  now: () => active.now(),
  sleep: (ms, signal) => active.sleep(ms, signal),
  random: () => active.random(),
};

/** Makes `clock` the runtime clock; returns a function that restores the system clock. */
export function useRuntimeClock(clock: Clock): () => void {
  active = clock;
  return () => {
    active = systemClock;
  };
}
