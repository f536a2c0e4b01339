/**
 * Model-level loading of GPT-2 checkpoints in every layout we accept, checked on numbers: the
 * logits of each variant must match the fixture's Hugging Face logits (`hf/logits`) or those of
 * the model loaded from the original folder. Also: hub download + cache reuse through
 * `HookedTransformer.fromPretrained`, typed errors for bad checkpoints and inputs, and no tensor leaks.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { initBackend } from '../../src/backend/backend.js';
import { ConfigError, NotFoundError, TokenizerError, WeightLoadError } from '../../src/errors.js';
import { readSafetensorsFile, type TensorToWrite } from '../../src/io/safetensors.js';
import { HookedTransformer } from '../../src/model/hooked_transformer.js';
import type { FromPretrainedOptions } from '../../src/model/load_decoder.js';
import { startTestHub, type TestHub } from '../unit/io/hub_server.js';
import {
  attnBuffers,
  expectAllClose,
  fixtureTensors,
  handMadeHubCache,
  renamed,
  writeCheckpoint,
  writeSharded,
  type TensorSet,
} from '../helpers/gpt2_checkpoint.js';
import { expectMatchesRef, loadReference, refRows, type Reference } from '../helpers/reference.js';
import { fixtureDir } from '../helpers/fixtures.js';

const FIXTURE = fixtureDir('gpt2-tiny');
const HF_ENV = ['HF_TOKEN', 'HF_HUB_OFFLINE', 'HF_ENDPOINT', 'HF_HUB_CACHE', 'HF_HOME', 'HF_HUB_DOWNLOAD_TIMEOUT'];

let ref: Reference;
let tokens: number[][];
let root = '';
let dirs = 0;
/** The fixture's tensors (`transformer.`-prefixed keys, F32, no lm_head.weight). */
let base: TensorSet;
/** Logits of the unprocessed model loaded from the fixture folder itself. */
let baseLogits: Float32Array;
let nLayers = 0;
let nCtx = 0;

const newDir = (name: string): string => join(root, `${dirs++}-${name}`);
const stripPrefix = (n: string): string => n.replace(/^transformer\./, '');

/** Load `nameOrPath`, return its logits on the fixture tokens; the model is always disposed. */
async function logitsOf(nameOrPath: string, opts: FromPretrainedOptions = {}, processed = false): Promise<tf.Tensor3D> {
  const load = processed ? HookedTransformer.fromPretrained : HookedTransformer.fromPretrainedNoProcessing;
  const model = await load.call(HookedTransformer, nameOrPath, { quiet: true, ...opts });
  try {
    return model.logits(tokens);
  } finally {
    model.dispose();
  }
}

/** Logits of `nameOrPath` (unprocessed) checked against `hf/logits`; returns their values. */
async function expectHfLogits(nameOrPath: string): Promise<Float32Array> {
  const logits = await logitsOf(nameOrPath);
  try {
    expectMatchesRef(logits, ref, 'hf/logits');
    return logits.dataSync() as Float32Array;
  } finally {
    logits.dispose();
  }
}

/** Load expecting a rejection; checks no tensor leaked; returns the error. */
async function loadError(nameOrPath: string, opts: FromPretrainedOptions = {}): Promise<Error> {
  const before = tf.memory().numTensors;
  try {
    (await HookedTransformer.fromPretrainedNoProcessing(nameOrPath, { quiet: true, ...opts })).dispose();
  } catch (err) {
    expect(tf.memory().numTensors, 'tensors leaked by a failed load').toBe(before);
    return err as Error;
  }
  throw new TypeError(`expected loading ${nameOrPath} to fail`);
}

beforeAll(async () => {
  await initBackend(undefined, { quiet: true });
  ref = loadReference(FIXTURE);
  tokens = refRows(ref, 'inputs/input_ids');
  root = await mkdtemp(join(tmpdir(), 'tfjs-lens-loading-'));
  base = await fixtureTensors(FIXTURE);
  const model = await HookedTransformer.fromPretrainedNoProcessing(FIXTURE, { quiet: true });
  ({ nLayers, nCtx } = model.cfg);
  const logits = model.logits(tokens);
  expectMatchesRef(logits, ref, 'hf/logits');
  baseLogits = logits.dataSync() as Float32Array;
  logits.dispose();
  model.dispose();
});

afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

beforeEach(() => {
  for (const k of HF_ENV) vi.stubEnv(k, ''); // '' counts as unset: isolate from the developer's environment
});

afterEach(() => {
  vi.unstubAllEnvs();
  vi.restoreAllMocks();
});

describe('checkpoint layouts give the same logits', () => {
  it('hub key layout (no transformer. prefix) with attn.bias / masked_bias buffers → hf/logits', async () => {
    const tensors = renamed(base, stripPrefix);
    for (const [k, t] of attnBuffers(nLayers, nCtx)) tensors.set(k, t);
    const dir = await writeCheckpoint(newDir('hub-keys'), FIXTURE, tensors);
    const names = [...(await readSafetensorsFile(join(dir, 'model.safetensors'))).tensors.keys()];
    expect(names.some((n) => n.startsWith('transformer.'))).toBe(false);
    expect(names).toEqual(expect.arrayContaining(['wte.weight', 'h.0.attn.c_attn.weight', 'h.1.attn.bias', 'h.1.attn.masked_bias']));
    expectAllClose(await expectHfLogits(dir), baseLogits, 0, 'hub layout vs fixture');
  });

  it('an explicit tied lm_head.weight → hf/logits; an untied one is really used', async () => {
    const wte = base.get('transformer.wte.weight') as TensorToWrite;
    const tied = new Map(base).set('lm_head.weight', wte);
    expectAllClose(await expectHfLogits(await writeCheckpoint(newDir('tied'), FIXTURE, tied)), baseLogits, 0, 'tied');

    // lm_head = 2·wte: logits = ln_f(x)·lm_headᵀ (no unembed bias) are exactly doubled.
    const doubled = Float32Array.from(wte.data, (v) => 2 * v);
    const untied = new Map(base).set('lm_head.weight', { ...wte, data: doubled });
    const logits = await logitsOf(await writeCheckpoint(newDir('untied'), FIXTURE, untied));
    expectAllClose(logits.dataSync(), baseLogits.map((v) => 2 * v), 1e-5, 'lm_head = 2·wte');
    logits.dispose();
  });

  it('sharded checkpoint (index + 2 shards, no model.safetensors) → hf/logits', async () => {
    const dir = await writeCheckpoint(newDir('sharded'), FIXTURE, undefined);
    const shards = await writeSharded(dir, base, 2);
    expect(shards).toEqual(['model-00001-of-00002.safetensors', 'model-00002-of-00002.safetensors']);
    for (const s of shards) expect((await readSafetensorsFile(join(dir, s))).tensors.size).toBeLessThan(base.size);
    expectAllClose(await expectHfLogits(dir), baseLogits, 0, 'sharded vs fixture');
  });

  it('F16 checkpoint loads; logits within 5e-2 of the F32 ones', async () => {
    const f16: TensorSet = new Map([...base].map(([k, t]) => [k, { ...t, dtype: 'F16' as const }]));
    const dir = await writeCheckpoint(newDir('f16'), FIXTURE, f16);
    const stored = (await readSafetensorsFile(join(dir, 'model.safetensors'))).tensors;
    expect(new Set([...stored.values()].map((t) => t.dtype))).toEqual(new Set(['F16']));
    const logits = await logitsOf(dir);
    // F16 keeps 11 significant bits: each weight moves by up to 2^-11 relative (~4.9e-4). Summed over
    // d_model = 64 products, two blocks and the tied unembedding, that is O(1e-2) at most on logits of
    // magnitude up to ~7 (measured: 8.1e-3 max). 5e-2 leaves a ~6× margin yet is far below the logit
    // spread (±7), so a mis-decoded F16 tensor (wrong exponent, byte order, data read as F32) fails.
    const maxAbs = expectAllClose(logits.dataSync(), baseLogits, 5e-2, 'F16 vs F32');
    expect(maxAbs).toBeGreaterThan(0); // the F16 rounding really happened
    logits.dispose();
  });
});

