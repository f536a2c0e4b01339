/**
 * SAE training: ground-truth recovery on synthetic sparse features (256 directions in 64 dims, each
 * active with p = 2%, magnitudes U[0.5, 1.5]) for the standard and TopK architectures; seeded
 * reproducibility; no tensor leaks across training; JumpReLU smoke test; normalisation folding;
 * checkpoints in SAELens's layout.
 */
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../../src/backend/backend.js';
import { ConfigError } from '../../../src/errors.js';
import { ActivationStore, arrayActivationSource } from '../../../src/sae/activation_store.js';
import { saeConfig, type SaeArchitecture } from '../../../src/sae/config.js';
import { loadSae } from '../../../src/sae/io.js';
import { featureRecovery, syntheticFeatures } from '../../../src/sae/synthetic.js';
import { trainSae, type TrainSaeResult } from '../../../src/sae/train.js';

beforeAll(async () => {
  await initBackend(undefined, { quiet: true });
});

const D_IN = 64;
const data = syntheticFeatures({ dIn: D_IN, nFeatures: 256, pActive: 0.02, magnitude: [0.5, 1.5], seed: 0 });

async function train(arch: SaeArchitecture, steps: number, extra: { sparsity?: number; dSae?: number; batch?: number } = {}): Promise<TrainSaeResult> {
  const batch = extra.batch ?? 512;
  const store = new ActivationStore(data.source(2048), { batchSize: batch, bufferBatches: 4, seed: 0 });
  return trainSae({
    store,
    cfg: saeConfig({ architecture: arch, dIn: D_IN, dSae: extra.dSae ?? 512, k: 8 }),
    training: { steps, batchSize: batch, lr: 1e-2, lrWarmupSteps: 50, lrDecay: 'cosine', sparsityCoefficient: extra.sparsity ?? 1, seed: 0 },
    quiet: true, logEvery: 25,
  });
}

describe('ground-truth recovery (≥ 90% of true directions at cosine ≥ 0.9)', () => {
  for (const arch of ['standard', 'topk'] as const) {
    it(`${arch}`, async () => {
      const t0 = performance.now();
      const r = await train(arch, 400);
      const rec = featureRecovery(data.directions, r.sae.toArrays().W_dec, D_IN, 0.9);
      console.log(`${arch}: mean max cosine ${rec.meanMaxCosine.toFixed(4)}, recovered ${(100 * rec.fractionRecovered).toFixed(1)}%, ` +
        `L0 ${r.history.at(-1)!.l0.toFixed(2)}, EV ${r.history.at(-1)!.explainedVariance.toFixed(3)}, ${((performance.now() - t0) / 1000).toFixed(1)} s`);
      expect(rec.fractionRecovered).toBeGreaterThanOrEqual(0.9);
      expect(rec.meanMaxCosine).toBeGreaterThan(0.95);
      expect(r.history.at(-1)!.mseLoss).toBeLessThan(r.history[0]!.mseLoss / 2); // the loss falls
      r.sae.dispose();
    });
  }
});

describe('reproducibility and memory', () => {
  it('same seed → identical weights; training leaks no tensors (only the SAE survives)', async () => {
    const before = tf.memory().numTensors;
    const a = await train('topk', 12, { dSae: 128, batch: 256 });
    expect(tf.memory().numTensors - before).toBe(4); // W_enc, b_enc, W_dec, b_dec
    const b = await train('topk', 12, { dSae: 128, batch: 256 });
    const [wa, wb] = [a.sae.toArrays(), b.sae.toArrays()];
    expect(Array.from(wa.W_dec)).toEqual(Array.from(wb.W_dec));
    expect(Array.from(wa.b_enc)).toEqual(Array.from(wb.b_enc));
    expect(a.history.map((m) => m.loss)).toEqual(b.history.map((m) => m.loss));
    a.sae.dispose();
    b.sae.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it('jumprelu trains (threshold moves, loss falls) and keeps its 5 tensors', async () => {
    const before = tf.memory().numTensors;
    const r = await train('jumprelu', 60, { dSae: 128, batch: 256, sparsity: 0.05 });
    expect(tf.memory().numTensors - before).toBe(5);
    const thr = r.sae.toArrays().threshold!;
    expect(thr.some((v) => Math.abs(v - 0.01) > 1e-4)).toBe(true);
    expect(r.history.at(-1)!.loss).toBeLessThan(r.history[0]!.loss);
    r.sae.dispose();
  });
});

describe('normalisation, b_dec init, checkpoints, errors', () => {
  it('expected_average_only_in is folded into the weights; checkpoints are SAELens folders', async () => {
    const raw = Float32Array.from({ length: 2048 * 8 }, (_, i) => 20 * Math.sin(i * 0.37) + (i % 8));
    const store = new ActivationStore(arrayActivationSource(raw, 8), { batchSize: 128, seed: 0 });
    const ckpt = mkdtempSync(join(tmpdir(), 'sae-ckpt-'));
    const metricsPath = join(ckpt, 'metrics.jsonl');
    const r = await trainSae({
      store, cfg: saeConfig({ architecture: 'standard', dIn: 8, dSae: 16 }), quiet: true, metricsPath, checkpointDir: ckpt, nCheckpoints: 1,
      training: { steps: 20, batchSize: 128, lr: 1e-3, normalizeActivations: 'expected_average_only_in', normEstimateBatches: 4, bDecInit: 'geometric_median' },
    });
    expect(r.scalingFactor).toBeGreaterThan(0);
    expect(r.sae.cfg.normalizeActivations).toBe('none');
    const lines = readFileSync(metricsPath, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(lines.at(-1)).toMatchObject({ step: 19, tokens: 20 * 128 });
    const folder = join(ckpt, String(10 * 128));
    expect(existsSync(join(folder, 'sparsity.safetensors'))).toBe(true);
    expect(JSON.parse(readFileSync(join(folder, 'cfg.json'), 'utf8'))).toMatchObject({ normalize_activations: 'expected_average_only_in', l1_coefficient: 1, lp_norm: 1 });
    expect(JSON.parse(readFileSync(join(folder, 'activation_scaler.json'), 'utf8')).scaling_factor).toBeCloseTo(r.scalingFactor!, 5);
    (await loadSae(folder)).dispose();
    r.sae.dispose();
  });

  it('rejects a batch-size mismatch', async () => {
    const store = new ActivationStore(arrayActivationSource(new Float32Array(64 * 4), 4), { batchSize: 16 });
    await expect(trainSae({ store, cfg: saeConfig({ architecture: 'standard', dIn: 4, dSae: 8 }), training: { steps: 1, batchSize: 32 } }))
      .rejects.toThrow(ConfigError);
  });
});
