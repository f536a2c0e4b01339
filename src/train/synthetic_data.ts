/**
 * Synthetic token data: sequences made of a random segment repeated (the classic induction-head
 * task: BOS, r₁…r_L, r₁…r_L). Seeded, so data order is reproducible.
 */
import type { Rng } from '../utils/rng.js';

/** Options of {@link repeatedTokenBatch}. @category Training */
interface RepeatedTokenOptions {
  /** Rows per batch. */
  readonly batch: number;
  /** Length L of the random segment (sequence length 1 + 2L). */
  readonly segLen: number;
  /** Token ids are drawn uniformly from [low, high). */
  readonly low: number;
  readonly high: number;
  /** BOS id put first (omitted when undefined). */
  readonly bos?: number;
}

/**
 * A batch of repeated random segments.
 * @param rand Seeded uniform generator.
 * @param o Sizes and id range.
 * @returns Token rows [batch, 1 + 2·segLen] (or 2·segLen without BOS).
 * @example repeatedTokenBatch(seededRng(0), { batch: 2, segLen: 3, low: 10, high: 20, bos: 0 })
 * @category Training
 */
export function repeatedTokenBatch(rand: Rng, o: RepeatedTokenOptions): number[][] {
  return Array.from({ length: o.batch }, () => {
    const seg = Array.from({ length: o.segLen }, () => o.low + Math.floor(rand() * (o.high - o.low)));
    return o.bos === undefined ? [...seg, ...seg] : [o.bos, ...seg, ...seg];
  });
}
