/**
 * TransformerLens-named weights of a decoder, stacked over layers as TL's properties
 * (`model.W_Q` is [n_layers, n_heads, d_model, d_head]). Built on first access and cached; the
 * view owns them (do not dispose), and frees them with the model.
 */
import * as tf from '@tensorflow/tfjs-core';
import { ConfigError } from '../errors.js';
import type { ModelConfig } from './config.js';
import { toHeadsIn, type DecoderParams } from './params.js';

/** TL weight names exposed by {@link WeightsView}. @category Model */
export type WeightName =
  | 'W_E' | 'W_pos' | 'W_U' | 'b_U'
  | 'W_Q' | 'W_K' | 'W_V' | 'W_O' | 'b_Q' | 'b_K' | 'b_V' | 'b_O'
  | 'W_in' | 'b_in' | 'W_out' | 'b_out';

/**
 * Lazily stacked TL-layout weights.
 * @category Model
 */
export class WeightsView {
  private readonly cache = new Map<WeightName, tf.Tensor>();

  constructor(
    private readonly params: () => DecoderParams,
    private readonly cfg: ModelConfig,
  ) {}

  /**
   * A weight by TL name: W_E [d_vocab, d_model], W_pos [n_ctx, d_model], W_U [d_model, d_vocab],
   * b_U [d_vocab], W_Q/W_K/W_V [n_layers, n_heads, d_model, d_head], W_O [n_layers, n_heads, d_head,
   * d_model], b_Q/b_K/b_V [n_layers, n_heads, d_head], b_O [n_layers, d_model], W_in [n_layers,
   * d_model, d_mlp], b_in [n_layers, d_mlp], W_out [n_layers, d_mlp, d_model], b_out [n_layers, d_model].
   * @param name TL weight name.
   * @returns The tensor (owned by the model).
   * @throws {@link ConfigError} for MLP weights of an attention-only model.
   */
  get(name: WeightName): tf.Tensor {
    const hit = this.cache.get(name);
    if (hit !== undefined) return hit;
    // keep: the view owns it, so a caller's tf.tidy around the first access must not free it.
    const t = tf.keep(tf.tidy(() => this.build(name)));
    this.cache.set(name, t);
    return t;
  }

  private build(name: WeightName): tf.Tensor {
    const p = this.params();
    const { nHeads: h, dHead: e, dModel: d } = this.cfg;
    const stack = (f: (l: number) => tf.Tensor): tf.Tensor => tf.stack(p.blocks.map((_, l) => f(l)));
    const blk = (l: number) => p.blocks[l] as DecoderParams['blocks'][number];
    const mlp = (l: number) => {
      const m = blk(l).mlp;
      if (m === undefined) throw new ConfigError(`WeightsView.get: '${name}' does not exist in an attention-only model`);
      return m;
    };
    const headsIn = (w: tf.Tensor2D): tf.Tensor => toHeadsIn(w, h); // [n_heads, d_model, d_head]
    // A new handle on the same data (reshape does not copy, clone does on wasm).
    const alias = (t: tf.Tensor) => tf.reshape(t, t.shape);
    switch (name) {
      case 'W_E': return alias(p.W_E);
      case 'W_pos': return alias(p.W_pos);
      case 'W_U': return alias(p.W_U);
      case 'b_U': return alias(p.b_U);
      case 'W_Q': return stack((l) => headsIn(blk(l).attn.wQ));
      case 'W_K': return stack((l) => headsIn(blk(l).attn.wK));
      case 'W_V': return stack((l) => headsIn(blk(l).attn.wV));
      case 'W_O': return stack((l) => tf.reshape(blk(l).attn.wO, [h, e, d])); // [n_heads, d_head, d_model]
      case 'b_Q': return stack((l) => tf.reshape(blk(l).attn.bQ, [h, e]));
      case 'b_K': return stack((l) => tf.reshape(blk(l).attn.bK, [h, e]));
      case 'b_V': return stack((l) => tf.reshape(blk(l).attn.bV, [h, e]));
      case 'b_O': return stack((l) => blk(l).attn.bO);
      case 'W_in': return stack((l) => mlp(l).W_in);
      case 'b_in': return stack((l) => mlp(l).b_in);
      case 'W_out': return stack((l) => mlp(l).W_out);
      case 'b_out': return stack((l) => mlp(l).b_out);
    }
  }

