import { xoroshiro128plus } from 'pure-rand';

/** A seeded source of random numbers, so that every generated scenario can be replayed from its seed. */
export interface Random {
  /** Uniform in [0, 1). */
  next(): number;
  uniform(min: number, max: number): number;
  int(minInclusive: number, maxInclusive: number): number;
  normal(mean?: number, sd?: number): number;
  logNormal(median: number, sigma: number): number;
  chance(p: number): boolean;
  pick<T>(items: readonly T[]): T;
}

/** Builds a {@link Random} from a seed (xoroshiro128+ from pure-rand). */
export function seededRandom(seed: number): Random {
  const generator = xoroshiro128plus(seed);
  // The first outputs of xoroshiro128+ from a small seed are close to its seed: skip them.
  for (let i = 0; i < 16; i += 1) generator.unsafeNext();
  const next = (): number => (generator.unsafeNext() >>> 0) / 4_294_967_296;
  let spareNormal: number | undefined;
  const standardNormal = (): number => {
    if (spareNormal !== undefined) {
      const value = spareNormal;
      spareNormal = undefined;
      return value;
    }
    // Box–Muller: two uniforms give two independent normals.
    const u = Math.max(next(), Number.MIN_VALUE);
    const v = next();
    const radius = Math.sqrt(-2 * Math.log(u));
    spareNormal = radius * Math.sin(2 * Math.PI * v);
    return radius * Math.cos(2 * Math.PI * v);
  };
  return {
    next,
    uniform: (min, max) => min + (max - min) * next(),
    int: (min, max) => min + Math.floor(next() * (max - min + 1)),
    normal: (mean = 0, sd = 1) => mean + sd * standardNormal(),
    logNormal: (median, sigma) => median * Math.exp(sigma * standardNormal()),
    chance: (p) => next() < p,
    pick: <T>(items: readonly T[]): T => {
      const item = items[Math.floor(next() * items.length)];
      if (item === undefined) throw new RangeError('pick() from an empty list');
      return item;
    },
  };
}
