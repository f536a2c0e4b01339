/**
 * TransformerLens-named weights of a decoder, stacked over layers as TL's properties
 * (`model.W_Q` is [n_layers, n_heads, d_model, d_head]). Built on first access and cached; the
 * view owns them (do not dispose), and frees them with the model.
 */
import * as tf from '@tensorflow/tfjs-core';
import { ConfigError } from '../errors.js';
import { kvHeads, type ModelConfig } from './config.js';
import { toHeadsIn, type DecoderParams, type MlpParams, type NormParams } from './params.js';

/** Repeat each key/value head's columns for its group of query heads: [rows, n_kv*d_head] → [rows, n_heads*d_head]. */
function expandKvCols(w: tf.Tensor2D, nKv: number, g: number): tf.Tensor2D {
  if (g === 1) return w;
  const [rows, cols] = w.shape;
  const e = cols / nKv;
  return tf.reshape(tf.tile(tf.reshape(w, [rows, nKv, 1, e]), [1, 1, g, 1]), [rows, nKv * g * e]);
}

/** Whether the model has grouped key/value heads (TL then names them `_W_K`, `_b_K`, … in its state dict). */
function grouped(cfg: ModelConfig): boolean {
  return kvHeads(cfg) !== cfg.nHeads;
}

/** TL weight names exposed by {@link WeightsView}. @category Model */
export type WeightName =
  | 'W_E' | 'W_pos' | 'W_U' | 'b_U'
  | 'W_Q' | 'W_K' | 'W_V' | 'W_O' | 'b_Q' | 'b_K' | 'b_V' | 'b_O'
  | 'W_in' | 'b_in' | 'W_out' | 'b_out' | 'W_gate';

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
  /** [n_layers, d_model, d_mlp] (gated MLPs) */ readonly W_gate: tf.Tensor3D;
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
   * d_model, d_mlp], b_in [n_layers, d_mlp], W_out [n_layers, d_mlp, d_model], b_out [n_layers, d_model],
   * W_gate [n_layers, d_model, d_mlp]. With grouped-query attention W_K, W_V, b_K and b_V are
   * expanded per query head, as TL's properties are.
   * @param name TL weight name.
   * @returns The tensor (owned by the model), typed by its rank.
   * @throws {@link "tfjs-lens"!ConfigError} for MLP weights of an attention-only model, W_pos of a
   *   rotary model, W_gate of an ungated MLP.
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
    const gate = (l: number): tf.Tensor2D => {
      const w = mlp(l).W_gate;
      if (w === undefined) throw new ConfigError(`WeightsView.get: 'W_gate' exists only in gated-MLP models (Llama family); this model's MLP is ungated`);
      return w;
    };
    const wPos = (): tf.Tensor2D => {
      if (p.W_pos === undefined) throw new ConfigError(`WeightsView.get: 'W_pos' does not exist in a rotary-position model (positions rotate q and k)`);
      return p.W_pos;
    };
    const nKv = kvHeads(this.cfg);
    const g = h / nKv;
    const kvCols = (w: tf.Tensor2D): tf.Tensor2D => expandKvCols(w, nKv, g); // [d_model, n_heads*d_head]
    const kvBias = (b: tf.Tensor1D): tf.Tensor => expandKvCols(tf.reshape(b, [1, -1]), nKv, g); // [1, n_heads*d_head]
    const layers = (f: (l: number) => tf.Tensor): tf.Tensor => tf.stack(p.blocks.map((_, l) => f(l)));
    const stack2 = (f: (l: number) => tf.Tensor): tf.Tensor2D => tf.reshape(layers(f), [n, -1]);
    const stack3 = (f: (l: number) => tf.Tensor, a: number, b: number): tf.Tensor3D => tf.reshape(layers(f), [n, a, b]);
    const stack4 = (f: (l: number) => tf.Tensor, a: number, b: number, c: number): tf.Tensor4D => tf.reshape(layers(f), [n, a, b, c]);
    const headsIn = (w: tf.Tensor2D): tf.Tensor => toHeadsIn(w, h); // [n_heads, d_model, d_head]
    return {
      W_E: () => alias2(p.W_E),
      W_pos: () => alias2(wPos()),
      W_U: () => alias2(p.W_U),
      b_U: () => alias1(p.b_U),
      W_Q: () => stack4((l) => headsIn(blk(l).attn.wQ), h, d, e),
      W_K: () => stack4((l) => headsIn(kvCols(blk(l).attn.wK)), h, d, e),
      W_V: () => stack4((l) => headsIn(kvCols(blk(l).attn.wV)), h, d, e),
      W_O: () => stack4((l) => blk(l).attn.wO, h, e, d), // [n_layers, n_heads, d_head, d_model]
      b_Q: () => stack3((l) => blk(l).attn.bQ, h, e),
      b_K: () => stack3((l) => kvBias(blk(l).attn.bK), h, e),
      b_V: () => stack3((l) => kvBias(blk(l).attn.bV), h, e),
      b_O: () => stack2((l) => blk(l).attn.bO),
      W_in: () => stack3((l) => mlp(l).W_in, d, m),
      b_in: () => stack2((l) => mlp(l).b_in),
      W_out: () => stack3((l) => mlp(l).W_out, m, d),
      b_out: () => stack2((l) => mlp(l).b_out),
      W_gate: () => stack3((l) => gate(l), d, m),
    };
  }

  /** Token embedding [d_vocab, d_model]. */
  get W_E(): tf.Tensor2D { return this.get('W_E'); }
  /** Positional embedding [n_ctx, d_model]. @throws {@link "tfjs-lens"!ConfigError} for a rotary model. */
  get W_pos(): tf.Tensor2D { return this.get('W_pos'); }
  /** Unembedding [d_model, d_vocab]. */
  get W_U(): tf.Tensor2D { return this.get('W_U'); }
  /** Unembedding bias [d_vocab]. */
  get b_U(): tf.Tensor1D { return this.get('b_U'); }
  /** Query weights [n_layers, n_heads, d_model, d_head]. */
  get W_Q(): tf.Tensor4D { return this.get('W_Q'); }
  /** Key weights [n_layers, n_heads, d_model, d_head] (expanded per query head with GQA). */
  get W_K(): tf.Tensor4D { return this.get('W_K'); }
  /** Value weights [n_layers, n_heads, d_model, d_head] (expanded per query head with GQA). */
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
  /** Gate weights [n_layers, d_model, d_mlp]. @throws {@link "tfjs-lens"!ConfigError} for an ungated MLP. */
  get W_gate(): tf.Tensor3D { return this.get('W_gate'); }

  /** Free the cached stacked weights (they are rebuilt on next access). */
  dispose(): void {
    for (const t of Object.values(this.cache)) t.dispose();
    this.cache = {};
  }
}

