/**
 * SAE metrics as SAELens defines them (issue 17): explained variance against SAELens's formula computed by
 * hand on a fixed batch (and unlike the legacy / v6.18.0 values on that batch); special-token masking of
 * the token-row evaluation and of the CE / KL scores (BOS excluded, on the gpt2-tiny fixture, BOS = 999);
 * one definition of "dead" shared by the training log and evaluation; no tensor leaks.
 */
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../../src/backend/backend.js';
import { ConfigError } from '../../../src/errors.js';
import { HookedTransformer } from '../../../src/model/hooked_transformer.js';
import type { BatchProvider } from '../../../src/sae/activation_store.js';
import { saeConfig } from '../../../src/sae/config.js';
import { evaluateSae, evaluateSaeOnTokens } from '../../../src/sae/evals.js';
import { ceLossRecovered } from '../../../src/sae/recons_loss.js';
import { SparseAutoencoder } from '../../../src/sae/sae.js';
import { excludedTokenIds, keepMask, specialTokenIds } from '../../../src/sae/special_tokens.js';
import { trainSae } from '../../../src/sae/train.js';
import { fixtureDir } from '../../helpers/fixtures.js';

const HOOK = 'blocks.1.hook_resid_pre';
const BOS = 999;
let model: HookedTransformer;

beforeAll(async () => {
  await initBackend(undefined, { quiet: true });
  model = await HookedTransformer.fromPretrained(fixtureDir('gpt2-tiny'), { quiet: true });
});
afterAll(() => model.dispose());

/** A provider serving fixed batches in order, cyclically. */
function fixedProvider(batches: readonly Float32Array[], dIn: number): BatchProvider {
  let i = 0;
  const batchSize = (batches[0] as Float32Array).length / dIn;
  return { dIn, batchSize, nextBatch: async () => Float32Array.from(batches[i++ % batches.length] as Float32Array) };
}

describe('explained variance (SAELens evals.py)', () => {
  // A standard SAE with b_dec = 0: f = relu(x·W_enc + b_enc), x̂ = f·W_dec, computed below with plain loops.
  const dIn = 8;
  const dSae = 16;
  const W_enc = Float32Array.from({ length: dIn * dSae }, (_, i) => {
    const [j, k] = [Math.floor(i / dSae), i % dSae];
    return (k === j ? 1 : k === j + dIn ? -1 : 0) + 0.15 * Math.sin(3 * i + 1);
  });
  const W_dec = Float32Array.from({ length: dSae * dIn }, (_, i) => {
    const [k, j] = [Math.floor(i / dIn), i % dIn];
    return (k === j ? 1 : k === j + dIn ? -1 : 0) + 0.1 * Math.cos(5 * i);
  });
  const b_enc = Float32Array.from({ length: dSae }, (_, k) => -0.6 - 0.1 * (k % 3));
  // Two batches of 16 tokens with a clear mean (1.5 in every dimension): centring matters. Here SAELens's EV is
  // 0.7911, the legacy per-token value 0.7759, v6.18.0's 0.8008, and variance about zero would give 0.9052.
  const batches = [0, 1].map((b) => Float32Array.from({ length: 16 * dIn }, (_, i) => 1.5 + Math.sin(0.7 * i + 2.3 * b) * (1 + (i % dIn) / 4)));

  function byHand(): { ev: number; legacy: number; v618: number; textbookAboutZero: number } {
    const n = 32;
    const sumX = new Array<number>(dIn).fill(0);
    let [sumSq, sse, legacy] = [0, 0, 0];
    for (const xb of batches) {
      const rows = Array.from({ length: 16 }, (_, t) => Array.from(xb.subarray(t * dIn, (t + 1) * dIn)));
      const mean = Array.from({ length: dIn }, (_, d) => rows.reduce((a, r) => a + (r[d] as number), 0) / 16);
      for (const x of rows) {
        const f = Array.from({ length: dSae }, (_, k) => Math.max(0, x.reduce((a, v, j) => a + v * (W_enc[j * dSae + k] as number), 0) + (b_enc[k] as number)));
        const xh = Array.from({ length: dIn }, (_, j) => f.reduce((a, v, k) => a + v * (W_dec[k * dIn + j] as number), 0));
        const r2 = x.reduce((a, v, j) => a + (v - (xh[j] as number)) ** 2, 0);
        sse += r2;
        sumSq += x.reduce((a, v) => a + v * v, 0);
        x.forEach((v, j) => { sumX[j] = (sumX[j] as number) + v; });
        legacy += 1 - r2 / x.reduce((a, v, j) => a + (v - (mean[j] as number)) ** 2, 0);
      }
    }
    const [S, R] = [sumSq / n, sse / n];
    const meanNormSq = sumX.reduce((a, s) => a + (s / n) ** 2, 0);
    return { ev: 1 - R / (S - meanNormSq), legacy: legacy / n, v618: 1 - R / (S - (S / dIn) ** 2), textbookAboutZero: 1 - R / S };
  }

  it('equals SAELens\'s 1 − E‖x − x̂‖² / (E‖x‖² − ‖E x‖²) computed by hand, to 1e-6; the other formulas differ on this batch', async () => {
    const sae = new SparseAutoencoder(saeConfig({ architecture: 'standard', dIn, dSae }), { W_enc, b_enc, W_dec, b_dec: new Float32Array(dIn) });
    const before = tf.memory().numTensors;
    const m = await evaluateSae(sae, fixedProvider(batches, dIn), { nBatches: 2 });
    expect(tf.memory().numTensors).toBe(before);
    const h = byHand();
    expect(Math.abs(m.explainedVariance - h.ev)).toBeLessThan(1e-6);
    expect(Math.abs(m.explainedVarianceLegacy - h.legacy)).toBeLessThan(1e-6);
    expect(Math.abs(m.explainedVarianceV618 - h.v618)).toBeLessThan(1e-6);
    // The test can fail: the per-token legacy formula, v6.18.0's and variance about zero all give other values here.
    for (const other of [h.legacy, h.v618, h.textbookAboutZero]) expect(Math.abs(other - h.ev)).toBeGreaterThan(0.005);
    expect(m.nTokens).toBe(32);
    sae.dispose();
  });
});

