/**
 * Port of SAELens tests/saes/test_batchtopk_sae.py (jbloomAus/SAELens 91ca16cc, v6.18.0): 17 test
 * functions (one parametrised over rescale_acts_by_decoder_norm), all ported. SAELens's `BatchTopK`
 * module is `batchTopkRelu`, `BatchTopKTrainingSAE` a 'batchtopk' SparseAutoencoder,
 * `training_forward_pass` our `saeLossAndGrads` (its `minPositiveAct` feeds `nextTopkThreshold`, as
 * the trainer does), `save_inference_model` `saveSae` (BatchTopK saved as JumpReLU), `fold_W_dec_norm`
 * `foldDecoderNorm`. Random tensors are seeded tfjs ones, so expected values are recomputed from
 * SAELens's definitions rather than copied.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../src/backend/backend.js';
import { parseSafetensors } from '../../src/io/safetensors.js';
import { batchTopkToJumpRelu, foldDecoderNorm, jumpReluCfgOf, nextTopkThreshold } from '../../src/sae/convert.js';
import { saeLossAndGrads } from '../../src/sae/grads.js';
import { initSae } from '../../src/sae/init.js';
import { loadSae, saveSae } from '../../src/sae/io.js';
import { saeConfigToCfgJson, trainingCfgFields } from '../../src/sae/sae_lens_config.js';
import { resolveSaeTraining } from '../../src/sae/config.js';
import { SparseAutoencoder } from '../../src/sae/sae.js';
import { batchTopkRelu, decoderNorms } from '../../src/sae/sae_ops.js';
import { expectNoLeak } from '../helpers/memory.js';
import { batchTopkCfg, expectClose, notClose, randn, randomSae } from './sae_helpers.js';

beforeAll(async () => {
  await initBackend(undefined, { quiet: true });
});

const nonZero = (t: tf.Tensor): number => tf.tidy(() => tf.sum(tf.notEqual(t, 0)).dataSync()[0] as number);

/** One SAELens `training_forward_pass` (no dead mask, no coefficients): loss, then the threshold update. */
function trainingForwardPass(sae: SparseAutoencoder, x: tf.Tensor2D, lr: number): void {
  const r = saeLossAndGrads(sae.cfg, sae.params, x, { sparsityCoefficient: 0 });
  tf.dispose([...Object.values(r.grads), r.stats]);
  sae.topkThreshold = nextTopkThreshold(sae.topkThreshold, r.minPositiveAct ?? Infinity, lr);
}

