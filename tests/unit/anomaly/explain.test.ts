/**
 * Explanations (issue 21, item 4) on tiny classifiers (the seqcls-tiny DistilBERT / Llama fixtures):
 * gradient × input equals a central finite difference, integrated gradients are complete, the
 * direct-logit decomposition sums to the logit difference (exactly for the pre-norm Llama), and
 * nothing leaks.
 */
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { classifierTarget, gradTimesInput, integratedGradients, scoreRows, scoresOf, embedHookName, type ExplainTarget } from '../../../src/anomaly/explain.js';
import { deletionCurve } from '../../../src/anomaly/deletion.js';
import { classifierDla } from '../../../src/anomaly/explain_dla.js';
import { initBackend } from '../../../src/backend/backend.js';
import { ConfigError } from '../../../src/errors.js';
import { HookedEncoder } from '../../../src/model/encoder/hooked_encoder.js';
import { HookedTransformer } from '../../../src/model/hooked_transformer.js';
import { gradientsAtHooks } from '../../../src/patching/gradients.js';
import { expectNoLeak } from '../../helpers/memory.js';
import { fixtureDir } from '../../helpers/fixtures.js';

let enc: HookedEncoder;
let dec: HookedTransformer;
const IDS = [101, 203, 204, 107, 331, 102];
const DEC_IDS = [5, 17, 33, 8, 41];

beforeAll(async () => {
  await initBackend('cpu', { quiet: true });
  enc = await HookedEncoder.fromPretrained(fixtureDir('seqcls-tiny/distilbert'), { quiet: true });
  dec = await HookedTransformer.fromPretrainedNoProcessing(fixtureDir('seqcls-tiny/llama'), { quiet: true });
});
afterAll(() => {
  enc?.dispose();
  dec?.dispose();
});

/** Score with token t's embedding scaled by (1 + eps). */
function scaledScore(target: ExplainTarget, ids: readonly number[], t: number, eps: number): number {
  const hook = (x: tf.Tensor): tf.Tensor => {
    const s = tf.tensor3d(ids.map((_, i) => (i === t ? 1 + eps : 1)), [1, ids.length, 1]);
    return tf.mul(x, s);
  };
  const r = scoreRows(target, [ids], [ids.map(() => 1)], { fwdHooks: [[embedHookName(target.model), hook]] });
  const v = r.dataSync()[0] as number;
  r.dispose();
  return v;
}

describe('gradient × input', () => {
  it('equals a central finite difference along each token embedding (encoder and decoder)', () => {
    for (const [m, ids] of [[enc, IDS], [dec, DEC_IDS]] as const) {
      const target = classifierTarget(m);
      const a = expectNoLeak(() => gradTimesInput(target, ids));
      expect(a.attributions).toHaveLength(ids.length);
      const eps = 1e-2;
      ids.forEach((_, t) => {
        const fd = (scaledScore(target, ids, t, eps) - scaledScore(target, ids, t, -eps)) / (2 * eps);
        expect(Math.abs((a.attributions[t] as number) - fd)).toBeLessThan(1e-3 + 0.02 * Math.abs(fd));
      });
      // The score is the head's logit difference.
      const l = m.classify([ids]);
      const row = (l.arraySync() as number[][])[0] as number[];
      l.dispose();
      expect(a.score).toBeCloseTo((row[1] as number) - (row[0] as number), 4);
    }
  });

  it('equals Σ_d act · grad from gradientsAtHooks at hook_embed (decoder)', () => {
    const a = gradTimesInput(classifierTarget(dec), DEC_IDS);
    const metric = (l: tf.Tensor): tf.Scalar => tf.sum(tf.sub(tf.slice(l, [0, 1], [1, 1]), tf.slice(l, [0, 0], [1, 1])));
    const { value, grads, cache } = gradientsAtHooks(dec, [DEC_IDS], metric, 'hook_embed', { cacheActivations: true });
    const ref = tf.tidy(() => tf.sum(tf.mul(grads.get('hook_embed'), cache?.get('hook_embed') as tf.Tensor), [0, 2]));
    Array.from(ref.dataSync()).forEach((x, t) => expect(a.attributions[t]).toBeCloseTo(x, 5));
    expect(a.score).toBeCloseTo(value, 5);
    ref.dispose();
    grads.dispose();
    cache?.dispose();
  });

  it('a padded row is explained on its real tokens only', () => {
    const target = classifierTarget(enc);
    const a = gradTimesInput(target, [...IDS, 0, 0], [...IDS.map(() => 1), 0, 0]);
    const b = gradTimesInput(target, IDS);
    expect(a.attributions).toHaveLength(IDS.length);
    a.attributions.forEach((v, i) => expect(v).toBeCloseTo(b.attributions[i] as number, 5));
  });
});

