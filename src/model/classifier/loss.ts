/**
 * The loss HF `*ForSequenceClassification` computes from `labels` (e.g. `modeling_bert.py`):
 * problem_type 'regression' → MSE (with one label, over the squeezed [batch] logits);
 * 'single_label_classification' → mean cross-entropy over rows whose label is not -100;
 * 'multi_label_classification' → mean BCE-with-logits over [batch, num_labels] targets.
 * Without a problem_type the kind is chosen as HF chooses it: one label → regression; class ids
 * (one integer per row) → single-label; a [batch, num_labels] target → multi-label.
 */
import * as tf from '@tensorflow/tfjs-core';
import { ConfigError, ShapeError } from '../../errors.js';
import type { TensorLike } from '../inputs.js';
import type { LabelConfig, ProblemType } from './labels.js';

/**
 * Labels of a batch: one class id (or regression target) per row, or [batch, num_labels] targets
 * (multi-label 0/1 values, or multi-output regression). @category Model
 */
export type ClassLabels = readonly number[] | readonly (readonly number[])[] | Int32Array | Float32Array | TensorLike;

/** HF's CrossEntropyLoss ignore_index: rows with this label do not count. */
const IGNORE_INDEX = -100;

function toArrays(labels: ClassLabels, fn: string): number[] | number[][] {
  if (labels instanceof Int32Array || labels instanceof Float32Array) return Array.from(labels);
  if (!Array.isArray(labels)) {
    const t = labels as TensorLike;
    const rank = Array.isArray(t.shape) ? t.shape.length : undefined;
    if (rank !== 1 && rank !== 2) {
      throw new ShapeError(`${fn}: a labels tensor must have rank 1 ([batch] class ids) or 2 ([batch, num_labels]), got rank ${rank ?? 'unknown'} (shape [${rank === undefined ? '' : t.shape.join(', ')}])`);
    }
    return toArrays(t.arraySync() as number[] | number[][], fn);
  }
  return (labels as readonly (number | readonly number[])[]).map((v) => (Array.isArray(v) ? [...(v as number[])] : (v as number))) as number[] | number[][];
}

/** The kind of loss for these labels (HF's rule when config.json has no problem_type). */
function kindOf(labels: LabelConfig, flat: boolean): ProblemType {
  if (labels.problemType !== undefined) return labels.problemType;
  if (labels.numLabels === 1) return 'regression';
  return flat ? 'single_label_classification' : 'multi_label_classification';
}

/** Checked labels: flat values, and the loss kind. */
interface CheckedLabels {
  readonly values: number[];
  readonly kind: ProblemType;
}

/**
 * Check labels against a batch and the head's label config (before any forward pass).
 * @param labels As {@link classificationLoss}.
 * @param batch Rows of the input.
 * @param cfg The model's labels.
 * @param fn Caller name for errors.
 * @returns The flat values and the loss kind.
 * @throws As {@link classificationLoss}.
 */
export function checkClassLabels(labels: ClassLabels, batch: number, cfg: LabelConfig, fn: string): CheckedLabels {
  const n = cfg.numLabels;
  const arr = toArrays(labels, fn);
  const flat = arr.every((v) => typeof v === 'number');
  const kind = kindOf(cfg, flat);
  if (arr.length !== batch) {
    throw new ShapeError(`${fn}: labels has ${arr.length} entries but the input has ${batch} rows; pass one label per row`);
  }
  const values = flat ? (arr as number[]) : (arr as number[][]).flat();
  if (values.some((v) => typeof v !== 'number' || !Number.isFinite(v))) throw new ConfigError(`${fn}: labels must be finite numbers`);
  if (kind === 'single_label_classification') {
    if (!flat) throw new ShapeError(`${fn}: problem_type single_label_classification takes one class id per row ([${batch}]), got rows of ${(arr[0] as number[]).length}`);
    const bad = values.find((v) => v !== IGNORE_INDEX && (!Number.isInteger(v) || v < 0 || v >= n));
    if (bad !== undefined) {
      throw new ConfigError(`${fn}: label ${bad} is not a class id in [0, ${n - 1}] (num_labels ${n}; -100 ignores a row); map names with model.labels.label2id`);
    }
    return { values, kind };
  }
  const perRow = n === 1 && kind === 'regression' && flat;
  if (!perRow && (flat || (arr as number[][]).some((r) => r.length !== n))) {
    throw new ShapeError(`${fn}: problem_type ${kind} with num_labels ${n} takes [${batch}, ${n}] targets`);
  }
  return { values, kind };
}

