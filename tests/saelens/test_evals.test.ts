/**
 * Port of the offline-portable parts of SAELens tests/test_evals.py (jbloomAus/SAELens 91ca16cc, v6.18.0)
 * on the gpt2-tiny fixture, with `get_sparsity_and_variance_metrics` = `evaluateSaeOnTokens` and
 * `get_featurewise_weight_based_metrics` = `featurewiseWeightMetrics`. 20 test functions; ported:
 * test_get_sparsity_and_variance_metrics_identity_sae_perfect_reconstruction (scaling_factor None and 3.0:
 * the 3.0 case as the SAE with the scale folded in, which is what evaluating through SAELens's
 * ActivationScaler computes), test_get_sparsity_and_variance_metrics_works_with_batchtopk_saes, and the
 * featurewise part of test_run_evals_training_sae (feature metric names and values, recomputed by brute
 * force from SAELens's definitions).
 * Not ported: test_run_evals_base_sae, test_run_evals_sparse_topk_sae, test_run_evals_training_sae (scalar
 * part), test_run_evals_training_sae_ignore_bos, test_training_eval_config,
 * test_training_eval_config_ignore_control_tokens, test_run_empty_evals (SAELens `run_evals` /
 * `EvalConfig` plumbing and its key names; covered by tests/unit/sae/saelens_metrics.test.ts where
 * portable); test_run_evaluations, test_process_results, test_all_loadable_saes,
 * test_get_saes_from_regex_* (3), test_process_args, test_run_evals_cli (the CLI, pretrained-SAE registry
 * and file output); test_get_downstream_reconstruction_metrics_with_hf_model_…,
 * test_get_sparsity_and_variance_metrics_with_hf_model_… (HF-vs-TransformerLens model equivalence);
 * test_kl_matches_old_implementation (a private helper).
 */
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../src/backend/backend.js';
import { HookedTransformer } from '../../src/model/hooked_transformer.js';
import { saeConfig } from '../../src/sae/config.js';
import { evaluateSaeOnTokens, featurewiseWeightMetrics } from '../../src/sae/evals.js';
import { SparseAutoencoder } from '../../src/sae/sae.js';
import { fixtureDir } from '../helpers/fixtures.js';
import { batchTopkCfg, randomParams } from './sae_helpers.js';

const HOOK = 'blocks.1.hook_resid_pre';
const ROWS = Array.from({ length: 6 }, (_, r) => [999, ...Array.from({ length: 11 }, (_, p) => (r * 97 + p * 31 + 5) % 999)]);
let model: HookedTransformer;

beforeAll(async () => {
  await initBackend(undefined, { quiet: true });
  model = await HookedTransformer.fromPretrained(fixtureDir('gpt2-tiny'), { quiet: true });
});
afterAll(() => model.dispose());

/** W_dec = [I; −I], W_enc = W_decᵀ, zero biases; with an activation scale s folded in (W_enc·s, W_dec/s). */
function identitySae(dIn: number, s: number): SparseAutoencoder {
  const W_enc = new Float32Array(dIn * 2 * dIn);
  const W_dec = new Float32Array(2 * dIn * dIn);
  for (let j = 0; j < dIn; j++) {
    W_enc[j * 2 * dIn + j] = s;
    W_enc[j * 2 * dIn + dIn + j] = -s;
    W_dec[j * dIn + j] = 1 / s;
    W_dec[(dIn + j) * dIn + j] = -1 / s;
  }
  return new SparseAutoencoder(saeConfig({ architecture: 'standard', dIn, dSae: 2 * dIn, metadata: { hook_name: HOOK } }), {
    W_enc, b_enc: new Float32Array(2 * dIn), W_dec, b_dec: new Float32Array(dIn),
  });
}

/** Activations at the hook [rows·pos, d_in] as arrays. */
function hookRows(rows: number[][]): number[][] {
  const [out, cache] = model.runWithCache(rows, { namesFilter: [HOOK] });
  const a = cache.get(HOOK);
  const flat = tf.tidy(() => tf.reshape(a, [-1, a.shape[2] as number]).arraySync() as number[][]);
  tf.dispose(out as tf.Tensor);
  cache.dispose();
  return flat;
}

