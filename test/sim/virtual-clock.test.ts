import { describe, expect, it } from 'vitest';
import { VirtualClock } from '#shared/sim/virtual-clock.ts';

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
