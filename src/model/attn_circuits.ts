/**
 * The OV and QK circuits of every head as {@link "tfjs-lens"!FactoredMatrix} (TransformerLens `model.OV`,
 * `model.QK`): OV = W_V·W_O and QK = W_Q·W_Kᵀ, each [n_layers, n_heads, d_model, d_model] kept
 * factored. With grouped-query attention W_K and W_V are the per-query-head expansions (TL's
 * `W_K` / `W_V` properties repeat-interleave the key/value heads), as {@link "tfjs-lens"!WeightsView} gives them.
 */
import * as tf from '@tensorflow/tfjs-core';
import { ConfigError } from '../errors.js';
import { FactoredMatrix } from '../ops/factored_matrix.js';
import { toHeadsIn, type AttnParams } from './params.js';

/**
 * Stacked TL-layout attention weights (what {@link "tfjs-lens"!WeightsView} provides): W_Q, W_K, W_V
 * [n_layers, n_heads, d_model, d_head] and W_O [n_layers, n_heads, d_head, d_model].
 * @category Model
 */
export interface AttnHeadWeights {
  /** Query weights [n_layers, n_heads, d_model, d_head]. */
  readonly W_Q: tf.Tensor4D;
  /** Key weights [n_layers, n_heads, d_model, d_head] (one per query head). */
  readonly W_K: tf.Tensor4D;
  /** Value weights [n_layers, n_heads, d_model, d_head] (one per query head). */
  readonly W_V: tf.Tensor4D;
  /** Output weights [n_layers, n_heads, d_head, d_model]. */
  readonly W_O: tf.Tensor4D;
}

/** Which circuit: OV = W_V·W_O (what a head writes) or QK = W_Q·W_Kᵀ (where it attends). @category Model */
export type AttnCircuitName = 'OV' | 'QK';

/**
 * TL `model.OV`: FactoredMatrix(W_V, W_O) [n_layers, n_heads, d_model, d_model]. Only W_V and W_O
 * are read.
 * @param w The model's TL-named weights (e.g. `model.weights`).
 * @returns A new FactoredMatrix with its own handles on the weights; the caller disposes it.
 * @category Model
 */
export function ovCircuit(w: Pick<AttnHeadWeights, 'W_V' | 'W_O'>): FactoredMatrix {
  return new FactoredMatrix(w.W_V, w.W_O);
}

/**
 * TL `model.QK`: FactoredMatrix(W_Q, W_Kᵀ) [n_layers, n_heads, d_model, d_model]. Only W_Q and W_K
 * are read.
 * @param w The model's TL-named weights (e.g. `model.weights`).
 * @returns A new FactoredMatrix; the caller disposes it.
 * @category Model
 */
export function qkCircuit(w: Pick<AttnHeadWeights, 'W_Q' | 'W_K'>): FactoredMatrix {
  const kT = tf.transpose(w.W_K, [0, 1, 3, 2]); // [n_layers, n_heads, d_head, d_model]
  try {
    return new FactoredMatrix(w.W_Q, kT);
  } finally {
    kT.dispose();
  }
}

/**
 * OV or QK from per-layer attention parameters in the fast 2-D layout (the encoder's
 * `params.blocks`, which has no grouped key/value heads): stacks the two weights it needs in TL
 * layout and factors them.
 * @param blocks One `{ attn }` per layer.
 * @param nHeads Heads per layer.
 * @param which 'OV' or 'QK'.
 * @returns A new FactoredMatrix [n_layers, n_heads, d_model, d_model]; the caller disposes it.
 * @throws {@link "tfjs-lens"!ConfigError} for no layers, or key/value weights narrower than the
 *   queries (grouped heads: use a {@link "tfjs-lens"!WeightsView}).
 * @category Model
 */
export function attnCircuitFromBlocks(blocks: readonly { readonly attn: AttnParams }[], nHeads: number, which: AttnCircuitName): FactoredMatrix {
  if (blocks.length === 0) throw new ConfigError(`attnCircuitFromBlocks: the model has no layers, so there is no ${which} circuit`);
  for (const [l, { attn }] of blocks.entries()) {
    if (attn.wK.shape[1] !== attn.wQ.shape[1] || attn.wV.shape[1] !== attn.wQ.shape[1]) {
      throw new ConfigError(
        `attnCircuitFromBlocks: layer ${l} has grouped key/value heads (W_K [${attn.wK.shape.join(', ')}] vs W_Q [${attn.wQ.shape.join(', ')}]); build ${which} from a WeightsView, which expands them per query head`,
      );
    }
  }
  const stack = (f: (a: AttnParams) => tf.Tensor): tf.Tensor => tf.stack(blocks.map((b) => f(b.attn))); // [n_layers, ...]
  const [left, right] = tf.tidy(() => {
    const dHead = (blocks[0] as { attn: AttnParams }).attn.wO.shape[0] / nHeads;
    const headsIn = (w: tf.Tensor2D): tf.Tensor => toHeadsIn(w, nHeads); // [n_heads, d_model, d_head]
    if (which === 'OV') return [stack((a) => headsIn(a.wV)), stack((a) => tf.reshape(a.wO, [nHeads, dHead, -1]))]; // W_V, W_O [n_layers, n_heads, d_head, d_model]
    return [stack((a) => headsIn(a.wQ)), stack((a) => tf.transpose(headsIn(a.wK), [0, 2, 1]))]; // W_Q, W_Kᵀ [n_layers, n_heads, d_head, d_model]
  });
  try {
    return new FactoredMatrix(left as tf.Tensor, right as tf.Tensor);
  } finally {
    tf.dispose([left as tf.Tensor, right as tf.Tensor]);
  }
}
