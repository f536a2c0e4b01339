/**
 * Finer residual decompositions (TL `ActivationCache.stack_head_results`, `stack_neuron_results`,
 * `get_full_resid_decomposition`, `HookedTransformer.accumulated_bias`): per-head outputs z·W_O[h]
 * (computed from `hook_z` when `attn.hook_result` was not cached), per-neuron outputs post·W_out[n],
 * the embeddings and the summed output biases.
 */
import * as tf from '@tensorflow/tfjs-core';
import { ConfigError } from '../errors.js';
import type { ActivationCache } from '../hooks/activation_cache.js';
import { Slice } from '../utils/slice.js';
import { applyLnToStack } from './apply_ln.js';
import { neuronResults } from './results.js';
import { decomposeResid, embedRows } from './residual.js';
import { moveAxisToFront, resolveLayer, slicePos, weight, type AnalysisModel, type LabelledStack, type PosSlice } from './types.js';

/**
 * Head outputs of one layer as components: [n_heads, batch, pos, d_model] (pos dropped for a
 * single position). Uses the cached `attn.hook_result` if present, else z·W_O[layer] (no b_O).
 * Call inside a tidy.
 */
function headResults(cache: ActivationCache, model: AnalysisModel, layer: number, posSlice: PosSlice | undefined): tf.Tensor {
  const { nHeads, dHead, dModel } = model.cfg;
  const resultName = `blocks.${layer}.attn.hook_result`;
  if (cache.has(resultName)) {
    const r = slicePos(cache.get(resultName), posSlice, -3, 'stackHeadResults'); // [batch, pos, n_heads, d_model]
    return moveAxisToFront(r, r.rank - 2); // [n_heads, batch, pos, d_model]
  }
  const z = slicePos(cache.get(`blocks.${layer}.attn.hook_z`), posSlice, -3, 'stackHeadResults'); // [batch, pos, n_heads, d_head]
  const lead = z.shape.slice(0, -2);
  const rows = lead.reduce((a, b) => a * b, 1);
  const zh = tf.transpose(tf.reshape(z, [rows, nHeads, dHead]), [1, 0, 2]); // [n_heads, batch*pos, d_head]
  const wO = tf.reshape(tf.slice(weight(model, 'W_O'), [layer, 0, 0, 0], [1, nHeads, dHead, dModel]), [nHeads, dHead, dModel]); // [n_heads, d_head, d_model]
  const out = tf.matMul(zh, wO); // [n_heads, batch*pos, d_model]
  return tf.reshape(out, [nHeads, ...lead, dModel]); // [n_heads, batch, pos, d_model]
}

/**
 * TL's "remainder" row, to be called inside a tidy: `resid_post[layer - 1]` (pos-sliced) minus the
 * sum of `parts` ([1, batch?, pos?, d_model]). At layer 0 TL indexes `resid_post[-1]`, the last
 * layer's output: kept as TL.
 */
function remainder(cache: ActivationCache, model: AnalysisModel, layer: number, parts: tf.Tensor[], posSlice: PosSlice | undefined, fn: string): tf.Tensor {
  const src = layer === 0 ? model.cfg.nLayers - 1 : layer - 1;
  let rest = slicePos(cache.get(`blocks.${src}.hook_resid_post`), posSlice, -2, fn); // [batch?, pos?, d_model]
  if (parts.length > 0) rest = tf.sub(rest, tf.sum(tf.concat(parts, 0), 0));
  return tf.expandDims(rest, 0); // [1, batch?, pos?, d_model]
}

/**
 * Options of {@link stackHeadResults}.
 * @category Analysis
 */
export interface StackHeadResultsOptions {
  /** Heads of every layer strictly below this; n_layers, -1 or undefined = all layers. */
  readonly layer?: number;
  /** Also return labels `"L{l}H{h}"` (and `"remainder"`). */
  readonly returnLabels?: boolean;
  /**
   * Append `"remainder"` = `resid_post[layer - 1]` − Σ heads (embeddings, biases, MLPs). At
   * layer 0 it is the last layer's resid_post, as TL (Python's `[-1]`).
   */
  readonly inclRemainder?: boolean;
  /** Positions to keep. */
  readonly posSlice?: PosSlice;
  /** Apply the cached LayerNorm scale in front of `layer` ({@link applyLnToStack}). */
  readonly applyLn?: boolean;
}