describe('special-token masking', () => {
  // BOS at the start of every row and once inside two rows (as between concatenated documents).
  const rows = Array.from({ length: 4 }, (_, r) => Array.from({ length: 16 }, (_, p) => (p === 0 || (p === 7 && r % 2 === 0) ? BOS : (r * 37 + p * 11) % 900)));
  const nBos = rows.flat().filter((t) => t === BOS).length; // 6

  it('special ids come from the config and tokenizer; keepMask marks them 0', () => {
    expect(specialTokenIds(model)).toEqual([BOS]);
    expect(excludedTokenIds(model, false)).toEqual([]);
    expect(excludedTokenIds(model, [5, 5, 7])).toEqual([5, 7]);
    expect(Array.from(keepMask([[BOS, 3, BOS, 4]], [BOS]))).toEqual([0, 1, 0, 1]);
  });

  it('evaluateSaeOnTokens leaves BOS positions out (masked EV differs from unmasked); no leaks', () => {
    const sae = zeroishSae(0.5);
    const before = tf.memory().numTensors;
    const masked = evaluateSaeOnTokens(model, sae, rows);
    const all = evaluateSaeOnTokens(model, sae, rows, { excludeSpecialTokens: false });
    expect(tf.memory().numTensors).toBe(before);
    expect(masked.nTokens).toBe(4 * 16 - nBos);
    expect(all.nTokens).toBe(4 * 16);
    expect(Math.abs(masked.explainedVariance - all.explainedVariance)).toBeGreaterThan(1e-3);
    sae.dispose();
  });

  it('CE loss and KL exclude BOS positions: clean CE is the mean of the non-BOS per-token losses, and BOS keeps its clean activation', () => {
    const sae = zeroishSae(0); // x̂ = 0 everywhere: unmasked, the SAE run is the zero-ablated run
    const before = tf.memory().numTensors;
    const masked = ceLossRecovered(model, { sae }, rows);
    const unmasked = ceLossRecovered(model, { sae }, rows, { excludeSpecialTokens: false });
    expect(tf.memory().numTensors).toBe(before);
    // By hand: per-token losses [row, pos − 1]; position p (predicting token p + 1) is scored when token p is not BOS.
    const perToken = (hook?: (a: tf.Tensor) => tf.Tensor): number[][] => {
      const out = model.runWithHooks(rows, { returnType: 'both', lossPerToken: true, fwdHooks: hook ? [[HOOK, hook]] : [] });
      const l = out.loss.arraySync() as number[][];
      tf.dispose([out.logits, out.loss]);
      return l;
    };
    const meanOver = (l: number[][], keep: (r: number, p: number) => boolean): number => {
      let [s, n] = [0, 0];
      l.forEach((row, r) => row.forEach((v, p) => { if (keep(r, p)) { s += v; n++; } }));
      return s / n;
    };
    const notBos = (r: number, p: number): boolean => rows[r]![p] !== BOS;
    const clean = perToken();
    expect(masked.ceLossWithoutSae).toBeCloseTo(meanOver(clean, notBos), 5);
    expect(unmasked.ceLossWithoutSae).toBeCloseTo(meanOver(clean, () => true), 5);
    expect(masked.nTokens).toBe(4 * 15 - nBos);
    expect(unmasked.nTokens).toBe(4 * 15);
    // The SAE run keeps BOS positions clean: equal to zeroing every non-BOS position, scored on non-BOS positions.
    const bosKeep = tf.tensor3d(rows.map((r) => r.map((t) => [t === BOS ? 1 : 0])), [4, 16, 1]);
    const zeroNonBos = perToken((a) => tf.mul(a, bosKeep));
    bosKeep.dispose();
    expect(masked.ceLossWithSae).toBeCloseTo(meanOver(zeroNonBos, notBos), 4);
    // Where it matters: unmasked, a zero-output SAE is exactly zero ablation (score 0); masked, it is not.
    expect(unmasked.ceLossWithSae).toBeCloseTo(unmasked.ceLossWithAblation, 5);
    expect(unmasked.ceLossScore).toBeCloseTo(0, 4);
    expect(Math.abs(masked.ceLossWithSae - masked.ceLossWithAblation)).toBeGreaterThan(1e-3);
    expect(masked.nKlPositions).toBe(4 * 16 - nBos);
    expect(masked.klDivScore).toBeCloseTo((masked.klDivWithAblation - masked.klDivWithSae) / masked.klDivWithAblation, 10);
    expect(masked.excludedTokenIds).toEqual([BOS]);
    sae.dispose();
  });

  it('every position masked is an error', () => {
    const sae = zeroishSae(0);
    expect(() => ceLossRecovered(model, { sae }, [[BOS, BOS, BOS]])).toThrow(ConfigError);
    expect(() => evaluateSaeOnTokens(model, sae, [[BOS, BOS, BOS]])).toThrow(/no tokens were evaluated/);
    sae.dispose();
  });
});

