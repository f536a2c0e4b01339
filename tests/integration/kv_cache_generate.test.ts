/**
 * Generation with a key/value cache: identical greedy tokens with and without it on every decoder
 * fixture (GPT-2 learned positions, Llama/Mistral/Qwen2 rotary + GQA, Pythia partial rotary +
 * parallel blocks), cached logits equal full-run logits, left padding with rotary positions, and
 * no tensors left behind.
 */
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../src/backend/backend.js';
import { KvCache } from '../../src/model/forward.js';
import { HookedTransformer } from '../../src/model/hooked_transformer.js';
import { fixtureDir, type FixtureName } from '../helpers/fixtures.js';

const FIXTURES: readonly FixtureName[] = ['gpt2-tiny', 'llama-tiny', 'mistral-tiny', 'qwen2-tiny', 'pythia-tiny'];

beforeAll(async () => {
  await initBackend(undefined, { quiet: true });
});

function maxAbsDiff(a: tf.Tensor, b: tf.Tensor): number {
  return tf.tidy(() => tf.max(tf.abs(tf.sub(a, b))).dataSync()[0] ?? Infinity);
}

describe.each(FIXTURES)('%s: key/value cache', (name) => {
  let model: HookedTransformer;
  beforeAll(async () => {
    model = await HookedTransformer.fromPretrained(fixtureDir(name), { quiet: true });
  });
  afterAll(() => model?.dispose());

  it('greedy generation gives the same tokens with and without the cache', () => {
    const prompt = [[5, 17, 42, 99, 3], [7, 7, 250, 11, 60]];
    const before = tf.memory().numTensors;
    const cached = model.generate(prompt, { maxNewTokens: 12, temperature: 0, stopAtEos: false });
    const full = model.generate(prompt, { maxNewTokens: 12, temperature: 0, stopAtEos: false, useKvCache: false });
    expect(cached).toEqual(full);
    expect((cached as number[][])[0]).toHaveLength(17);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('cached step logits equal the full run at the same positions', () => {
    const rows = [[5, 17, 42, 99, 3, 8, 21], [7, 7, 250, 11, 60, 2, 9]];
    const full = model.logits(rows);
    const kv = new KvCache(model.cfg.nLayers);
    const a = model.logitsWithKvCache(rows.map((r) => r.slice(0, 4)), undefined, kv);
    const b = model.logitsWithKvCache(rows.map((r) => r.slice(4, 6)), undefined, kv);
    const c = model.logitsWithKvCache(rows.map((r) => r.slice(6)), undefined, kv);
    expect(kv.length).toBe(7);
    const stitched = tf.concat([a, b, c], 1);
    expect(maxAbsDiff(stitched, full)).toBeLessThan(1e-4);
    for (const t of [full, a, b, c, stitched]) t.dispose();
    kv.dispose();
  });

  it('left padding: a padded row equals the unpadded run at its real positions (TL position ids)', () => {
    const real = [12, 30, 7, 88, 5];
    const unpadded = model.logits([real]);
    const padded = model.logits([[0, 0, 0, ...real]], { attentionMask: [[0, 0, 0, 1, 1, 1, 1, 1]] });
    const tail = tf.slice(padded, [0, 3, 0], [1, 5, -1]);
    expect(maxAbsDiff(tail, unpadded)).toBeLessThan(1e-4);
    // The same through generation with a left-padded batch and the cache.
    const g1 = model.generate([[0, 0, 0, ...real]], { maxNewTokens: 6, temperature: 0, stopAtEos: false });
    const g2 = model.generate([[0, 0, 0, ...real]], { maxNewTokens: 6, temperature: 0, stopAtEos: false, useKvCache: false });
    expect(g1).toEqual(g2);
    for (const t of [unpadded, padded, tail]) t.dispose();
  });

  it('a failed step leaves the cache as it was', () => {
    const kv = new KvCache(model.cfg.nLayers);
    model.logitsWithKvCache([[1, 2, 3]], undefined, kv).dispose();
    const before = tf.memory().numTensors;
    expect(() => model.logitsWithKvCache([[1, 2]], [[1, 1]], kv)).toThrow(/attentionMask must be \[1, 5\]/);
    expect(() => model.logitsWithKvCache([[model.cfg.dVocab]], undefined, kv)).toThrow();
    expect(kv.length).toBe(3);
    expect(tf.memory().numTensors).toBe(before);
    kv.dispose();
  });
});
