/**
 * Shared types and small helpers of the cache-analysis functions (TransformerLens
 * `ActivationCache` analysis methods, written as free functions over `(cache, model)`):
 * the model surface they read, position slices (TL `utils.Slice`) and layer resolution.
 */
import * as tf from '@tensorflow/tfjs-core';
import { ConfigError, ShapeError } from '../errors.js';
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
 * A slice of the position axis, as TL's `Slice`: a single position (negative counts from the end;
 * the axis is dropped, like indexing), a list of positions (axis kept), or a half-open range
 * `{start, stop}` (axis kept; negative bounds count from the end). `undefined` keeps every position.
 * @category Analysis
 */
export type PosSlice =
  | number
  | readonly number[]
  | {
      /** First position (inclusive; default 0; negative counts from the end). */
      readonly start?: number;
      /** End position (exclusive; default the length; negative counts from the end). */
      readonly stop?: number;
    };

/**
 * A stack and its component labels, as TL returns with `return_labels=True`.
 * @category Analysis
 */
export type LabelledStack = [tf.Tensor, string[]];

/**
 * Token ids for logit attributions: one id (or single-token string) shared by every row, one per
 * batch element ([batch]), or one per batch element and position ([batch, pos]).
 * @category Analysis
 */
export type TokenSpec = number | string | readonly (number | string)[] | readonly (readonly (number | string)[])[];

/**
 * Resolve a {@link PosSlice} against an axis of length `n`.
 * @param slice The slice.
 * @param n Axis length.
 * @param fn Calling function (for error messages).
 * @returns The indices, and whether the axis is dropped (single position).
 * @throws {@link "tfjs-lens"!ShapeError} for positions outside [-n, n).
 * @example resolvePositions(-1, 12, 'f')  // { indices: [11], collapse: true }
 * @category Analysis
 */
function resolvePositions(slice: PosSlice | undefined, n: number, fn: string): { indices: number[]; collapse: boolean } {
  const norm = (p: number): number => {
    const q = p < 0 ? p + n : p;
    if (!Number.isInteger(p) || q < 0 || q >= n) {
      throw new ShapeError(`${fn}: position ${p} is out of range for ${n} positions`);
    }
    return q;
  };
  if (slice === undefined) return { indices: Array.from({ length: n }, (_, i) => i), collapse: false };
  if (typeof slice === 'number') return { indices: [norm(slice)], collapse: true };
  if (Array.isArray(slice)) return { indices: (slice as readonly number[]).map(norm), collapse: false };
  const r = slice as { start?: number; stop?: number };
  const clamp = (p: number): number => Math.max(0, Math.min(n, p < 0 ? p + n : p));
  const start = clamp(r.start ?? 0);
  const stop = clamp(r.stop ?? n);
  const indices: number[] = [];
  for (let i = start; i < stop; i++) indices.push(i);
  return { indices, collapse: false };
}

/**
 * Apply a position slice to one axis of a tensor (call inside a tidy).
 * @param x Tensor.
 * @param slice The slice (undefined: returned unchanged).
 * @param axis Position axis (non-negative).
 * @param fn Calling function (for error messages).
 * @returns The sliced tensor (the same tensor when `slice` is undefined).
 * @throws {@link "tfjs-lens"!ShapeError} for positions out of range.
 * @example tf.tidy(() => slicePos(resid, -1, 1, 'f'))  // [batch, pos, d_model] → [batch, d_model]
 * @category Analysis
 */
export function slicePos(x: tf.Tensor, slice: PosSlice | undefined, axis: number, fn: string): tf.Tensor {
  if (slice === undefined) return x;
  const n = x.shape[axis] ?? 0;
  const { indices, collapse } = resolvePositions(slice, n, fn);
  const picked = tf.gather(x, tf.tensor1d(indices, 'int32'), axis);
  return collapse ? tf.squeeze(picked, [axis]) : picked;
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
