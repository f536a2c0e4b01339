/**
 * Ready-made readouts with plain-array results for reports and plots: the logit lens (each layer's
 * accumulated stream through ln_final and W_U; nostalgebraist 2020, TL `tools/analysis/logit_lens`)
 * and direct logit attribution per layer, head or neuron (TL `logit_attrs` over a decomposition).
 */
import * as tf from '@tensorflow/tfjs-core';
import { ConfigError, ShapeError } from '../errors.js';
import type { ActivationCache } from '../hooks/activation_cache.js';
import { getFullResidDecomposition } from './components.js';
import { logitAttrs, resolveTokenSpec } from './logit_attrs.js';
import { accumulatedResid, decomposeResid } from './residual.js';
import { weight, type AnalysisModel, type TokenSpec } from './types.js';

/**
 * Options of {@link logitLens}.
 * @category Analysis
 */
export interface LogitLensOptions {
  /** Position to read (default -1, the last). */
  readonly pos?: number;
  /** Target tokens to track (ids or single-token strings), shared by every prompt. */
  readonly targets?: readonly (number | string)[];
  /** Also report the k highest tokens at each layer. */
  readonly topK?: number;
  /** 'logits' (default), 'logProbs' or 'probs'. */
  readonly returnType?: 'logits' | 'logProbs' | 'probs';
  /** Include `resid_mid` streams too. */
  readonly inclMid?: boolean;
}

/**
 * Plain-array logit-lens result; `[layer]` indexes {@link LogitLensResult.labels}.
 * @category Analysis
 */
export interface LogitLensResult {
  /** Stack labels (`"0_pre"`, …, `"final_post"`). */
  readonly labels: string[];
  /** Target ids, in the order of the last axis of `values` / `ranks`. */
  readonly targetIds: number[];
  /** Values of the targets, [layer][batch][target]. */
  readonly values: number[][][];
  /** Rank of each target in the full vocabulary (0 = top; only strictly larger logits count), [layer][batch][target]. */
  readonly ranks: number[][][];
  /** The top-k ids, [layer][batch][k] (with `topK`). */
  readonly topIds?: number[][][];
  /** The top-k values, [layer][batch][k] (with `topK`). */
  readonly topValues?: number[][][];
}

/**
 * The logit lens: every accumulated residual stream at one position, through ln_final (each with
 * its own statistics, w and b included when present) and the unembedding (W_U and b_U), so the
 * `final_post` entry reproduces the model's logits.
 * @param cache A full cache of the run.
 * @param model The model the cache came from.
 * @param opts Position, targets, top-k, value type, mid streams.
 * @returns Plain arrays (no tensors).
 * @throws {@link "tfjs-lens"!ConfigError} without targets and without topK; {@link "tfjs-lens"!ShapeError} for bad ids or positions.
 * @example
 * const lens = logitLens(cache, model, { targets: [42], topK: 5 });
 * lens.ranks.map((r) => r[0][0]);  // rank of token 42 at each layer, first prompt
 * @category Analysis
 */
export function logitLens(cache: ActivationCache, model: AnalysisModel, opts: LogitLensOptions = {}): LogitLensResult {
  const targetIds = opts.targets === undefined ? [] : resolveTokenSpec(model, opts.targets, 'logitLens').ids;
  const k = opts.topK ?? 0;
  if (targetIds.length === 0 && k <= 0) throw new ConfigError('logitLens: pass targets, topK, or both');
  if (!Number.isInteger(k) || k < 0 || k > model.cfg.dVocab) throw new ConfigError(`logitLens: topK must be in [0, ${model.cfg.dVocab}], got ${k}`);
  const [stack, labels] = accumulatedResid(cache, model, {
    applyLn: true,
    posSlice: opts.pos ?? -1,
    inclMid: opts.inclMid === true,
    returnLabels: true,
  });
  try {
    return tf.tidy(() => {
      const [n, batch, dModel] = stack.shape as [number, number, number];
      const flat = tf.reshape(stack, [n * batch, dModel]); // [n*batch, d_model]
      const logits = tf.add(tf.matMul(flat, weight(model, 'W_U')), weight(model, 'b_U')); // [n*batch, d_vocab]
      const type = opts.returnType ?? 'logits';
      const vals = type === 'logits' ? logits : type === 'logProbs' ? tf.logSoftmax(logits) : tf.softmax(logits);
      const shape3 = (t: tf.Tensor, w: number): number[][][] => (tf.reshape(t, [n, batch, w]).arraySync() as number[][][]);
      let values: number[][][] = [];
      let ranks: number[][][] = [];
      if (targetIds.length > 0) {
        const idx = tf.tensor1d(targetIds, 'int32');
        const tLogits = tf.gather(logits, idx, 1); // [n*batch, targets]
        const above = tf.greater(tf.expandDims(logits, 1), tf.expandDims(tLogits, 2)); // [n*batch, targets, d_vocab]
        values = shape3(tf.gather(vals, idx, 1), targetIds.length);
        ranks = shape3(tf.sum(tf.cast(above, 'int32'), -1), targetIds.length);
      }
      if (k === 0) return { labels, targetIds, values, ranks };
      const top = tf.topk(vals, k);
      return { labels, targetIds, values, ranks, topIds: shape3(top.indices, k), topValues: shape3(top.values, k) };
    });
  } finally {
    stack.dispose();
  }
}