  /** Token embedding [d_vocab, d_model]. */
  get W_E(): tf.Tensor2D { return this.get('W_E') as tf.Tensor2D; }
  /** Positional embedding [n_ctx, d_model]. */
  get W_pos(): tf.Tensor2D { return this.get('W_pos') as tf.Tensor2D; }
  /** Unembedding [d_model, d_vocab]. */
  get W_U(): tf.Tensor2D { return this.get('W_U') as tf.Tensor2D; }
  /** Unembedding bias [d_vocab]. */
  get b_U(): tf.Tensor1D { return this.get('b_U') as tf.Tensor1D; }
  /** Query weights [n_layers, n_heads, d_model, d_head]. */
  get W_Q(): tf.Tensor4D { return this.get('W_Q') as tf.Tensor4D; }
  /** Key weights [n_layers, n_heads, d_model, d_head]. */
  get W_K(): tf.Tensor4D { return this.get('W_K') as tf.Tensor4D; }
  /** Value weights [n_layers, n_heads, d_model, d_head]. */
  get W_V(): tf.Tensor4D { return this.get('W_V') as tf.Tensor4D; }
  /** Output weights [n_layers, n_heads, d_head, d_model]. */
  get W_O(): tf.Tensor4D { return this.get('W_O') as tf.Tensor4D; }
  /** Query biases [n_layers, n_heads, d_head]. */
  get b_Q(): tf.Tensor3D { return this.get('b_Q') as tf.Tensor3D; }
  /** Key biases [n_layers, n_heads, d_head]. */
  get b_K(): tf.Tensor3D { return this.get('b_K') as tf.Tensor3D; }
  /** Value biases [n_layers, n_heads, d_head]. */
  get b_V(): tf.Tensor3D { return this.get('b_V') as tf.Tensor3D; }
  /** Attention output biases [n_layers, d_model]. */
  get b_O(): tf.Tensor2D { return this.get('b_O') as tf.Tensor2D; }
  /** MLP input weights [n_layers, d_model, d_mlp]. @throws {@link ConfigError} for an attention-only model. */
  get W_in(): tf.Tensor3D { return this.get('W_in') as tf.Tensor3D; }
  /** MLP input biases [n_layers, d_mlp]. @throws {@link ConfigError} for an attention-only model. */
  get b_in(): tf.Tensor2D { return this.get('b_in') as tf.Tensor2D; }
  /** MLP output weights [n_layers, d_mlp, d_model]. @throws {@link ConfigError} for an attention-only model. */
  get W_out(): tf.Tensor3D { return this.get('W_out') as tf.Tensor3D; }
  /** MLP output biases [n_layers, d_model]. @throws {@link ConfigError} for an attention-only model. */
  get b_out(): tf.Tensor2D { return this.get('b_out') as tf.Tensor2D; }

  /** Free the cached stacked weights (they are rebuilt on next access). */
  dispose(): void {
    for (const t of this.cache.values()) t.dispose();
    this.cache.clear();
  }
}

/**
 * Parameters under TransformerLens state-dict names and layouts (`embed.W_E`,
 * `blocks.0.attn.W_Q` [n_heads, d_model, d_head], `blocks.0.ln1.w`, `unembed.W_U`, …).
 * @param p Parameters.
 * @param cfg Config.
 * @returns New tensors keyed by TL name (the caller disposes them).
 * @category Model
 */
export function tlStateDict(p: DecoderParams, cfg: ModelConfig): Map<string, tf.Tensor> {
  // tidy only keeps tensors found in arrays/objects, so build the entries as an array of pairs.
  const pairs = tf.tidy(() => {
    const { nHeads: h, dHead: e, dModel: d } = cfg;
    const out = new Map<string, tf.Tensor>();
    const alias = (t: tf.Tensor): tf.Tensor => tf.reshape(t, t.shape);
    const headsIn = (w: tf.Tensor2D): tf.Tensor => toHeadsIn(w, h); // [n_heads, d_model, d_head]
    out.set('embed.W_E', alias(p.W_E)).set('pos_embed.W_pos', alias(p.W_pos));
    p.blocks.forEach((b, l) => {
      const k = `blocks.${l}.`;
      if (b.ln1 !== undefined) out.set(`${k}ln1.w`, alias(b.ln1.w)).set(`${k}ln1.b`, alias(b.ln1.b));
      if (b.ln2 !== undefined) out.set(`${k}ln2.w`, alias(b.ln2.w)).set(`${k}ln2.b`, alias(b.ln2.b));
      const a = b.attn;
      out.set(`${k}attn.W_Q`, headsIn(a.wQ)).set(`${k}attn.W_K`, headsIn(a.wK)).set(`${k}attn.W_V`, headsIn(a.wV));
      out.set(`${k}attn.W_O`, tf.reshape(a.wO, [h, e, d])); // [n_heads, d_head, d_model]
      out.set(`${k}attn.b_Q`, tf.reshape(a.bQ, [h, e])).set(`${k}attn.b_K`, tf.reshape(a.bK, [h, e]));
      out.set(`${k}attn.b_V`, tf.reshape(a.bV, [h, e])).set(`${k}attn.b_O`, alias(a.bO));
      if (b.mlp !== undefined) {
        out.set(`${k}mlp.W_in`, alias(b.mlp.W_in)).set(`${k}mlp.b_in`, alias(b.mlp.b_in));
        out.set(`${k}mlp.W_out`, alias(b.mlp.W_out)).set(`${k}mlp.b_out`, alias(b.mlp.b_out));
      }
    });
    if (p.lnFinal !== undefined) out.set('ln_final.w', alias(p.lnFinal.w)).set('ln_final.b', alias(p.lnFinal.b));
    out.set('unembed.W_U', alias(p.W_U)).set('unembed.b_U', alias(p.b_U));
    return [...out.entries()].map(([k, t]) => ({ k, t }));
  });
  return new Map(pairs.map(({ k, t }) => [k, t]));
}
