/**
 * Port of SAELens tests/saes/test_gated_sae.py (jbloomAus/SAELens 91ca16cc, v6.18.0): 8 test functions
 * (test_GatedSAE_forward parametrised over use_error_term), all ported. `GatedSAE` / `GatedTrainingSAE`
 * are a 'gated' SparseAutoencoder; `run_with_cache` is `sae.runWithCache`; `training_forward_pass` is
 * `saeLossAndGrads` (its packed stats hold mse, l1 and auxiliary losses) and, for the total loss, one
 * `trainSae` step; `save_model` / `save_inference_model` + `SAE.load_from_disk` are `saveSae` + `loadSae`.
 * Expected values are recomputed from SAELens's definitions in the test.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../src/backend/backend.js';
import { parseSafetensors } from '../../src/io/safetensors.js';
import { ActivationStore, arrayActivationSource } from '../../src/sae/activation_store.js';
import { saeLossAndGrads } from '../../src/sae/grads.js';
import { initSae } from '../../src/sae/init.js';
import { loadSae, saveSae } from '../../src/sae/io.js';
import { SparseAutoencoder, type SaeWeightArrays } from '../../src/sae/sae.js';
import { trainSae } from '../../src/sae/train.js';
import { expectNoLeak } from '../helpers/memory.js';
import { expectClose, gatedCfg, notClose, randn } from './sae_helpers.js';

beforeAll(async () => {
  await initBackend(undefined, { quiet: true });
});

/** SAELens `build_gated_sae_training_cfg`: apply_b_dec_to_input false (the runner helper's default). */
const trainingCfg = () => gatedCfg({ applyBDecToInput: false });

/** The gated encoder by SAELens's formula, in plain tfjs ops: acts and the magnitude pre-activation. */
function gatedReference(x: tf.Tensor2D, w: SaeWeightArrays, dIn: number, dSae: number, applyBDec: boolean): { acts: tf.Tensor2D; mag: tf.Tensor2D } {
  const W_enc = tf.tensor2d(w.W_enc, [dIn, dSae]);
  const xc = applyBDec ? tf.sub(x, tf.tensor1d(w.b_dec)) : x;
  const active = tf.cast(tf.greater(tf.add(tf.matMul(xc, W_enc), tf.tensor1d(w.b_gate as Float32Array)), 0), 'float32');
  const mag = tf.add(tf.matMul(xc, tf.mul(W_enc, tf.exp(tf.tensor1d(w.r_mag as Float32Array)))), tf.tensor1d(w.b_mag as Float32Array)) as tf.Tensor2D;
  return { acts: tf.mul(active, tf.relu(mag)), mag };
}