describe('bad checkpoints → WeightLoadError naming the tensors', () => {
  it('missing tensors are listed', async () => {
    const tensors = new Map(base);
    tensors.delete('transformer.h.1.mlp.c_fc.bias');
    tensors.delete('transformer.ln_f.weight');
    const err = await loadError(await writeCheckpoint(newDir('missing'), FIXTURE, tensors));
    expect(err).toBeInstanceOf(WeightLoadError);
    expect(err.message).toMatch(/missing \(2\): ln_f\.weight, h\.1\.mlp\.c_fc\.bias/);
    expect(err.message).not.toMatch(/unexpected|wrong shapes/);
  });

  it('unexpected tensors are listed', async () => {
    const extra: TensorToWrite = { dtype: 'F32', shape: [2], data: [1, 2] };
    const tensors = new Map(base).set('transformer.h.0.attn.rotary_emb', extra).set('score.weight', extra);
    const err = await loadError(await writeCheckpoint(newDir('unexpected'), FIXTURE, tensors));
    expect(err).toBeInstanceOf(WeightLoadError);
    expect(err.message).toMatch(/unexpected \(2\): (h\.0\.attn\.rotary_emb, score\.weight|score\.weight, h\.0\.attn\.rotary_emb)/);
    expect(err.message).not.toMatch(/missing|wrong shapes/);
  });

  it('wrong shapes are listed with expected and actual shapes (lm_head.weight included)', async () => {
    const tensors = new Map(base)
      .set('transformer.h.0.attn.c_proj.weight', { dtype: 'F32', shape: [64, 32], data: new Float32Array(64 * 32) })
      .set('lm_head.weight', { dtype: 'F32', shape: [999, 64], data: new Float32Array(999 * 64) });
    const err = await loadError(await writeCheckpoint(newDir('shapes'), FIXTURE, tensors));
    expect(err).toBeInstanceOf(WeightLoadError);
    expect(err.message).toMatch(/wrong shapes: h\.0\.attn\.c_proj\.weight: expected \[64, 64\], got \[64, 32\]/);
    expect(err.message).toMatch(/lm_head\.weight: expected \[1000, 64\], got \[999, 64\]/);
  });
});

describe('fromPretrained from the hub and the HF cache', () => {
  const REPO = 'someorg/gpt2-tiny';
  const COMMIT = 'fedcba9876543210fedcba9876543210fedcba98';
  let hub: TestHub;
  let fetchCalls = 0;
  const localFetch: typeof globalThis.fetch = (input, init) => {
    const url = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
    if (!url.startsWith('http://127.0.0.1:')) throw new TypeError(`test refused a non-local fetch: ${url}`);
    fetchCalls++;
    return globalThis.fetch(input, init);
  };

  beforeAll(async () => {
    const files: Record<string, Buffer> = {};
    for (const f of ['config.json', 'generation_config.json', 'model.safetensors']) {
      files[f] = await readFile(join(FIXTURE, f));
    }
    hub = await startTestHub({ [REPO]: files });
  });

  afterAll(async () => {
    await hub.close();
  });

  it('downloads, then loads offline from the cache with zero requests; logits match tl_processed_out', async () => {
    const cacheDir = newDir('hub-cache');
    const opts: FromPretrainedOptions = { endpoint: hub.url, cacheDir, quiet: true, fetch: localFetch };
    let logits = await logitsOf(REPO, opts, true);
    expectMatchesRef(logits, ref, 'tl_processed_out/logits');
    logits.dispose();
    expect(fetchCalls).toBeGreaterThan(0);
    expect(hub.requests.some((r) => r.server === 'cdn')).toBe(true); // the weights came through the LFS redirect

    hub.requests.length = 0;
    fetchCalls = 0;
    const spy = vi.spyOn(globalThis, 'fetch');
    logits = await logitsOf(REPO, { ...opts, offline: true }, true);
    expectMatchesRef(logits, ref, 'tl_processed_out/logits');
    logits.dispose();
    expect(hub.requests).toEqual([]);
    expect(fetchCalls).toBe(0);
    expect(spy).not.toHaveBeenCalled();
  });

  it('a hand-made HF cache (refs/main + snapshots/<hash>/) loads offline, via cacheDir or HF_HUB_CACHE', async () => {
    const cacheDir = newDir('hand-cache');
    await handMadeHubCache(cacheDir, REPO, COMMIT, FIXTURE, ['config.json', 'model.safetensors']);
    const spy = vi.spyOn(globalThis, 'fetch');
    let logits = await logitsOf(REPO, { cacheDir, offline: true }, true);
    expectMatchesRef(logits, ref, 'tl_processed_out/logits');
    logits.dispose();

    vi.stubEnv('HF_HUB_CACHE', cacheDir);
    vi.stubEnv('HF_HUB_OFFLINE', '1');
    logits = await logitsOf(REPO, {}, false);
    expectMatchesRef(logits, ref, 'hf/logits');
    logits.dispose();
    expect(spy).not.toHaveBeenCalled();
  });
});

