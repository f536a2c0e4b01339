/**
 * Detection metrics (exact, tie-aware; checked against brute force and scikit-learn's documented
 * examples), thresholds, and the float64 linear algebra behind the baselines (checked against NumPy).
 */
import { describe, expect, it } from 'vitest';
import { ConfigError, DatasetError, ShapeError } from '../../../src/errors.js';
import { fitKnn, fitMahalanobis, fitPca, rankAverage } from '../../../src/probe/baselines.js';
import { ledoitWolfShrinkage, sampleMoments, symmetricEigen } from '../../../src/probe/linalg.js';
import { toFeatureMatrix } from '../../../src/probe/matrix.js';
import {
  averagePrecision, binaryReport, detectionMetrics, maxF1Threshold, prCurve, quantileThreshold, rocAuc, rocCurve,
} from '../../../src/probe/metrics.js';
import { seededRng } from '../../../src/utils/rng.js';

function bruteAuc(s: number[], y: (0 | 1)[]): number {
  let num = 0;
  let den = 0;
  s.forEach((a, i) => s.forEach((b, j) => {
    if (y[i] === 1 && y[j] === 0) {
      den++;
      num += a > b ? 1 : a === b ? 0.5 : 0;
    }
  }));
  return num / den;
}

describe('metrics', () => {
  it('ROC-AUC and average precision match scikit-learn examples', () => {
    expect(rocAuc([0.1, 0.4, 0.35, 0.8], [0, 0, 1, 1])).toBeCloseTo(0.75, 12);
    expect(averagePrecision([0.1, 0.4, 0.35, 0.8], [0, 0, 1, 1])).toBeCloseTo(0.8333333333, 9);
  });

  it('ROC-AUC is exact with ties (= brute-force pair count, ties ½)', () => {
    const rand = seededRng(4);
    const s = Array.from({ length: 300 }, () => Math.round(rand() * 10) / 10); // many ties
    const y = s.map((v) => (rand() < 0.3 + 0.3 * v ? 1 : 0) as 0 | 1);
    expect(rocAuc(s, y)).toBeCloseTo(bruteAuc(s, y), 12);
    expect(rocAuc(s.map(() => 1), y)).toBe(0.5);
    const { fpr, tpr } = rocCurve(s, y);
    expect([fpr[0], tpr[0], fpr[fpr.length - 1], tpr[tpr.length - 1]]).toEqual([0, 0, 1, 1]);
    let trapezoid = 0;
    for (let i = 1; i < fpr.length; i++) trapezoid += ((fpr[i] as number) - (fpr[i - 1] as number)) * ((tpr[i] as number) + (tpr[i - 1] as number)) / 2;
    expect(trapezoid).toBeCloseTo(rocAuc(s, y), 12);
    expect(prCurve(s, y).precision[0]).toBe(1);
  });

  it('thresholds: max-F1 reproduces its F1 with score > threshold; quantile as NumPy', () => {
    const s = [0.1, 0.2, 0.3, 0.7, 0.8, 0.35];
    const y: (0 | 1)[] = [0, 0, 0, 1, 1, 1];
    const { threshold, f1 } = maxF1Threshold(s, y);
    expect(f1).toBe(1);
    expect(threshold).toBeCloseTo(0.325, 12);
    const r = binaryReport(s, y, threshold);
    expect(r.confusion).toEqual([[3, 0], [0, 3]]);
    expect([r.precision, r.recall, r.f1]).toEqual([1, 1, 1]);
    expect(quantileThreshold([1, 2, 3, 4], 0.5)).toBe(2.5);
    expect(quantileThreshold([1, 2, 3, 4, 5], 0.95)).toBeCloseTo(4.8, 12);
    const m = detectionMetrics(s, y, 0.75);
    expect(m.confusion).toEqual([[3, 0], [2, 1]]);
    expect(m.precision).toBe(1);
    expect(m.recall).toBeCloseTo(1 / 3, 12);
  });

  it('bad input: one class, NaN, wrong lengths, bad quantile', () => {
    expect(() => rocAuc([0.1, 0.2], [0, 0])).toThrow(DatasetError);
    expect(() => rocAuc([0.1, 0.2], [0, 0])).toThrow(/need both classes — got 0 anomalies and 2 normal/);
    expect(() => maxF1Threshold([0.1, 0.2], [1, 1])).toThrow(/need both classes/);
    expect(() => rocAuc([0.1, NaN], [0, 1])).toThrow(/score 1 is NaN/);
    expect(() => averagePrecision([0.1], [0, 1])).toThrow(ShapeError);
    expect(() => quantileThreshold([1], 1.5)).toThrow(ConfigError);
  });
});

// 12 × 4 rows; expected figures from NumPy (scikit-learn's ledoit_wolf formula written out).
const X = [[0.126, -0.069, 0.601, 0.181], [-0.536, 0.094, 1.412, 0.734], [-0.704, -1.617, -1.003, -0.104], [-2.325, -1.381, -1.312, -0.615], [-0.544, -0.588, 0.317, 0.604], [-0.129, 1.302, -0.255, 0.043], [0.903, 0.546, -0.715, -0.61], [-0.458, -0.009, -0.944, -0.307], [-0.159, 0.461, 0.377, 0.221], [-0.654, -0.457, 0.745, 0.904], [-1.259, 0.884, 1.8, 0.66], [0.264, -0.182, 1.364, 1.272]];

