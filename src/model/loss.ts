/**
 * Next-token cross-entropy (TL `utils.lm_cross_entropy_loss`): the log-softmax of position p is
 * scored against token p+1; with a mask a position counts only if it and the next are unmasked.
 */
import * as tf from '@tensorflow/tfjs-core';
import { ShapeError } from '../errors.js';
import { gatherRows } from '../ops/gather.js';
import type { LossFnOptions } from './forward_options.js';
import { maskRows, tokensToRows, type TokenInput } from './inputs.js';

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

/**
 * TL `loss_fn` / `utils.lm_cross_entropy_loss` on caller-supplied logits and token ids.
 * @param logits [batch, pos, d_vocab_out].
 * @param tokens Token ids [batch, pos] (a tensor or arrays), each in [0, d_vocab_out).
 * @param opts `attentionMask` [batch, pos]; `perToken` for [batch, pos-1] losses.
 * @param fn Function name for error messages.
 * @returns Scalar mean loss, or per-token losses [batch, pos-1] (new tensor; caller disposes).
 * @throws {@link "tfjs-lens"!ShapeError} when tokens or mask do not match the logits' [batch, pos], or an id is out of range.
 */
export function lossFromTokens(logits: tf.Tensor3D, tokens: TokenInput, opts: LossFnOptions, fn: string): tf.Tensor {
  if (logits.rank !== 3) throw new ShapeError(`${fn}: logits must be [batch, pos, d_vocab], got shape [${logits.shape.join(', ')}]`);
  const [batch, pos, vocab] = logits.shape;
  const rows = tokensToRows(tokens, vocab, `${fn} (tokens)`);
  if (rows.length !== batch || rows[0]?.length !== pos) {
    throw new ShapeError(`${fn}: tokens shape [${rows.length}, ${rows[0]?.length}] must equal the logits' [batch, pos] = [${batch}, ${pos}]`);
  }
  const mask = opts.attentionMask === undefined ? undefined : maskRows(opts.attentionMask, rows, fn);
  return lmCrossEntropy(logits, rows, mask, opts.perToken === true);
}
