/**
 * Parameter maps of the encoder (BERT / DistilBERT). Attention uses the decoder's fast 2-D layout
 * ({@link AttnParams}); TL-named views come from {@link encoderStateDict}.
 */
import * as tf from '@tensorflow/tfjs-core';
import { toHeadsIn, type AttnParams, type LayerNormParams, type MlpParams } from '../params.js';
import type { EncoderConfig } from './encoder_config.js';

/** One post-LN block: ln1 after attention (HF `sa_layer_norm` / `attention.output.LayerNorm`), ln2 after the MLP. @category Encoder */
export interface EncoderBlockParams {
  /** Attention weights (fast layout). */
  readonly attn: AttnParams;
  /** LayerNorm applied to resid_mid. */
  readonly ln1: LayerNormParams;
  /** MLP weights. */
  readonly mlp: MlpParams;
  /** LayerNorm applied to resid_post (gives the block output). */
  readonly ln2: LayerNormParams;
}

/** Masked-LM head: dense [d_model, d_model] → GELU → LayerNorm → unembed. @category Encoder */
export interface MlmHeadParams {
  /** Transform weight [d_model, d_model] (input-major). */
  readonly W: tf.Tensor2D;
  /** Transform bias [d_model]. */
  readonly b: tf.Tensor1D;
  /** LayerNorm after the transform. */
  readonly ln: LayerNormParams;
  /** Unembedding [d_model, d_vocab] (tied to the word embeddings in HF checkpoints). */
  readonly W_U: tf.Tensor2D;
  /** Output bias [d_vocab]. */
  readonly b_U: tf.Tensor1D;
}

/** All encoder parameters. @category Encoder */
export interface EncoderParams {
  /** Word embeddings [d_vocab, d_model]. */
  readonly W_E: tf.Tensor2D;
  /** Position embeddings [n_ctx, d_model]. */
  readonly W_pos: tf.Tensor2D;
  /** Token-type embeddings [type_vocab, d_model] (BERT only). */
  readonly W_token_type: tf.Tensor2D | undefined;
  /** Embedding LayerNorm. */
  readonly embedLn: LayerNormParams;
  /** Transformer blocks. */
  readonly blocks: readonly EncoderBlockParams[];
  /** MLM head; undefined for base models (DistilBertModel / BertModel). */
  readonly mlmHead: MlmHeadParams | undefined;
}

/** Every tensor of an encoder parameter map. */
export function encoderParamTensors(p: EncoderParams): tf.Tensor[] {
  const out: tf.Tensor[] = [p.W_E, p.W_pos, p.embedLn.w, p.embedLn.b];
  if (p.W_token_type !== undefined) out.push(p.W_token_type);
  for (const b of p.blocks) {
    out.push(...Object.values(b.attn), b.ln1.w, b.ln1.b, ...Object.values(b.mlp), b.ln2.w, b.ln2.b);
  }
  const h = p.mlmHead;
  if (h !== undefined) out.push(h.W, h.b, h.ln.w, h.ln.b, h.W_U, h.b_U);
  return out;
}

/** Dispose every tensor of an encoder parameter map. @category Encoder */
export function disposeEncoderParams(p: EncoderParams): void {
  for (const t of encoderParamTensors(p)) t.dispose();
}

/**
 * Parameters under TransformerLens HookedEncoder state-dict names (`embed.embed.W_E`,
 * `blocks.0.attn.W_Q` [n_heads, d_model, d_head], `mlm_head.W`, `unembed.W_U`, …).
 * @param p Parameters.
 * @param cfg Config.
 * @returns New tensors keyed by TL name (the caller disposes them).
 * @category Encoder
 */
export function encoderStateDict(p: EncoderParams, cfg: EncoderConfig): Map<string, tf.Tensor> {
  const pairs = tf.tidy(() => {
    const { nHeads: h, dHead: e, dModel: d } = cfg;
    const out: { k: string; t: tf.Tensor }[] = [];
    const put = (k: string, t: tf.Tensor): void => { out.push({ k, t: tf.reshape(t, t.shape) }); };
    const headsIn = (w: tf.Tensor2D): tf.Tensor => toHeadsIn(w, h); // [n_heads, d_model, d_head]
    put('embed.embed.W_E', p.W_E);
    put('embed.pos_embed.W_pos', p.W_pos);
    if (p.W_token_type !== undefined) put('embed.token_type_embed.W_token_type', p.W_token_type);
    put('embed.ln.w', p.embedLn.w);
    put('embed.ln.b', p.embedLn.b);
    p.blocks.forEach((b, l) => {
      const k = `blocks.${l}.`;
      put(`${k}attn.W_Q`, headsIn(b.attn.wQ));
      put(`${k}attn.W_K`, headsIn(b.attn.wK));
      put(`${k}attn.W_V`, headsIn(b.attn.wV));
      put(`${k}attn.W_O`, tf.reshape(b.attn.wO, [h, e, d])); // [n_heads, d_head, d_model]
      put(`${k}attn.b_Q`, tf.reshape(b.attn.bQ, [h, e]));
      put(`${k}attn.b_K`, tf.reshape(b.attn.bK, [h, e]));
      put(`${k}attn.b_V`, tf.reshape(b.attn.bV, [h, e]));
      put(`${k}attn.b_O`, b.attn.bO);
      put(`${k}ln1.w`, b.ln1.w);
      put(`${k}ln1.b`, b.ln1.b);
      put(`${k}mlp.W_in`, b.mlp.W_in);
      put(`${k}mlp.b_in`, b.mlp.b_in);
      put(`${k}mlp.W_out`, b.mlp.W_out);
      put(`${k}mlp.b_out`, b.mlp.b_out);
      put(`${k}ln2.w`, b.ln2.w);
      put(`${k}ln2.b`, b.ln2.b);
    });
    const m = p.mlmHead;
    if (m !== undefined) {
      put('mlm_head.W', tf.transpose(m.W)); // TL keeps HF's [d_model_out, d_model_in] here
      put('mlm_head.b', m.b);
      put('mlm_head.ln.w', m.ln.w);
      put('mlm_head.ln.b', m.ln.b);
      put('unembed.W_U', m.W_U);
      put('unembed.b_U', m.b_U);
    }
    return out;
  });
  return new Map(pairs.map(({ k, t }) => [k, t]));
}
