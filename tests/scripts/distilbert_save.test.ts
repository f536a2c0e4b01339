/**
 * DistilBERT checkpoint writer: random params → save → HookedEncoder.fromPretrained gives identical
 * logits (F32) or close ones (F16); HF DistilBertForMaskedLM names and config; tied projector
 * omitted, untied one kept; the trained demo model loads offline when present.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../src/backend/backend.js';
import { ConfigError } from '../../src/errors.js';
import { readSafetensorsFile } from '../../src/io/safetensors.js';
import type { EncoderConfig } from '../../src/model/encoder/encoder_config.js';
import { disposeEncoderParams, type EncoderParams } from '../../src/model/encoder/encoder_params.js';
import { HookedEncoder } from '../../src/model/encoder/hooked_encoder.js';
import { randomEncoderParams } from '../../src/model/encoder/random_encoder.js';
import { saveDistilBertCheckpoint } from '../../scripts/lib/distilbert_save.js';
import { shippedTokenizerDir } from '../../src/tokenizers/load.js';

const cfg: EncoderConfig = {
  modelType: 'distilbert', nLayers: 2, dModel: 16, nHeads: 2, dHead: 8, dMlp: 32, dVocab: 30522, nCtx: 32,
  typeVocabSize: 0, actFn: 'gelu', eps: 1e-12, padTokenId: 0,
};
const TEXTS = ['the cat sat on the [MASK].', 'a longer sentence, to pad the other one against'];
const tmp = mkdtempSync(join(tmpdir(), 'tfjs-lens-distilbert-save-'));
let params: EncoderParams;

/** Logits of a model built from `p` (copied) and of the checkpoint saved in `dir`. */
async function logitsPair(p: EncoderParams, dir: string): Promise<[Float32Array, Float32Array]> {
  const loaded = await HookedEncoder.fromPretrained(dir);
  const ref = new HookedEncoder(cfg, clone(p), loaded.tokenizer);
  const a = ref.forward(TEXTS) as tf.Tensor;
  const b = loaded.forward(TEXTS) as tf.Tensor;
  const out: [Float32Array, Float32Array] = [a.dataSync() as Float32Array, b.dataSync() as Float32Array];
  a.dispose();
  b.dispose();
  ref.dispose();
  loaded.dispose();
  return out;
}

function clone(p: EncoderParams): EncoderParams {
  return tf.tidy(() => {
    const c = <T extends tf.Tensor>(t: T): T => tf.add(t, 0) as T;
    const ln = (x: { w: tf.Tensor1D; b: tf.Tensor1D }) => ({ w: c(x.w), b: c(x.b) });
    const h = p.mlmHead as NonNullable<EncoderParams['mlmHead']>;
    return {
      W_E: c(p.W_E), W_pos: c(p.W_pos), W_token_type: undefined, embedLn: ln(p.embedLn),
      blocks: p.blocks.map((b) => ({
        attn: Object.fromEntries(Object.entries(b.attn).map(([k, t]) => [k, c(t)])), ln1: ln(b.ln1),
        mlp: Object.fromEntries(Object.entries(b.mlp).map(([k, t]) => [k, c(t)])), ln2: ln(b.ln2),
      })),
      mlmHead: { W: c(h.W), b: c(h.b), ln: ln(h.ln), W_U: c(h.W_U), b_U: c(h.b_U) },
    } as unknown as tf.TensorContainer;
  }) as unknown as EncoderParams;
}

beforeAll(async () => {
  await initBackend(undefined, { quiet: true });
  params = randomEncoderParams(cfg, { seed: 9 });
  // Non-trivial LayerNorm affines and biases, so a swapped weight/bias would show.
  const p = params as unknown as { embedLn: { b: tf.Tensor }; mlmHead: { b_U: tf.Tensor } };
  p.embedLn.b.dispose();
  p.embedLn.b = tf.randomNormal([cfg.dModel], 0, 0.1, 'float32', 1);
  p.mlmHead.b_U.dispose();
  p.mlmHead.b_U = tf.randomNormal([cfg.dVocab], 0, 0.1, 'float32', 2);
});
afterAll(() => {
  disposeEncoderParams(params);
  rmSync(tmp, { recursive: true, force: true });
});

