/**
 * The SAELens tests of the SAE hook points outside the gated / hooked-SAE files (jbloomAus/SAELens 91ca16cc,
 * v6.18.0): tests/saes/test_standard_sae.py::test_sae_forward_pass_works_with_error_term_and_hooks
 * (parametrised over standard, gated, jumprelu) and tests/saes/test_jumprelu_sae.py::test_JumpReLUSAE_forward
 * (over use_error_term). Only these functions of those files touch hook_sae_*; the files' other tests are
 * outside this port. `sae.hooks(fwd_hooks=…)` + `run_with_cache` is `sae.runWithCache(x, { hooks })`.
 */
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../src/backend/backend.js';
import { saeConfig, type SaeArchitecture } from '../../src/sae/config.js';
import { initSae } from '../../src/sae/init.js';
import { SparseAutoencoder } from '../../src/sae/sae.js';
import { expectClose, notClose, randn } from './sae_helpers.js';

beforeAll(async () => {
  await initBackend(undefined, { quiet: true });
});

describe('SAE hook points', () => {
  for (const architecture of ['standard', 'gated', 'jumprelu'] as SaeArchitecture[]) {
    it(`test_sae_forward_pass_works_with_error_term_and_hooks[${architecture}]`, () => {
      const sae = initSae(saeConfig({ architecture, dIn: 32, dSae: 64 }), { seed: 3 });
      const x = randn([10, 32], 4);
      const original = sae.runWithCache(x, { useErrorTerm: true });
      const ablated = sae.runWithCache(x, { useErrorTerm: true, hooks: [['hook_sae_acts_post', (a) => tf.fill(a.shape, 20)]] });
      expect(notClose(original.output, ablated.output, { rtol: 1e-2 })).toBe(true);
      expect(Array.from(ablated.cache.get('hook_sae_acts_post')?.dataSync() ?? []).every((v) => v === 20)).toBe(true);
      expectClose(original.cache.get('hook_sae_error') as tf.Tensor, ablated.cache.get('hook_sae_error') as tf.Tensor, { rtol: 1e-4 });
      tf.dispose([x, original.output, ablated.output, ...original.cache.values(), ...ablated.cache.values()]);
      sae.dispose();
    });
  }

  for (const useErrorTerm of [true, false]) {
    it(`test_JumpReLUSAE_forward[use_error_term=${useErrorTerm}]`, () => {
      const sae = new SparseAutoencoder(saeConfig({ architecture: 'jumprelu', dIn: 2, dSae: 3 }), {
        W_enc: new Float32Array(6).fill(1), b_enc: new Float32Array(3), W_dec: new Float32Array(6).fill(1), b_dec: new Float32Array(2),
        threshold: Float32Array.of(1, 0.5, 0.25),
      });
      const x = tf.fill([1, 2], 0.3);
      // pre-acts 0.3 + 0.3 = 0.6 for every latent; θ = 1 blocks the first; recons = 0.6 + 0.6
      const pre = [0.6, 0.6, 0.6];
      const post = pre.map((h, i) => (h > [1, 0.5, 0.25][i]! ? h : 0));
      const recons = post.reduce((a, b) => a + b, 0);
      const { output, cache } = sae.runWithCache(x, { useErrorTerm });
      expectClose(output, useErrorTerm ? [0.3, 0.3] : [recons, recons]);
      expectClose(cache.get('hook_sae_input') as tf.Tensor, x);
      expectClose(cache.get('hook_sae_output') as tf.Tensor, output);
      expectClose(cache.get('hook_sae_recons') as tf.Tensor, [recons, recons]);
      if (useErrorTerm) expectClose(cache.get('hook_sae_error') as tf.Tensor, [0.3 - recons, 0.3 - recons]);
      expectClose(cache.get('hook_sae_acts_pre') as tf.Tensor, pre);
      expectClose(cache.get('hook_sae_acts_post') as tf.Tensor, post);
      tf.dispose([x, output, ...cache.values()]);
      sae.dispose();
    });
  }
});
