/**
 * Classification losses on logits [batch, n_classes] and integer labels, differentiable in tfjs:
 * cross-entropy (mean, torch `CrossEntropyLoss`), its class-weighted form (torch
 * `CrossEntropyLoss(weight=w)`: Σ w_y·nll / Σ w_y), class weights from label frequencies (scikit-learn
 * `compute_class_weight('balanced')`), and focal loss (Lin et al. 2017): the multi-class form
 * −α_y (1 − p_y)^γ log p_y and torchvision's binary `sigmoid_focal_loss`, both averaged over the batch.
 */
import * as tf from '@tensorflow/tfjs-core';
import { ConfigError, DatasetError, ShapeError } from '../errors.js';

/** Integer class labels [batch]: an array (values checked) or an int32 tensor (shape checked). @category Training */
export type LossLabels = readonly number[] | tf.Tensor1D;

/** Options of {@link crossEntropyLoss}. @category Training */
export interface CrossEntropyOptions {
  /** Weight of each class [n_classes] (torch `weight=`); the loss becomes Σ w_y·nll / Σ w_y. */
  readonly classWeights?: readonly number[];
}

/** Options of {@link focalLoss}. @category Training */
export interface FocalLossOptions {
  /** Focusing parameter γ ≥ 0 (default 2; 0 gives cross-entropy). */
  readonly gamma?: number;
  /** α_y: one number for every class, or one per class [n_classes] (default 1: no weighting). */
  readonly alpha?: number | readonly number[];
}

/** Options of {@link sigmoidFocalLoss}. @category Training */
export interface SigmoidFocalLossOptions {
  /** Focusing parameter γ ≥ 0 (default 2, as torchvision). */
  readonly gamma?: number;
  /** Weight of positives in [0, 1]; negatives get 1 − α; a negative value turns weighting off (default 0.25). */
  readonly alpha?: number;
}

/** Check logits [batch, C] and labels [batch]; return the labels as an int32 tensor the caller disposes. */
function labelTensor(logits: tf.Tensor, labels: LossLabels, fn: string): tf.Tensor1D {
  if (logits.rank !== 2) throw new ShapeError(`${fn}: logits must be [batch, n_classes], got shape [${logits.shape.join(', ')}]`);
  const [batch, nClasses] = logits.shape as [number, number];
  if (batch === 0) throw new ShapeError(`${fn}: logits has an empty batch (shape [0, ${nClasses}]) — pass at least one row`);
  if (labels instanceof tf.Tensor) {
    if (labels.rank !== 1 || labels.shape[0] !== batch) {
      throw new ShapeError(`${fn}: labels must be [batch] = [${batch}], got shape [${labels.shape.join(', ')}]`);
    }
    return labels.dtype === 'int32' ? tf.clone(labels) : tf.cast(labels, 'int32');
  }
  if (labels.length !== batch) throw new ShapeError(`${fn}: ${labels.length} labels for a batch of ${batch} logit rows`);
  labels.forEach((y, i) => {
    if (!Number.isInteger(y) || y < 0 || y >= nClasses) {
      throw new DatasetError(`${fn}: label ${i} is ${y} — expected an integer class in [0, ${nClasses - 1}]`);
    }
  });
  return tf.tensor1d(labels as number[], 'int32');
}

function perClass(values: readonly number[], nClasses: number, fn: string, what: string): tf.Tensor1D {
  if (values.length !== nClasses) {
    throw new ShapeError(`${fn}: ${what} has ${values.length} entries but the logits have ${nClasses} classes — give one per class`);
  }
  values.forEach((w, c) => {
    if (!(Number.isFinite(w) && w >= 0)) throw new ConfigError(`${fn}: ${what}[${c}] is ${w} — expected a finite number ≥ 0`);
  });
  return tf.tensor1d(values as number[]);
}

/** Per-row log p_y [batch] from logits [batch, C] and int32 labels [batch]. */
function logProbOfLabel(logits: tf.Tensor2D, y: tf.Tensor1D): tf.Tensor1D {
  const logp = tf.logSoftmax(logits); // [batch, C]
  const onehot = tf.oneHot(y, logits.shape[1]); // [batch, C]
  return tf.sum(tf.mul(logp, onehot), 1); // [batch]
}

