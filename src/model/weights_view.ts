/**
 * TransformerLens-named weights of a decoder, stacked over layers as TL's properties
 * (`model.W_Q` is [n_layers, n_heads, d_model, d_head]). Built on first access and cached; the
 * view owns them (do not dispose), and frees them with the model.
 */
import * as tf from '@tensorflow/tfjs-core';
import { ConfigError } from '../errors.js';
import type { ModelConfig } from './config.js';
import { toHeadsIn, type DecoderParams, type MlpParams } from './params.js';

/** TL weight names exposed by {@link WeightsView}. @category Model */
export type WeightName =
  | 'W_E' | 'W_pos' | 'W_U' | 'b_U'
  | 'W_Q' | 'W_K' | 'W_V' | 'W_O' | 'b_Q' | 'b_K' | 'b_V' | 'b_O'
  | 'W_in' | 'b_in' | 'W_out' | 'b_out';

/** The tensor type of each TL weight (its rank). @category Model */
export interface WeightTensors {
  /** [d_vocab, d_model] */ readonly W_E: tf.Tensor2D;
  /** [n_ctx, d_model] */ readonly W_pos: tf.Tensor2D;
  /** [d_model, d_vocab] */ readonly W_U: tf.Tensor2D;
  /** [d_vocab] */ readonly b_U: tf.Tensor1D;
  /** [n_layers, n_heads, d_model, d_head] */ readonly W_Q: tf.Tensor4D;
  /** [n_layers, n_heads, d_model, d_head] */ readonly W_K: tf.Tensor4D;
  /** [n_layers, n_heads, d_model, d_head] */ readonly W_V: tf.Tensor4D;
  /** [n_layers, n_heads, d_head, d_model] */ readonly W_O: tf.Tensor4D;
  /** [n_layers, n_heads, d_head] */ readonly b_Q: tf.Tensor3D;
  /** [n_layers, n_heads, d_head] */ readonly b_K: tf.Tensor3D;
  /** [n_layers, n_heads, d_head] */ readonly b_V: tf.Tensor3D;
  /** [n_layers, d_model] */ readonly b_O: tf.Tensor2D;
  /** [n_layers, d_model, d_mlp] */ readonly W_in: tf.Tensor3D;
  /** [n_layers, d_mlp] */ readonly b_in: tf.Tensor2D;
  /** [n_layers, d_mlp, d_model] */ readonly W_out: tf.Tensor3D;
  /** [n_layers, d_model] */ readonly b_out: tf.Tensor2D;
}

/** A new handle on the same data (reshape does not copy, clone does on wasm). */
const alias1 = (t: tf.Tensor1D): tf.Tensor1D => tf.reshape(t, t.shape);
const alias2 = (t: tf.Tensor2D): tf.Tensor2D => tf.reshape(t, t.shape);

/**
 * Lazily stacked TL-layout weights.
 * @category Model
 */
export class WeightsView {
  private cache: { -readonly [K in WeightName]?: WeightTensors[K] } = {};

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
   * @returns The tensor (owned by the model), typed by its rank.
   * @throws {@link "tfjs-lens"!ConfigError} for MLP weights of an attention-only model.
   */
  get<N extends WeightName>(name: N): WeightTensors[N] {
    const hit = this.cache[name];
    if (hit !== undefined) return hit;
    // keep: the view owns it, so a caller's tf.tidy around the first access must not free it.
    const t = tf.keep(tf.tidy(() => this.builders(name)[name]()));
    this.cache[name] = t;
    return t;
  }

