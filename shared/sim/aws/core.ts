/**
 * The shared core of the AWS fakes: one simulated clock, one request log, the account's quotas as token
 * buckets, injected failures, latency and pagination. Each service fake (one file per service) registers
 * its commands on an aws-sdk-client-mock of a client instance and answers through {@link SimulatedAws.serve}.
 */
import { createHash } from 'node:crypto';
import { type AwsStub, mockClient } from 'aws-sdk-client-mock';
import type { Random } from '../random.ts';
import type { VirtualClock } from '../virtual-clock.ts';

export type SimulatedService = string;

/** A client mock of aws-sdk-client-mock, whatever the client. */
// biome-ignore lint/suspicious/noExplicitAny: one stub type for every SDK client's input and output unions
export type ClientMock = AwsStub<any, any, any>;

/** One call as the fakes received it. */
export interface RecordedRequest {
  readonly service: SimulatedService;
  /** The command's name without `Command`, e.g. `GetMetricData`. */
  readonly command: string;
  readonly input: unknown;
  /** Simulated time of arrival. */
  readonly at: number;
  /** 'ok', or the name of the error it got. */
  outcome: string;
}

/**
 * Every call the fakes received, in order, and a count per command. `limit` bounds what is kept in full
 * (the oldest records are dropped first, the counts stay exact), so that a run of 100,000 instances does
 * not hold every request's input.
 */
export class RequestLog {
  readonly #records: RecordedRequest[] = [];
  readonly #counts = new Map<string, number>();
  readonly #limit: number;
  #total = 0;
  #dropped = 0;

  constructor(limit = Number.POSITIVE_INFINITY) {
    this.#limit = limit;
  }

  add(record: RecordedRequest): void {
    this.#total += 1;
    this.#counts.set(record.command, (this.#counts.get(record.command) ?? 0) + 1);
    this.#records.push(record);
    if (this.#records.length > this.#limit * 2) {
      const excess = this.#records.length - this.#limit;
      this.#records.splice(0, excess);
      this.#dropped += excess;
    }
  }

  /** The records kept, oldest first (all of them unless a limit was set). */
  get records(): readonly RecordedRequest[] {
    return this.#records;
  }

  /** Calls received, of one command or in all (exact, whatever the limit). */
  count(command?: string): number {
    return command === undefined ? this.#total : (this.#counts.get(command) ?? 0);
  }

  /** Records dropped to stay within the limit. */
  get dropped(): number {
    return this.#dropped;
  }
}

/** A token bucket holding one second's worth of `ratePerSecond`. */
export class Bucket {
  readonly #rate: number;
  #tokens: number;
  #last: number;

  constructor(ratePerSecond: number, nowMs: number) {
    this.#rate = ratePerSecond;
    this.#tokens = ratePerSecond;
    this.#last = nowMs;
  }

  take(nowMs: number, cost: number): boolean {
    this.#tokens = Math.min(this.#rate, this.#tokens + ((nowMs - this.#last) / 1000) * this.#rate);
    this.#last = nowMs;
    if (this.#tokens < cost) return false;
    this.#tokens -= cost;
    return true;
  }
}

/**
 * A failure injected on purpose: the next `times` calls of `command` (whose input `matches`, if given)
 * fail with what `error` builds instead of being served. Faults are consumed in the order they were added.
 */
export interface InjectedFault {
  readonly command: string;
  readonly matches?: (input: unknown) => boolean;
  times: number;
  readonly error: () => Error;
}

export interface ServeOptions {
  /** The service's throttling error; raised when the command's bucket is empty. */
  readonly throttle?: () => Error;
  /** Quota units the call consumed (GetMetricData datapoints), known once `work` ran. */
  readonly cost?: () => number;
  /** The bucket the cost is taken from. */
  readonly costBucket?: Bucket;
  /** Latency on top of the command's own (e.g. proportional to the data returned). */
  readonly extraLatencyMs?: () => number;
}

export interface SimulatedAwsOptions {
  readonly clock: VirtualClock;
  readonly rng: Random;
  /** Milliseconds each command takes. */
  readonly latencyMs: Readonly<Record<string, number>>;
  /** Probability that a call with a quota is throttled although under it (AWS throttles on its own terms). */
  readonly throttle: number;
  /** Records kept in full by the request log (counts stay exact). Default: all. */
  readonly requestLogLimit?: number;
}

/** The simulated AWS account: what every service fake shares. */
export class SimulatedAws {
  readonly clock: VirtualClock;
  readonly rng: Random;
  readonly log: RequestLog;
  readonly #latencyMs: Readonly<Record<string, number>>;
  readonly #throttle: number;
  readonly #buckets = new Map<string, Bucket>();
  readonly #faults: InjectedFault[] = [];
  readonly #mocks: ClientMock[] = [];

