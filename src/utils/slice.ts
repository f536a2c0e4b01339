/**
 * `Slice`: one indexing rule for one tensor axis (TransformerLens `utils.Slice`), with Python's
 * slice semantics (negative bounds and steps included, computed here since tfjs has no
 * negative-step slicing).
 */
import * as tf from '@tensorflow/tfjs-core';
import { ConfigError, ShapeError } from '../errors.js';

/**
 * A Python-style range `start:stop:step` (TL's tuple input `(start, stop, step)`): bounds may be
 * negative (counted from the end) and are clamped to the axis; `step` may be negative but not 0.
 * @category Utils
 */
export interface SliceRange {
  /** First index (default: 0, or the last index when `step < 0`). */
  readonly start?: number | null;
  /** End index, exclusive (default: the axis length, or before the first index when `step < 0`). */
  readonly stop?: number | null;
  /** Step (default 1; negative walks backwards). */
  readonly step?: number | null;
}

/**
 * What a {@link Slice} is built from (TL `SliceInput`): an integer (index, drops the axis), a
 * {@link SliceRange} (TL tuple), an array / `Int32Array` / int tensor of indices (keeps the axis; a
 * rank-0 tensor drops it, as in torch), or `null`/`undefined` (everything, the identity).
 * @category Utils
 */
export type SliceInput = number | SliceRange | readonly number[] | Int32Array | tf.Tensor | null | undefined;

/** How a {@link Slice} indexes (TL `Slice.mode`). @category Utils */
export type SliceMode = 'int' | 'slice' | 'array' | 'identity';

/**
 * Python's `slice(start, stop, step).indices(length)` expanded to the list of indices.
 * @param r The range.
 * @param length Axis length.
 * @returns The selected indices, in order.
 * @throws {@link "tfjs-lens"!ConfigError} when step is 0 or a bound is not an integer.
 */
function rangeIndices(r: SliceRange, length: number): number[] {
  const step = r.step ?? 1;
  if (step === 0 || !Number.isInteger(step)) throw new ConfigError(`Slice: step must be a non-zero integer, got ${step}`);
  const lower = step > 0 ? 0 : -1;
  const upper = step > 0 ? length : length - 1;
  const bound = (v: number | null | undefined, dflt: number): number => {
    if (v === null || v === undefined) return dflt;
    if (!Number.isInteger(v)) throw new ConfigError(`Slice: start and stop must be integers (or null), got ${String(v)}`);
    if (v < 0) return Math.max(v + length, lower);
    return Math.min(v, upper);
  };
  const start = bound(r.start, step > 0 ? lower : upper);
  const stop = bound(r.stop, step > 0 ? upper : lower);
  const out: number[] = [];
  if (step > 0) for (let i = start; i < stop; i += step) out.push(i);
  else for (let i = start; i > stop; i += step) out.push(i);
  return out;
}

/**
 * An indexing rule for one axis (TL `utils.Slice`). Modes: `int` (one index, the axis is dropped),
 * `slice` (a {@link SliceRange}), `array` (a list of indices, gathered in order, the axis kept), and
 * `identity` (`null`/`undefined`: everything). TL builds a range from a Python tuple; since a JS
 * array is the index list here, use a {@link SliceRange} object or {@link Slice.fromTuple}.
 * @example
 * new Slice(-1).apply(resid, 1);                       // [batch, pos, d] → [batch, d]
 * new Slice({ start: 1, stop: 5, step: 2 }).apply(x);  // rows 1 and 3
 * new Slice([0, 4]).indices();                         // [0, 4]
 * Slice.fromTuple([null, null, -1]).indices(3);       // [2, 1, 0]
 * @category Utils
 */
export class Slice {
  /** How this slice indexes. */
  readonly mode: SliceMode;
  private readonly index: number;
  private readonly range: SliceRange;
  private readonly list: readonly number[];
  private readonly dropAxis: boolean;

  /**
   * @param input What to select; see {@link SliceInput}. A `Slice` is copied.
   * @throws {@link "tfjs-lens"!ConfigError} for a non-integer index, a float tensor, or a tensor of rank > 1.
   */
  constructor(input: SliceInput | Slice = null) {
    this.index = 0;
    this.range = {};
    this.list = [];
    this.dropAxis = false;
    if (input instanceof Slice) {
      this.mode = input.mode;
      this.index = input.index;
      this.range = input.range;
      this.list = input.list;
      this.dropAxis = input.dropAxis;
    } else if (input === null || input === undefined) {
      this.mode = 'identity';
    } else if (typeof input === 'number') {
      if (!Number.isInteger(input)) throw new ConfigError(`Slice: an index must be an integer, got ${input}`);
      this.mode = 'int';
      this.index = input;
      this.dropAxis = true;
    } else if (input instanceof tf.Tensor) {
      if (input.dtype !== 'int32' || input.rank > 1) {
        throw new ConfigError(
          `Slice: a tensor of indices must be int32 of rank 0 or 1, got ${input.dtype} [${input.shape.join(', ')}]`,
        );
      }
      this.mode = 'array';
      this.list = Array.from(input.dataSync());
      this.dropAxis = input.rank === 0;
    } else if (Array.isArray(input) || input instanceof Int32Array) {
      const list = Array.from(input as ArrayLike<number>);
      const bad = list.find((i) => !Number.isInteger(i));
      if (bad !== undefined) throw new ConfigError(`Slice: indices must be integers, got ${bad}`);
      this.mode = 'array';
      this.list = list;
    } else {
      this.mode = 'slice';
      this.range = input as SliceRange;
      for (const [k, v] of Object.entries(this.range)) {
        if (v !== null && v !== undefined && !Number.isInteger(v)) throw new ConfigError(`Slice: ${k} must be an integer (or null), got ${String(v)}`);
      }
    }
  }

