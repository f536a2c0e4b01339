/**
 * Baseline anomaly detectors on the same features as the β-VAE, all fitted on normal training rows
 * (cupbearer's menu, ejnnr/cupbearer `MahalanobisDetector`): Mahalanobis distance under a
 * Ledoit–Wolf-shrunk covariance, mean distance to the k nearest training rows, PCA reconstruction
 * error, and a rank-average ensemble of any scores.
 */
import { ConfigError, DatasetError } from '../errors.js';
import { ledoitWolfShrinkage, sampleMoments, symmetricEigen, type Moments, type SymmetricEigen } from './linalg.js';
import { toFeatureMatrix, type FeatureMatrix } from './matrix.js';

/**
 * A fitted detector: higher score = more anomalous.
 * @category Probe
 */
export interface FittedDetector {
  /** Short name for tables ('mahalanobis', 'knn', 'pca'). */
  readonly name: string;
  /** Scores of the training rows (k-NN: leave-one-out), e.g. for a quantile threshold. */
  readonly trainScores: number[];
  /** Score new rows (same width as the training rows). */
  score(x: FeatureMatrix): number[];
}

function projections(x: FeatureMatrix, mean: Float64Array, vectors: readonly Float64Array[], k: number): { proj: Float64Array[]; sq: Float64Array } {
  const d = x.cols;
  const c = new Float64Array(d);
  const proj: Float64Array[] = [];
  const sq = new Float64Array(x.rows);
  for (let r = 0; r < x.rows; r++) {
    let s = 0;
    for (let j = 0; j < d; j++) {
      c[j] = (x.data[r * d + j] as number) - (mean[j] as number);
      s += (c[j] as number) ** 2;
    }
    sq[r] = s;
    const p = new Float64Array(k);
    for (let i = 0; i < k; i++) {
      const v = vectors[i] as Float64Array;
      let dot = 0;
      for (let j = 0; j < d; j++) dot += (v[j] as number) * (c[j] as number);
      p[i] = dot;
    }
    proj.push(p);
  }
  return { proj, sq };
}

/**
 * Mean, covariance and the covariance's eigendecomposition of training rows, shared by
 * {@link fitMahalanobis} and {@link fitPca} (the O(d³) step runs once).
 * @category Probe
 */
export interface GaussianFit {
  /** Mean and (1/n) covariance. */
  readonly moments: Moments;
  /** Eigendecomposition of the covariance. */
  readonly eigen: SymmetricEigen;
}

/**
 * Fit mean, covariance and its eigendecomposition.
 * @param train Rows [n, d].
 * @returns The fit, to pass as `opts.gaussian` to the detectors fitted on the same rows.
 * @throws {@link "tfjs-lens"!DatasetError} for non-finite values.
 * @example const g = fitGaussian(x); fitMahalanobis(x, { gaussian: g }); fitPca(x, { gaussian: g });
 * @category Probe
 */
export function fitGaussian(train: FeatureMatrix): GaussianFit {
  const moments = sampleMoments(toFeatureMatrix(train, 'fitGaussian'));
  return { moments, eigen: symmetricEigen(moments.cov) };
}

function gaussianOf(m: FeatureMatrix, g: GaussianFit | undefined, fn: string): GaussianFit {
  if (g === undefined) return fitGaussian(m);
  if (g.moments.mean.length !== m.cols) throw new DatasetError(`${fn}: opts.gaussian was fitted on ${g.moments.mean.length} features, the rows have ${m.cols}`);
  return g;
}

function checkWidth(x: FeatureMatrix, d: number, fn: string): FeatureMatrix {
  const m = toFeatureMatrix(x, fn);
  if (m.cols !== d) throw new DatasetError(`${fn}: rows have ${m.cols} features, the detector was fitted on ${d}`);
  return m;
}

/**
 * Fit the Mahalanobis detector: d²(x) = (x − μ)ᵀ Σ⁻¹ (x − μ) with Σ shrunk towards (tr Σ / d)·I.
 * @param train Normal training rows [n, d] (n ≥ 2).
 * @param opts.shrinkage 'ledoit-wolf' (default) or a fixed intensity in [0, 1].
 * @param opts.gaussian A {@link fitGaussian} of the same rows, to reuse.
 * @returns The detector (plus the shrinkage used).
 * @throws {@link "tfjs-lens"!DatasetError} for fewer than 2 rows or non-finite values; {@link "tfjs-lens"!ConfigError} for a bad shrinkage.
 * @example const det = fitMahalanobis(trainX); const s = det.score(testX);
 * @category Probe
 */