describe('BatchTopK activation', () => {
  it('test_BatchTopK_with_same_number_of_top_features_per_batch', () => {
    const x = tf.tensor2d([[1, -2, 3, -4], [-5, 6, -7, 8]]);
    const out = expectNoLeak(() => batchTopkRelu(x, 2), () => 1);
    expect(out.shape).toEqual(x.shape);
    expectClose(out, [1, 0, 3, 0, 0, 6, 0, 8]);
    expect(nonZero(out)).toBe(2 * 2);
    tf.dispose([x, out]);
  });

  it('test_BatchTopK_with_imbalanced_top_features_per_batch', () => {
    const x = tf.tensor2d([[1, 2, 3, 4], [-5, -6, 0.5, -8]]);
    const out = batchTopkRelu(x, 2);
    expectClose(out, [1, 2, 3, 4, 0, 0, 0, 0]);
    expect(nonZero(out)).toBe(4);
    tf.dispose([x, out]);
  });

  it('test_BatchTopK_with_float_k', () => {
    const x = tf.tensor2d([[1, -2, 3, -4], [-5, 6, -7, 8]]);
    const out = batchTopkRelu(x, 1.5);
    expect(out.shape).toEqual(x.shape);
    expectClose(out, [0, 0, 3, 0, 0, 6, 0, 8]);
    expect(nonZero(out)).toBe(Math.trunc(1.5 * 2));
    tf.dispose([x, out]);
  });

  it('test_BatchTopK_output_must_be_positive', () => {
    const x = tf.tensor2d([[-1, 2, -3, -4], [5, -6, -7, -8]]);
    const out = batchTopkRelu(x, 2);
    expectClose(out, [0, 2, 0, 0, 5, 0, 0, 0]);
    expect(tf.tidy(() => tf.min(out).dataSync()[0])).toBeGreaterThanOrEqual(0);
    expect(nonZero(out)).toBe(tf.tidy(() => tf.sum(tf.greater(x, 0)).dataSync()[0]));
    tf.dispose([x, out]);
  });

  it('test_BatchTopK_with_3d_input', () => {
    const x = tf.tensor3d([
      [[1, -2, 3, -4], [5, 6, -7, 8], [9, -10, 11, -12]],
      [[-13, 14, -15, 16], [17, -18, 19, -20], [21, -22, 23, -24]],
    ]);
    const out = batchTopkRelu(x, 2);
    expect(out.shape).toEqual(x.shape);
    expect(nonZero(out)).toBe(Math.trunc(2 * 6));
    expect(tf.tidy(() => tf.min(out).dataSync()[0])).toBeGreaterThanOrEqual(0);
    const avgL0 = tf.tidy(() => tf.mean(tf.sum(tf.cast(tf.notEqual(out, 0), 'float32'), -1)).dataSync()[0] as number);
    expect(avgL0).toBeCloseTo(2, 2);
    tf.dispose([x, out]);
  });

  it('test_BatchTopK_with_4d_input', () => {
    const x = tf.tidy(() => tf.add(randn([2, 2, 2, 5], 1), 2));
    const out = batchTopkRelu(x, 3);
    expect(out.shape).toEqual(x.shape);
    expect(nonZero(out)).toBe(Math.trunc(3 * 8));
    expect(tf.tidy(() => tf.min(out).dataSync()[0])).toBeGreaterThanOrEqual(0);
    tf.dispose([x, out]);
  });

  it('test_BatchTopK_l0_equals_k_for_various_shapes', () => {
    const k = 5;
    for (const [i, shape] of [[20], [10, 20], [4, 8, 20], [2, 3, 4, 20]].entries()) {
      const x = tf.tidy(() => tf.add(randn(shape, 10 + i), 2));
      const out = batchTopkRelu(x, k);
      const samples = shape.slice(0, -1).reduce((a, b) => a * b, 1);
      expect(nonZero(out) / samples, `shape ${shape.join('x')}`).toBeCloseTo(k, 2);
      tf.dispose([x, out]);
    }
  });
});