/**
 * Cross-entropy of logits against integer labels, averaged as torch `CrossEntropyLoss`: the plain
 * mean of −log p_y, or with class weights the weighted mean Σ w_y·(−log p_y) / Σ w_y.
 * @param logits Logits [batch, n_classes].
 * @param labels Class of each row [batch].
 * @param opts classWeights [n_classes].
 * @returns The loss, a scalar.
 * @throws {@link "tfjs-lens"!ShapeError} for logits not [batch, C] or a label / weight count mismatch;
 *   {@link "tfjs-lens"!DatasetError} for a label outside [0, C); {@link "tfjs-lens"!ConfigError} for a
 *   negative or non-finite weight.
 * @example const loss = crossEntropyLoss(logits, [0, 2, 1], { classWeights: balancedClassWeights(trainLabels, 3) });
 * @category Training
 */
export function crossEntropyLoss(logits: tf.Tensor2D, labels: LossLabels, opts: CrossEntropyOptions = {}): tf.Scalar {
  return tf.tidy(() => {
    const y = labelTensor(logits, labels, 'crossEntropyLoss');
    const nll = tf.neg(logProbOfLabel(logits, y)); // [batch]
    if (opts.classWeights === undefined) return tf.mean<tf.Scalar>(nll);
    const wY = tf.gather(perClass(opts.classWeights, logits.shape[1], 'crossEntropyLoss', 'classWeights'), y); // [batch]
    return tf.div<tf.Scalar>(tf.sum(tf.mul(wY, nll)), tf.sum(wY));
  });
}

/**
 * Multi-class focal loss, FL = −α_y (1 − p_y)^γ log p_y, averaged over the batch (Lin et al. 2017).
 * With γ = 0 and α = 1 it is exactly {@link crossEntropyLoss}.
 * @param logits Logits [batch, n_classes].
 * @param labels Class of each row [batch].
 * @param opts gamma (default 2) and alpha (default 1; a number or one per class).
 * @returns The loss, a scalar.
 * @throws {@link "tfjs-lens"!ConfigError} for γ < 0 or a negative α; otherwise as {@link crossEntropyLoss}.
 * @example const loss = focalLoss(logits, labels, { gamma: 2, alpha: [0.25, 0.75] });
 * @category Training
 */
export function focalLoss(logits: tf.Tensor2D, labels: LossLabels, opts: FocalLossOptions = {}): tf.Scalar {
  const gamma = opts.gamma ?? 2;
  if (!(Number.isFinite(gamma) && gamma >= 0)) throw new ConfigError(`focalLoss: gamma must be a finite number ≥ 0, got ${gamma}`);
  const alpha = opts.alpha ?? 1;
  if (typeof alpha === 'number' && !(Number.isFinite(alpha) && alpha >= 0)) {
    throw new ConfigError(`focalLoss: alpha must be a finite number ≥ 0, got ${alpha}`);
  }
  return tf.tidy(() => {
    const y = labelTensor(logits, labels, 'focalLoss');
    const logpY = logProbOfLabel(logits, y); // [batch]
    let loss = tf.neg(logpY); // [batch]
    if (gamma !== 0) loss = tf.mul(tf.pow(tf.sub(1, tf.exp(logpY)), gamma), loss);
    if (typeof alpha !== 'number') loss = tf.mul(tf.gather(perClass(alpha, logits.shape[1], 'focalLoss', 'alpha'), y), loss);
    else if (alpha !== 1) loss = tf.mul(alpha, loss);
    return tf.mean<tf.Scalar>(loss);
  });
}

/**
 * Binary focal loss on one logit per row, as torchvision `sigmoid_focal_loss(reduction='mean')`:
 * ce = BCE-with-logits, p_t = p·t + (1 − p)(1 − t), loss = α_t · ce · (1 − p_t)^γ with
 * α_t = α·t + (1 − α)(1 − t), averaged over the batch.
 * @param logits Logits [batch].
 * @param targets 0/1 targets [batch].
 * @param opts gamma (default 2), alpha (default 0.25; < 0 for none).
 * @returns The loss, a scalar.
 * @throws {@link "tfjs-lens"!ShapeError} for logits not [batch] or a target count mismatch;
 *   {@link "tfjs-lens"!DatasetError} for a target other than 0/1; {@link "tfjs-lens"!ConfigError} for
 *   γ < 0 or α > 1.
 * @example const loss = sigmoidFocalLoss(logits, [0, 1, 1], { gamma: 2, alpha: 0.25 });
 * @category Training
 */