  /**
   * A slice from a Python-style tuple, as TL's `Slice((…))` (Python `slice(*t)`): `[stop]`,
   * `[start, stop]` or `[start, stop, step]`, any entry `null` for its default.
   * @param t The tuple.
   * @returns The slice (mode `slice`).
   * @throws {@link "tfjs-lens"!ConfigError} for an empty tuple or one longer than 3.
   * @example Slice.fromTuple([1]).indices(4)     // [0]   (Python (1,) means :1)
   * @example Slice.fromTuple([1, 3]).indices(4)  // [1, 2]
   */
  static fromTuple(t: readonly (number | null)[]): Slice {
    if (t.length === 1) return new Slice({ stop: t[0] });
    if (t.length === 2) return new Slice({ start: t[0], stop: t[1] });
    if (t.length === 3) return new Slice({ start: t[0], stop: t[1], step: t[2] });
    throw new ConfigError(`Slice.fromTuple: expected 1 to 3 entries (stop | start, stop | start, stop, step), got ${t.length}`);
  }

  /**
   * `input` as a Slice; a bare integer becomes a one-element index list so the axis is kept
   * (TL `Slice.unwrap`).
   * @param input A slice or slice input.
   * @returns The slice.
   * @throws {@link "tfjs-lens"!ConfigError} as the constructor.
   */
  static unwrap(input: SliceInput | Slice): Slice {
    if (input instanceof Slice) return input;
    return new Slice(typeof input === 'number' ? [input] : input);
  }

  /** Whether applying this slice drops the axis (an integer index or a rank-0 tensor). */
  get dropsAxis(): boolean {
    return this.dropAxis;
  }

  /**
   * The indices this slice selects (TL `Slice.indices`). Negative indices of an index list are
   * resolved against `maxLength`; an integer is resolved too when `maxLength` is given.
   * @param maxLength Length of the axis (required unless the mode is `int`).
   * @returns The selected indices, in order.
   * @throws {@link "tfjs-lens"!ConfigError} without `maxLength` for a non-integer slice (TL ValueError);
   *   {@link "tfjs-lens"!ShapeError} for an index outside [-maxLength, maxLength).
   */
  indices(maxLength?: number): number[] {
    if (this.mode === 'int' && maxLength === undefined) return [this.index];
    if (maxLength === undefined) {
      throw new ConfigError(`Slice.indices: maxLength must be given for a ${this.mode} slice (only an integer slice needs none)`);
    }
    const norm = (i: number): number => {
      const j = i < 0 ? i + maxLength : i;
      if (j < 0 || j >= maxLength) throw new ShapeError(`Slice: index ${i} is out of range for an axis of length ${maxLength}`);
      return j;
    };
    switch (this.mode) {
      case 'int':
        return [norm(this.index)];
      case 'array':
        return this.list.map(norm);
      case 'slice':
        return rangeIndices(this.range, maxLength);
      default:
        return Array.from({ length: maxLength }, (_, i) => i);
    }
  }

  /**
   * Apply the slice to one axis (TL `Slice.apply`). Always returns a new tensor (a clone for the
   * identity), which the caller owns.
   * @param x The tensor.
   * @param dim The axis; negative counts from the end.
   * @returns The sliced tensor: the axis dropped for an integer index, otherwise resized.
   * @throws {@link "tfjs-lens"!ShapeError} for an axis outside the rank or an index out of range.
   */
  apply(x: tf.Tensor, dim = 0): tf.Tensor {
    const axis = dim < 0 ? dim + x.rank : dim;
    if (!Number.isInteger(axis) || axis < 0 || axis >= x.rank) {
      throw new ShapeError(`Slice.apply: dim ${dim} is out of range for a rank-${x.rank} tensor [${x.shape.join(', ')}]`);
    }
    if (this.mode === 'identity') return tf.clone(x);
    const n = x.shape[axis] ?? 0;
    const idx = this.indices(n);
    return tf.tidy(() => {
      const begin = x.shape.map(() => 0);
      const size = x.shape.map(() => -1);
      const contiguous = idx.every((v, i) => i === 0 || v === (idx[i - 1] ?? 0) + 1);
      let picked: tf.Tensor;
      if (contiguous && idx.length > 0) {
        begin[axis] = idx[0] ?? 0;
        size[axis] = idx.length;
        picked = tf.slice(x, begin, size);
      } else if (idx.length === 0) {
        size[axis] = 0;
        picked = tf.slice(x, begin, size);
      } else {
        picked = tf.gather(x, tf.tensor1d(idx, 'int32'), axis);
      }
      return this.dropAxis ? tf.squeeze(picked, [axis]) : picked; // [..., 1, ...] -> [..., ...]
    });
  }

  /** A readable description, as TL's repr. */
  toString(): string {
    const body =
      this.mode === 'int'
        ? String(this.index)
        : this.mode === 'array'
          ? `[${this.list.join(', ')}]`
          : this.mode === 'slice'
            ? `${this.range.start ?? ''}:${this.range.stop ?? ''}:${this.range.step ?? ''}`
            : ':';
    return `Slice: ${body} Mode: ${this.mode}`;
  }
}
