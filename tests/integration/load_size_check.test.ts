/**
 * The wasm heap holds 4 GB: a decoder too large for it is refused from its config.json, before any
 * weight is read or downloaded, with a MemoryLimitError naming its size. The parameter count the
 * check uses equals what a loaded model really holds, and the load estimate bounds the wasm peak
 * a load really reaches.
 */
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../src/backend/backend.js';
import { MemoryLimitError } from '../../src/errors.js';
import { decoderConfigFromHf, llamaConfigFromHf, neoxConfigFromHf, type HfDecoderConfig } from '../../src/model/hf_config.js';
import { HookedTransformer } from '../../src/model/hooked_transformer.js';
import { checkLoadFits, decoderLoadBytes, decoderParamCount } from '../../src/model/memory_guard.js';
import { disposeParams, paramTensors } from '../../src/model/params.js';
import { randomDecoderParams } from '../../src/model/random_init.js';
import { processWeights } from '../../src/model/weight_processing.js';
import { startTestHub } from '../unit/io/hub_server.js';
import { fixtureDir, type FixtureName } from '../helpers/fixtures.js';

/** Llama-3.2-1B's config.json (public values). */
const LLAMA_3_2_1B = {
  model_type: 'llama', architectures: ['LlamaForCausalLM'], hidden_size: 2048, intermediate_size: 8192, num_hidden_layers: 16,
  num_attention_heads: 32, num_key_value_heads: 8, head_dim: 64, vocab_size: 128256, max_position_embeddings: 131072,
  rms_norm_eps: 1e-5, rope_theta: 500000, hidden_act: 'silu', tie_word_embeddings: true, bos_token_id: 128000, eos_token_id: 128001,
  rope_scaling: { rope_type: 'llama3', factor: 32, low_freq_factor: 1, high_freq_factor: 4, original_max_position_embeddings: 8192 },
};
/** EleutherAI/pythia-70m's config.json (public values). */
const PYTHIA_70M = {
  model_type: 'gpt_neox', hidden_size: 512, intermediate_size: 2048, num_hidden_layers: 6, num_attention_heads: 8, vocab_size: 50304,
  max_position_embeddings: 2048, rotary_pct: 0.25, rotary_emb_base: 10000, use_parallel_residual: true, layer_norm_eps: 1e-5,
  hidden_act: 'gelu', bos_token_id: 0, eos_token_id: 0, tie_word_embeddings: false,
};

