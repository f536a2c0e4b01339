/**
 * The sequence-classification head's forward pass and loss (HF `*ForSequenceClassification`):
 *   x      = h[b, position_b]                     → classifier.hook_in      [batch, d_model]
 *   pre    = x · W_dense + b_dense                → classifier.hook_pre     (encoders)
 *   pooled = tanh(pre) (BERT, RoBERTa) | relu(pre) (DistilBERT) → classifier.hook_pooled
 *   logits = pooled · W + b  (decoders: x · W)    → classifier.hook_logits  [batch, n_labels]
 * Encoders read position 0 ([CLS] / <s>); decoders read the last real token, found from the token
 * ids exactly as HF does (first `pad_token_id` − 1, modulo the length). Dropout is inference-off.
 */
import * as tf from '@tensorflow/tfjs-core';
import { ConfigError } from '../../errors.js';
import type { ClassifierHookName } from '../../hooks/hook_spec.js';
import type { RunContext } from '../../hooks/run_context.js';
import { gatherRows } from '../../ops/gather.js';
import { affine, linear } from '../../ops/matmul.js';
import { classifierActivation, type SequenceClassifier } from './head_params.js';

/**
 * Position each decoder row is classified at (HF `LlamaForSequenceClassification`): the index of
 * the first `padTokenId` minus one, modulo the row length — the last real token of a right-padded
 * row, the last position of a row without padding or of a left-padded row. As in HF, the attention
 * mask is not consulted, so a pad id that also occurs as a real token ends the row there.
 * @param rows Token ids [batch, pos].
 * @param padTokenId config.json `pad_token_id`; undefined allows a batch of one only (HF).
 * @param fn Caller name for errors.
 * @returns One position per row.
 * @throws {@link "tfjs-lens"!ConfigError} for a batch of several rows without a pad_token_id.
 * @example lastTokenPositions([[5, 6, 0, 0]], 0)  // [1]
 * @category Model
 */
export function lastTokenPositions(rows: readonly (readonly number[])[], padTokenId: number | undefined, fn = 'lastTokenPositions'): number[] {
  const len = rows[0]?.length ?? 0;
  if (padTokenId === undefined) {
    if (rows.length > 1) {
      throw new ConfigError(`${fn}: a batch of ${rows.length} rows needs a pad_token_id to find each row's last token (HF: "Cannot handle batch sizes > 1 if no padding token is defined"); set pad_token_id in config.json or run rows one at a time`);
    }
    return [len - 1];
  }
  return rows.map((r) => {
    const first = r.indexOf(padTokenId);
    return (((first === -1 ? 0 : first) - 1) % len + len) % len;
  });
}

/**
 * Run a classification head on the final hidden states.
 * @param hidden Final hidden states [batch, pos, d_model] (decoders: after the final norm).
 * @param clf The head.
 * @param positions Position read in each row (encoders: 0; decoders: {@link lastTokenPositions}).
 * @param ctx Run context (the `classifier.*` hooks fire here, once each).
 * @returns Logits [batch, n_labels].
 */
export function classifierHead(hidden: tf.Tensor3D, clf: SequenceClassifier, positions: readonly number[], ctx: RunContext<ClassifierHookName>): tf.Tensor2D {
  return tf.tidy(() => {
    const [batch, pos, d] = hidden.shape;
    const idx = tf.tensor1d(positions.map((p, b) => b * pos + p), 'int32');
    const x = ctx.hook('classifier.hook_in', gatherRows(tf.reshape(hidden, [batch * pos, d]), idx) as tf.Tensor2D); // [batch, d_model]
    const p = clf.params;
    let feats = x;
    if (p.dense !== undefined) {
      const pre = ctx.hook('classifier.hook_pre', affine(x, p.dense.W, p.dense.b)); // [batch, d_model]
      feats = ctx.hook('classifier.hook_pooled', classifierActivation(clf.family) === 'relu' ? tf.relu(pre) : tf.tanh(pre)); // [batch, d_model]
    }
    const logits = p.b === undefined ? linear(feats, p.W) : affine(feats, p.W, p.b); // [batch, n_labels]
    return ctx.hook('classifier.hook_logits', logits);
  });
}