describe('BatchTopK SAE', () => {
  it('test_BatchTopKTrainingSAEConfig_accepts_a_float_k', () => {
    const cfg = batchTopkCfg({ k: 1.5, dIn: 10, dSae: 10 });
    expect(cfg.k).toBe(1.5);
    expect(saeConfigToCfgJson(cfg)['k']).toBe(1.5);
  });

  it('test_BatchTopKTrainingSAE_initialization', () => {
    const cfg = batchTopkCfg();
    const sae = initSae(cfg, { seed: 0 });
    const p = sae.params;
    expect(p.W_enc.shape).toEqual([cfg.dIn, cfg.dSae]);
    expect(p.W_dec.shape).toEqual([cfg.dSae, cfg.dIn]);
    expect(p.b_enc.shape).toEqual([cfg.dSae]);
    expect(p.b_dec.shape).toEqual([cfg.dIn]);
    expect(typeof sae.topkThreshold).toBe('number'); // a scalar buffer in SAELens
    expect(notClose(p.W_enc, new Float32Array(cfg.dIn * cfg.dSae))).toBe(true);
    expect(notClose(p.W_dec, new Float32Array(cfg.dIn * cfg.dSae))).toBe(true);
    expectClose(p.b_dec, new Float32Array(cfg.dIn));
    expectClose(p.b_enc, new Float32Array(cfg.dSae));
    expect(sae.topkThreshold).toBe(0);
    sae.dispose();
  });

  for (const rescale of [true, false]) {
    it(`test_BatchTopKTrainingSAE_save_and_load_inference_sae[rescale_acts_by_decoder_norm=${rescale}]`, async () => {
      const training = randomSae(batchTopkCfg({ rescaleActsByDecoderNorm: rescale }), 3);
      const sae_in = randn([30, 64], 4) as tf.Tensor2D;
      for (let i = 0; i < 500; i++) trainingForwardPass(training, sae_in, 0.02);
      const orig = training.toArrays();
      const origThreshold = training.topkThreshold;
      const dir = mkdtempSync(join(tmpdir(), 'btk-'));
      await saveSae(training, dir);
      const inference = await loadSae(dir);
      expect(inference.cfg.architecture).toBe('jumprelu');
      const inf = inference.toArrays();
      if (rescale) {
        expect(notClose(inf.W_dec, orig.W_dec)).toBe(true);
        tf.tidy(() => expectClose(decoderNorms(inference.params.W_dec), new Float32Array(256).fill(1)));
        expect(notClose(inf.W_enc, orig.W_enc)).toBe(true);
        expect(notClose(inf.b_enc, orig.b_enc)).toBe(true);
      } else {
        expectClose(inf.W_dec, orig.W_dec);
        expectClose(inf.W_enc, orig.W_enc);
        expectClose(inf.b_enc, orig.b_enc);
      }
      expectClose(inf.b_dec, orig.b_dec);
      expectClose(inf.threshold as Float32Array, new Float32Array(256).fill(origThreshold));
      tf.tidy(() => {
        const trainActs = training.encodeWithHiddenPre(sae_in).acts;
        const infActs = inference.encode(sae_in);
        expectClose(trainActs, infActs);
        expectClose(training.decode(trainActs), inference.decode(infActs));
        expectClose(training.forward(sae_in), inference.forward(sae_in));
      });
      tf.dispose(sae_in);
      training.dispose();
      inference.dispose();
    });
  }

  it('test_BatchTopKTrainingSAE_training_step_updates_threshold', () => {
    const cfg = batchTopkCfg();
    const base = initSae(cfg, { seed: 1 });
    const w = base.toArrays();
    base.dispose();
    const bEnc = tf.tidy(() => tf.add(randn([256], 5), 10).dataSync() as Float32Array);
    const sae = new SparseAutoencoder(cfg, { ...w, b_enc: bEnc, topk_threshold: 0 });
    const sae_in = randn([4, 64], 6) as tf.Tensor2D;
    const r = saeLossAndGrads(sae.cfg, sae.params, sae_in, { sparsityCoefficient: 0 });
    tf.dispose([...Object.values(r.grads), r.stats]);
    // SAELens: min positive of the training feature acts, then θ ← (1 − lr)·θ + lr·min⁺ (lr 0.02 in the helper cfg)
    const acts = sae.encode(sae_in);
    const minPos = Math.min(...Array.from(acts.dataSync()).filter((v) => v > 0));
    expect(r.minPositiveAct).toBeCloseTo(minPos, 5);
    sae.topkThreshold = nextTopkThreshold(sae.topkThreshold, r.minPositiveAct as number, 0.02);
    expect(sae.topkThreshold).not.toBe(0);
    expect(sae.topkThreshold).toBeCloseTo(0.02 * minPos, 6);
    tf.dispose([sae_in, acts]);
    sae.dispose();
  });

  it('test_BatchTopKTrainingSAEConfig_get_inference_sae_cfg_dict', async () => {
    const cfg = batchTopkCfg();
    const inference = saeConfigToCfgJson(jumpReluCfgOf(cfg));
    expect(inference.architecture).toBe('jumprelu');
    expect(inference.d_in).toBe(cfg.dIn);
    expect(inference.d_sae).toBe(cfg.dSae);
    expect(inference.dtype).toBe(cfg.dtype);
    expect(inference.device).toBe(cfg.device);
    expect('topk_threshold_lr' in inference).toBe(false);
    // the training form keeps them (SAELens `to_dict`)
    expect(trainingCfgFields(cfg, resolveSaeTraining({ steps: 1, batchSize: 1, topkThresholdLr: 0.02 }))['topk_threshold_lr']).toBe(0.02);
    // and saveSae writes the inference form
    const sae = initSae(cfg);
    const dir = mkdtempSync(join(tmpdir(), 'btk-cfg-'));
    await saveSae(sae, dir);
    const json = JSON.parse(readFileSync(join(dir, 'cfg.json'), 'utf8'));
    expect(json.architecture).toBe('jumprelu');
    expect('topk_threshold_lr' in json || 'k' in json).toBe(false);
    sae.dispose();
  });

  it('test_BatchTopKTrainingSAE_process_state_dict_for_saving_inference', async () => {
    const sae = initSae(batchTopkCfg());
    sae.topkThreshold = 0.5;
    const jr = batchTopkToJumpRelu(sae);
    expectClose(jr.params.threshold as tf.Tensor, new Float32Array(256).fill(0.5));
    const dir = mkdtempSync(join(tmpdir(), 'btk-sd-'));
    await saveSae(sae, dir);
    const names = [...parseSafetensors(new Uint8Array(readFileSync(join(dir, 'sae_weights.safetensors')))).tensors.keys()];
    expect(names).not.toContain('topk_threshold');
    expect(names).toContain('threshold');
    sae.dispose();
    jr.dispose();
  });

  it('test_BatchTopKTrainingSAE_gives_same_results_after_folding_W_dec_norm_if_rescale_acts_by_decoder_norm', () => {
    const sae = randomSae(batchTopkCfg({ k: 2, dIn: 5, dSae: 10, rescaleActsByDecoderNorm: true }), 7);
    const x = randn([300, 5], 8);
    const [preFeats, preOut] = tf.tidy(() => {
      const f = sae.encode(x);
      return [f, sae.decode(f)];
    });
    const folded = foldDecoderNorm(sae);
    tf.tidy(() => {
      const f = folded.encode(x);
      expectClose(preFeats, f, { rtol: 1e-2 });
      expectClose(preOut, folded.decode(f), { rtol: 1e-2 });
    });
    tf.dispose([x, preFeats, preOut]);
    sae.dispose();
    folded.dispose();
  });

  it('test_BatchTopKTrainingSAE_gives_same_results_as_if_decoder_is_already_normalized', () => {
    const raw = randomSae(batchTopkCfg({ k: 2, dIn: 5, dSae: 10, rescaleActsByDecoderNorm: true }), 9);
    const sae = foldDecoderNorm(raw);
    const sae2 = new SparseAutoencoder(batchTopkCfg({ k: 2, dIn: 5, dSae: 10, rescaleActsByDecoderNorm: false }), sae.toArrays());
    const x = randn([300, 5], 10);
    tf.tidy(() => {
      const a = sae.encode(x);
      const b = sae2.encode(x);
      expectClose(a, b, { rtol: 1e-2 });
      expectClose(sae.decode(a), sae2.decode(b), { rtol: 1e-2 });
    });
    tf.dispose(x);
    [raw, sae, sae2].forEach((s) => s.dispose());
  });

  it('test_BatchTopKTrainingSAE_gives_same_output_despite_rescale_acts_by_decoder_norm_when_k_is_full', () => {
    const sae = randomSae(batchTopkCfg({ k: 10, dIn: 5, dSae: 10, rescaleActsByDecoderNorm: true }), 11);
    const sae2 = new SparseAutoencoder(batchTopkCfg({ k: 10, dIn: 5, dSae: 10, rescaleActsByDecoderNorm: false }), sae.toArrays());
    const x = randn([300, 5], 12);
    tf.tidy(() => {
      const a = sae.encode(x);
      const b = sae2.encode(x);
      expect(notClose(a, b, { rtol: 1e-2 })).toBe(true);
      expectClose(sae.decode(a), sae2.decode(b), { rtol: 1e-2 });
    });
    tf.dispose(x);
    sae.dispose();
    sae2.dispose();
  });

  it('test_BatchTopKTrainingSAE_gives_same_output_despite_rescale_acts_by_decoder_norm_when_dec_is_scaled_uniformly', () => {
    const raw = randomSae(batchTopkCfg({ k: 2, dIn: 5, dSae: 10, rescaleActsByDecoderNorm: true }), 13);
    const folded = foldDecoderNorm(raw);
    const w = folded.toArrays();
    const halved = { ...w, W_dec: w.W_dec.map((v) => v * 0.5) };
    const sae = new SparseAutoencoder(raw.cfg, halved);
    const sae2 = new SparseAutoencoder(batchTopkCfg({ k: 2, dIn: 5, dSae: 10, rescaleActsByDecoderNorm: false }), halved);
    const x = randn([300, 5], 14);
    tf.tidy(() => {
      const a = sae.encode(x);
      const b = sae2.encode(x);
      expect(notClose(a, b, { rtol: 1e-2 })).toBe(true);
      expectClose(sae.decode(a), sae2.decode(b), { rtol: 1e-2 });
    });
    tf.dispose(x);
    [raw, folded, sae, sae2].forEach((s) => s.dispose());
  });
});
