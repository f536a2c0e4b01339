/**
 * Helpers of the SAELens ports (tests/saelens/*): SAELens `tests/helpers.py` builders
 * (`build_batchtopk_sae_training_cfg`, `build_gated_sae_cfg`, `random_params`) and tensor comparisons.
 */
import * as tf from '@tensorflow/tfjs-core';
import { expect } from 'vitest';
import { saeConfig, type SaeConfig } from '../../src/sae/config.js';
import { initSaeWeights } from '../../src/sae/init.js';
import { SparseAutoencoder, type SaeWeightArrays } from '../../src/sae/sae.js';
import { seededRng } from '../../src/utils/rng.js';

/** SAELens `build_batchtopk_sae_training_cfg` defaults: d_in 64, d_sae 256, k 10, apply_b_dec_to_input false. */
export function batchTopkCfg(o: Partial<SaeConfig> = {}): SaeConfig {
  return saeConfig({ architecture: 'batchtopk', dIn: 64, dSae: 256, k: 10, applyBDecToInput: false, rescaleActsByDecoderNorm: true, ...o });
}

/** SAELens `build_gated_sae_cfg` / `build_gated_sae_training_cfg`: d_in 64, d_sae 256. */
export function gatedCfg(o: Partial<SaeConfig> = {}): SaeConfig {
  return saeConfig({ architecture: 'gated', dIn: 64, dSae: 256, ...o });
}

/** SAELens `random_params`: every parameter and buffer uniform in [0, 1). */
export function randomParams(cfg: SaeConfig, seed = 0): SaeWeightArrays {
  const rand = seededRng(seed);
  const u = (n: number): Float32Array => Float32Array.from({ length: n }, () => rand());
  const w = initSaeWeights(cfg);
  return {
    W_enc: u(w.W_enc.length), b_enc: u(w.b_enc.length), W_dec: u(w.W_dec.length), b_dec: u(w.b_dec.length),
    ...(w.threshold ? { threshold: u(w.threshold.length) } : {}),
    ...(w.b_gate ? { b_gate: u(cfg.dSae), r_mag: u(cfg.dSae), b_mag: u(cfg.dSae) } : {}),
    ...(cfg.architecture === 'batchtopk' ? { topk_threshold: rand() } : {}),
  };
}

/** An SAE with {@link randomParams}. */
export function randomSae(cfg: SaeConfig, seed = 0): SparseAutoencoder {
  return new SparseAutoencoder(cfg, randomParams(cfg, seed));
}

/** Seeded standard normal [shape]. */
export function randn(shape: number[], seed: number): tf.Tensor {
  return tf.randomNormal(shape, 0, 1, 'float32', seed);
}

/** torch.testing.assert_close defaults for float32 (rtol 1.3e-6, atol 1e-5) unless given. */
export function expectClose(a: tf.Tensor | ArrayLike<number>, b: tf.Tensor | ArrayLike<number>, o: { rtol?: number; atol?: number } = {}): void {
  const av = a instanceof tf.Tensor ? a.dataSync() : a;
  const bv = b instanceof tf.Tensor ? b.dataSync() : b;
  if (a instanceof tf.Tensor && b instanceof tf.Tensor) expect(a.shape).toEqual(b.shape);
  expect(av.length).toBe(bv.length);
  const rtol = o.rtol ?? 1.3e-6;
  const atol = o.atol ?? 1e-5;
  let worst = 0;
  for (let i = 0; i < av.length; i++) {
    const x = av[i] as number;
    const y = bv[i] as number;
    const excess = Math.abs(x - y) - (atol + rtol * Math.abs(y));
    if (Number.isNaN(x) !== Number.isNaN(y)) worst = Infinity;
    else if (excess > worst) worst = excess;
  }
  expect(worst).toBe(0);
}

/** True when some element differs beyond the tolerance (SAELens `assert_not_close`). */
export function notClose(a: tf.Tensor | ArrayLike<number>, b: tf.Tensor | ArrayLike<number>, o: { rtol?: number; atol?: number } = {}): boolean {
  const av = a instanceof tf.Tensor ? a.dataSync() : a;
  const bv = b instanceof tf.Tensor ? b.dataSync() : b;
  if (av.length !== bv.length) return true;
  const rtol = o.rtol ?? 1.3e-6;
  const atol = o.atol ?? 1e-5;
  for (let i = 0; i < av.length; i++) {
    if (Math.abs((av[i] as number) - (bv[i] as number)) > atol + rtol * Math.abs(bv[i] as number)) return true;
  }
  return false;
}
