/**
 * Small dense linear algebra in float64 for the probe baselines: sample mean and covariance,
 * Ledoit–Wolf shrinkage (Ledoit & Wolf 2004, as scikit-learn `ledoit_wolf_shrinkage`), and the
 * symmetric eigendecomposition by Householder tridiagonalisation + implicit QL (`tred2`/`tql2`
 * of the public-domain JAMA library, after EISPACK). O(d³); d ≤ ~1,000 is fine.
 */
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

/** Householder reduction to tridiagonal form (JAMA `tred2`): V ← Q, d ← diagonal, e ← off-diagonal. */
function tred2(V: Float64Array[], d: Float64Array, e: Float64Array, n: number): void {
  const at = (i: number): Float64Array => V[i] as Float64Array;
  for (let j = 0; j < n; j++) d[j] = at(n - 1)[j] as number;
  for (let i = n - 1; i > 0; i--) {
    let scale = 0;
    let h = 0;
    for (let k = 0; k < i; k++) scale += Math.abs(d[k] as number);
    if (scale === 0) {
      e[i] = d[i - 1] as number;
      for (let j = 0; j < i; j++) {
        d[j] = at(i - 1)[j] as number;
        at(i)[j] = 0;
        at(j)[i] = 0;
      }
    } else {
      for (let k = 0; k < i; k++) {
        d[k] = (d[k] as number) / scale;
        h += (d[k] as number) ** 2;
      }
      let f = d[i - 1] as number;
      let g = f > 0 ? -Math.sqrt(h) : Math.sqrt(h);
      e[i] = scale * g;
      h -= f * g;
      d[i - 1] = f - g;
      for (let j = 0; j < i; j++) e[j] = 0;
      for (let j = 0; j < i; j++) {
        f = d[j] as number;
        at(j)[i] = f;
        g = (e[j] as number) + (at(j)[j] as number) * f;
        for (let k = j + 1; k <= i - 1; k++) {
          g += (at(k)[j] as number) * (d[k] as number);
          e[k] = (e[k] as number) + (at(k)[j] as number) * f;
        }
        e[j] = g;
      }
      f = 0;
      for (let j = 0; j < i; j++) {
        e[j] = (e[j] as number) / h;
        f += (e[j] as number) * (d[j] as number);
      }
      const hh = f / (h + h);
      for (let j = 0; j < i; j++) e[j] = (e[j] as number) - hh * (d[j] as number);
      for (let j = 0; j < i; j++) {
        f = d[j] as number;
        g = e[j] as number;
        for (let k = j; k <= i - 1; k++) at(k)[j] = (at(k)[j] as number) - (f * (e[k] as number) + g * (d[k] as number));
        d[j] = at(i - 1)[j] as number;
        at(i)[j] = 0;
      }
    }
    d[i] = h;
  }
  accumulate(V, d, n);
  e[0] = 0;
}

/** Second half of `tred2`: accumulate the Householder transformations into V. */
function accumulate(V: Float64Array[], d: Float64Array, n: number): void {
  const at = (i: number): Float64Array => V[i] as Float64Array;
  for (let i = 0; i < n - 1; i++) {
    at(n - 1)[i] = at(i)[i] as number;
    at(i)[i] = 1;
    const h = d[i + 1] as number;
    if (h !== 0) {
      for (let k = 0; k <= i; k++) d[k] = (at(k)[i + 1] as number) / h;
      for (let j = 0; j <= i; j++) {
        let g = 0;
        for (let k = 0; k <= i; k++) g += (at(k)[i + 1] as number) * (at(k)[j] as number);
        for (let k = 0; k <= i; k++) at(k)[j] = (at(k)[j] as number) - g * (d[k] as number);
      }
    }
    for (let k = 0; k <= i; k++) at(k)[i + 1] = 0;
  }
  for (let j = 0; j < n; j++) {
    d[j] = at(n - 1)[j] as number;
    at(n - 1)[j] = 0;
  }
  at(n - 1)[n - 1] = 1;
}

