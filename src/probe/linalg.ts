/**
 * Small dense linear algebra in float64 for the probe baselines: sample mean and covariance,
 * Ledoit–Wolf shrinkage (Ledoit & Wolf 2004, as scikit-learn `ledoit_wolf_shrinkage`), and the
 * symmetric eigendecomposition, delegated to ml-matrix's `EigenvalueDecomposition` with
 * `assumeSymmetric` (Householder tridiagonalisation + implicit QL, `tred2`/`tql2` of JAMA, after
 * EISPACK). O(d³); d ≤ ~1,000 is fine.
 */
import { EigenvalueDecomposition } from 'ml-matrix';
import { ShapeError } from '../errors.js';
import type { FeatureMatrix } from './matrix.js';

/**
 * Mean and covariance of a sample.
 * @category Probe
 */
export interface Moments {
  /** Column means [d]. */
  readonly mean: Float64Array;
  /** Covariance rows [d][d], divided by n (maximum likelihood, as scikit-learn `empirical_covariance`). */
  readonly cov: Float64Array[];
  /** Σ_k ‖x_k − mean‖⁴ / n, needed by Ledoit–Wolf. */
  readonly fourth: number;
}

/**
 * Sample mean and (1/n) covariance.
 * @param m Data [n, d].
 * @returns Mean, covariance and the fourth-moment sum.
 * @throws Never for a valid matrix.
 * @example const { mean, cov } = sampleMoments(train);
 * @category Probe
 */
export function sampleMoments(m: FeatureMatrix): Moments {
  const { rows: n, cols: d, data } = m;
  const mean = new Float64Array(d);
  for (let k = 0; k < n; k++) for (let j = 0; j < d; j++) mean[j] = (mean[j] as number) + (data[k * d + j] as number) / n;
  const cov = Array.from({ length: d }, () => new Float64Array(d));
  const x = new Float64Array(d);
  let fourth = 0;
  for (let k = 0; k < n; k++) {
    let sq = 0;
    for (let j = 0; j < d; j++) {
      x[j] = (data[k * d + j] as number) - (mean[j] as number);
      sq += (x[j] as number) ** 2;
    }
    fourth += sq * sq;
    for (let i = 0; i < d; i++) {
      const xi = x[i] as number;
      if (xi === 0) continue;
      const row = cov[i] as Float64Array;
      for (let j = i; j < d; j++) row[j] = (row[j] as number) + xi * (x[j] as number);
    }
  }
  for (let i = 0; i < d; i++) {
    const row = cov[i] as Float64Array;
    for (let j = i; j < d; j++) {
      row[j] = (row[j] as number) / n;
      (cov[j] as Float64Array)[i] = row[j] as number;
    }
  }
  return { mean, cov, fourth: fourth / n };
}

/**
 * Ledoit–Wolf shrinkage intensity s ∈ [0, 1] of Σ_shrunk = (1 − s)·S + s·(tr S / d)·I.
 * @param mo Moments of the sample.
 * @param n Number of samples.
 * @returns The intensity (0 when S is already a multiple of I).
 * @throws Never.
 * @example const s = ledoitWolfShrinkage(sampleMoments(x), x.rows);
 * @category Probe
 */
export function ledoitWolfShrinkage(mo: Moments, n: number): number {
  const d = mo.mean.length;
  let trace = 0;
  let frob = 0;
  for (let i = 0; i < d; i++) {
    const row = mo.cov[i] as Float64Array;
    trace += row[i] as number;
    for (let j = 0; j < d; j++) frob += (row[j] as number) ** 2;
  }
  const mu = trace / d;
  const beta = (mo.fourth - frob) / (d * n);
  const delta = (frob - 2 * mu * trace + d * mu * mu) / d;
  if (delta <= 0) return 0;
  return Math.max(0, Math.min(beta, delta) / delta);
}

/**
 * Eigendecomposition of a real symmetric matrix.
 * @category Probe
 */
export interface SymmetricEigen {
  /** Eigenvalues, largest first. */
  readonly values: Float64Array;
  /** Unit eigenvectors; `vectors[i]` belongs to `values[i]` [d][d]. */
  readonly vectors: Float64Array[];
}

/** Entries with |a| above this (or non-zero below its inverse) are rescaled first: ml-matrix's QL would overflow to NaN. */
const SAFE_MAX = 2 ** 400;

/** Largest |a_ij| over the lower triangle (the part the decomposition reads); NaN if any entry there is not finite. */
function lowerMaxAbs(a: readonly Float64Array[]): number {
  let max = 0;
  for (let i = 0; i < a.length; i++) {
    const row = a[i] as Float64Array;
    for (let j = 0; j <= i; j++) {
      const v = Math.abs(row[j] as number);
      if (!Number.isFinite(v)) return NaN;
      if (v > max) max = v;
    }
  }
  return max;
}

/**
 * Eigenvalues and eigenvectors of a symmetric matrix (only the lower triangle is trusted), by
 * ml-matrix's `EigenvalueDecomposition` with `assumeSymmetric`. Exactly equal eigenvalues keep
 * ml-matrix's relative order (the basis of a repeated eigenvalue's eigenspace is not unique).
 * A NaN or ±Infinity in the lower triangle gives NaN values and vectors.
 * @param a Rows of the matrix [d][d] (not modified).
 * @returns Values (largest first) and unit vectors.
 * @throws {@link "tfjs-lens"!ShapeError} if `a` is empty or not square.
 * @example const { values, vectors } = symmetricEigen([Float64Array.of(2, 1), Float64Array.of(1, 2)]);  // values [3, 1]
 * @category Probe
 */
export function symmetricEigen(a: readonly Float64Array[]): SymmetricEigen {
  const n = a.length;
  if (n === 0 || a.some((r) => r.length !== n)) throw new ShapeError(`symmetricEigen: need a non-empty square matrix, got ${n} rows`);
  const max = lowerMaxAbs(a);
  if (Number.isNaN(max)) {
    return { values: new Float64Array(n).fill(NaN), vectors: Array.from({ length: n }, () => new Float64Array(n).fill(NaN)) };
  }
  // Rescale by an exact power of two when the entries are extreme; eigenvectors are unchanged.
  const scale = max > SAFE_MAX || (max > 0 && max < 1 / SAFE_MAX) ? 2 ** Math.floor(Math.log2(max)) : 1;
  const input = scale === 1 ? a : a.map((r) => r.map((v) => v / scale));
  const evd = new EigenvalueDecomposition(input, { assumeSymmetric: true });
  const d = evd.realEigenvalues; // ascending
  const V = evd.eigenvectorMatrix; // eigenvectors in the columns
  // Stable sort: descending, exact ties in ml-matrix's order.
  const order = Array.from({ length: n }, (_, i) => i).sort((i, j) => (d[j] as number) - (d[i] as number));
  const values = Float64Array.from(order, (i) => (d[i] as number) * scale);
  const vectors = order.map((c) => Float64Array.from(V.getColumn(c)));
  return { values, vectors };
}
