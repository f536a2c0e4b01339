/**
 * Per-sample anomaly scores of a trained β-VAE, computed deterministically with z = μ: the
 * reconstruction MSE (mean over features, the anchor's score), the negative ELBO under a
 * unit-variance Gaussian decoder (½·Σ(x − x̂)² + KL, constants dropped), and the posterior means μ
 * (for a latent Mahalanobis score, see {@link fitMahalanobis}).
 */
import * as tf from '@tensorflow/tfjs-core';
import { ShapeError } from '../errors.js';
import { klPerSample, reconErrorPerSample, type BetaVae } from './beta_vae.js';
import { toFeatureMatrix, type FeatureMatrix } from './matrix.js';

/**
 * Scores of every row.
 * @category Probe
 */
export interface VaeScores {
  /** Reconstruction MSE per sample (mean over features). */
  readonly recon: number[];
  /** −ELBO per sample: ½·Σ_j (x_j − x̂_j)² + KL(q(z|x) ‖ N(0, I)). */
  readonly negElbo: number[];
  /** Posterior means [n, d_latent]. */
  readonly mu: FeatureMatrix;
}

/**
 * Score rows with a trained VAE (evaluation mode: no dropout, BatchNorm running statistics, z = μ).
 * @param vae Trained model.
 * @param features Rows [n, d_in], preprocessed as the training data.
 * @param opts.batchSize Rows per forward pass (default 1024).
 * @returns Reconstruction MSE, −ELBO and μ for every row (plain arrays; no tensors are left).
 * @throws {@link "tfjs-lens"!ShapeError} if the width differs from `vae.cfg.dIn`; {@link "tfjs-lens"!DatasetError} for non-finite input.
 * @example const { recon } = vaeScores(vae, testX);
 * @category Probe
 */
export function vaeScores(vae: BetaVae, features: FeatureMatrix | readonly (readonly number[])[], opts: { batchSize?: number } = {}): VaeScores {
  const m = toFeatureMatrix(features, 'vaeScores');
  if (m.cols !== vae.cfg.dIn) throw new ShapeError(`vaeScores: features have ${m.cols} columns, the VAE expects ${vae.cfg.dIn}`);
  const bs = opts.batchSize ?? 1024;
  const recon: number[] = [];
  const negElbo: number[] = [];
  const dz = vae.cfg.dLatent;
  const mu = new Float32Array(m.rows * dz);
  for (let s = 0; s < m.rows; s += bs) {
    const n = Math.min(bs, m.rows - s);
    const [r, e, z] = tf.tidy(() => {
      const x = tf.tensor2d(m.data.subarray(s * m.cols, (s + n) * m.cols), [n, m.cols]); // [batch, d_in]
      const out = vae.forward(x);
      const mse = reconErrorPerSample(x, out.recon, 'mean'); // [batch]
      const sse = reconErrorPerSample(x, out.recon, 'sum'); // [batch]
      const elbo = tf.add(tf.mul(sse, 0.5), klPerSample(out.mu, out.logvar)); // [batch]
      return [mse.dataSync(), elbo.dataSync(), out.mu.dataSync()];
    });
    recon.push(...Array.from(r));
    negElbo.push(...Array.from(e));
    mu.set(z, s * dz);
  }
  return { recon, negElbo, mu: { rows: m.rows, cols: dz, data: mu } };
}
