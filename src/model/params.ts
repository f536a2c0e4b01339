/**
 * Parameter maps of the decoder. Attention weights are stored in a "fast" 2-D layout so the
 * forward pass uses plain 2-D matmuls (no transposed or batched matmuls, which are ~10x slower on
 * tfjs-wasm); the TransformerLens layouts (W_Q [n_heads, d_model, d_head] …) are derived on demand.
 */
import * as tf from '@tensorflow/tfjs-core';

/** LayerNorm affine; absent after `fold_ln` (LNPre). @category Model */
export interface LayerNormParams {
  /** Scale [d_model]. */
  readonly w: tf.Tensor1D;
  /** Bias [d_model]. */
  readonly b: tf.Tensor1D;
}

/**
 * A decoder norm's weights: LayerNorm has w and b, RMSNorm only w; absent after `fold_ln`
 * (LNPre / RMSPre). A {@link LayerNormParams} is one.
 * @category Model
 */
export interface NormParams {
  /** Scale [d_model]. */
  readonly w: tf.Tensor1D;
  /** Bias [d_model] (LayerNorm); undefined for RMSNorm. */
  readonly b: tf.Tensor1D | undefined;
}

/**
 * One attention layer in fast layout; columns/rows are ordered (head, d_head). With grouped-query
 * attention the key and value projections have n_key_value_heads heads. Absent biases are zeros.
 * @category Model
 */
export interface AttnParams {
  /** Query weights [d_model, n_heads*d_head]. */
  readonly wQ: tf.Tensor2D;
  /** Query bias [n_heads*d_head]. */
  readonly bQ: tf.Tensor1D;
  /** Key weights [d_model, n_kv_heads*d_head]. */
  readonly wK: tf.Tensor2D;
  /** Key bias [n_kv_heads*d_head]. */
  readonly bK: tf.Tensor1D;
  /** Value weights [d_model, n_kv_heads*d_head]. */
  readonly wV: tf.Tensor2D;
  /** Value bias [n_kv_heads*d_head]. */
  readonly bV: tf.Tensor1D;
  /** Output weights [n_heads*d_head, d_model]. */
  readonly wO: tf.Tensor2D;
  /** Output bias [d_model]. */
  readonly bO: tf.Tensor1D;
}

/** MLP weights (TL names and layout). @category Model */
export interface MlpParams {
  /** Gate weights [d_model, d_mlp] of a gated MLP (Llama `gate_proj`); undefined otherwise. */
  readonly W_gate?: tf.Tensor2D;
  /** Input weights [d_model, d_mlp] (Llama `up_proj`). */
  readonly W_in: tf.Tensor2D;
  /** Input bias [d_mlp] (zeros where the checkpoint has none). */
  readonly b_in: tf.Tensor1D;
  /** Output weights [d_mlp, d_model]. */
  readonly W_out: tf.Tensor2D;
  /** Output bias [d_model]. */
  readonly b_out: tf.Tensor1D;
}

/** One transformer block. @category Model */
export interface BlockParams {
  /** Norm before attention; undefined for LNPre / RMSPre. */
  readonly ln1: NormParams | undefined;
  /** Attention weights. */
  readonly attn: AttnParams;
  /** Norm before the MLP; undefined for LNPre / RMSPre and attention-only models. */
  readonly ln2: NormParams | undefined;
  /** Absent for attention-only models. */
  readonly mlp: MlpParams | undefined;
}

/** All decoder parameters. @category Model */
export interface DecoderParams {
  /** Token embedding [d_vocab, d_model]. */
  readonly W_E: tf.Tensor2D;
  /** Learned positional embedding [n_ctx, d_model]; undefined with rotary positions. */
  readonly W_pos: tf.Tensor2D | undefined;
  /** The transformer blocks, one per layer (n_layers). */
  readonly blocks: readonly BlockParams[];
  /** Final norm before the unembed; undefined for LNPre / RMSPre. */
  readonly lnFinal: NormParams | undefined;
  /** Unembedding [d_model, d_vocab] (GPT-2: W_E transposed; untied in Llama-family and Pythia checkpoints). */
  readonly W_U: tf.Tensor2D;
  /** Unembedding bias [d_vocab] (zeros for GPT-2 checkpoints). */
  readonly b_U: tf.Tensor1D;
}

/** Every tensor of a parameter map, for disposal and counting. */
export function paramTensors(p: DecoderParams): tf.Tensor[] {
  const out: tf.Tensor[] = [p.W_E, p.W_U, p.b_U];
  if (p.W_pos !== undefined) out.push(p.W_pos);
  const ln = (x: NormParams | undefined): void => {
    if (x !== undefined) out.push(x.w);
    if (x?.b !== undefined) out.push(x.b);
  };
  ln(p.lnFinal);
  for (const b of p.blocks) {
    ln(b.ln1);
    ln(b.ln2);
    const a = b.attn;
    out.push(a.wQ, a.bQ, a.wK, a.bK, a.wV, a.bV, a.wO, a.bO);
    if (b.mlp !== undefined) out.push(b.mlp.W_in, b.mlp.b_in, b.mlp.W_out, b.mlp.b_out);
    if (b.mlp?.W_gate !== undefined) out.push(b.mlp.W_gate);
  }
  return out;
}

/** Dispose every tensor of a parameter map. @category Model */
export function disposeParams(p: DecoderParams): void {
  for (const t of paramTensors(p)) t.dispose();
}

/** Fast [d_model, n_heads*d_head] → TL [n_heads, d_model, d_head]. */
export function toHeadsIn(w: tf.Tensor2D, nHeads: number): tf.Tensor3D {
  return tf.tidy(() => {
    const [dModel, hd] = w.shape;
    return tf.transpose(tf.reshape(w, [dModel, nHeads, hd / nHeads]), [1, 0, 2]); // [n_heads, d_model, d_head]
  });
}
