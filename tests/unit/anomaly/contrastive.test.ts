/**
 * Contrastive fine-tuning (issue 21, item 3): InfoNCE against a hand computation on 2–3 pairs (with
 * and without in-batch negatives); the seeded character-swap augmentation; LoRA + InfoNCE training of
 * the bert-tiny fixture (with a 1,000-word WordPiece vocabulary that fits its embedding) lowers the
 * loss, leaves the base weights bit for bit, attaches an adapter, and leaks no tensor.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../../src/backend/backend.js';
import { ConfigError, DatasetError } from '../../../src/errors.js';
import { HookedEncoder } from '../../../src/model/encoder/hooked_encoder.js';
import { loadTokenizer, shippedTokenizerDir } from '../../../src/tokenizers/load.js';
import { charSwapAugment, contrastiveFinetune, infoNceLoss, typoAugment } from '../../../src/anomaly/contrastive.js';
import { fitFewShot } from '../../../src/anomaly/fewshot.js';
import { expectNoLeak } from '../../helpers/memory.js';
import { fixtureDir } from '../../helpers/fixtures.js';

const cos = (a: number[], b: number[]): number => a.reduce((s, v, i) => s + v * (b[i] as number), 0) / (Math.hypot(...a) * Math.hypot(...b));
const lse = (xs: number[]): number => {
  const m = Math.max(...xs);
  return m + Math.log(xs.reduce((s, v) => s + Math.exp(v - m), 0));
};

beforeAll(async () => {
  await initBackend(undefined, { quiet: true });
});

describe('infoNceLoss', () => {
  const A = [[1, 0, 1], [0, 2, 1], [1, 1, 0]];
  const P = [[1, 0.5, 1], [0.2, 2, 1], [2, 1, 0.3]];
  const N = [[-1, 0, 0.5], [0, -1, 1]];
  const tau = 0.5;

  it('equals the hand computation with explicit negatives', () => {
    const hand = A.map((a, i) => {
      const logits = [cos(a, P[i] as number[]), ...N.map((n) => cos(a, n))].map((v) => v / tau);
      return lse(logits) - (logits[0] as number);
    }).reduce((s, v) => s + v, 0) / A.length;
    const got = expectNoLeak(() => tf.tidy(() => infoNceLoss(tf.tensor2d(A), tf.tensor2d(P), tf.tensor2d(N), { temperature: tau }).dataSync()[0]));
    expect(got).toBeCloseTo(hand, 5);
  });

  it('equals the hand computation with in-batch negatives (2 pairs, no explicit negatives)', () => {
    const a2 = A.slice(0, 2);
    const p2 = P.slice(0, 2);
    const hand = a2.map((a, i) => {
      const own = cos(a, p2[i] as number[]) / tau;
      const others = p2.filter((_, j) => j !== i).map((p) => cos(a, p) / tau);
      return lse([own, ...others]) - own;
    }).reduce((s, v) => s + v, 0) / 2;
    const got = tf.tidy(() => infoNceLoss(tf.tensor2d(a2), tf.tensor2d(p2), undefined, { temperature: tau, inBatchNegatives: true }).dataSync()[0]);
    expect(got).toBeCloseTo(hand, 5);
  });

  it('rejects no negatives and mismatched shapes', () => {
    tf.tidy(() => {
      expect(() => infoNceLoss(tf.tensor2d(A), tf.tensor2d(P), undefined)).toThrow(ConfigError);
      expect(() => infoNceLoss(tf.tensor2d(A), tf.tensor2d(P.slice(0, 2)), tf.tensor2d(N))).toThrow(/positives/);
    });
  });
});

describe('augmentations', () => {
  it('is deterministic per seed and swaps adjacent letters', () => {
    const t = 'the quick brown fox jumps over the lazy dog';
    const a = charSwapAugment(t, 3);
    expect(charSwapAugment(t, 3)).toBe(a);
    expect(a).not.toBe(t);
    expect([...a].sort().join('')).toBe([...t].sort().join('')); // same multiset of characters
    expect(charSwapAugment('a', 0)).toBe('a');
  });

  it('typoAugment (the default) is deterministic per seed and edits the text', () => {
    const t = 'Polyester jacket, 100% cotton lining';
    expect(typoAugment(t, 5)).toBe(typoAugment(t, 5));
    expect(typoAugment(t, 5)).not.toBe(t);
    expect(typoAugment('1234 !!', 0)).toBe('1234 !!');
  });
});

describe('contrastiveFinetune on bert-tiny', () => {
  const tmp = mkdtempSync(join(tmpdir(), 'tfjs-lens-contrastive-vocab-'));
  let enc: HookedEncoder;
  beforeAll(async () => {
    await initBackend(undefined, { quiet: true });
    const words = readFileSync(join(shippedTokenizerDir('distilbert-base-uncased'), 'vocab.txt'), 'utf8').split('\n').slice(1996).filter((w) => /^[a-z]+$/.test(w));
    writeFileSync(join(tmp, 'vocab.txt'), `${['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]', ...words.slice(0, 995)].join('\n')}\n`);
    const tok = await loadTokenizer(tmp, { modelType: 'bert' });
    enc = await HookedEncoder.fromPretrained(fixtureDir('bert-tiny'), { quiet: true, tokenizer: tok });
  });
  afterAll(() => {
    enc?.dispose();
    rmSync(tmp, { recursive: true, force: true });
  });

  it('lowers the InfoNCE loss, keeps the base weights, attaches an adapter, leaks nothing', () => {
    const normal = ['the first film was good', 'what time is it', 'they said it would be there', 'the city was in the north', 'we will see you at home', 'it was a long day'];
    const anomalous = ['win money now call', 'free free free prize'];
    const base = enc.adapters.tensors(enc.adapters.baseWeights()).map((t) => Array.from(t.dataSync()));
    const before = tf.memory().numTensors;
    const r = contrastiveFinetune(enc, { normal, anomalous }, { epochs: 15, batchSize: 6, lr: 1e-2, seed: 1, quiet: true, lora: { dropout: 0 } });
    expect(r.lossAfter).toBeLessThan(r.lossBefore - 0.05);
    expect(r.stepsRun).toBe(15);
    expect(r.trainable).toBeGreaterThan(0);
    expect(enc.adapters.adapter).toBeDefined();
    const after = enc.adapters.tensors(enc.adapters.baseWeights()).map((t) => Array.from(t.dataSync()));
    expect(after).toEqual(base);
    // A detector on top runs on the adapted model.
    const det = fitFewShot(enc, [...normal.slice(0, 3).map((text) => ({ text, label: 0 as const })), ...anomalous.map((text) => ({ text, label: 1 as const }))], { method: 'knn' });
    expect(det.score(['free prize now'])[0]).toBeGreaterThanOrEqual(0);
    expect(() => contrastiveFinetune(enc, { normal })).toThrow(/adapter is attached/);
    enc.adapters.remove();
    expect(tf.memory().numTensors).toBe(before);
  });

  it('rejects too few normal texts and an attached adapter', () => {
    expect(() => contrastiveFinetune(enc, { normal: ['only one'] })).toThrow(DatasetError);
  });
});
