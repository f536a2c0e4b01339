/**
 * LayerNorm with TransformerLens hooks: `hook_scale` = sqrt(mean((x - mean)²) + eps) [..., 1] and
 * `hook_normalized` = (x - mean) / scale, times w plus b when the affine is present (LN), none
 * after fold_ln (LNPre). (TL `components/layer_norm.py`.)
 */
import * as tf from '@tensorflow/tfjs-core';
import type { LayerNormParams } from '../params.js';
import type { RunContext } from '../../hooks/run_context.js';

/**
 * @param x Input [..., d_model].
 * @param p Affine, or undefined for LNPre.
 * @param eps Epsilon.
 * @param ctx Run context (hooks).
 * @param prefix Hook prefix, e.g. `blocks.0.ln1`.
 * @returns Normalised tensor, same shape as x.
 */
export function layerNorm(
  x: tf.Tensor,
  p: LayerNormParams | undefined,
  eps: number,
  ctx: RunContext,
  prefix: string,
): tf.Tensor {
  const centred = tf.sub(x, tf.mean(x, -1, true)); // [..., d_model]
  const scale = ctx.hook(`${prefix}.hook_scale`, tf.sqrt(tf.add(tf.mean(tf.square(centred), -1, true), eps))); // [..., 1]
  let out = tf.div(centred, scale); // [..., d_model]
  if (p !== undefined) out = tf.add(tf.mul(out, p.w), p.b);
  return ctx.hook(`${prefix}.hook_normalized`, out);
}
