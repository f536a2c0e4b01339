/**
 * Detection metrics on anomaly scores (higher = more anomalous; label 1 = anomaly): exact,
 * tie-aware ROC-AUC (Mann–Whitney U with mid-ranks, = scikit-learn `roc_auc_score`), PR-AUC as
 * average precision (scikit-learn `average_precision_score`, tied scores grouped), ROC and PR
 * curves, the confusion matrix at a threshold (anomaly ⇔ score > threshold, as the seed), and the
 * two threshold rules: max-F1 on labelled validation scores, or a quantile of normal scores.
 */
import { ConfigError, DatasetError, ShapeError } from '../errors.js';

/** Binary labels: 1 = anomaly (positive), 0 = normal. @category Probe */
export type BinaryLabels = readonly (0 | 1)[];

function checkPair(scores: readonly number[], labels: BinaryLabels, fn: string): { pos: number; neg: number } {
  if (scores.length !== labels.length) throw new ShapeError(`${fn}: ${scores.length} scores but ${labels.length} labels`);
  let pos = 0;
  scores.forEach((s, i) => {
    if (!Number.isFinite(s)) throw new DatasetError(`${fn}: score ${i} is ${s} — expected finite numbers`);
    const y = labels[i];
    if (y !== 0 && y !== 1) throw new DatasetError(`${fn}: label ${i} is ${String(y)} — expected 0 (normal) or 1 (anomaly)`);
    pos += y;
  });
  const neg = scores.length - pos;
  if (pos === 0 || neg === 0) {
    throw new DatasetError(`${fn}: need both classes — got ${pos} anomalies and ${neg} normal samples`);
  }
  return { pos, neg };
}

/** Indices sorted by score, descending. */
function byScoreDesc(scores: readonly number[]): number[] {
  return scores.map((_, i) => i).sort((a, b) => (scores[b] as number) - (scores[a] as number));
}

/**
 * Exact ROC-AUC with ties counted as ½ (mid-ranks).
 * @param scores Anomaly scores.
 * @param labels 1 = anomaly, 0 = normal.
 * @returns P(score of a random anomaly > score of a random normal) + ½·P(tie).
 * @throws {@link "tfjs-lens"!ShapeError} on length mismatch; {@link "tfjs-lens"!DatasetError} for a non-finite score, a
 *   bad label, or a single class.
 * @example rocAuc([0.1, 0.4, 0.35, 0.8], [0, 0, 1, 1])  // 0.75
 * @category Probe
 */
export function rocAuc(scores: readonly number[], labels: BinaryLabels): number {
  const { pos, neg } = checkPair(scores, labels, 'rocAuc');
  const idx = scores.map((_, i) => i).sort((a, b) => (scores[a] as number) - (scores[b] as number));
  let rankSumPos = 0;
  for (let i = 0; i < idx.length; ) {
    let j = i;
    while (j + 1 < idx.length && scores[idx[j + 1] as number] === scores[idx[i] as number]) j++;
    const midRank = (i + j) / 2 + 1;
    for (let k = i; k <= j; k++) rankSumPos += (labels[idx[k] as number] as number) * midRank;
    i = j + 1;
  }
  return (rankSumPos - (pos * (pos + 1)) / 2) / (pos * neg);
}

/**
 * A curve through the distinct thresholds (descending score), starting at no positives.
 * @category Probe
 */
interface RatesAtThresholds {
  /** Score thresholds: a sample is flagged when score ≥ threshold (first entry +Infinity). */
  readonly thresholds: number[];
  /** True positives at each threshold. */
  readonly tp: number[];
  /** False positives at each threshold. */
  readonly fp: number[];
  /** Number of anomalies. */
  readonly pos: number;
  /** Number of normal samples. */
  readonly neg: number;
}

/**
 * Cumulative TP/FP counts at every distinct score.
 * @param scores Anomaly scores.
 * @param labels 1 = anomaly.
 * @returns Thresholds and counts (ties enter together).
 * @throws As {@link rocAuc}.
 * @example const { tp, fp } = ratesAtThresholds(scores, labels);
 * @category Probe
 */