let root = '';
beforeAll(async () => {
  await initBackend('wasm', { quiet: true });
  root = await mkdtemp(join(tmpdir(), 'size-check-'));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

describe('decoderParamCount', () => {
  it.each(['gpt2-tiny', 'llama-tiny', 'qwen2-tiny', 'pythia-tiny'] as FixtureName[])('equals the elements a loaded %s holds', async (name) => {
    const m = await HookedTransformer.fromPretrainedNoProcessing(fixtureDir(name), { quiet: true });
    const held = paramTensors(m.params).reduce((a, t) => a + t.size, 0);
    expect(decoderParamCount(m.cfg)).toBe(held);
    m.dispose();
  });

  it('equals a hand count of llama-tiny and pythia-tiny', async () => {
    const d = 64, v = 1000, L = 2;
    // llama-tiny: 4 heads of 16, 2 kv heads (k/v width 32), gated MLP of 160, RMSNorm, rotary, untied.
    const llamaAttn = d * d + d + 2 * (d * 32 + 32) + d * d + d; // W_Q b_Q, W_K b_K, W_V b_V, W_O b_O
    const llamaMlp = 3 * d * 160 + 160 + d; // W_in W_gate W_out, b_in, b_out
    const llamaHand = 2 * v * d + v + L * (llamaAttn + llamaMlp + 2 * d) + d; // W_E W_U b_U, blocks, final norm
    // pythia-tiny: 4 heads of 16, MLP of 256, LayerNorm (w, b), rotary, untied.
    const neoxAttn = 4 * (d * d + d);
    const neoxMlp = 2 * d * 256 + 256 + d;
    const pythiaHand = 2 * v * d + v + L * (neoxAttn + neoxMlp + 2 * 2 * d) + 2 * d;
    expect([llamaHand, pythiaHand]).toEqual([216168, 229096]);
    for (const [name, hand] of [['llama-tiny', llamaHand], ['pythia-tiny', pythiaHand]] as const) {
      const cfg = decoderConfigFromHf(JSON.parse(await readFile(join(fixtureDir(name), 'config.json'), 'utf8')) as HfDecoderConfig);
      expect(decoderParamCount(cfg)).toBe(hand);
    }
  });

  it('real models: Pythia-70m and a processed load fit, Llama-3.2-1B does not', () => {
    const pythia = neoxConfigFromHf(PYTHIA_70M);
    // 70.4M in the checkpoint (untied embed_in / embed_out) + zero biases we hold: within 1%.
    expect(Math.abs(decoderParamCount(pythia) - 70.4e6) / 70.4e6).toBeLessThan(0.01);
    expect(() => checkLoadFits(pythia, true, 'pythia-70m')).not.toThrow();
    const llama = llamaConfigFromHf(LLAMA_3_2_1B);
    // 1.24B in the checkpoint (tied); we hold W_U separately: + 262.7M.
    expect(decoderParamCount(llama)).toBeGreaterThan(1.49e9);
    expect(decoderLoadBytes(llama, false)).toBeGreaterThan(4 * 1024 ** 3);
    expect(() => checkLoadFits(llama, false, 'llama')).toThrow(MemoryLimitError);
  });
});

/**
 * Bytes above the starting level that tf.memory().numBytes reaches while `f` runs: the engine's byte
 * counter is watched on every write (tf.profile's peak only updates at kernel runs, missing tensors
 * made from arrays).
 */
async function peakBytesOf(f: () => Promise<void> | void): Promise<number> {
  const state = tf.engine().state;
  const base = state.numBytes;
  let cur = base;
  let peak = base;
  Object.defineProperty(state, 'numBytes', {
    configurable: true,
    get: () => cur,
    set: (x: number) => {
      cur = x;
      peak = Math.max(peak, x);
    },
  });
  try {
    await f();
  } finally {
    Object.defineProperty(state, 'numBytes', { configurable: true, writable: true, enumerable: true, value: cur });
  }
  return peak - base;
}

describe('decoderLoadBytes', () => {
  it.each(['gpt2-tiny', 'llama-tiny', 'mistral-tiny', 'qwen2-tiny', 'pythia-tiny'] as FixtureName[])(
    'bounds the wasm peak of loading %s, with and without processing',
    async (name) => {
      expect(tf.getBackend()).toBe('wasm');
      const probe = await HookedTransformer.fromPretrainedNoProcessing(fixtureDir(name), { quiet: true });
      const cfg = probe.cfg;
      probe.dispose();
      const raw = await peakBytesOf(async () => (await HookedTransformer.fromPretrainedNoProcessing(fixtureDir(name), { quiet: true })).dispose());
      const processed = await peakBytesOf(async () => (await HookedTransformer.fromPretrained(fixtureDir(name), { quiet: true })).dispose());
      expect(raw).toBeGreaterThanOrEqual(4 * decoderParamCount(cfg) - 4 * (cfg.dVocab + 2 * cfg.dModel)); // the parameters, at least
      expect(raw).toBeLessThanOrEqual(decoderLoadBytes(cfg, false));
      expect(processed).toBeLessThanOrEqual(decoderLoadBytes(cfg, true));
    },
  );

  it('bounds the peak of processWeights where a block outweighs W_U, far below a second copy of the model', async () => {
    // GPT-2-shaped with a small vocabulary: fold_ln of a block (scaled + centred readers) dominates.
    const cfg = decoderConfigFromHf({ model_type: 'gpt2', n_layer: 8, n_embd: 256, n_head: 4, vocab_size: 100, n_positions: 32 });
    const params = randomDecoderParams(cfg, { seed: 3 });
    const held = 4 * decoderParamCount(cfg);
    const extra = await peakBytesOf(() => disposeParams(processWeights(params, cfg).params));
    expect(held + extra).toBeLessThanOrEqual(decoderLoadBytes(cfg, true));
    // One tidy over the whole model needed more than a second copy of every parameter; block by block
    // needs less than two blocks' worth.
    expect(extra).toBeLessThan(held / 4);
  });
});

describe('refused before download', () => {
  it('a Llama-3.2-1B-shaped repo on the hub: MemoryLimitError, no weight requested, nothing partial in the cache', async () => {
    expect(tf.getBackend()).toBe('wasm');
    const files = { 'config.json': Buffer.from(JSON.stringify(LLAMA_3_2_1B)), 'model.safetensors': await readFile(join(fixtureDir('llama-tiny'), 'model.safetensors')) };
    const hub = await startTestHub({ 'meta-llama/Llama-3.2-1B': files });
    const cacheDir = join(root, 'cache');
    try {
      const err = await HookedTransformer.fromPretrained('meta-llama/Llama-3.2-1B', { endpoint: hub.url, cacheDir, quiet: true }).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(MemoryLimitError);
      expect(String(err)).toMatch(/1499M float32 parameters need about 6\.\d\d GB to load with weight processing, but the wasm heap holds 4 GB/);
      expect(hub.requests.map((r) => r.path).filter((p) => p.includes('safetensors'))).toEqual([]);
      const blobs = await readdir(join(cacheDir, 'models--meta-llama--Llama-3.2-1B', 'blobs'));
      expect(blobs.filter((b) => b.includes('incomplete'))).toEqual([]);
      expect(blobs).toHaveLength(1); // config.json only
    } finally {
      await hub.close();
    }
  });

  it('a local folder with the same config is refused before its weights are read', async () => {
    const { mkdir, writeFile } = await import('node:fs/promises');
    const dir = join(root, 'local-llama');
    await mkdir(dir);
    await writeFile(join(dir, 'config.json'), JSON.stringify(LLAMA_3_2_1B));
    await writeFile(join(dir, 'model.safetensors'), 'not a safetensors file'); // never read
    await expect(HookedTransformer.fromPretrainedNoProcessing(dir, { quiet: true })).rejects.toBeInstanceOf(MemoryLimitError);
  });
});
