/**
 * Activation store: seeded mixing buffer (every row served once per pass, reproducible), the
 * `expected_average_only_in` scale, context windows, model-backed sources (equal to runWithCache),
 * and the sharded safetensors cache (written once, streamed back, usable without the model).
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../../src/backend/backend.js';
import { ConfigError } from '../../../src/errors.js';
import { HookedEncoder } from '../../../src/model/encoder/hooked_encoder.js';
import { HookedTransformer } from '../../../src/model/hooked_transformer.js';
import { ActivationStore, arrayActivationSource, modelActivationSource, tokenWindows } from '../../../src/sae/activation_store.js';
import { cacheActivations, diskActivationSource, readActivationCacheMeta } from '../../../src/sae/disk_cache.js';
import { fixtureDir } from '../../helpers/fixtures.js';

const FIXTURE = fixtureDir('gpt2-tiny');
let model: HookedTransformer;
const rows = Array.from({ length: 6 }, (_, r) => Array.from({ length: 16 }, (_, p) => (r * 37 + p * 11) % 1000));

beforeAll(async () => {
  await initBackend(undefined, { quiet: true });
  model = await HookedTransformer.fromPretrained(FIXTURE, { quiet: true });
});
afterAll(() => model.dispose());

/** Rows 0..n-1 whose first value is the row id. */
function idRows(n: number, dIn: number): Float32Array {
  return Float32Array.from({ length: n * dIn }, (_, i) => (i % dIn === 0 ? Math.floor(i / dIn) : 0.5));
}

describe('ActivationStore', () => {
  it('serves every row exactly once per pass, shuffled, and reproducibly with a seed', async () => {
    const dIn = 3;
    const take = async (seed: number): Promise<number[]> => {
      const store = new ActivationStore(arrayActivationSource(idRows(64, dIn), dIn, { chunkRows: 10, epochs: 1 }), { batchSize: 8, bufferBatches: 4, seed });
      const ids: number[] = [];
      for (let b = 0; b < 8; b++) {
        const x = await store.nextBatch();
        expect(x.length).toBe(8 * dIn);
        for (let r = 0; r < 8; r++) ids.push(x[r * dIn]!);
      }
      await expect(store.nextBatch()).rejects.toThrow(ConfigError); // exhausted after one pass
      return ids;
    };
    const a = await take(1);
    expect([...a].sort((p, q) => p - q)).toEqual(Array.from({ length: 64 }, (_, i) => i));
    expect(a).not.toEqual(Array.from({ length: 64 }, (_, i) => i));
    expect(await take(1)).toEqual(a);
    expect(await take(2)).not.toEqual(a);
  });

  it('estimateNormScalingFactor makes E‖x‖ = √d_in', async () => {
    const dIn = 16;
    const data = Float32Array.from({ length: 4096 * dIn }, (_, i) => Math.sin(i * 1.7) * 3 + 1);
    const store = new ActivationStore(arrayActivationSource(data, dIn), { batchSize: 256, seed: 0 });
    const s = await store.estimateNormScalingFactor(8);
    let mean = 0;
    for (let b = 0; b < 8; b++) {
      const x = await store.nextBatch();
      for (let r = 0; r < 256; r++) mean += Math.hypot(...x.subarray(r * dIn, (r + 1) * dIn)) / (8 * 256);
    }
    expect(s).toBeGreaterThan(0);
    expect(mean).toBeCloseTo(Math.sqrt(dIn), 1);
  });

  it('tokenWindows joins documents with BOS and starts every window with it', () => {
    expect(tokenWindows([[5, 6, 7], [8, 9]], 4, { bos: 0 })).toEqual([[0, 5, 6, 7], [0, 0, 8, 9]]);
    expect(tokenWindows([[1, 2, 3, 4, 5]], 2)).toEqual([[1, 2], [3, 4]]);
    expect(() => tokenWindows([[1]], 1, { bos: 0 })).toThrow(ConfigError);
  });
});

