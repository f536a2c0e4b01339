/**
 * Activation patching on the new families: with grouped-query attention the k/v head presets sweep
 * the key/value heads (and equal a hand-made patch of that head), the stacked "every" sweeps refuse
 * with a ConfigError; Pythia (no resid_mid) refuses resid_mid with a ConfigError naming parallel attention and resid_pre;
 * patching with the clean run's own activation gives the clean metric.
 */
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../src/backend/backend.js';
import { ConfigError } from '../../src/errors.js';
import type { ActivationCache } from '../../src/hooks/activation_cache.js';
import { HookedTransformer } from '../../src/model/hooked_transformer.js';
import { acdc, inductionTask } from '../../src/circuits/index.js';
import {
  attributionPatch,
  getActPatchAttnHeadAllPosEvery, getActPatchAttnHeadKAllPos, getActPatchAttnHeadVByPos, getActPatchResidMid, getActPatchResidPre,
} from '../../src/patching/index.js';
import { fixtureDir } from '../helpers/fixtures.js';

const clean = [[5, 17, 42, 99, 3, 8]];
const corrupted = [[5, 17, 42, 7, 3, 8]];
const metric = (l: tf.Tensor3D): tf.Scalar => tf.tidy(() => tf.mean(tf.slice(l, [0, 5, 3], [-1, 1, 1])));

let llama: HookedTransformer;
let pythia: HookedTransformer;
beforeAll(async () => {
  await initBackend(undefined, { quiet: true });
  llama = await HookedTransformer.fromPretrained(fixtureDir('llama-tiny'), { quiet: true });
  pythia = await HookedTransformer.fromPretrained(fixtureDir('pythia-tiny'), { quiet: true });
});
afterAll(() => {
  llama?.dispose();
  pythia?.dispose();
});

function withCache<T>(m: HookedTransformer, f: (c: ActivationCache) => T): T {
  const [out, cache] = m.runWithCache(clean);
  out.dispose();
  try {
    return f(cache);
  } finally {
    cache.dispose();
  }
}

describe('grouped-query attention (llama-tiny: 4 query, 2 key/value heads)', () => {
  it('k head preset sweeps [n_layers, n_kv_heads], each value equal to patching that key head by hand', () => {
    withCache(llama, (cache) => {
      const before = tf.memory().numTensors;
      const r = getActPatchAttnHeadKAllPos(llama, corrupted, cache, metric);
      expect(r.shape).toEqual([llama.cfg.nLayers, 2]);
      const got = r.arraySync() as number[][];
      r.dispose();
      expect(tf.memory().numTensors).toBe(before);
      const cleanK = cache.get('blocks.1.attn.hook_k'); // [1, pos, 2, d_head]
      const byHand = tf.tidy(() => {
        const logits = llama.runWithHooks(corrupted, {
          fwdHooks: [['blocks.1.attn.hook_k', (k: tf.Tensor) => {
            const heads = tf.unstack(k, 2);
            heads[1] = tf.squeeze(tf.slice(cleanK, [0, 0, 1, 0], [-1, -1, 1, -1]), [2]);
            return tf.stack(heads, 2);
          }]],
        });
        return metric(logits).dataSync()[0] ?? NaN;
      });
      expect(got[1]?.[1]).toBeCloseTo(byHand, 5);
    });
  });

  it('v by-pos preset sweeps [n_layers, pos, n_kv_heads]', () => {
    withCache(llama, (cache) => {
      const r = getActPatchAttnHeadVByPos(llama, corrupted, cache, metric);
      expect(r.shape).toEqual([llama.cfg.nLayers, 6, 2]);
      r.dispose();
    });
  });

  it('attribution patching differentiates through grouped-query attention: k heads [n_layers, n_kv_heads], close to real patching', () => {
    withCache(llama, (cache) => {
      const before = tf.memory().numTensors;
      const diff = (l: tf.Tensor3D): tf.Scalar => metric(l);
      const attr = attributionPatch(llama, cache, corrupted, diff, 'attn_head_k_all_pos');
      expect(attr.shape).toEqual([llama.cfg.nLayers, 2]);
      const real = getActPatchAttnHeadKAllPos(llama, corrupted, cache, metric);
      const corruptMetric = tf.tidy(() => metric(llama.logits(corrupted)).dataSync()[0] ?? NaN);
      const a = attr.dataSync();
      const r = Array.from(real.dataSync(), (v) => v - corruptMetric);
      // First-order estimate vs the real effect of each head: same sign and size where the effect is large.
      const big = r.map((v, i) => [v, a[i] ?? NaN] as const).filter(([v]) => Math.abs(v) > 0.05);
      expect(big.length).toBeGreaterThan(0);
      for (const [v, est] of big) expect(Math.sign(est)).toBe(Math.sign(v));
      expect(a.every((v) => Number.isFinite(v))).toBe(true);
      attr.dispose();
      real.dispose();
      expect(tf.memory().numTensors).toBe(before);
    });
  });

  it('edge-level circuit discovery refuses grouped-query models with a ConfigError (receivers are per-head k/v inputs)', () => {
    const task = inductionTask({ batch: 2, segLen: 5, low: 10, high: 900, bos: 0 });
    expect(() => acdc(llama, { ...task, threshold: 0.01, quiet: true })).toThrow(/grouped-query attention .*not supported by edge-level circuit discovery/);
  });

  it('the stacked every-head sweep refuses with a ConfigError naming the separate presets', () => {
    withCache(llama, (cache) => {
      expect(() => getActPatchAttnHeadAllPosEvery(llama, corrupted, cache, metric)).toThrow(ConfigError);
      expect(() => getActPatchAttnHeadAllPosEvery(llama, corrupted, cache, metric)).toThrow(/grouped-query attention .*KAllPos/);
    });
  });

  it('patching resid_pre with the clean activation at every position gives the clean metric at the last layer', () => {
    withCache(llama, (cache) => {
      const r = getActPatchResidPre(llama, corrupted, cache, metric);
      const cleanMetric = tf.tidy(() => metric(llama.logits(clean)).dataSync()[0] ?? NaN);
      const vals = r.arraySync() as number[][];
      r.dispose();
      // Patching position 3 (the only corrupted token) at layer 0 restores the clean run exactly.
      expect(vals[0]?.[3]).toBeCloseTo(cleanMetric, 5);
    });
  });
});

describe('parallel attention and MLP (pythia-tiny)', () => {
  it('resid_mid does not exist: ConfigError naming parallel attention and MLP, and resid_pre', () => {
    withCache(pythia, (cache) => {
      expect(() => getActPatchResidMid(pythia, corrupted, cache, metric)).toThrow(ConfigError);
      expect(() => getActPatchResidMid(pythia, corrupted, cache, metric)).toThrow(/hook_resid_mid' does not exist: .*in parallel .*use resid_pre/);
    });
  });

  it('the every-head sweep works (no grouped-query attention): [5, n_layers, n_heads]', () => {
    withCache(pythia, (cache) => {
      const r = getActPatchAttnHeadAllPosEvery(pythia, corrupted, cache, metric);
      expect(r.shape).toEqual([5, pythia.cfg.nLayers, pythia.cfg.nHeads]);
      r.dispose();
    });
  });
});