describe('Gated SAE', () => {
  for (const useErrorTerm of [true, false]) {
    it(`test_GatedSAE_forward[use_error_term=${useErrorTerm}]`, () => {
      const cfg = gatedCfg({ dIn: 2, dSae: 3 });
      const sae = new SparseAutoencoder(cfg, {
        W_enc: new Float32Array(6).fill(1), b_enc: new Float32Array(3), W_dec: new Float32Array(6).fill(1), b_dec: new Float32Array(2),
        b_gate: Float32Array.of(-2, 0, 1), r_mag: Float32Array.of(1, 2, 3), b_mag: Float32Array.of(1, 1, 1),
      });
      const sae_in = tf.tensor2d([[0.3, 0.3]]);
      // gate pre-acts 0.6 + b_gate = [-1.4, 0.6, 1.6]: the first gate is off; magnitudes 0.6·e^r + 1
      const mags = [1, 2, 3].map((r) => 0.6 * Math.exp(r) + 1);
      const post = [0, mags[1] as number, mags[2] as number];
      const recons = post.reduce((a, b) => a + b, 0);
      const { output, cache } = expectNoLeak(() => sae.runWithCache(sae_in, { useErrorTerm }), (r) => 1 + r.cache.size);
      expectClose(output, useErrorTerm ? [0.3, 0.3] : [recons, recons], { atol: 1e-3 });
      expectClose(cache.get('hook_sae_input') as tf.Tensor, sae_in, { atol: 1e-3 });
      expectClose(cache.get('hook_sae_output') as tf.Tensor, output, { atol: 1e-3 });
      expectClose(cache.get('hook_sae_recons') as tf.Tensor, [recons, recons], { atol: 1e-3 });
      expectClose(cache.get('hook_sae_acts_pre') as tf.Tensor, mags, { atol: 1e-3 });
      expectClose(cache.get('hook_sae_acts_post') as tf.Tensor, post, { atol: 1e-3 });
      if (useErrorTerm) expectClose(cache.get('hook_sae_error') as tf.Tensor, [0.3 - recons, 0.3 - recons], { atol: 1e-3 });
      else expect(cache.has('hook_sae_error')).toBe(false);
      tf.dispose([sae_in, output, ...cache.values()]);
      sae.dispose();
    });
  }

  it('test_GatedTrainingSAE_encoding', () => {
    const sae = initSae(trainingCfg(), { seed: 0 });
    const x = randn([32, 64], 1) as tf.Tensor2D;
    const { acts, hiddenPre } = sae.encodeWithHiddenPre(x);
    expect(acts.shape).toEqual([32, 256]);
    expect(hiddenPre.shape).toEqual([32, 256]);
    tf.tidy(() => {
      const ref = gatedReference(x, sae.toArrays(), 64, 256, false);
      expectClose(acts, ref.acts, { atol: 1e-6 });
      expectClose(hiddenPre, ref.mag, { atol: 1e-6 });
    });
    tf.dispose([x, acts, hiddenPre]);
    sae.dispose();
  });

  it('test_GatedTrainingSAE_loss', () => {
    const sae = initSae(trainingCfg(), { seed: 2, decoderInitNorm: 1 });
    const x = randn([32, 64], 3) as tf.Tensor2D;
    const lam = 1; // l1_coefficient default
    const r = saeLossAndGrads(sae.cfg, sae.params, x, { sparsityCoefficient: lam });
    const [mse, l1, aux] = Array.from(r.stats.dataSync().subarray(0, 3));
    tf.dispose([...Object.values(r.grads), r.stats]);
    const expected = tf.tidy(() => {
      const w = sae.toArrays();
      const recon = tf.add(tf.matMul(gatedReference(x, w, 64, 256, false).acts, tf.tensor2d(w.W_dec, [256, 64])), tf.tensor1d(w.b_dec));
      const mseRef = tf.mean(tf.sum(tf.square(tf.sub(recon, x)), -1));
      const xc = tf.sub(x, tf.tensor1d(w.b_dec)); // SAELens's test re-centres explicitly (b_dec = 0 here)
      const viaGate = tf.relu(tf.add(tf.matMul(xc, tf.tensor2d(w.W_enc, [64, 256])), tf.tensor1d(w.b_gate as Float32Array)));
      const l1Ref = tf.mul(tf.mean(tf.sum(viaGate, -1)), lam);
      const auxRef = tf.mean(tf.sum(tf.square(tf.sub(tf.add(tf.matMul(viaGate, tf.tensor2d(w.W_dec, [256, 64])), tf.tensor1d(w.b_dec)), x)), -1));
      return [mseRef, l1Ref, auxRef].map((t) => t.dataSync()[0] as number);
    });
    expect(mse).toBeCloseTo(expected[0] as number, 4);
    const total = (mse as number) + (l1 as number) + (aux as number);
    expect(Math.abs(total - (expected[0]! + expected[1]! + expected[2]!)) / total).toBeLessThan(1e-3);
    tf.dispose(x);
    sae.dispose();
  });

  it('each gated loss term as SAELens computes it, with decoder norms ≠ 1 and a non-zero b_dec applied to the input', () => {
    const cfg = gatedCfg({ applyBDecToInput: true });
    const base = initSae(cfg, { seed: 5, decoderInitNorm: 0.5 });
    const w = { ...base.toArrays(), b_dec: Float32Array.from({ length: 64 }, (_, i) => 0.3 * Math.sin(i + 1)) };
    base.dispose();
    const sae = new SparseAutoencoder(cfg, w);
    const x = randn([32, 64], 6) as tf.Tensor2D;
    const lam = 0.7;
    const r = saeLossAndGrads(sae.cfg, sae.params, x, { sparsityCoefficient: lam });
    const [mse, l1, aux] = Array.from(r.stats.dataSync().subarray(0, 3));
    tf.dispose([...Object.values(r.grads), r.stats]);
    const [mseRef, l1Ref, auxRef] = tf.tidy(() => {
      const Wdec = tf.tensor2d(w.W_dec, [256, 64]);
      const bDec = tf.tensor1d(w.b_dec);
      const recon = tf.add(tf.matMul(gatedReference(x, w, 64, 256, true).acts, Wdec), bDec);
      const piGate = tf.relu(tf.add(tf.matMul(tf.sub(x, bDec), tf.tensor2d(w.W_enc, [64, 256])), tf.tensor1d(w.b_gate as Float32Array))); // SAELens: centred input
      const norms = tf.norm(Wdec, 'euclidean', 1); // W_dec.norm(dim=1): 0.5 each here
      return [
        tf.mean(tf.sum(tf.square(tf.sub(recon, x)), -1)),
        tf.mul(tf.mean(tf.sum(tf.mul(piGate, norms), -1)), lam),
        tf.mean(tf.sum(tf.square(tf.sub(tf.add(tf.matMul(piGate, Wdec), bDec), x)), -1)), // against the raw input
      ].map((t) => t.dataSync()[0] as number);
    });
    expect(Math.abs((mse as number) - (mseRef as number)) / (mseRef as number)).toBeLessThan(1e-4);
    expect(Math.abs((l1 as number) - (l1Ref as number)) / (l1Ref as number)).toBeLessThan(1e-4);
    expect(Math.abs((aux as number) - (auxRef as number)) / (auxRef as number)).toBeLessThan(1e-4);
    tf.dispose(x);
    sae.dispose();
  });

  it('test_GatedSAE_save_and_load_from_pretrained', async () => {
    const sae = initSae(gatedCfg(), { seed: 4 });
    const dir = mkdtempSync(join(tmpdir(), 'gated-'));
    await saveSae(sae, dir);
    const loaded = await loadSae(dir);
    expect(loaded.cfg.architecture).toBe('gated');
    const [a, b] = [sae.toArrays(), loaded.toArrays()];
    for (const k of ['W_enc', 'W_dec', 'b_dec', 'b_gate', 'r_mag', 'b_mag'] as const) expectClose(b[k] as Float32Array, a[k] as Float32Array);
    const names = [...parseSafetensors(new Uint8Array(readFileSync(join(dir, 'sae_weights.safetensors')))).tensors.keys()].sort();
    expect(names).toEqual(['W_dec', 'W_enc', 'b_dec', 'b_gate', 'b_mag', 'r_mag']); // SAELens's GatedSAE state dict: no b_enc
    expect(JSON.parse(readFileSync(join(dir, 'cfg.json'), 'utf8')).architecture).toBe('gated');
    const x = randn([10, 64], 5);
    tf.tidy(() => expectClose(sae.forward(x), loaded.forward(x)));
    tf.dispose(x);
    sae.dispose();
    loaded.dispose();
  });

  it('test_GatedTrainingSAE_forward_pass', async () => {
    const x = randn([32, 64], 6);
    const store = new ActivationStore(arrayActivationSource(x.dataSync() as Float32Array, 64), { batchSize: 32, seed: 0 });
    const r = await trainSae({ store, cfg: trainingCfg(), training: { steps: 1, batchSize: 32 }, quiet: true, logEvery: 1 });
    const m = r.history[0]!;
    expect(m.loss).toBeCloseTo(m.mseLoss + m.sparsityLoss + m.auxLoss, 6);
    expect(m.sparsityLoss).toBeGreaterThan(0);
    expect(m.auxLoss).toBeGreaterThan(0);
    tf.dispose(x);
    r.sae.dispose();
  });

  it('test_GatedSAE_initialization', () => {
    const cfg = gatedCfg();
    const sae = initSae(cfg, { seed: 7 });
    const p = sae.params;
    expect(p.W_enc.shape).toEqual([64, 256]);
    expect(p.W_dec.shape).toEqual([256, 64]);
    expect(p.b_dec.shape).toEqual([64]);
    for (const k of ['b_gate', 'r_mag', 'b_mag'] as const) {
      expect(p[k]?.shape).toEqual([256]);
      expectClose(p[k] as tf.Tensor, new Float32Array(256));
    }
    expect(notClose(p.W_enc, new Float32Array(64 * 256))).toBe(true);
    expect(notClose(p.W_dec, new Float32Array(64 * 256))).toBe(true);
    expectClose(p.b_dec, new Float32Array(64));
    sae.dispose();
  });

  it('test_GatedTrainingSAE_initialization', () => {
    const sae = initSae(trainingCfg(), { seed: 8 });
    const p = sae.params;
    expect([p.W_enc.shape, p.W_dec.shape, p.b_mag?.shape, p.b_gate?.shape, p.r_mag?.shape, p.b_dec.shape]).toEqual([[64, 256], [256, 64], [256], [256], [256], [64]]);
    expect(sae.params.W_enc.dtype).toBe('float32');
    for (const t of [p.b_dec, p.b_mag, p.b_gate]) expectClose(t as tf.Tensor, new Float32Array(t?.size ?? 0), { atol: 1e-6 });
    tf.tidy(() => {
      expectClose(tf.norm(p.W_dec, 'euclidean', 1), new Float32Array(256).fill(0.1), { atol: 1e-6 });
      expectClose(p.W_enc, tf.transpose(p.W_dec), { atol: 1e-6 });
    });
    sae.dispose();
  });

  it('test_GatedTrainingSAE_save_and_load_inference_sae', async () => {
    const cfg = trainingCfg();
    const n = (len: number, seed: number): Float32Array => tf.tidy(() => randn([len], seed).dataSync() as Float32Array);
    const training = new SparseAutoencoder(cfg, {
      W_enc: n(64 * 256, 10), b_enc: new Float32Array(256), W_dec: n(256 * 64, 11), b_dec: n(64, 12),
      b_gate: n(256, 13), b_mag: n(256, 14), r_mag: n(256, 15),
    });
    const orig = training.toArrays();
    const dir = mkdtempSync(join(tmpdir(), 'gated-inf-'));
    await saveSae(training, dir);
    const inference = await loadSae(dir);
    expect(inference.cfg.architecture).toBe('gated');
    const got = inference.toArrays();
    for (const k of ['W_enc', 'W_dec', 'b_dec', 'b_gate', 'b_mag', 'r_mag'] as const) expectClose(got[k] as Float32Array, orig[k] as Float32Array);
    const x = randn([10, 64], 16) as tf.Tensor2D;
    tf.tidy(() => {
      const ta = training.encodeWithHiddenPre(x).acts;
      const ia = inference.encode(x);
      expectClose(ta, ia);
      expectClose(training.decode(ta), inference.decode(ia));
      expectClose(training.forward(x), inference.forward(x));
    });
    tf.dispose(x);
    training.dispose();
    inference.dispose();
  });
});
