/**
 * Shape helpers and result types of {@link "tfjs-lens"!FactoredMatrix}.
 */
import * as tf from '@tensorflow/tfjs-core';
import { ShapeError } from '../errors.js';

/** The factored SVD: M = U·diag(S)·Vhᵀ (TL's `Vh` is the transpose of the usual Vᴴ). @category Utils */
export interface FactoredSvd {
  /** Left singular vectors [..., ldim, k], orthonormal columns; k = min(ldim, mdim, rdim). */
  readonly U: tf.Tensor;
  /** Singular values, descending [..., k]. */
  readonly S: tf.Tensor;
  /** Right singular vectors [..., rdim, k], orthonormal columns. */
  readonly Vh: tf.Tensor;
}

/** Complex values as two float32 tensors of the same shape (tfjs has no complex eig). @category Utils */
export interface ComplexTensors {
  /** Real parts. */
  readonly real: tf.Tensor;
  /** Imaginary parts. */
  readonly imag: tf.Tensor;
}

/** `[a, b, c]`. */
export const fmt = (s: readonly number[]): string => `[${s.join(', ')}]`;

/** numpy broadcast of two leading shapes; ShapeError naming both full shapes when they do not broadcast. */
export function broadcastShapes(a: readonly number[], b: readonly number[], what: string, full: string): number[] {
  const n = Math.max(a.length, b.length);
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const x = a[a.length - n + i] ?? 1;
    const y = b[b.length - n + i] ?? 1;
    if (x !== y && x !== 1 && y !== 1) {
      throw new ShapeError(`${what}: Shape mismatch: leading dimensions ${fmt(a)} and ${fmt(b)} do not broadcast (${full})`);
    }
    out.push(x === 1 ? y : x);
  }
  return out;
}

/** A new handle on `t` broadcast to `shape` (an alias when it already has that shape). */
export function handle(t: tf.Tensor, shape: readonly number[]): tf.Tensor {
  return tf.util.arraysEqual(t.shape, [...shape]) ? tf.reshape(t, t.shape) : tf.broadcastTo(t, [...shape]);
}

/** Swap the last two axes. */
export function mT(t: tf.Tensor): tf.Tensor {
  const perm = t.shape.map((_, i) => i);
  const r = t.rank;
  [perm[r - 2], perm[r - 1]] = [r - 1, r - 2];
  return tf.transpose(t, perm); // [..., a, b] -> [..., b, a]
}

/** TL `get_corner` of A·B: the first `k` entries of every dimension of A[..., :k, :]·B[..., :, :k]. */
export function cornerOf(A: tf.Tensor, B: tf.Tensor, k: number): tf.Tensor {
  return tf.tidy(() => {
    const a = tf.slice(A, A.shape.map(() => 0), A.shape.map((d, i) => (i === A.rank - 2 ? Math.min(k, d) : -1))); // [..., k, mdim]
    const b = tf.slice(B, B.shape.map(() => 0), B.shape.map((d, i) => (i === B.rank - 1 ? Math.min(k, d) : -1))); // [..., mdim, k]
    const c = tf.matMul(a, b);
    return tf.slice(c, c.shape.map(() => 0), c.shape.map((d) => Math.min(k, d)));
  });
}
