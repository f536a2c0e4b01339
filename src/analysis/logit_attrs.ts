/**
 * Logit attribution (TL `ActivationCache.logit_attrs`, `HookedTransformer.tokens_to_residual_directions`
 * and the demos' `residual_stack_to_logit_diff`): dot each LayerNorm-scaled residual component with
 * the unembedding direction W_U[:, token] (minus W_U[:, incorrect] for a logit difference).
 */
import * as tf from '@tensorflow/tfjs-core';
import { ShapeError } from '../errors.js';
import type { ActivationCache } from '../hooks/activation_cache.js';
import { rank1 } from '../utils/tensor_rank.js';
import { applyLnToStack } from './apply_ln.js';
import { weight, type AnalysisModel, type PosSlice, type TokenSpec } from './types.js';

/**
 * Token ids of a {@link TokenSpec} (strings through `model.toSingleToken`), flattened, and their shape.
 * @param model The model (vocabulary size, tokenizer).
 * @param spec Token id(s).
 * @param fn Calling function.
 * @returns `{ ids, shape }` with shape [] (one token), [batch] or [batch, pos].
 * @throws {@link "tfjs-lens"!ShapeError} for ragged or out-of-vocabulary ids; {@link "tfjs-lens"!TokenizerError} for multi-token strings.
 * @example resolveTokenSpec(model, [5, 7], 'f')  // { ids: [5, 7], shape: [2] }
 * @category Analysis
 */
export function resolveTokenSpec(model: AnalysisModel, spec: TokenSpec, fn: string): { ids: number[]; shape: number[] } {
  const one = (t: number | string): number => {
    const id = typeof t === 'string' ? model.toSingleToken(t) : t;
    if (!Number.isInteger(id) || id < 0 || id >= model.cfg.dVocab) {
      throw new ShapeError(`${fn}: token ids must be integers in [0, ${model.cfg.dVocab}), got ${String(t)}`);
    }
    return id;
  };
  if (spec instanceof tf.Tensor) {
    if (spec.dtype !== 'int32') throw new ShapeError(`${fn}: a tensor of token ids must be int32, got ${spec.dtype}`);
    if (spec.rank > 2) throw new ShapeError(`${fn}: a tensor of token ids must be [], [batch] or [batch, pos], got [${spec.shape.join(', ')}]`);
    return { ids: Array.from(spec.dataSync()).map(one), shape: spec.shape };
  }
  if (!Array.isArray(spec)) return { ids: [one(spec as number | string)], shape: [] };
  const arr = spec as readonly unknown[];
  if (arr.length > 0 && Array.isArray(arr[0])) {
    const rows = arr as readonly (readonly (number | string)[])[];
    const width = rows[0]?.length ?? 0;
    if (rows.some((r) => !Array.isArray(r) || r.length !== width)) throw new ShapeError(`${fn}: token rows must not be ragged`);
    return { ids: rows.flat().map(one), shape: [rows.length, width] };
  }
  return { ids: (arr as readonly (number | string)[]).map(one), shape: [arr.length] };
}

/**
 * The residual-stream direction of each token: W_U[:, token] (TL `tokens_to_residual_directions`).
 * A single token — a number, a single-token string, or an array or tensor holding one id — gives
 * [d_model], as TL squeezes a one-element tensor. On an unprocessed model this ignores ln_final's
 * w and b, as TL does.
 * @param model The model.
 * @param tokens Token id(s): one, [batch] or [batch, pos]; numbers, strings or an int32 tensor.
 * @returns New tensor [d_model] for one token, else [...tokens shape, d_model].
 * @throws {@link "tfjs-lens"!ShapeError} for bad ids or a float tensor; {@link "tfjs-lens"!TokenizerError} for a multi-token string.
 * @example const dir = tokensToResidualDirections(model, 42);  // [d_model]
 * @example tokensToResidualDirections(model, tf.tensor2d([[1, 2]], [1, 2], 'int32'));  // [1, 2, d_model]
 * @category Analysis
 */
export function tokensToResidualDirections(model: AnalysisModel, tokens: TokenSpec): tf.Tensor {
  const { ids, shape } = resolveTokenSpec(model, tokens, 'tokensToResidualDirections');
  const outShape = ids.length === 1 ? [] : shape; // TL: one element → [d_model]
  const wU = weight(model, 'W_U'); // [d_model, d_vocab]
  return tf.tidy(() => {
    const cols = tf.gather(wU, tf.tensor1d(ids, 'int32'), 1); // [d_model, n]
    return tf.reshape(tf.transpose(cols), [...outShape, model.cfg.dModel]); // [...shape, d_model]
  });
}

/**
 * Options of {@link logitAttrs}.
 * @category Analysis
 */
