/**
 * Residual-stream stacks over an {@link ActivationCache} (TL `ActivationCache.accumulated_resid`,
 * `decompose_resid`, `stack_activation`): the stream at each layer boundary (logit lens), or the
 * per-layer outputs whose sum is the stream (direct logit attribution).
 */
import * as tf from '@tensorflow/tfjs-core';
import { ConfigError } from '../errors.js';
import type { ActivationCache } from '../hooks/activation_cache.js';
import { actName } from '../hooks/act_name.js';
import { isRotary } from '../model/config.js';
import { applyLnToStack } from './apply_ln.js';
import { requireFamilyHook } from './families.js';
import { resolveLayer, slicePos, type AnalysisModel, type LabelledStack, type PosSlice } from './types.js';

/**
 * Options of {@link accumulatedResid}.
 * @category Analysis
 */
export interface AccumulatedResidOptions {
  /** Take streams up to the input of this layer; n_layers, -1 or undefined = all, plus `final_post`. */
  readonly layer?: number;
  /** Also include `resid_mid` of every layer before `layer` (a ConfigError for models without resid_mid). */
  readonly inclMid?: boolean;
  /**
   * End at the MLP input of `layer`: append its `resid_mid`; with parallel attention and MLP the
   * MLP reads `resid_pre`, the last entry already, so nothing is appended (ln2 is still the LayerNorm applied).
   */
  readonly mlpInput?: boolean;
  /** Apply the LayerNorm in front of `layer` (at the unembed: ln_final recomputed per component). */
  readonly applyLn?: boolean;
  /** Positions to keep (see {@link PosSlice}). */
  readonly posSlice?: PosSlice;
  /** Also return labels (`"0_pre"`, `"0_mid"`, `"final_post"`). */
  readonly returnLabels?: boolean;
}

/**
 * The accumulated residual stream at each layer boundary: `resid_pre` of every layer below
 * `layer` (optionally `resid_mid` too) and, at the unembed, `"final_post"` (the last `resid_post`).
 * With `applyLn` at the unembed every entry goes through ln_final with its own statistics (the
 * logit lens); for another layer the cached scale of that layer's LayerNorm is used.
 * Parallel-attention models (Pythia) and attention-only models have no `resid_mid`: `inclMid`
 * is refused there (TL raises a KeyError).
 * @param cache A full cache of the run.
 * @param model The model the cache came from.
 * @param opts Layer, mid streams, LayerNorm, position slice, labels.
 * @returns Stack [n, batch, pos, d_model] ([n, batch, d_model] for a single position), and the
 *   labels with `returnLabels`.
 * @throws {@link "tfjs-lens"!ConfigError} for a bad layer, or `inclMid` (or `mlpInput` without an MLP) on a model
 *   without resid_mid; {@link "tfjs-lens"!HookNameError} if a needed hook is not cached.
 * @example
 * const [stack, labels] = accumulatedResid(cache, model, { applyLn: true, posSlice: -1, returnLabels: true });
 * @category Analysis
 */
