/**
 * Patch setters: write the indexed slice of a clean activation into a corrupted one
 * (TransformerLens `patching.py` `layer_pos_patch_setter` …). tfjs tensors are immutable, so a
 * setter returns a new tensor: `where(mask, clean, corrupted)`, an exact copy of the clean values.
 */
import * as tf from '@tensorflow/tfjs-core';
import { ShapeError } from '../errors.js';

/**
 * A patch setter: given the corrupted activation, an index row `[layer, ...rest]` and the clean
 * activation (same shape), return the activation with the indexed slice taken from the clean one.
 * Built-in setters carry `actAxes`: the activation axis each of `rest` indexes (used by
 * attribution patching to know which axes to keep). Custom setters may be plain functions.
 * @example
 * const mySetter: PatchSetter = (corrupted, [, pos], clean) =>
 *   tf.concat([tf.slice(corrupted, [0, 0], [-1, pos]), tf.slice(clean, [0, pos], [-1, -1])], 1);
 * @category Patching
 */
export interface PatchSetter {
  (corrupted: tf.Tensor, index: readonly number[], clean: tf.Tensor): tf.Tensor;
  /** Activation axis indexed by `index[i + 1]` (batch is axis 0 and never indexed). */
  readonly actAxes?: readonly number[];
}

/** Set mask[base + offset] = 1 for every element of one copy [batch, …] whose indexed axes equal `at`. */
function markSlice(mask: Uint8Array, base: number, shape: readonly number[], actAxes: readonly number[], at: readonly number[]): void {
  const strides = tf.util.computeStrides(shape as number[]);
  let offsets = [base];
  shape.forEach((dim, ax) => {
    const stride = ax === shape.length - 1 ? 1 : (strides[ax] as number);
    const k = actAxes.indexOf(ax);
    if (k >= 0) offsets = offsets.map((o) => o + (at[k] as number) * stride);
    else offsets = offsets.flatMap((o) => Array.from({ length: dim }, (_, i) => o + i * stride));
  });
  for (const o of offsets) mask[o] = 1;
}

function checkIndex(name: string, shape: readonly number[], index: readonly number[], actAxes: readonly number[]): void {
  if (index.length !== actAxes.length + 1) {
    throw new ShapeError(`${name}: index must have ${actAxes.length + 1} entries [layer, …], got [${index.join(', ')}]`);
  }
  actAxes.forEach((ax, k) => {
    const i = index[k + 1] as number;
    const dim = shape[ax];
    if (dim === undefined) {
      throw new ShapeError(`${name}: activation of rank ${shape.length} has no axis ${ax} (shape [${shape.join(', ')}])`);
    }
    if (!Number.isInteger(i) || i < 0 || i >= dim) {
      throw new ShapeError(`${name}: index entry ${k + 1} is ${i}, expected an integer in [0, ${dim}) for axis ${ax}`);
    }
  });
}

/**
 * Patch K stacked copies at once: `tiled` is K copies of a [batch, …] activation stacked on axis 0;
 * copy k gets the clean slice at `rows[k]` (or is left alone when `rows[k]` is undefined). One
 * `where` with a full-size mask: no broadcasting and no per-copy slicing, both slow on the wasm
 * backend (its Tile kernel is generic and its Slice kernel copies the whole input).
 * @param name Name used in error messages.
 * @param tiled Corrupted activations [K·batch, …].
 * @param clean Clean activation [batch, …].
 * @param rows Index row `[layer, …]` per copy, or undefined for no patch.
 * @param actAxes Activation axis indexed by each entry after the layer.
 * @returns Patched activations [K·batch, …] (a new tensor).
 * @throws {@link "tfjs-lens"!ShapeError} for mismatched shapes or out-of-range indices.
 * @example tiledAxisPatch('demo', x, clean, [[0, 3], undefined, [0, 5]], [1]) // copies 0 and 2 patched
 * @category Patching
 */
export function tiledAxisPatch(
  name: string,
  tiled: tf.Tensor,
  clean: tf.Tensor,
  rows: readonly (readonly number[] | undefined)[],
  actAxes: readonly number[],
): tf.Tensor {
  const k = rows.length;
  const [b = 0, ...rest] = clean.shape;
  if (tiled.shape[0] !== k * b || !tf.util.arraysEqual(tiled.shape.slice(1), rest)) {
    throw new ShapeError(
      `${name}: corrupted activation has shape [${tiled.shape.join(', ')}], expected ${k === 1 ? '' : `${k} copies of `}the clean shape [${clean.shape.join(', ')}]`,
    );
  }
  const mask = new Uint8Array(tiled.size);
  rows.forEach((row, c) => {
    if (row === undefined) return;
    checkIndex(name, clean.shape, row, actAxes);
    markSlice(mask, c * clean.size, clean.shape, actAxes, row.slice(1));
  });
  return tf.tidy(() => {
    const cleanTiled = k === 1 ? clean : tf.concat(rows.map(() => clean), 0); // [K·batch, …]
    return tf.where(tf.tensor(mask, tiled.shape, 'bool'), cleanTiled, tiled);
  });
}

/**
 * Build a setter that copies the clean values at `index[1..]` along activation axes `actAxes`
 * (all batch rows, all non-indexed axes).
 * @param name Name used in error messages.
 * @param actAxes Activation axis for each index entry after the layer.
 * @returns The setter (it returns a new tensor; the caller owns it).
 * @throws {@link "tfjs-lens"!ShapeError} (when called) for mismatched shapes or out-of-range indices.
 * @example const setPos = axisPatchSetter('mySetter', [1]); // like layerPosPatchSetter
 * @category Patching
 */