  private builders(name: WeightName): { readonly [K in WeightName]: () => WeightTensors[K] } {
    const p = this.params();
    const { nHeads: h, dHead: e, dModel: d, nLayers: n, dMlp: m } = this.cfg;
    const blk = (l: number): DecoderParams['blocks'][number] => {
      const b = p.blocks[l];
      if (b === undefined) throw new ConfigError(`WeightsView.get: block ${l} is missing`);
      return b;
    };
    const mlp = (l: number): MlpParams => {
      const x = blk(l).mlp;
      if (x === undefined) throw new ConfigError(`WeightsView.get: '${name}' does not exist in an attention-only model`);
      return x;
    };
    const layers = (f: (l: number) => tf.Tensor): tf.Tensor => tf.stack(p.blocks.map((_, l) => f(l)));
    const stack2 = (f: (l: number) => tf.Tensor): tf.Tensor2D => tf.reshape(layers(f), [n, -1]);
    const stack3 = (f: (l: number) => tf.Tensor, a: number, b: number): tf.Tensor3D => tf.reshape(layers(f), [n, a, b]);
    const stack4 = (f: (l: number) => tf.Tensor, a: number, b: number, c: number): tf.Tensor4D => tf.reshape(layers(f), [n, a, b, c]);
    const headsIn = (w: tf.Tensor2D): tf.Tensor => toHeadsIn(w, h); // [n_heads, d_model, d_head]
    return {
      W_E: () => alias2(p.W_E),
      W_pos: () => alias2(p.W_pos),
      W_U: () => alias2(p.W_U),
      b_U: () => alias1(p.b_U),
      W_Q: () => stack4((l) => headsIn(blk(l).attn.wQ), h, d, e),
      W_K: () => stack4((l) => headsIn(blk(l).attn.wK), h, d, e),
      W_V: () => stack4((l) => headsIn(blk(l).attn.wV), h, d, e),
      W_O: () => stack4((l) => blk(l).attn.wO, h, e, d), // [n_layers, n_heads, d_head, d_model]
      b_Q: () => stack3((l) => blk(l).attn.bQ, h, e),
      b_K: () => stack3((l) => blk(l).attn.bK, h, e),
      b_V: () => stack3((l) => blk(l).attn.bV, h, e),
      b_O: () => stack2((l) => blk(l).attn.bO),
      W_in: () => stack3((l) => mlp(l).W_in, d, m),
      b_in: () => stack2((l) => mlp(l).b_in),
      W_out: () => stack3((l) => mlp(l).W_out, m, d),
      b_out: () => stack2((l) => mlp(l).b_out),
    };
  }

  /** Token embedding [d_vocab, d_model]. */
  get W_E(): tf.Tensor2D { return this.get('W_E'); }
  /** Positional embedding [n_ctx, d_model]. */
  get W_pos(): tf.Tensor2D { return this.get('W_pos'); }
  /** Unembedding [d_model, d_vocab]. */
  get W_U(): tf.Tensor2D { return this.get('W_U'); }
  /** Unembedding bias [d_vocab]. */
  get b_U(): tf.Tensor1D { return this.get('b_U'); }
  /** Query weights [n_layers, n_heads, d_model, d_head]. */
  get W_Q(): tf.Tensor4D { return this.get('W_Q'); }
  /** Key weights [n_layers, n_heads, d_model, d_head]. */
  get W_K(): tf.Tensor4D { return this.get('W_K'); }
  /** Value weights [n_layers, n_heads, d_model, d_head]. */
  get W_V(): tf.Tensor4D { return this.get('W_V'); }
  /** Output weights [n_layers, n_heads, d_head, d_model]. */
  get W_O(): tf.Tensor4D { return this.get('W_O'); }
  /** Query biases [n_layers, n_heads, d_head]. */
  get b_Q(): tf.Tensor3D { return this.get('b_Q'); }
  /** Key biases [n_layers, n_heads, d_head]. */
  get b_K(): tf.Tensor3D { return this.get('b_K'); }
  /** Value biases [n_layers, n_heads, d_head]. */
  get b_V(): tf.Tensor3D { return this.get('b_V'); }
  /** Attention output biases [n_layers, d_model]. */
  get b_O(): tf.Tensor2D { return this.get('b_O'); }
  /** MLP input weights [n_layers, d_model, d_mlp]. @throws {@link "tfjs-lens"!ConfigError} for an attention-only model. */
  get W_in(): tf.Tensor3D { return this.get('W_in'); }
  /** MLP input biases [n_layers, d_mlp]. @throws {@link "tfjs-lens"!ConfigError} for an attention-only model. */
  get b_in(): tf.Tensor2D { return this.get('b_in'); }
  /** MLP output weights [n_layers, d_mlp, d_model]. @throws {@link "tfjs-lens"!ConfigError} for an attention-only model. */
  get W_out(): tf.Tensor3D { return this.get('W_out'); }
  /** MLP output biases [n_layers, d_model]. @throws {@link "tfjs-lens"!ConfigError} for an attention-only model. */
  get b_out(): tf.Tensor2D { return this.get('b_out'); }

  /** Free the cached stacked weights (they are rebuilt on next access). */
  dispose(): void {
    for (const t of Object.values(this.cache)) t.dispose();
    this.cache = {};
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
