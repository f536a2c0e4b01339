/**
 * Attention rollout (rows sum to 1; equals a hand computation on a 2-layer, 2-head pattern) and the
 * deletion check on a planted encoder where one token decides the score: every block is zero, so the
 * hidden state of a token is LayerNorm(W_E[token]); the planted token's embedding is 3·v and every
 * other token's is orthogonal to v (v zero-mean, unit), so the score Σ_pos h[pos]·v is √d times the
 * number of planted tokens. Integrated gradients must rank it first and deleting it must remove the
 * whole score, more than deleting random tokens.
 */
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deletionCurve } from '../../../src/anomaly/deletion.js';
import { integratedGradients, scoresOf, type ExplainTarget } from '../../../src/anomaly/explain.js';
import { attentionRollout, rolloutAttribution } from '../../../src/anomaly/rollout.js';
import { initBackend } from '../../../src/backend/backend.js';
import { ConfigError, ShapeError } from '../../../src/errors.js';
import type { EncoderConfig } from '../../../src/model/encoder/encoder_config.js';
import { HookedEncoder } from '../../../src/model/encoder/hooked_encoder.js';
import { randomEncoderParams } from '../../../src/model/encoder/random_encoder.js';
import { seededRng } from '../../../src/utils/rng.js';
import { expectNoLeak } from '../../helpers/memory.js';
import { fixtureDir } from '../../helpers/fixtures.js';

const D = 16;
const PLANT = 7;
const cfg: EncoderConfig = { modelType: 'distilbert', nLayers: 2, dModel: D, nHeads: 2, dHead: 8, dMlp: 32, dVocab: 20, nCtx: 32, typeVocabSize: 0, actFn: 'gelu', eps: 1e-12, padTokenId: 0 };
let planted: HookedEncoder;
let v: tf.Tensor1D;

beforeAll(async () => {
  await initBackend('cpu', { quiet: true });
  const rand = seededRng(1);
  const raw = Array.from({ length: D }, () => rand() - 0.5);
  const m = raw.reduce((a, b) => a + b, 0) / D;
  const centred = raw.map((x) => x - m);
  const n = Math.sqrt(centred.reduce((a, b) => a + b * b, 0));
  const vArr = centred.map((x) => x / n); // zero-mean, unit
  const rows = Array.from({ length: cfg.dVocab }, (_, t) => {
    if (t === PLANT) return vArr.map((x) => 3 * x);
    const e = Array.from({ length: D }, () => rand() - 0.5);
    const dot = e.reduce((a, x, i) => a + x * (vArr[i] as number), 0);
    return e.map((x, i) => x - dot * (vArr[i] as number)); // orthogonal to v
  });
  const p = randomEncoderParams(cfg, { std: 0, mlmHead: false });
  p.W_E.dispose();
  planted = new HookedEncoder(cfg, { ...p, W_E: tf.tensor2d(rows) });
  v = tf.tensor1d(vArr);
});
afterAll(() => {
  planted?.dispose();
  v?.dispose();
});

/** Σ over real positions of h[pos] · v. */
function plantedTarget(): ExplainTarget {
  return {
    model: planted, returnType: 'embeddings', name: 'Σ h·v',
    score: (out, rows) => tf.tidy(() => {
      const mask = tf.tensor2d(rows.mask.map((r) => [...r]), undefined, 'float32'); // [batch, pos]
      const proj = tf.sum(tf.mul(out, v), -1); // [batch, pos]
      return tf.sum(tf.mul(proj, mask), -1) as tf.Tensor1D; // [batch]
    }),
  };
}

