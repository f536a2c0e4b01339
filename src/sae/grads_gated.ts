/**
 * Gated SAE training loss and its gradients (SAELens `GatedTrainingSAE.training_forward_pass` +
 * `calculate_aux_loss`, jbloomAus/SAELens v6.18.0):
 *   gate = 1[xc·W_enc + b_gate > 0], f = gate ⊙ ReLU(xc·(W_enc ⊙ exp r_mag) + b_mag), x̂ = f·W_dec + b_dec,
 *   loss = Σ_d (x̂ − x)² (mean over the batch)
 *        + λ · mean_b Σ_i ReLU(π)_bi ‖W_dec[i]‖   (π = xc·W_enc + b_gate; SAELens `l1_loss`)
 *        + mean_b Σ_d (ReLU(π)·W_dec + b_dec − x)²  (`auxiliary_reconstruction_loss`; no detach, as SAELens).
 * The gate is a step function (no gradient through it). Gradients come from tfjs autodiff
 * (`tf.valueAndGrads`); the gated path is not on the hand-optimised hot path of the other architectures.
 */
import * as tf from '@tensorflow/tfjs-core';
import { ConfigError } from '../errors.js';
import type { SaeConfig } from './config.js';
import { colSum, pack, varianceStats, type SaeGradOptions, type SaeGradResult, type SaeTensors } from './grad_parts.js';

/** Gated loss terms for one batch (scalars) and what the statistics need. */
interface GatedTerms {
  readonly mse: tf.Scalar;
  readonly l1: tf.Scalar;
  readonly aux: tf.Scalar;
  readonly f: tf.Tensor2D;
  readonly err: tf.Tensor2D;
}

function gatedTerms(cfg: SaeConfig, W_enc: tf.Tensor2D, W_dec: tf.Tensor2D, b_dec: tf.Tensor1D, b_gate: tf.Tensor1D, r_mag: tf.Tensor1D, b_mag: tf.Tensor1D, x: tf.Tensor2D, lam: number): GatedTerms {
  const batch = x.shape[0];
  const xc: tf.Tensor2D = cfg.applyBDecToInput ? tf.sub(x, b_dec) : x; // [batch, d_in]
  const pi = tf.add(tf.matMul(xc, W_enc), b_gate); // [batch, d_sae]
  const gate = tf.step(pi); // (π > 0), zero gradient
  const mag = tf.add(tf.matMul(xc, tf.mul(W_enc, tf.exp(r_mag))), b_mag); // [batch, d_sae]
  const f: tf.Tensor2D = tf.mul(gate, tf.relu(mag)); // [batch, d_sae]
  const err: tf.Tensor2D = tf.sub(tf.add(tf.matMul(f, W_dec), b_dec), x); // x̂ − x: [batch, d_in]
  const mse = tf.div<tf.Scalar>(tf.sum(tf.square(err)), batch);
  const piAct = tf.relu(pi); // [batch, d_sae]
  const norms = tf.sqrt(tf.sum(tf.square(W_dec), 1)); // [d_sae]
  const l1 = tf.mul<tf.Scalar>(tf.div(tf.sum(tf.mul(piAct, norms)), batch), lam);
  const viaGate = tf.sub(tf.add(tf.matMul(piAct, W_dec), b_dec), x); // [batch, d_in]
  const aux = tf.div<tf.Scalar>(tf.sum(tf.square(viaGate)), batch);
  return { mse, l1, aux, f, err };
}

/**
 * Gated training loss and gradients for one batch.
 * @param cfg A gated config.
 * @param p Parameters (b_gate, r_mag, b_mag required; b_enc unused and given a zero gradient).
 * @param x [batch, d_in] (already normalised).
 * @param o `sparsityCoefficient` is SAELens's `l1_coefficient` at this step.
 * @returns Gradients and packed statistics (sparsity loss = the L1 term, aux loss = the gate reconstruction).
 * @throws {@link "tfjs-lens"!ConfigError} when a gated parameter is missing.
 * @example const { grads } = gatedGrads(sae.cfg, sae.params, x, { sparsityCoefficient: 1 });
 * @category SAE
 */
export function gatedGrads(cfg: SaeConfig, p: SaeTensors, x: tf.Tensor2D, o: SaeGradOptions): SaeGradResult {
  const { b_gate, r_mag, b_mag } = p;
  if (b_gate === undefined || r_mag === undefined || b_mag === undefined) {
    throw new ConfigError('saeLossAndGrads: a gated SAE needs b_gate, r_mag and b_mag');
  }
  const batch = x.shape[0];
  const lam = o.sparsityCoefficient;
  const out = tf.tidy(() => {
    const f = (W_enc: tf.Tensor, W_dec: tf.Tensor, b_dec: tf.Tensor, bg: tf.Tensor, rm: tf.Tensor, bm: tf.Tensor): tf.Scalar => {
      const t = gatedTerms(cfg, W_enc as tf.Tensor2D, W_dec as tf.Tensor2D, b_dec as tf.Tensor1D, bg as tf.Tensor1D, rm as tf.Tensor1D, bm as tf.Tensor1D, x, lam);
      return tf.addN([t.mse, t.l1, t.aux]) as tf.Scalar;
    };
    const { grads } = tf.valueAndGrads(f)([p.W_enc, p.W_dec, p.b_dec, b_gate, r_mag, b_mag]);
    const t = gatedTerms(cfg, p.W_enc, p.W_dec, p.b_dec, b_gate, r_mag, b_mag, x, lam);
    const fired = colSum(tf.step(t.f)); // [d_sae]
    const stats = pack([t.mse, t.l1, t.aux, tf.div<tf.Scalar>(tf.sum(fired), batch), ...varianceStats(x, t.err)], fired);
    return [...grads, stats, tf.zerosLike(p.b_enc)] as tf.Tensor[];
  });
  const [dW_enc, dW_dec, db_dec, db_gate, dr_mag, db_mag, stats, db_enc] = out as [tf.Tensor2D, tf.Tensor2D, tf.Tensor1D, tf.Tensor1D, tf.Tensor1D, tf.Tensor1D, tf.Tensor1D, tf.Tensor1D];
  return {
    grads: { W_enc: dW_enc, b_enc: db_enc, W_dec: dW_dec, b_dec: db_dec, b_gate: db_gate, r_mag: dr_mag, b_mag: db_mag },
    stats,
  };
}
