/**
 * Seeded train/test splits: a Fisher–Yates shuffle of the indices with the mulberry32 generator
 * ({@link seededRng}), so the same seed always holds out the same items.
 */
import { ConfigError } from '../errors.js';
import { seededRng } from '../utils/rng.js';

/** Options of {@link seededSplit}. @category Data */
export interface SplitOptions {
  /** Fraction held out as the test part, in [0, 1]; the count is rounded to nearest. */
  readonly testFraction: number;
  /** Seed of the shuffle. */
  readonly seed: number;
}

/**
 * Split items at random, reproducibly. Both parts keep the items' original order.
 * @param items Items to split.
 * @param opts testFraction and seed.
 * @returns `{ train, test }` with `test.length = round(n · testFraction)`.
 * @throws {@link "tfjs-lens"!ConfigError} when testFraction is outside [0, 1] or the seed is not an integer.
 * @example const { train, test } = seededSplit(await loadSmsSpam(), { testFraction: 0.2, seed: 0 });
 * @category Data
 */
export function seededSplit<T>(items: readonly T[], opts: SplitOptions): {
  /** Items kept for training, in their original order. */
  train: T[];
  /** Items held out, in their original order. */
  test: T[];
} {
  const { testFraction, seed } = opts;
  if (!(testFraction >= 0 && testFraction <= 1)) throw new ConfigError(`seededSplit: testFraction must be in [0, 1], got ${testFraction}`);
  if (!Number.isInteger(seed)) throw new ConfigError(`seededSplit: seed must be an integer, got ${seed}`);
  const rand = seededRng(seed);
  const idx = items.map((_, i) => i);
  for (let i = idx.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [idx[i], idx[j]] = [idx[j] as number, idx[i] as number];
  }
  const nTest = Math.round(items.length * testFraction);
  const isTest = new Uint8Array(items.length);
  for (const i of idx.slice(0, nTest)) isTest[i] = 1;
  return { train: items.filter((_, i) => isTest[i] === 0), test: items.filter((_, i) => isTest[i] === 1) };
}
