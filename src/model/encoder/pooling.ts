/**
 * Helpers the probe and baselines need: masked mean-pooling of any activation over the valid
 * positions, and masked-LM pseudo-log-likelihood (Salazar et al. 2020, "Masked Language Model
 * Scoring"): mask each token in turn and sum the log-probability of the true token.
 */
import * as tf from '@tensorflow/tfjs-core';
import { ConfigError, ShapeError } from '../../errors.js';
import type { HookedEncoder } from './hooked_encoder.js';

/**
 * Mean over the positions where `mask` is 1: Σ_s x[b,s]·m[b,s] / Σ_s m[b,s] (as one matmul with
 * weights m / Σ_s m).
 * @param x Activation [batch, pos, ...] (e.g. `hook_q` [batch, pos, n_heads, d_head]).
 * @param mask Attention mask [batch, pos] (1 = real), array or tensor.
 * @returns Pooled activation [batch, ...] (rest flattened as in x; caller disposes).
 * @throws {@link "tfjs-lens"!ShapeError} if shapes disagree or a row has no valid position.
 * @example maskedMeanPool(cache.get('blocks.0.attn.hook_q'), enc.attentionMask)   // [batch, n_heads, d_head]
 * @category Encoder
 */
export function maskedMeanPool(x: tf.Tensor, mask: number[][] | tf.Tensor2D): tf.Tensor {
  const rows = Array.isArray(mask) ? mask : (mask.arraySync() as number[][]);
  const [batch, pos] = x.shape;
  if (rows.length !== batch || rows[0]?.length !== pos) {
    throw new ShapeError(`maskedMeanPool: mask shape [${rows.length}, ${rows[0]?.length}] must match x's first two dims [${batch}, ${pos}]`);
  }
  rows.forEach((r, i) => {
    if (!r.some((v) => v !== 0)) throw new ShapeError(`maskedMeanPool: row ${i} of the mask has no valid position`);
  });
  // One batched matmul, weights m / Σm [batch, 1, pos] · x [batch, pos, features]: a reduction over
  // the middle axis costs a transpose on wasm, the matmul goes to the BLAS on the native path.
  const weights = rows.flatMap((r) => {
    const n = r.reduce((a, v) => a + v, 0);
    return r.map((v) => v / n);
  });
  return tf.tidy(() => {
    const rest = x.shape.slice(2);
    const w = tf.tensor3d(weights, [batch as number, 1, pos as number], 'float32');
    const pooled = tf.matMul(w, tf.reshape(x, [batch as number, pos as number, -1])); // [batch, 1, features]
    return tf.reshape(pooled, [batch as number, ...rest]);
  });
}

/**
 * Masked-LM pseudo-log-likelihood of each text: for every real token other than [CLS]/[SEP], replace
 * it by [MASK] and add log p(true token). Masked copies are run in batches.
 * @param model Encoder with an MLM head and a tokenizer.
 * @param texts Texts to score.
 * @param opts.batchSize Masked copies per forward pass (default 32).
 * @returns Per text: the PLL (sum of log-probs, ≤ 0), the number of scored tokens, and
 *   pseudo-perplexity exp(-PLL / n).
 * @throws {@link "tfjs-lens"!ConfigError} if the model has no MLM head or no [MASK] token.
 * @category Encoder
 */
export function pseudoLogLikelihood(
  model: HookedEncoder,
  texts: readonly string[],
  opts: { batchSize?: number; maxLength?: number } = {},
): {
  /** Pseudo-log-likelihood: sum of log p(true token) over the scored tokens (≤ 0). */
  pll: number;
  /** Number of scored tokens (the real tokens other than `[CLS]`/`[SEP]`). */
  nTokens: number;
  /** exp(-pll / nTokens); NaN when no token was scored. */
  pseudoPerplexity: number;
}[] {
  const maskId = model.tokenizer?.maskTokenId;
  if (!model.hasMlmHead) throw new ConfigError('pseudoLogLikelihood: the model has no MLM head');
  if (maskId === undefined) throw new ConfigError('pseudoLogLikelihood: the tokenizer has no [MASK] token');
  const bs = opts.batchSize ?? 32;
  return texts.map((text) => {
    const enc = model.encode(text, opts.maxLength);
    const ids = enc.ids[0] ?? [];
    const special = new Set([model.tokenizer?.clsTokenId, model.tokenizer?.sepTokenId, model.tokenizer?.padTokenId]);
    const positions = ids.map((id, i) => (special.has(id) ? -1 : i)).filter((i) => i >= 0);
    let pll = 0;
    for (let s = 0; s < positions.length; s += bs) {
      const chunk = positions.slice(s, s + bs);
      const batch = chunk.map((p) => ids.map((id, i) => (i === p ? maskId : id)));
      const logits = model.forward(batch, { returnType: 'logits' });
      const picked = tf.tidy(() => {
        const logp = tf.logSoftmax(logits, -1); // [chunk, pos, d_vocab]
        const v = model.cfg.dVocab;
        const flat = tf.reshape(logp, [-1]);
        const idx = chunk.map((p, b) => (b * ids.length + p) * v + (ids[p] as number));
        return tf.gather(flat, tf.tensor1d(idx, 'int32')).dataSync();
      });
      logits.dispose();
      for (const lp of picked) pll += lp;
    }
    const n = positions.length;
    return { pll, nTokens: n, pseudoPerplexity: n === 0 ? NaN : Math.exp(-pll / n) };
  });
}