export function accumulatedResid(cache: ActivationCache, model: AnalysisModel, opts: AccumulatedResidOptions & { readonly returnLabels: true }): LabelledStack;
export function accumulatedResid(cache: ActivationCache, model: AnalysisModel, opts?: AccumulatedResidOptions): tf.Tensor;
export function accumulatedResid(cache: ActivationCache, model: AnalysisModel, opts: AccumulatedResidOptions = {}): tf.Tensor | LabelledStack {
  const nLayers = model.cfg.nLayers;
  const layer = resolveLayer(opts.layer, nLayers, 'accumulatedResid');
  const parallel = model.cfg.parallelAttnMlp === true;
  if (opts.inclMid === true && layer > 0) {
    requireFamilyHook(model.cfg, 'blocks.0.hook_resid_mid', 'accumulatedResid', 'drop inclMid (the stack of resid_pre streams is complete)');
  }
  if (opts.mlpInput === true && !parallel && layer < nLayers) requireFamilyHook(model.cfg, `blocks.${layer}.hook_resid_mid`, 'accumulatedResid');
  const names: string[] = [];
  const labels: string[] = [];
  for (let l = 0; l <= layer; l++) {
    if (l === nLayers) {
      names.push(`blocks.${nLayers - 1}.hook_resid_post`);
      labels.push('final_post');
      continue;
    }
    names.push(`blocks.${l}.hook_resid_pre`);
    labels.push(`${l}_pre`);
    // With parallel attention and MLP the MLP input of `layer` is its resid_pre, already the last entry.
    if ((opts.inclMid === true && l < layer) || (opts.mlpInput === true && l === layer && !parallel)) {
      names.push(`blocks.${l}.hook_resid_mid`);
      labels.push(`${l}_mid`);
    }
  }
  const tensors = names.map((n) => cache.get(n));
  const stack = tf.tidy(() => {
    const raw = tf.stack(tensors.map((t) => slicePos(t, opts.posSlice, -2, 'accumulatedResid')), 0); // [n, batch, pos, d_model]
    if (opts.applyLn !== true) return raw;
    return applyLnToStack(cache, model, raw, {
      layer,
      mlpInput: opts.mlpInput === true,
      posSlice: opts.posSlice,
      recomputeLn: layer === nLayers,
    });
  });
  return opts.returnLabels === true ? [stack, labels] : stack;
}

/**
 * The embedding rows of a decomposition: `hook_embed`, plus `hook_pos_embed` for learned positions
 * (rotary models have none; TL omits it). Decided by the architecture, not by what the cache holds,
 * so a cache missing `hook_pos_embed` of a GPT-2 model fails loudly instead of dropping a term.
 * @param model The model.
 * @returns `[hook name, label]` pairs.
 * @throws Never.
 * @example embedRows(gpt2)  // [['hook_embed', 'embed'], ['hook_pos_embed', 'pos_embed']]
 * @category Analysis
 */
export function embedRows(model: Pick<AnalysisModel, 'cfg'>): [string, string][] {
  const rows: [string, string][] = [['hook_embed', 'embed']];
  if (!isRotary(model.cfg)) rows.push(['hook_pos_embed', 'pos_embed']);
  return rows;
}

/**
 * Options of {@link decomposeResid}.
 * @category Analysis
 */
export interface DecomposeResidOptions {
  /** Decompose the input of this layer; n_layers, -1 or undefined = the unembed input. */
  readonly layer?: number;
  /** Decompose the MLP input of `layer` (adds that layer's `attn_out`, except with parallel attention and MLP). */
  readonly mlpInput?: boolean;
  /** 'all' (default), 'attn' (attention outputs only) or 'mlp' (MLP outputs only). */
  readonly mode?: 'all' | 'attn' | 'mlp';
  /** Apply the cached LayerNorm scale of the target layer ({@link applyLnToStack}). */
  readonly applyLn?: boolean;
  /** Positions to keep. */
  readonly posSlice?: PosSlice;
  /** Include `embed` and `pos_embed` (`pos_embed` only with learned positions; default true). */
  readonly inclEmbeds?: boolean;
  /** Also return labels (`"embed"`, `"pos_embed"`, `"0_attn_out"`, `"0_mlp_out"`, …). */
  readonly returnLabels?: boolean;
}

/**
 * Decompose the residual stream entering `layer` into the outputs that were added to it:
 * `[embed, pos_embed, 0_attn_out, 0_mlp_out, …]`. With every component included, the stack
 * sums to that layer's `resid_pre` (or `resid_mid` with `mlpInput`, or the last `resid_post`).
 * Rotary models have no `pos_embed` row (as TL). With parallel attention and MLP (Pythia) the MLP
 * input of `layer` is its `resid_pre`, so `mlpInput` adds no `attn_out` of `layer` (TL adds it, and
 * its stack then no longer sums to the MLP input).
 * @param cache A full cache of the run.
 * @param model The model the cache came from.
 * @param opts Layer, MLP input, mode, LayerNorm, position slice, embeddings, labels.
 * @returns Stack [n, batch, pos, d_model] (pos dropped for a single position), and labels with `returnLabels`.
 * @throws {@link "tfjs-lens"!ConfigError} for a bad layer or `mlpInput` at the unembed; {@link "tfjs-lens"!HookNameError} if a hook is missing.
 * @example
 * const [parts, labels] = decomposeResid(cache, model, { returnLabels: true });  // labels[2] === '0_attn_out'
 * @category Analysis
 */
