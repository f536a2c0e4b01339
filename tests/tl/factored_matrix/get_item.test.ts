/**
 * Port of TransformerLens v2.18.0 tests/unit/factored_matrix/test_get_item.py (11 test functions).
 * Python `fm[i, j, …]` is `fm.get(i, j, …)`, `:` is `null`; IndexError / ValueError become
 * ShapeError. Expected values index the factors as plain nested arrays (independent of our indexing).
 */
import * as tf from '@tensorflow/tfjs-core';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { initBackend } from '../../../src/backend/backend.js';
import { ShapeError } from '../../../src/errors.js';
import { FactoredMatrix } from '../../../src/ops/factored_matrix.js';
import { expectClose, mm, rand } from './helpers.js';

type N5 = number[][][][][];
let fm: FactoredMatrix;
let A: tf.Tensor;
let B: tf.Tensor;
let a: N5;
let b: N5;

beforeAll(async () => {
  await initBackend(undefined, { quiet: true });
});
beforeEach(() => {
  A = rand(2, 2, 2, 2, 2);
  B = rand(2, 2, 2, 2, 2);
  fm = new FactoredMatrix(A, B);
  a = A.arraySync() as N5;
  b = B.arraySync() as N5;
});
afterEach(() => {
  fm.dispose();
  tf.dispose([A, B]);
});

/** Apply `f` to every entry at depth `d` of a nested array (`[:, :, …, f]`). */
function at(x: unknown, d: number, f: (v: unknown) => unknown): unknown {
  return d === 0 ? f(x) : (x as unknown[]).map((v) => at(v, d - 1, f));
}
const check = (got: tf.Tensor, want: unknown): void => expectClose(got, tf.tensor(want as number[]), 0, 0);

describe('FactoredMatrix.get (TL test_get_item.py)', () => {
  it('test_getitem_int', () => {
    const r = fm.get(0);
    check(r.A, a[0]);
    check(r.B, b[0]);
    r.dispose();
  });

  it('test_getitem_tuple', () => {
    const r = fm.get(0, 1);
    check(r.A, a[0]?.[1]);
    check(r.B, b[0]?.[1]);
    r.dispose();
  });

  it('test_getitem_slice', () => {
    const r = fm.get(null, 1);
    check(r.A, at(a, 1, (v) => (v as unknown[])[1]));
    check(r.B, at(b, 1, (v) => (v as unknown[])[1]));
    r.dispose();
  });

  it('test_getitem_error', () => {
    expect(() => fm.get(0, 1, 2)).toThrow(ShapeError);
    expect(() => fm.get(0, 1, 2)).toThrow(/index 2 is out of range/);
  });

  it('test_getitem_multiple_slices', () => {
    const r = fm.get(null, null, 1);
    check(r.A, at(a, 2, (v) => (v as unknown[])[1]));
    check(r.B, at(b, 2, (v) => (v as unknown[])[1]));
    r.dispose();
  });

  it('test_index_dimension_get_line', () => {
    const r = fm.get(0, 0, 0, 1);
    const ab = mm(A, B).arraySync() as N5;
    const got = r.AB;
    expect(got.shape).toEqual([1, 2]);
    check(tf.squeeze(got), ab[0]?.[0]?.[0]?.[1]);
    r.dispose();
  });

  it('test_index_dimension_get_element', () => {
    const r = fm.get(0, 0, 0, 0, 1);
    const ab = mm(A, B).arraySync() as N5;
    const got = r.AB;
    expect(got.shape).toEqual([1, 1]);
    expectClose(tf.squeeze(got), ab[0]?.[0]?.[0]?.[0]?.[1] as number, 0, 0);
    r.dispose();
  });

  it('test_index_dimension_too_big', () => {
    expect(() => fm.get(1, 1, 1, 1, 1, 1)).toThrow(ShapeError);
    expect(() => fm.get(1, 1, 1, 1, 1, 1)).toThrow(/too long/);
  });

  it('test_getitem_sequences', () => {
    const r = fm.get(null, null, null, [0, 1], [0]);
    check(r.A, at(a, 3, (v) => [0, 1].map((i) => (v as unknown[])[i])));
    check(r.B, at(b, 4, (v) => [0].map((i) => (v as unknown[])[i])));
    r.dispose();
  });

  it('test_getitem_sequences_and_ints', () => {
    const r = fm.get(null, null, null, [0, 1], 0);
    check(r.A, at(a, 3, (v) => [0, 1].map((i) => (v as unknown[])[i])));
    // result.B keeps the indexed axis (an int on a matrix dimension is a one-element slice), so squeeze it.
    expect(r.B.shape).toEqual([2, 2, 2, 2, 1]);
    check(tf.squeeze(r.B, [-1]), at(b, 4, (v) => (v as unknown[])[0]));
    r.dispose();
  });

  it('test_getitem_tensors', () => {
    const ia = tf.tensor1d([0, 1], 'int32');
    const ib = tf.tensor1d([0], 'int32');
    const r = fm.get(null, null, null, ia, ib);
    check(r.A, at(a, 3, (v) => [0, 1].map((i) => (v as unknown[])[i])));
    check(r.B, at(b, 4, (v) => [0].map((i) => (v as unknown[])[i])));
    r.dispose();
    tf.dispose([ia, ib]);
  });
});

describe('FactoredMatrix.get beyond TL', () => {
  it('an integer and an index list separated by a slice keep the list axis in place (torch, not NumPy, order)', () => {
    // A [2, 3, 4, 5, 6] @ B [2, 3, 4, 6, 7]: fm[0, :, [0, 1]] in torch selects 0 first, so the list's axis stays second.
    const A5 = rand(2, 3, 4, 5, 6);
    const B5 = rand(2, 3, 4, 6, 7);
    const f = new FactoredMatrix(A5, B5);
    const r = f.get(0, null, [0, 1]);
    expect(r.shape).toEqual([3, 2, 5, 7]);
    const a5 = A5.arraySync() as N5;
    check(r.A, (a5[0] as unknown[]).map((row) => [0, 1].map((i) => (row as unknown[])[i])));
    r.dispose();
    f.dispose();
    tf.dispose([A5, B5]);
  });

  it('a negative integer on a matrix dimension selects from the end (TL turns -1 into an empty slice)', () => {
    const r = fm.get(1, 0, 1, -1);
    const ab = mm(A, B).arraySync() as N5;
    check(tf.squeeze(r.AB), ab[1]?.[0]?.[1]?.[1]);
    r.dispose();
  });

  it("'newaxis' (Python None) inserts an axis and is not counted", () => {
    const r = fm.get('newaxis', 0);
    expect(r.shape).toEqual([1, 2, 2, 2, 2]);
    check(r.A, [a[0]]);
    r.dispose();
  });

  it('leaks nothing beyond the two factors it returns', () => {
    const before = tf.memory().numTensors;
    const r = fm.get(null, 1, [1, 0], 0, 1);
    expect(tf.memory().numTensors - before).toBe(2);
    r.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });
});
