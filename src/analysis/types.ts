/**
 * Shared types and small helpers of the cache-analysis functions (TransformerLens
 * `ActivationCache` analysis methods, written as free functions over `(cache, model)`):
 * the model surface they read, position slices (TL `utils.Slice`) and layer resolution.
 */
import * as tf from '@tensorflow/tfjs-core';
import { ConfigError, ShapeError } from '../errors.js';
import { Slice, type SliceInput } from '../utils/slice.js';
import type { ModelConfig } from '../model/config.js';
import type { DecoderParams } from '../model/params.js';
import type { WeightName, WeightsView } from '../model/weights_view.js';

/**
 * What the analysis functions need from a model; {@link "tfjs-lens"!HookedTransformer} satisfies it.
 * @category Analysis
 */
export interface AnalysisModel {
  /** Architecture (layers, heads, d_model, normalisation type, eps). */
  readonly cfg: ModelConfig;
  /** TL-layout weights (W_O, W_out, W_U, b_O, b_out, b_U). */
  readonly weights: WeightsView;
  /** Raw parameters (for ln_final's affine on unprocessed models). */
  readonly params: DecoderParams;
  /** Id of a single-token string (only needed when tokens are given as strings). */
  toSingleToken(text: string): number;
}

/**
 * A slice of the position axis, as TL's `Slice` ({@link "tfjs-lens"!SliceInput}): a single position
 * (negative counts from the end; the axis is dropped, like indexing), a list of positions (axis
 * kept), a Python range `{start, stop, step}` (axis kept; negative bounds count from the end), or a
 * {@link "tfjs-lens"!Slice}. `undefined`/`null` keeps every position.
 * @category Analysis
 */
export type PosSlice = SliceInput | Slice;

/**
 * A stack and its component labels, as TL returns with `return_labels=True`.
 * @category Analysis
 */
export type LabelledStack = [tf.Tensor, string[]];

/**
 * Token ids for logit attributions: one id (or single-token string) shared by every row, one per
 * batch element ([batch]), or one per batch element and position ([batch, pos]); or an int32
 * tensor of ids of any of these shapes (TL passes `Int[torch.Tensor, ...]`).
 * @category Analysis
 */
export type TokenSpec = number | string | tf.Tensor | readonly (number | string)[] | readonly (readonly (number | string)[])[];

/**
 * Apply a position slice to one axis of a tensor (call inside a tidy).
 * @param x Tensor.
 * @param slice The slice (undefined: returned unchanged).
 * @param axis Position axis (negative counts from the end: -2 for [batch?, pos, d]).
 * @param fn Calling function (for error messages).
 * @param what What the axis holds, for error messages ('position', 'neuron', 'batch item').
 * @returns The sliced tensor (the same tensor when `slice` is undefined).
 * @throws {@link "tfjs-lens"!ShapeError} for positions out of range.
 * @example tf.tidy(() => slicePos(resid, -1, -2, 'f'))  // [batch, pos, d_model] → [batch, d_model]
 * @category Analysis
 */
export function slicePos(x: tf.Tensor, slice: PosSlice | undefined, axis: number, fn: string, what = 'position'): tf.Tensor {
  if (slice === undefined || slice === null) return x;
  const s = slice instanceof Slice ? slice : new Slice(slice);
  if (s.mode === 'identity') return x;
  try {
    return s.apply(x, axis);
  } catch (e) {
    if (!(e instanceof ShapeError)) throw e;
    const bad = /index (-?\d+) is out of range/.exec(e.message);
    const n = x.shape[axis < 0 ? axis + x.rank : axis] ?? 0;
    throw new ShapeError(bad === null ? `${fn}: ${e.message}` : `${fn}: ${what} ${bad[1]} is out of range for ${n} ${what}s`);
  }
}

/**
 * Resolve TL's `layer` argument: undefined or -1 mean n_layers (the unembed input).
 * @param layer Requested layer.
 * @param nLayers Number of layers.
 * @param fn Calling function.
 * @returns A layer in [0, n_layers].
 * @throws {@link "tfjs-lens"!ConfigError} outside [0, n_layers] ∪ {-1}.
 * @example resolveLayer(-1, 12, 'f')  // 12
 * @category Analysis
 */
export function resolveLayer(layer: number | undefined, nLayers: number, fn: string): number {
  if (layer === undefined || layer === -1) return nLayers;
  if (!Number.isInteger(layer) || layer < 0 || layer > nLayers) {
    throw new ConfigError(`${fn}: layer must be in [0, ${nLayers}] or -1, got ${layer}`);
  }
  return layer;
}

/**
 * Move axis `from` of `x` to the front (call inside a tidy).
 * @param x Tensor.
 * @param from Axis to move (non-negative).
 * @returns The transposed tensor.
 * @throws Never.
 * @example moveAxisToFront(x, 2)  // [b, p, h, d] → [h, b, p, d]
 * @category Analysis
 */
export function moveAxisToFront(x: tf.Tensor, from: number): tf.Tensor {
  const perm = [from, ...x.shape.map((_, i) => i).filter((i) => i !== from)];
  return tf.transpose(x, perm);
}

/**
 * A model weight, safe to read inside `tf.tidy`: `WeightsView` builds weights lazily inside its own
 * tidy, so a first access inside a caller's tidy would hand the new tensor to that scope, which
 * frees it while the view still caches it. `tf.keep` exempts it (the model still disposes it).
 * @param model The model.
 * @param name TL weight name.
 * @returns The model-owned weight (do not dispose).
 * @throws {@link "tfjs-lens"!ConfigError} for MLP weights of an attention-only model.
 * @example const wO = weight(model, 'W_O');  // [n_layers, n_heads, d_head, d_model]
 * @category Analysis
 */
export function weight(model: AnalysisModel, name: WeightName): tf.Tensor {
  return tf.keep(model.weights.get(name));
}
