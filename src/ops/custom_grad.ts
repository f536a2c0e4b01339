/**
 * Fixed-arity, typed wrappers of `tf.customGrad`. tfjs types the wrapped function as variadic
 * (`(...inputs: Array<Tensor | GradSaveFunc>)`), so a function written with named parameters
 * `(x, w, save)` does not type-check against it; these wrappers unpack the inputs, check them at run
 * time, and give the result the named-parameter signature.
 */
import * as tf from '@tensorflow/tfjs-core';
import { ShapeError } from '../errors.js';

/**
 * What the forward function of a custom op returns: its value, and the gradient of its inputs given
 * the upstream gradient `dy` (shaped like the value) and the tensors saved with `save`.
 */
interface CustomGradResult<T extends tf.Tensor> {
  value: T;
  gradFunc: (dy: T, saved: tf.Tensor[]) => tf.Tensor[];
}

/** Input `i` of those tfjs hands the forward function: the op's tensors, then the save function. */
function tensorAt(inputs: Array<tf.Tensor | tf.GradSaveFunc>, i: number): tf.Tensor {
  const t = inputs[i];
  if (!(t instanceof tf.Tensor)) throw new ShapeError(`customGrad: input ${i} is not a tensor`);
  return t;
}

/** The save function, last of the inputs tfjs hands the forward function of an op of `n` tensors. */
function saveAt(inputs: Array<tf.Tensor | tf.GradSaveFunc>, n: number): tf.GradSaveFunc {
  const save = inputs[n];
  if (inputs.length !== n + 1 || typeof save !== 'function') {
    throw new ShapeError(`customGrad: expected ${n} tensors and a save function, got ${inputs.length} inputs`);
  }
  return save;
}

/**
 * `tf.customGrad` for an op of two tensors.
 * @param f Forward function: value and gradient function.
 * @returns The op.
 */
export function customGrad2<T extends tf.Tensor>(
  f: (a: tf.Tensor, b: tf.Tensor, save: tf.GradSaveFunc) => CustomGradResult<T>,
): (a: tf.Tensor, b: tf.Tensor) => T {
  return tf.customGrad<T>((...inputs) => f(tensorAt(inputs, 0), tensorAt(inputs, 1), saveAt(inputs, 2)));
}

/**
 * `tf.customGrad` for an op of three tensors.
 * @param f Forward function: value and gradient function.
 * @returns The op.
 */
export function customGrad3<T extends tf.Tensor>(
  f: (a: tf.Tensor, b: tf.Tensor, c: tf.Tensor, save: tf.GradSaveFunc) => CustomGradResult<T>,
): (a: tf.Tensor, b: tf.Tensor, c: tf.Tensor) => T {
  return tf.customGrad<T>((...inputs) => f(tensorAt(inputs, 0), tensorAt(inputs, 1), tensorAt(inputs, 2), saveAt(inputs, 3)));
}

/**
 * Identity whose gradient is zero: the value of `x` with no gradient flowing back through it (torch
 * `x.detach()`, or computing it under `torch.no_grad()`).
 * @param x Any tensor.
 * @returns A new tensor equal to x (the caller owns it).
 */
export function stopGradient<T extends tf.Tensor>(x: T): T {
  const op = tf.customGrad<T>((...inputs) => {
    const a = tensorAt(inputs, 0);
    return { value: tf.reshape(a, a.shape) as T, gradFunc: (dy: T) => [tf.zerosLike(dy)] };
  });
  return op(x);
}
