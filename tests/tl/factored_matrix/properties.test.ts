/**
 * Port of TransformerLens v2.18.0 tests/unit/factored_matrix/test_properties.py (15 test
 * functions of TestFactoredMatrixProperties). Expected values come from TL's definitions computed
 * independently: AB by tf.matMul, the SVD by reconstruction U·diag(S)·Vhᵀ ≈ AB and orthonormal
 * columns, collapse_l / collapse_r as Uᵀ·AB and AB·Vh, the norm as the Frobenius norm of AB, the
 * eigenvalues against ml-matrix's eig of the dense AB (its nonzero eigenvalues are BA's).
 * test_eigenvalues_bfloat16_support: tfjs has no bfloat16/float16 dtype; the port keeps its point
 * (eigenvalues of factors of another dtype are computed in float and returned as float32, no crash)
 * with int32 factors.
 */
import * as tf from '@tensorflow/tfjs-core';
import { EigenvalueDecomposition, Matrix } from 'ml-matrix';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../../src/backend/backend.js';
import { ShapeError } from '../../../src/errors.js';
import { FactoredMatrix } from '../../../src/ops/factored_matrix.js';
import { expectClose, mm, randn } from './helpers.js';

let randomMatrices: [tf.Tensor, tf.Tensor][];
let factoredMatrices: FactoredMatrix[];
let leadingOnes: FactoredMatrix[];

beforeAll(async () => {
  await initBackend(undefined, { quiet: true });
  randomMatrices = [
    [randn(3, 2), randn(2, 3)],
    [randn(4, 5), randn(5, 4)],
    [randn(6, 7), randn(7, 6)],
    [randn(6, 7), randn(7, 3)],
  ];
  factoredMatrices = randomMatrices.map(([a, b]) => new FactoredMatrix(a, b));
  leadingOnes = [new FactoredMatrix(randn(1, 8, 9), randn(1, 9, 8))];
});
afterAll(() => {
  for (const f of [...factoredMatrices, ...leadingOnes]) f.dispose();
});

const mT = (t: tf.Tensor): tf.Tensor => tf.transpose(t, [...t.shape.keys()].map((i, _, all) => (i < all.length - 2 ? i : i === all.length - 2 ? i + 1 : i - 1)));
const eye = (n: number): tf.Tensor => tf.eye(n);

/** Eigenvalues of a dense square matrix with ml-matrix, as [re, im] pairs. */
function denseEig(m: tf.Tensor): [number, number][] {
  const n = m.shape[0] as number;
  const e = new EigenvalueDecomposition(Matrix.from1DArray(n, n, Array.from(m.dataSync())));
  return e.realEigenvalues.map((re, i) => [re, e.imaginaryEigenvalues[i] as number]);
}

/** Multisets equal up to tolerance: each of `got` matched to a distinct nearest of `want`. */
function expectSameEigenvalues(got: [number, number][], want: [number, number][], tol: number): void {
  expect(got.length).toBe(want.length);
  const left = [...want];
  for (const [re, im] of got) {
    let best = -1;
    let bestD = Infinity;
    left.forEach(([r2, i2], j) => {
      const d = Math.hypot(re - r2, im - i2);
      if (d < bestD) [best, bestD] = [j, d];
    });
    expect(bestD).toBeLessThan(tol);
    left.splice(best, 1);
  }
}

/** The factored eigenvalues padded with zeros to ldim, against the dense AB's (padded to mdim). */
function checkEigenvalues(fm: FactoredMatrix, tol: number): void {
  const { real, imag } = fm.eigenvalues;
  expect(real.shape).toEqual([fm.mdim]);
  expect(real.dtype).toBe('float32');
  const re = real.dataSync();
  const im = imag.dataSync();
  const got: [number, number][] = Array.from(re, (r, i) => [r, im[i] as number]);
  const want = denseEig(fm.AB);
  for (let i = fm.mdim; i < fm.ldim; i++) got.push([0, 0]);
  for (let i = fm.ldim; i < fm.mdim; i++) want.push([0, 0]);
  expectSameEigenvalues(got, want, tol);
  tf.dispose([real, imag]);
}

