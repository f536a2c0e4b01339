/**
 * Token and learned positional embeddings (TL `components/embed.py`, `pos_embed.py`). With an
 * attention mask, positions are offset so the first real token gets position 0 and pads get a zero
 * positional embedding (TL left-padding semantics).
 */
import * as tf from '@tensorflow/tfjs-core';
import type { RunContext } from '../../hooks/run_context.js';
import { gatherRows } from '../../ops/gather.js';
import type { DecoderParams } from '../params.js';

/**
 * @param tokens Token ids [batch, pos] (int32).
 * @param p Parameters (W_E, W_pos).
 * @param mask Attention mask [batch, pos] (1 = real, 0 = pad), or undefined.
 * @param ctx Run context.
 * @returns hook_embed + hook_pos_embed [batch, pos, d_model].
 */
export function embed(
  tokens: tf.Tensor2D,
  p: DecoderParams,
  mask: tf.Tensor2D | undefined,
  ctx: RunContext<'hook_embed' | 'hook_pos_embed'>,
): tf.Tensor3D {
  const [batch, pos] = tokens.shape;
  const dModel = p.W_E.shape[1];
  const tokEmb = ctx.hook('hook_embed', tf.reshape<tf.Rank.R3>(gatherRows(p.W_E, tf.reshape(tokens, [-1])), [batch, pos, dModel])); // [batch, pos, d_model]
  let posEmb: tf.Tensor3D; // [batch, pos, d_model]
  if (mask === undefined) {
    const rows = gatherRows(p.W_pos, tf.range(0, pos, 1, 'int32')); // [pos, d_model]
    posEmb = tf.tile(tf.reshape<tf.Rank.R3>(rows, [1, pos, dModel]), [batch, 1, 1]);
  } else {
    const m = tf.cast(mask, 'int32');
    const ids = tf.maximum(tf.sub(tf.cumsum(m, 1), tf.scalar(1, 'int32')), tf.scalar(0, 'int32')); // [batch, pos]
    const rows = tf.reshape<tf.Rank.R3>(gatherRows(p.W_pos, tf.reshape(ids, [-1])), [batch, pos, dModel]);
    posEmb = tf.mul(rows, tf.expandDims(tf.cast(m, 'float32'), 2));
  }
  return tf.add(tokEmb, ctx.hook('hook_pos_embed', posEmb));
}
