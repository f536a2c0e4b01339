/**
 * Weighted ensembles of anomaly detectors, fitted on validation. Each detector's scores are first
 * normalised on validation (z-score: mean and std of the validation scores; or rank: the empirical
 * CDF of the validation scores, ties at mid-rank), then the weights are a logistic regression of
 * the validation labels on the normalised scores (Newton's method / IRLS with a small L2 penalty on
 * the weights, not the bias). The ensemble score is the regression's logit. Compared with the
 * equal-weight average of the normalised scores and the best single detector (by validation ROC-AUC).
 */
import { ConfigError, DatasetError, ShapeError } from '../errors.js';
import { rocAuc, type BinaryLabels } from '../probe/metrics.js';
import { checkFiniteScores } from './thresholds.js';

/**
 * How scores are put on one scale before they are combined.
 * @category Anomaly
 */
export type ScoreNormalisation = 'z' | 'rank';

/**
 * A normaliser fitted on one detector's validation scores.
 * @category Anomaly
 */
export interface ScoreNormaliser {
  /** 'z' or 'rank'. */
  readonly method: ScoreNormalisation;
  /** z: validation mean (rank: unused, 0). */
  readonly mean: number;
  /** z: validation std (1 when the scores are constant; rank: unused, 1). */
  readonly std: number;
  /** rank: the sorted validation scores (z: empty). */
  readonly sorted: readonly number[];
}

/**
 * Fit a score normaliser on validation scores.
 * @param valScores One detector's validation scores.
 * @param method 'z' (default) or 'rank'.
 * @returns The normaliser.
 * @throws {@link "tfjs-lens"!DatasetError} for no or non-finite scores.
 * @example const n = fitNormaliser(valScores, 'rank'); const z = applyNormaliser(n, testScores);
 * @category Anomaly
 */
export function fitNormaliser(valScores: readonly number[], method: ScoreNormalisation = 'z'): ScoreNormaliser {
  checkFiniteScores(valScores, 'fitNormaliser');
  if (method === 'rank') return { method, mean: 0, std: 1, sorted: [...valScores].sort((a, b) => a - b) };
  const mean = valScores.reduce((a, b) => a + b, 0) / valScores.length;
  const sd = Math.sqrt(valScores.reduce((a, x) => a + (x - mean) ** 2, 0) / valScores.length);
  return { method, mean, std: sd > 0 ? sd : 1, sorted: [] };
}

/**
 * Normalise scores with a fitted normaliser: z = (s − mean) / std, or rank = the fraction of
 * validation scores below s plus half of those equal to it (in [0, 1]).
 * @param n The normaliser.
 * @param scores Scores of any split.
 * @returns Normalised scores.
 * @throws Never.
 * @example applyNormaliser(fitNormaliser([1, 2, 3], 'rank'), [2])  // [0.5]
 * @category Anomaly
 */
export function applyNormaliser(n: ScoreNormaliser, scores: readonly number[]): number[] {
  if (n.method === 'z') return scores.map((s) => (s - n.mean) / n.std);
  const m = n.sorted.length;
  return scores.map((s) => (lowerBound(n.sorted, s) + 0.5 * (upperBound(n.sorted, s) - lowerBound(n.sorted, s))) / m);
}

/**
 * A fitted weighted ensemble.
 * @category Anomaly
 */
export interface WeightedEnsemble {
  /** Detector names, in column order. */
  readonly names: readonly string[];
  /** One normaliser per detector. */
  readonly normalisers: readonly ScoreNormaliser[];
  /** Logistic-regression weight of each normalised detector score. */
  readonly weights: readonly number[];
  /** Logistic-regression bias. */
  readonly bias: number;
}

/**
 * Options of {@link fitWeightedEnsemble}.
 * @category Anomaly
 */
export interface EnsembleOptions {
  /** Normalisation fitted on validation (default 'z'). */
  readonly normalise?: ScoreNormalisation;
  /** L2 penalty on the weights (default 1e-3). */
  readonly l2?: number;
  /** Newton iterations (default 50). */
  readonly maxIter?: number;
}

/**
 * Fit ensemble weights on validation: normalise each detector's validation scores, then a logistic
 * regression (IRLS with an L2 penalty on the weights) of the labels on them.
 * @param valScores Validation scores by detector name: `{ knn: [...], vae: [...] }`, each of length n.
 * @param valLabels Validation labels, 1 = anomaly.
 * @param opts normalise, l2, maxIter.
 * @returns The ensemble.
 * @throws {@link "tfjs-lens"!ConfigError} for no detectors or l2 < 0; {@link "tfjs-lens"!ShapeError} when a detector's length differs from the labels; {@link "tfjs-lens"!DatasetError} for non-finite scores or a single class.
 * @example const e = fitWeightedEnsemble({ knn: valKnn, vae: valVae }, valLabels); const s = ensembleScores(e, { knn: testKnn, vae: testVae });
 * @category Anomaly
 */