describe('TestFactoredMatrixProperties (TL test_properties.py)', () => {
  it('test_AB_property', () => {
    factoredMatrices.forEach((fm, i) => {
      const [a, b] = randomMatrices[i] as [tf.Tensor, tf.Tensor];
      expectClose(fm.AB, mm(a, b), 1e-5, 0);
    });
  });

  it('test_BA_property', () => {
    factoredMatrices.forEach((fm, i) => {
      const [a, b] = randomMatrices[i] as [tf.Tensor, tf.Tensor];
      if (a.shape[a.rank - 2] === b.shape[b.rank - 1]) expectClose(fm.BA, mm(b, a), 1e-5, 0);
      else expect(() => fm.BA).toThrow(ShapeError);
    });
  });

  it('test_transpose_property', () => {
    for (const fm of factoredMatrices) {
      const t = fm.T;
      expectClose(t.A, mT(fm.B), 1e-5, 0);
      expectClose(t.B, mT(fm.A), 1e-5, 0);
      t.dispose();
    }
  });

  it('test_svd_property', () => {
    for (const fm of factoredMatrices) {
      const { U, S, Vh } = fm.svd();
      const k = Math.min(fm.ldim, fm.mdim, fm.rdim);
      expect([U.shape, S.shape, Vh.shape]).toEqual([[fm.ldim, k], [k], [fm.rdim, k]]);
      expectClose(mm(tf.mul(U, S), mT(Vh)), fm.AB, 1e-4, 0); // U·diag(S)·Vhᵀ
      expectClose(mm(mT(U), U), eye(k), 1e-5, 0);
      expectClose(mm(mT(Vh), Vh), eye(k), 1e-5, 0);
      const s = Array.from(S.dataSync());
      expect(s).toEqual([...s].sort((x, y) => y - x)); // descending, as torch.svd
      tf.dispose([U, S, Vh]);
    }
  });

  it('test_svd_property_leading_ones', () => {
    for (const fm of leadingOnes) {
      const { U, S, Vh } = fm.svd();
      expect(U.shape).toEqual([1, 8, 8]);
      expectClose(mm(tf.mul(U, tf.expandDims(S, -2)), mT(Vh)), fm.AB, 1e-4, 0);
      expectClose(mm(mT(U), U), tf.expandDims(eye(8), 0), 1e-5, 0);
      expectClose(mm(mT(Vh), Vh), tf.expandDims(eye(8), 0), 1e-5, 0);
      tf.dispose([U, S, Vh]);
    }
  });

  it('test_eigenvalues_property', () => {
    for (const fm of factoredMatrices) {
      if (fm.ldim === fm.rdim) checkEigenvalues(fm, 1e-3);
      else expect(() => fm.eigenvalues).toThrow(ShapeError);
    }
    // Hand-checkable: a 90° rotation (A) times the identity (B) has eigenvalues ±i.
    const rot = new FactoredMatrix(tf.tensor2d([[0, -1], [1, 0]]), tf.eye(2));
    const { real, imag } = rot.eigenvalues;
    expect(Array.from(real.dataSync())).toEqual([0, 0]);
    expect(Array.from(imag.dataSync()).sort()).toEqual([-1, 1]);
    rot.dispose();
  });

  it('test_ndim_property', () => {
    factoredMatrices.forEach((fm, i) => {
      const [a, b] = randomMatrices[i] as [tf.Tensor, tf.Tensor];
      expect(fm.ndim).toBe(Math.max(a.rank, b.rank));
    });
  });

  it('test_pair_property', () => {
    factoredMatrices.forEach((fm, i) => {
      const [a, b] = randomMatrices[i] as [tf.Tensor, tf.Tensor];
      expectClose(fm.pair[0], a, 1e-5, 0);
      expectClose(fm.pair[1], b, 1e-5, 0);
    });
  });

  it('test_norm_property', () => {
    for (const fm of factoredMatrices) {
      const n = fm.norm();
      expect(n.shape).toEqual([]);
      expectClose(n, tf.norm(fm.AB), 1e-4, 1e-5);
    }
  });

  it('test_get_corner', () => {
    const k = 3;
    for (const fm of factoredMatrices) {
      const ab = fm.AB.arraySync() as number[][];
      const want = ab.slice(0, k).map((row) => row.slice(0, k));
      expectClose(fm.getCorner(k), tf.tensor2d(want), 1e-5, 0);
    }
  });

  it('test_ndim', () => {
    for (const fm of factoredMatrices) expect(fm.ndim).toBe(fm.shape.length);
  });

  it('test_collapse_l', () => {
    for (const fm of factoredMatrices) {
      const r = fm.collapseL(); // diag(S)·Vhᵀ = Uᵀ·AB
      const U = fm.U;
      expectClose(r, mm(mT(U), fm.AB), 1e-4, 0);
      expect(r.shape).toEqual([Math.min(fm.ldim, fm.mdim, fm.rdim), fm.rdim]);
    }
  });

  it('test_collapse_r', () => {
    for (const fm of factoredMatrices) {
      const r = fm.collapseR(); // U·diag(S) = AB·Vh
      expectClose(r, mm(fm.AB, fm.Vh), 1e-4, 0);
      expect(r.shape).toEqual([fm.ldim, Math.min(fm.ldim, fm.mdim, fm.rdim)]);
    }
  });

  it('test_unsqueeze', () => {
    for (const fm of leadingOnes) {
      for (const k of [0, -3]) {
        const r = fm.unsqueeze(k);
        expect(r).toBeInstanceOf(FactoredMatrix);
        expectClose(r.A, tf.expandDims(fm.A, k === 0 ? 0 : 1), 0, 0);
        expectClose(r.B, tf.expandDims(fm.B, k === 0 ? 0 : 1), 0, 0);
        r.dispose();
      }
      expect(() => fm.unsqueeze(4)).toThrow(ShapeError);
    }
  });

  it('test_eigenvalues_bfloat16_support (adapted: tfjs has no bfloat16; int32 factors)', () => {
    for (const [l, m] of [[3, 2], [10, 4]] as const) {
      const a = tf.cast(tf.round(tf.mul(randn(l, m), 3)), 'int32');
      const b = tf.cast(tf.round(tf.mul(randn(m, l), 3)), 'int32');
      const fm = new FactoredMatrix(a, b);
      const { real, imag } = fm.eigenvalues;
      expect([real.dtype, imag.dtype]).toEqual(['float32', 'float32']);
      const ref = new FactoredMatrix(tf.cast(a, 'float32'), tf.cast(b, 'float32'));
      const r2 = ref.eigenvalues;
      expectClose(tf.sqrt(tf.add(tf.square(real), tf.square(imag))), tf.sqrt(tf.add(tf.square(r2.real), tf.square(r2.imag))), 1e-2, 1e-2);
      checkEigenvalues(ref, 1e-2);
      fm.dispose();
      ref.dispose();
    }
  });
});

