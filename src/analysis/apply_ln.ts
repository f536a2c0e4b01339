/**
 * `applyLnToStack`: treat a stack of residual-stream components as the input of one LayerNorm and
 * apply that LayerNorm's *cached* scale to each (TL `ActivationCache.apply_ln_to_stack`). Centring
 * and the cached scale are linear, so the scaled components still sum to the normalised stream.
 */
import * as tf from '@tensorflow/tfjs-core';
import { ConfigError, ShapeError } from '../errors.js';
import type { ActivationCache } from '../hooks/activation_cache.js';
import { isRms } from '../model/config.js';
import { resolveLayer, slicePos, type AnalysisModel, type PosSlice } from './types.js';

/**
 * Options of {@link applyLnToStack}.
 * @category Analysis
 */
export interface ApplyLnOptions {
  /** The layer whose input the stack is: [0, n_layers]; n_layers, -1 or undefined = the unembed (ln_final). */
  readonly layer?: number;
  /** The stack is the MLP input of `layer` (use ln2 instead of ln1). Not allowed for the unembed. */
  readonly mlpInput?: boolean;
  /** The position slice already applied to the stack; it is applied to the cached scale. */
  readonly posSlice?: PosSlice;
  /**
   * A batch slice (TL `batch_slice`): applied to the stack's batch axis (axis 1, when
   * `hasBatchDim`) and to the cached scale's batch axis (when the cache has one).
   */
  readonly batchSlice?: PosSlice;
  /** Whether the stack has a batch axis (axis 1) to apply `batchSlice` to (TL `has_batch_dim`, default true). */
  readonly hasBatchDim?: boolean;
  /**
   * Unembed only: normalise each component with its own statistics and apply ln_final in full
   * (w and b too on an unprocessed 'LN' model), the logit-lens view. Default false.
   */
  readonly recomputeLn?: boolean;
}

/** The cached LN scale for a layer input, pos-sliced: [batch, pos, 1] (or [batch, 1]). */
function cachedScale(cache: ActivationCache, model: AnalysisModel, layer: number, mlpInput: boolean, opts: ApplyLnOptions): tf.Tensor {
  const key = layer === model.cfg.nLayers ? 'ln_final.hook_scale' : `blocks.${layer}.ln${mlpInput ? 2 : 1}.hook_scale`;
  let scale = cache.get(key); // [batch?, pos, 1], or [batch?, pos, n_heads, 1] with split qkv inputs
  if (scale.rank === (cache.hasBatchDim ? 4 : 3)) {
    const begin = scale.shape.map(() => 0);
    const size = scale.shape.map((_, i) => (i === scale.rank - 2 ? 1 : -1));
    scale = tf.squeeze(tf.slice(scale, begin, size), [scale.rank - 2]); // heads share the scale: [batch?, pos, 1]
  }
  scale = slicePos(scale, opts.posSlice, -2, 'applyLnToStack');
  return cache.hasBatchDim ? slicePos(scale, opts.batchSlice, 0, 'applyLnToStack', 'batch item') : scale;
}

/** Centre over d_model for LayerNorm models; RMSNorm does not centre (TL). */
function centreIfLn(stack: tf.Tensor, model: AnalysisModel): tf.Tensor {
  return isRms(model.cfg) ? stack : tf.sub(stack, tf.mean(stack, -1, true)); // [n, ..., d_model]
}

/** ln_final applied to every component with recomputed statistics (and its weights, if any). */
function recomputeFinalLn(stack: tf.Tensor, model: AnalysisModel): tf.Tensor {
  const centred = centreIfLn(stack, model); // [n, ..., d_model]
  const scale = tf.sqrt(tf.add(tf.mean(tf.square(centred), -1, true), model.cfg.eps)); // [n, ..., 1]
  let normed = tf.div(centred, scale);
  const ln = model.params.lnFinal;
  if (ln !== undefined) normed = tf.mul(normed, ln.w);
  if (ln?.b !== undefined) normed = tf.add(normed, ln.b);
  return normed;
}

/**
 * Apply the LayerNorm in front of `layer` to a stack of residual components, as TransformerLens
 * does: centre each component (LayerNorm models; not RMSNorm ones), then divide by the **cached** `hook_scale`
 * of that LayerNorm (ln1, ln2 with `mlpInput`, or ln_final for the unembed). The LayerNorm's
 * affine (w, b) is **not** applied on this path, as in TL: on a processed model (fold_ln,
 * 'LNPre') there is none, and on an unprocessed model attributions therefore omit ln w/b. With
 * `recomputeLn` at the unembed (logit lens), each component is normalised by its own statistics
 * and ln_final is applied in full, including w and b when present.
 * @param cache Cache holding the needed `hook_scale`.
 * @param model The model the cache came from.
 * @param stack Components [n, batch, pos, d_model] (or [n, batch, d_model] after a single-position slice).
 * @param opts Target layer, ln2 vs ln1, position and batch slices, recompute.
 * @returns New tensor, same shape as `stack`.
 * @throws {@link "tfjs-lens"!ShapeError} if the last axis is not d_model; {@link "tfjs-lens"!ConfigError} for a bad layer
 *   or `mlpInput` at the unembed; {@link "tfjs-lens"!HookNameError} if the scale was not cached.
 * @example
 * const stack = accumulatedResid(cache, model, { posSlice: -1 });
 * const scaled = applyLnToStack(cache, model, stack, { posSlice: -1 });  // [n, batch, d_model]
 * @category Analysis
 */
export function applyLnToStack(cache: ActivationCache, model: AnalysisModel, stack: tf.Tensor, opts: ApplyLnOptions = {}): tf.Tensor {
  const { nLayers, dModel } = model.cfg;
  const layer = resolveLayer(opts.layer, nLayers, 'applyLnToStack');
  const mlpInput = opts.mlpInput === true;
  if (mlpInput && layer === nLayers) {
    throw new ConfigError('applyLnToStack: mlpInput is not allowed for the unembed (layer = n_layers)');
  }
  if (stack.shape[stack.rank - 1] !== dModel || stack.rank < 2) {
    throw new ShapeError(`applyLnToStack: stack must be [n, ..., d_model=${dModel}], got [${stack.shape.join(', ')}]`);
  }
  return tf.tidy(() => {
    const sliced = opts.hasBatchDim !== false ? slicePos(stack, opts.batchSlice, 1, 'applyLnToStack', 'batch item') : stack; // [n, batch', ..., d_model]
    if (opts.recomputeLn === true && layer === nLayers) return recomputeFinalLn(sliced, model);
    const centred = centreIfLn(sliced, model); // [n, ..., d_model]
    return tf.div(centred, cachedScale(cache, model, layer, mlpInput, opts)); // [n, ..., d_model]
  });
}
