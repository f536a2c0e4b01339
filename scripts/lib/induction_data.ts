/**
 * Data for an induction model that works anywhere in its window (issue 17, part 6): each row is
 * BOS, a random-length random prefix, a random segment r₁…r_L, the same segment again, then random
 * tokens up to n_ctx. Segment starts are spread over the whole context, so repeats end anywhere.
 * Seeded, so data order is reproducible.
 */
import type { Rng } from '../../src/utils/rng.js';

/** Where one repeated segment sits in a row. */
export interface PlacedRepeat {
  /** Position of r₁ of the first repeat (BOS is at 0, so start ≥ 1; start − 1 random prefix tokens). */
  readonly start: number;
  /** Segment length L (the second repeat starts at start + L and ends at start + 2L − 1). */
  readonly segLen: number;
}

/** Sizes and id range of the rows. */
export interface PlacedRepeatOptions {
  /** Row length (the model's n_ctx). */
  readonly nCtx: number;
  /** Random token ids are drawn uniformly from [low, high). */
  readonly low: number;
  readonly high: number;
  /** BOS id at position 0. */
  readonly bos: number;
}

/** The largest segment start for length L in a row of nCtx tokens: the second repeat ends at nCtx − 1. */
export function lastStart(nCtx: number, segLen: number): number {
  return nCtx - 2 * segLen;
}

/**
 * One row with a repeated segment at a given place.
 * @param rand Seeded uniform generator.
 * @param at Segment start (1 … nCtx − 2L) and length L.
 * @param o Row length, id range, BOS.
 * @returns Token ids [nCtx]: BOS, start − 1 random ids, r₁…r_L, r₁…r_L, random ids to the end.
 */
export function placedRepeatRow(rand: Rng, at: PlacedRepeat, o: PlacedRepeatOptions): number[] {
  const { start, segLen } = at;
  if (start < 1 || start > lastStart(o.nCtx, segLen)) throw new RangeError(`placedRepeatRow: start must be in [1, ${lastStart(o.nCtx, segLen)}] for L = ${segLen}, got ${start}`);
  const draw = (n: number): number[] => Array.from({ length: n }, () => o.low + Math.floor(rand() * (o.high - o.low)));
  const seg = draw(segLen);
  return [o.bos, ...draw(start - 1), ...seg, ...seg, ...draw(o.nCtx - start - 2 * segLen)];
}

/**
 * Positions p (p predicts token p + 1) whose target is r₂…r_L of the second repeat: the ones an
 * induction circuit can predict.
 */
export function secondRepeatPositions(at: PlacedRepeat): number[] {
  return Array.from({ length: at.segLen - 1 }, (_, i) => at.start + at.segLen + i);
}

/**
 * A training batch: per row, L uniform in [segMin, segMax], then the start uniform in [1, nCtx − 2L]
 * (or, for a fraction `earlyFrac` of rows, uniform in [1, min(earlyMax, nCtx − 2L)]: starts right after
 * BOS are the hardest, the first repeat has no prefix to settle the attention on; and a fraction
 * `lateFrac` within 8 of the last start, so the second repeat ends near n_ctx − 1, where positions
 * are otherwise rarely scored).
 * @returns Rows [batch, nCtx] and where each row's segment is.
 */
export function placedRepeatBatch(
  rand: Rng,
  o: PlacedRepeatOptions & { readonly batch: number; readonly segMin: number; readonly segMax: number; readonly earlyFrac?: number; readonly earlyMax?: number; readonly lateFrac?: number; readonly collideFrac?: number },
): { rows: number[][]; places: PlacedRepeat[] } {
  const places = Array.from({ length: o.batch }, () => {
    const segLen = o.segMin + Math.floor(rand() * (o.segMax - o.segMin + 1));
    const last = lastStart(o.nCtx, segLen);
    const u = (o.earlyFrac ?? 0) > 0 || (o.lateFrac ?? 0) > 0 ? rand() : 1;
    if (u < (o.earlyFrac ?? 0)) return { segLen, start: 1 + Math.floor(rand() * Math.min(o.earlyMax ?? 8, last)) };
    if (u < (o.earlyFrac ?? 0) + (o.lateFrac ?? 0)) return { segLen, start: Math.max(1, last - Math.floor(rand() * 8)) };
    return { segLen, start: 1 + Math.floor(rand() * last) };
  });
  const rows = places.map((at) => placedRepeatRow(rand, at, o));
  // collideFrac: plant an accidental-looking collision in that fraction of rows: a segment token that
  // occurs twice in the segment (both copies), or once more in the prefix. There the next token is
  // ambiguous, and the model should split its bet rather than copy the most recent match with
  // certainty (random rows have such collisions naturally, ~10% of rows at L = 20).
  if ((o.collideFrac ?? 0) > 0) {
    rows.forEach((row, b) => {
      const at = places[b] as PlacedRepeat;
      if (rand() >= (o.collideFrac ?? 0) || at.segLen < 2) return;
      const i = Math.floor(rand() * at.segLen);
      const tok = row[at.start + i] as number;
      if (at.start > 1 && rand() < 0.5) {
        row[1 + Math.floor(rand() * (at.start - 1))] = tok;
        return;
      }
      let j = Math.floor(rand() * (at.segLen - 1));
      if (j >= i) j += 1;
      row[at.start + j] = tok;
      row[at.start + at.segLen + j] = tok;
    });
  }
  return { rows, places };
}