/**
 * Every attention head's direct contribution to the residual stream, layer by layer:
 * `[L0H0, L0H1, …]`, each z_h·W_O[h] (b_O is not included; it is part of the bias term).
 * @param cache Cache with `attn.hook_z` (or `attn.hook_result`) of the layers, and the residual for the remainder.
 * @param model The model the cache came from.
 * @param opts Layer, labels, remainder, position slice, LayerNorm.
 * @returns Stack [layer·n_heads (+1), batch, pos, d_model], and labels with `returnLabels`.
 * @throws {@link "tfjs-lens"!ConfigError} for a bad layer; {@link "tfjs-lens"!HookNameError} if z/result is not cached.
 * @example
 * const [heads, labels] = stackHeadResults(cache, model, { posSlice: -1, returnLabels: true });  // labels[1] === 'L0H1'
 * @category Analysis
 */
export function stackHeadResults(cache: ActivationCache, model: AnalysisModel, opts: StackHeadResultsOptions & { readonly returnLabels: true }): LabelledStack;
export function stackHeadResults(cache: ActivationCache, model: AnalysisModel, opts?: StackHeadResultsOptions): tf.Tensor;
export function stackHeadResults(cache: ActivationCache, model: AnalysisModel, opts: StackHeadResultsOptions = {}): tf.Tensor | LabelledStack {
  const { nLayers, nHeads, dModel } = model.cfg;
  const layer = resolveLayer(opts.layer, nLayers, 'stackHeadResults');
  const labels: string[] = [];
  for (let l = 0; l < layer; l++) for (let h = 0; h < nHeads; h++) labels.push(`L${l}H${h}`);
  if (opts.inclRemainder === true) labels.push('remainder');
  const stack = tf.tidy(() => {
    const parts: tf.Tensor[] = [];
    for (let l = 0; l < layer; l++) parts.push(headResults(cache, model, l, opts.posSlice));
    if (opts.inclRemainder === true) parts.push(remainder(cache, model, layer, parts, opts.posSlice, 'stackHeadResults'));
    let out: tf.Tensor;
    if (parts.length > 0) out = tf.concat(parts, 0); // [n, batch, pos, d_model]
    else {
      const shape = slicePos(cache.get('hook_embed'), opts.posSlice, -2, 'stackHeadResults').shape;
      out = tf.zeros([0, ...shape.slice(0, -1), dModel]);
    }
    return opts.applyLn === true && out.shape[0] !== 0 ? applyLnToStack(cache, model, out, { layer, posSlice: opts.posSlice }) : out;
  });
  return opts.returnLabels === true ? [stack, labels] : stack;
}

/**
 * Options of {@link stackNeuronResults}.
 * @category Analysis
 */
export interface StackNeuronResultsOptions {
  /** Neurons of every layer strictly below this; n_layers, -1 or undefined = all layers. */
  readonly layer?: number;
  /** Positions to keep. */
  readonly posSlice?: PosSlice;
  /**
   * Neurons to keep in every layer (TL `neuron_slice`: index, list, range or `Slice`; default
   * all). A single index keeps its axis here (TL would drop it and then mis-concatenate).
   */
  readonly neuronSlice?: PosSlice;
  /** Also return labels `"L{l}N{n}"` (and `"remainder"`). */
  readonly returnLabels?: boolean;
  /**
   * Append `"remainder"` = `resid_post[layer - 1]` − Σ neurons (TL `incl_remainder`); at layer 0
   * the last layer's resid_post, as TL.
   */
  readonly inclRemainder?: boolean;
  /** Apply the cached LayerNorm scale in front of `layer`. */
  readonly applyLn?: boolean;
  /** Treat the stack as the MLP input of `layer` (ln2 scale). */
  readonly mlpInput?: boolean;
}

/**
 * Every MLP neuron's direct contribution: post[n]·W_out[n] for each layer below `layer`
 * (b_out is not included), TL `stack_neuron_results`. Memory: layer·d_mlp·batch·pos·d_model
 * floats — small models or short inputs only, as TL warns (use `neuronSlice` to keep fewer).
 * @param cache Cache with `mlp.hook_post` of the layers (with or without a batch dimension).
 * @param model The model the cache came from.
 * @param opts Layer, position and neuron slices, labels, remainder, LayerNorm.
 * @returns Stack [layer·n_neurons (+1), batch, pos, d_model], and labels with `returnLabels`.
 * @throws {@link "tfjs-lens"!ConfigError} for an attention-only model or a bad layer; {@link "tfjs-lens"!HookNameError} if post is missing;
 *   {@link "tfjs-lens"!ShapeError} for a neuron index out of range.
 * @example const neurons = stackNeuronResults(cache, model, { layer: 1, posSlice: -1 });
 * @example const [some, labels] = stackNeuronResults(cache, model, { neuronSlice: [0, 1, 2], returnLabels: true });
 * @category Analysis
 */
