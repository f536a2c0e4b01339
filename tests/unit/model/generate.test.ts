/** generate(): greedy equals a hand-written argmax loop, sampling is seeded, options are validated. */
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../../src/backend/backend.js';
import { ConfigError } from '../../../src/errors.js';
import { validateConfig } from '../../../src/model/config.js';
import { HookedTransformer } from '../../../src/model/hooked_transformer.js';
import { randomDecoderParams } from '../../../src/model/random_init.js';
import { loadTokenizer, shippedTokenizerDir } from '../../../src/tokenizers/load.js';
import { fixtureDir } from '../../helpers/fixtures.js';

let model: HookedTransformer;
const prompt = [[5, 17, 300, 42, 9]];

beforeAll(async () => {
  await initBackend(undefined, { quiet: true });
  model = await HookedTransformer.fromPretrained(fixtureDir('gpt2-tiny'), { quiet: true });
});
afterAll(() => model?.dispose());

function argmaxLoop(rows: number[][], n: number): number[][] {
  let cur = rows.map((r) => [...r]);
  for (let i = 0; i < n; i++) {
    const logits = model.logits(cur);
    const [b, p, v] = logits.shape;
    const data = logits.dataSync();
    cur = cur.map((r, bi) => {
      let best = 0;
      const off = (bi * p + p - 1) * v;
      for (let k = 1; k < v; k++) if ((data[off + k] as number) > (data[off + best] as number)) best = k;
      return [...r, best];
    });
    void b;
    logits.dispose();
  }
  return cur;
}

describe('generate', () => {
  it('temperature 0 is greedy: equals an argmax loop, and leaks nothing', () => {
    const before = tf.memory().numTensors;
    const out = model.generate(prompt, { maxNewTokens: 6, temperature: 0, stopAtEos: false });
    expect(tf.memory().numTensors).toBe(before);
    expect(out).toEqual(argmaxLoop(prompt, 6));
  });

  it('sampling is reproducible with a seed, and topK 1 is greedy', () => {
    const a = model.generate(prompt, { maxNewTokens: 8, seed: 3, stopAtEos: false });
    const b = model.generate(prompt, { maxNewTokens: 8, seed: 3, stopAtEos: false });
    const c = model.generate(prompt, { maxNewTokens: 8, seed: 4, stopAtEos: false, temperature: 5 });
    expect(a).toEqual(b);
    expect(c).not.toEqual(a);
    expect(model.generate(prompt, { maxNewTokens: 5, topK: 1, seed: 9, stopAtEos: false })).toEqual(argmaxLoop(prompt, 5));
    const nucleus = model.generate(prompt, { maxNewTokens: 5, topP: 1e-6, seed: 2, stopAtEos: false });
    expect(nucleus).toEqual(argmaxLoop(prompt, 5));
  });

  it('rejects bad options and prompts that would exceed n_ctx', () => {
    expect(() => model.generate(prompt, { temperature: -1 })).toThrow(ConfigError);
    expect(() => model.generate(prompt, { topP: 1.5 })).toThrow(/topP/);
    expect(() => model.generate(prompt, { topK: 0 })).toThrow(/topK/);
    expect(() => model.generate(prompt, { maxNewTokens: 200 })).toThrow(/n_ctx/);
  });

  it('string prompts (batch, left-padded) round-trip through the GPT-2 tokenizer', async () => {
    const cfg = validateConfig({
      modelType: 'gpt2', nLayers: 1, dModel: 16, nHeads: 2, dHead: 8, dMlp: 32, dVocab: 50257, nCtx: 64,
      actFn: 'gelu_new', eps: 1e-5, normalizationType: 'LN', attnOnly: false, bosTokenId: 50256, eosTokenId: 50256,
    });
    const tok = await loadTokenizer(shippedTokenizerDir('gpt2'));
    const m = new HookedTransformer(cfg, randomDecoderParams(cfg, { seed: 1 }), tok);
    const [short, long] = m.generate(['Hello', 'The Eiffel Tower is in'], { maxNewTokens: 3, temperature: 0, stopAtEos: false }) as string[];
    expect(short?.startsWith('Hello')).toBe(true);
    expect(long?.startsWith('The Eiffel Tower is in')).toBe(true);
    // Left padding must not change the continuation of the shorter prompt.
    const alone = m.generate('Hello', { maxNewTokens: 3, temperature: 0, stopAtEos: false });
    expect(alone).toBe(short);
    m.dispose();
  });
});
