/**
 * Run-time rank checks that narrow a `tf.Tensor` to tfjs's ranked types (`tf.Tensor1D`, `tf.Tensor2D`,
 * ...). For the few places where a tensor arrives untyped (tfjs APIs that return plain `tf.Tensor`, such
 * as `tf.fused.matMul`, or the `saved: tf.Tensor[]` of a `tf.customGrad` gradient) and a ranked type is
 * really needed: the rank is checked, never asserted, so a wrong rank throws here instead of surfacing
 * later as a confusing shape error.
 */
import * as tf from '@tensorflow/tfjs-core';
import { ShapeError } from '../errors.js';

const isRank1 = (t: tf.Tensor): t is tf.Tensor1D => t.rank === 1;
const isRank2 = (t: tf.Tensor): t is tf.Tensor2D => t.rank === 2;
const isRank3 = (t: tf.Tensor): t is tf.Tensor3D => t.rank === 3;

const wrongRank = (t: tf.Tensor, rank: number, what: string): ShapeError =>
  new ShapeError(`${what}: expected a rank-${rank} tensor, got rank ${t.rank} [${t.shape.join(', ')}]`);

/**
 * `t` typed as `tf.Tensor1D`.
 * @param t Any tensor.
 * @param what Name for the error message.
 * @throws {@link "tfjs-lens"!ShapeError} if `t.rank !== 1`.
 */
export function rank1(t: tf.Tensor, what: string): tf.Tensor1D {
  if (!isRank1(t)) throw wrongRank(t, 1, what);
  return t;
}

/**
 * `t` typed as `tf.Tensor2D`.
 * @param t Any tensor.
 * @param what Name for the error message.
 * @throws {@link "tfjs-lens"!ShapeError} if `t.rank !== 2`.
 */
export function rank2(t: tf.Tensor, what: string): tf.Tensor2D {
  if (!isRank2(t)) throw wrongRank(t, 2, what);
  return t;
}

/**
 * `t` typed as `tf.Tensor3D`.
 * @param t Any tensor.
 * @param what Name for the error message.
 * @throws {@link "tfjs-lens"!ShapeError} if `t.rank !== 3`.
 */
export function rank3(t: tf.Tensor, what: string): tf.Tensor3D {
  if (!isRank3(t)) throw wrongRank(t, 3, what);
  return t;
}

/**
 * Element `i` of a list that must have it (e.g. the `saved` tensors of a `tf.customGrad` gradient).
 * @param xs The list.
 * @param i Index.
 * @param what Name for the error message.
 * @throws {@link "tfjs-lens"!ShapeError} if `xs` has no element `i`.
 */
export function itemAt<T>(xs: readonly T[], i: number, what: string): T {
  const x = xs[i];
  if (x === undefined) throw new ShapeError(`${what}: expected at least ${i + 1} entries, got ${xs.length}`);
  return x;
}
