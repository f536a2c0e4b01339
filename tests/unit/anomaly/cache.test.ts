import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync, mkdirSync, copyFileSync, utimesSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { anomalyCachePath, cachedEmbeddings, cachedPredictions, modelWeightsHash } from '../../../src/anomaly/cache.js';
import { ConfigError, ShapeError } from '../../../src/errors.js';
import { readSafetensorsFile } from '../../../src/io/safetensors.js';
import { cachedFeatures, hashTexts } from '../../../src/probe/feature_cache.js';
import type { FeatureMatrix } from '../../../src/probe/matrix.js';

let dir = '';
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'anomaly-cache-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const texts = ['free prize!!', 'see you at 5', 'call now'];
const emb = (): FeatureMatrix => ({ rows: 3, cols: 2, data: Float32Array.from([1, 2, 3, 4, 5, 6]) });
const key = { model: 'distilbert-mini', revision: 'sha256-aaaa', hookName: 'blocks.0.attn.hook_q', texts, options: { pooling: 'mean', maxLength: 64 } };

describe('cachedEmbeddings', () => {
  it('a second call is a hit (the model is not run)', async () => {
    let calls = 0;
    const compute = (): FeatureMatrix => (calls++, emb());
    const a = await cachedEmbeddings(dir, key, compute);
    const b = await cachedEmbeddings(dir, { ...key, options: { maxLength: 64, pooling: 'mean' } }, compute); // option order does not matter
    expect([a.hit, b.hit, calls]).toEqual([false, true, 1]);
    expect(Array.from(b.value.data)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(b.path).toBe(a.path);
    // the text hash can be passed instead of the texts
    expect((await cachedEmbeddings(dir, { ...key, texts: { hash: hashTexts(texts) } }, compute)).hit).toBe(true);
  });
  it('a changed model hash, option, hook or text misses', async () => {
    let calls = 0;
    const compute = (): FeatureMatrix => (calls++, emb());
    await cachedEmbeddings(dir, key, compute);
    for (const k of [{ ...key, revision: 'sha256-bbbb' }, { ...key, options: { pooling: 'max', maxLength: 64 } }, { ...key, hookName: 'blocks.1.attn.hook_q' }, { ...key, texts: [...texts.slice(0, 2), 'call now!'] }]) {
      expect((await cachedEmbeddings(dir, k, compute)).hit).toBe(false);
    }
    expect(calls).toBe(5);
  });
  it('a corrupt cache file is detected and recomputed', async () => {
    let calls = 0;
    const compute = (): FeatureMatrix => (calls++, emb());
    const { path } = await cachedEmbeddings(dir, key, compute);
    const bytes = readFileSync(path);
    bytes[bytes.length - 3] = (bytes[bytes.length - 3] as number) ^ 0xff; // flip bits in the data: still parses, checksum fails
    writeFileSync(path, bytes);
    const r = await cachedEmbeddings(dir, key, compute);
    expect([r.hit, calls]).toEqual([false, 2]);
    writeFileSync(path, bytes.subarray(0, 20)); // truncated: does not parse
    expect((await cachedEmbeddings(dir, key, compute)).hit).toBe(false);
    expect((await cachedEmbeddings(dir, key, compute)).hit).toBe(true);
    expect(calls).toBe(3);
  });
  it('checks the row count against the texts', async () => {
    await expect(cachedEmbeddings(dir, key, () => ({ rows: 1, cols: 1, data: Float32Array.from([1]) }))).rejects.toThrow(ShapeError);
  });
});

describe('cachedPredictions', () => {
  const pk = { detector: 'tfidf-knn', texts, options: { k: 5 } };
  it('round-trips vectors and rows, keyed by detector identity and options', async () => {
    let calls = 0;
    const v = await cachedPredictions(dir, pk, () => (calls++, [0.5, 0.25, 1]));
    const v2 = await cachedPredictions(dir, pk, () => (calls++, [9, 9, 9]));
    expect([v.hit, v2.hit, calls]).toEqual([false, true, 1]);
    expect(v2.value).toEqual([0.5, 0.25, 1]);
    expect((await cachedPredictions(dir, { ...pk, detector: 'lora', model: 'distilbert-mini', revision: 'r1' }, () => (calls++, [[1], [2], [3]]))).hit).toBe(false);
    const rows2 = await cachedPredictions(dir, { ...pk, detector: 'lora', model: 'distilbert-mini', revision: 'r1' }, () => (calls++, [[0], [0], [0]]));
    expect(rows2.value).toEqual([[1], [2], [3]]); // a one-column matrix stays rows
    expect(rows2.hit).toBe(true);
    expect((await cachedPredictions(dir, { ...pk, options: { k: 7 } }, () => (calls++, [1, 2, 3]))).hit).toBe(false);
    expect((await cachedPredictions(dir, { ...pk, detector: 'lora', model: 'distilbert-mini', revision: 'r2' }, () => (calls++, [[1], [2], [3]]))).hit).toBe(false);
    expect(calls).toBe(4);
  });
  it('concurrent writers leave one whole file and a reader never sees a partial one', async () => {
    const n = 200_000;
    const big = Array.from({ length: n }, (_, i) => i / n);
    const k = { detector: 'big', texts: { hash: 'h' }, options: {} };
    const path = anomalyCachePath(dir, 'prediction', k);
    let stop = false;
    const reader = (async () => {
      while (!stop) {
        try {
          const { tensors } = await readSafetensorsFile(path);
          expect(tensors.get('features')?.data.length).toBe(n);
        } catch (e) {
          expect(String(e)).toMatch(/not found|ENOENT|no such file/i); // absent before the first rename, never partial
        }
        await new Promise((r) => setTimeout(r, 0));
      }
    })();
    const writers = await Promise.all(Array.from({ length: 6 }, () => cachedPredictions(dir, k, async () => {
      await new Promise((r) => setTimeout(r, 5));
      return big;
    }, { force: true })));
    stop = true;
    await reader;
    expect(writers.every((w) => !w.hit)).toBe(true);
    expect(readdirSync(join(dir, 'prediction'))).toEqual([path.split('/').pop()]); // no temp files left
    const again = await cachedPredictions(dir, k, () => [] as number[]);
    expect(again.hit).toBe(true);
    expect(again.value.length).toBe(n);
  });
});

describe('cachedFeatures (probe) with checksums', () => {
  it('still hits, and recomputes a corrupt file', async () => {
    const fk = { model: 'm', revision: 'r', hookName: 'h', dataset: 'd/train', maxLength: 8, textsHash: 'x' };
    let calls = 0;
    const a = await cachedFeatures(dir, fk, () => (calls++, emb()));
    expect((await cachedFeatures(dir, fk, () => (calls++, emb()))).hit).toBe(true);
    const bytes = readFileSync(a.path);
    bytes[bytes.length - 1] = (bytes[bytes.length - 1] as number) ^ 0x01;
    writeFileSync(a.path, bytes);
    expect((await cachedFeatures(dir, fk, () => (calls++, emb()))).hit).toBe(false);
    expect(calls).toBe(2);
  });
});

describe('modelWeightsHash', () => {
  it('changes when the weights change, not when only the mtime does', async () => {
    const m = join(dir, 'model');
    mkdirSync(m);
    writeFileSync(join(m, 'config.json'), '{"model_type":"bert"}');
    writeFileSync(join(m, 'model.safetensors'), Buffer.from([1, 2, 3, 4]));
    const h1 = await modelWeightsHash(m);
    utimesSync(join(m, 'model.safetensors'), new Date(1e12), new Date(1e12));
    expect(await modelWeightsHash(m)).toBe(h1);
    writeFileSync(join(m, 'model.safetensors'), Buffer.from([1, 2, 3, 5])); // same size, other bytes
    const h2 = await modelWeightsHash(m);
    expect(h2).not.toBe(h1);
    copyFileSync(join(m, 'model.safetensors'), join(m, 'adapter_model.safetensors'));
    expect(await modelWeightsHash(m)).not.toBe(h2);
    await expect(modelWeightsHash(join(dir, 'nope'))).rejects.toThrow(ConfigError);
  });
});