/**
 * Options of {@link directLogitAttribution}.
 * @category Analysis
 */
export interface DlaOptions {
  /** The attributed token: one for every prompt, or one per prompt ([batch]). */
  readonly tokens: TokenSpec;
  /** Subtract this token's logit (a logit difference); same shape as `tokens`. */
  readonly incorrectTokens?: TokenSpec;
  /** Position to attribute (default -1). */
  readonly pos?: number;
  /**
   * 'layer' (default): embed, pos_embed, each attn_out and mlp_out ({@link decomposeResid});
   * 'head': each head, each MLP layer, embed, pos_embed, bias; 'neuron': each head and each neuron
   * ({@link getFullResidDecomposition}).
   */
  readonly granularity?: 'layer' | 'head' | 'neuron';
}

/**
 * Plain-array direct logit attribution; `[component]` indexes `labels`.
 * @category Analysis
 */
export interface DlaResult {
  /** Component labels. */
  readonly labels: string[];
  /** Attribution of each component for each prompt, [component][batch]. */
  readonly attrs: number[][];
  /** Mean over prompts, [component]. */
  readonly mean: number[];
  /**
   * The unembedding bias term b_U[tok] (− b_U[incorrect]) per prompt, [batch]: on a processed
   * model, Σ attrs + unembedBias = the model's logit (difference).
   */
  readonly unembedBias: number[];
}

/**
 * Direct logit attribution at one position: how much each component, through ln_final's cached
 * scale, writes along W_U[:, token] (− W_U[:, incorrect]).
 * @param cache A full cache of the run.
 * @param model The model the cache came from.
 * @param opts Tokens, incorrect tokens, position, granularity.
 * @returns Plain arrays (no tensors).
 * @throws {@link "tfjs-lens"!ShapeError} for bad tokens (tokens must be one id or one per prompt); {@link "tfjs-lens"!HookNameError} for missing hooks.
 * @example
 * const dla = directLogitAttribution(cache, model, { tokens: 42, incorrectTokens: 7, granularity: 'head' });
 * @category Analysis
 */
export function directLogitAttribution(cache: ActivationCache, model: AnalysisModel, opts: DlaOptions): DlaResult {
  const pos = opts.pos ?? -1;
  const tok = resolveTokenSpec(model, opts.tokens, 'directLogitAttribution');
  if (tok.shape.length > 1) throw new ShapeError('directLogitAttribution: tokens must be one id or one per prompt ([batch])');
  const inc = opts.incorrectTokens === undefined ? undefined : resolveTokenSpec(model, opts.incorrectTokens, 'directLogitAttribution');
  const g = opts.granularity ?? 'layer';
  const [stack, labels] =
    g === 'layer'
      ? decomposeResid(cache, model, { posSlice: pos, returnLabels: true })
      : getFullResidDecomposition(cache, model, { posSlice: pos, expandNeurons: g === 'neuron', returnLabels: true });
  try {
    const batch = stack.shape[1] ?? 0;
    if (tok.shape.length === 1 && tok.shape[0] !== batch) {
      throw new ShapeError(`directLogitAttribution: ${tok.shape[0]} tokens for a batch of ${batch}`);
    }
    const attrs = tf.tidy(() => logitAttrs(cache, model, stack, { tokens: opts.tokens, incorrectTokens: opts.incorrectTokens, posSlice: pos }).arraySync()) as number[][];
    const mean = attrs.map((row) => row.reduce((a, v) => a + v, 0) / Math.max(row.length, 1));
    const bU = weight(model, 'b_U').dataSync();
    const at = (ids: number[], b: number): number => bU[ids.length === 1 ? (ids[0] as number) : (ids[b] as number)] ?? 0;
    const unembedBias = Array.from({ length: batch }, (_, b) => at(tok.ids, b) - (inc === undefined ? 0 : at(inc.ids, b)));
    return { labels, attrs, mean, unembedBias };
  } finally {
    stack.dispose();
  }
}
