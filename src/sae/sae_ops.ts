/**
 * Tensor pieces of the SAE forward pass shared by inference (`sae.ts`) and the hand-written
 * gradients (`grads*.ts`): decoder norms, the TopK and BatchTopK selections (SAELens `TopK`,
 * `BatchTopK` in `sae_lens/saes/{topk,batchtopk}_sae.py`) and the per-token input normalisation
 * (SAELens `run_time_activation_norm_fn_in/out`).
 */
import * as tf from '@tensorflow/tfjs-core';
import type { SaeConfig } from './config.js';

/**
 * ‖W_dec[i]‖ for every latent: [d_sae].
 * @param W_dec [d_sae, d_in].
 * @returns [d_sae].
 * @throws Never.
 * @example decoderNorms(sae.params.W_dec);
 * @category SAE
 */
export function decoderNorms(W_dec: tf.Tensor2D): tf.Tensor1D {
  return tf.tidy(() => tf.sqrt(tf.sum<tf.Tensor1D>(tf.square(W_dec), 1))); // [d_sae]
}

/**
 * 1 where an entry is among its row's k largest (ties at the k-th value all kept), else 0.
 * Computed as 1 − step(kth − h): on tfjs-wasm a comparison broadcasting a [n, 1] column is ~30x
 * slower than a subtraction that does.
 * @param h [n, d_sae].
 * @param k Entries kept per row.
 * @returns [n, d_sae] float 0/1.
 * @example topkMask(tf.tensor2d([[3, -1, 2]]), 2);   // [[1, 0, 1]]
 * @throws Never.
 * @category SAE
 */
export function topkMask(h: tf.Tensor, k: number): tf.Tensor2D {
  return tf.tidy(() => {
    const kth = tf.min(tf.topk(h, k).values, 1, true); // [n, 1]
    return tf.sub<tf.Tensor2D>(1, tf.step(tf.sub(kth, h))); // [n, d_sae]
  });
}

/**
 * TopK activation (SAELens `TopK`): keep the k largest entries of each row, ReLU them, zero the rest.
 * @param h [n, d_sae] pre-activations.
 * @param k Latents kept per row.
 * @returns [n, d_sae].
 * @example topkRelu(tf.tensor2d([[3, -1, 2]]), 2);   // [[3, 0, 2]]
 * @throws Never.
 * @category SAE
 */
export function topkRelu(h: tf.Tensor2D, k: number): tf.Tensor2D {
  return tf.tidy(() => tf.mul(tf.relu(h), topkMask(h, k)));
}

/**
 * Number of activations BatchTopK keeps in a batch of `rows` rows: `int(k · rows)` as SAELens
 * computes it (float product, truncated), at most the batch's entries.
 * @param k Mean latents per row (may be fractional).
 * @param rows Rows in the batch (product of the leading dimensions).
 * @param dSae Latents per row.
 * @returns The count.
 * @example batchTopkCount(1.5, 2, 4);   // 3
 * @throws Never.
 * @category SAE
 */
export function batchTopkCount(k: number, rows: number, dSae: number): number {
  return Math.min(Math.trunc(k * rows), rows * dSae);
}

/**
 * BatchTopK selection mask (SAELens `BatchTopK.forward`): ReLU, flatten the whole batch, keep the
 * `int(k·n)` largest entries (exactly that many; ties broken by index as `tf.topk` does), 1 there.
 * @param h [n, d_sae] pre-activations (scaled by ‖W_dec‖ when rescaling).
 * @param k Mean latents per row.
 * @returns [n, d_sae] float 0/1 (entries whose ReLU is 0 may be selected and then contribute 0).
 * @example batchTopkMask(tf.tensor2d([[1, -2, 3, -4], [-5, 6, -7, 8]]), 2);   // [[1,0,1,0],[0,1,0,1]]
 * @throws Never.
 * @category SAE
 */
