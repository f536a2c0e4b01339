/**
 * Matmuls with hand-written gradients that avoid tfjs's transposed-matmul kernels. On tfjs-wasm a
 * matmul with a transpose flag runs ~10x slower than a plain one (2 vs 23 GFLOP/s measured), and the
 * built-in MatMul gradient uses exactly those flags (dA = dy·Bᵀ, dB = Aᵀ·dy). Here the transposes
 * are explicit copies followed by plain matmuls. Forward values are identical to `tf.matMul`; a
 * result of the wrong rank (inputs that are not 2-D, or 3-D for {@link batchMatMul}) throws ShapeError.
 */
import * as tf from '@tensorflow/tfjs-core';
import { itemAt, rank2, rank3 } from '../utils/tensor_rank.js';
import { customGrad2, customGrad3 } from './custom_grad.js';

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

const linearGrad = customGrad2<tf.Tensor2D>((x, w, save) => {
  save([x, w]);
  return {
    value: rank2(tf.matMul(x, w), 'linear'),
    gradFunc: (dy, saved) => {
      const xs = itemAt(saved, 0, 'linear backward');
      const ws = itemAt(saved, 1, 'linear backward');
      return [tf.matMul(dy, tf.transpose(ws)), tf.matMul(tf.transpose(xs), dy)];
    },
  };
});

const linearVarGrad = customGrad2<tf.Tensor2D>((x, w, save) => {
  save([x]);
  return {
    value: rank2(tf.matMul(x, w), 'linear'),
    gradFunc: (dy, saved) => {
      const xs = itemAt(saved, 0, 'linear backward');
      return [tf.matMul(dy, tf.transpose(w)), tf.matMul(tf.transpose(xs), dy)];
    },
  };
});

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

const fusedAffine = (x: tf.Tensor, w: tf.Tensor, b: tf.Tensor): tf.Tensor2D => rank2(tf.fused.matMul({ a: x, b: w, bias: b }), 'affine');

const affineGrad = customGrad3<tf.Tensor2D>((x, w, b, save) => {
  save([x, w]);
  return {
    value: fusedAffine(x, w, b),
    gradFunc: (dy, saved) => {
      const xs = itemAt(saved, 0, 'affine backward');
      const ws = itemAt(saved, 1, 'affine backward');
      return [tf.matMul(dy, tf.transpose(ws)), tf.matMul(tf.transpose(xs), dy), tf.sum(dy, 0)];
    },
  };
});

const affineVarGrad = customGrad3<tf.Tensor2D>((x, w, b, save) => {
  save([x]);
  return {
    value: fusedAffine(x, w, b),
    gradFunc: (dy, saved) => {
      const xs = itemAt(saved, 0, 'affine backward');
      return [tf.matMul(dy, tf.transpose(w)), tf.matMul(tf.transpose(xs), dy), tf.sum(dy, 0)];
    },
  };
});

/** Batched a [b, n, k] · c [b, k, m] → [b, n, m], with explicit-transpose gradients (both saved). */
export const batchMatMul = customGrad2<tf.Tensor3D>((a, c, save) => {
  save([a, c]);
  return {
    value: rank3(tf.matMul(a, c), 'batchMatMul'),
    gradFunc: (dy, saved) => {
      const as = itemAt(saved, 0, 'batchMatMul backward');
      const cs = itemAt(saved, 1, 'batchMatMul backward');
      return [tf.matMul(dy, tf.transpose(cs, [0, 2, 1])), tf.matMul(tf.transpose(as, [0, 2, 1]), dy)];
    },
  };
});
