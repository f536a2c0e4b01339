/**
 * Decision thresholds for anomaly scores, all fitted on validation data: a global percentile of the
 * normal validation scores, one percentile per context value (category, season, brand …) with a
 * fallback to the global threshold for contexts with too few validation scores, and thresholds on
 * temperature-calibrated probabilities (target false-positive rate, or maximum F1).
 * Convention everywhere: flag an input as anomalous when `score > threshold`.
 */
import { ConfigError, DatasetError, ShapeError } from '../errors.js';
import { fitTemperature, softmaxRows } from '../evals/calibration.js';
import { chooseThreshold } from '../evals/classification.js';
import { quantileThreshold } from '../probe/metrics.js';

/**
 * A global percentile threshold.
 * @category Anomaly
 */
export interface PercentileThreshold {
  /** Flag scores strictly above this. */
  readonly threshold: number;
  /** The quantile used, in [0, 1]. */
  readonly quantile: number;
  /** How many validation scores it was fitted on. */
  readonly n: number;
}

/**
 * The q-quantile (linear interpolation, NumPy's default) of normal validation scores.
 * @param normalScores Scores of normal validation inputs.
 * @param quantile In [0, 1] (default 0.95: about 5 % of normal inputs flagged).
 * @returns The threshold, quantile and count.
 * @throws {@link "tfjs-lens"!ConfigError} for a quantile outside [0, 1]; {@link "tfjs-lens"!DatasetError} for no scores or a non-finite score.
 * @example percentileThreshold([1, 2, 3, 4], 0.5).threshold  // 2.5
 * @category Anomaly
 */
export function percentileThreshold(normalScores: readonly number[], quantile = 0.95): PercentileThreshold {
  checkFiniteScores(normalScores, 'percentileThreshold');
  return { threshold: quantileThreshold(normalScores, quantile), quantile, n: normalScores.length };
}

/**
 * One context's threshold.
 * @category Anomaly
 */
export interface ContextThreshold {
  /** Flag scores strictly above this. */
  readonly threshold: number;
  /** Validation scores of this context. */
  readonly n: number;
  /** True when the context had fewer than `minCount` scores and uses the global threshold. */
  readonly fallback: boolean;
}

/**
 * Per-context thresholds with the global one they fall back to.
 * @category Anomaly
 */
export interface ContextThresholds {
  /** Fitted on every validation score. */
  readonly global: PercentileThreshold;
  /** One entry per context value seen on validation. */
  readonly byContext: Readonly<Record<string, ContextThreshold>>;
  /** Context values that fell back to the global threshold (fewer than `minCount` scores), sorted. */
  readonly fallbacks: readonly string[];
  /** The minimum count used. */
  readonly minCount: number;
}

/**
 * Options of {@link fitContextThresholds}.
 * @category Anomaly
 */
export interface ContextThresholdOptions {
  /** Quantile of each context's normal validation scores (default 0.95). */
  readonly quantile?: number;
  /** Contexts with fewer validation scores use the global threshold (default 20). */
  readonly minCount?: number;
}

/**
 * Fit one percentile threshold per context value (e.g. the product category) on that context's
 * normal validation scores; contexts with fewer than `minCount` scores fall back to the global
 * threshold (and are listed in `fallbacks`).
 * @param normalScores Scores of normal validation inputs.
 * @param contexts The context value of each score.
 * @param opts quantile, minCount.
 * @returns Global and per-context thresholds.
 * @throws {@link "tfjs-lens"!ShapeError} when the lengths differ; {@link "tfjs-lens"!ConfigError} for minCount < 1 or a bad quantile; as {@link percentileThreshold}.
 * @example const t = fitContextThresholds(valScores, valRows.map((r) => r.category), { minCount: 30 });
 * @category Anomaly
 */