export function axisPatchSetter(name: string, actAxes: readonly number[]): PatchSetter {
  const fn = (corrupted: tf.Tensor, index: readonly number[], clean: tf.Tensor): tf.Tensor =>
    tiledAxisPatch(name, corrupted, clean, [index], actAxes);
  return Object.assign(fn, { actAxes: [...actAxes] });
}

/**
 * index = [layer, pos] on an activation [batch, pos, …] (residual stream, attn_out, mlp_out)
 * (TL `layer_pos_patch_setter`).
 * @param corrupted Corrupted activation [batch, pos, …].
 * @param index [layer, pos].
 * @param clean Clean activation, same shape.
 * @returns The patched activation (a new tensor, owned by the caller).
 * @throws {@link "tfjs-lens"!ShapeError} for mismatched shapes or out-of-range indices.
 * @example layerPosPatchSetter(corrupted, [0, 3], clean) // clean[:, 3] into corrupted
 * @category Patching
 */
export const layerPosPatchSetter: PatchSetter = axisPatchSetter('layerPosPatchSetter', [1]);

/**
 * index = [layer, pos, head] on [batch, pos, n_heads, d_head] (q, k, v, z)
 * (TL `layer_pos_head_vector_patch_setter`).
 * @param corrupted Corrupted activation [batch, pos, n_heads, d_head].
 * @param index [layer, pos, head].
 * @param clean Clean activation, same shape.
 * @returns The patched activation (a new tensor, owned by the caller).
 * @throws {@link "tfjs-lens"!ShapeError} for mismatched shapes or out-of-range indices.
 * @example layerPosHeadVectorPatchSetter(z, [1, 5, 2], cleanZ) // clean[:, 5, 2]
 * @category Patching
 */
export const layerPosHeadVectorPatchSetter: PatchSetter = axisPatchSetter('layerPosHeadVectorPatchSetter', [1, 2]);

/**
 * index = [layer, head] on [batch, pos, n_heads, d_head], every position
 * (TL `layer_head_vector_patch_setter`).
 * @param corrupted Corrupted activation [batch, pos, n_heads, d_head].
 * @param index [layer, head].
 * @param clean Clean activation, same shape.
 * @returns The patched activation (a new tensor, owned by the caller).
 * @throws {@link "tfjs-lens"!ShapeError} for mismatched shapes or out-of-range indices.
 * @example layerHeadVectorPatchSetter(z, [1, 2], cleanZ) // clean[:, :, 2]
 * @category Patching
 */
export const layerHeadVectorPatchSetter: PatchSetter = axisPatchSetter('layerHeadVectorPatchSetter', [2]);

/**
 * index = [layer, head] on a pattern [batch, n_heads, pos_q, pos_k]
 * (TL `layer_head_pattern_patch_setter`).
 * @param corrupted Corrupted activation [batch, n_heads, pos_q, pos_k].
 * @param index [layer, head].
 * @param clean Clean activation, same shape.
 * @returns The patched activation (a new tensor, owned by the caller).
 * @throws {@link "tfjs-lens"!ShapeError} for mismatched shapes or out-of-range indices.
 * @example layerHeadPatternPatchSetter(pattern, [0, 1], cleanPattern) // clean[:, 1]
 * @category Patching
 */
export const layerHeadPatternPatchSetter: PatchSetter = axisPatchSetter('layerHeadPatternPatchSetter', [1]);

/**
 * index = [layer, head, dest_pos] on a pattern [batch, n_heads, pos_q, pos_k]
 * (TL `layer_head_pos_pattern_patch_setter`).
 * @param corrupted Corrupted activation [batch, n_heads, pos_q, pos_k].
 * @param index [layer, head, dest_pos].
 * @param clean Clean activation, same shape.
 * @returns The patched activation (a new tensor, owned by the caller).
 * @throws {@link "tfjs-lens"!ShapeError} for mismatched shapes or out-of-range indices.
 * @example layerHeadPosPatternPatchSetter(pattern, [0, 1, 4], cleanPattern) // clean[:, 1, 4, :]
 * @category Patching
 */
export const layerHeadPosPatternPatchSetter: PatchSetter = axisPatchSetter('layerHeadPosPatternPatchSetter', [1, 2]);

/**
 * index = [layer, head, dest_pos, src_pos] on a pattern [batch, n_heads, pos_q, pos_k]
 * (TL `layer_head_dest_src_pos_pattern_patch_setter`).
 * @param corrupted Corrupted activation [batch, n_heads, pos_q, pos_k].
 * @param index [layer, head, dest_pos, src_pos].
 * @param clean Clean activation, same shape.
 * @returns The patched activation (a new tensor, owned by the caller).
 * @throws {@link "tfjs-lens"!ShapeError} for mismatched shapes or out-of-range indices.
 * @example layerHeadDestSrcPosPatternPatchSetter(pattern, [0, 1, 4, 2], cleanPattern) // clean[:, 1, 4, 2]
 * @category Patching
 */
export const layerHeadDestSrcPosPatternPatchSetter: PatchSetter = axisPatchSetter(
  'layerHeadDestSrcPosPatternPatchSetter',
  [1, 2, 3],
);