describe('model-backed source', () => {
  it('streams the hook activations runWithCache gives, flattened to [tokens, d_in]', async () => {
    const src = await modelActivationSource(model, 'blocks.1.hook_resid_pre', rows, { batchPrompts: 2, epochs: 1 });
    expect(src.dIn).toBe(64);
    const first = (await src.next())!;
    const [out, cache] = model.runWithCache(rows.slice(0, 2), { namesFilter: ['blocks.1.hook_resid_pre'] });
    const ref = cache.get('blocks.1.hook_resid_pre').dataSync();
    expect(first.length).toBe(2 * 16 * 64);
    let maxDiff = 0;
    for (let i = 0; i < ref.length; i++) maxDiff = Math.max(maxDiff, Math.abs(ref[i]! - first[i]!));
    expect(maxDiff).toBeLessThan(1e-5);
    (out as tf.Tensor).dispose();
    cache.dispose();
    let chunks = 1;
    while ((await src.next()) !== undefined) chunks++;
    expect(chunks).toBe(3);
  });

  it('hook_z is flattened over heads and seqposSlice drops positions', async () => {
    const src = await modelActivationSource(model, 'blocks.0.attn.hook_z', rows.slice(0, 2), { epochs: 1, seqposSlice: [1] });
    expect(src.dIn).toBe(64);
    expect((await src.next())!.length).toBe(2 * 15 * 64);
  });

  it('works with a HookedEncoder too (DistilBERT fixture)', async () => {
    const enc = await HookedEncoder.fromPretrained(fixtureDir('distilbert-tiny'), { quiet: true });
    try {
      const src = await modelActivationSource(enc, 'blocks.0.hook_resid_post', [[1, 5, 9, 2], [1, 7, 3, 2]], { epochs: 1 });
      expect((await src.next())!.length).toBe(8 * src.dIn);
    } finally {
      enc.dispose();
    }
  });

  it('does not leak tensors', async () => {
    const before = tf.memory().numTensors;
    const src = await modelActivationSource(model, 'blocks.0.hook_mlp_out', rows, { epochs: 1 });
    await src.next();
    expect(tf.memory().numTensors).toBe(before);
  });
});

describe('on-disk cache', () => {
  it('writes sharded safetensors once and streams the same rows back without the model', async () => {
    const dir = join(mkdtempSync(join(tmpdir(), 'sae-cache-')), 'blocks.1.hook_resid_pre');
    const src = await modelActivationSource(model, 'blocks.1.hook_resid_pre', rows, { epochs: 1 });
    const meta = await cacheActivations(src, dir, { nTokens: 80, shardTokens: 32, metadata: { hook_name: 'blocks.1.hook_resid_pre' } });
    expect(meta.n_tokens).toBe(80);
    expect(meta.shards.map((s) => s.n)).toEqual([32, 32, 16]);
    expect((await readActivationCacheMeta(dir)).metadata['hook_name']).toBe('blocks.1.hook_resid_pre');
    const back = await diskActivationSource(dir, { epochs: 1 });
    const parts: Float32Array[] = [];
    for (let c = await back.next(); c !== undefined; c = await back.next()) parts.push(c);
    const flat = Float32Array.from(parts.flatMap((p) => Array.from(p)));
    const direct = await modelActivationSource(model, 'blocks.1.hook_resid_pre', rows, { epochs: 1 });
    const ref = (await direct.next())!.subarray(0, 80 * 64);
    expect(Array.from(flat)).toEqual(Array.from(ref));
    const f16 = await cacheActivations(arrayActivationSource(ref, 64), `${dir}-f16`, { nTokens: 80, dtype: 'F16' });
    expect(f16.dtype).toBe('F16');
    const half = (await (await diskActivationSource(`${dir}-f16`)).next())!;
    expect(Math.max(...half.map((v, i) => Math.abs(v - ref[i]!)))).toBeLessThan(1e-2 * Math.max(...ref.map(Math.abs)));
    const store = new ActivationStore(await diskActivationSource(dir, { seed: 0 }), { batchSize: 40, seed: 0 });
    expect((await store.nextBatch()).length).toBe(40 * 64);
  });
});