/**
 * Sequence-classification loss (HF `labels=`).
 * @param logits Head output [batch, num_labels].
 * @param labels One class id per row ([batch]; -100 = ignored), one target per row for
 *   one-label regression, or [batch, num_labels] targets (multi-label, multi-output regression).
 * @param cfg The model's labels (num_labels, problem_type).
 * @param fn Caller name for errors.
 * @returns Scalar loss (a new tensor).
 * @throws {@link "tfjs-lens"!ShapeError} when the labels do not have one entry (or one row of num_labels) per
 *   input row; {@link "tfjs-lens"!ConfigError} for a class id outside [0, num_labels), a non-finite target, or
 *   labels that do not fit problem_type.
 * @example classificationLoss(logits, [0, 1, 0], model.labels)
 * @category Model
 */
export function classificationLoss(logits: tf.Tensor2D, labels: ClassLabels, cfg: LabelConfig, fn = 'classificationLoss'): tf.Scalar {
  const [batch, n] = logits.shape;
  const { values, kind } = checkClassLabels(labels, batch, cfg, fn);
  return tf.tidy(() => {
    if (kind === 'single_label_classification') {
      const keep = values.map((v): number => (v === IGNORE_INDEX ? 0 : 1));
      const oneHot = tf.oneHot(tf.tensor1d(values.map((v) => (v === IGNORE_INDEX ? 0 : v)), 'int32'), n); // [batch, n_labels]
      const nll = tf.neg(tf.sum(tf.mul(tf.logSoftmax(logits, -1), oneHot), -1)); // [batch]
      const count = keep.reduce((a, b) => a + b, 0);
      return tf.div(tf.sum(tf.mul(nll, tf.tensor1d(keep))), count === 0 ? NaN : count) as tf.Scalar; // HF: NaN when every row is ignored
    }
    const target = tf.tensor2d(values, [batch, n]); // [batch, n_labels]
    if (kind === 'regression') return tf.mean(tf.square(tf.sub(logits, target))) as tf.Scalar;
    // BCE with logits, in the stable form max(x, 0) − x·y + log(1 + e^{−|x|})
    const bce = tf.add(tf.sub(tf.relu(logits), tf.mul(logits, target)), tf.log1p(tf.exp(tf.neg(tf.abs(logits)))));
    return tf.mean(bce) as tf.Scalar;
  });
}

/** Class logits and loss of a sequence-classification head (`returnType: 'both'`). @category Model */
export interface ClassifierLogitsAndLoss {
  /** Class logits [batch, n_labels]. */
  readonly logits: tf.Tensor2D;
  /** The loss HF computes from `labels` (scalar). */
  readonly loss: tf.Scalar;
}

/**
 * A classification run's output for a return type: the logits, the loss, both, or nothing (the
 * logits are disposed when not returned).
 * @param logits Class logits [batch, n_labels] (ownership passes here).
 * @param returnType 'logits', 'loss', 'both' or 'none'.
 * @param labels Labels ('loss' / 'both'; already checked).
 * @param cfg The model's labels.
 * @param fn Caller name for errors.
 */
export function classifierOutput(
  logits: tf.Tensor2D,
  returnType: string,
  labels: ClassLabels | undefined,
  cfg: LabelConfig,
  fn: string,
): tf.Tensor2D | tf.Scalar | ClassifierLogitsAndLoss | undefined {
  if (returnType === 'logits') return logits;
  if (returnType === 'none' || labels === undefined) {
    logits.dispose();
    return undefined;
  }
  let loss: tf.Scalar;
  try {
    loss = classificationLoss(logits, labels, cfg, fn);
  } catch (err) {
    logits.dispose();
    throw err;
  }
  if (returnType === 'both') return { logits, loss };
  logits.dispose();
  return loss;
}