describe('bad inputs → typed errors before any weight is read', () => {
  it('a model id with path traversal → ConfigError before any request', async () => {
    const spy = vi.spyOn(globalThis, 'fetch');
    const err = await loadError('../gpt2-tiny-nonexistent', { endpoint: 'http://127.0.0.1:1', cacheDir: newDir('c') });
    expect(err).toBeInstanceOf(ConfigError);
    expect(err.message).toMatch(/invalid model id "\.\.\/gpt2-tiny-nonexistent" .*path traversal/);
    expect(spy).not.toHaveBeenCalled();
  });

  it('config.json that is not JSON → ConfigError naming the file', async () => {
    const dir = await writeCheckpoint(newDir('bad-json'), FIXTURE, base, '{"model_type": "gpt2",');
    const err = await loadError(dir);
    expect(err).toBeInstanceOf(ConfigError);
    expect(err.message).toContain(join(dir, 'config.json'));
    expect(err.message).toMatch(/is not valid JSON/);
  });

  it("config model_type 'bert' → ConfigError pointing to HookedEncoder", async () => {
    const dir = await writeCheckpoint(newDir('bert'), FIXTURE, base, JSON.stringify({ model_type: 'bert', vocab_size: 1000 }));
    const err = await loadError(dir);
    expect(err).toBeInstanceOf(ConfigError);
    expect(err.message).toMatch(/model_type 'bert'.*HookedEncoder/);
  });

  it('a nonexistent relative path offline → NotFoundError; an absolute one → ConfigError', async () => {
    const cacheDir = newDir('empty-cache');
    const spy = vi.spyOn(globalThis, 'fetch');
    const err = await loadError('tests/no-such-checkpoint', { cacheDir, offline: true });
    expect(err).toBeInstanceOf(NotFoundError);
    // `tests` is a folder here, so the name reads as a local path: it is never looked up in the hub cache or on the hub.
    expect(err.message).toMatch(/no model folder 'tests\/no-such-checkpoint' \(looked in .*; a path is never looked up on the hub\)/);
    const abs = await loadError(join(root, 'no-such-dir'), { cacheDir, offline: true });
    expect(abs).toBeInstanceOf(ConfigError);
    expect(abs.message).toMatch(/absolute path, but no such directory exists/);
    expect(spy).not.toHaveBeenCalled();
  });
});

describe('memory', () => {
  it('a broken tokenizer.json fails with TokenizerError and leaks no tensor', async () => {
    const dir = await writeCheckpoint(newDir('bad-tokenizer'), FIXTURE, base);
    await writeFile(join(dir, 'tokenizer.json'), '{"model": {"type": "BPE"');
    const before = tf.memory().numTensors;
    const err = await loadError(dir);
    expect(err).toBeInstanceOf(TokenizerError);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('load + forward + dispose returns tf.memory().numTensors to its starting value', async () => {
    for (const processed of [false, true]) {
      const before = tf.memory().numTensors;
      const load = processed ? HookedTransformer.fromPretrained : HookedTransformer.fromPretrainedNoProcessing;
      const model = await load.call(HookedTransformer, FIXTURE, { quiet: true });
      expect(tf.memory().numTensors).toBeGreaterThan(before);
      const logits = model.logits(tokens);
      logits.dispose();
      expect(model.weights.W_Q.shape).toEqual([nLayers, 4, 64, 16]); // builds (model-owned) stacked weights too
      model.dispose();
      expect(tf.memory().numTensors, processed ? 'fromPretrained' : 'fromPretrainedNoProcessing').toBe(before);
    }
  });
});
