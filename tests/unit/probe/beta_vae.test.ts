/**
 * β-VAE: shapes, seeded determinism, β annealing, training (loss falls, early stopping restores the
 * best epoch), scoring, save/load round trip, BatchNorm + dropout, and no tensor leaks.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../../src/backend/backend.js';
import { ConfigError, DatasetError, DisposedError, NotFoundError, ShapeError, WeightLoadError } from '../../../src/errors.js';
import { BetaVae } from '../../../src/probe/beta_vae.js';
import { fitScaler } from '../../../src/probe/matrix.js';
import { betaAt, resolveTrainConfig, resolveVaeConfig } from '../../../src/probe/vae_config.js';
import { loadBetaVae, saveBetaVae } from '../../../src/probe/vae_io.js';
import { trainBetaVae } from '../../../src/probe/vae_train.js';
import { vaeScores } from '../../../src/probe/vae_scores.js';
import { seededRng } from '../../../src/utils/rng.js';
import { expectNoLeak } from '../../helpers/memory.js';

const dir = mkdtempSync(join(tmpdir(), 'tfjs-lens-vae-'));
beforeAll(async () => {
  await initBackend(undefined, { quiet: true });
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Rows near a 2-D plane embedded in 8-D, plus noise. */
function planeData(n: number, seed: number): number[][] {
  const rand = seededRng(seed);
  return Array.from({ length: n }, () => {
    const a = rand() * 2 - 1;
    const b = rand() * 2 - 1;
    return Array.from({ length: 8 }, (_, j) => (j % 2 === 0 ? a : b) * (1 + j / 8) + 0.05 * (rand() - 0.5));
  });
}