describe('integrated gradients', () => {
  it('completeness: Σ attributions ≈ score − baseline score (pad and zero baselines), no leak', () => {
    // The Llama fixture's pad embedding is 0, where RMSNorm is discontinuous (the score jumps between
    // α = 0 and α = 1e-4): its baseline is another token's embedding.
    const cases = [[enc, IDS, { baseline: 'pad' }], [enc, IDS, { baseline: 'zero' }], [dec, DEC_IDS, { baseline: 'pad', padTokenId: 3 }]] as const;
    for (const [m, ids, base] of cases) {
      const a = expectNoLeak(() => integratedGradients(classifierTarget(m), ids, undefined, { steps: 64, ...base }));
      const delta = a.score - (a.baselineScore as number);
      const total = a.attributions.reduce((s, v) => s + v, 0);
      expect(Math.abs(total - delta)).toBeLessThan(5e-3 + 0.02 * Math.abs(delta));
      expect(a.completenessGap).toBeCloseTo(total - delta, 6);
    }
  });

  it('the baseline score is the score of a row of pad embeddings', () => {
    const a = integratedGradients(classifierTarget(enc), IDS, undefined, { steps: 2 });
    const pad = enc.cfg.padTokenId ?? 0;
    const s = scoreRows(classifierTarget(enc), [IDS], [IDS.map(() => 1)], { fwdHooks: [['embed.hook_embed', (x) => tf.mul(tf.onesLike(x), tf.reshape(tf.gather(enc.params.W_E, [pad]), [1, 1, -1]))]] });
    expect(a.baselineScore).toBeCloseTo(s.dataSync()[0] as number, 5);
    s.dispose();
  });

  it('rejects steps < 1 and a model without a head', () => {
    expect(() => integratedGradients(classifierTarget(enc), IDS, undefined, { steps: 0 })).toThrow(ConfigError);
    expect(() => classifierTarget(enc, 5)).toThrow(/outside \[0, 2\)/);
  });
});

describe('deletion on a decoder classifier', () => {
  it('rows of different lengths padded with the head pad id score as they do alone', () => {
    const t = classifierTarget(dec);
    const attrs = [DEC_IDS, DEC_IDS.slice(0, 4).reverse()].map((ids) => gradTimesInput(t, ids));
    const c = deletionCurve(t, attrs, { maxK: 2, randomDraws: 1 });
    // Top-1 deletion recomputed one row at a time.
    attrs.forEach((a, i) => {
      const top = a.attributions.indexOf(Math.max(...a.attributions));
      const alone = scoresOf(t, [a.ids.filter((_, j) => j !== top)], [a.ids.slice(1).map(() => 1)])[0] as number;
      expect(c.perText[i]?.top[0]).toBeCloseTo(a.score - alone, 4);
    });
  });
});

describe('direct-logit decomposition', () => {
  it('Llama (pre-norm, linear score head): exact, remainder ≈ 0; parts + remainder = logit diff', () => {
    const d = expectNoLeak(() => classifierDla(dec, DEC_IDS));
    expect(d.method).toBe('exact_frozen_norm_scale');
    expect(d.parts.filter((p) => p.head !== undefined)).toHaveLength(dec.cfg.nLayers * dec.cfg.nHeads);
    const total = d.parts.reduce((s, p) => s + p.value, 0);
    expect(total + d.remainder).toBeCloseTo(d.logitDiff, 5);
    expect(Math.abs(d.remainder)).toBeLessThan(1e-3 * Math.max(1, Math.abs(d.logitDiff)));
    const l = dec.classify([DEC_IDS]);
    const row = (l.arraySync() as number[][])[0] as number[];
    l.dispose();
    expect(d.logitDiff).toBeCloseTo((row[1] as number) - (row[0] as number), 4);
  });

  it('DistilBERT (post-LN): linearised parts + remainder = logit diff; every head and MLP present', () => {
    const d = expectNoLeak(() => classifierDla(enc, IDS));
    expect(d.method).toBe('linearised_grad_x_activation');
    expect(d.parts).toHaveLength(1 + enc.cfg.nLayers * (enc.cfg.nHeads + 1));
    const total = d.parts.reduce((s, p) => s + p.value, 0);
    expect(total + d.remainder).toBeCloseTo(d.logitDiff, 6);
    expect(d.parts.every((p) => Number.isFinite(p.value))).toBe(true);
  });
});
