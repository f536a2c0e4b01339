/**
 * Matmuls with hand-written gradients that avoid tfjs's transposed-matmul kernels. On tfjs-wasm a
 * matmul with a transpose flag runs ~10x slower than a plain one (2 vs 23 GFLOP/s measured), and the
 * built-in MatMul gradient uses exactly those flags (dA = dy·Bᵀ, dB = Aᵀ·dy). Here the transposes
 * are explicit copies followed by plain matmuls. Forward values are identical to `tf.matMul`.
 */
import * as tf from '@tensorflow/tfjs-core';

/**
 * x·W for a 2-D activation and a 2-D weight: x [n, k] · w [k, m] → [n, m].
 * The backward pass needs x and w. Tensors a gradient needs are normally saved, and saving clones
 * them (a copy on wasm); a `tf.Variable` weight is captured instead, since it outlives the backward
 * pass. Any other weight (e.g. a tied W_U = W_Eᵀ built inside the differentiated function, which
 * tfjs frees before the backward pass) is saved.
 */
export function linear(x: tf.Tensor, w: tf.Tensor): tf.Tensor2D {
  return w instanceof tf.Variable ? linearVarGrad(x, w) : linearGrad(x, w);
}

type Fn2 = (a: tf.Tensor, b: tf.Tensor) => tf.Tensor2D;
type CustomFn<T extends tf.Tensor> = Parameters<typeof tf.customGrad<T>>[0];

const linearGrad = tf.customGrad(((x: tf.Tensor, w: tf.Tensor, save: tf.GradSaveFunc) => {
  save([x, w]);
  return {
    value: tf.matMul(x as tf.Tensor2D, w as tf.Tensor2D),
    gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
      const [xs, ws] = saved as [tf.Tensor2D, tf.Tensor2D];
      const d = dy as tf.Tensor2D;
      return [tf.matMul(d, tf.transpose(ws)), tf.matMul(tf.transpose(xs), d)];
    },
  };
}) as unknown as CustomFn<tf.Tensor2D>) as Fn2;

const linearVarGrad = tf.customGrad(((x: tf.Tensor, w: tf.Tensor, save: tf.GradSaveFunc) => {
  save([x]);
  return {
    value: tf.matMul(x as tf.Tensor2D, w as tf.Tensor2D),
    gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
      const xs = saved[0] as tf.Tensor2D;
      const d = dy as tf.Tensor2D;
      return [tf.matMul(d, tf.transpose(w as tf.Tensor2D)), tf.matMul(tf.transpose(xs), d)];
    },
  };
}) as unknown as CustomFn<tf.Tensor2D>) as Fn2;

/**
 * x·W + b for a 2-D activation, a 2-D weight and a 1-D bias: x [n, k] · w [k, m] + b [m] → [n, m],
 * as one fused matmul-with-bias kernel (on wasm XNNPACK adds the bias while writing the output,
 * saving a pass over it: ~9% of the 128×768 · 768×50257 unembed). Gradients as {@link linear},
 * plus db = Σ_rows dy. Values equal `tf.add(tf.matMul(x, w), b)` up to float32 rounding (the bias is
 * added inside the accumulation).
 */
export function affine(x: tf.Tensor, w: tf.Tensor, b: tf.Tensor): tf.Tensor2D {
  return w instanceof tf.Variable ? affineVarGrad(x, w, b) : affineGrad(x, w, b);
}

type Fn3 = (a: tf.Tensor, b: tf.Tensor, c: tf.Tensor) => tf.Tensor2D;

const fusedAffine = (x: tf.Tensor, w: tf.Tensor, b: tf.Tensor): tf.Tensor2D =>
  tf.fused.matMul({ a: x as tf.Tensor2D, b: w as tf.Tensor2D, bias: b }) as tf.Tensor2D;

const affineGrad = tf.customGrad(((x: tf.Tensor, w: tf.Tensor, b: tf.Tensor, save: tf.GradSaveFunc) => {
  save([x, w]);
  return {
    value: fusedAffine(x, w, b),
    gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
      const [xs, ws] = saved as [tf.Tensor2D, tf.Tensor2D];
      const d = dy as tf.Tensor2D;
      return [tf.matMul(d, tf.transpose(ws)), tf.matMul(tf.transpose(xs), d), tf.sum(d, 0)];
    },
  };
}) as unknown as CustomFn<tf.Tensor2D>) as Fn3;

const affineVarGrad = tf.customGrad(((x: tf.Tensor, w: tf.Tensor, b: tf.Tensor, save: tf.GradSaveFunc) => {
  save([x]);
  return {
    value: fusedAffine(x, w, b),
    gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
      const xs = saved[0] as tf.Tensor2D;
      const d = dy as tf.Tensor2D;
      return [tf.matMul(d, tf.transpose(w as tf.Tensor2D)), tf.matMul(tf.transpose(xs), d), tf.sum(d, 0)];
    },
  };
}) as unknown as CustomFn<tf.Tensor2D>) as Fn3;

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
}) as unknown as CustomFn<tf.Tensor3D>) as (a: tf.Tensor, c: tf.Tensor) => tf.Tensor3D;
