/**
 * Bookkeeping of SAE training (SAELens `SAETrainer`, read at jbloomAus/SAELens 91ca16cc = v6.18.0):
 * per-latent firing statistics (tokens since a latent last fired → the dead mask; firing counts over a
 * sampling window → feature density), the linear coefficient warm-up (`CoefficientScheduler`) and
 * global-norm gradient clipping + Adam step. The same tracker counts dead latents in evaluation
 * (`evals.ts`), so training logs and evaluations share one definition of "dead".
 */
import * as tf from '@tensorflow/tfjs-core';
import type { ScheduledAdam } from '../ops/optimizer.js';

/**
 * Firing statistics per latent. "Dead" has one definition, used by the training log, AuxK and
 * evaluation: a latent that fired on none of the last W tokens seen, counted in whole batches (a latent
 * that fired anywhere in a batch has fired at its end). SAELens counts training steps instead
 * (`n_forward_passes_since_fired > dead_feature_window`): its window w steps of B tokens is W = (w + 1)·B.
 * @example const t = new FeatureTracker(256); t.update(firedCounts, 4096); t.deadMask(1e6);
 * @category SAE
 */
export class FeatureTracker {
  /** Tokens seen since each latent last fired. */
  readonly tokensSinceFired: Float64Array;
  /** Tokens each latent fired on since the last window reset. */
  readonly firedInWindow: Float64Array;
  /** Tokens seen since the last window reset. */
  windowTokens = 0;

  /** @param dSae Number of latents. */
  constructor(readonly dSae: number) {
    this.tokensSinceFired = new Float64Array(dSae);
    this.firedInWindow = new Float64Array(dSae);
  }

  /**
   * Record one batch.
   * @param fired Tokens each latent fired on in the batch [d_sae].
   * @param batch Tokens in the batch.
   */
  update(fired: ArrayLike<number>, batch: number): void {
    for (let i = 0; i < this.dSae; i++) {
      const c = fired[i] as number;
      this.firedInWindow[i] = (this.firedInWindow[i] as number) + c;
      this.tokensSinceFired[i] = c > 0 ? 0 : (this.tokensSinceFired[i] as number) + batch;
    }
    this.windowTokens += batch;
  }

  /**
   * Latents that fired on none of the last `windowTokens` tokens (tokens since firing ≥ the window).
   * @param windowTokens The window W in tokens.
   * @returns A 0/1 mask [d_sae] and the dead count.
   */
  deadMask(windowTokens: number): {
    /** 1 for a dead latent, 0 otherwise [d_sae]. */
    mask: Float32Array;
    /** Number of dead latents. */
    n: number;
  } {
    const mask = new Float32Array(this.dSae);
    let n = 0;
    for (let i = 0; i < this.dSae; i++) {
      if ((this.tokensSinceFired[i] as number) >= windowTokens) {
        mask[i] = 1;
        n++;
      }
    }
    return { mask, n };
  }

  /** Firing frequency of each latent over the current window [d_sae]. */
  density(): Float32Array {
    const d = Math.max(this.windowTokens, 1);
    return Float32Array.from(this.firedInWindow, (c) => c / d);
  }

  /** Start a new density window. */
  resetWindow(): void {
    this.firedInWindow.fill(0);
    this.windowTokens = 0;
  }
}

/**
 * log10(density + 1e-10) per latent (SAELens `_log_feature_sparsity`, the `sparsity.safetensors` content).
 * @param density Firing frequency per latent.
 * @returns log10 densities.
 * @example logFeatureSparsity(Float32Array.of(0, 0.01));   // [-10, -2]
 * @throws Never.
 * @category SAE
 */
export function logFeatureSparsity(density: ArrayLike<number>): Float32Array {
  return Float32Array.from(density, (d) => Math.log10(d + 1e-10));
}

/**
 * Coefficient after a linear warm-up from 0 (SAELens `CoefficientScheduler`: the value used at step t
 * is λ·min(t / warmup, 1)).
 * @param step 0-based step.
 * @param value Final value.
 * @param warmupSteps Warm-up length (0: no warm-up).
 * @returns The coefficient.
 * @example coefficientAt(5, 2, 10);   // 1
 * @throws Never.
 * @category SAE
 */
export function coefficientAt(step: number, value: number, warmupSteps: number): number {
  return warmupSteps > 0 ? value * Math.min(step / warmupSteps, 1) : value;
}

/**
 * Clip gradients to a global norm and apply one Adam step (gradients are disposed).
 * @param optimizer Adam with the step's learning rate already set.
 * @param pairs `[variable, gradient]` pairs.
 * @param clipNorm Maximum global norm (0: no clipping).
 * @returns The global gradient norm before clipping.
 * @example const norm = clipAndApply(adam, [[W, dW]], 1);
 * @throws Never.
 * @category SAE
 */
export function clipAndApply(optimizer: ScheduledAdam, pairs: ReadonlyArray<readonly [tf.Variable, tf.Tensor]>, clipNorm: number): number {
  const sq = tf.tidy(() => tf.addN(pairs.map(([, g]) => tf.sum(tf.square(g)))));
  const norm = Math.sqrt(sq.dataSync()[0] as number);
  sq.dispose();
  const scale = clipNorm > 0 && norm > clipNorm ? clipNorm / norm : 1;
  tf.tidy(() => {
    optimizer.applyGradients(pairs.map(([v, g]) => ({ name: v.name, tensor: scale === 1 ? g : tf.mul(g, scale) })));
  });
  for (const [, g] of pairs) g.dispose();
  return norm;
}
