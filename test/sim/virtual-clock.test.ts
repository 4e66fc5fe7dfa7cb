import { describe, expect, it } from 'vitest';
import { holdClockDuringRequests, VirtualClock } from '#shared/sim/virtual-clock.ts';

describe('VirtualClock', () => {
  it('runs sleepers in order of wake-up time without waiting in real time', async () => {
    const clock = new VirtualClock(1_000);
    const woke: [string, number][] = [];
    const started = performance.now();
    await Promise.all(
      [
        ['c', 3_600_000],
        ['a', 10],
        ['b', 10],
        ['d', 0],
      ].map(async ([name, ms]) => {
        await clock.sleep(ms as number);
        woke.push([name as string, clock.now()]);
      }),
    );
    expect(woke).toEqual([
      ['d', 1_000],
      ['a', 1_010],
      ['b', 1_010],
      ['c', 3_601_000],
    ]);
    expect(performance.now() - started).toBeLessThan(500);
  });

  it('lets work that is ready run before moving time', async () => {
    const clock = new VirtualClock(0);
    const seen: number[] = [];
    const chain = async () => {
      await clock.sleep(100);
      seen.push(clock.now());
      await clock.sleep(50);
      seen.push(clock.now());
    };
    await Promise.all([chain(), clock.sleep(120).then(() => seen.push(clock.now()))]);
    expect(seen).toEqual([100, 120, 150]);
  });

  it('rejects a sleeper whose signal aborts, and forgets it', async () => {
    const clock = new VirtualClock(0);
    const aborter = new AbortController();
    const sleeping = clock.sleep(1_000, aborter.signal);
    aborter.abort(new Error('stop'));
    await expect(sleeping).rejects.toThrow('stop');
    await clock.sleep(10);
    expect(clock.now()).toBe(10);
  });

  it('draws reproducible jitter from its seed', () => {
    const a = new VirtualClock(0, 3);
    const b = new VirtualClock(0, 3);
    expect([a.random(), a.random()]).toEqual([b.random(), b.random()]);
  });
});

describe('VirtualClock.hold', () => {
  /** Real I/O: settles after `ms` of real time, which the clock cannot see. */
  const realIo = <T>(ms: number, value: T) =>
    new Promise<T>((resolve) => {
      setTimeout(() => resolve(value), ms);
    });

  it('wakes no sleeper while a held promise is pending, and keeps time exact', async () => {
    const clock = new VirtualClock(1_000);
    const events: string[] = [];
    const sleeper = clock.sleep(2 * 86_400_000).then(() => events.push(`woke at ${clock.now()}`));
    const io = clock.hold(realIo(30, 'response')).then((value) => events.push(`${value} at ${clock.now()}`));
    await Promise.all([sleeper, io]);
    expect(events).toEqual(['response at 1000', `woke at ${1_000 + 2 * 86_400_000}`]);
  });

  it('lets what the held work starts run before time moves on', async () => {
    const clock = new VirtualClock(0);
    const woke: [string, number][] = [];
    const later = clock.sleep(100).then(() => woke.push(['sleeper', clock.now()]));
    // A retry after the response: its backoff (10 ms) comes before the 100 ms sleeper.
    const retry = clock
      .hold(realIo(20, null))
      .then(() => clock.sleep(10))
      .then(() => woke.push(['backoff', clock.now()]));
    await Promise.all([later, retry]);
    expect(woke).toEqual([
      ['backoff', 10],
      ['sleeper', 100],
    ]);
  });

  it('waits for every overlapping hold, and releases one that rejects', async () => {
    const clock = new VirtualClock(0);
    const settled: string[] = [];
    const sleeper = clock.sleep(5).then(() => settled.push('sleeper'));
    const failing = clock.hold(
      realIo(10, null).then(() => {
        settled.push('failed');
        throw new Error('connection reset');
      }),
    );
    const slow = clock.hold(realIo(40, 'slow')).then((value) => settled.push(value));
    await expect(failing).rejects.toThrow('connection reset');
    await Promise.all([sleeper, slow]);
    expect(settled).toEqual(['failed', 'slow', 'sleeper']);
    expect(clock.now()).toBe(5);
  });

  it('holds the clock around each request of an SDK client it is applied to', async () => {
    const clock = new VirtualClock(0);
    const stack: ((next: (args: string) => Promise<string>) => (args: string) => Promise<string>)[] = [];
    const client = {
      middlewareStack: {
        add: (middleware: (typeof stack)[number], options: { readonly step: string }) => {
          expect(options.step).toBe('initialize');
          stack.push(middleware);
        },
      },
    };
    holdClockDuringRequests(client, clock);
    const send = (stack[0] as (typeof stack)[number])((args) => realIo(30, `sent ${args}`));
    let wokeAt = Number.NaN;
    const sleeper = clock.sleep(60_000).then(() => {
      wokeAt = clock.now();
    });
    expect(await send('GetItem')).toBe('sent GetItem');
    expect(Number.isNaN(wokeAt)).toBe(true);
    await sleeper;
    expect(wokeAt).toBe(60_000);
  });
});
