/**
 * runWithCache with returnType 'none' stops the forward pass at the last recorded hook (the output is
 * dropped anyway): same cached values, fewer kernels, no leaked tensors; with split q/k/v inputs it
 * stops after the last recorded hook's last firing (ln1 fires once per q/k/v input); with a user hook
 * attached (which may have side effects) it runs to the end.
 */
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../../src/backend/backend.js';
import { HookedEncoder } from '../../../src/model/encoder/hooked_encoder.js';
import { HookedTransformer } from '../../../src/model/hooked_transformer.js';
import { fixtureDir } from '../../helpers/fixtures.js';

let enc: HookedEncoder;
let dec: HookedTransformer;
const ids = [[101, 203, 200, 137, 331, 102], [101, 217, 208, 102, 0, 0]];
const mask = [[1, 1, 1, 1, 1, 1], [1, 1, 1, 1, 0, 0]];
const tokens = [[999, 5, 17, 300, 42, 7, 8]];

beforeAll(async () => {
  await initBackend(undefined, { quiet: true });
  enc = await HookedEncoder.fromPretrained(fixtureDir('distilbert-tiny'), { quiet: true });
  dec = await HookedTransformer.fromPretrainedNoProcessing(fixtureDir('gpt2-tiny'), { quiet: true });
});

afterAll(() => {
  enc?.dispose();
  dec?.dispose();
});

/** Kernels run by f, and what it returned (the cache tensor at `name`, as numbers). */
async function profiled(f: () => readonly [unknown, { get(n: string): tf.Tensor; dispose(): void }], name: string): Promise<{ kernels: number; values: number[] }> {
  let values: number[] = [];
  const info = await tf.profile(() => {
    const [out, cache] = f();
    values = Array.from(cache.get(name).dataSync());
    if (out instanceof tf.Tensor) out.dispose();
    cache.dispose();
  });
  return { kernels: info.kernels.length, values };
}

describe('early stop of runWithCache', () => {
  it('encoder: hook_q of layer 0 with returnType none equals the full run, with fewer kernels and no leaks', async () => {
    const name = 'blocks.0.attn.hook_q';
    const before = tf.memory().numTensors;
    const early = await profiled(() => enc.runWithCache(ids, { attentionMask: mask, namesFilter: name, returnType: 'none' }), name);
    const full = await profiled(() => enc.runWithCache(ids, { attentionMask: mask, namesFilter: name, returnType: 'embeddings' }), name);
    expect(tf.memory().numTensors).toBe(before);
    expect(early.values).toEqual(full.values);
    expect(early.kernels).toBeLessThan(full.kernels / 2);
  });

  it('decoder: resid_post of block 0 with returnType none equals the full run, with fewer kernels', async () => {
    const name = 'blocks.0.hook_resid_post';
    const early = await profiled(() => dec.runWithCache(tokens, { namesFilter: name, returnType: 'none' }), name);
    const full = await profiled(() => dec.runWithCache(tokens, { namesFilter: name }), name);
    expect(early.values).toEqual(full.values);
    expect(early.kernels).toBeLessThan(full.kernels);
  });

  it('runs to the end when a user hook is attached; with split q/k/v inputs stops after the third ln1 firing', async () => {
    const name = 'blocks.0.attn.hook_q';
    const full = await profiled(() => enc.runWithCache(ids, { attentionMask: mask, namesFilter: name, returnType: 'embeddings' }), name);
    let fired = 0;
    enc.addHook('blocks.1.hook_resid_post', (x) => {
      fired += 1;
      return x;
    });
    try {
      const hooked = await profiled(() => enc.runWithCache(ids, { attentionMask: mask, namesFilter: name, returnType: 'none' }), name);
      expect(fired).toBe(1);
      expect(hooked.values).toEqual(full.values);
    } finally {
      enc.resetHooks();
    }
    const lnName = 'blocks.0.ln1.hook_normalized';
    const split = await profiled(() => dec.runWithCache(tokens, { namesFilter: lnName, returnType: 'none', useSplitQkvInput: true }), lnName);
    const splitFull = await profiled(() => dec.runWithCache(tokens, { namesFilter: lnName, useSplitQkvInput: true }), lnName);
    expect(split.values).toEqual(splitFull.values);
    expect(split.kernels).toBeLessThan(splitFull.kernels);
  });
});