export function fitWeightedEnsemble(valScores: Readonly<Record<string, readonly number[]>>, valLabels: BinaryLabels, opts: EnsembleOptions = {}): WeightedEnsemble {
  const fn = 'fitWeightedEnsemble';
  const names = Object.keys(valScores);
  if (names.length === 0) throw new ConfigError(`${fn}: no detectors — pass at least one { name: scores } entry`);
  const l2 = opts.l2 ?? 1e-3;
  if (!(l2 >= 0)) throw new ConfigError(`${fn}: l2 must be ≥ 0, got ${l2}`);
  const pos = valLabels.filter((l) => l === 1).length;
  if (pos === 0 || pos === valLabels.length) throw new DatasetError(`${fn}: validation needs both classes — got ${pos} anomalies of ${valLabels.length}`);
  for (const k of names) {
    const s = valScores[k] as readonly number[];
    if (s.length !== valLabels.length) throw new ShapeError(`${fn}: detector '${k}' has ${s.length} scores but there are ${valLabels.length} labels`);
  }
  const normalisers = names.map((k) => fitNormaliser(valScores[k] as readonly number[], opts.normalise ?? 'z'));
  const cols = names.map((k, j) => applyNormaliser(normalisers[j] as ScoreNormaliser, valScores[k] as readonly number[]));
  const beta = logisticIrls(cols, valLabels, l2, opts.maxIter ?? 50);
  return { names, normalisers, weights: beta.slice(1), bias: beta[0] as number };
}

/**
 * Scores of a fitted ensemble (the logistic regression's logit).
 * @param e The ensemble.
 * @param scores Scores by detector name (the names it was fitted with).
 * @returns Ensemble scores.
 * @throws {@link "tfjs-lens"!ConfigError} when a detector is missing; {@link "tfjs-lens"!ShapeError} when lengths differ.
 * @example ensembleScores(e, { knn: testKnn, vae: testVae })
 * @category Anomaly
 */
export function ensembleScores(e: WeightedEnsemble, scores: Readonly<Record<string, readonly number[]>>): number[] {
  const cols = columns(e.names, scores, 'ensembleScores');
  const n = cols[0]?.length ?? 0;
  const z = cols.map((c, j) => applyNormaliser(e.normalisers[j] as ScoreNormaliser, c));
  return Array.from({ length: n }, (_, i) => z.reduce((a, c, j) => a + (e.weights[j] as number) * (c[i] as number), e.bias));
}

/**
 * The equal-weight average of normalised scores (normalisers fitted on validation).
 * @param valScores Validation scores by detector (fit the normalisers).
 * @param scores Scores to combine, by detector.
 * @param normalise 'z' (default) or 'rank'.
 * @returns Averaged normalised scores.
 * @throws As {@link fitNormaliser} and {@link ensembleScores}.
 * @example equalWeightScores({ a: valA, b: valB }, { a: testA, b: testB })
 * @category Anomaly
 */
export function equalWeightScores(valScores: Readonly<Record<string, readonly number[]>>, scores: Readonly<Record<string, readonly number[]>>, normalise: ScoreNormalisation = 'z'): number[] {
  const names = Object.keys(valScores);
  if (names.length === 0) throw new ConfigError('equalWeightScores: no detectors — pass at least one { name: scores } entry');
  const e: WeightedEnsemble = { names, normalisers: names.map((k) => fitNormaliser(valScores[k] as readonly number[], normalise)), weights: names.map(() => 1 / names.length), bias: 0 };
  return ensembleScores(e, scores);
}

/**
 * Test ROC-AUC of the weighted ensemble, the equal-weight average and the single detector with the
 * best validation ROC-AUC, everything fitted or chosen on validation.
 * @category Anomaly
 */
export interface EnsembleComparison {
  /** The fitted ensemble. */
  readonly ensemble: WeightedEnsemble;
  /** Test ROC-AUC of the weighted ensemble. */
  readonly weightedAuroc: number;
  /** Test ROC-AUC of the equal-weight average. */
  readonly equalAuroc: number;
  /** The detector with the best validation ROC-AUC. */
  readonly bestSingle: string;
  /** Its test ROC-AUC. */
  readonly bestSingleAuroc: number;
  /** Test ROC-AUC of every detector alone. */
  readonly singleAuroc: Readonly<Record<string, number>>;
}

/**
 * Fit on validation, compare on test: weighted ensemble vs equal weights vs best single detector.
 * @param val Validation scores by detector, and labels.
 * @param test Test scores by detector, and labels.
 * @param opts As {@link fitWeightedEnsemble}.
 * @returns The comparison.
 * @throws As {@link fitWeightedEnsemble} and rocAuc.
 * @example compareEnsembles({ scores: valS, labels: valY }, { scores: testS, labels: testY }).weightedAuroc
 * @category Anomaly
 */
