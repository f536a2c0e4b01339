/**
 * Matmuls with hand-written gradients that avoid tfjs's transposed-matmul kernels. On tfjs-wasm a
 * matmul with a transpose flag runs ~10x slower than a plain one (2 vs 23 GFLOP/s measured), and the
 * built-in MatMul gradient uses exactly those flags (dA = dy·Bᵀ, dB = Aᵀ·dy). Here the transposes
 * are explicit copies followed by plain matmuls. Forward values are identical to `tf.matMul`.
 */
import * as tf from '@tensorflow/tfjs-core';

/**
 * x·W for a 2-D activation and a 2-D weight: x [n, k] · w [k, m] → [n, m].
 * The activation is saved for dW; the weight is captured, not saved (saving clones, which copies on
 * wasm), so it must stay alive until the backward pass — true of parameters and of tensors built
 * from them inside the differentiated function.
 */
export function linear(x: tf.Tensor, w: tf.Tensor): tf.Tensor2D {
  return linearGrad(x, w);
}

const linearGrad = tf.customGrad(((x: tf.Tensor, w: tf.Tensor, save: tf.GradSaveFunc) => {
  save([x]);
  return {
    value: tf.matMul(x as tf.Tensor2D, w as tf.Tensor2D),
    gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
      const xs = saved[0] as tf.Tensor2D;
      const d = dy as tf.Tensor2D;
      return [tf.matMul(d, tf.transpose(w as tf.Tensor2D)), tf.matMul(tf.transpose(xs), d)];
    },
  };
}) as unknown as Parameters<typeof tf.customGrad<tf.Tensor2D>>[0]) as (x: tf.Tensor, w: tf.Tensor) => tf.Tensor2D;

/** Batched a [b, n, k] · c [b, k, m] → [b, n, m], with explicit-transpose gradients (both saved). */
export const batchMatMul = tf.customGrad(((a: tf.Tensor, c: tf.Tensor, save: tf.GradSaveFunc) => {
  save([a, c]);
  return {
    value: tf.matMul(a as tf.Tensor3D, c as tf.Tensor3D),
    gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
      const [as, cs] = saved as [tf.Tensor3D, tf.Tensor3D];
      const dy3 = dy as tf.Tensor3D;
      return [tf.matMul(dy3, tf.transpose(cs, [0, 2, 1])), tf.matMul(tf.transpose(as, [0, 2, 1]), dy3)];
    },
  };
}) as unknown as Parameters<typeof tf.customGrad<tf.Tensor3D>>[0]) as (a: tf.Tensor, c: tf.Tensor) => tf.Tensor3D;