function ratesAtThresholds(scores: readonly number[], labels: BinaryLabels): RatesAtThresholds {
  const { pos, neg } = checkPair(scores, labels, 'ratesAtThresholds');
  const idx = byScoreDesc(scores);
  const thresholds = [Infinity];
  const tp = [0];
  const fp = [0];
  let t = 0;
  let f = 0;
  for (let i = 0; i < idx.length; ) {
    const s = scores[idx[i] as number] as number;
    while (i < idx.length && scores[idx[i] as number] === s) {
      if (labels[idx[i] as number] === 1) t++;
      else f++;
      i++;
    }
    thresholds.push(s);
    tp.push(t);
    fp.push(f);
  }
  return { thresholds, tp, fp, pos, neg };
}

/**
 * ROC curve points.
 * @param scores Anomaly scores.
 * @param labels 1 = anomaly.
 * @returns False- and true-positive rates from (0, 0) to (1, 1).
 * @throws As {@link rocAuc}.
 * @example const { fpr, tpr } = rocCurve(scores, labels);
 * @category Probe
 */
export function rocCurve(scores: readonly number[], labels: BinaryLabels): {
  /** False-positive rate at each threshold, ascending from 0 to 1. */
  fpr: number[];
  /** True-positive rate at each threshold, ascending from 0 to 1. */
  tpr: number[];
} {
  const r = ratesAtThresholds(scores, labels);
  return { fpr: r.fp.map((f) => f / r.neg), tpr: r.tp.map((t) => t / r.pos) };
}

/**
 * Precision–recall curve points (precision 1 at recall 0, as scikit-learn).
 * @param scores Anomaly scores.
 * @param labels 1 = anomaly.
 * @returns Recall (ascending) and precision.
 * @throws As {@link rocAuc}.
 * @example const { recall, precision } = prCurve(scores, labels);
 * @category Probe
 */
export function prCurve(scores: readonly number[], labels: BinaryLabels): {
  /** Recall at each threshold, ascending from 0 to 1. */
  recall: number[];
  /** Precision at each threshold (1 at recall 0). */
  precision: number[];
} {
  const r = ratesAtThresholds(scores, labels);
  const recall = r.tp.map((t) => t / r.pos);
  const precision = r.tp.map((t, i) => (i === 0 ? 1 : t / (t + (r.fp[i] as number))));
  return { recall, precision };
}

/**
 * PR-AUC as average precision: Σ_k (R_k − R_{k−1})·P_k over distinct thresholds.
 * @param scores Anomaly scores.
 * @param labels 1 = anomaly.
 * @returns Average precision in [0, 1] (chance level = the anomaly fraction).
 * @throws As {@link rocAuc}.
 * @example averagePrecision([0.1, 0.4, 0.35, 0.8], [0, 0, 1, 1])  // 0.8333
 * @category Probe
 */
export function averagePrecision(scores: readonly number[], labels: BinaryLabels): number {
  const { recall, precision } = prCurve(scores, labels);
  let ap = 0;
  for (let k = 1; k < recall.length; k++) ap += ((recall[k] as number) - (recall[k - 1] as number)) * (precision[k] as number);
  return ap;
}

/**
 * Counts and rates of a thresholded detector.
 * @category Probe
 */
export interface BinaryReport {
  /** The threshold (anomaly ⇔ score > threshold). */
  readonly threshold: number;
  /** [[TN, FP], [FN, TP]] (rows: true normal / anomaly; columns: predicted), as scikit-learn. */
  readonly confusion: [[number, number], [number, number]];
  /** TP / (TP + FP); 0 when nothing is flagged. */
  readonly precision: number;
  /** TP / (TP + FN). */
  readonly recall: number;
  /** Harmonic mean of precision and recall; 0 when both are 0. */
  readonly f1: number;
}

/**
 * Confusion matrix, precision, recall and F1 at a threshold.
 * @param scores Anomaly scores.
 * @param labels 1 = anomaly.
 * @param threshold Flag samples with score > threshold.
 * @returns The report.
 * @throws As {@link rocAuc}.
 * @example binaryReport(scores, labels, 0.43).f1
 * @category Probe
 */
