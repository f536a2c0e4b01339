/**
 * Position ids of an encoder row. BERT / DistilBERT: 0, 1, …, pos − 1. RoBERTa (HF
 * `create_position_ids_from_input_ids`): a real token (id ≠ pad) gets padTokenId + its 1-based
 * count among the row's real tokens, a padding token gets padTokenId; they come from the token ids,
 * not from the attention mask.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { EncoderConfig } from './encoder_config.js';

/**
 * Longest row the encoder reads: nCtx tokens for BERT / DistilBERT; nCtx − padTokenId − 1 real
 * tokens for RoBERTa, whose first padTokenId + 1 rows of W_pos are its padding offset.
 * @param cfg Encoder config.
 * @returns The number of real (non-padding) tokens one row may hold.
 * @example encoderMaxLength(robertaBase.cfg); // 512 (max_position_embeddings 514, pad id 1)
 * @category Encoder
 */
export function encoderMaxLength(cfg: EncoderConfig): number {
  return cfg.modelType === 'roberta' ? cfg.nCtx - cfg.padTokenId - 1 : cfg.nCtx;
}

/**
 * The rows of W_pos an encoder reads for each token (what `embed.hook_pos_embed` gathers).
 * @param tokens Token ids [batch, pos] (int32).
 * @param cfg Encoder config (modelType and padTokenId).
 * @returns Position ids [batch, pos] (int32); the caller disposes them.
 * @example
 * encoderPositionIds(tf.tensor2d([[0, 5, 2, 1, 1]], undefined, 'int32'), robertaCfg).arraySync();
 * // [[2, 3, 4, 1, 1]] (pad id 1)
 * @category Encoder
 */
export function encoderPositionIds(tokens: tf.Tensor2D, cfg: EncoderConfig): tf.Tensor2D {
  return tf.tidy(() => {
    const [batch, pos] = tokens.shape;
    if (cfg.modelType !== 'roberta') return tf.tile(tf.reshape<tf.Rank.R2>(tf.range(0, pos, 1, 'int32'), [1, pos]), [batch, 1]); // [batch, pos]
    const real = tf.cast(tf.notEqual(tokens, cfg.padTokenId), 'int32'); // [batch, pos]: 1 for real tokens
    const counts = tf.cumsum<tf.Tensor2D>(real, 1); // [batch, pos]: real tokens so far
    return tf.add<tf.Tensor2D>(tf.mul(counts, real), tf.scalar(cfg.padTokenId, 'int32')); // [batch, pos]
  });
}