  constructor(options: SimulatedAwsOptions) {
    this.clock = options.clock;
    this.rng = options.rng;
    this.log = new RequestLog(options.requestLogLimit);
    this.#latencyMs = options.latencyMs;
    this.#throttle = options.throttle;
  }

  /** A quota of `ratePerSecond` calls on `command` (one bucket per command). */
  limit(command: string, ratePerSecond: number): Bucket {
    const bucket = new Bucket(ratePerSecond, this.clock.now());
    this.#buckets.set(command, bucket);
    return bucket;
  }

  /** Makes the next calls of a command fail (see {@link InjectedFault}). */
  inject(fault: InjectedFault): void {
    this.#faults.push(fault);
  }

  /** Records the call, applies injected faults and throttling, runs the fake, then waits its latency. */
  async serve<T>(
    service: SimulatedService,
    command: string,
    input: unknown,
    work: () => T | Promise<T>,
    options: ServeOptions = {},
  ): Promise<T> {
    const record: RecordedRequest = { service, command, input, at: this.clock.now(), outcome: 'ok' };
    this.log.add(record);
    try {
      const fault = this.#faults.find(
        (f) => f.times > 0 && f.command === command && (f.matches?.(input) ?? true),
      );
      if (fault !== undefined) {
        fault.times -= 1;
        throw fault.error();
      }
      const bucket = this.#buckets.get(command);
      if (bucket !== undefined && options.throttle !== undefined) {
        if (!bucket.take(this.clock.now(), 1) || this.rng.chance(this.#throttle)) throw options.throttle();
      }
      const result = await work();
      if (options.costBucket !== undefined && options.throttle !== undefined) {
        if (!options.costBucket.take(this.clock.now(), options.cost?.() ?? 0)) throw options.throttle();
      }
      await this.clock.sleep((this.#latencyMs[command] ?? 0) + (options.extraLatencyMs?.() ?? 0));
      return result;
    } catch (error) {
      record.outcome = error instanceof Error ? error.name : 'error';
      throw error;
    }
  }

  /**
   * Mocks one SDK client instance for `service`. A command nobody simulates is recorded with outcome
   * `NotSimulated` and fails with a message naming it, instead of answering undefined.
   */
  mock(service: SimulatedService, client: Parameters<typeof mockClient>[0]): ClientMock {
    const stub: ClientMock = mockClient(client);
    stub.send.callsFake(async (command: { constructor: { name: string }; input: unknown }) => {
      const name = command.constructor.name.replace(/Command$/, '');
      this.log.add({
        service,
        command: name,
        input: command.input,
        at: this.clock.now(),
        outcome: 'NotSimulated',
      });
      throw new Error(
        `the simulated fleet does not simulate ${service} ${name}; add it with fleet.mocks.${service}.on(...)`,
      );
    });
    this.#mocks.push(stub);
    return stub;
  }

  /** Removes every mock (the client instances talk to nothing afterwards but are not reused). */
  restore(): void {
    for (const stub of this.#mocks) stub.restore();
  }
}

/**
 * One page of `items` from an opaque token (`scope:offset`, base64), as the services page.
 * @throws what `invalid` builds for a token that is not one of this scope's.
 */
export function paginate<T>(
  items: readonly T[],
  token: string | undefined,
  pageSize: number,
  scope: string,
  invalid: () => Error,
): { page: T[]; nextToken: string | undefined } {
  let offset = 0;
  if (token !== undefined) {
    const match = new RegExp(`^${scope}:(\\d+)$`).exec(Buffer.from(token, 'base64').toString());
    if (match === null) throw invalid();
    offset = Number(match[1]);
  }
  const size = Math.max(1, pageSize);
  const page = items.slice(offset, offset + size);
  const nextToken =
    offset + size < items.length ? Buffer.from(`${scope}:${offset + size}`).toString('base64') : undefined;
  return { page, nextToken };
}

/** A service exception as the SDK builds it from a response (`name`, `$fault`, status). */
export function serviceError<E extends Error>(
  Exception: new (options: {
    name: string;
    $fault: 'client' | 'server';
    $metadata: { httpStatusCode: number };
    message: string;
  }) => E,
  name: string,
  message: string,
  status = 400,
): E {
  return new Exception({
    name,
    $fault: status >= 500 ? 'server' : 'client',
    $metadata: { httpStatusCode: status },
    message,
  });
}

/** A deterministic id that looks like a UUID. */
export function opaqueId(text: string, n: number): string {
  const h = createHash('sha256').update(`${n}\n${text}`).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`;
}

export const md5 = (text: string): string => createHash('md5').update(text).digest('hex');
export const shortHash = (text: string): string =>
  createHash('sha256').update(text).digest('hex').slice(0, 16);
