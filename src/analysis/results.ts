/**
 * Per-neuron and per-head results computed from a cache (TL `ActivationCache.get_neuron_results`,
 * `compute_head_results`): post[n]·W_out[n] for a layer's neurons, and z_h·W_O[h] stored back as
 * `attn.hook_result`. Robust to a cache without a batch dimension.
 */
import * as tf from '@tensorflow/tfjs-core';
import { ConfigError } from '../errors.js';
import type { ActivationCache } from '../hooks/activation_cache.js';
import { slicePos, weight, type AnalysisModel, type PosSlice } from './types.js';

/** A layer index in [0, n_layers), negative counting from the end. */
function blockLayer(layer: number, nLayers: number, fn: string): number {
  const l = layer < 0 ? layer + nLayers : layer;
  if (!Number.isInteger(layer) || l < 0 || l >= nLayers) {
    throw new ConfigError(`${fn}: layer must be an integer in [-${nLayers}, ${nLayers}), got ${layer}`);
  }
  return l;
}

/**
 * Neuron results of one layer, to be called inside a tidy: post (pos-sliced at axis -2, then
 * neuron-sliced at -1) times the matching rows of W_out.
 */
export function neuronResults(cache: ActivationCache, model: AnalysisModel, layer: number, neuronSlice: PosSlice | undefined, posSlice: PosSlice | undefined, fn: string): tf.Tensor {
  const { nLayers, dMlp, dModel, attnOnly } = model.cfg;
  if (attnOnly) throw new ConfigError(`${fn}: an attention-only model has no MLP neurons`);
  const l = blockLayer(layer, nLayers, fn);
  let acts = slicePos(cache.get(`blocks.${l}.mlp.hook_post`), posSlice, -2, fn); // [batch?, pos?, d_mlp]
  let wOut: tf.Tensor = tf.reshape(tf.slice(weight(model, 'W_out'), [l, 0, 0], [1, dMlp, dModel]), [dMlp, dModel]); // [d_mlp, d_model]
  acts = slicePos(acts, neuronSlice, -1, fn, 'neuron'); // [batch?, pos?, n] ([batch?, pos?] for one neuron)
  wOut = slicePos(wOut, neuronSlice, 0, fn, 'neuron'); // [n, d_model] ([d_model] for one neuron)
  return tf.mul(tf.expandDims(acts, -1), wOut); // [batch?, pos?, n, d_model]
}

/**
 * How much each neuron of one layer writes to the residual stream, post[n]·W_out[n] (TL
 * `get_neuron_results`; b_out not included). Not cached: it is large and cheap to compute.
 * @param cache Cache with `blocks.{layer}.mlp.hook_post` (with or without a batch dimension).
 * @param model The model the cache came from.
 * @param layer Layer index; negative counts from the end.
 * @param neuronSlice Neurons to keep (index, list, range, `Slice`; default all). An integer drops the neuron axis, as TL.
 * @param posSlice Positions to keep (default all); an integer drops the position axis.
 * @returns New tensor [batch, pos, n_neurons, d_model] (axes dropped as the slices say).
 * @throws {@link "tfjs-lens"!ConfigError} for an attention-only model or a bad layer;
 *   {@link "tfjs-lens"!ShapeError} for indices out of range; {@link "tfjs-lens"!HookNameError} if post was not cached.
 * @example const top = getNeuronResults(cache, model, 1, [0, 1], -1);  // [batch, 2, d_model]
 * @category Analysis
 */
export function getNeuronResults(cache: ActivationCache, model: AnalysisModel, layer: number, neuronSlice?: PosSlice, posSlice?: PosSlice): tf.Tensor {
  return tf.tidy(() => neuronResults(cache, model, layer, neuronSlice, posSlice, 'getNeuronResults'));
}

/**
 * Add every layer's per-head results to the cache as `blocks.{l}.attn.hook_result`
 * ([batch, pos, n_heads, d_model]: z_h·W_O[h], without b_O), computed from `attn.hook_z` (TL
 * `compute_head_results`). If `blocks.0.attn.hook_result` is already there (cached by a run with
 * `useAttnResult`, or computed before), nothing is recomputed and a warning is printed, as TL.
 * @param cache Cache with every layer's `attn.hook_z`; it gains the results (and owns them).
 * @param model The model the cache came from.
 * @throws {@link "tfjs-lens"!HookNameError} if some `hook_z` was not cached.
 * @example computeHeadResults(cache, model); cache.get('result', 0);  // [batch, pos, n_heads, d_model]
 * @category Analysis
 */
export function computeHeadResults(cache: ActivationCache, model: AnalysisModel): void {
  if (cache.has('blocks.0.attn.hook_result')) {
    console.warn('computeHeadResults: tried to compute head results when they were already cached');
    return;
  }
  const { nLayers, nHeads, dHead, dModel } = model.cfg;
  const zs = Array.from({ length: nLayers }, (_, l) => cache.get(`blocks.${l}.attn.hook_z`)); // fail before adding any
  const results = zs.map((z, l) =>
    tf.tidy(() => {
      const lead = z.shape.slice(0, -2); // [batch?, pos]
      const rows = lead.reduce((a, b) => a * b, 1);
      const zh = tf.transpose(tf.reshape(z, [rows, nHeads, dHead]), [1, 0, 2]); // [n_heads, rows, d_head]
      const wO = tf.reshape(tf.slice(weight(model, 'W_O'), [l, 0, 0, 0], [1, nHeads, dHead, dModel]), [nHeads, dHead, dModel]); // [n_heads, d_head, d_model]
      const out = tf.transpose(tf.matMul(zh, wO), [1, 0, 2]); // [rows, n_heads, d_model]
      return tf.reshape(out, [...lead, nHeads, dModel]); // [batch?, pos, n_heads, d_model]
    }),
  );
  results.forEach((r, l) => cache.set(`blocks.${l}.attn.hook_result`, r));
}
