/**
 * Multi-head and grouped-query attention with TransformerLens hooks (TL `components/abstract_attention.py`,
 * `grouped_query_attention.py`): hook_q [batch, pos, n_heads, d_head] and hook_k/v [batch, pos,
 * n_kv_heads, d_head] (biases included, unscaled, before rotary), hook_rot_q/rot_k (after rotary),
 * hook_attn_scores (q·k/√d_head, masked entries -inf, before softmax), hook_pattern (softmax, empty
 * rows 0), hook_z (pattern·v), optional hook_result (z·W_O[h], no b_O) and the output Σ_h + b_O.
 * With GQA, query head h reads key/value head ⌊h / (n_heads / n_kv_heads)⌋ (torch repeat_interleave).
 * With a key/value cache slot, keys and values of earlier positions are prepended (after rotary).
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

/**
 * Attention inputs: one shared tensor, or per-head q/k/v inputs (split-input flags; k and v have
 * one input per key/value head).
 */
export type AttnInput =
  | { readonly kind: 'shared'; readonly x: tf.Tensor3D } // [batch, pos, d_model]
  | { readonly kind: 'perHead'; readonly q: tf.Tensor4D; readonly k: tf.Tensor4D; readonly v: tf.Tensor4D }; // [batch, pos, n_heads|n_kv_heads, d_model]

/** Keys and values of earlier positions (after rotary). @category Model */
export interface PastKv {
  /** Keys [batch, past, n_kv_heads, d_head]. */
  readonly k: tf.Tensor4D;
  /** Values [batch, past, n_kv_heads, d_head]. */
  readonly v: tf.Tensor4D;
}

/** A layer's key/value cache slot: `past` is read, and `next` (kept tensors, past + new) is written. @category Model */
export interface KvSlot {
  /** Committed keys/values of earlier positions. */
  past: PastKv | undefined;
  /** Keys/values of past + new positions written by the running step (committed by the cache). */
  next: PastKv | undefined;
}

/** What attention needs besides its weights: head counts, positions, a key/value cache slot. */
export interface AttnSetup {
  /** Query heads. */
  readonly nHeads: number;
  /** Key/value heads (= nHeads without GQA). */
  readonly nKvHeads: number;
  /** Rotary models: rotate q or k [batch, pos, heads, d_head] and fire hook_rot_q / hook_rot_k. */
  readonly rotate?: (which: 'q' | 'k', x: tf.Tensor4D) => tf.Tensor4D;
  /** Key/value cache slot of this layer (generation). */
  readonly kv?: KvSlot;
}

/** The hooks of an attention layer at `blocks.{l}.attn`. */
type AttnHook = `blocks.${number}.attn.hook_${'q' | 'k' | 'v' | 'attn_scores' | 'pattern' | 'z' | 'result'}`;

/** Repeat each key/value head `g` times: [batch, pos, n_kv, d] → [batch, pos, n_kv*g, d] (repeat_interleave). */
function repeatKv(x: tf.Tensor4D, g: number): tf.Tensor4D {
  if (g === 1) return x;
  const [batch, pos, nKv, d] = x.shape;
  // 4-D tile (tfjs has no tile gradient above rank 4): [batch*pos, n_kv, 1, d] → [batch*pos, n_kv, g, d].
  return tf.reshape(tf.tile(tf.reshape(x, [batch * pos, nKv, 1, d]), [1, 1, g, 1]), [batch, pos, nKv * g, d]);
}

/**
 * @param input Normalised attention input(s).
 * @param p Attention weights (fast layout).
 * @param setup Head counts, rotary tables and key/value cache slot.
 * @param ctx Run context (hooks, masks).
 * @param prefix `blocks.{l}.attn`.
 * @returns Attention output [batch, pos, d_model].
 */
export function attention(
  input: AttnInput,
  p: AttnParams,
  setup: AttnSetup,
  ctx: RunContext<AttnHook>,
  prefix: `blocks.${number}.attn`,
): tf.Tensor3D {
  const { nHeads, nKvHeads, rotate, kv } = setup;
  const proj = (which: 'q' | 'k' | 'v', w: tf.Tensor2D, b: tf.Tensor1D, heads: number): tf.Tensor4D =>
    input.kind === 'shared' ? projectShared(input.x, w, b, heads) : projectPerHead(input[which], w, b);
  let q = ctx.hook(`${prefix}.hook_q`, proj('q', p.wQ, p.bQ, nHeads)); // [batch, pos, n_heads, d_head]
  let k = ctx.hook(`${prefix}.hook_k`, proj('k', p.wK, p.bK, nKvHeads)); // [batch, pos, n_kv_heads, d_head]
  let v = ctx.hook(`${prefix}.hook_v`, proj('v', p.wV, p.bV, nKvHeads)); // [batch, pos, n_kv_heads, d_head]
  if (rotate !== undefined) {
    q = rotate('q', q); // hook_rot_q [batch, pos, n_heads, d_head]
    k = rotate('k', k); // hook_rot_k [batch, pos, n_kv_heads, d_head]
  }
  if (kv !== undefined) {
    if (kv.past !== undefined) {
      k = tf.concat([kv.past.k, k], 1); // [batch, past+pos, n_kv_heads, d_head]
      v = tf.concat([kv.past.v, v], 1);
    }
    kv.next = { k: tf.keep(tf.clone(k)), v: tf.keep(tf.clone(v)) }; // own handles: the hooks may also hold k and v
  }
  const [batch, pos, , dHead] = q.shape;
  const g = nHeads / nKvHeads;
  let scores = tf.div<tf.Tensor4D>(attnScores(q, repeatKv(k, g)), Math.sqrt(dHead)); // [batch, n_heads, pos_q, pos_k]
  if (ctx.additiveMask !== undefined) scores = tf.add(scores, ctx.additiveMask);
  scores = ctx.hook(`${prefix}.hook_attn_scores`, scores);
  let pattern = tf.softmax(scores, -1); // [batch, n_heads, pos_q, pos_k]
  if (ctx.mayHaveEmptyRows) pattern = tf.where(tf.isNaN(pattern), tf.zerosLike(pattern), pattern);
  pattern = ctx.hook(`${prefix}.hook_pattern`, pattern);
  const z = ctx.hook(`${prefix}.hook_z`, attnMix(pattern, repeatKv(v, g))); // [batch, pos, n_heads, d_head]
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