export function stackNeuronResults(cache: ActivationCache, model: AnalysisModel, opts: StackNeuronResultsOptions & { readonly returnLabels: true }): LabelledStack;
export function stackNeuronResults(cache: ActivationCache, model: AnalysisModel, opts?: StackNeuronResultsOptions): tf.Tensor;
export function stackNeuronResults(cache: ActivationCache, model: AnalysisModel, opts: StackNeuronResultsOptions = {}): tf.Tensor | LabelledStack {
  const { nLayers, dMlp, attnOnly } = model.cfg;
  if (attnOnly) throw new ConfigError('stackNeuronResults: an attention-only model has no MLP neurons');
  const layer = resolveLayer(opts.layer, nLayers, 'stackNeuronResults');
  const neuronSlice = opts.neuronSlice === undefined || opts.neuronSlice === null ? undefined : Slice.unwrap(opts.neuronSlice);
  const neurons = neuronSlice === undefined ? Array.from({ length: dMlp }, (_, n) => n) : neuronSlice.indices(dMlp);
  const labels: string[] = [];
  for (let l = 0; l < layer; l++) for (const n of neurons) labels.push(`L${l}N${n}`);
  if (opts.inclRemainder === true) labels.push('remainder');
  const stack = tf.tidy(() => {
    const parts: tf.Tensor[] = [];
    for (let l = 0; l < layer; l++) {
      const res = neuronResults(cache, model, l, neuronSlice, opts.posSlice, 'stackNeuronResults'); // [batch?, pos?, n, d_model]
      parts.push(moveAxisToFront(res, res.rank - 2)); // [n, batch?, pos?, d_model]
    }
    if (opts.inclRemainder === true) parts.push(remainder(cache, model, layer, parts, opts.posSlice, 'stackNeuronResults'));
    let out: tf.Tensor;
    if (parts.length > 0) out = tf.concat(parts, 0);
    else out = tf.zeros([0, ...slicePos(cache.get('hook_embed'), opts.posSlice, -2, 'stackNeuronResults').shape]);
    if (opts.applyLn !== true || out.shape[0] === 0) return out;
    return applyLnToStack(cache, model, out, { layer, mlpInput: opts.mlpInput === true, posSlice: opts.posSlice });
  });
  return opts.returnLabels === true ? [stack, labels] : stack;
}

/**
 * The summed output biases up to the input of `layer` (TL `HookedTransformer.accumulated_bias`):
 * Σ_{l<layer} (b_O[l] + b_out[l]), plus b_O[layer] with `mlpInput` (not with parallel attention
 * and MLP, whose MLP reads resid_pre; TL adds it there too).
 * @param model The model.
 * @param layer Layer in [0, n_layers] (0 = none).
 * @param mlpInput Include the attention bias of `layer` itself.
 * @param includeMlpBiases Include b_out (false when MLP outputs are kept whole elsewhere).
 * @returns New tensor [d_model].
 * @throws {@link "tfjs-lens"!ConfigError} for a bad layer, or `mlpInput` at layer n_layers.
 * @example const bias = accumulatedBias(model, model.cfg.nLayers);  // [d_model]
 * @category Analysis
 */
export function accumulatedBias(model: AnalysisModel, layer: number, mlpInput = false, includeMlpBiases = true): tf.Tensor1D {
  const { nLayers, dModel, attnOnly } = model.cfg;
  if (!Number.isInteger(layer) || layer < 0 || layer > nLayers) {
    throw new ConfigError(`accumulatedBias: layer must be in [0, ${nLayers}], got ${layer}`);
  }
  if (mlpInput && layer === nLayers) throw new ConfigError('accumulatedBias: mlpInput needs layer < n_layers');
  return tf.tidy(() => {
    let acc = tf.zeros<tf.Rank.R1>([dModel]);
    const row = (w: tf.Tensor, l: number): tf.Tensor1D => tf.reshape(tf.slice(w, [l, 0], [1, dModel]), [dModel]); // [d_model]
    for (let l = 0; l < layer; l++) {
      acc = tf.add(acc, row(weight(model, 'b_O'), l));
      if (includeMlpBiases && !attnOnly) acc = tf.add(acc, row(weight(model, 'b_out'), l));
    }
    if (mlpInput && model.cfg.parallelAttnMlp !== true) acc = tf.add(acc, row(weight(model, 'b_O'), layer));
    return acc;
  });
}

