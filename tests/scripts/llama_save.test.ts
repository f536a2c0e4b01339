/**
 * Llama checkpoint writer (scripts/lib/llama_save.ts) as the exact inverse of the reader: config →
 * config.json → llamaConfigFromHf gives the same config; params → HF tensors → llamaParamsFromHf
 * gives bit-identical params; a saved folder loads with identical logits; what HF Llama cannot
 * store (biases, LayerNorm, GPT-2 configs) is refused.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../src/backend/backend.js';
import { ConfigError } from '../../src/errors.js';
import { readSafetensorsFile, type RawTensor, type TensorToWrite } from '../../src/io/safetensors.js';
import { validateConfig } from '../../src/model/config.js';
import { llamaConfigFromHf } from '../../src/model/hf_config.js';
import { HookedTransformer } from '../../src/model/hooked_transformer.js';
import { disposeParams, paramTensors, type DecoderParams } from '../../src/model/params.js';
import { randomDecoderParams } from '../../src/model/random_init.js';
import { llamaParamsFromHf } from '../../src/model/weights/llama.js';
import { llamaHfConfig, llamaTensorsToHf, saveLlamaCheckpoint } from '../../scripts/lib/llama_save.js';

const cfg = llamaConfigFromHf({
  model_type: 'llama', num_hidden_layers: 2, hidden_size: 16, num_attention_heads: 4, num_key_value_heads: 2, head_dim: 4,
  intermediate_size: 24, vocab_size: 40, max_position_embeddings: 32, rms_norm_eps: 1e-5, rope_theta: 500, hidden_act: 'silu',
  bos_token_id: 39, eos_token_id: 39,
});

beforeAll(async () => {
  await initBackend(undefined, { quiet: true });
});

/** Random Llama params with non-trivial norm weights and an unembedding of its own (not W_Eᵀ). */
function params(seed: number): DecoderParams {
  const p = randomDecoderParams(cfg, { seed, std: 0.3 });
  const jitter = (t: tf.Tensor1D, s: number): tf.Tensor1D => {
    const out = tf.add(t, tf.randomUniform(t.shape, -0.5, 0.5, 'float32', s)) as tf.Tensor1D;
    t.dispose();
    return out;
  };
  const W_U = tf.randomNormal([cfg.dModel, cfg.dVocab], 0, 0.3, 'float32', seed + 100) as tf.Tensor2D;
  p.W_U.dispose();
  return {
    ...p,
    W_U,
    lnFinal: { w: jitter((p.lnFinal as NonNullable<DecoderParams['lnFinal']>).w, seed + 1), b: undefined },
    blocks: p.blocks.map((b, l) => ({
      ...b,
      ln1: { w: jitter((b.ln1 as NonNullable<typeof b.ln1>).w, seed + 10 + l), b: undefined },
      ln2: { w: jitter((b.ln2 as NonNullable<typeof b.ln2>).w, seed + 20 + l), b: undefined },
    })),
  };
}

/** What the writer produced, as the reader's decoded tensors. */
const asRaw = (m: ReadonlyMap<string, TensorToWrite>): Map<string, RawTensor> =>
  new Map([...m].map(([k, t]) => [k, { dtype: 'F32', shape: [...t.shape], data: Float32Array.from(t.data) }]));

describe('llama_save', () => {
  it('config.json maps back to the same config (GQA, rope_theta, eps, bos/eos)', () => {
    const hf = llamaHfConfig(cfg);
    expect(hf).toMatchObject({
      architectures: ['LlamaForCausalLM'], model_type: 'llama', num_key_value_heads: 2, num_attention_heads: 4, head_dim: 4,
      rope_theta: 500, rms_norm_eps: 1e-5, hidden_act: 'silu', tie_word_embeddings: false, bos_token_id: 39, eos_token_id: 39,
    });
    expect(llamaConfigFromHf(JSON.parse(JSON.stringify(hf)))).toEqual(cfg);
  });

  it('params → HF tensors → llamaParamsFromHf is the identity, with HF names and [out, in] layout', () => {
    const p = params(1);
    const hf = llamaTensorsToHf(p, cfg);
    expect(hf.get('model.layers.0.self_attn.k_proj.weight')?.shape).toEqual([2 * 4, 16]);
    expect(hf.get('model.layers.1.mlp.gate_proj.weight')?.shape).toEqual([24, 16]);
    expect(hf.get('lm_head.weight')?.shape).toEqual([40, 16]);
    expect([...hf.keys()].filter((k) => k.endsWith('bias'))).toEqual([]);
    expect(hf.size).toBe(3 + 2 * 9);
    const back = llamaParamsFromHf(asRaw(hf), cfg);
    const [a, b] = [paramTensors(p), paramTensors(back)];
    expect(b.length).toBe(a.length);
    a.forEach((t, i) => {
      expect((b[i] as tf.Tensor).shape).toEqual(t.shape);
      expect(Array.from((b[i] as tf.Tensor).dataSync())).toEqual(Array.from(t.dataSync()));
    });
    disposeParams(p);
    disposeParams(back);
  });

  it('a saved folder loads with identical logits and pt-format metadata', async () => {
    const p = params(2);
    const dir = mkdtempSync(join(tmpdir(), 'llama-save-'));
    try {
      await saveLlamaCheckpoint(dir, p, cfg, { metadata: { trained_by: 'test' } });
      const { metadata } = await readSafetensorsFile(join(dir, 'model.safetensors'));
      expect(metadata).toEqual({ format: 'pt', trained_by: 'test' });
      expect(JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')).architectures).toEqual(['LlamaForCausalLM']);
      const loaded = await HookedTransformer.fromPretrainedNoProcessing(dir, { quiet: true, tokenizer: null });
      const direct = new HookedTransformer(cfg, p);
      const rows = [[39, 1, 2, 3, 4, 5, 6]];
      const [x, y] = [loaded.logits(rows), direct.logits(rows)];
      expect(Array.from(x.dataSync())).toEqual(Array.from(y.dataSync()));
      tf.dispose([x, y]);
      loaded.dispose();
      direct.dispose();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('refuses what HF Llama cannot store', () => {
    const p = params(3);
    const bO = p.blocks[0]?.attn.bO as tf.Tensor1D;
    const withBias = { ...p, blocks: p.blocks.map((b, l) => (l === 0 ? { ...b, attn: { ...b.attn, bO: tf.onesLike(bO) } } : b)) };
    expect(() => llamaTensorsToHf(withBias, cfg)).toThrow(ConfigError);
    expect(() => llamaTensorsToHf(withBias, cfg)).toThrow(/block 0 b_O is not zero/);
    withBias.blocks[0]?.attn.bO.dispose();
    const gpt2 = validateConfig({
      modelType: 'gpt2', nLayers: 1, dModel: 8, nHeads: 2, dHead: 4, dMlp: 16, dVocab: 10, nCtx: 8,
      actFn: 'gelu_new', eps: 1e-5, normalizationType: 'LN', attnOnly: false, bosTokenId: 0, eosTokenId: 0,
    });
    expect(() => llamaHfConfig(gpt2)).toThrow(/llamaHfConfig: a Llama checkpoint needs unprocessed RMS norms/);
    disposeParams(p);
  });
});
