/**
 * Token and learned positional embeddings (TL `components/embed.py`, `pos_embed.py`). Positions
 * come from the run (see `forward.ts`): with an attention mask the first real token gets position 0,
 * and pads get a zero positional embedding (TL left-padding semantics). Rotary models have no
 * positional embedding here (their positions rotate q and k).
 */
import * as tf from '@tensorflow/tfjs-core';
import type { RunContext } from '../../hooks/run_context.js';
import { gatherRows } from '../../ops/gather.js';
import type { DecoderParams } from '../params.js';

/**
 * @param tokens Token ids [batch, pos] (int32).
 * @param p Parameters (W_E, W_pos).
 * @param positions Position id of each token [batch, pos] (int32).
 * @param mask Attention mask of these tokens [batch, pos] (1 = real, 0 = pad), or undefined.
 * @param ctx Run context.
 * @returns hook_embed (+ hook_pos_embed) [batch, pos, d_model].
 */
export function embed(
  tokens: tf.Tensor2D,
  p: DecoderParams,
  positions: tf.Tensor2D,
  mask: tf.Tensor2D | undefined,
  ctx: RunContext<'hook_embed' | 'hook_pos_embed'>,
): tf.Tensor3D {
  const [batch, pos] = tokens.shape;
  const dModel = p.W_E.shape[1];
  const tokEmb = ctx.hook('hook_embed', tf.reshape<tf.Rank.R3>(gatherRows(p.W_E, tf.reshape(tokens, [-1])), [batch, pos, dModel])); // [batch, pos, d_model]
  if (p.W_pos === undefined) return tokEmb;
  let posEmb = tf.reshape<tf.Rank.R3>(gatherRows(p.W_pos, tf.reshape(positions, [-1])), [batch, pos, dModel]); // [batch, pos, d_model]
  if (mask !== undefined) posEmb = tf.mul(posEmb, tf.expandDims(tf.cast(mask, 'float32'), 2));
  return tf.add(tokEmb, ctx.hook('hook_pos_embed', posEmb));
}