export function fitMahalanobis(train: FeatureMatrix, opts: { shrinkage?: 'ledoit-wolf' | number; gaussian?: GaussianFit } = {}): FittedDetector & {
  /** Shrinkage intensity used, in [0, 1] (the Ledoit–Wolf estimate unless fixed). */
  readonly shrinkage: number;
} {
  const m = toFeatureMatrix(train, 'fitMahalanobis');
  if (m.rows < 2) throw new DatasetError(`fitMahalanobis: need at least 2 rows, got ${m.rows}`);
  const { moments: mo, eigen } = gaussianOf(m, opts.gaussian, 'fitMahalanobis');
  const sh = opts.shrinkage ?? 'ledoit-wolf';
  if (sh !== 'ledoit-wolf' && !(sh >= 0 && sh <= 1)) throw new ConfigError(`fitMahalanobis: shrinkage must be 'ledoit-wolf' or in [0, 1], got ${sh}`);
  const s = sh === 'ledoit-wolf' ? ledoitWolfShrinkage(mo, m.rows) : sh;
  const d = m.cols;
  const trace = mo.cov.reduce((a, row, i) => a + (row[i] as number), 0);
  const { values, vectors } = eigen;
  const floor = Math.max(1e-12, 1e-9 * (trace / d));
  const lambda = values.map((v) => Math.max((1 - s) * v + (s * trace) / d, floor));
  const score = (x: FeatureMatrix): number[] => {
    const { proj } = projections(checkWidth(x, d, 'mahalanobis.score'), mo.mean, vectors, d);
    return proj.map((p) => p.reduce((a, v, i) => a + (v * v) / (lambda[i] as number), 0));
  };
  return { name: 'mahalanobis', shrinkage: s, trainScores: score(m), score };
}

/**
 * Fit PCA and score by the squared reconstruction error outside the top components.
 * @param train Normal training rows [n, d].
 * @param opts.variance Keep the fewest components explaining this fraction of the variance (default 0.9).
 * @param opts.components Or a fixed number of components.
 * @param opts.gaussian A {@link fitGaussian} of the same rows, to reuse.
 * @returns The detector and the number of components kept.
 * @throws {@link "tfjs-lens"!DatasetError} for fewer than 2 rows; {@link "tfjs-lens"!ConfigError} for bad options.
 * @example fitPca(trainX, { variance: 0.9 }).nComponents
 * @category Probe
 */
export function fitPca(train: FeatureMatrix, opts: { variance?: number; components?: number; gaussian?: GaussianFit } = {}): FittedDetector & {
  /** Principal components kept. */
  readonly nComponents: number;
} {
  const m = toFeatureMatrix(train, 'fitPca');
  if (m.rows < 2) throw new DatasetError(`fitPca: need at least 2 rows, got ${m.rows}`);
  const frac = opts.variance ?? 0.9;
  if (!(frac > 0 && frac <= 1)) throw new ConfigError(`fitPca: variance must be in (0, 1], got ${frac}`);
  const { moments: mo, eigen } = gaussianOf(m, opts.gaussian, 'fitPca');
  const { values, vectors } = eigen;
  const total = values.reduce((a, v) => a + Math.max(v, 0), 0);
  let k = opts.components ?? 0;
  if (opts.components === undefined) {
    let acc = 0;
    while (k < values.length && acc < frac * total) acc += Math.max(values[k++] as number, 0);
  }
  if (!(Number.isInteger(k) && k >= 1 && k <= m.cols)) throw new ConfigError(`fitPca: components must be an integer in [1, ${m.cols}], got ${k}`);
  const score = (x: FeatureMatrix): number[] => {
    const { proj, sq } = projections(checkWidth(x, m.cols, 'pca.score'), mo.mean, vectors, k);
    return proj.map((p, r) => Math.max(0, (sq[r] as number) - p.reduce((a, v) => a + v * v, 0)));
  };
  return { name: 'pca', nComponents: k, trainScores: score(m), score };
}

