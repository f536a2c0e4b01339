/**
 * LayerNorm with TransformerLens hooks: `hook_scale` = sqrt(mean((x - mean)²) + eps) [..., 1] and
 * `hook_normalized` = (x - mean) / scale, times w plus b when the affine is present (LN), none
 * after fold_ln (LNPre). (TL `components/layer_norm.py`.)
 */
import * as tf from '@tensorflow/tfjs-core';
import type { RunContext } from '../../hooks/run_context.js';
import type { LayerNormParams } from '../params.js';

/** The two hooks of a LayerNorm at `prefix` (e.g. `blocks.0.ln1`). */
type LayerNormHook<P extends string> = `${P}.hook_scale` | `${P}.hook_normalized`;

/**
 * @param x Input [..., d_model].
 * @param p Affine, or undefined for LNPre.
 * @param eps Epsilon.
 * @param prefix Hook prefix, e.g. `blocks.0.ln1`.
 * @param ctx Run context (hooks).
 * @returns Normalised tensor, same shape as x.
 */
export function layerNorm<X extends tf.Tensor, P extends string>(
  x: X,
  p: LayerNormParams | undefined,
  eps: number,
  prefix: P,
  ctx: RunContext<LayerNormHook<P>>,
): X {
  const centred = tf.sub<X>(x, tf.mean(x, -1, true)); // [..., d_model]
  const scale = ctx.hook(`${prefix}.hook_scale`, tf.sqrt(tf.add(tf.mean(tf.square(centred), -1, true), eps))); // [..., 1]
  let out = tf.div<X>(centred, scale); // [..., d_model]
  if (p !== undefined) out = tf.add<X>(tf.mul(out, p.w), p.b);
  return ctx.hook(`${prefix}.hook_normalized`, out);
}
