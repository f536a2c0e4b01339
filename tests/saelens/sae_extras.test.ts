/**
 * tfjs-lens checks around the SAELens ports (not SAELens test functions): encode/decode keep leading
 * dimensions; BatchTopK and Gated round-trip through SAELens's file format (BatchTopK both as the
 * JumpReLU inference SAE and as the 'batchtopk' training checkpoint with its `topk_threshold`); the
 * gated autodiff gradients against central differences of the loss; BatchTopK/Gated training through
 * one run config (`SaeRunnerConfig`), its SAELens field mapping, and no tensor leaks.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../src/backend/backend.js';
import { ActivationStore, arrayActivationSource } from '../../src/sae/activation_store.js';
import { saeConfig } from '../../src/sae/config.js';
import { saeLossAndGrads } from '../../src/sae/grads.js';
import { initSae } from '../../src/sae/init.js';
import { loadSae, saveSae } from '../../src/sae/io.js';
import { runSaeTraining } from '../../src/sae/runner.js';
import { runnerConfigToSaeLens, runnerToSaeConfigs, type SaeRunnerConfig } from '../../src/sae/runner_config.js';
import { saeConfigFromCfgJson, saeConfigToCfgJson } from '../../src/sae/sae_lens_config.js';
import { SparseAutoencoder } from '../../src/sae/sae.js';
import { trainSae } from '../../src/sae/train.js';
import { expectNoLeak } from '../helpers/memory.js';
import { batchTopkCfg, expectClose, gatedCfg, randn, randomSae } from './sae_helpers.js';

beforeAll(async () => {
  await initBackend(undefined, { quiet: true });
});

describe('encode / decode keep leading dimensions', () => {
  for (const arch of ['standard', 'topk', 'jumprelu', 'gated', 'batchtopk'] as const) {
    it(arch, () => {
      const cfg = saeConfig({ architecture: arch, dIn: 8, dSae: 16, ...(arch === 'topk' || arch === 'batchtopk' ? { k: 3 } : {}) });
      const sae = randomSae(cfg, 1);
      const x = randn([2, 5, 8], 2);
      const acts = expectNoLeak(() => sae.encode(x), () => 1);
      expect(acts.shape).toEqual([2, 5, 16]);
      const recon = expectNoLeak(() => sae.decode(acts), () => 1);
      expect(recon.shape).toEqual([2, 5, 8]);
      tf.tidy(() => {
        const flat = sae.encode(tf.reshape(x, [10, 8]) as tf.Tensor2D); // same rows, 2-D
        expectClose(tf.reshape(acts, [10, 16]), flat);
        expectClose(tf.reshape(recon, [10, 8]), sae.decode(flat));
      });
      expect(() => sae.decode(tf.zeros([2, 7]))).toThrow(/acts must be \[\.\.\., 16\]/);
      tf.dispose([x, acts, recon]);
      sae.dispose();
    });
  }
});

describe('the error term carries no gradient (SAELens computes it under torch.no_grad())', () => {
  it('d sum(forward(x, {useErrorTerm: true})) / dx equals the gradient without the error term, not the identity', () => {
    const sae = randomSae(saeConfig({ architecture: 'standard', dIn: 4, dSae: 6 }), 3);
    const x = randn([3, 4], 4);
    const [withErr, without] = tf.tidy(() => [
      tf.grad((v: tf.Tensor) => tf.sum(sae.forward(v, { useErrorTerm: true })))(x),
      tf.grad((v: tf.Tensor) => tf.sum(sae.forward(v)))(x),
    ]);
    const a = withErr.dataSync();
    expect(Math.max(...Array.from(a, (g) => Math.abs(g - 1)))).toBeGreaterThan(1e-3); // not the identity's all-ones gradient
    expectClose(withErr, without);
    tf.tidy(() => expectClose(sae.forward(x, { useErrorTerm: true }), x)); // the value is still x (recons + error)
    tf.dispose([x, withErr, without]);
    sae.dispose();
  });
});

describe('SAELens-format round trips', () => {
  it('batchtopk training checkpoint (architecture batchtopk, topk_threshold) and cfg.json', async () => {
    const sae = randomSae(batchTopkCfg({ k: 2.5, dIn: 8, dSae: 12 }), 3);
    sae.topkThreshold = 0.375;
    const dir = mkdtempSync(join(tmpdir(), 'btk-ckpt-'));
    await saveSae(sae, dir, { batchTopkAsJumpRelu: false });
    const json = JSON.parse(readFileSync(join(dir, 'cfg.json'), 'utf8'));
    expect(json).toMatchObject({ architecture: 'batchtopk', k: 2.5, rescale_acts_by_decoder_norm: true });
    const back = await loadSae(dir);
    expect(back.cfg.architecture).toBe('batchtopk');
    expect(back.cfg.k).toBe(2.5);
    expect(back.topkThreshold).toBeCloseTo(0.375, 7);
    const x = randn([6, 8], 4);
    tf.tidy(() => expectClose(sae.forward(x), back.forward(x)));
    // a cfg.json with rescale unset reads SAELens's training default (true), topk's inference default is false
    const { rescale_acts_by_decoder_norm: _r, ...noRescale } = json as Record<string, unknown>;
    expect(saeConfigFromCfgJson(noRescale).rescaleActsByDecoderNorm).toBe(true);
    expect(saeConfigFromCfgJson({ ...noRescale, architecture: 'topk', k: 2 }).rescaleActsByDecoderNorm).toBe(false);
    expect(saeConfigToCfgJson(back.cfg).architecture).toBe('batchtopk');
    tf.dispose(x);
    sae.dispose();
    back.dispose();
  });

  it('gated inference SAE round trip and the architecture names', async () => {
    const sae = randomSae(gatedCfg({ dIn: 8, dSae: 12 }), 5);
    const dir = mkdtempSync(join(tmpdir(), 'gated-rt-'));
    await saveSae(sae, dir);
    const back = await loadSae(dir);
    expect(saeConfigToCfgJson(back.cfg).architecture).toBe('gated');
    const x = randn([4, 3, 8], 6);
    tf.tidy(() => expectClose(sae.forward(x), back.forward(x)));
    expect(() => saeConfigFromCfgJson({ architecture: 'gatd', d_in: 2, d_sae: 3, metadata: { sae_lens_version: '6.18.0' } })).toThrow(/did you mean 'gated'/);
    tf.dispose(x);
    sae.dispose();
    back.dispose();
  });
});

describe('gated gradients', () => {
  it('match central differences of the gated loss (mse + λ·L1 + aux)', () => {
    const cfg = gatedCfg({ dIn: 4, dSae: 6, applyBDecToInput: true });
    const base = randomSae(cfg, 7).toArrays();
    const w = { ...base, W_enc: base.W_enc.map((v) => v - 0.5), b_gate: base.b_gate!.map((v) => v - 0.5), r_mag: base.r_mag!.map((v) => v - 0.5), b_mag: base.b_mag!.map((v) => v - 0.5), b_dec: base.b_dec.map((v) => v - 0.5) };
    const x = randn([5, 4], 8) as tf.Tensor2D;
    const lam = 0.7;
    const loss = (ws: typeof w): number => {
      const sae = new SparseAutoencoder(cfg, ws);
      const r = saeLossAndGrads(cfg, sae.params, x, { sparsityCoefficient: lam });
      const s = r.stats.dataSync();
      tf.dispose([...Object.values(r.grads), r.stats]);
      sae.dispose();
      return (s[0] as number) + (s[1] as number) + (s[2] as number);
    };
    const sae = new SparseAutoencoder(cfg, w);
    const before = tf.memory().numTensors;
    const r = saeLossAndGrads(cfg, sae.params, x, { sparsityCoefficient: lam });
    expect(tf.memory().numTensors - before).toBe(8); // 7 gradients (b_enc's is zeros) + stats
    const eps = 1e-2;
    for (const name of ['W_enc', 'W_dec', 'b_dec', 'b_gate', 'r_mag', 'b_mag'] as const) {
      const g = (r.grads[name] as tf.Tensor).dataSync();
      const arr = w[name] as Float32Array;
      for (const i of [0, 3, 5].filter((j) => j < arr.length)) {
        const plus = new Float32Array(arr);
        const minus = new Float32Array(arr);
        plus[i]! += eps;
        minus[i]! -= eps;
        const num = (loss({ ...w, [name]: plus }) - loss({ ...w, [name]: minus })) / (2 * eps);
        expect(Math.abs(num - (g[i] as number)), `${name}[${i}]: numeric ${num}, autodiff ${g[i]}`).toBeLessThan(2e-2 * Math.max(1, Math.abs(num)));
      }
    }
    tf.dispose([...Object.values(r.grads), r.stats, x]);
    sae.dispose();
  });
});

describe('one run config', () => {
  const data = Float32Array.from({ length: 2048 * 16 }, (_, i) => Math.max(0, Math.sin(i * 0.37) * Math.cos(i * 0.011)) * 2);

  it('maps SAELens LanguageModelSAERunnerConfig fields', () => {
    const run: SaeRunnerConfig = {
      hookName: 'blocks.0.hook_resid_post', modelName: 'gpt2-tiny', architecture: 'batchtopk', dIn: 16, expansionFactor: 4, k: 3,
      trainingTokens: 256 * 30, trainBatchSizeTokens: 256, lr: 1e-3, lrSchedulerName: 'cosineannealing', lrEnd: 1e-4,
      deadFeatureWindow: 10, topkThresholdLr: 0.05, contextSize: 16,
    };
    const { cfg, training } = runnerToSaeConfigs(run);
    expect(cfg).toMatchObject({ architecture: 'batchtopk', dIn: 16, dSae: 64, k: 3, rescaleActsByDecoderNorm: true });
    expect(cfg.metadata).toMatchObject({ hook_name: 'blocks.0.hook_resid_post', model_name: 'gpt2-tiny', context_size: 16 });
    expect(training).toMatchObject({ steps: 30, batchSize: 256, lr: 1e-3, lrDecay: 'cosine', topkThresholdLr: 0.05, deadFeatureWindowTokens: 11 * 256, seed: 42 });
    expect(training.lrMinRatio).toBeCloseTo(0.1, 10);
    expect(runnerConfigToSaeLens(run)).toMatchObject({ hook_name: 'blocks.0.hook_resid_post', training_tokens: 7680, train_batch_size_tokens: 256, sae: { architecture: 'batchtopk', d_in: 16, expansion_factor: 4, k: 3, topk_threshold_lr: 0.05 } });
    expect(() => runnerToSaeConfigs({ ...run, dSae: 64 })).toThrow(/exactly one of dSae and expansionFactor/);
  });

  for (const architecture of ['batchtopk', 'gated'] as const) {
    it(`trains ${architecture} through runSaeTraining and trainSae({ runner }) alike, saving SAELens's inference form`, async () => {
      const outputPath = mkdtempSync(join(tmpdir(), `run-${architecture}-`));
      const run: SaeRunnerConfig = {
        hookName: 'blocks.0.hook_resid_post', architecture, dIn: 16, dSae: 32, k: 4, trainingTokens: 256 * 60, trainBatchSizeTokens: 256,
        lr: 5e-3, l1Coefficient: 0.05, seed: 1, outputPath,
      };
      const store = (): ActivationStore => new ActivationStore(arrayActivationSource(data, 16), { batchSize: 256, seed: 0 });
      const before = tf.memory().numTensors;
      const r = await runSaeTraining(run, { store: store() }, { quiet: true, logEvery: 10 });
      expect(tf.memory().numTensors - before).toBe(Object.keys(r.sae.params).length);
      const first = r.history[0]!;
      const last = r.history.at(-1)!;
      expect(last.mseLoss).toBeLessThan(first.mseLoss);
      if (architecture === 'batchtopk') {
        expect(last.l0).toBeCloseTo(4, 6); // int(k·batch) latents per batch
        expect(last.topkThreshold).toBeGreaterThan(0);
        expect(JSON.parse(readFileSync(join(outputPath, 'cfg.json'), 'utf8')).architecture).toBe('jumprelu');
      } else {
        expect(last.auxLoss).toBeGreaterThan(0);
        expect(JSON.parse(readFileSync(join(outputPath, 'cfg.json'), 'utf8')).architecture).toBe('gated');
      }
      expect(JSON.parse(readFileSync(join(outputPath, 'runner_cfg.json'), 'utf8')).sae.architecture).toBe(architecture);
      const again = await trainSae({ store: store(), runner: { ...run, outputPath: undefined }, quiet: true, logEvery: 10 });
      expectClose(again.sae.params.W_dec, r.sae.params.W_dec); // same seed, same data: same run
      r.sae.dispose();
      again.sae.dispose();
    });
  }

  it('a batchtopk SAE trained briefly is still usable as initSae gives it', () => {
    const sae = initSae(batchTopkCfg({ dIn: 8, dSae: 16, k: 2 }));
    expect(sae.topkThreshold).toBe(0);
    sae.dispose();
  });
});
