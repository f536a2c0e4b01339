/**
 * Indexing for {@link "tfjs-lens"!FactoredMatrix.get}: a torch-style multi-axis index (integers, ranges,
 * index lists / int tensors, `null` for `:` and `'newaxis'` for Python's `None`) applied to one
 * tensor, and TransformerLens's rule for indices that reach the last two (matrix) dimensions.
 */
import * as tf from '@tensorflow/tfjs-core';
import { ShapeError } from '../errors.js';
import { Slice, type SliceInput } from '../utils/slice.js';

/**
 * One entry of a {@link "tfjs-lens"!FactoredMatrix.get} index, per axis as Python's `fm[...]`: an integer
 * (drops a leading axis), a {@link "tfjs-lens"!SliceRange} `{ start, stop, step }` (Python `a:b:c`), an index
 * list / `Int32Array` / int32 tensor (keeps the axis), `null` or `undefined` for `:` (everything),
 * a {@link "tfjs-lens"!Slice}, or `'newaxis'` for Python's `None` (inserts an axis of length 1; not counted
 * toward the index length, as in TL).
 * @category Utils
 */
export type FactoredIndex = SliceInput | Slice | 'newaxis';

const show = (idx: readonly FactoredIndex[]): string =>
  `(${idx
    .map((i) => {
      if (i === null || i === undefined) return ':';
      if (i instanceof tf.Tensor) return `tensor[${Array.from(i.dataSync()).join(', ')}]`;
      return i instanceof Slice ? i.toString() : JSON.stringify(i instanceof Int32Array ? Array.from(i) : i);
    })
    .join(', ')})`;

/** Number of entries that index an existing axis (everything but `'newaxis'`). */
export function indexLength(idx: readonly FactoredIndex[]): number {
  return idx.filter((i) => i !== 'newaxis').length;
}

/**
 * Index `x` as torch does for these entries: integers drop their axis (torch applies them as
 * `select`s), ranges and lists keep it, `'newaxis'` inserts one, missing trailing entries mean `:`.
 * At most one index list is allowed (torch would broadcast several together). With one list, its
 * axis stays where it was even when integers and slices separate them: torch's order, not NumPy's
 * (NumPy would move the list's axis to the front; pytorch/pytorch#158134 shows `x[:, [0, 1], :, 0]`
 * is (5, 2, 7) in torch and (2, 5, 7) in NumPy for x of shape (5, 3, 7, 9)).
 * @param x Tensor to index.
 * @param idx Index entries.
 * @param what Caller name for errors.
 * @returns A new tensor (the caller owns it).
 * @throws {@link "tfjs-lens"!ShapeError} for too many entries, an index out of range, or several index lists.
 */
export function indexTensor(x: tf.Tensor, idx: readonly FactoredIndex[], what: string): tf.Tensor {
  if (indexLength(idx) > x.rank) {
    throw new ShapeError(`${what}: too many indices for a tensor of shape [${x.shape.join(', ')}]: ${show(idx)}`);
  }
  const slices = idx.map((i) => (i === 'newaxis' ? i : i instanceof Slice ? i : new Slice(i)));
  const lists = slices.filter((s) => s !== 'newaxis' && s.mode === 'array' && !s.dropsAxis).length;
  if (lists > 1) {
    throw new ShapeError(`${what}: at most one index list per index is supported (torch would broadcast them together), got ${show(idx)}`);
  }
  return tf.tidy(() => {
    let cur = x;
    let axis = 0;
    for (const s of slices) {
      if (s === 'newaxis') {
        cur = tf.expandDims(cur, axis); // [..., 1, ...]
        axis++;
        continue;
      }
      if (s.mode !== 'identity') cur = s.apply(cur, axis);
      if (s.dropsAxis) continue;
      axis++;
    }
    return cur === x ? tf.reshape(x, x.shape) : cur; // always a new handle
  });
}

/**
 * TL `_convert_to_slice`: the integer at `pos` (negative counts from the end of `idx`) becomes a
 * one-element range so its axis is kept. Negative integers are resolved against the axis length
 * (TL would produce an empty slice for -1), and an out-of-range integer throws.
 * @param idx Index entries.
 * @param pos Position in `idx`.
 * @param shape Shape of the tensor the entries index (to resolve the axis length).
 * @param what Caller name for errors.
 * @returns A copy of `idx` with that entry converted (unchanged when it is not an integer).
 * @throws {@link "tfjs-lens"!ShapeError} for an integer out of range.
 */
export function intToRange(idx: readonly FactoredIndex[], pos: number, shape: readonly number[], what: string): FactoredIndex[] {
  const out = [...idx];
  const j = pos < 0 ? pos + out.length : pos;
  const v = out[j];
  if (typeof v !== 'number') return out;
  const axis = indexLength(out.slice(0, j));
  const n = shape[axis] ?? 0;
  const i = v < 0 ? v + n : v;
  if (!Number.isInteger(i) || i < 0 || i >= n) {
    throw new ShapeError(`${what}: index ${v} is out of range for dimension ${axis} of length ${n} (shape [${shape.join(', ')}])`);
  }
  out[j] = { start: i, stop: i + 1 };
  return out;
}
