/**
 * Position-resolved checks of induction-2l (issue 17, part 6): the loss on the second repeat of a
 * segment placed at a given start (full 50,257-way softmax, logits only at the scored positions), and
 * the attention of each layer-0 head to the previous token at every position.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { HookedTransformer } from '../../src/model/hooked_transformer.js';
import type { Rng } from '../../src/utils/rng.js';
import { placedRepeatRow, secondRepeatPositions, type PlacedRepeatOptions } from './induction_data.js';
import { nextTokenLossAt } from './lm_training.js';

/**
 * Mean per-token loss (nats) on r₂…r_L of the second repeat, over `draws` random rows with the
 * segment at `start`.
 * @param model The model.
 * @param rand Seeded generator for the rows.
 * @param at Segment start (≥ 1, BOS at 0) and length.
 * @param o Row length, id range, BOS.
 * @param draws Rows averaged.
 */
export function secondRepeatLoss(
  model: HookedTransformer, rand: Rng, at: { start: number; segLen: number }, o: PlacedRepeatOptions, draws: number,
): number {
  const rows = Array.from({ length: draws }, () => placedRepeatRow(rand, at, o));
  const scored = rows.flatMap((_, b) => secondRepeatPositions(at).map((p) => [b, p] as [number, number]));
  const loss = nextTokenLossAt(model.cfg, model.params, rows, scored);
  const v = loss.dataSync()[0] as number;
  loss.dispose();
  return v;
}

/**
 * Attention from position p to p − 1 of every layer-0 head, averaged over rows.
 * @param model The model.
 * @param rows Token rows [batch, pos].
 * @returns [n_heads][pos]: entry p is the mean of pattern[b, h, p, p − 1] (entry 0 is NaN).
 */
export function prevTokenByPosition(model: HookedTransformer, rows: number[][]): number[][] {
  const [resid, cache] = model.runWithCache(rows, { returnType: 'logits', stopAtLayer: 1, namesFilter: (n) => n === 'blocks.0.attn.hook_pattern' });
  resid.dispose();
  const pattern = cache.get('blocks.0.attn.hook_pattern') as tf.Tensor4D; // [batch, n_heads, pos_q, pos_k]
  const p = pattern.arraySync();
  const [batch, nHeads, pos] = pattern.shape;
  cache.dispose();
  return Array.from({ length: nHeads }, (_, h) => Array.from({ length: pos }, (_, q) => {
    if (q === 0) return Number.NaN;
    let s = 0;
    for (let b = 0; b < batch; b++) s += p[b]?.[h]?.[q]?.[q - 1] ?? 0;
    return s / batch;
  }));
}