describe('evals', () => {
  for (const scale of [null, 3.0]) {
    it(`test_get_sparsity_and_variance_metrics_identity_sae_perfect_reconstruction[scaling_factor=${scale}]`, () => {
      const sae = identitySae(64, scale ?? 1);
      const m = evaluateSaeOnTokens(model, sae, ROWS, { batchPrompts: 4, excludeSpecialTokens: false });
      expect(m.explainedVariance).toBeCloseTo(1, 5);
      expect(m.explainedVarianceLegacy).toBeCloseTo(1, 5);
      expect(m.l0).toBeCloseTo(64, 5);
      expect(m.mse).toBeLessThan(1e-5);
      sae.dispose();
    });
  }

  it('test_get_sparsity_and_variance_metrics_works_with_batchtopk_saes', () => {
    const cfg = batchTopkCfg({ k: 2, dIn: 64, dSae: 10, rescaleActsByDecoderNorm: true, metadata: { hook_name: HOOK } });
    const w = randomParams(cfg, 21);
    const bEnc = tf.tidy(() => tf.add(tf.randomNormal([10], 0, 1, 'float32', 22), 10).dataSync() as Float32Array);
    const sae = new SparseAutoencoder(cfg, { ...w, b_enc: bEnc });
    const m = evaluateSaeOnTokens(model, sae, ROWS, { batchPrompts: 2, excludeSpecialTokens: false });
    expect(m.l0).toBeCloseTo(2, 6);
    sae.dispose();
  });

  it('test_run_evals_training_sae (featurewise metrics, recomputed from SAELens definitions)', () => {
    const cfg = saeConfig({ architecture: 'standard', dIn: 64, dSae: 24, metadata: { hook_name: HOOK } });
    const w = randomParams(cfg, 31);
    const sae = new SparseAutoencoder(cfg, { ...w, W_enc: w.W_enc.map((v) => v - 0.5), b_enc: w.b_enc.map((v) => v - 0.8), b_dec: new Float32Array(64) });
    const m = evaluateSaeOnTokens(model, sae, ROWS, { batchPrompts: 4, excludeSpecialTokens: true });
    // brute force over kept positions (BOS 999 excluded), f = relu((x − b_dec)·W_enc + b_enc)
    const xs = hookRows(ROWS);
    const tokens = ROWS.flat();
    const fired = new Float64Array(24);
    const sums = new Float64Array(24);
    const prompts = new Float64Array(24);
    let n = 0;
    for (let r = 0; r < ROWS.length; r++) {
      const inRow = new Set<number>();
      for (let p = 0; p < 12; p++) {
        const i = r * 12 + p;
        if (tokens[i] === 999) continue;
        n++;
        const x = xs[i] as number[];
        for (let k = 0; k < 24; k++) {
          let h = w.b_enc[k]! - 0.8;
          for (let j = 0; j < 64; j++) h += x[j]! * (w.W_enc[j * 24 + k]! - 0.5);
          if (h > 0) {
            fired[k]!++;
            sums[k]! += h;
            inRow.add(k);
          }
        }
      }
      for (const k of inRow) prompts[k]!++;
    }
    expect(m.nTokens).toBe(n);
    for (let k = 0; k < 24; k++) {
      expect(m.featureDensity[k]).toBeCloseTo(fired[k]! / n, 5);
      expect(m.featureMeanActivation[k]).toBeCloseTo(sums[k]! / n, 3);
      if (fired[k]! > 0) {
        expect(m.consistentActivationHeuristic?.[k]).toBeCloseTo(fired[k]! / prompts[k]!, 5);
        expect(m.featureMeanActivationWhenActive[k]).toBeCloseTo(sums[k]! / fired[k]!, 3);
      } else {
        expect(m.consistentActivationHeuristic?.[k]).toBeNaN();
      }
    }
    const fw = featurewiseWeightMetrics(sae);
    for (let k = 0; k < 24; k++) {
      let ne = 0;
      let nd = 0;
      let dot = 0;
      for (let j = 0; j < 64; j++) {
        const e = w.W_enc[j * 24 + k]! - 0.5;
        const d = w.W_dec[k * 64 + j]!;
        ne += e * e;
        nd += d * d;
        dot += e * d;
      }
      expect(fw.encoderNorm[k]).toBeCloseTo(Math.sqrt(ne), 4);
      expect(fw.encoderDecoderCosineSim[k]).toBeCloseTo(dot / Math.sqrt(ne * nd), 5);
      expect(fw.encoderBias?.[k]).toBeCloseTo(w.b_enc[k]! - 0.8, 6);
    }
    sae.dispose();
  });
});
