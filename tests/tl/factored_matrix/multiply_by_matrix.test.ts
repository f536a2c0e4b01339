/**
 * Port of TransformerLens v2.18.0 tests/unit/factored_matrix/test_multiply_by_matrix.py (6 test
 * functions: the 4 methods of BaseMultiplyByMatrixTest, run by TestLeftMultiplyByMatrix and
 * TestRightMultiplyByMatrix over 3 cases each, and the two dimension-mismatch tests over 4 cases).
 * `fm @ matrix` is `fm.matmul(matrix)`, `matrix @ fm` is `fm.rmatmul(matrix)`; torch's RuntimeError /
 * AssertionError become ShapeError. Expected products use plain tf.matMul.
 */
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../../src/backend/backend.js';
import { ShapeError } from '../../../src/errors.js';
import { FactoredMatrix } from '../../../src/ops/factored_matrix.js';
import { expectClose, mm, randn, repeatLead } from './helpers.js';

beforeAll(async () => {
  await initBackend(undefined, { quiet: true });
});

type Case = [string, [number, number], [number, number], [number, number]];
type Multiply = (a: tf.Tensor, b: tf.Tensor, matrix: tf.Tensor) => FactoredMatrix;

/** TestLeftMultiplyByMatrix._test_multiply: fm @ matrix. */
const left: Multiply = (a, b, matrix) => {
  const fm = new FactoredMatrix(a, b);
  const product = fm.matmul(matrix as tf.Tensor2D);
  expectClose(product.AB, mm(mm(a, b), matrix));
  expect(product.ldim).toBe(fm.ldim);
  expect(product.mdim).toBe(Math.min(fm.mdim, matrix.shape[matrix.rank - 2] as number));
  expect(product.rdim).toBe(matrix.shape[matrix.rank - 1]);
  fm.dispose();
  return product;
};

/** TestRightMultiplyByMatrix._test_multiply: matrix @ fm. */
const right: Multiply = (a, b, matrix) => {
  const fm = new FactoredMatrix(a, b);
  const product = fm.rmatmul(matrix as tf.Tensor2D);
  expectClose(product.AB, mm(matrix, mm(a, b)));
  expect(product.ldim).toBe(matrix.shape[matrix.rank - 2]);
  expect(product.mdim).toBe(Math.min(fm.mdim, matrix.shape[matrix.rank - 1] as number));
  expect(product.rdim).toBe(fm.rdim);
  fm.dispose();
  return product;
};

const SUITES: [string, Multiply, Case[]][] = [
  ['TestLeftMultiplyByMatrix', left, [['rdim > mdim', [2, 3], [3, 4], [4, 5]], ['rdim < mdim', [2, 6], [6, 4], [4, 5]], ['rdim == mdim', [2, 4], [4, 4], [4, 5]]]],
  ['TestRightMultiplyByMatrix', right, [['ldim > mdim', [6, 3], [3, 4], [4, 6]], ['ldim < mdim', [2, 6], [6, 4], [4, 2]], ['ldim == mdim', [2, 2], [2, 4], [4, 2]]]],
];

for (const [suite, multiply, cases] of SUITES) {
  describe(`${suite} (TL test_multiply_by_matrix.py)`, () => {
    it.each(cases)('test_left_multiply_by_matrix [%s]', (_id, da, db, dm) => {
      multiply(randn(...da), randn(...db), randn(...dm)).dispose();
    });

    it.each(cases)('test_left_multiply_when_factored_matrix_has_leading_dim [%s]', (_id, da, db, dm) => {
      const p = multiply(repeatLead(randn(...da), [2]), repeatLead(randn(...db), [2]), randn(...dm));
      expect(p.A.shape.slice(0, -2)).toEqual([2]);
      expect(p.B.shape.slice(0, -2)).toEqual([2]);
      p.dispose();
    });

    it.each(cases)('test_left_multiply_when_matrix_has_leading_dims [%s]', (_id, da, db, dm) => {
      const p = multiply(randn(...da), randn(...db), repeatLead(randn(...dm), [2, 12]));
      expect(p.A.shape.slice(0, -2)).toEqual([2, 12]);
      expect(p.B.shape.slice(0, -2)).toEqual([2, 12]);
      p.dispose();
    });

    it.each(cases)('test_left_multiply_when_both_have_leading_dim [%s]', (_id, da, db, dm) => {
      const p = multiply(repeatLead(randn(...da), [2]), repeatLead(randn(...db), [2]), repeatLead(randn(...dm), [2]));
      expect(p.A.shape.slice(0, -2)).toEqual([2]);
      expect(p.B.shape.slice(0, -2)).toEqual([2]);
      p.dispose();
    });
  });
}

type Mismatch = [string, number[], number[], number[], RegExp];
const fmOf = (da: number[], db: number[]): FactoredMatrix => new FactoredMatrix(randn(...da), randn(...db));

describe('dimension mismatch (TL test_multiply_by_matrix.py)', () => {
  const LEFT: Mismatch[] = [
    ['Leading dim mismatch where each has one leading dim', [2, 3, 4], [2, 4, 6], [4, 6, 7], /Shape mismatch.*self: \[2, 3, 6\], other: \[4, 6, 7\]/],
    ['Leading dim mismatch where FactoredMatrix has two leading dims and regular matrix has one', [2, 9, 3, 4], [2, 9, 4, 6], [2, 6, 7], /Shape mismatch/],
    ['Inner dimension mismatch', [3, 4], [4, 6], [5, 6], /inner dimension.*self: \[3, 6\], other: \[5, 6\]/],
    ['Inner dimension mismatch with batch', [3, 4], [4, 6], [2, 5, 6], /inner dimension/],
  ];
  it.each(LEFT)('test_dimension_mismatch_left_multiply [%s]', (_id, da, db, dm, msg) => {
    const fm = fmOf(da, db);
    const m = randn(...dm);
    expect(() => fm.matmul(m)).toThrow(ShapeError);
    expect(() => fm.matmul(m)).toThrow(msg);
    fm.dispose();
  });

  const RIGHT: Mismatch[] = [
    ['Leading dim mismatch where each has one leading dim', [2, 3, 4], [2, 4, 6], [4, 6, 3], /Shape mismatch/],
    ['Leading dim mismatch where FactoredMatrix has two leading dims and regular matrix has one', [2, 9, 3, 4], [2, 9, 4, 6], [2, 6, 3], /Shape mismatch/],
    ['Inner dimension mismatch', [3, 4], [4, 6], [5, 6], /inner dimension.*self: \[3, 6\], other: \[5, 6\]/],
    ['Inner dimension mismatch with batch', [3, 4], [4, 6], [2, 5, 6], /inner dimension/],
  ];
  it.each(RIGHT)('test_dimension_mismatch_right_multiply [%s]', (_id, da, db, dm, msg) => {
    const fm = fmOf(da, db);
    const m = randn(...dm);
    expect(() => fm.rmatmul(m)).toThrow(ShapeError);
    expect(() => fm.rmatmul(m)).toThrow(msg);
    fm.dispose();
  });
});
