/**
 * Ownership of FactoredMatrix (not a TL port: torch has no manual memory). A FactoredMatrix holds
 * its own handles on A and B, kept from tf.tidy; dispose() frees them; every method returns new
 * tensors / FactoredMatrices the caller owns and leaks nothing else.
 */
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../../src/backend/backend.js';
import { DisposedError } from '../../../src/errors.js';
import { FactoredMatrix } from '../../../src/ops/factored_matrix.js';
import { expectNoLeak } from '../../helpers/memory.js';
import { randn } from './helpers.js';

beforeAll(async () => {
  await initBackend(undefined, { quiet: true });
});

const fmCount = (): number => 2;
const tensors = (r: tf.Tensor | tf.Tensor[] | Record<string, tf.Tensor>): number =>
  r instanceof tf.Tensor ? 1 : Array.isArray(r) ? r.length : Object.keys(r).length;

describe('FactoredMatrix ownership', () => {
  it('the constructor copies handles (the caller keeps its tensors), survives an enclosing tidy, dispose frees', () => {
    const a = randn(2, 5, 3);
    const b = randn(3, 5);
    const before = tf.memory().numTensors;
    let made: FactoredMatrix | undefined;
    tf.tidy(() => {
      made = new FactoredMatrix(a, b); // returned nothing: only keep() saves the factors
    });
    const fm = made as FactoredMatrix;
    expect(tf.memory().numTensors - before).toBe(2);
    a.dispose();
    b.dispose();
    expect(fm.A.isDisposed).toBe(false);
    expect(Array.from(fm.B.shape)).toEqual([2, 3, 5]); // B broadcast to the leading shape
    fm.dispose();
    fm.dispose(); // idempotent
    expect(tf.memory().numTensors).toBe(before - 2);
    expect(fm.isDisposed).toBe(true);
    expect(() => fm.A).toThrow(DisposedError);
    expect(() => fm.svd()).toThrow(/disposed/);
  });

  it('every method leaves the tensor count where it was plus what it returns', () => {
    const [a, b, m, v] = [randn(2, 6, 4), randn(2, 4, 6), randn(6, 5), randn(6)];
    const fm = new FactoredMatrix(a, b);
    const mt = tf.transpose(m) as tf.Tensor2D;
    const other = new FactoredMatrix(randn(6, 3), randn(3, 6));
    const fms: [string, () => FactoredMatrix][] = [
      ['matmul(matrix)', () => fm.matmul(m as tf.Tensor2D)],
      ['matmul(fm)', () => fm.matmul(other)],
      ['rmatmul(matrix)', () => fm.rmatmul(mt)],
      ['rmatmul(fm)', () => fm.rmatmul(other)],
      ['mul', () => fm.mul(2)],
      ['T', () => fm.T],
      ['get', () => fm.get(1, [0, 2], 3)],
      ['makeEven', () => fm.makeEven()],
      ['unsqueeze', () => fm.unsqueeze(0)],
    ];
    for (const [, f] of fms) expectNoLeak(f, fmCount).dispose();
    const ts: [string, () => tf.Tensor | tf.Tensor[] | Record<string, tf.Tensor>][] = [
      ['matmul(vector)', () => fm.matmul(v as tf.Tensor1D)],
      ['rmatmul(vector)', () => fm.rmatmul(v as tf.Tensor1D)],
      ['AB', () => fm.AB],
      ['BA', () => fm.BA],
      ['svd', () => ({ ...fm.svd() })],
      ['U', () => fm.U],
      ['eigenvalues', () => ({ ...fm.eigenvalues })],
      ['norm', () => fm.norm()],
      ['getCorner', () => fm.getCorner(2)],
      ['collapseL', () => fm.collapseL()],
      ['collapseR', () => fm.collapseR()],
    ];
    for (const [, f] of ts) tf.dispose(expectNoLeak(f, tensors));
    expectNoLeak(() => fm.pair, () => 0);
    fm.dispose();
    other.dispose();
  });
});
