/**
 * Adam with a learning-rate schedule: tfjs's own `AdamOptimizer` (the well-kept implementation)
 * with a setter for the rate, and the usual schedules (linear warm-up, then cosine or linear decay).
 */
import * as tf from '@tensorflow/tfjs-core';
import { ConfigError } from '../errors.js';

/**
 * tfjs `AdamOptimizer` whose learning rate can be changed between steps.
 * @category Training
 */
export class ScheduledAdam extends tf.AdamOptimizer {
  /** Set the learning rate used by the next `applyGradients`. */
  setLearningRate(lr: number): void {
    this.learningRate = lr;
  }

  /** The current learning rate. */
  get currentLearningRate(): number {
    return this.learningRate;
  }
}

/** A learning-rate schedule. @category Training */
export interface LrSchedule {
  /** Peak learning rate. */
  readonly lr: number;
  /** Steps of linear warm-up from 0 (default 0). */
  readonly warmupSteps?: number;
  /**
   * Warm-up as a fraction of totalSteps, in [0, 1): warmupSteps = ceil(ratio · totalSteps), as the
   * Hugging Face Trainer's `warmup_ratio`. Give this or warmupSteps, not both.
   */
  readonly warmupRatio?: number;
  /** Total steps (needed for decay). */
  readonly totalSteps: number;
  /** 'constant' (default), 'cosine' or 'linear' decay after warm-up. */
  readonly decay?: 'constant' | 'cosine' | 'linear';
  /** Final rate as a fraction of the peak (default 0.1). */
  readonly minRatio?: number;
}

function warmupStepsOf(s: LrSchedule): number {
  if (s.warmupRatio === undefined) return s.warmupSteps ?? 0;
  if (s.warmupSteps !== undefined) {
    throw new ConfigError(`lrAt: give warmupSteps (${s.warmupSteps}) or warmupRatio (${s.warmupRatio}), not both`);
  }
  if (!(s.warmupRatio >= 0 && s.warmupRatio < 1)) throw new ConfigError(`lrAt: warmupRatio must be in [0, 1), got ${s.warmupRatio}`);
  return Math.ceil(s.warmupRatio * s.totalSteps);
}

/**
 * The learning rate at a step (0-based).
 * @param s Schedule.
 * @param step Step index.
 * @returns Learning rate.
 * @throws {@link "tfjs-lens"!ConfigError} on a non-positive rate or step count, or a warm-up ratio outside
 *   [0, 1) or given together with warmupSteps.
 * @example lrAt({ lr: 1e-3, warmupSteps: 100, totalSteps: 1000, decay: 'cosine' }, 50)  // 5e-4
 * @category Training
 */
export function lrAt(s: LrSchedule, step: number): number {
  if (!(s.lr > 0) || !(s.totalSteps > 0)) {
    throw new ConfigError(`lrAt: lr and totalSteps must be > 0, got ${s.lr} and ${s.totalSteps}`);
  }
  const warm = warmupStepsOf(s);
  if (step < warm) return (s.lr * (step + 1)) / warm;
  const decay = s.decay ?? 'constant';
  if (decay === 'constant') return s.lr;
  const minLr = s.lr * (s.minRatio ?? 0.1);
  const t = Math.min(1, (step - warm) / Math.max(1, s.totalSteps - warm));
  const f = decay === 'cosine' ? 0.5 * (1 + Math.cos(Math.PI * t)) : 1 - t;
  return minLr + (s.lr - minLr) * f;
}

/**
 * Adam with the given hyper-parameters.
 * @param lr Initial learning rate.
 * @param opts beta1 (0.9), beta2 (0.999), epsilon (1e-8).
 * @returns A {@link ScheduledAdam}.
 * @category Training
 */
export function createAdam(lr: number, opts: { beta1?: number; beta2?: number; epsilon?: number } = {}): ScheduledAdam {
  return new ScheduledAdam(lr, opts.beta1 ?? 0.9, opts.beta2 ?? 0.999, opts.epsilon ?? 1e-8);
}
