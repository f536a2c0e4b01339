/**
 * Shared checks of the checkpoint → params maps: key sets and shapes against what a config expects,
 * float32 views of raw tensors.
 */
import * as tf from '@tensorflow/tfjs-core';
import { WeightLoadError } from '../../errors.js';
import type { RawTensor } from '../../io/safetensors.js';

/**
 * Throw one error listing every missing, unexpected and wrongly shaped tensor.
 * @param fn Caller name for the message.
 * @param keys Checkpoint tensors (normalised names).
 * @param expected Required names with shapes.
 * @param optional Names that may be present (with shapes), e.g. an untied lm_head.
 * @throws {@link "tfjs-lens"!WeightLoadError} listing what does not match.
 */
export function checkKeys(
  fn: string,
  keys: ReadonlyMap<string, RawTensor>,
  expected: ReadonlyMap<string, readonly number[]>,
  optional: ReadonlyMap<string, readonly number[]> = new Map(),
): void {
  const missing = [...expected.keys()].filter((k) => !keys.has(k));
  const unexpected = [...keys.keys()].filter((k) => !expected.has(k) && !optional.has(k));
  const badShapes: string[] = [];
  for (const [k, shape] of [...expected, ...optional]) {
    const t = keys.get(k);
    if (t !== undefined && (t.shape.length !== shape.length || t.shape.some((s, i) => s !== shape[i]))) {
      badShapes.push(`${k}: expected [${shape.join(', ')}], got [${t.shape.join(', ')}]`);
    }
  }
  if (missing.length + unexpected.length + badShapes.length > 0) {
    const parts: string[] = [];
    if (missing.length > 0) parts.push(`missing (${missing.length}): ${missing.join(', ')}`);
    if (unexpected.length > 0) parts.push(`unexpected (${unexpected.length}): ${unexpected.join(', ')}`);
    if (badShapes.length > 0) parts.push(`wrong shapes: ${badShapes.join('; ')}`);
    throw new WeightLoadError(`${fn}: checkpoint does not match the config — ${parts.join(' | ')}`);
  }
}

/** Float32 values of a raw tensor (F16/BF16 are already decoded to float32). */
export function f32(t: RawTensor): Float32Array {
  return t.data instanceof Float32Array ? t.data : Float32Array.from(t.data);
}

/** Typed tensor constructors over a checked key map. */
export interface TensorReader {
  /** [n] tensor of a key. */
  t1(k: string): tf.Tensor1D;
  /** [rows, cols] tensor of a key. */
  t2(k: string): tf.Tensor2D;
  /** An nn.Linear weight [out, in] transposed to [in, out] (y = x·W). */
  linearT(k: string): tf.Tensor2D;
  /** A bias if present, else zeros [n]. */
  biasOr0(k: string, n: number): tf.Tensor1D;
}

/**
 * Readers over checked tensors.
 * @param fn Caller name for errors.
 * @param keys Checkpoint tensors (already checked).
 * @returns The readers.
 */
export function tensorReader(fn: string, keys: ReadonlyMap<string, RawTensor>): TensorReader {
  const get = (k: string): RawTensor => {
    const t = keys.get(k);
    if (t === undefined) throw new WeightLoadError(`${fn}: tensor '${k}' is missing`);
    return t;
  };
  const t2 = (k: string): tf.Tensor2D => {
    const t = get(k);
    if (t.shape.length !== 2) throw new WeightLoadError(`${fn}: '${k}' must be 2-D, got [${t.shape.join(', ')}]`);
    return tf.tensor2d(f32(t), [t.shape[0] ?? 0, t.shape[1] ?? 0]);
  };
  return {
    t1: (k) => tf.tensor1d(f32(get(k))),
    t2,
    linearT: (k) => tf.tidy(() => tf.transpose(t2(k))),
    biasOr0: (k, n) => (keys.has(k) ? tf.tensor1d(f32(get(k))) : tf.zeros([n])),
  };
}