export function batchTopkMask(h: tf.Tensor2D, k: number): tf.Tensor2D {
  const [n, dSae] = h.shape;
  const count = batchTopkCount(k, n, dSae);
  return tf.tidy(() => {
    if (count <= 0) return tf.zeros<tf.Rank.R2>([n, dSae]);
    const flat = tf.reshape(tf.relu(h), [n * dSae]); // [n·d_sae]
    const idx = tf.reshape(tf.topk(flat, count).indices, [count, 1]); // [count, 1]
    return tf.reshape(tf.scatterND(idx, tf.ones([count]), [n * dSae]), [n, dSae]); // [n, d_sae]
  });
}

/**
 * BatchTopK activation (SAELens `BatchTopK`): ReLU, then keep the top `int(k·n)` values of the whole batch,
 * n the product of the leading dimensions (1 for a vector).
 * @param h [..., d_sae].
 * @param k Mean latents per row.
 * @returns Same shape as h.
 * @example batchTopkRelu(tf.tensor2d([[1, 2, 3, 4], [-5, -6, 0.5, -8]]), 2);   // [[1,2,3,4],[0,0,0,0]]
 * @throws Never.
 * @category SAE
 */
export function batchTopkRelu<T extends tf.Tensor>(h: T, k: number): T {
  return tf.tidy(() => {
    const d = h.shape[h.rank - 1] ?? 1;
    const flat = tf.reshape<tf.Rank.R2>(h, [-1, d]); // [n, d_sae]
    return tf.reshape(tf.mul(tf.relu(flat), batchTopkMask(flat, k)), h.shape) as T; // as h
  });
}

/** Per-token statistics of the input normalisation, needed to undo it. @category SAE */
export interface NormStats {
  /** constant_norm_rescale: √d_in / ‖x‖ [n, 1]. */
  readonly scale?: tf.Tensor;
  /** layer_norm: mean [n, 1]. */
  readonly mu?: tf.Tensor;
  /** layer_norm: unbiased standard deviation [n, 1]. */
  readonly std?: tf.Tensor;
}

/**
 * Per-token input normalisation (SAELens `run_time_activation_norm_fn_in`).
 * @param x [n, d_in].
 * @param cfg The SAE config (its `normalizeActivations`).
 * @returns The normalised input and the statistics for {@link normOut}.
 * @example const { x: xn, stats } = normIn(x, sae.cfg);
 * @throws Never.
 * @category SAE
 */
export function normIn(x: tf.Tensor2D, cfg: SaeConfig): {
  /** Normalised input [n, d_in]. */
  x: tf.Tensor2D;
  /** What {@link normOut} needs. */
  stats: NormStats;
} {
  if (cfg.normalizeActivations === 'constant_norm_rescale') {
    const scale = tf.div(Math.sqrt(cfg.dIn), tf.norm(x, 'euclidean', -1, true)); // [n, 1]
    return { x: tf.mul(x, scale), stats: { scale } };
  }
  if (cfg.normalizeActivations === 'layer_norm') {
    const mu = tf.mean(x, -1, true); // [n, 1]
    const c = tf.sub(x, mu);
    const std = tf.sqrt(tf.div(tf.sum(tf.square(c), -1, true), Math.max(cfg.dIn - 1, 1))); // unbiased, as torch.std
    return { x: tf.div(c, tf.add(std, 1e-5)), stats: { mu, std } };
  }
  return { x, stats: {} };
}

/**
 * Undo {@link normIn} on a reconstruction (SAELens `run_time_activation_norm_fn_out`).
 * @param x [n, d_in].
 * @param s Statistics from {@link normIn}.
 * @param cfg The SAE config.
 * @returns [n, d_in].
 * @example normOut(recons, stats, sae.cfg);
 * @throws Never.
 * @category SAE
 */
export function normOut(x: tf.Tensor2D, s: NormStats, cfg: SaeConfig): tf.Tensor2D {
  if (cfg.normalizeActivations === 'constant_norm_rescale' && s.scale) return tf.div(x, s.scale);
  if (cfg.normalizeActivations === 'layer_norm' && s.std && s.mu) return tf.add(tf.mul(x, s.std), s.mu);
  return x;
}
