/**
 * Circuit metrics: functions of the logits at a task's answer positions. Logit difference
 * (correct − wrong token, or correct − mean logit), mean log-probability of the correct token, and
 * ACDC's default, the KL divergence from the full model's distribution (Conmy et al. 2023).
 * All are built from tf ops, so EAP can differentiate them.
 */
import * as tf from '@tensorflow/tfjs-core';
import { ConfigError, ShapeError } from '../errors.js';
import type { CircuitTask } from './task.js';

/** Built-in metric names. @category Circuits */
export type MetricName = 'logit_diff' | 'logprob' | 'kl';

/**
 * A metric of the logits at some positions.
 * @category Circuits
 */
export interface CircuitMetric {
  /** Name (for reports). */
  readonly name: string;
  /** Positions whose logits the metric reads, in order. */
  readonly positions: readonly number[];
  /** True when a larger value means the task is solved better (logit_diff, logprob); false for KL. */
  readonly higherIsBetter: boolean;
  /** Logits at `positions` [batch, n_positions, d_vocab] → scalar, with tf ops (differentiable). */
  readonly fn: (logits: tf.Tensor3D) => tf.Scalar;
  /** Free tensors the metric owns (the KL metric's reference distribution). */
  dispose?(): void;
}

/** Logit of `ids[b][i]` at row b, position i: [batch, n] (one-hot weights: differentiable on every backend). */
function pick(logits: tf.Tensor3D, ids: tf.Tensor2D): tf.Tensor2D {
  return tf.sum<tf.Tensor2D>(tf.mul(logits, tf.oneHot(ids, logits.shape[2])), -1); // [batch, n]
}

function idTensor(rows: readonly (readonly number[])[], logits: tf.Tensor3D, what: string, fn: string): tf.Tensor2D {
  const [b, n] = logits.shape;
  if (rows.length !== b || rows.some((r) => r.length !== n)) {
    throw new ShapeError(`${fn}: ${what} must be [${b}][${n}] to match logits [${logits.shape.join(', ')}]`);
  }
  return tf.tensor2d(rows.map((r) => [...r]), [b, n], 'int32');
}

/**
 * Mean over prompts and answer positions of logit(correct) − logit(wrong), or logit(correct) −
 * mean logit when the task has no wrong tokens.
 * @param task The task (answer positions and tokens).
 * @returns The metric (higher is better).
 * @throws {@link "tfjs-lens"!ShapeError} (when called) if the logits do not match the task's answers.
 * @example const m = logitDiffCircuitMetric(inductionTask());
 * @category Circuits
 */
export function logitDiffCircuitMetric(task: CircuitTask): CircuitMetric {
  const fn = (logits: tf.Tensor3D): tf.Scalar =>
    tf.tidy(() => {
      const correct = pick(logits, idTensor(task.answerTokens, logits, 'answerTokens', 'logitDiffCircuitMetric'));
      const base =
        task.wrongTokens === undefined
          ? tf.mean(logits, -1) // [batch, n]
          : pick(logits, idTensor(task.wrongTokens, logits, 'wrongTokens', 'logitDiffCircuitMetric'));
      return tf.mean<tf.Scalar>(tf.sub(correct, base));
    });
  return { name: 'logit_diff', positions: [...task.answerPositions], higherIsBetter: true, fn };
}

/**
 * Mean over prompts and answer positions of log p(correct token).
 * @param task The task.
 * @returns The metric (higher is better).
 * @throws {@link "tfjs-lens"!ShapeError} (when called) if the logits do not match the task's answers.
 * @example const m = logProbCircuitMetric(task);
 * @category Circuits
 */
export function logProbCircuitMetric(task: CircuitTask): CircuitMetric {
  const fn = (logits: tf.Tensor3D): tf.Scalar =>
    tf.tidy(() => {
      const ids = idTensor(task.answerTokens, logits, 'answerTokens', 'logProbCircuitMetric');
      return tf.mean<tf.Scalar>(pick(tf.logSoftmax(logits, -1), ids));
    });
  return { name: 'logprob', positions: [...task.answerPositions], higherIsBetter: true, fn };
}

/**
 * KL(p_full ‖ p) averaged over prompts and positions, against the full model's logits (ACDC's
 * default metric). The metric owns a copy of the reference log-probabilities: call `dispose()`.
 * @param fullLogits Logits of the unablated model at `positions` [batch, n_positions, d_vocab] (copied).
 * @param positions The positions those logits belong to.
 * @returns The metric (lower is better; 0 for the full model).
 * @throws {@link "tfjs-lens"!ShapeError} if `fullLogits` is not rank 3 with one column per position.
 * @example const kl = klCircuitMetric(fullLogits, task.answerPositions); … kl.dispose?.();
 * @category Circuits
 */
export function klCircuitMetric(fullLogits: tf.Tensor3D, positions: readonly number[]): CircuitMetric {
  if (fullLogits.rank !== 3 || fullLogits.shape[1] !== positions.length) {
    throw new ShapeError(`klCircuitMetric: fullLogits must be [batch, ${positions.length}, d_vocab], got [${fullLogits.shape.join(', ')}]`);
  }
  const refLogP = tf.keep(tf.tidy(() => tf.logSoftmax(fullLogits, -1))); // [batch, n, d_vocab]
  const refP = tf.keep(tf.tidy(() => tf.exp(refLogP))); // [batch, n, d_vocab]
  let live = true;
  const fn = (logits: tf.Tensor3D): tf.Scalar => {
    if (!live) throw new ConfigError('klCircuitMetric: the metric was disposed');
    if (!tf.util.arraysEqual(logits.shape, refLogP.shape)) {
      throw new ShapeError(`klCircuitMetric: logits [${logits.shape.join(', ')}] do not match the reference [${refLogP.shape.join(', ')}]`);
    }
    return tf.tidy(() => {
      const kl = tf.sum(tf.mul(refP, tf.sub(refLogP, tf.logSoftmax(logits, -1))), -1); // [batch, n]
      return tf.mean<tf.Scalar>(kl);
    });
  };
  const dispose = (): void => {
    if (!live) return;
    live = false;
    refLogP.dispose();
    refP.dispose();
  };
  return { name: 'kl', positions: [...positions], higherIsBetter: false, fn, dispose };
}

/**
 * How much worse `value` is than `reference` under a metric: reference − value when higher is
 * better, value − reference otherwise (ACDC's `result`). Positive = the task got worse.
 * @param metric The metric (for its direction).
 * @param reference Value before the change.
 * @param value Value after the change.
 * @returns The damage.
 * @throws Never.
 * @example metricDamage(m, 12.5, 11.0)  // 1.5 for a logit difference
 * @category Circuits
 */
export function metricDamage(metric: Pick<CircuitMetric, 'higherIsBetter'>, reference: number, value: number): number {
  return metric.higherIsBetter ? reference - value : value - reference;
}