export function compareEnsembles(
  val: { readonly scores: Readonly<Record<string, readonly number[]>>; readonly labels: BinaryLabels },
  test: { readonly scores: Readonly<Record<string, readonly number[]>>; readonly labels: BinaryLabels },
  opts: EnsembleOptions = {},
): EnsembleComparison {
  const ensemble = fitWeightedEnsemble(val.scores, val.labels, opts);
  const singleAuroc: Record<string, number> = {};
  let bestSingle = ensemble.names[0] as string;
  let bestVal = -Infinity;
  for (const k of ensemble.names) {
    const v = rocAuc(val.scores[k] as readonly number[], val.labels);
    if (v > bestVal) [bestVal, bestSingle] = [v, k];
    singleAuroc[k] = rocAuc(columns([k], test.scores, 'compareEnsembles')[0] as number[], test.labels);
  }
  return {
    ensemble, singleAuroc, bestSingle, bestSingleAuroc: singleAuroc[bestSingle] as number,
    weightedAuroc: rocAuc(ensembleScores(ensemble, test.scores), test.labels),
    equalAuroc: rocAuc(equalWeightScores(val.scores, test.scores, opts.normalise), test.labels),
  };
}

/** The named columns, checked for presence and equal length. */
function columns(names: readonly string[], scores: Readonly<Record<string, readonly number[]>>, fn: string): (readonly number[])[] {
  const cols = names.map((k) => {
    const c = scores[k];
    if (c === undefined) throw new ConfigError(`${fn}: no scores for detector '${k}' (have ${Object.keys(scores).join(', ') || 'none'})`);
    return c;
  });
  const n = cols[0]?.length ?? 0;
  cols.forEach((c, j) => {
    if (c.length !== n) throw new ShapeError(`${fn}: detector '${names[j]}' has ${c.length} scores but '${names[0]}' has ${n}`);
  });
  return cols;
}

/** Logistic regression by Newton's method; returns [bias, w_1 … w_d]. */
function logisticIrls(cols: readonly (readonly number[])[], y: BinaryLabels, l2: number, maxIter: number): number[] {
  const d = cols.length + 1;
  const n = y.length;
  const x = (i: number, j: number): number => (j === 0 ? 1 : (cols[j - 1] as readonly number[])[i] as number);
  let beta = new Array<number>(d).fill(0);
  for (let it = 0; it < maxIter; it++) {
    const g = new Array<number>(d).fill(0);
    const h = Array.from({ length: d }, () => new Array<number>(d).fill(0));
    for (let i = 0; i < n; i++) {
      let eta = 0;
      for (let j = 0; j < d; j++) eta += (beta[j] as number) * x(i, j);
      const p = 1 / (1 + Math.exp(-eta));
      const w = Math.max(p * (1 - p), 1e-10);
      for (let j = 0; j < d; j++) {
        g[j] = (g[j] as number) + (p - (y[i] as number)) * x(i, j);
        for (let k = 0; k < d; k++) (h[j] as number[])[k] = ((h[j] as number[])[k] as number) + w * x(i, j) * x(i, k);
      }
    }
    for (let j = 1; j < d; j++) {
      g[j] = (g[j] as number) + l2 * n * (beta[j] as number);
      (h[j] as number[])[j] = ((h[j] as number[])[j] as number) + l2 * n;
    }
    (h[0] as number[])[0] = ((h[0] as number[])[0] as number) + 1e-9 * n;
    const step = solve(h, g);
    beta = beta.map((b, j) => b - (step[j] as number));
    if (step.reduce((a, s) => Math.max(a, Math.abs(s)), 0) < 1e-8) break;
  }
  return beta;
}

/** Solve A x = b by Gaussian elimination with partial pivoting (A small and symmetric positive definite). */
function solve(a: readonly (readonly number[])[], b: readonly number[]): number[] {
  const d = b.length;
  const m = a.map((r, i) => [...r, b[i] as number]);
  for (let c = 0; c < d; c++) {
    let p = c;
    for (let r = c + 1; r < d; r++) if (Math.abs((m[r] as number[])[c] as number) > Math.abs((m[p] as number[])[c] as number)) p = r;
    [m[c], m[p]] = [m[p] as number[], m[c] as number[]];
    const piv = (m[c] as number[])[c] as number;
    if (Math.abs(piv) < 1e-300) continue;
    for (let r = 0; r < d; r++) {
      if (r === c) continue;
      const f = ((m[r] as number[])[c] as number) / piv;
      for (let k = c; k <= d; k++) (m[r] as number[])[k] = ((m[r] as number[])[k] as number) - f * ((m[c] as number[])[k] as number);
    }
  }
  return m.map((r, i) => {
    const piv = r[i] as number;
    return Math.abs(piv) < 1e-300 ? 0 : (r[d] as number) / piv;
  });
}

/** Index of the first element ≥ v in an ascending array. */
function lowerBound(a: readonly number[], v: number): number {
  let lo = 0;
  let hi = a.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if ((a[mid] as number) < v) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Index of the first element > v in an ascending array. */
function upperBound(a: readonly number[], v: number): number {
  let lo = 0;
  let hi = a.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if ((a[mid] as number) <= v) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