export function fitContextThresholds(normalScores: readonly number[], contexts: readonly string[], opts: ContextThresholdOptions = {}): ContextThresholds {
  const fn = 'fitContextThresholds';
  if (normalScores.length !== contexts.length) throw new ShapeError(`${fn}: ${normalScores.length} scores but ${contexts.length} context values — pass one context per score`);
  const minCount = opts.minCount ?? 20;
  if (!(Number.isInteger(minCount) && minCount >= 1)) throw new ConfigError(`${fn}: minCount must be an integer ≥ 1, got ${minCount}`);
  const global = percentileThreshold(normalScores, opts.quantile ?? 0.95);
  const groups = new Map<string, number[]>();
  contexts.forEach((c, i) => {
    const g = groups.get(c) ?? [];
    g.push(normalScores[i] as number);
    groups.set(c, g);
  });
  const byContext: Record<string, ContextThreshold> = {};
  const fallbacks: string[] = [];
  for (const [c, s] of groups) {
    const fallback = s.length < minCount;
    if (fallback) fallbacks.push(c);
    byContext[c] = { threshold: fallback ? global.threshold : quantileThreshold(s, global.quantile), n: s.length, fallback };
  }
  return { global, byContext, fallbacks: fallbacks.sort(), minCount };
}

/**
 * The threshold of each input's context (the global one for a context not seen on validation).
 * @param t Fitted thresholds.
 * @param contexts Context value of each input.
 * @returns Thresholds, one per input.
 * @throws Never.
 * @example const th = contextThresholdsFor(t, testRows.map((r) => r.category));
 * @category Anomaly
 */
export function contextThresholdsFor(t: ContextThresholds, contexts: readonly string[]): number[] {
  return contexts.map((c) => t.byContext[c]?.threshold ?? t.global.threshold);
}

/**
 * Flag inputs whose score is above their context's threshold.
 * @param t Fitted thresholds.
 * @param scores Scores.
 * @param contexts Context value of each score.
 * @returns 1 = anomaly, 0 = normal.
 * @throws {@link "tfjs-lens"!ShapeError} when the lengths differ.
 * @example const pred = applyContextThresholds(t, testScores, testContexts);
 * @category Anomaly
 */
export function applyContextThresholds(t: ContextThresholds, scores: readonly number[], contexts: readonly string[]): (0 | 1)[] {
  if (scores.length !== contexts.length) throw new ShapeError(`applyContextThresholds: ${scores.length} scores but ${contexts.length} context values — pass one context per score`);
  const th = contextThresholdsFor(t, contexts);
  return scores.map((s, i) => (s > (th[i] as number) ? 1 : 0));
}

/**
 * What a calibration-aware threshold aims at: a false-positive rate on validation normals, or
 * maximum validation F1.
 * @category Anomaly
 */
export type CalibratedTarget = {
  /** Largest false-positive rate allowed on validation normals, in [0, 1]. */
  readonly fpr: number;
} | 'f1';

/**
 * A threshold on temperature-calibrated anomaly probabilities.
 * @category Anomaly
 */
export interface CalibratedThreshold {
  /** Temperature fitted on the validation logits (NLL). */
  readonly temperature: number;
  /** Flag calibrated P(anomaly) strictly above this. */
  readonly threshold: number;
  /** The anomaly class's index in the logits. */
  readonly anomalyClass: number;
  /** False-positive rate on validation at the threshold. */
  readonly valFpr: number;
  /** F1 on validation at the threshold. */
  readonly valF1: number;
}

/**
 * Fit a temperature on validation logits (src/evals/calibration.ts), then choose a threshold on
 * the calibrated P(anomaly): for a target false-positive rate, the lowest threshold whose
 * validation FPR is ≤ the target (the (k+1)-th largest normal probability, k = ⌊fpr · n_normal⌋);
 * or the max-F1 threshold (chooseThreshold in src/evals/classification.ts).
 * @param valLogits Validation logits [n, n_classes].
 * @param valLabels Validation labels, 1 = anomaly (the `anomalyClass` column), 0 = normal.
 * @param target `{ fpr: 0.05 }` or 'f1' (default).
 * @param anomalyClass Column of the anomaly class (default 1).
 * @returns Temperature, threshold and its validation FPR / F1.
 * @throws {@link "tfjs-lens"!ConfigError} for an fpr outside [0, 1] or a bad class index; {@link "tfjs-lens"!DatasetError} when validation lacks a class; as {@link fitTemperature}.
 * @example const c = calibratedThreshold(valLogits, valLabels, { fpr: 0.01 }); const pred = calibratedProbabilities(testLogits, c).map((p) => (p > c.threshold ? 1 : 0));
 * @category Anomaly
 */
