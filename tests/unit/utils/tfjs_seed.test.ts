/**
 * tfjs reads a random op's seed as `seed || Math.random()`, so seed 0 meant "unseeded" and every
 * seed-0 initialisation (random models, classifier heads, LoRA A matrices, VAE sampling) differed
 * from run to run. tfjsSeed maps 0 to a fixed constant; these tests fail if a seed-0 draw is random.
 */
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../../src/backend/backend.js';
import { randomClassifierHead } from '../../../src/model/classifier/head_params.js';
import { labelConfigFromHf } from '../../../src/model/classifier/labels.js';
import { validateConfig } from '../../../src/model/config.js';
import { disposeParams } from '../../../src/model/params.js';
import { randomDecoderParams } from '../../../src/model/random_init.js';
import { tfjsSeed } from '../../../src/utils/rng.js';

beforeAll(async () => {
  await initBackend(undefined, { quiet: true });
});

const sum = (t: tf.Tensor): number => tf.tidy(() => t.sum().dataSync()[0] as number);

describe('tfjsSeed', () => {
  it('maps 0 (and NaN) to a fixed non-zero seed and leaves every other seed as it is', () => {
    expect(tfjsSeed(0)).not.toBe(0);
    expect(tfjsSeed(0)).toBe(tfjsSeed(0));
    expect(tfjsSeed(Number.NaN)).toBe(tfjsSeed(0));
    for (const s of [1, 7, -3, 123456789]) expect(tfjsSeed(s)).toBe(s);
  });

  it('a seed-0 random model is the same tensor for tensor in two draws', () => {
    const cfg = validateConfig({ modelType: 'gpt2' as const, nLayers: 1, dModel: 8, nHeads: 2, dHead: 4, dMlp: 16, dVocab: 20, nCtx: 8, actFn: 'gelu_new', eps: 1e-5, normalizationType: 'LN', attnOnly: false, bosTokenId: 0, eosTokenId: 0 });
    const a = randomDecoderParams(cfg, { seed: 0 });
    const b = randomDecoderParams(cfg, { seed: 0 });
    expect(sum(a.W_E)).toBe(sum(b.W_E));
    expect(sum(a.blocks[0]?.attn.wQ as tf.Tensor)).toBe(sum(b.blocks[0]?.attn.wQ as tf.Tensor));
    disposeParams(a);
    disposeParams(b);
  });

  it('a seed-0 classifier head is the same in two draws', () => {
    const labels = labelConfigFromHf({ id2label: { '0': 'ham', '1': 'spam' } });
    const h1 = randomClassifierHead('distilbert', 16, labels, { seed: 0 });
    const h2 = randomClassifierHead('distilbert', 16, labels, { seed: 0 });
    expect(Array.from(h1.params.W.dataSync())).toEqual(Array.from(h2.params.W.dataSync()));
    for (const h of [h1, h2]) tf.dispose([h.params.W, ...(h.params.b === undefined ? [] : [h.params.b]), ...(h.params.dense === undefined ? [] : [h.params.dense.W, h.params.dense.b])]);
  });
});
