/**
 * Classification metrics on integer labels, as scikit-learn computes them: the confusion matrix
 * (rows = true class, columns = predicted), per-class precision / recall / F1 / support, accuracy,
 * macro and support-weighted averages (`zero_division=0`), the `classification_report` text, and a
 * decision threshold for a binary score chosen on validation data (max F1 or Youden's J = TPR − FPR).
 * ROC-AUC and PR-AUC of binary scores are `rocAuc` and `averagePrecision` in tfjs-lens/probe.
 */
import { ConfigError, DatasetError, ShapeError } from '../errors.js';

/** Precision, recall, F1 and support of one class or one average. @category Evals */
export interface ClassMetrics {
  /** TP / (TP + FP); 0 when the class is never predicted. */
  readonly precision: number;
  /** TP / (TP + FN); 0 when the class has no samples. */
  readonly recall: number;
  /** Harmonic mean of precision and recall; 0 when both are 0. */
  readonly f1: number;
  /** Number of true samples of the class (all samples for an average). */
  readonly support: number;
}

/** What {@link classificationReport} returns. @category Evals */
export interface ClassificationReport {
  /** Class names, index = class id. */
  readonly classNames: readonly string[];
  /** Metrics of each class, index = class id. */
  readonly perClass: readonly ClassMetrics[];
  /** Fraction of rows predicted correctly. */
  readonly accuracy: number;
  /** Unweighted mean over classes. */
  readonly macro: ClassMetrics;
  /** Mean over classes weighted by support. */
  readonly weighted: ClassMetrics;
  /** Confusion matrix [n_classes, n_classes]: rows = true class, columns = predicted class. */
  readonly confusion: readonly (readonly number[])[];
}

/** Options of {@link classificationReport}. @category Evals */
export interface ReportOptions {
  /** Number of classes (default: 1 + the largest label seen). */
  readonly nClasses?: number;
  /** Names of the classes (default "0", "1", …). */
  readonly classNames?: readonly string[];
}

/** The largest of `start` and the values (a loop: spreading a dataset-sized array into Math.max overflows the stack). */
function largest(ys: readonly number[], start: number): number {
  let m = start;
  for (const y of ys) m = Math.max(m, y);
  return m;
}

function checkLabels(yTrue: readonly number[], yPred: readonly number[], nClasses: number | undefined, fn: string): number {
  if (yTrue.length !== yPred.length) throw new ShapeError(`${fn}: ${yTrue.length} true labels but ${yPred.length} predictions`);
  if (yTrue.length === 0) throw new DatasetError(`${fn}: no samples — pass at least one label`);
  const n = nClasses ?? largest(yTrue, largest(yPred, -Infinity)) + 1;
  if (!(Number.isInteger(n) && n >= 1)) throw new ConfigError(`${fn}: nClasses must be an integer ≥ 1, got ${n}`);
  for (const [what, ys] of [['true label', yTrue], ['prediction', yPred]] as const) {
    ys.forEach((y, i) => {
      if (!Number.isInteger(y) || y < 0 || y >= n) throw new DatasetError(`${fn}: ${what} ${i} is ${y} — expected an integer class in [0, ${n - 1}]`);
    });
  }
  return n;
}

/**
 * Confusion matrix, as scikit-learn `confusion_matrix` (rows = true class, columns = predicted).
 * @param yTrue True classes.
 * @param yPred Predicted classes.
 * @param nClasses Number of classes (default: 1 + the largest label seen).
 * @returns counts [n_classes, n_classes].
 * @throws {@link "tfjs-lens"!ShapeError} on a length mismatch; {@link "tfjs-lens"!DatasetError} for no
 *   samples or a label outside [0, nClasses); {@link "tfjs-lens"!ConfigError} for a bad nClasses.
 * @example confusionMatrix([0, 1, 1], [0, 0, 1])  // [[1, 0], [1, 1]]
 * @category Evals
 */
export function confusionMatrix(yTrue: readonly number[], yPred: readonly number[], nClasses?: number): number[][] {
  const n = checkLabels(yTrue, yPred, nClasses, 'confusionMatrix');
  const m = Array.from({ length: n }, () => new Array<number>(n).fill(0));
  yTrue.forEach((t, i) => {
    const row = m[t] as number[];
    row[yPred[i] as number] = (row[yPred[i] as number] as number) + 1;
  });
  return m;
}