export function calibratedThreshold(valLogits: readonly (readonly number[])[], valLabels: readonly number[], target: CalibratedTarget = 'f1', anomalyClass = 1): CalibratedThreshold {
  const fn = 'calibratedThreshold';
  const width = valLogits[0]?.length ?? 0;
  if (!(Number.isInteger(anomalyClass) && anomalyClass >= 0 && anomalyClass < width)) throw new ConfigError(`${fn}: anomalyClass must be a column index in [0, ${width - 1}], got ${anomalyClass}`);
  const y = valLabels.map((l) => (l === 1 ? 1 : 0));
  if (!y.includes(1) || !y.includes(0)) throw new DatasetError(`${fn}: validation needs both normal (0) and anomalous (1) labels`);
  // Class ids for the temperature fit: normals take their most likely non-anomaly class (the other column when binary).
  const classes = valLabels.map((l, i) => (l === 1 ? anomalyClass : argmaxOther(valLogits[i] as readonly number[], anomalyClass)));
  const temperature = fitTemperature(valLogits, classes);
  const p = softmaxRows(valLogits, temperature).map((r) => r[anomalyClass] as number);
  let threshold: number;
  if (target === 'f1') threshold = chooseThreshold(p, y, 'f1').threshold;
  else {
    if (!(target.fpr >= 0 && target.fpr <= 1)) throw new ConfigError(`${fn}: target fpr must be in [0, 1], got ${target.fpr}`);
    // The lowest cut whose validation FPR is ≤ target: the (k+1)-th largest normal, k = ⌊fpr · n_normal⌋.
    const neg = p.filter((_, i) => y[i] === 0).sort((a, b) => b - a);
    const k = Math.floor(target.fpr * neg.length + 1e-9);
    threshold = k < neg.length ? (neg[k] as number) : (neg[neg.length - 1] as number) - 1e-12;
  }
  let tp = 0;
  let fp = 0;
  let pos = 0;
  p.forEach((v, i) => {
    if (y[i] === 1) pos++;
    if (v > threshold) {
      if (y[i] === 1) tp++;
      else fp++;
    }
  });
  return { temperature, threshold, anomalyClass, valFpr: fp / (y.length - pos), valF1: (2 * tp) / (tp + fp + pos) };
}

/**
 * Calibrated P(anomaly) of logits at a fitted temperature.
 * @param logits Logits [n, n_classes].
 * @param c A fitted {@link CalibratedThreshold}.
 * @returns P(anomaly) per row.
 * @throws As softmaxRows.
 * @example calibratedProbabilities(testLogits, c)
 * @category Anomaly
 */
export function calibratedProbabilities(logits: readonly (readonly number[])[], c: CalibratedThreshold): number[] {
  return softmaxRows(logits, c.temperature).map((r) => r[c.anomalyClass] as number);
}

/** For a normal row of a multi-class model: its most likely non-anomaly class (the temperature fit needs a class id). */
function argmaxOther(row: readonly number[], skip: number): number {
  let best = skip === 0 ? 1 : 0;
  row.forEach((v, c) => {
    if (c !== skip && v > (row[best] as number)) best = c;
  });
  return best;
}

/**
 * Check validation scores: non-empty and finite.
 * @param scores Scores.
 * @param fn Caller's name for the message.
 * @returns Nothing.
 * @throws {@link "tfjs-lens"!DatasetError} for no scores or a non-finite one (named by index).
 * @example checkFiniteScores(valScores, 'fitEnsemble')
 * @category Anomaly
 */
export function checkFiniteScores(scores: readonly number[], fn: string): void {
  if (scores.length === 0) throw new DatasetError(`${fn}: no scores — pass at least one validation score`);
  const i = scores.findIndex((s) => !Number.isFinite(s));
  if (i >= 0) throw new DatasetError(`${fn}: score ${i} is ${scores[i]} — expected finite numbers`);
}
