/**
 * Auxiliary loss for the layer-0 previous-token head of induction-2l: the mean −log of the attention
 * it pays from each position p ≥ 1 to p − 1. Next-token training alone gives the last position of
 * the window no gradient (it predicts nothing), and the positions near the end almost none, so a head
 * that is a previous-token head early in the window need not be one there.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { ModelConfig } from '../../src/model/config.js';
import { runDecoder } from '../../src/model/forward.js';
import type { DecoderParams } from '../../src/model/params.js';

/**
 * −mean over rows and positions p ≥ 1 of log pattern[b, head, p, p − 1] in layer 0.
 * @param cfg Config.
 * @param params Parameters (variables inside a loss closure).
 * @param tokens Token rows [batch, pos].
 * @param head Layer-0 head index.
 * @returns Scalar loss (0 when the head attends only to the previous token).
 */
export function prevTokenAttnLoss(cfg: ModelConfig, params: DecoderParams, tokens: number[][], head: number): tf.Scalar {
  return tf.tidy(() => {
    const pos = tokens[0]?.length ?? 0;
    let pattern: tf.Tensor4D | undefined;
    const hook = <T extends tf.Tensor>(name: string, x: T): T => {
      if (name === 'blocks.0.attn.hook_pattern') pattern = tf.keep(x) as unknown as tf.Tensor4D; // [batch, n_heads, pos_q, pos_k]; kept past the layer's tidy
      return x;
    };
    const t = tf.tensor2d(tokens, [tokens.length, pos], 'int32');
    runDecoder({ cfg, params, hook, flags: {} }, t, undefined, 1); // layer 0 only
    if (pattern === undefined) throw new RangeError('prevTokenAttnLoss: blocks.0.attn.hook_pattern did not fire');
    const batch = tokens.length;
    const h = tf.slice(pattern, [0, head, 1, 0], [batch, 1, pos - 1, pos - 1]).reshape([batch, pos - 1, pos - 1]); // [batch, pos_q, pos_k] for q ≥ 1, k ≤ pos − 2
    const diag = tf.sum(tf.mul(h, tf.eye(pos - 1).expandDims(0)), -1); // [batch, pos − 1]: attention from q to q − 1
    pattern.dispose(); // the gradient tape holds its own copy
    return tf.neg(tf.mean(tf.log(tf.add(diag, 1e-6)))) as tf.Scalar;
  });
}