/**
 * x with `digits` decimals, rounded as Python's format: to nearest, exact halves to even
 * (JS `toFixed` rounds them up: 0.125 → "0.13", Python "0.12").
 */
function formatFixed(x: number, digits: number): string {
  const s = x.toFixed(digits);
  const exact = x.toFixed(100); // the exact binary value in decimal, enough digits to tell a tie
  const dot = exact.indexOf('.');
  const tail = exact.slice(dot + 1 + digits);
  if (!/^50*$/.test(tail)) return s;
  const down = exact.slice(0, dot + 1 + digits).replace(/\.$/, '');
  const last = Number(down.at(-1));
  return last % 2 === 0 ? down : s; // toFixed rounded the tie away from zero, to an even or odd digit
}

const ratio = (a: number, b: number): number => (b === 0 ? 0 : a / b);

function averageOf(perClass: readonly ClassMetrics[], weights: readonly number[], support: number): ClassMetrics {
  const total = weights.reduce((a, b) => a + b, 0);
  const avg = (key: 'precision' | 'recall' | 'f1'): number => ratio(perClass.reduce((s, c, i) => s + c[key] * (weights[i] as number), 0), total);
  return { precision: avg('precision'), recall: avg('recall'), f1: avg('f1'), support };
}

/**
 * Per-class and averaged precision, recall and F1, with accuracy and the confusion matrix (scikit-learn
 * `classification_report(output_dict=True)`, `zero_division=0`).
 * @param yTrue True classes.
 * @param yPred Predicted classes.
 * @param opts nClasses, classNames.
 * @returns The report; {@link formatClassificationReport} prints it.
 * @throws As {@link confusionMatrix}; {@link "tfjs-lens"!ConfigError} when classNames has another length than nClasses.
 * @example classificationReport([0, 1, 2, 2, 2], [0, 0, 2, 2, 1]).macro.f1  // 0.4889
 * @category Evals
 */
export function classificationReport(yTrue: readonly number[], yPred: readonly number[], opts: ReportOptions = {}): ClassificationReport {
  const confusion = confusionMatrix(yTrue, yPred, opts.nClasses);
  const n = confusion.length;
  const classNames = opts.classNames ?? Array.from({ length: n }, (_, c) => String(c));
  if (classNames.length !== n) {
    throw new ConfigError(`classificationReport: ${classNames.length} classNames for ${n} classes — give one name per class`);
  }
  const perClass = confusion.map((row, c) => {
    const tp = row[c] as number;
    const support = row.reduce((a, b) => a + b, 0);
    const predicted = confusion.reduce((s, r) => s + (r[c] as number), 0);
    const precision = ratio(tp, predicted);
    const recall = ratio(tp, support);
    return { precision, recall, f1: ratio(2 * precision * recall, precision + recall), support };
  });
  const correct = confusion.reduce((s, row, c) => s + (row[c] as number), 0);
  return {
    classNames,
    perClass,
    accuracy: correct / yTrue.length,
    macro: averageOf(perClass, perClass.map(() => 1), yTrue.length),
    weighted: averageOf(perClass, perClass.map((c) => c.support), yTrue.length),
    confusion,
  };
}

/**
 * The report as scikit-learn's `classification_report` text (same columns, widths and rounding).
 * @param r A {@link classificationReport}.
 * @param digits Decimals (default 2, as scikit-learn).
 * @returns Multi-line text ending in a newline.
 * @example process.stdout.write(formatClassificationReport(classificationReport(yTrue, yPred, { classNames: ['ham', 'spam'] })));
 * @category Evals
 */
export function formatClassificationReport(r: ClassificationReport, digits = 2): string {
  const width = Math.max(...r.classNames.map((c) => c.length), 'weighted avg'.length, digits);
  const num = (x: number): string => ` ${formatFixed(x, digits).padStart(9)}`;
  const row = (name: string, m: ClassMetrics): string =>
    `${name.padStart(width)} ${num(m.precision)}${num(m.recall)}${num(m.f1)} ${String(m.support).padStart(9)}\n`;
  let out = `${''.padStart(width)} ${['precision', 'recall', 'f1-score', 'support'].map((h) => ` ${h.padStart(9)}`).join('')}\n\n`;
  r.perClass.forEach((m, c) => (out += row(r.classNames[c] as string, m)));
  const n = r.macro.support;
  out += `\n${'accuracy'.padStart(width)} ${' '.repeat(20)}${num(r.accuracy)} ${String(n).padStart(9)}\n`;
  return out + row('macro avg', r.macro) + row('weighted avg', r.weighted);
}

