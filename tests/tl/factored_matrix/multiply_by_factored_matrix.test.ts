/**
 * Port of TransformerLens v2.18.0 tests/unit/factored_matrix/test_multiply_by_factored_matrix.py
 * (5 test functions: the 4 methods of TestMultiplyByFactoredMatrix over its 12 cases, and
 * test_dimension_mismatch over 4). Python `x @ y` is `x.matmul(y)`; torch's RuntimeError /
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

type Dims = [[number, number], [number, number]];
/** [id, a factors, b factors] as TL's parametrisation. */
const CASES: [string, Dims, Dims][] = [
  ['both have ldim == mdim == rdim', [[3, 3], [3, 3]], [[3, 3], [3, 3]]],
  ['both have ldim == mdim == rdim == 1', [[1, 1], [1, 1]], [[1, 1], [1, 1]]],
  ['both have ldim == rdim == 1 != mdim', [[1, 2], [2, 1]], [[1, 6], [6, 1]]],
  ['A has ldim == mdim == rdim == 1', [[1, 1], [1, 1]], [[1, 2], [2, 5]]],
  ['B has ldim == mdim == rdim == 1', [[5, 2], [2, 1]], [[1, 1], [1, 1]]],
  ['A has ldim == 1', [[1, 2], [2, 3]], [[3, 2], [2, 4]]],
  ['B has ldim == 1', [[3, 2], [2, 1]], [[1, 3], [3, 2]]],
  ['A has ldim == 1 and B has rdim == 1', [[1, 2], [2, 5]], [[5, 3], [3, 1]]],
  ['both have rdim > mdim', [[3, 4], [4, 5]], [[5, 6], [6, 7]]],
  ['both have rdim < mdim', [[8, 6], [6, 5]], [[5, 7], [7, 3]]],
  ['both have rdim == mdim', [[3, 4], [4, 4]], [[4, 5], [5, 5]]],
  ['A has rdim < mdim and B has rdim > mdim', [[7, 6], [6, 3]], [[3, 7], [7, 8]]],
];

function make(d: Dims): [tf.Tensor, tf.Tensor] {
  return [randn(...d[0]), randn(...d[1])];
}

function testMultiply(aLeft: tf.Tensor, aRight: tf.Tensor, bLeft: tf.Tensor, bRight: tf.Tensor): FactoredMatrix {
  const fa = new FactoredMatrix(aLeft, aRight);
  const fb = new FactoredMatrix(bLeft, bRight);
  const product = fa.matmul(fb);
  expectClose(product.AB, mm(mm(aLeft, aRight), mm(bLeft, bRight)));
  expect(product.ldim).toBe(fa.ldim);
  expect(product.mdim).toBe(Math.min(fa.mdim, fa.rdim, fb.ldim, fb.mdim));
  expect(product.rdim).toBe(fb.rdim);
  fa.dispose();
  fb.dispose();
  return product;
}

describe('TestMultiplyByFactoredMatrix (TL test_multiply_by_factored_matrix.py)', () => {
  it.each(CASES)('test_multiply_two_factored_matrices [%s]', (_id, da, db) => {
    testMultiply(...make(da), ...make(db)).dispose();
  });

  it.each(CASES)('test_multiply_when_A_has_leading_dim [%s]', (_id, da, db) => {
    const [al, ar] = make(da);
    const p = testMultiply(repeatLead(al, [2]), repeatLead(ar, [2]), ...make(db));
    expect(p.A.shape.slice(0, 1)).toEqual([2]);
    expect(p.B.shape.slice(0, 1)).toEqual([2]);
    p.dispose();
  });

  it.each(CASES)('test_multiply_when_B_has_leading_dim [%s]', (_id, da, db) => {
    const [bl, br] = make(db);
    const p = testMultiply(...make(da), repeatLead(bl, [2]), repeatLead(br, [2]));
    expect(p.A.shape.slice(0, 1)).toEqual([2]);
    expect(p.B.shape.slice(0, 1)).toEqual([2]);
    p.dispose();
  });

  it.each(CASES)('test_multiply_when_both_have_leading_dim [%s]', (_id, da, db) => {
    const [al, ar] = make(da);
    const [bl, br] = make(db);
    const p = testMultiply(repeatLead(al, [2, 9]), repeatLead(ar, [2, 9]), repeatLead(bl, [9]), repeatLead(br, [9]));
    expect(p.A.shape.slice(0, 2)).toEqual([2, 9]);
    expect(p.B.shape.slice(0, 2)).toEqual([2, 9]);
    p.dispose();
  });
});

describe('test_dimension_mismatch (TL test_multiply_by_factored_matrix.py)', () => {
  const MISMATCH: [string, number[][], number[][], RegExp][] = [
    ['Leading dim mismatch where each has one leading dim', [[2, 3, 4], [2, 4, 6]], [[4, 6, 7], [4, 7, 2]], /Shape mismatch/],
    ['Leading dim mismatch where A has two leading dims and B has one', [[2, 9, 3, 4], [2, 9, 4, 6]], [[2, 6, 7], [2, 7, 2]], /Shape mismatch/],
    ['Inner dimension mismatch', [[3, 4], [4, 6]], [[5, 6], [6, 7]], /inner dimension.*self: \[3, 6\], other: \[5, 6\]/],
    ['Inner dimension mismatch with batch', [[3, 4], [4, 6]], [[2, 5, 6], [2, 6, 7]], /inner dimension/],
  ];
  it.each(MISMATCH)('test_dimension_mismatch [%s]', (_id, da, db, msg) => {
    const a = new FactoredMatrix(randn(...(da[0] as number[])), randn(...(da[1] as number[])));
    const b = new FactoredMatrix(randn(...(db[0] as number[])), randn(...(db[1] as number[])));
    const before = tf.memory().numTensors;
    expect(() => a.matmul(b)).toThrow(ShapeError);
    expect(() => a.matmul(b)).toThrow(msg);
    expect(tf.memory().numTensors).toBe(before);
    a.dispose();
    b.dispose();
  });
});