describe('BetaVae', () => {
  it('forward: shapes, z = μ outside training, seeded sampling, no leaks', () => {
    const vae = new BetaVae({ dIn: 8, dLatent: 3, hidden: [16, 8], seed: 1 });
    const x = tf.tensor2d(planeData(5, 0));
    const out = expectNoLeak(() => vae.forward(x), () => 4);
    expect([out.recon.shape, out.mu.shape, out.logvar.shape, out.z.shape]).toEqual([[5, 8], [5, 3], [5, 3], [5, 3]]);
    expect(Array.from(out.z.dataSync())).toEqual(Array.from(out.mu.dataSync()));
    const s1 = vae.forward(x, { training: true, seed: 7 });
    const s2 = vae.forward(x, { training: true, seed: 7 });
    const s3 = vae.forward(x, { training: true, seed: 8 });
    expect(Array.from(s1.z.dataSync())).toEqual(Array.from(s2.z.dataSync()));
    expect(Array.from(s1.z.dataSync())).not.toEqual(Array.from(s3.z.dataSync()));
    const again = new BetaVae({ dIn: 8, dLatent: 3, hidden: [16, 8], seed: 1 });
    expect(again.weightArrays().get('encoder.0.weight')?.data).toEqual(vae.weightArrays().get('encoder.0.weight')?.data);
    for (const o of [out, s1, s2, s3]) Object.values(o).forEach((t: tf.Tensor) => t.dispose());
    expect(() => vae.forward(tf.zeros([2, 7]) as tf.Tensor2D)).toThrow(/x must be \[batch, 8\]/);
    x.dispose();
    again.dispose();
    vae.dispose();
    expect(() => vae.trainableVariables).toThrow(DisposedError);
  });

  it('config: defaults as the anchor, β schedule, typed errors', () => {
    expect(resolveVaeConfig({ dIn: 768 })).toMatchObject({ dLatent: 64, hidden: [256, 128], output: 'linear' });
    const t = resolveTrainConfig({});
    expect([t.epochs, t.warmupEpochs, t.betaMax, t.batchSize, t.lr]).toEqual([200, 40, 0.3, 64, 1e-3]);
    expect(betaAt(0, t)).toBe(0);
    expect(betaAt(10, t)).toBeCloseTo(0.075, 12);
    expect(betaAt(40, t)).toBe(0.3);
    expect(betaAt(150, t)).toBe(0.3);
    expect(() => resolveVaeConfig({ dIn: 0 })).toThrow(ConfigError);
    expect(() => resolveVaeConfig({ dIn: 4, dropout: 1 })).toThrow(/dropout must be in \[0, 1\)/);
    expect(() => resolveTrainConfig({ valFraction: 0.9 })).toThrow(/valFraction/);
  });

  it('trains: loss falls, β ramps, best epoch restored, scores are finite, no leaks', () => {
    const data = planeData(300, 2);
    const vae = new BetaVae({ dIn: 8, dLatent: 2, hidden: [32, 16], seed: 0 });
    const before = tf.memory().numTensors;
    const r = trainBetaVae(vae, data, { epochs: 30, warmupEpochs: 10, betaMax: 0.5, patience: 5, seed: 0, batchSize: 32 }, { quiet: true });
    expect(tf.memory().numTensors).toBe(before);
    const h = r.history;
    expect((h[h.length - 1] as { recon: number }).recon).toBeLessThan((h[0] as { recon: number }).recon * 0.5);
    expect(h.map((e) => e.beta).slice(0, 3)).toEqual([0, 0.05, 0.1]);
    expect(r.valIdx.length).toBe(30);
    expect(r.trainIdx.length + r.valIdx.length).toBe(300);
    expect(r.bestEpoch).toBeGreaterThanOrEqual(10);
    const s = expectNoLeak(() => vaeScores(vae, data.slice(r.valIdx[0] as number, (r.valIdx[0] as number) + 1)));
    const best = h[r.bestEpoch] as { valRecon: number };
    const val = vaeScores(vae, r.valIdx.map((i) => data[i] as number[]));
    // valRecon is the summed error; recon score is the mean over 8 features.
    expect(val.recon.reduce((a, v) => a + v, 0) / val.recon.length * 8).toBeCloseTo(best.valRecon, 3);
    expect(Number.isFinite(s.negElbo[0])).toBe(true);
    // An off-plane point reconstructs worse than on-plane points.
    const off = vaeScores(vae, [[1, 0, -1.25, 0, 1.5, 0, -1.75, 0]]).recon[0] as number; // even features of opposite signs
    expect(off).toBeGreaterThan(Math.max(...val.recon));
    vae.dispose();
  });

  it('BatchNorm + dropout train, update running statistics, and are deterministic per seed', () => {
    const data = planeData(120, 3);
    const mk = (): BetaVae => new BetaVae({ dIn: 8, dLatent: 2, hidden: [16], batchNorm: true, dropout: 0.2, seed: 4 });
    const [a, b] = [mk(), mk()];
    const before = tf.memory().numTensors;
    const cfg = { epochs: 6, warmupEpochs: 2, seed: 9, batchSize: 16 };
    trainBetaVae(a, data, cfg, { quiet: true });
    trainBetaVae(b, data, cfg, { quiet: true });
    expect(tf.memory().numTensors).toBe(before);
    const rm = a.weightArrays().get('encoder.0.bn.running_mean')?.data as Float32Array;
    expect(rm.some((v) => v !== 0)).toBe(true);
    expect(vaeScores(a, data).recon).toEqual(vaeScores(b, data).recon);
    expect(a.trainableVariables.length).toBe(a.numTensors - 4); // 2 stacks × (running mean, var)
    a.dispose();
    b.dispose();
  });

  it('save / load round trip gives identical scores; bad folders give typed errors', async () => {
    const data = planeData(64, 5);
    const vae = new BetaVae({ dIn: 8, dLatent: 2, hidden: [8], batchNorm: true, seed: 2 });
    trainBetaVae(vae, data, { epochs: 3, seed: 1 }, { quiet: true });
    const scaler = fitScaler({ rows: 64, cols: 8, data: Float32Array.from(data.flat()) }, 'standard');
    await saveBetaVae(vae, join(dir, 'p'), { scaler, metadata: { hookName: 'blocks.0.attn.hook_q' } });
    const { vae: back, scaler: s2, metadata } = await loadBetaVae(join(dir, 'p'));
    expect(vaeScores(back, data).recon).toEqual(vaeScores(vae, data).recon);
    expect(s2?.shift).toEqual(scaler.shift);
    expect(metadata['hookName']).toBe('blocks.0.attn.hook_q');
    back.dispose();
    vae.dispose();
    await expect(loadBetaVae(join(dir, 'missing'))).rejects.toThrow(NotFoundError);
    writeFileSync(join(dir, 'p', 'vae_config.json'), JSON.stringify({ format: 'other', config: {} }));
    await expect(loadBetaVae(join(dir, 'p'))).rejects.toThrow(WeightLoadError);
  });

  it('bad training input: NaN, too few rows, wrong width', () => {
    const vae = new BetaVae({ dIn: 2, dLatent: 1, hidden: [4] });
    expect(() => trainBetaVae(vae, [[0, 1], [NaN, 1], [1, 1], [2, 2]], {}, { quiet: true })).toThrow(DatasetError);
    expect(() => trainBetaVae(vae, [[0, 1], [NaN, 1], [1, 1], [2, 2]], {}, { quiet: true })).toThrow(/NaN at row 1, column 0/);
    expect(() => trainBetaVae(vae, [[0, 1], [1, 1]], {}, { quiet: true })).toThrow(/at least 4 training rows/);
    expect(() => trainBetaVae(vae, [[0, 1, 2], [1, 1, 1], [0, 0, 0], [1, 2, 3]], {}, { quiet: true })).toThrow(ShapeError);
    vae.dispose();
  });
});