describe('saveDistilBertCheckpoint', () => {
  it('F32: HF DistilBertForMaskedLM names and config; fromPretrained gives identical logits', async () => {
    const dir = join(tmp, 'f32');
    await saveDistilBertCheckpoint(dir, params, cfg, { tokenizerDir: shippedTokenizerDir('distilbert-base-uncased') });
    const { tensors } = await readSafetensorsFile(join(dir, 'model.safetensors'));
    expect(tensors.has('vocab_projector.weight')).toBe(false);
    expect(tensors.get('distilbert.transformer.layer.1.ffn.lin1.weight')?.shape).toEqual([32, 16]);
    expect(tensors.get('vocab_transform.weight')?.shape).toEqual([16, 16]);
    expect(tensors.get('vocab_projector.bias')?.shape).toEqual([30522]);
    expect(tensors.size).toBe(4 + 16 * 2 + 5); // embeddings, 16 per layer, head (no projector weight)
    const config = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')) as Record<string, unknown>;
    expect(config).toMatchObject({
      model_type: 'distilbert', architectures: ['DistilBertForMaskedLM'], dim: 16, n_layers: 2, n_heads: 2, hidden_dim: 32,
      vocab_size: 30522, max_position_embeddings: 32, activation: 'gelu', sinusoidal_pos_embds: false, torch_dtype: 'float32',
    });
    expect(existsSync(join(dir, 'vocab.txt')) && existsSync(join(dir, 'tokenizer.json'))).toBe(true);
    const [a, b] = await logitsPair(params, dir);
    expect(Array.from(b)).toEqual(Array.from(a));
  });

  it('F16: half the size, logits close', async () => {
    const dir = join(tmp, 'f16');
    await saveDistilBertCheckpoint(dir, params, cfg, { dtype: 'F16' });
    const f32Size = statSync(join(tmp, 'f32', 'model.safetensors')).size;
    expect(statSync(join(dir, 'model.safetensors')).size).toBeLessThan(f32Size * 0.51);
    expect((JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')) as { torch_dtype: string }).torch_dtype).toBe('float16');
    const [a, b] = await logitsPair(params, dir);
    let worst = 0;
    a.forEach((x, i) => { worst = Math.max(worst, Math.abs(x - (b[i] as number))); });
    expect(worst).toBeLessThan(2e-2);
    expect(worst).toBeGreaterThan(0);
  });

  it('untied: the projector weight is stored and round-trips; tied=true is refused', async () => {
    const untied = clone(params);
    const h = untied.mlmHead as { W_U: tf.Tensor2D };
    h.W_U.dispose();
    h.W_U = tf.randomNormal([cfg.dModel, cfg.dVocab], 0, 0.02, 'float32', 3);
    await expect(saveDistilBertCheckpoint(join(tmp, 'bad'), untied, cfg, { tied: true })).rejects.toThrow(ConfigError);
    const dir = join(tmp, 'untied');
    await saveDistilBertCheckpoint(dir, untied, cfg);
    expect((await readSafetensorsFile(join(dir, 'model.safetensors'))).tensors.get('vocab_projector.weight')?.shape).toEqual([30522, 16]);
    expect((JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')) as { tie_word_embeddings: boolean }).tie_word_embeddings).toBe(false);
    const [a, b] = await logitsPair(untied, dir);
    expect(Array.from(b)).toEqual(Array.from(a));
    disposeEncoderParams(untied);
  });

  it('refuses BERT configs', async () => {
    await expect(saveDistilBertCheckpoint(join(tmp, 'bert'), params, { ...cfg, modelType: 'bert' })).rejects.toThrow(/DistilBERT config/);
  });
});

const MINI = resolve('models/distilbert-mini');
describe.skipIf(!existsSync(join(MINI, 'model.safetensors')))('models/distilbert-mini', () => {
  it('loads offline, is under 12 MB, and fills a [MASK]', async () => {
    expect(statSync(join(MINI, 'model.safetensors')).size).toBeLessThan(12 * 2 ** 20);
    const enc = await HookedEncoder.fromPretrained(MINI, { offline: true, fetch: () => { throw new Error("network used"); } });
    expect(enc.cfg.modelType).toBe('distilbert');
    expect(enc.tokenizer?.maskTokenId).toBe(103);
    const logits = enc.forward('the movie was [MASK].') as tf.Tensor3D;
    expect(logits.shape).toEqual([1, 7, 30522]);
    expect(Number.isFinite(tf.tidy(() => tf.sum(logits).dataSync()[0]))).toBe(true);
    logits.dispose();
    enc.dispose();
  });
});