/**
 * Options of {@link getFullResidDecomposition}.
 * @category Analysis
 */
export interface FullDecompositionOptions {
  /** Decompose the input of this layer; n_layers, -1 or undefined = the unembed input. */
  readonly layer?: number;
  /** Decompose the MLP input of `layer`. */
  readonly mlpInput?: boolean;
  /** One row per neuron (default true, as TL) instead of one per MLP layer. */
  readonly expandNeurons?: boolean;
  /** Apply the cached LayerNorm scale of the target layer. */
  readonly applyLn?: boolean;
  /** Positions to keep. */
  readonly posSlice?: PosSlice;
  /** Also return labels. */
  readonly returnLabels?: boolean;
}

/**
 * The residual stream entering `layer`, split into every head, every neuron (or MLP layer), the
 * embeddings and the summed biases: rows `[L0H0 …, L0N0 … | 0_mlp_out …, embed, pos_embed, bias]`.
 * The rows sum to the stream; with `applyLn` they sum to the normalised stream (before ln w/b).
 * Rotary models have no `pos_embed` row; with parallel attention and MLP the MLP input of `layer`
 * is its resid_pre, so `mlpInput` adds none of that layer's heads.
 * @param cache A full cache of the run.
 * @param model The model the cache came from.
 * @param opts Layer, MLP input, neuron expansion, LayerNorm, position slice, labels.
 * @returns Stack [n, batch, pos, d_model], and labels with `returnLabels`.
 * @throws {@link "tfjs-lens"!ConfigError} for a bad layer or `mlpInput` at the unembed; {@link "tfjs-lens"!HookNameError} for missing hooks.
 * @example
 * const [parts, labels] = getFullResidDecomposition(cache, model, { applyLn: true, posSlice: -1, returnLabels: true });
 * @category Analysis
 */
export function getFullResidDecomposition(cache: ActivationCache, model: AnalysisModel, opts: FullDecompositionOptions & { readonly returnLabels: true }): LabelledStack;
export function getFullResidDecomposition(cache: ActivationCache, model: AnalysisModel, opts?: FullDecompositionOptions): tf.Tensor;
export function getFullResidDecomposition(cache: ActivationCache, model: AnalysisModel, opts: FullDecompositionOptions = {}): tf.Tensor | LabelledStack {
  const { nLayers, attnOnly } = model.cfg;
  const layer = resolveLayer(opts.layer, nLayers, 'getFullResidDecomposition');
  const mlpInput = opts.mlpInput === true;
  if (mlpInput && layer === nLayers) throw new ConfigError('getFullResidDecomposition: mlpInput is not allowed at the unembed');
  const expand = opts.expandNeurons !== false;
  const posSlice = opts.posSlice;
  const labels: string[] = [];
  // The MLP input of `layer` holds that layer's heads, unless attention and MLP run in parallel.
  const headLayers = layer + (mlpInput && model.cfg.parallelAttnMlp !== true ? 1 : 0);
  const stack = tf.tidy(() => {
    const [heads, headLabels] = stackHeadResults(cache, model, { layer: headLayers, posSlice, returnLabels: true });
    labels.push(...headLabels);
    const parts: tf.Tensor[] = [heads];
    if (!attnOnly && layer > 0) {
      const [mlps, mlpLabels] = expand
        ? stackNeuronResults(cache, model, { layer, posSlice, returnLabels: true })
        : decomposeResid(cache, model, { layer, mlpInput, posSlice, inclEmbeds: false, mode: 'mlp', returnLabels: true });
      labels.push(...mlpLabels);
      parts.push(mlps);
    }
    for (const [n, label] of embedRows(model)) {
      parts.push(tf.expandDims(slicePos(cache.get(n), posSlice, -2, 'getFullResidDecomposition'), 0));
      labels.push(label);
    }
    const bias = accumulatedBias(model, layer, mlpInput, expand); // [d_model]
    parts.push(tf.broadcastTo(bias, [1, ...heads.shape.slice(1)]));
    labels.push('bias');
    const all = tf.concat(parts, 0); // [n, batch, pos, d_model]
    return opts.applyLn === true ? applyLnToStack(cache, model, all, { layer, mlpInput, posSlice }) : all;
  });
  return opts.returnLabels === true ? [stack, labels] : stack;
}
