/**
 * Patching metrics: the logit difference used in TransformerLens demos
 * (`logits[:, -1, A] - logits[:, -1, B]`, averaged over the batch), its normalised form
 * (patched − corrupted)/(clean − corrupted), and a Pearson correlation to compare sweeps.
 */
import * as tf from '@tensorflow/tfjs-core';
import { ShapeError } from '../errors.js';

/** Options of {@link logitDiffMetric}. @category Patching */
export interface LogitDiffOptions {
  /** Position to read (negative counts from the end; default -1). */
  readonly pos?: number;
  /** 'mean' over the batch (default) or 'sum'. */
  readonly reduce?: 'mean' | 'sum';
}

/**
 * Build the metric `mean_b(logits[b, pos, correct] - logits[b, pos, incorrect])`.
 * @param correct Token id whose logit counts positively (one id, or one per batch row).
 * @param incorrect Token id whose logit counts negatively (one id, or one per batch row).
 * @param opts Position and batch reduction.
 * @returns A metric: logits [batch, pos, d_vocab] → scalar (differentiable; usable for gradients).
 * @throws {@link "tfjs-lens"!ShapeError} (when called) if per-row ids do not match the batch, or pos is out of range.
 * @example const metric = logitDiffMetric(992, 870); metric(logits) // tf.Scalar
 * @category Patching
 */
export function logitDiffMetric(
  correct: number | readonly number[],
  incorrect: number | readonly number[],
  opts: LogitDiffOptions = {},
): (logits: tf.Tensor3D) => tf.Scalar {
  return (logits) =>
    tf.tidy(() => {
      const [batch, nPos, dVocab] = logits.shape;
      const p = (opts.pos ?? -1) < 0 ? nPos + (opts.pos ?? -1) : (opts.pos as number);
      if (p < 0 || p >= nPos) throw new ShapeError(`logitDiffMetric: pos ${opts.pos} is out of range for ${nPos} positions`);
      // ±1 weights at the two ids per row: the weighted sum equals a - b exactly, and its
      // gradient needs only mul/sum (gather's gradient kernel is missing on some backends).
      const w = new Float32Array(batch * dVocab);
      const put = (x: number | readonly number[], what: string, sign: number): void => {
        const arr = typeof x === 'number' ? new Array<number>(batch).fill(x) : [...x];
        if (arr.length !== batch) throw new ShapeError(`logitDiffMetric: ${what} has ${arr.length} ids, expected one per batch row (${batch})`);
        arr.forEach((id, b) => {
          if (!Number.isInteger(id) || id < 0 || id >= dVocab) throw new ShapeError(`logitDiffMetric: ${what} id ${id} is not in [0, ${dVocab})`);
          w[b * dVocab + id] = (w[b * dVocab + id] as number) + sign;
        });
      };
      put(correct, 'correct', 1);
      put(incorrect, 'incorrect', -1);
      const row = tf.reshape(tf.slice(logits, [0, p, 0], [batch, 1, dVocab]), [batch, dVocab]); // [batch, d_vocab]
      const diff = tf.sum(tf.mul(row, tf.tensor2d(w, [batch, dVocab])), 1); // [batch]
      return opts.reduce === 'sum' ? tf.sum<tf.Scalar>(diff) : tf.mean<tf.Scalar>(diff);
    });
}

/**
 * Normalise patched metric values: 0 = corrupted baseline, 1 = clean performance
 * (TL exploratory-demo convention).
 * @param patched Patched metric values, any shape.
 * @param cleanValue Metric of the clean run.
 * @param corruptedValue Metric of the corrupted run.
 * @returns (patched − corrupted) / (clean − corrupted), same shape (a new tensor).
 * @throws {@link "tfjs-lens"!ShapeError} if clean and corrupted values are equal (division by zero).
 * @example const norm = normalizePatchResult(result, cleanMetric, corruptedMetric);
 * @category Patching
 */
export function normalizePatchResult(patched: tf.Tensor, cleanValue: number, corruptedValue: number): tf.Tensor {
  const denom = cleanValue - corruptedValue;
  if (denom === 0) throw new ShapeError('normalizePatchResult: clean and corrupted metrics are equal, cannot normalise');
  return tf.tidy(() => tf.div(tf.sub(patched, corruptedValue), denom));
}

/**
 * Pearson correlation of two equally sized arrays (e.g. attribution vs activation patching).
 * @param a First values (flattened).
 * @param b Second values (flattened).
 * @returns The correlation in [-1, 1], or NaN if either side is constant.
 * @throws {@link "tfjs-lens"!ShapeError} if the lengths differ or are zero.
 * @example pearsonCorrelation(attr.dataSync(), patched.dataSync())
 * @category Patching
 */
export function pearsonCorrelation(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length || a.length === 0) {
    throw new ShapeError(`pearsonCorrelation: arrays must have the same non-zero length, got ${a.length} and ${b.length}`);
  }
  const n = a.length;
  let ma = 0;
  let mb = 0;
  for (let i = 0; i < n; i++) {
    ma += a[i] as number;
    mb += b[i] as number;
  }
  ma /= n;
  mb /= n;
  let sab = 0;
  let saa = 0;
  let sbb = 0;
  for (let i = 0; i < n; i++) {
    const da = (a[i] as number) - ma;
    const db = (b[i] as number) - mb;
    sab += da * db;
    saa += da * da;
    sbb += db * db;
  }
  return saa === 0 || sbb === 0 ? NaN : sab / Math.sqrt(saa * sbb);
}
