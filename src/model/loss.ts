/**
 * Next-token cross-entropy (TL `utils.lm_cross_entropy_loss`): the log-softmax of position p is
 * scored against token p+1; with a mask a position counts only if it and the next are unmasked.
 */
import * as tf from '@tensorflow/tfjs-core';
import { gatherRows } from '../ops/gather.js';

/**
 * @param logits [batch, pos, d_vocab].
 * @param tokens Token ids [batch, pos].
 * @param mask Optional attention mask rows (1 = real).
 * @param perToken Return [batch, pos-1] losses instead of the mean.
 * @returns Scalar mean loss, or per-token losses [batch, pos-1] (masked positions 0).
 * @category Model
 */
export function lmCrossEntropy(
  logits: tf.Tensor3D,
  tokens: readonly (readonly number[])[],
  mask: readonly (readonly number[])[] | undefined,
  perToken = false,
): tf.Tensor {
  const [batch, pos, vocab] = logits.shape;
  const idx: number[] = [];
  const keep: number[] = [];
  for (let b = 0; b < batch; b++) {
    const row = tokens[b] ?? [];
    for (let p = 0; p < pos - 1; p++) {
      idx.push((b * pos + p) * vocab + (row[p + 1] ?? 0));
      keep.push(mask === undefined ? 1 : (mask[b]?.[p] ?? 0) * (mask[b]?.[p + 1] ?? 0));
    }
  }
  const nTokens = keep.reduce((a, v) => a + v, 0);
  return tf.tidy(() => {
    const logp = tf.reshape(tf.logSoftmax(logits, -1), [-1]); // [batch*pos*d_vocab]
    const picked = gatherRows(logp, tf.tensor1d(idx, 'int32')); // [batch*(pos-1)]
    const nll = tf.mul(tf.neg(picked), tf.tensor1d(keep)); // [batch*(pos-1)]
    if (perToken) return tf.reshape(nll, [batch, pos - 1]);
    return tf.div(tf.sum(nll), Math.max(nTokens, 1));
  });
}