export interface LogitAttrsOptions {
  /** Tokens whose logit is attributed: one (shared), [batch] (one per prompt) or [batch, pos]. */
  readonly tokens: TokenSpec;
  /** Subtract these tokens' directions (a logit difference); same shape as `tokens`. */
  readonly incorrectTokens?: TokenSpec;
  /** The position slice already applied to the stack (applied to the cached ln_final scale). */
  readonly posSlice?: PosSlice;
  /** Batch slice for the LayerNorm scaling (TL `batch_slice`): applied to the stack's axis 1 and the cached scale. */
  readonly batchSlice?: PosSlice;
  /** Whether the stack has a batch axis (TL `has_batch_dim`, default true). */
  readonly hasBatchDim?: boolean;
}

/**
 * Logit attributions of a residual stack: `applyLnToStack(stack)` (cached ln_final scale, centred)
 * dotted with W_U[:, tokens] (− W_U[:, incorrect]). For a full decomposition of the final stream,
 * the attributions sum to the logit (difference) minus the unembedding bias b_U[tok] (− b_U[inc]),
 * on a processed model; on an unprocessed model ln_final's w and b are left out as well (as TL).
 * @param cache Cache with `ln_final.hook_scale`.
 * @param model The model the cache came from.
 * @param stack Components [n, batch, pos, d_model] or [n, batch, d_model].
 * @param opts Tokens, incorrect tokens, position and batch slices, whether the stack has a batch axis.
 * @returns New tensor [n, batch, pos] or [n, batch].
 * @throws {@link "tfjs-lens"!ShapeError} if tokens and incorrect tokens differ in shape, or do not broadcast.
 * @example
 * const [stack] = decomposeResid(cache, model, { posSlice: -1, returnLabels: true });
 * const attrs = logitAttrs(cache, model, stack, { tokens: 42, incorrectTokens: 7, posSlice: -1 });  // [n, batch]
 * @category Analysis
 */
export function logitAttrs(cache: ActivationCache, model: AnalysisModel, stack: tf.Tensor, opts: LogitAttrsOptions): tf.Tensor {
  const tok = resolveTokenSpec(model, opts.tokens, 'logitAttrs');
  if (opts.incorrectTokens !== undefined) {
    const inc = resolveTokenSpec(model, opts.incorrectTokens, 'logitAttrs');
    if (inc.shape.join(',') !== tok.shape.join(',')) {
      throw new ShapeError(`logitAttrs: tokens and incorrectTokens must have the same shape, got [${tok.shape}] and [${inc.shape}]`);
    }
  }
  return tf.tidy(() => {
    let dirs = tokensToResidualDirections(model, opts.tokens); // [...tokens, d_model]
    if (opts.incorrectTokens !== undefined) dirs = tf.sub(dirs, tokensToResidualDirections(model, opts.incorrectTokens));
    const scaled = applyLnToStack(cache, model, stack, { posSlice: opts.posSlice, batchSlice: opts.batchSlice, hasBatchDim: opts.hasBatchDim }); // [n, batch, (pos,) d_model]
    if (scaled.rank === 4 && dirs.rank === 2 && dirs.shape[0] === scaled.shape[1]) {
      dirs = tf.expandDims(dirs, 1); // per-prompt directions broadcast over positions: [batch, 1, d_model]
    }
    const lead = scaled.shape.slice(1, -1);
    const dl = dirs.shape.slice(0, -1);
    const ok = dl.length <= lead.length && dl.every((d, i) => d === 1 || d === lead[lead.length - dl.length + i]);
    if (!ok) {
      throw new ShapeError(`logitAttrs: token directions [${dl}] do not broadcast against the stack's [${lead}]`);
    }
    return tf.sum(tf.mul(scaled, dirs), -1); // [n, batch, (pos)]
  });
}

/**
 * The demos' `residual_stack_to_logit_diff`: logit-difference attributions of each component,
 * averaged over every axis but the first (batch, and positions if kept).
 * @param cache Cache with `ln_final.hook_scale`.
 * @param model The model the cache came from.
 * @param stack Components [n, batch, (pos,) d_model].
 * @param opts Correct and incorrect tokens, and the stack's position slice.
 * @returns New tensor [n].
 * @throws {@link "tfjs-lens"!ShapeError} as {@link logitAttrs}.
 * @example
 * const stack = accumulatedResid(cache, model, { inclMid: true, posSlice: -1 });  // not LN-applied: this applies it
 * const perLayer = residualStackToLogitDiff(cache, model, stack, { tokens: [5, 6], incorrectTokens: [7, 8], posSlice: -1 });
 * @category Analysis
 */
export function residualStackToLogitDiff(
  cache: ActivationCache,
  model: AnalysisModel,
  stack: tf.Tensor,
  opts: LogitAttrsOptions,
): tf.Tensor1D {
  return tf.tidy(() => {
    const attrs = logitAttrs(cache, model, stack, opts); // [n, batch, (pos)]
    const axes = attrs.shape.map((_, i) => i).slice(1);
    return rank1(axes.length === 0 ? attrs : tf.mean(attrs, axes), 'residualStackToLogitDiff');
  });
}