describe('FactoredMatrix extras (TL methods without their own test)', () => {
  it('makeEven is an equivalent factorisation with √S on both sides', () => {
    const fm = factoredMatrices[3] as FactoredMatrix;
    const e = fm.makeEven();
    expectClose(e.AB, fm.AB, 1e-4, 0);
    const S = fm.S;
    // Columns of A and rows of B both have norm √s.
    expectClose(tf.norm(e.A, 'euclidean', 0), tf.sqrt(S), 1e-4, 0);
    expectClose(tf.norm(e.B, 'euclidean', 1), tf.sqrt(S), 1e-4, 0);
    e.dispose();
  });

  it('svd of rank-deficient and zero factors still reconstructs AB with orthonormal U, Vh', () => {
    const a0 = randn(6, 2);
    const a = tf.concat([a0, tf.sum(a0, 1, true), tf.zeros([6, 1])], 1); // [6, 4], rank 2
    for (const [x, y] of [[a, randn(4, 5)], [tf.zeros([5, 3]), randn(3, 4)]] as const) {
      const fm = new FactoredMatrix(x, y);
      const { U, S, Vh } = fm.svd();
      const k = U.shape[1] as number;
      expectClose(mm(tf.mul(U, S), mT(Vh)), fm.AB, 1e-4, 0);
      expectClose(mm(mT(U), U), eye(k), 1e-4, 0);
      expectClose(mm(mT(Vh), Vh), eye(k), 1e-4, 0);
      tf.dispose([U, S, Vh]);
      fm.dispose();
    }
  });

  it('toString is TL repr', () => {
    expect(String(factoredMatrices[3])).toBe('FactoredMatrix: Shape([6, 3]), Hidden Dim(7)');
  });
});