export function decomposeResid(cache: ActivationCache, model: AnalysisModel, opts: DecomposeResidOptions & { readonly returnLabels: true }): LabelledStack;
export function decomposeResid(cache: ActivationCache, model: AnalysisModel, opts?: DecomposeResidOptions): tf.Tensor;
export function decomposeResid(cache: ActivationCache, model: AnalysisModel, opts: DecomposeResidOptions = {}): tf.Tensor | LabelledStack {
  const { nLayers, attnOnly } = model.cfg;
  const layer = resolveLayer(opts.layer, nLayers, 'decomposeResid');
  const mlpInput = opts.mlpInput === true;
  if (mlpInput && layer === nLayers) throw new ConfigError('decomposeResid: mlpInput is not allowed at the unembed');
  const mode = opts.mode ?? 'all';
  const inclAttn = mode !== 'mlp';
  const inclMlp = mode !== 'attn' && !attnOnly;
  const names: string[] = [];
  const labels: string[] = [];
  if (opts.inclEmbeds !== false) {
    for (const [n, label] of embedRows(model)) {
      names.push(n);
      labels.push(label);
    }
  }
  for (let l = 0; l < layer; l++) {
    if (inclAttn) {
      names.push(`blocks.${l}.hook_attn_out`);
      labels.push(`${l}_attn_out`);
    }
    if (inclMlp) {
      names.push(`blocks.${l}.hook_mlp_out`);
      labels.push(`${l}_mlp_out`);
    }
  }
  if (mlpInput && inclAttn && model.cfg.parallelAttnMlp !== true) {
    names.push(`blocks.${layer}.hook_attn_out`);
    labels.push(`${layer}_attn_out`);
  }
  if (names.length === 0) throw new ConfigError('decomposeResid: nothing to stack (no embeddings cached and no layers selected)');
  const tensors = names.map((n) => cache.get(n));
  const stack = tf.tidy(() => {
    const raw = tf.stack(tensors.map((t) => slicePos(t, opts.posSlice, -2, 'decomposeResid')), 0); // [n, batch, pos, d_model]
    return opts.applyLn === true ? applyLnToStack(cache, model, raw, { layer, mlpInput, posSlice: opts.posSlice }) : raw;
  });
  return opts.returnLabels === true ? [stack, labels] : stack;
}

/**
 * Stack one activation over layers (TL `stack_activation`): `[act(0), …, act(layer - 1)]`.
 * @param cache The cache.
 * @param model The model (for n_layers).
 * @param activationName TL short name (`'pattern'`, `'resid_post'`, `'scale'` …) or a full per-layer name template's short form.
 * @param layer Exclusive upper layer; -1 or undefined = n_layers.
 * @param sublayerType Disambiguator passed to {@link actName} (`'ln1'`, `'ln2'`, `'attn'` …).
 * @returns New tensor [layers, ...activation shape].
 * @throws {@link "tfjs-lens"!HookNameError} if a layer's activation is not cached; {@link "tfjs-lens"!ConfigError} for a bad layer or layer 0.
 * @example const patterns = stackActivation(cache, model, 'pattern');  // [n_layers, batch, n_heads, pos, pos]
 * @category Analysis
 */
export function stackActivation(
  cache: ActivationCache,
  model: AnalysisModel,
  activationName: string,
  layer?: number,
  sublayerType?: string,
): tf.Tensor {
  const upTo = resolveLayer(layer, model.cfg.nLayers, 'stackActivation');
  if (upTo === 0) throw new ConfigError('stackActivation: layer 0 selects no layers');
  const tensors = Array.from({ length: upTo }, (_, l) => cache.get(actName(activationName, l, sublayerType)));
  return tf.tidy(() => tf.stack(tensors, 0));
}
