/**
 * LayerNorm and RMSNorm with TransformerLens hooks (TL `components/layer_norm.py`, `rms_norm.py`).
 * LayerNorm: `hook_scale` = sqrt(mean((x - mean)²) + eps) [..., 1], `hook_normalized` = (x - mean) /
 * scale, times w plus b when the affine is present (LN), none after fold_ln (LNPre).
 * RMSNorm: `hook_scale` = sqrt(mean(x²) + eps), `hook_normalized` = x / scale **before** the weight
 * (TL `RMSNorm` hooks x / scale and then multiplies by w; RMSPre has no weight).
 * With the native path on (src/backend/native_norm.ts), nothing attached at either hook and no
 * gradient being recorded, the norm runs as one fused kernel instead of the tensor ops below (the
 * same values, bit for bit).
 */
import * as tf from '@tensorflow/tfjs-core';
import type { RunContext } from '../../hooks/run_context.js';
import type { NormParams } from '../params.js';
import { fusedLayerNorm, fusedNormApplies } from '../../backend/native_norm.js';
import { recordingGradients } from '../../hooks/bwd_hooks.js';

/** The two hooks of a norm at `prefix` (e.g. `blocks.0.ln1`). */
type LayerNormHook<P extends string> = `${P}.hook_scale` | `${P}.hook_normalized`;

/**
 * @param x Input [..., d_model].
 * @param p Weights (w, and b for LayerNorm), or undefined once folded (LNPre / RMSPre).
 * @param eps Epsilon.
 * @param prefix Hook prefix, e.g. `blocks.0.ln1`.
 * @param ctx Run context (hooks).
 * @param rms RMSNorm (no centring) instead of LayerNorm.
 * @returns Normalised tensor, same shape as x.
 */
export function layerNorm<X extends tf.Tensor, P extends string>(
  x: X,
  p: NormParams | undefined,
  eps: number,
  prefix: P,
  ctx: RunContext<LayerNormHook<P>>,
  rms = false,
): X {
  const w = p?.w;
  const b = rms ? undefined : p?.b;
  const live = ctx.hook.live;
  const hooked = live === undefined || live(`${prefix}.hook_scale`) || live(`${prefix}.hook_normalized`);
  if (!hooked && fusedNormApplies(x, w, b) && !recordingGradients()) {
    return fusedLayerNorm(x, w, b, eps, rms);
  }
  const centred = rms ? x : tf.sub<X>(x, tf.mean(x, -1, true)); // [..., d_model]
  const scale = ctx.hook(`${prefix}.hook_scale`, tf.sqrt(tf.add(tf.mean(tf.square(centred), -1, true), eps))); // [..., 1]
  let out = tf.div<X>(centred, scale); // [..., d_model]
  if (rms) {
    out = ctx.hook(`${prefix}.hook_normalized`, out);
    return p === undefined ? out : tf.mul<X>(out, p.w);
  }
  if (p !== undefined) out = tf.mul<X>(out, p.w);
  if (p?.b !== undefined) out = tf.add<X>(out, p.b);
  return ctx.hook(`${prefix}.hook_normalized`, out);
}