/** d_in 64 → d_sae 16; W_dec scaled by `decScale` (0: the SAE outputs exactly 0). */
function zeroishSae(decScale: number): SparseAutoencoder {
  return new SparseAutoencoder(saeConfig({ architecture: 'standard', dIn: 64, dSae: 16, metadata: { hook_name: HOOK } }), {
    W_enc: Float32Array.from({ length: 64 * 16 }, (_, i) => Math.sin(i)), b_enc: new Float32Array(16),
    W_dec: Float32Array.from({ length: 16 * 64 }, (_, i) => decScale * Math.cos(i) / 8), b_dec: new Float32Array(64),
  });
}

describe('one definition of "dead" (training log = evaluation)', () => {
  // d_in 4 → d_sae 8: latent j fires iff x_j > 0, latent 4 + j iff x_j < 0. Four batches of 4 equal rows:
  // latent 4 fires only in batch 0, latent 5 in batches 0–1, latents 6 and 7 never.
  const dIn = 4;
  const vs = [[-1, -1, 1, 1], [1, -1, 1, 1], [1, 1, 1, 1], [1, 1, 1, 1]];
  const batches = vs.map((v) => Float32Array.from({ length: 4 * dIn }, (_, i) => v[i % dIn] as number));
  const identityPair = (): SparseAutoencoder => new SparseAutoencoder(saeConfig({ architecture: 'standard', dIn, dSae: 8 }), {
    W_enc: Float32Array.from({ length: dIn * 8 }, (_, i) => (i % 8 === Math.floor(i / 8) ? 1 : i % 8 === Math.floor(i / 8) + 4 ? -1 : 0)),
    b_enc: new Float32Array(8),
    W_dec: Float32Array.from({ length: 8 * dIn }, (_, i) => (Math.floor(i / dIn) === i % dIn ? 1 : Math.floor(i / dIn) === (i % dIn) + 4 ? -1 : 0)),
    b_dec: new Float32Array(dIn),
  });

  for (const [window, expected] of [[8, 4], [12, 3], [16, 2]] as const) {
    it(`window ${window} tokens: both count ${expected} dead latents`, async () => {
      const sae = identityPair();
      const r = await trainSae({
        store: fixedProvider(batches, dIn), cfg: sae.cfg, sae, quiet: true, logEvery: 1,
        training: { steps: 4, batchSize: 4, lr: 1e-9, deadFeatureWindowTokens: window }, // lr ~0: the same SAE throughout
      });
      const ev = await evaluateSae(sae, fixedProvider(batches, dIn), { nBatches: 4, deadWindowTokens: window });
      expect(r.history.at(-1)!.deadFeatures).toBe(expected);
      expect(r.deadFraction * 8).toBe(expected);
      expect(ev.deadFraction * 8).toBe(expected);
      expect(ev.deadWindowTokens).toBe(window);
      sae.dispose();
    });
  }

  it('a window longer than the tokens evaluated is an error', async () => {
    const sae = identityPair();
    await expect(evaluateSae(sae, fixedProvider(batches, dIn), { nBatches: 2, deadWindowTokens: 9 })).rejects.toThrow(/deadWindowTokens must be an integer in \[1, 8\]/);
    sae.dispose();
  });
});