/** Mean of the k smallest squared-distance square roots from row `r` of x to the training rows. */
function knnRow(x: FeatureMatrix, r: number, norms: Float64Array, train: FeatureMatrix, tNorms: Float64Array, k: number, skip: number): number {
  const d = x.cols;
  const best = new Float64Array(k).fill(Infinity);
  for (let t = 0; t < train.rows; t++) {
    if (t === skip) continue;
    let dot = 0;
    for (let j = 0; j < d; j++) dot += (x.data[r * d + j] as number) * (train.data[t * d + j] as number);
    const dist = (norms[r] as number) + (tNorms[t] as number) - 2 * dot;
    if (dist < (best[k - 1] as number)) {
      let i = k - 1;
      while (i > 0 && (best[i - 1] as number) > dist) {
        best[i] = best[i - 1] as number;
        i--;
      }
      best[i] = dist;
    }
  }
  return best.reduce((a, v) => a + Math.sqrt(Math.max(v, 0)), 0) / k;
}

function rowNorms(x: FeatureMatrix): Float64Array {
  const out = new Float64Array(x.rows);
  for (let r = 0; r < x.rows; r++) {
    let s = 0;
    for (let j = 0; j < x.cols; j++) s += (x.data[r * x.cols + j] as number) ** 2;
    out[r] = s;
  }
  return out;
}

/**
 * k-nearest-neighbour detector: mean Euclidean distance to the k closest training rows.
 * @param train Normal training rows [n, d] (n > k).
 * @param opts.k Neighbours (default 5).
 * @returns The detector; its training scores leave each row out.
 * @throws {@link "tfjs-lens"!DatasetError} for n ≤ k; {@link "tfjs-lens"!ConfigError} for a bad k.
 * @example fitKnn(trainX, { k: 5 }).score(testX)
 * @category Probe
 */
export function fitKnn(train: FeatureMatrix, opts: { k?: number } = {}): FittedDetector & {
  /** Neighbours averaged over. */
  readonly k: number;
} {
  const m = toFeatureMatrix(train, 'fitKnn');
  const k = opts.k ?? 5;
  if (!(Number.isInteger(k) && k >= 1)) throw new ConfigError(`fitKnn: k must be a positive integer, got ${k}`);
  if (m.rows <= k) throw new DatasetError(`fitKnn: need more than k = ${k} training rows, got ${m.rows}`);
  const tNorms = rowNorms(m);
  const score = (x: FeatureMatrix): number[] => {
    const q = checkWidth(x, m.cols, 'knn.score');
    const qn = rowNorms(q);
    return Array.from({ length: q.rows }, (_, r) => knnRow(q, r, qn, m, tNorms, k, -1));
  };
  const trainScores = Array.from({ length: m.rows }, (_, r) => knnRow(m, r, tNorms, m, tNorms, k, r));
  return { name: 'knn', k, trainScores, score };
}

/**
 * Rank-average ensemble: each score list is turned into mid-ranks scaled to [0, 1], then averaged.
 * @param lists Score lists of equal length (one per detector, same samples in the same order).
 * @returns The ensemble score per sample.
 * @throws {@link "tfjs-lens"!DatasetError} for no lists or unequal lengths.
 * @example rankAverage([vaeScores, mahalanobisScores])
 * @category Probe
 */
export function rankAverage(lists: readonly (readonly number[])[]): number[] {
  const n = lists[0]?.length ?? 0;
  if (lists.length === 0 || n === 0 || lists.some((l) => l.length !== n)) throw new DatasetError('rankAverage: need non-empty score lists of equal length');
  const out = new Array<number>(n).fill(0);
  for (const l of lists) {
    const idx = l.map((_, i) => i).sort((a, b) => (l[a] as number) - (l[b] as number));
    for (let i = 0; i < n; ) {
      let j = i;
      while (j + 1 < n && l[idx[j + 1] as number] === l[idx[i] as number]) j++;
      const r = n === 1 ? 0.5 : (i + j) / 2 / (n - 1);
      for (let t = i; t <= j; t++) out[idx[t] as number] = (out[idx[t] as number] as number) + r / lists.length;
      i = j + 1;
    }
  }
  return out;
}
