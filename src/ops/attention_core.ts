/**
 * The two attention products, q·kᵀ and pattern·v, routed by backend and shape.
 *
 * tfjs-backend-wasm runs a matmul with a batch dimension (`BatchMatMul` with batch > 1) in a plain
 * loop outside XNNPACK, at ~2 GFLOP/s and on one thread whatever the thread count, while a 2-D
 * matmul goes to XNNPACK (~25 GFLOP/s per thread). At GPT-2-small 1×128 the two batched products
 * took 23 ms per layer (18% of the forward). On wasm, for sequences of at least
 * {@link PER_HEAD_MIN_POS} positions, each (batch, head) pair is therefore computed as two 2-D
 * matmuls on slices (cheap with the in-place Slice kernel, `backend/wasm_kernels.ts`); short sequences
 * with many rows (e.g. patching sweeps of 64 tiled 16-token prompts) keep the batched kernel, where
 * the per-op overhead of hundreds of small matmuls would cost more than it saves. Other backends
 * always take the batched kernel. Both routes compute the same sums; results agree to float32
 * rounding.
 */
import * as tf from '@tensorflow/tfjs-core';
import { batchMatMul, linear } from './matmul.js';

/** Shortest sequence for which the wasm backend takes the per-head 2-D route. */
export const PER_HEAD_MIN_POS = 48;

/** `auto`: the rule above; `batched` / `perHead`: force one route (tests, benchmarks). */
type AttentionRoute = 'auto' | 'batched' | 'perHead';

let route: AttentionRoute = 'auto';

/**
 * Force an attention route for every later forward pass (process-wide).
 * @param r The route; `auto` restores the default.
 * @returns The previous setting.
 */
export function setAttentionRoute(r: AttentionRoute): AttentionRoute {
  const prev = route;
  route = r;
  return prev;
}

/** Whether the per-head route is taken for this sequence length on the current backend. */
export function perHeadRoute(pos: number): boolean {
  if (route !== 'auto') return route === 'perHead';
  return pos >= PER_HEAD_MIN_POS && tf.getBackend() === 'wasm';
}

/**
 * Unscaled attention scores q·kᵀ.
 * @param q Queries [batch, pos_q, n_heads, d_head].
 * @param k Keys [batch, pos_k, n_heads, d_head].
 * @returns [batch, n_heads, pos_q, pos_k].
 */
export function attnScores(q: tf.Tensor4D, k: tf.Tensor4D): tf.Tensor4D {
  const [batch, pos, nHeads, dHead] = q.shape;
  const kPos = k.shape[1];
  const kT = tf.transpose(k, [0, 2, 3, 1]); // [batch, n_heads, d_head, pos_k]
  if (!perHeadRoute(pos)) {
    const qT = tf.reshape(tf.transpose(q, [0, 2, 1, 3]), [batch * nHeads, pos, dHead]); // [batch*n_heads, pos_q, d_head]
    return tf.reshape(batchMatMul(qT, tf.reshape(kT, [batch * nHeads, dHead, kPos])), [batch, nHeads, pos, kPos]);
  }
  const q2 = tf.reshape(q, [batch * pos, nHeads * dHead]); // [batch*pos_q, n_heads*d_head]
  const kT2 = tf.reshape(kT, [batch * nHeads * dHead, kPos]); // rows (b, h, d): [batch*n_heads*d_head, pos_k]
  const out: tf.Tensor2D[] = [];
  for (let b = 0; b < batch; b++) {
    for (let h = 0; h < nHeads; h++) {
      const qh = tf.slice(q2, [b * pos, h * dHead], [pos, dHead]); // [pos_q, d_head]
      const kh = tf.slice(kT2, [(b * nHeads + h) * dHead, 0], [dHead, kPos]); // [d_head, pos_k]
      out.push(linear(qh, kh)); // [pos_q, pos_k]
    }
  }
  return tf.reshape(tf.stack(out), [batch, nHeads, pos, kPos]);
}

/**
 * Attention-weighted values z = pattern·v.
 * @param pattern Attention pattern [batch, n_heads, pos_q, pos_k].
 * @param v Values [batch, pos_k, n_heads, d_head].
 * @returns z [batch, pos_q, n_heads, d_head].
 */
export function attnMix(pattern: tf.Tensor4D, v: tf.Tensor4D): tf.Tensor4D {
  const [batch, nHeads, pos, kPos] = pattern.shape;
  const dHead = v.shape[3];
  if (!perHeadRoute(pos)) {
    const vT = tf.reshape(tf.transpose(v, [0, 2, 1, 3]), [batch * nHeads, kPos, dHead]); // [batch*n_heads, pos_k, d_head]
    const zT = batchMatMul(tf.reshape(pattern, [batch * nHeads, pos, kPos]), vT); // [batch*n_heads, pos_q, d_head]
    return tf.transpose(tf.reshape(zT, [batch, nHeads, pos, dHead]), [0, 2, 1, 3]);
  }
  const p2 = tf.reshape(pattern, [batch * nHeads * pos, kPos]); // rows (b, h, q): [batch*n_heads*pos_q, pos_k]
  const v2 = tf.reshape(v, [batch * kPos, nHeads * dHead]); // [batch*pos_k, n_heads*d_head]
  const rows: tf.Tensor2D[] = [];
  for (let b = 0; b < batch; b++) {
    const heads: tf.Tensor2D[] = [];
    for (let h = 0; h < nHeads; h++) {
      const ph = tf.slice(p2, [(b * nHeads + h) * pos, 0], [pos, kPos]); // [pos_q, pos_k]
      const vh = tf.slice(v2, [b * kPos, h * dHead], [kPos, dHead]); // [pos_k, d_head]
      heads.push(linear(ph, vh)); // [pos_q, d_head]
    }
    rows.push(tf.concat(heads, 1)); // [pos_q, n_heads*d_head]
  }
  return tf.reshape(tf.concat(rows, 0), [batch, pos, nHeads, dHead]);
}
