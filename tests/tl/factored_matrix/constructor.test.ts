/**
 * Port of TransformerLens v2.18.0 tests/unit/factored_matrix/test_constructor.py (5 test functions).
 * torch's RuntimeError / AssertionError become ShapeError. test_factored_matrix_inner_mismatch is
 * skipped in TL (jaxtyping intercepts it there); here the check is ours, so it runs.
 */
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../../src/backend/backend.js';
import { ShapeError } from '../../../src/errors.js';
import { FactoredMatrix } from '../../../src/ops/factored_matrix.js';
import { expectEqual, randn } from './helpers.js';

beforeAll(async () => {
  await initBackend(undefined, { quiet: true });
});

describe('FactoredMatrix constructor (TL test_constructor.py)', () => {
  it('test_factored_matrix', () => {
    const A = randn(5, 3);
    const B = randn(3, 7);
    const f = new FactoredMatrix(A, B);
    expectEqual(f.A, A);
    expectEqual(f.B, B);
    expect([f.ldim, f.mdim, f.rdim]).toEqual([5, 3, 7]);
    expect(f.hasLeadingDims).toBe(false);
    expect(f.shape).toEqual([5, 7]);
    f.dispose();
    tf.dispose([A, B]);
  });

  it('test_factored_matrix_b_leading_dims', () => {
    const A = tf.ones([5, 3]);
    const B = tf.ones([2, 4, 3, 7]);
    const f = new FactoredMatrix(A, B);
    expect(f.A.shape).toEqual([2, 4, 5, 3]);
    expectEqual(f.B, B);
    expect([f.ldim, f.mdim, f.rdim]).toEqual([5, 3, 7]);
    expect(f.hasLeadingDims).toBe(true);
    expect(f.shape).toEqual([2, 4, 5, 7]);
    f.dispose();
    tf.dispose([A, B]);
  });

  it('test_factored_matrix_a_b_leading_dims', () => {
    const A = tf.ones([4, 5, 3]);
    const B = tf.ones([2, 4, 3, 7]);
    const f = new FactoredMatrix(A, B);
    expect(f.A.shape).toEqual([2, 4, 5, 3]);
    expectEqual(f.B, B);
    expect([f.ldim, f.mdim, f.rdim]).toEqual([5, 3, 7]);
    expect(f.hasLeadingDims).toBe(true);
    expect(f.shape).toEqual([2, 4, 5, 7]);
    f.dispose();
    tf.dispose([A, B]);
  });

  it('test_factored_matrix_broadcast_mismatch', () => {
    const A = tf.ones([9, 5, 3]);
    const B = tf.ones([2, 4, 3, 7]);
    expect(() => new FactoredMatrix(A, B)).toThrow(ShapeError);
    expect(() => new FactoredMatrix(A, B)).toThrow(/Shape mismatch.*\[9, 5, 3\].*\[2, 4, 3, 7\]/);
    tf.dispose([A, B]);
  });

  it('test_factored_matrix_inner_mismatch', () => {
    const A = tf.ones([2, 3, 4]);
    const B = tf.ones([2, 3, 5]);
    expect(() => new FactoredMatrix(A, B)).toThrow(ShapeError);
    expect(() => new FactoredMatrix(A, B)).toThrow(/inner dimension.*a: \[2, 3, 4\], b: \[2, 3, 5\]/);
    tf.dispose([A, B]);
  });
});