/**
 * The predicted class of each row: the index of its largest logit (or probability); ties → first.
 * @param logits Rows of scores [batch, n_classes] (e.g. `await logits.array()`).
 * @returns Class ids [batch].
 * @throws {@link "tfjs-lens"!ShapeError} for an empty row.
 * @example argmaxRows([[0.1, 2], [3, -1]])  // [1, 0]
 * @category Evals
 */
export function argmaxRows(logits: readonly (readonly number[])[]): number[] {
  return logits.map((row, i) => {
    if (row.length === 0) throw new ShapeError(`argmaxRows: row ${i} is empty — expected n_classes ≥ 1 scores`);
    let best = 0;
    row.forEach((v, c) => {
      if (v > (row[best] as number)) best = c;
    });
    return best;
  });
}

/** How {@link chooseThreshold} picks the threshold. @category Evals */
export type ThresholdRule = 'f1' | 'youden';

/**
 * A decision threshold for binary scores, chosen on validation data: the one that maximises F1 of
 * the positive class, or Youden's J = TPR − FPR. The threshold is the midpoint between consecutive
 * distinct scores (or just below the smallest), so `score > threshold` reproduces the choice (as
 * `maxF1Threshold` in tfjs-lens/probe, which gives the same 'f1' threshold); ties keep the higher one.
 * @param scores Validation scores (higher = positive), e.g. P(class 1).
 * @param labels 1 = positive, 0 = negative.
 * @param rule 'f1' (default) or 'youden'.
 * @returns The threshold and the criterion's value there.
 * @throws {@link "tfjs-lens"!ShapeError} on a length mismatch; {@link "tfjs-lens"!DatasetError} for a
 *   non-finite score, a label other than 0/1, or a single class.
 * @example const { threshold } = chooseThreshold(valProbs, valLabels, 'youden'); const pred = testProbs.map((p) => (p > threshold ? 1 : 0));
 * @category Evals
 */
export function chooseThreshold(scores: readonly number[], labels: readonly number[], rule: ThresholdRule = 'f1'): {
  /** Predict positive for scores strictly above this. */
  threshold: number;
  /** F1 or J reached on these scores. */
  value: number;
} {
  if (scores.length !== labels.length) throw new ShapeError(`chooseThreshold: ${scores.length} scores but ${labels.length} labels`);
  scores.forEach((s, i) => {
    if (!Number.isFinite(s)) throw new DatasetError(`chooseThreshold: score ${i} is ${s} — expected finite numbers`);
    if (labels[i] !== 0 && labels[i] !== 1) throw new DatasetError(`chooseThreshold: label ${i} is ${labels[i]} — expected 0 or 1`);
  });
  const pos = labels.reduce((a, b) => a + b, 0);
  const neg = labels.length - pos;
  if (pos === 0 || neg === 0) throw new DatasetError(`chooseThreshold: need both classes — got ${pos} positives and ${neg} negatives`);
  const idx = scores.map((_, i) => i).sort((a, b) => (scores[b] as number) - (scores[a] as number));
  let best = { threshold: Infinity, value: -Infinity };
  let tp = 0;
  let fp = 0;
  for (let i = 0; i < idx.length; ) {
    const s = scores[idx[i] as number] as number;
    for (; i < idx.length && scores[idx[i] as number] === s; i++) {
      if (labels[idx[i] as number] === 1) tp++;
      else fp++;
    }
    const value = rule === 'f1' ? (2 * tp) / (tp + fp + pos) : tp / pos - fp / neg;
    if (value > best.value) {
      const next = i < idx.length ? (scores[idx[i] as number] as number) : undefined;
      best = { threshold: next === undefined ? s - Math.max(1e-12, Math.abs(s) * 1e-9) : (s + next) / 2, value };
    }
  }
  return best;
}
