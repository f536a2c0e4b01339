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
