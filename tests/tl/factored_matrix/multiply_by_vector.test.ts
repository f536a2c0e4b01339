/**
 * Port of TransformerLens v2.18.0 tests/unit/factored_matrix/test_multiply_by_vector.py (4 test
 * functions). `fm @ v` is `fm.matmul(v)`, `v @ fm` is `fm.rmatmul(v)`; expected values use tf.matMul.
 */
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../../src/backend/backend.js';
import { ShapeError } from '../../../src/errors.js';
import { FactoredMatrix } from '../../../src/ops/factored_matrix.js';
import { expectClose, mm, rand } from './helpers.js';

beforeAll(async () => {
  await initBackend(undefined, { quiet: true });
});

/** (a @ b) @ v for a vector v: [..., l, r] · [r] → [..., l]. */
const timesVec = (m: tf.Tensor, v: tf.Tensor): tf.Tensor => tf.squeeze(mm(m, tf.reshape(v, [-1, 1])), [-1]);
/** v @ (a @ b): [l] · [..., l, r] → [..., r]. */
const vecTimes = (v: tf.Tensor, m: tf.Tensor): tf.Tensor => tf.squeeze(mm(tf.reshape(v, [1, -1]), m), [-2]);

describe('FactoredMatrix with vectors (TL test_multiply_by_vector.py)', () => {
  it('test_left_matmul_by_vector_left', () => {
    const [a, b] = [rand(2, 3), rand(3, 4)];
    const fm = new FactoredMatrix(a, b);
    const v = rand(4) as tf.Tensor1D;
    const before = tf.memory().numTensors;
    const got = fm.matmul(v);
    expect(tf.memory().numTensors - before).toBe(1);
    expectClose(got, timesVec(mm(a, b), v));
    fm.dispose();
  });

  it('test_left_matmul_by_vector_leading_dim', () => {
    const [a, b] = [rand(6, 2, 3), rand(6, 3, 4)];
    const fm = new FactoredMatrix(a, b);
    const v = rand(4) as tf.Tensor1D;
    const got = fm.matmul(v);
    expect(got.shape).toEqual([6, 2]);
    expectClose(got, timesVec(mm(a, b), v));
    fm.dispose();
  });

  it('test_right_matmul_by_vector', () => {
    const [a, b] = [rand(2, 3), rand(3, 4)];
    const fm = new FactoredMatrix(a, b);
    const v = rand(2) as tf.Tensor1D;
    const before = tf.memory().numTensors;
    const got = fm.rmatmul(v);
    expect(tf.memory().numTensors - before).toBe(1);
    expectClose(got, vecTimes(v, mm(a, b)));
    expect(() => fm.rmatmul(rand(3) as tf.Tensor1D)).toThrow(ShapeError);
    expect(() => fm.matmul(rand(3) as tf.Tensor1D)).toThrow(/vector must have length rdim = 4/);
    fm.dispose();
  });

  it('test_right_matmul_by_vector_leading_dim', () => {
    const [a, b] = [rand(6, 2, 3), rand(6, 3, 4)];
    const fm = new FactoredMatrix(a, b);
    const v = rand(2) as tf.Tensor1D;
    const got = fm.rmatmul(v);
    expect(got.shape).toEqual([6, 4]);
    expectClose(got, vecTimes(v, mm(a, b)));
    fm.dispose();
  });
});