export function sigmoidFocalLoss(logits: tf.Tensor1D, targets: readonly number[], opts: SigmoidFocalLossOptions = {}): tf.Scalar {
  const gamma = opts.gamma ?? 2;
  const alpha = opts.alpha ?? 0.25;
  if (!(Number.isFinite(gamma) && gamma >= 0)) throw new ConfigError(`sigmoidFocalLoss: gamma must be a finite number ≥ 0, got ${gamma}`);
  if (!(alpha <= 1)) throw new ConfigError(`sigmoidFocalLoss: alpha must be ≤ 1 (or < 0 for no weighting), got ${alpha}`);
  if (logits.rank !== 1) throw new ShapeError(`sigmoidFocalLoss: logits must be [batch], got shape [${logits.shape.join(', ')}]`);
  if (targets.length !== logits.shape[0]) {
    throw new ShapeError(`sigmoidFocalLoss: ${targets.length} targets for ${logits.shape[0]} logits`);
  }
  targets.forEach((t, i) => {
    if (t !== 0 && t !== 1) throw new DatasetError(`sigmoidFocalLoss: target ${i} is ${t} — expected 0 or 1`);
  });
  return tf.tidy(() => {
    const t = tf.tensor1d(targets as number[]); // [batch]
    const p = tf.sigmoid(logits); // [batch]
    // BCE with logits, stable form: max(x, 0) − x·t + log(1 + e^−|x|)
    const ce = tf.add(tf.sub(tf.relu(logits), tf.mul(logits, t)), tf.log1p(tf.exp(tf.neg(tf.abs(logits))))); // [batch]
    const pT = tf.add(tf.mul(p, t), tf.mul(tf.sub(1, p), tf.sub(1, t))); // [batch]
    let loss = gamma === 0 ? ce : tf.mul(ce, tf.pow(tf.sub(1, pT), gamma));
    if (alpha >= 0) loss = tf.mul(tf.add(tf.mul(alpha, t), tf.mul(1 - alpha, tf.sub(1, t))), loss);
    return tf.mean<tf.Scalar>(loss);
  });
}

/**
 * Class weights inversely proportional to class frequency, as scikit-learn
 * `compute_class_weight('balanced')`: w_c = n_samples / (n_classes · count_c).
 * @param labels Training labels, integers in [0, nClasses).
 * @param nClasses Number of classes.
 * @returns One weight per class [n_classes].
 * @throws {@link "tfjs-lens"!ConfigError} for nClasses < 2; {@link "tfjs-lens"!DatasetError} for no labels,
 *   a label outside [0, nClasses), or a class with no samples (its weight would be infinite).
 * @example balancedClassWeights([0, 0, 0, 1], 2)  // [0.6667, 2]
 * @category Training
 */
export function balancedClassWeights(labels: readonly number[], nClasses: number): number[] {
  if (!(Number.isInteger(nClasses) && nClasses >= 2)) throw new ConfigError(`balancedClassWeights: nClasses must be an integer ≥ 2, got ${nClasses}`);
  if (labels.length === 0) throw new DatasetError('balancedClassWeights: no labels — pass the training labels');
  const counts = new Array<number>(nClasses).fill(0);
  labels.forEach((y, i) => {
    if (!Number.isInteger(y) || y < 0 || y >= nClasses) {
      throw new DatasetError(`balancedClassWeights: label ${i} is ${y} — expected an integer class in [0, ${nClasses - 1}]`);
    }
    counts[y] = (counts[y] as number) + 1;
  });
  const empty = counts.findIndex((c) => c === 0);
  if (empty >= 0) {
    throw new DatasetError(`balancedClassWeights: class ${empty} has no samples — drop it from nClasses or give explicit weights`);
  }
  return counts.map((c) => labels.length / (nClasses * c));
}
