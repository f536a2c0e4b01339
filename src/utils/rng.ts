/**
 * Seeded pseudo-random numbers (mulberry32) for reproducible sampling and data order.
 */

/** A seeded uniform [0, 1) generator. @category Utils */
export type Rng = () => number;

/**
 * @param seed Any integer; the same seed gives the same sequence.
 * @returns A function returning uniform numbers in [0, 1).
 * @example const rand = seededRng(0); rand();
 * @category Utils
 */
export function seededRng(seed: number): Rng {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** What {@link tfjsSeed} gives for 0 (an arbitrary fixed odd constant). */
const TFJS_SEED_FOR_ZERO = 0x2545f491;

/**
 * A seed for tfjs's random ops (`tf.randomNormal`, `tf.randomUniform`, `tf.dropout`, …). tfjs reads
 * its `seed` argument as `seed || Math.random()`, so seed 0 (the default of most of our seeds) silently
 * means "unseeded": every run differs. Every seed handed to tfjs goes through this function, which
 * maps 0 to a fixed constant and leaves every other value as it is (so runs with other seeds keep
 * their numbers).
 * @param seed An integer seed.
 * @returns A seed tfjs honours.
 * @throws Never.
 * @example tf.randomNormal([2, 2], 0, 1, 'float32', tfjsSeed(0)); // the same tensor every run
 * @category Utils
 */
export function tfjsSeed(seed: number): number {
  return seed === 0 || Number.isNaN(seed) ? TFJS_SEED_FOR_ZERO : seed;
}