describe('linear algebra and baselines', () => {
  it('eigendecomposition: A v = λ v, orthonormal vectors, NumPy eigenvalues', () => {
    const mo = sampleMoments(toFeatureMatrix(X));
    const { values } = symmetricEigen(mo.cov);
    // X is stored as float32, so agreement with the float64 NumPy figures is ~1e-8.
    [1.4762107611732767, 0.7480047177406853, 0.33310945642309253, 0.036107293829611094].forEach((v, i) => expect(values[i]).toBeCloseTo(v, 7));
    const rand = seededRng(1);
    const n = 40;
    const a = Array.from({ length: n }, () => new Float64Array(n));
    for (let i = 0; i < n; i++) for (let j = 0; j <= i; j++) (a[i] as Float64Array)[j] = (a[j] as Float64Array)[i] = rand() - 0.5;
    const e = symmetricEigen(a);
    for (let k = 0; k < n; k++) {
      const v = e.vectors[k] as Float64Array;
      for (let i = 0; i < n; i++) {
        const av = (a[i] as Float64Array).reduce((s, x, j) => s + x * (v[j] as number), 0);
        expect(av).toBeCloseTo((e.values[k] as number) * (v[i] as number), 10);
      }
      expect(v.reduce((s, x, i) => s + x * ((e.vectors[(k + 1) % n] as Float64Array)[i] as number), 0)).toBeCloseTo(0, 10);
    }
    expect(() => symmetricEigen([])).toThrow(ShapeError);
  });

  it('eigendecomposition: hand-checkable 2×2 and 3×3 cases, largest first, unit vectors up to sign', () => {
    const two = symmetricEigen([Float64Array.of(2, 1), Float64Array.of(1, 2)]);
    expect(Array.from(two.values)).toEqual([expect.closeTo(3, 14), expect.closeTo(1, 14)]);
    const h = Math.SQRT1_2;
    const upToSign = (v: Float64Array, want: number[]): void => {
      const sign = Math.sign((v[0] as number) || (v[1] as number));
      want.forEach((w, i) => expect(sign * (v[i] as number)).toBeCloseTo(w, 12));
    };
    upToSign(two.vectors[0] as Float64Array, [h, h]);
    upToSign(two.vectors[1] as Float64Array, [h, -h]);
    // Second-difference matrix: eigenvalues 2 + √2, 2, 2 − √2.
    const three = symmetricEigen([Float64Array.of(2, -1, 0), Float64Array.of(-1, 2, -1), Float64Array.of(0, -1, 2)]);
    [2 + Math.SQRT2, 2, 2 - Math.SQRT2].forEach((v, i) => expect(three.values[i]).toBeCloseTo(v, 13));
    upToSign(three.vectors[0] as Float64Array, [0.5, -h, 0.5]);
    upToSign(three.vectors[1] as Float64Array, [h, 0, -h]);
    upToSign(three.vectors[2] as Float64Array, [0.5, h, 0.5]);
    // Diagonal input: values sorted largest first, vectors the matching unit axes.
    const diag = symmetricEigen([Float64Array.of(1, 0, 0), Float64Array.of(0, 3, 0), Float64Array.of(0, 0, 2)]);
    expect(Array.from(diag.values)).toEqual([3, 2, 1]);
    expect(diag.vectors.map((v) => Array.from(v, Math.abs))).toEqual([[0, 1, 0], [0, 0, 1], [1, 0, 0]]);
    expect(symmetricEigen([Float64Array.of(-4)]).values[0]).toBe(-4);
  });

  it('eigendecomposition of a random symmetric 20×20: A v = λ v, VᵀV = I, descending, lower triangle only', () => {
    const rand = seededRng(7);
    const n = 20;
    const a = Array.from({ length: n }, () => new Float64Array(n));
    for (let i = 0; i < n; i++) for (let j = 0; j <= i; j++) (a[i] as Float64Array)[j] = (a[j] as Float64Array)[i] = 4 * rand() - 2;
    const copy = a.map((r) => Float64Array.from(r));
    const e = symmetricEigen(a);
    expect(a).toEqual(copy); // input not modified
    expect(e.values.length).toBe(n);
    expect(e.vectors.length).toBe(n);
    for (let k = 1; k < n; k++) expect(e.values[k]).toBeLessThanOrEqual(e.values[k - 1] as number);
    let trace = 0;
    for (let i = 0; i < n; i++) trace += (a[i] as Float64Array)[i] as number;
    expect(e.values.reduce((s, v) => s + v, 0)).toBeCloseTo(trace, 11);
    for (let k = 0; k < n; k++) {
      const v = e.vectors[k] as Float64Array;
      expect(v.length).toBe(n);
      for (let i = 0; i < n; i++) {
        const av = (a[i] as Float64Array).reduce((s, x, j) => s + x * (v[j] as number), 0);
        expect(av).toBeCloseTo((e.values[k] as number) * (v[i] as number), 11);
      }
      for (let l = 0; l < n; l++) {
        const dot = v.reduce((s, x, i) => s + x * ((e.vectors[l] as Float64Array)[i] as number), 0);
        expect(dot).toBeCloseTo(k === l ? 1 : 0, 12);
      }
    }
    // Only the lower triangle is read: garbage above the diagonal changes nothing.
    const lower = a.map((r, i) => r.map((x, j) => (j > i ? 1e6 * rand() : x)));
    const el = symmetricEigen(lower);
    expect(Array.from(el.values)).toEqual(Array.from(e.values));
    expect(el.vectors.map((v) => Array.from(v))).toEqual(e.vectors.map((v) => Array.from(v)));
  });

  it('eigendecomposition edge cases: bad shapes throw ShapeError, non-finite gives NaN, extreme scales are exact', () => {
    expect(() => symmetricEigen([])).toThrow(/need a non-empty square matrix, got 0 rows/);
    expect(() => symmetricEigen([Float64Array.of(1, 2)])).toThrow(ShapeError);
    expect(() => symmetricEigen([Float64Array.of(1, 2), Float64Array.of(3)])).toThrow(/need a non-empty square matrix, got 2 rows/);
    for (const bad of [NaN, Infinity]) {
      const e = symmetricEigen([Float64Array.of(1, 0), Float64Array.of(bad, 2)]);
      expect(Array.from(e.values).every(Number.isNaN)).toBe(true);
      expect(e.vectors.every((v) => v.length === 2 && v.every(Number.isNaN))).toBe(true);
    }
    const base = [Float64Array.of(1, 1.7, 1), Float64Array.of(1.7, 1, 1.7), Float64Array.of(1, 1.7, -1.7)];
    const ref = symmetricEigen(base);
    for (const s of [1e300, 1e-300]) { // unscaled, the QL iteration would overflow (1e300) to NaN
      const e = symmetricEigen(base.map((r) => r.map((x) => x * s)));
      e.values.forEach((v, i) => expect(v / s).toBeCloseTo(ref.values[i] as number, 10));
      e.vectors.forEach((v, k) => v.forEach((x, i) => expect(x).toBeCloseTo(((ref.vectors[k] as Float64Array)[i] as number), 10)));
    }
    expect(Array.from(symmetricEigen([new Float64Array(2), new Float64Array(2)]).values)).toEqual([0, 0]);
  });

  it('Mahalanobis with Ledoit–Wolf shrinkage equals the NumPy / scikit-learn figures', () => {
    const m = toFeatureMatrix(X);
    expect(ledoitWolfShrinkage(sampleMoments(m), 12)).toBeCloseTo(0.6113345605737549, 7);
    const det = fitMahalanobis(m);
    expect(det.shrinkage).toBeCloseTo(0.6113345605737549, 7);
    expect(det.score(toFeatureMatrix([[1, -2, 0.5, 3]]))[0]).toBeCloseTo(25.778853559475326, 5);
    expect(() => fitMahalanobis(m, { shrinkage: 2 })).toThrow(ConfigError);
    expect(() => det.score(toFeatureMatrix([[1, 2]]))).toThrow(/fitted on 4/);
  });

  it('k-NN (leave-one-out on training rows), PCA residual and rank averaging', () => {
    const m = toFeatureMatrix([[0, 0], [1, 0], [0, 1], [1, 1], [10, 10]]);
    const knn = fitKnn(m, { k: 1 });
    expect(knn.trainScores.slice(0, 4)).toEqual([1, 1, 1, 1]);
    const [near, far] = knn.score(toFeatureMatrix([[0, 0], [3, 4]]));
    expect(near).toBe(0);
    expect(far).toBeCloseTo(Math.hypot(2, 3), 12);
    expect(() => fitKnn(m, { k: 5 })).toThrow(DatasetError);
    const line = toFeatureMatrix([[0, 0], [1, 1], [2, 2], [3, 3]]);
    const pca = fitPca(line, { variance: 0.9 });
    expect(pca.nComponents).toBe(1);
    expect(pca.score(toFeatureMatrix([[5, 5], [1, 2]])).map((v) => +v.toFixed(9))).toEqual([0, 0.5]);
    expect(rankAverage([[1, 2, 3], [3, 2, 2]])).toEqual([0.5, 0.375, 0.625]); // mid-ranks of the tie: 0.25 each
    expect(() => rankAverage([[1], [1, 2]])).toThrow(DatasetError);
  });

  it('NaN features are rejected with the row and column', () => {
    expect(() => fitMahalanobis({ rows: 2, cols: 2, data: Float32Array.of(0, 1, NaN, 2) })).toThrow(DatasetError);
    expect(() => fitMahalanobis({ rows: 2, cols: 2, data: Float32Array.of(0, 1, NaN, 2) })).toThrow(/NaN at row 1, column 0/);
    expect(() => toFeatureMatrix([[1, 2], [3]])).toThrow(ShapeError);
  });
});