describe('attention rollout', () => {
  it('equals the hand computation on a 2-layer, 2-head pattern; rows sum to 1', () => {
    const l0 = [[[1, 0], [0.5, 0.5]], [[1, 0], [0.1, 0.9]]];
    const l1 = [[[0.6, 0.4], [0.2, 0.8]], [[0.4, 0.6], [0.4, 0.6]]];
    // Â0 = ([[1,0],[.3,.7]] + I)/2 = [[1,0],[.15,.85]]; Â1 = ([[.5,.5],[.3,.7]] + I)/2 = [[.75,.25],[.15,.85]]; R = Â1·Â0.
    const r = attentionRollout([l0, l1]);
    const want = [[0.75 + 0.25 * 0.15, 0.25 * 0.85], [0.15 + 0.85 * 0.15, 0.85 * 0.85]];
    r.forEach((row, i) => row.forEach((x, j) => expect(x).toBeCloseTo(want[i]?.[j] as number, 10)));
    for (const row of r) expect(row.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 10);
    expect(() => attentionRollout([])).toThrow(ShapeError);
  });

  it('on a model: the [CLS] row of the rollout of its cached patterns, summing to 1, no leak', async () => {
    const enc = await HookedEncoder.fromPretrained(fixtureDir('seqcls-tiny/distilbert'), { quiet: true });
    try {
      const ids = [101, 203, 204, 107, 331, 102];
      const a = expectNoLeak(() => rolloutAttribution(enc, ids));
      expect(a.attributions).toHaveLength(ids.length);
      expect(a.attributions.reduce((s, x) => s + x, 0)).toBeCloseTo(1, 5);
      expect(a.attributions.every((x) => x >= 0)).toBe(true);
      const [, cache] = enc.runWithCache([ids], { returnType: 'none' });
      const pats = [0, 1].map((l) => (cache.get(`blocks.${l}.attn.hook_pattern`).arraySync() as number[][][][])[0] as number[][][]);
      cache.dispose();
      attentionRollout(pats)[0]?.forEach((x, j) => expect(a.attributions[j]).toBeCloseTo(x, 6));
    } finally {
      enc.dispose();
    }
  });
});

describe('deletion curve on a planted model', () => {
  const texts = [0, 1, 2, 3, 4, 5].map((p) => [1, ...[10, 11, 12, 13, 14, 15].map((t, i) => (i === p ? PLANT : t + (p % 3))), 2]);

  it('the planted score is √d per planted token', () => {
    const s = scoresOf(plantedTarget(), texts, texts.map((r) => r.map(() => 1)));
    for (const x of s) expect(x).toBeCloseTo(Math.sqrt(D), 2);
  });

  it('IG ranks the planted token first; top-1 deletion removes the score, more than random at every k; no leak', () => {
    const target = plantedTarget();
    const attrs = texts.map((ids) => integratedGradients(target, ids, undefined, { steps: 64, baseline: 'pad' }));
    attrs.forEach((a, t) => {
      const top = a.attributions.indexOf(Math.max(...a.attributions));
      expect(a.ids[top]).toBe(PLANT);
      expect(Math.abs(a.completenessGap as number)).toBeLessThan(0.05 * Math.sqrt(D));
      expect(t).toBeGreaterThanOrEqual(0);
    });
    const c = expectNoLeak(() => deletionCurve(target, attrs, { maxK: 5, randomDraws: 8, seed: 3 }));
    expect(c.topK[0]?.mean).toBeCloseTo(Math.sqrt(D), 2);
    expect(c.topK[0]?.std).toBeLessThan(1e-2);
    expect(c.random[0]?.mean).toBeLessThan(0.5 * Math.sqrt(D));
    expect(c.topBeatsRandom).toBe(true);
    expect(c.topK.map((p) => p.k)).toEqual([1, 2, 3, 4, 5]);
    // 'replace' with a neutral token gives the same top-k drops.
    const r = deletionCurve(target, attrs, { maxK: 2, mode: 'replace', replaceId: 3, randomDraws: 2 });
    expect(r.topK[0]?.mean).toBeCloseTo(Math.sqrt(D), 2);
  });

  it('a shuffled attribution is not better than random at k = 1 on average (the check can fail)', () => {
    const target = plantedTarget();
    // Rank the planted token last: top-1 deletion removes nothing.
    const attrs = texts.map((ids) => ({ method: 'anti', ids, attributions: ids.map((t) => (t === PLANT ? -1 : 1)), score: Math.sqrt(D) }));
    const c = deletionCurve(target, attrs, { maxK: 3 });
    expect(c.topK[0]?.mean).toBeCloseTo(0, 2);
    expect(c.topBeatsRandom).toBe(false);
  });

  it('rejects a bad maxK and replace without an id', () => {
    expect(() => deletionCurve(plantedTarget(), [], { maxK: 0 })).toThrow(ConfigError);
    expect(() => deletionCurve(plantedTarget(), [], { mode: 'replace' })).toThrow(/replaceId/);
  });
});