export function binaryReport(scores: readonly number[], labels: BinaryLabels, threshold: number): BinaryReport {
  checkPair(scores, labels, 'binaryReport');
  let tp = 0;
  let fp = 0;
  let fn = 0;
  let tn = 0;
  scores.forEach((s, i) => {
    const flagged = s > threshold;
    if (labels[i] === 1) {
      if (flagged) tp++;
      else fn++;
    } else if (flagged) fp++;
    else tn++;
  });
  const precision = tp + fp === 0 ? 0 : tp / (tp + fp);
  const recall = tp / (tp + fn);
  const f1 = precision + recall === 0 ? 0 : (2 * precision * recall) / (precision + recall);
  return { threshold, confusion: [[tn, fp], [fn, tp]], precision, recall, f1 };
}

/**
 * The threshold that maximises F1 on labelled (validation) scores: the midpoint between
 * consecutive distinct scores (or just below the smallest), so `score > threshold` reproduces it.
 * @param scores Validation scores.
 * @param labels 1 = anomaly.
 * @returns The threshold and the F1 it reaches on these scores.
 * @throws As {@link rocAuc}.
 * @example const { threshold } = maxF1Threshold(valScores, valLabels);
 * @category Probe
 */
export function maxF1Threshold(scores: readonly number[], labels: BinaryLabels): {
  /** Flag scores strictly above this. */
  threshold: number;
  /** F1 it reaches on these scores. */
  f1: number;
} {
  const r = ratesAtThresholds(scores, labels);
  let best = { threshold: Infinity, f1: -1 };
  for (let k = 1; k < r.thresholds.length; k++) {
    const tp = r.tp[k] as number;
    const f1 = (2 * tp) / (tp + (r.fp[k] as number) + r.pos);
    if (f1 > best.f1) {
      const here = r.thresholds[k] as number;
      const next = r.thresholds[k + 1];
      best = { threshold: next === undefined ? here - Math.max(1e-12, Math.abs(here) * 1e-9) : (here + next) / 2, f1 };
    }
  }
  return best;
}

/**
 * The q-quantile of scores with linear interpolation (NumPy `percentile` default).
 * @param scores Scores (e.g. reconstruction errors of normal training samples).
 * @param q Quantile in [0, 1] (the seed flags above the 0.95 quantile).
 * @returns The quantile.
 * @throws {@link "tfjs-lens"!ConfigError} for q outside [0, 1]; {@link "tfjs-lens"!DatasetError} for no scores.
 * @example quantileThreshold([1, 2, 3, 4], 0.5)  // 2.5
 * @category Probe
 */
export function quantileThreshold(scores: readonly number[], q: number): number {
  if (!(q >= 0 && q <= 1)) throw new ConfigError(`quantileThreshold: q must be in [0, 1], got ${q}`);
  if (scores.length === 0) throw new DatasetError('quantileThreshold: no scores');
  const s = [...scores].sort((a, b) => a - b);
  const h = (s.length - 1) * q;
  const lo = Math.floor(h);
  const hi = Math.min(lo + 1, s.length - 1);
  return (s[lo] as number) + (h - lo) * ((s[hi] as number) - (s[lo] as number));
}

/**
 * Threshold-free and thresholded figures of one detector.
 * @category Probe
 */
export interface DetectionMetrics extends BinaryReport {
  /** ROC-AUC. */
  readonly auroc: number;
  /** PR-AUC (average precision). */
  readonly aupr: number;
}

/**
 * ROC-AUC, PR-AUC and the thresholded report in one call.
 * @param scores Test scores.
 * @param labels 1 = anomaly.
 * @param threshold Flag samples with score > threshold.
 * @returns All metrics.
 * @throws As {@link rocAuc}.
 * @example const m = detectionMetrics(testScores, testLabels, quantileThreshold(trainScores, 0.95));
 * @category Probe
 */
export function detectionMetrics(scores: readonly number[], labels: BinaryLabels, threshold: number): DetectionMetrics {
  return { auroc: rocAuc(scores, labels), aupr: averagePrecision(scores, labels), ...binaryReport(scores, labels, threshold) };
}
