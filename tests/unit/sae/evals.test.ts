/**
 * SAE evaluation and splicing on the gpt2-tiny fixture: runWithSaes with the error term reproduces
 * the clean run; metrics of a hand-built perfect SAE (EV 1, known L0 and dead fraction); CE/KL of a
 * briefly trained SAE spliced in (KL to the clean run well below ablation's); feature contexts match a
 * brute-force search; reconstruction shares sum to 1; nothing leaks.
 */
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../../src/backend/backend.js';
import { HookedTransformer } from '../../../src/model/hooked_transformer.js';
import { ActivationStore, arrayActivationSource, modelActivationSource } from '../../../src/sae/activation_store.js';
import { saeConfig } from '../../../src/sae/config.js';
import { featureDashboardHtml } from '../../../src/sae/dashboard_html.js';
import { densityHistogram, evaluateSae } from '../../../src/sae/evals.js';
import { ceLossRecovered } from '../../../src/sae/recons_loss.js';
import { topActivatingContexts, topFeaturesForActivation } from '../../../src/sae/features.js';
import { SparseAutoencoder } from '../../../src/sae/sae.js';
import { runWithCacheWithSaes, runWithSaes } from '../../../src/sae/splice.js';
import { trainSae } from '../../../src/sae/train.js';
import { expectNoLeak } from '../../helpers/memory.js';
import { fixtureDir } from '../../helpers/fixtures.js';

const FIXTURE = fixtureDir('gpt2-tiny');
const HOOK = 'blocks.1.hook_resid_pre';
let model: HookedTransformer;
let perfect: SparseAutoencoder;
const rows = Array.from({ length: 8 }, (_, r) => Array.from({ length: 24 }, (_, p) => (r * 131 + p * 17 + ((p * p) % 7)) % 1000));

/** d_sae = 2·d_in, W_enc = [I, −I], W_dec = [I; −I]: relu(x) − relu(−x) = x exactly. */
function perfectSae(dIn: number): SparseAutoencoder {
  const W_enc = new Float32Array(dIn * 2 * dIn);
  const W_dec = new Float32Array(2 * dIn * dIn);
  for (let j = 0; j < dIn; j++) {
    W_enc[j * 2 * dIn + j] = 1;
    W_enc[j * 2 * dIn + dIn + j] = -1;
    W_dec[j * dIn + j] = 1;
    W_dec[(dIn + j) * dIn + j] = -1;
  }
  const cfg = saeConfig({ architecture: 'standard', dIn, dSae: 2 * dIn, metadata: { hook_name: HOOK } });
  return new SparseAutoencoder(cfg, { W_enc, b_enc: new Float32Array(2 * dIn), W_dec, b_dec: new Float32Array(dIn) });
}

beforeAll(async () => {
  await initBackend(undefined, { quiet: true });
  model = await HookedTransformer.fromPretrained(FIXTURE, { quiet: true });
  perfect = perfectSae(64);
});
afterAll(() => {
  perfect.dispose();
  model.dispose();
});

describe('splicing', () => {
  it('with the error term the run equals the clean run; without it the perfect SAE also does', () => {
    const clean = model.logits(rows);
    const trained = new SparseAutoencoder(saeConfig({ architecture: 'topk', dIn: 64, dSae: 32, k: 4, metadata: { hook_name: HOOK } }), {
      W_enc: Float32Array.from({ length: 64 * 32 }, (_, i) => Math.sin(i)), b_enc: new Float32Array(32),
      W_dec: Float32Array.from({ length: 32 * 64 }, (_, i) => Math.cos(i) / 8), b_dec: new Float32Array(64),
    });
    const withErr = expectNoLeak(() => runWithSaes(model, rows, [{ sae: trained, useErrorTerm: true }]), () => 1);
    const without = runWithSaes(model, rows, [{ sae: trained }]);
    const viaPerfect = runWithSaes(model, rows, [{ sae: perfect }]);
    const maxDiff = (a: tf.Tensor): number => tf.tidy(() => tf.max(tf.abs(tf.sub(a, clean))).dataSync()[0]!);
    expect(maxDiff(withErr)).toBeLessThan(1e-4);
    expect(maxDiff(viaPerfect)).toBeLessThan(1e-4);
    expect(maxDiff(without)).toBeGreaterThan(1e-2);
    expect(model.hasHooks()).toBe(false);
    tf.dispose([clean, withErr, without, viaPerfect]);
    trained.dispose();
  });

  it('runWithCacheWithSaes records latents [batch, pos, d_sae] and latent edits change the run', () => {
    const [out, cache, acts] = runWithCacheWithSaes(model, rows.slice(0, 2), [{ sae: perfect, useErrorTerm: true, editFeatures: (f) => tf.mul(f, 0) as tf.Tensor2D }], { namesFilter: [HOOK, 'blocks.0.hook_resid_post'] });
    const lat = acts.get(`${HOOK}.hook_sae_acts_post`)!;
    expect(lat.shape).toEqual([2, 24, 128]);
    expect(tf.tidy(() => tf.max(tf.abs(lat)).dataSync()[0])).toBe(0); // edited latents are recorded
    // zeroed latents + error term: the hook now carries x − x̂_clean + b_dec = 0 here (perfect SAE, b_dec = 0)
    expect(tf.tidy(() => tf.max(tf.abs(cache.get(HOOK))).dataSync()[0])).toBeLessThan(1e-5);
    expect(model.hasHooks()).toBe(false);
    tf.dispose([out as tf.Tensor, lat]);
    cache.dispose();
  });
});

