import type { Clock } from '#shared/clock.ts';
import { type Random, seededRandom } from './random.ts';

interface Timer {
  readonly at: number;
  readonly seq: number;
  readonly resolve: () => void;
}

/**
 * Simulated time that runs itself: whenever nothing but sleepers is left to run (checked with
 * setImmediate, after every pending promise callback), it jumps to the earliest sleeper's wake-up time.
 * Code under test sleeps for minutes of throttling and backoff in microseconds of real time, with no
 * fake timers to drive by hand; real timers (setTimeout) are left alone. Real I/O (a request to a local
 * server) is invisible to that check: `hold` it, and time stands still until it settles.
 */
export class VirtualClock implements Clock {
  #now: number;
  #seq = 0;
  #timers: Timer[] = [];
  #driving = false;
  #holds = 0;
  #whenReleased: (() => void)[] = [];
  readonly #random: Random;

  constructor(startMs: number, seed = 1) {
    this.#now = startMs;
    this.#random = seededRandom(seed);
  }

  random(): number {
    return this.#random.next();
  }

  now(): number {
    return this.#now;
  }

  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    if (signal?.aborted) return Promise.reject(signal.reason);
    return new Promise<void>((resolve, reject) => {
      const timer: Timer = {
        at: this.#now + Math.max(0, ms),
        seq: this.#seq++,
        resolve: () => {
          signal?.removeEventListener('abort', onAbort);
          resolve();
        },
      };
      const onAbort = (): void => {
        this.#timers = this.#timers.filter((t) => t !== timer);
        reject(signal?.reason);
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.#insert(timer);
      void this.#drive();
    });
  }

  /**
   * Holds time still until `work` settles: while any hold is pending no sleeper wakes, so a simulated
   * wait elsewhere cannot complete while real I/O is in flight. Returns what `work` returns.
   */
  hold<T>(work: Promise<T>): Promise<T> {
    this.#holds += 1;
    return work.finally(() => {
      this.#holds -= 1;
      if (this.#holds > 0) return;
      const waiting = this.#whenReleased;
      this.#whenReleased = [];
      for (const resume of waiting) resume();
    });
  }

  /** Moves time forward by hand (for tests that need an instant later than now). */
  advance(ms: number): void {
    this.#now += Math.max(0, ms);
  }

  #insert(timer: Timer): void {
    // Sorted by wake-up time, then by arrival: ties wake in the order they went to sleep.
    let low = 0;
    let high = this.#timers.length;
    while (low < high) {
      const mid = (low + high) >>> 1;
      const other = this.#timers[mid] as Timer;
      if (other.at < timer.at || (other.at === timer.at && other.seq < timer.seq)) low = mid + 1;
      else high = mid;
    }
    this.#timers.splice(low, 0, timer);
  }

  async #drive(): Promise<void> {
    if (this.#driving) return;
    this.#driving = true;
    try {
      while (this.#timers.length > 0) {
        // Let every runnable task go first: they may add earlier timers.
        await new Promise<void>((resolve) => setImmediate(resolve));
        if (this.#holds > 0) {
          // Real I/O in flight: wait for it, then let what it wakes run before time moves.
          await new Promise<void>((resolve) => this.#whenReleased.push(resolve));
          continue;
        }
        const next = this.#timers.shift();
        if (next === undefined) break;
        this.#now = Math.max(this.#now, next.at);
        next.resolve();
      }
    } finally {
      this.#driving = false;
    }
  }
}

/** The part of an AWS SDK client's middleware stack that `holdClockDuringRequests` uses. */
interface MiddlewareStackOf<Args, Output> {
  add(
    middleware: (next: (args: Args) => Promise<Output>) => (args: Args) => Promise<Output>,
    options: { readonly step: 'initialize'; readonly name: string; readonly priority: 'high' },
  ): void;
}

/**
 * Makes every request of an SDK client hold `clock` (see `VirtualClock.hold`), from the first middleware
 * to the parsed response: for clients that talk to a real local server while the clock is simulated.
 */
export function holdClockDuringRequests<Args, Output>(
  client: { readonly middlewareStack: MiddlewareStackOf<Args, Output> },
  clock: VirtualClock,
): void {
  client.middlewareStack.add((next) => (args) => clock.hold(next(args)), {
    step: 'initialize',
    name: 'holdVirtualClock',
    priority: 'high',
  });
}