/**
 * Parameters under TransformerLens state-dict names and layouts (`embed.W_E`,
 * `blocks.0.attn.W_Q` [n_heads, d_model, d_head], `blocks.0.ln1.w`, `unembed.W_U`, …). With
 * grouped-query attention the key/value weights are TL's `attn._W_K` [n_kv_heads, d_model, d_head],
 * `_b_K`, `_W_V`, `_b_V`; rotary models have no `pos_embed.W_pos`; RMSNorm has no `ln*.b`.
 * @param p Parameters.
 * @param cfg Config.
 * @returns New tensors keyed by TL name (the caller disposes them).
 * @category Model
 */
export function tlStateDict(p: DecoderParams, cfg: ModelConfig): Map<string, tf.Tensor> {
  // tidy only keeps tensors found in arrays/objects, so build the entries as an array of pairs.
  const pairs = tf.tidy(() => {
    const { nHeads: h, dHead: e, dModel: d } = cfg;
    const nKv = kvHeads(cfg);
    const kvName = grouped(cfg) ? '_' : ''; // TL's GQA attention stores _W_K, _b_K, _W_V, _b_V
    const out = new Map<string, tf.Tensor>();
    const alias = (t: tf.Tensor): tf.Tensor => tf.reshape(t, t.shape);
    const norm = (name: string, n: NormParams | undefined): void => {
      if (n === undefined) return;
      out.set(`${name}.w`, alias(n.w));
      if (n.b !== undefined) out.set(`${name}.b`, alias(n.b));
    };
    out.set('embed.W_E', alias(p.W_E));
    if (p.W_pos !== undefined) out.set('pos_embed.W_pos', alias(p.W_pos));
    p.blocks.forEach((b, l) => {
      const k = `blocks.${l}.`;
      norm(`${k}ln1`, b.ln1);
      norm(`${k}ln2`, b.ln2);
      const a = b.attn;
      out.set(`${k}attn.W_Q`, toHeadsIn(a.wQ, h)); // [n_heads, d_model, d_head]
      out.set(`${k}attn.${kvName}W_K`, toHeadsIn(a.wK, nKv)).set(`${k}attn.${kvName}W_V`, toHeadsIn(a.wV, nKv)); // [n_kv_heads, d_model, d_head]
      out.set(`${k}attn.W_O`, tf.reshape(a.wO, [h, e, d])); // [n_heads, d_head, d_model]
      out.set(`${k}attn.b_Q`, tf.reshape(a.bQ, [h, e])).set(`${k}attn.${kvName}b_K`, tf.reshape(a.bK, [nKv, e]));
      out.set(`${k}attn.${kvName}b_V`, tf.reshape(a.bV, [nKv, e])).set(`${k}attn.b_O`, alias(a.bO));
      if (b.mlp !== undefined) {
        if (b.mlp.W_gate !== undefined) out.set(`${k}mlp.W_gate`, alias(b.mlp.W_gate));
        out.set(`${k}mlp.W_in`, alias(b.mlp.W_in)).set(`${k}mlp.b_in`, alias(b.mlp.b_in));
        out.set(`${k}mlp.W_out`, alias(b.mlp.W_out)).set(`${k}mlp.b_out`, alias(b.mlp.b_out));
      }
    });
    norm('ln_final', p.lnFinal);
    out.set('unembed.W_U', alias(p.W_U)).set('unembed.b_U', alias(p.b_U));
    return [...out.entries()].map(([k, t]) => ({ k, t }));
  });
  return new Map(pairs.map(({ k, t }) => [k, t]));
}