describe('metrics', () => {
  it('a perfect SAE: EV 1, MSE 0, L0 = non-zero coordinates, half the latents dead on positive data', async () => {
    const dIn = 64;
    const x = Float32Array.from({ length: 512 * dIn }, (_, i) => 0.1 + Math.abs(Math.sin(i)));
    const store = new ActivationStore(arrayActivationSource(x, dIn), { batchSize: 128, seed: 0 });
    const before = tf.memory().numTensors;
    const m = await evaluateSae(perfect, store, { nBatches: 4 });
    expect(tf.memory().numTensors).toBe(before);
    expect(m.explainedVariance).toBeCloseTo(1, 5);
    expect(m.mse).toBeLessThan(1e-10);
    expect(m.l0).toBe(64);
    expect(m.deadFraction).toBe(0.5);
    expect(m.denseFraction).toBe(0.5);
    expect(m.cossim).toBeCloseTo(1, 5);
    expect(m.l2Ratio).toBeCloseTo(1, 5);
    expect(m.densityHistogram.counts.reduce((a, c) => a + c, 0)).toBe(128);
  });

  it('densityHistogram bins log10 density over [−10, 0]', () => {
    const h = densityHistogram([0, 1e-5, 0.01, 1], 10);
    expect(h.edges[0]).toBe(-10);
    expect(h.counts[0]).toBe(1); // dead
    expect(h.counts[5]).toBe(1); // 1e-5
    expect(h.counts[8]).toBe(1); // 1e-2
    expect(h.counts[9]).toBe(1); // 1
  });

  it('CE loss recovered / KL of a briefly trained SAE (random-weight fixture: KL is the meaningful score), no leaks', async () => {
    const src = await modelActivationSource(model, HOOK, rows);
    const store = new ActivationStore(src, { batchSize: 96, seed: 0, bufferBatches: 2 });
    const { sae } = await trainSae({
      store, quiet: true, cfg: saeConfig({ architecture: 'topk', dIn: 64, dSae: 256, k: 16, metadata: { hook_name: HOOK } }),
      training: { steps: 150, batchSize: 96, lr: 3e-3, seed: 0 },
    });
    const before = tf.memory().numTensors;
    const ce = ceLossRecovered(model, { sae }, rows);
    expect(tf.memory().numTensors).toBe(before);
    // The fixture's weights are random, so zero ablation need not raise the CE loss; KL to the clean run must.
    expect(ce.klDivWithSae).toBeLessThan(ce.klDivWithAblation);
    expect(ce.klDivScore).toBeGreaterThan(0.8);
    expect(Math.abs(ce.ceLossWithSae - ce.ceLossWithoutSae)).toBeLessThan(Math.abs(ce.ceLossWithAblation - ce.ceLossWithoutSae));
    expect(ce.ceLossScore).toBeCloseTo((ce.ceLossWithAblation - ce.ceLossWithSae) / (ce.ceLossWithAblation - ce.ceLossWithoutSae), 10);
    expect(ce.nTokens).toBe(8 * 23);
    sae.dispose();
  });
});

describe('feature inspection', () => {
  it('top-activating contexts match a brute-force search and render as HTML', () => {
    const ctx = topActivatingContexts(model, perfect, rows, { features: [3, 70], topN: 3, before: 2, after: 1 });
    const [out, cache] = model.runWithCache(rows, { namesFilter: [HOOK] });
    const a = cache.get(HOOK).arraySync() as number[][][];
    const best: { v: number; r: number; p: number }[] = [];
    a.forEach((row, r) => {
      let top = { v: 0, r, p: -1 };
      row.forEach((vec, p) => { if (vec[3]! > top.v) top = { v: vec[3]!, r, p }; });
      if (top.p >= 0) best.push(top);
    });
    best.sort((x, y) => y.v - x.v);
    const ex = ctx.get(3)!;
    expect(ex.map((e) => [e.row, e.pos])).toEqual(best.slice(0, 3).map((b) => [b.r, b.p]));
    expect(ex[0]!.activation).toBeCloseTo(best[0]!.v, 5);
    expect(ex[0]!.tokens[ex[0]!.center]).toBe(rows[best[0]!.r]![best[0]!.p]);
    const html = featureDashboardHtml(ctx, { title: 'a <b> test', decode: (id) => `t${id}` });
    expect(html).toContain('<h2>Feature 3');
    expect(html).toContain('a &lt;b&gt; test');
    expect(html).not.toContain('<script');
    (out as tf.Tensor).dispose();
    cache.dispose();
  });

  it('reconstruction shares of the active latents sum to 1', () => {
    const x = Array.from({ length: 64 }, (_, i) => Math.sin(i * 0.3));
    const attr = topFeaturesForActivation(perfect, x, { topN: 128 });
    expect(attr.reduce((s, f) => s + f.fractionOfReconstruction, 0)).toBeCloseTo(1, 5);
    expect(attr.length).toBe(x.filter((v) => v !== 0).length);
    expect(attr[0]!.feature % 64).toBe(x.map(Math.abs).indexOf(Math.max(...x.map(Math.abs))));
    expect(attr[0]!.cosineWithInput).toBeGreaterThan(0);
  });
});