/** Implicit QL on the tridiagonal matrix (JAMA `tql2`); eigenvectors accumulate in the rows of W (= Vᵀ). */
function tql2(W: Float64Array[], d: Float64Array, e: Float64Array, n: number): void {
  for (let i = 1; i < n; i++) e[i - 1] = e[i] as number;
  e[n - 1] = 0;
  let f = 0;
  let tst1 = 0;
  const eps = 2 ** -52;
  for (let l = 0; l < n; l++) {
    tst1 = Math.max(tst1, Math.abs(d[l] as number) + Math.abs(e[l] as number));
    let m = l;
    while (m < n - 1 && Math.abs(e[m] as number) > eps * tst1) m++;
    if (m > l) {
      do {
        let g = d[l] as number;
        let p = ((d[l + 1] as number) - g) / (2 * (e[l] as number));
        let r = Math.hypot(p, 1);
        if (p < 0) r = -r;
        d[l] = (e[l] as number) / (p + r);
        d[l + 1] = (e[l] as number) * (p + r);
        const dl1 = d[l + 1] as number;
        let h = g - (d[l] as number);
        for (let i = l + 2; i < n; i++) d[i] = (d[i] as number) - h;
        f += h;
        p = d[m] as number;
        let c = 1;
        let c2 = c;
        let c3 = c;
        const el1 = e[l + 1] as number;
        let s = 0;
        let s2 = 0;
        for (let i = m - 1; i >= l; i--) {
          c3 = c2;
          c2 = c;
          s2 = s;
          g = c * (e[i] as number);
          h = c * p;
          r = Math.hypot(p, e[i] as number);
          e[i + 1] = s * r;
          s = (e[i] as number) / r;
          c = p / r;
          p = c * (d[i] as number) - s * g;
          d[i + 1] = h + s * (c * g + s * (d[i] as number));
          // W holds the eigenvector estimates as rows (Vᵀ), so the rotation touches two contiguous rows.
          const wi = W[i] as Float64Array;
          const wj = W[i + 1] as Float64Array;
          for (let k = 0; k < n; k++) {
            const hk = wj[k] as number;
            wj[k] = s * (wi[k] as number) + c * hk;
            wi[k] = c * (wi[k] as number) - s * hk;
          }
        }
        p = (-s * s2 * c3 * el1 * (e[l] as number)) / dl1;
        e[l] = s * p;
        d[l] = c * p;
      } while (Math.abs(e[l] as number) > eps * tst1);
    }
    d[l] = (d[l] as number) + f;
    e[l] = 0;
  }
}

/**
 * Eigenvalues and eigenvectors of a symmetric matrix (only the lower triangle is trusted).
 * @param a Rows of the matrix [d][d] (not modified).
 * @returns Values (largest first) and unit vectors.
 * @throws {@link ShapeError} if `a` is empty or not square.
 * @example const { values, vectors } = symmetricEigen([Float64Array.of(2, 1), Float64Array.of(1, 2)]);  // values [3, 1]
 * @category Probe
 */
export function symmetricEigen(a: readonly Float64Array[]): SymmetricEigen {
  const n = a.length;
  if (n === 0 || a.some((r) => r.length !== n)) throw new ShapeError(`symmetricEigen: need a non-empty square matrix, got ${n} rows`);
  const V = a.map((r) => Float64Array.from(r));
  const d = new Float64Array(n);
  const e = new Float64Array(n);
  tred2(V, d, e, n);
  const W = Array.from({ length: n }, (_, i) => Float64Array.from({ length: n }, (_, k) => (V[k] as Float64Array)[i] as number));
  tql2(W, d, e, n);
  const order = Array.from({ length: n }, (_, i) => i).sort((i, j) => (d[j] as number) - (d[i] as number));
  const values = Float64Array.from(order, (i) => d[i] as number);
  const vectors = order.map((i) => W[i] as Float64Array);
  return { values, vectors };
}
