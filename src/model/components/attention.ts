/**
 * Multi-head attention with TransformerLens hooks (TL `components/abstract_attention.py`):
 * hook_q/k/v [batch, pos, n_heads, d_head] (biases included, unscaled), hook_attn_scores
 * (q·k/√d_head, masked entries -inf, before softmax), hook_pattern (softmax, empty rows 0),
 * hook_z (pattern·v), optional hook_result (z·W_O[h], no b_O) and the output Σ_h + b_O.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { AttnParams } from '../params.js';
import { attnMix, attnScores } from '../../ops/attention_core.js';
import { affine, linear } from '../../ops/matmul.js';
import type { RunContext } from '../../hooks/run_context.js';

/** Project a shared input: x [batch, pos, d_model] → [batch, pos, n_heads, d_head]. */
function projectShared(x: tf.Tensor3D, w: tf.Tensor2D, b: tf.Tensor1D, nHeads: number): tf.Tensor4D {
  const [batch, pos, dModel] = x.shape;
  const hd = w.shape[1];
  const y = affine(tf.reshape(x, [batch * pos, dModel]), w, b); // [batch*pos, n_heads*d_head]
  return tf.reshape(y, [batch, pos, nHeads, hd / nHeads]); // [batch, pos, n_heads, d_head]
}

/** Project per-head inputs: x [batch, pos, n_heads, d_model] → [batch, pos, n_heads, d_head]. */
function projectPerHead(x: tf.Tensor4D, w: tf.Tensor2D, b: tf.Tensor1D): tf.Tensor4D {
  const [batch, pos, nHeads, dModel] = x.shape;
  const dHead = w.shape[1] / nHeads;
  const heads: tf.Tensor[] = [];
  for (let h = 0; h < nHeads; h++) {
    const xh = tf.reshape(tf.slice(x, [0, 0, h, 0], [batch, pos, 1, dModel]), [batch * pos, dModel]); // [batch*pos, d_model]
    const wh = tf.slice(w, [0, h * dHead], [dModel, dHead]); // [d_model, d_head]
    heads.push(linear(xh, wh)); // [batch*pos, d_head]
  }
  const y = tf.add(tf.concat(heads, 1), b); // [batch*pos, n_heads*d_head]
  return tf.reshape(y, [batch, pos, nHeads, dHead]);
}

/** Attention inputs: one shared tensor, or per-head q/k/v inputs (split-input flags). */
export type AttnInput =
  | { readonly kind: 'shared'; readonly x: tf.Tensor3D } // [batch, pos, d_model]
  | { readonly kind: 'perHead'; readonly q: tf.Tensor4D; readonly k: tf.Tensor4D; readonly v: tf.Tensor4D }; // [batch, pos, n_heads, d_model]

/** The hooks of an attention layer at `blocks.{l}.attn`. */
type AttnHook = `blocks.${number}.attn.hook_${'q' | 'k' | 'v' | 'attn_scores' | 'pattern' | 'z' | 'result'}`;

/**
 * @param input Normalised attention input(s).
 * @param p Attention weights (fast layout).
 * @param nHeads Number of heads.
 * @param ctx Run context (hooks, masks).
 * @param prefix `blocks.{l}.attn`.
 * @returns Attention output [batch, pos, d_model].
 */
export function attention(
  input: AttnInput,
  p: AttnParams,
  nHeads: number,
  ctx: RunContext<AttnHook>,
  prefix: `blocks.${number}.attn`,
): tf.Tensor3D {
  const proj = (which: 'q' | 'k' | 'v', w: tf.Tensor2D, b: tf.Tensor1D): tf.Tensor4D =>
    input.kind === 'shared' ? projectShared(input.x, w, b, nHeads) : projectPerHead(input[which], w, b);
  const q = ctx.hook(`${prefix}.hook_q`, proj('q', p.wQ, p.bQ)); // [batch, pos, n_heads, d_head]
  const k = ctx.hook(`${prefix}.hook_k`, proj('k', p.wK, p.bK)); // [batch, pos, n_heads, d_head]
  const v = ctx.hook(`${prefix}.hook_v`, proj('v', p.wV, p.bV)); // [batch, pos, n_heads, d_head]
  const [batch, pos, , dHead] = q.shape;
  let scores = tf.div<tf.Tensor4D>(attnScores(q, k), Math.sqrt(dHead)); // [batch, n_heads, pos_q, pos_k]
  if (ctx.additiveMask !== undefined) scores = tf.add(scores, ctx.additiveMask);
  scores = ctx.hook(`${prefix}.hook_attn_scores`, scores);
  let pattern = tf.softmax(scores, -1); // [batch, n_heads, pos_q, pos_k]
  if (ctx.mayHaveEmptyRows) pattern = tf.where(tf.isNaN(pattern), tf.zerosLike(pattern), pattern);
  pattern = ctx.hook(`${prefix}.hook_pattern`, pattern);
  const z = ctx.hook(`${prefix}.hook_z`, attnMix(pattern, v)); // [batch, pos, n_heads, d_head]
  const dModel = p.wO.shape[1];
  if (ctx.flags.useAttnResult !== true) {
    const z2 = tf.reshape(z, [batch * pos, nHeads * dHead]); // [batch*pos, n_heads*d_head]
    return tf.reshape(affine(z2, p.wO, p.bO), [batch, pos, dModel]);
  }
  const perHead: tf.Tensor4D[] = [];
  for (let h = 0; h < nHeads; h++) {
    const zh = tf.reshape(tf.slice(z, [0, 0, h, 0], [batch, pos, 1, dHead]), [batch * pos, dHead]); // [batch*pos, d_head]
    const wh = tf.slice(p.wO, [h * dHead, 0], [dHead, dModel]); // [d_head, d_model]
    perHead.push(tf.reshape(linear(zh, wh), [batch, pos, 1, dModel])); // [batch, pos, 1, d_model]
  }
  const result = ctx.hook(`${prefix}.hook_result`, tf.concat(perHead, 2)); // [batch, pos, n_heads, d_model]
  return tf.add(tf.sum<tf.Tensor3D>(result, 2), p.bO); // [batch, pos, d_model]
}
