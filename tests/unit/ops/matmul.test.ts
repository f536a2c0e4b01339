/** The explicit-transpose matmul gradients equal tfjs's built-in MatMul gradients. */
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../../src/backend/backend.js';
import { affine, batchMatMul, linear } from '../../../src/ops/matmul.js';

beforeAll(async () => {
  await initBackend(undefined, { quiet: true });
});

function maxDiff(a: tf.Tensor, b: tf.Tensor): number {
  return tf.tidy(() => tf.max(tf.abs(tf.sub(a, b))).dataSync()[0] as number);
}

describe('matmul with hand-written gradients', () => {
  it('linear: value and both gradients equal tf.matMul', () => {
    const x = tf.randomNormal([7, 5], 0, 1, 'float32', 1);
    const w = tf.randomNormal([5, 3], 0, 1, 'float32', 2);
    const g = tf.randomNormal([7, 3], 0, 1, 'float32', 3);
    const f1 = (a: tf.Tensor, b: tf.Tensor): tf.Scalar => tf.sum(tf.mul(linear(a, b), g));
    const f2 = (a: tf.Tensor, b: tf.Tensor): tf.Scalar => tf.sum(tf.mul(tf.matMul(a as tf.Tensor2D, b as tf.Tensor2D), g));
    const before = tf.memory().numTensors;
    const [dx1, dw1] = tf.grads(f1)([x, w]);
    const [dx2, dw2] = tf.grads(f2)([x, w]);
    expect(maxDiff(dx1 as tf.Tensor, dx2 as tf.Tensor)).toBeLessThan(1e-5);
    expect(maxDiff(dw1 as tf.Tensor, dw2 as tf.Tensor)).toBeLessThan(1e-5);
    tf.dispose([dx1, dw1, dx2, dw2]);
    expect(tf.memory().numTensors).toBe(before);
    const v = linear(x, w);
    const v2 = tf.matMul(x, w);
    expect(Array.from(v.dataSync())).toEqual(Array.from(v2.dataSync()));
    tf.dispose([x, w, g, v, v2]);
  });

  it('batchMatMul: value and both gradients equal tf.matMul', () => {
    const a = tf.randomNormal([3, 4, 6], 0, 1, 'float32', 4);
    const c = tf.randomNormal([3, 6, 2], 0, 1, 'float32', 5);
    const g = tf.randomNormal([3, 4, 2], 0, 1, 'float32', 6);
    const [da1, dc1] = tf.grads((p: tf.Tensor, q: tf.Tensor) => tf.sum(tf.mul(batchMatMul(p, q), g)))([a, c]);
    const [da2, dc2] = tf.grads((p: tf.Tensor, q: tf.Tensor) => tf.sum(tf.mul(tf.matMul(p as tf.Tensor3D, q as tf.Tensor3D), g)))([a, c]);
    expect(maxDiff(da1 as tf.Tensor, da2 as tf.Tensor)).toBeLessThan(1e-5);
    expect(maxDiff(dc1 as tf.Tensor, dc2 as tf.Tensor)).toBeLessThan(1e-5);
    tf.dispose([a, c, g, da1, dc1, da2, dc2]);
  });

  it('affine: value and all three gradients equal matMul + add, for a plain and a Variable weight', () => {
    const x = tf.randomNormal([7, 5], 0, 1, 'float32', 7);
    const w = tf.randomNormal([5, 3], 0, 1, 'float32', 8);
    const b = tf.randomNormal([3], 0, 1, 'float32', 9);
    const g = tf.randomNormal([7, 3], 0, 1, 'float32', 10);
    const ref = (p: tf.Tensor, q: tf.Tensor, r: tf.Tensor): tf.Scalar => tf.sum(tf.mul(tf.add(tf.matMul(p as tf.Tensor2D, q as tf.Tensor2D), r), g));
    const ours = (p: tf.Tensor, q: tf.Tensor, r: tf.Tensor): tf.Scalar => tf.sum(tf.mul(affine(p, q, r), g));
    const before = tf.memory().numTensors;
    const got = tf.grads(ours)([x, w, b]);
    const want = tf.grads(ref)([x, w, b]);
    got.forEach((t, i) => expect(maxDiff(t, want[i] as tf.Tensor), `grad ${i}`).toBeLessThan(1e-5));
    tf.dispose([...got, ...want]);
    expect(tf.memory().numTensors).toBe(before);
    const v = affine(x, w, b);
    const v2 = tf.add(tf.matMul(x, w), b);
    expect(maxDiff(v, v2)).toBeLessThan(1e-5);
    const wv = tf.variable(w);
    const bv = tf.variable(b);
    const { grads } = tf.variableGrads(() => tf.sum(tf.mul(affine(x, wv, bv), g)), [wv, bv]);
    const [dx, dw, db] = tf.grads(ref)([x, w, b]);
    expect(maxDiff(grads[wv.name] as tf.Tensor, dw as tf.Tensor)).toBeLessThan(1e-5);
    expect(maxDiff(grads[bv.name] as tf.Tensor, db as tf.Tensor)).toBeLessThan(1e-5);
    tf.dispose([x, w, b, g, v, v2, wv, bv, dx as tf.Tensor, dw as tf.Tensor, db as tf.Tensor, ...Object.values(grads)]);
  });
});
