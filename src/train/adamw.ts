/**
 * AdamW (Loshchilov & Hutter 2019) as torch.optim.AdamW: decoupled weight decay
 * p ← p − lr·wd·p, then the Adam step of tfjs `AdamOptimizer` with the same (scheduled) rate.
 * Which variables decay is a filter; the default decays matrices only (rank ≥ 2, as nanoGPT), so
 * biases and LayerNorm gains/biases (rank 1) are not decayed.
 */
import * as tf from '@tensorflow/tfjs-core';
import { ConfigError } from '../errors.js';
import { ScheduledAdam } from '../ops/optimizer.js';

/** The gradients `applyGradients` takes: by variable name. */
type VariableGradients = Parameters<tf.AdamOptimizer['applyGradients']>[0];

/** Decide whether a variable is weight-decayed, from its name and the variable. @category Training */
export type DecayFilter = (name: string, variable: tf.Variable) => boolean;

/** Options of {@link createAdamW}. @category Training */
export interface AdamWOptions {
  /** Decoupled weight decay λ (default 0.01, as torch). */
  readonly weightDecay?: number;
  /** β₁ (default 0.9). */
  readonly beta1?: number;
  /** β₂ (default 0.999). */
  readonly beta2?: number;
  /** ε (default 1e-8). */
  readonly epsilon?: number;
  /** Which variables decay (default {@link decayMatricesOnly}). */
  readonly decayFilter?: DecayFilter;
}

/**
 * The default {@link DecayFilter}: decay variables of rank ≥ 2 (weights and embeddings), not
 * biases or LayerNorm parameters (rank 1).
 * @param _name Variable name (unused).
 * @param variable The variable.
 * @returns Whether it decays.
 * @example createAdamW(2e-5, { decayFilter: decayMatricesOnly })
 * @category Training
 */
export function decayMatricesOnly(_name: string, variable: tf.Variable): boolean {
  return variable.rank >= 2;
}

/**
 * A {@link DecayFilter} by name, as the Hugging Face Trainer's `bias` / `LayerNorm.weight` rule:
 * a variable decays unless its name matches `exclude`.
 * @param exclude Names that must not decay (e.g. `/(^|\.)(b|b_\w+|bias)$|ln|LayerNorm/`).
 * @returns The filter.
 * @example createAdamW(2e-5, { decayFilter: decayExceptNames(/bias|LayerNorm/) })
 * @category Training
 */
export function decayExceptNames(exclude: RegExp): DecayFilter {
  return (name) => !exclude.test(name);
}

/**
 * {@link ScheduledAdam} with decoupled weight decay; a drop-in optimizer for {@link trainLoop}.
 * @category Training
 */
export class ScheduledAdamW extends ScheduledAdam {
  /**
   * @param learningRate Initial learning rate.
   * @param weightDecay Decoupled weight decay λ ≥ 0.
   * @param beta1 β₁.
   * @param beta2 β₂.
   * @param epsilon ε.
   * @param decayFilter Which variables decay.
   */
  constructor(
    learningRate: number,
    /** Decoupled weight decay λ. */
    readonly weightDecay: number,
    beta1: number,
    beta2: number,
    epsilon: number,
    /** Which variables decay. */
    readonly decayFilter: DecayFilter = decayMatricesOnly,
  ) {
    super(learningRate, beta1, beta2, epsilon);
  }

  /**
   * Shrink the decayed variables by (1 − lr·λ), then take the Adam step.
   * @param variableGradients Gradients by variable name.
   */
  override applyGradients(variableGradients: VariableGradients): void {
    const names = Array.isArray(variableGradients) ? variableGradients.map((g) => g.name) : Object.keys(variableGradients);
    const factor = 1 - this.learningRate * this.weightDecay;
    if (factor !== 1) {
      tf.tidy(() => {
        for (const name of names) {
          const v = tf.engine().registeredVariables[name];
          if (v !== undefined && this.decayFilter(name, v)) v.assign(tf.mul(v, factor));
        }
      });
    }
    super.applyGradients(variableGradients);
  }
}

/**
 * AdamW with torch defaults (β = (0.9, 0.999), ε = 1e-8, λ = 0.01).
 * @param lr Initial learning rate (a {@link trainLoop} schedule overrides it each step).
 * @param opts weightDecay, betas, epsilon, decayFilter.
 * @returns A {@link ScheduledAdamW}.
 * @throws {@link "tfjs-lens"!ConfigError} for a non-positive rate, a negative decay or betas outside [0, 1).
 * @example const optimizer = createAdamW(2e-5, { weightDecay: 0.01 });
 * @category Training
 */
export function createAdamW(lr: number, opts: AdamWOptions = {}): ScheduledAdamW {
  const wd = opts.weightDecay ?? 0.01;
  const beta1 = opts.beta1 ?? 0.9;
  const beta2 = opts.beta2 ?? 0.999;
  if (!(lr > 0)) throw new ConfigError(`createAdamW: lr must be > 0, got ${lr}`);
  if (!(wd >= 0 && Number.isFinite(wd))) throw new ConfigError(`createAdamW: weightDecay must be a finite number ≥ 0, got ${wd}`);
  if (!(beta1 >= 0 && beta1 < 1 && beta2 >= 0 && beta2 < 1)) {
    throw new ConfigError(`createAdamW: beta1 and beta2 must be in [0, 1), got ${beta1} and ${beta2}`);
  }
  return new ScheduledAdamW(lr, wd, beta1, beta2, opts.epsilon ?? 1e-8, opts.decayFilter ?? decayMatricesOnly);
}
